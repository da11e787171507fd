//! Filling the catalog offline from DDL: CREATE TABLE / INDEX / VIEW /
//! MATERIALIZED VIEW and the ALTER TABLE forms pg_dump writes (ADD
//! CONSTRAINT, ADD COLUMN, SET NOT NULL, ATTACH PARTITION). Everything else
//! in the file (functions, grants, comments, SET) is skipped; statements
//! that do not parse are noted with their line.

use super::expr::canonical;
use super::types::{canonical_type, is_serial};
use super::{
    Catalog, CatalogSource, Column, Index, IndexKey, QualifiedName, Relation, RelationKind,
};
use crate::workload::sqlfile::StatementSplitter;
use anyhow::{Context, Result};
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, CreateIndex, CreateTable, Ident,
    IndexColumn, ObjectName, ObjectNamePart, Statement, TableConstraint,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// PostgreSQL truncates generated names to this many bytes.
const NAMEDATALEN: usize = 63;

/// Reads a schema file into a catalog.
pub fn load_schema_file(path: &str) -> Result<Catalog> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    Ok(load_schema_text(&text, path))
}

/// Reads DDL text into a catalog; `origin` names it in notes.
pub fn load_schema_text(text: &str, origin: &str) -> Catalog {
    let mut loader = Loader {
        catalog: Catalog::new(CatalogSource::SchemaFile),
        search_path: vec!["public".to_string()],
    };
    let mut splitter = StatementSplitter::default();
    let mut statements = Vec::new();
    for (i, line) in text.lines().enumerate() {
        statements.extend(splitter.feed_line(line, i as u64 + 1).statements);
    }
    statements.extend(splitter.finish());
    let dialect = PostgreSqlDialect {};
    let mut skipped = 0usize;
    for (sql, line) in statements {
        if !looks_relevant(&sql) {
            continue;
        }
        // Forms pg_dump writes that sqlparser does not parse (yet).
        if let Some((parent, child)) = attach_partition(&sql) {
            let parent = loader.qualify(&parent);
            let child = loader.qualify(&child);
            if let Some(rel) = loader.catalog.relation_mut(&child) {
                rel.partition_of = Some(parent);
            }
            continue;
        }
        let foreign = foreign_table_as_table(&sql);
        let sql = match &foreign {
            Some(table_ddl) => std::borrow::Cow::Borrowed(table_ddl.as_str()),
            None => strip_index_only(strip_identity_options(strip_with_data(&sql))),
        };
        match Parser::parse_sql(&dialect, &sql) {
            Ok(parsed) => {
                for statement in parsed {
                    let created = match &statement {
                        Statement::CreateTable(t) => Some(loader.qualify(&t.name)),
                        _ => None,
                    };
                    loader.statement(statement, &sql);
                    if foreign.is_some()
                        && let Some(rel) = created.and_then(|n| loader.catalog.relation_mut(&n))
                    {
                        rel.kind = RelationKind::ForeignTable;
                    }
                }
            }
            Err(e) => {
                skipped += 1;
                if skipped <= 10 {
                    loader
                        .catalog
                        .notes
                        .push(format!("{origin}:{line}: skipped, does not parse: {e}"));
                }
            }
        }
    }
    if skipped > 10 {
        loader.catalog.notes.push(format!(
            "{origin}: {} more statements skipped because they do not parse",
            skipped - 10
        ));
    }
    loader.catalog.search_path = loader.search_path;
    propagate_partition_indexes(&mut loader.catalog);
    loader.catalog
}

/// An index on a partitioned table exists on every partition too, under a
/// name PostgreSQL generates (`<partition>_<columns>_idx`, `…_key` for a
/// unique constraint, `<partition>_pkey`). pg_dump writes them out; plain
/// DDL does not, so they are added here unless a partition already has an
/// index with the same definition.
fn propagate_partition_indexes(catalog: &mut Catalog) {
    let parents: Vec<(QualifiedName, Vec<Index>)> = catalog
        .relations
        .values()
        .filter(|r| r.kind == RelationKind::PartitionedTable)
        .map(|r| (r.name.clone(), r.indexes.clone()))
        .collect();
    for (parent, indexes) in parents {
        let children: Vec<QualifiedName> = catalog
            .relations
            .values()
            .filter(|r| r.partition_of.as_ref() == Some(&parent))
            .map(|r| r.name.clone())
            .collect();
        for child in children {
            let Some(rel) = catalog.relation_mut(&child) else {
                continue;
            };
            for index in &indexes {
                let present = rel.indexes.iter().any(|i| {
                    i.keys == index.keys
                        && i.method == index.method
                        && i.predicate == index.predicate
                        && i.include == index.include
                });
                if present {
                    continue;
                }
                let mut copy = index.clone();
                let columns: Vec<String> = index_column_names(&index.keys);
                copy.name = if index.primary {
                    generated_name(&child.name, &[], "pkey")
                } else if index.backs_constraint {
                    generated_name(&child.name, &columns, "key")
                } else {
                    generated_name(&child.name, &columns, "idx")
                };
                copy.definition = format!("(partition of {} index {})", parent, index.name);
                rel.indexes.push(copy);
            }
        }
    }
}

/// Column names PostgreSQL uses in a generated index name: the column, or
/// `expr` for an expression (`expr1`, `expr2`… when repeated).
fn index_column_names(keys: &[IndexKey]) -> Vec<String> {
    let mut expressions = 0;
    keys.iter()
        .map(|k| {
            if k.is_expression {
                expressions += 1;
                if expressions == 1 {
                    "expr".to_string()
                } else {
                    format!("expr{}", expressions - 1)
                }
            } else {
                k.text.clone()
            }
        })
        .collect()
}

/// `CREATE MATERIALIZED VIEW … WITH [NO] DATA`: the data clause says nothing
/// about the structure and sqlparser rejects it.
fn strip_with_data(sql: &str) -> &str {
    let trimmed = sql.trim_end();
    let lower = trimmed.to_ascii_lowercase();
    if !lower.starts_with("create materialized view") {
        return sql;
    }
    for tail in ["with no data", "with data"] {
        if let Some(body) = lower.strip_suffix(tail)
            && body.ends_with(char::is_whitespace)
        {
            return trimmed[..body.len()].trim_end();
        }
    }
    sql
}

/// `CREATE FOREIGN TABLE t (cols) SERVER s OPTIONS (…)` as the plain
/// `CREATE TABLE t (cols)` sqlparser reads (the server part is not modelled).
fn foreign_table_as_table(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let rest = lower.strip_prefix("create foreign table")?;
    let offset = sql.len() - rest.len();
    let open = sql[offset..].find('(')? + offset;
    let mut depth = 0usize;
    let mut in_quote: Option<char> = None;
    for (i, c) in sql[open..].char_indices() {
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => in_quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(format!("CREATE TABLE{}", &sql[offset..=open + i]));
                }
            }
            _ => {}
        }
    }
    None
}

/// `CREATE INDEX … ON ONLY parent …` (pg_dump, for a partitioned table's
/// index): ONLY changes nothing in the model and sqlparser rejects it.
fn strip_index_only(sql: &str) -> std::borrow::Cow<'_, str> {
    let lower = sql.to_ascii_lowercase();
    if !(lower.starts_with("create index") || lower.starts_with("create unique index")) {
        return std::borrow::Cow::Borrowed(sql);
    }
    match lower.find(" on only ") {
        Some(p) => std::borrow::Cow::Owned(format!(
            "{} on {}",
            &sql[..p],
            &sql[p + " on only ".len()..]
        )),
        None => std::borrow::Cow::Borrowed(sql),
    }
}

/// `… ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME … CACHE 1)`: the
/// sequence options are not part of the model and sqlparser rejects them.
fn strip_identity_options(sql: &str) -> &str {
    let lower = sql.to_ascii_lowercase();
    if !lower.starts_with("alter table") {
        return sql;
    }
    match lower.find("as identity") {
        Some(p) => &sql[..p + "as identity".len()],
        None => sql,
    }
}

/// `ALTER TABLE [ONLY] parent ATTACH PARTITION child FOR VALUES …` (how
/// pg_dump attaches partitions), read token by token: (parent, child).
fn attach_partition(sql: &str) -> Option<(ObjectName, ObjectName)> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = PostgreSqlDialect {};
    let tokens: Vec<Token> = Tokenizer::new(&dialect, sql)
        .tokenize()
        .ok()?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let keyword = |t: &Token, k: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    let mut i = 0;
    for k in ["alter", "table"] {
        if !keyword(tokens.get(i)?, k) {
            return None;
        }
        i += 1;
    }
    if keyword(tokens.get(i)?, "only") {
        i += 1;
    }
    let read_name = |i: &mut usize| -> Option<ObjectName> {
        let mut parts = Vec::new();
        loop {
            match tokens.get(*i)? {
                Token::Word(w) => parts.push(Ident {
                    value: w.value.clone(),
                    quote_style: w.quote_style,
                    span: sqlparser::tokenizer::Span::empty(),
                }),
                _ => return None,
            }
            *i += 1;
            if tokens.get(*i) == Some(&Token::Period) {
                *i += 1;
            } else {
                return Some(ObjectName::from(parts));
            }
        }
    };
    let parent = read_name(&mut i)?;
    if !(keyword(tokens.get(i)?, "attach") && keyword(tokens.get(i + 1)?, "partition")) {
        return None;
    }
    i += 2;
    let child = read_name(&mut i)?;
    Some((parent, child))
}

/// Only statements that can change the model are parsed (pg_dump files are
/// mostly functions, grants, comments and ownership).
fn looks_relevant(sql: &str) -> bool {
    let head: String = sql
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    head.starts_with("create table")
        || head.starts_with("create unlogged table")
        || head.starts_with("create index")
        || head.starts_with("create unique index")
        || head.starts_with("create view")
        || head.starts_with("create or replace view")
        || head.starts_with("create materialized view")
        || head.starts_with("create foreign table")
        || head.starts_with("alter table")
        || head.starts_with("set search_path")
        || head.contains("set_config('search_path'")
}

struct Loader {
    catalog: Catalog,
    search_path: Vec<String>,
}

pub use super::names::ident_name;
use super::names::split_name;

impl Loader {
    fn qualify(&self, name: &ObjectName) -> QualifiedName {
        let (schema, table) = split_name(name);
        let schema = schema.unwrap_or_else(|| {
            self.search_path
                .first()
                .cloned()
                .unwrap_or_else(|| "public".to_string())
        });
        QualifiedName::new(schema, table)
    }

    fn statement(&mut self, statement: Statement, sql: &str) {
        match statement {
            Statement::CreateTable(t) => self.create_table(t),
            Statement::CreateIndex(i) => self.create_index(i, sql),
            Statement::CreateView(v) => {
                let name = self.qualify(&v.name);
                let kind = if v.materialized {
                    RelationKind::MaterializedView
                } else {
                    RelationKind::View
                };
                let mut rel = Relation::new(name.clone(), kind);
                rel.columns = v
                    .columns
                    .iter()
                    .map(|c| Column {
                        name: ident_name(&c.name),
                        data_type: c
                            .data_type
                            .as_ref()
                            .map_or(String::new(), |t| canonical_type(&t.to_string())),
                        not_null: false,
                        stats: None,
                    })
                    .collect();
                if rel.columns.is_empty() {
                    rel.columns = self.projection_columns(&v.query);
                }
                rel.view_definition = Some(v.query.to_string());
                self.catalog.relations.insert(name, rel);
            }
            Statement::AlterTable(a) => {
                let name = self.qualify(&a.name);
                for op in a.operations {
                    self.alter_table(&name, op);
                }
            }
            Statement::Set(set) => self.set(&set.to_string()),
            Statement::Query(q) => {
                // pg_dump: SELECT pg_catalog.set_config('search_path', '', false);
                let text = q.to_string();
                if let Some(rest) = text.split("'search_path', '").nth(1) {
                    let value = rest.split('\'').next().unwrap_or("");
                    self.set_search_path(value);
                }
            }
            _ => {}
        }
    }

    /// Column names of a view from its SELECT list (types are not known
    /// offline): aliases, column names, and `*` expanded from a table the
    /// catalog already has.
    fn projection_columns(&self, query: &sqlparser::ast::Query) -> Vec<Column> {
        use sqlparser::ast::{Expr, SelectItem, SetExpr, TableFactor};
        let SetExpr::Select(select) = query.body.as_ref() else {
            return Vec::new();
        };
        let column = |name: String| Column {
            name,
            data_type: String::new(),
            not_null: false,
            stats: None,
        };
        let mut out = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::ExprWithAlias { alias, .. } => out.push(column(ident_name(alias))),
                SelectItem::UnnamedExpr(Expr::Identifier(i)) => out.push(column(ident_name(i))),
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                    if let Some(last) = parts.last() {
                        out.push(column(ident_name(last)));
                    }
                }
                // PostgreSQL names an unnamed expression after its function (count, lower…).
                SelectItem::UnnamedExpr(Expr::Function(f)) => {
                    if let Some(ObjectNamePart::Identifier(last)) = f.name.0.last() {
                        out.push(column(ident_name(last)));
                    }
                }
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                    for table in &select.from {
                        if let TableFactor::Table { name, .. } = &table.relation
                            && let Some(rel) = self.catalog.get(&self.qualify(name))
                        {
                            out.extend(rel.columns.iter().map(|c| column(c.name.clone())));
                        }
                    }
                }
                SelectItem::ExprWithAliases { aliases, .. } => {
                    out.extend(aliases.iter().map(|a| column(ident_name(a))))
                }
                SelectItem::UnnamedExpr(_) => out.push(column("?column?".to_string())),
            }
        }
        out
    }

    fn set(&mut self, text: &str) {
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("set search_path") {
            let value = rest
                .trim_start()
                .trim_start_matches(['=', ' '])
                .trim_start_matches("to ");
            // Keep the original case of quoted schema names.
            let offset = text.len() - value.len();
            self.set_search_path(&text[offset..]);
        }
    }

    fn set_search_path(&mut self, value: &str) {
        let schemas: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "\"$user\"" && *s != "pg_catalog")
            .map(|s| {
                if s.starts_with('"') {
                    s.trim_matches('"').to_string()
                } else {
                    s.trim_matches('\'').to_lowercase()
                }
            })
            .collect();
        // pg_dump sets an empty path and qualifies every name; keep the
        // default for unqualified names then.
        self.search_path = if schemas.is_empty() {
            vec!["public".to_string()]
        } else {
            schemas
        };
    }

    fn create_table(&mut self, t: CreateTable) {
        let name = self.qualify(&t.name);
        let kind = if t.partition_by.is_some() {
            RelationKind::PartitionedTable
        } else if t.external {
            RelationKind::ForeignTable
        } else {
            RelationKind::Table
        };
        let mut rel = Relation::new(name.clone(), kind);
        rel.partition_of = t.partition_of.as_ref().map(|p| self.qualify(p));
        // A partition gets its parent's columns.
        if let Some(parent) = rel.partition_of.as_ref().and_then(|p| self.catalog.get(p)) {
            rel.columns = parent.columns.clone();
        }
        let mut indexes = Vec::new();
        for col in &t.columns {
            let written = col.data_type.to_string();
            let mut column = Column {
                name: ident_name(&col.name),
                data_type: canonical_type(&written),
                not_null: is_serial(&written),
                stats: None,
            };
            for opt in &col.options {
                match &opt.option {
                    ColumnOption::NotNull => column.not_null = true,
                    ColumnOption::PrimaryKey(_) => {
                        column.not_null = true;
                        indexes.push(constraint_index(
                            opt.name.as_ref().map(ident_name),
                            &name.name,
                            std::slice::from_ref(&column.name),
                            true,
                        ));
                    }
                    ColumnOption::Unique(_) => indexes.push(constraint_index(
                        opt.name.as_ref().map(ident_name),
                        &name.name,
                        std::slice::from_ref(&column.name),
                        false,
                    )),
                    // GENERATED … AS IDENTITY implies NOT NULL (a generated
                    // stored column does not).
                    ColumnOption::Identity(_) | ColumnOption::Generated { .. }
                        if opt
                            .option
                            .to_string()
                            .to_ascii_uppercase()
                            .contains("IDENTITY") =>
                    {
                        column.not_null = true;
                    }
                    _ => {}
                }
            }
            rel.columns.push(column);
        }
        for constraint in t.constraints {
            if let Some((index, pk_columns)) = table_constraint_index(&constraint, &name.name) {
                for c in &pk_columns {
                    if let Some(col) = rel.columns.iter_mut().find(|x| &x.name == c) {
                        col.not_null = true;
                    }
                }
                indexes.push(index);
            }
        }
        rel.indexes = indexes;
        self.catalog.relations.insert(name, rel);
    }

    fn create_index(&mut self, i: CreateIndex, sql: &str) {
        let table = self.qualify(&i.table_name);
        let name = i
            .name
            .as_ref()
            .and_then(|n| n.0.last())
            .map(|p| match p {
                ObjectNamePart::Identifier(id) => ident_name(id),
                other => other.to_string(),
            })
            .unwrap_or_else(|| {
                let cols: Vec<String> = i.columns.iter().map(|c| key_of(c).text).collect();
                generated_name(&table.name, &cols, "idx")
            });
        let index = Index {
            name,
            method: i
                .using
                .as_ref()
                .map_or("btree".to_string(), |m| m.to_string().to_lowercase()),
            keys: i.columns.iter().map(key_of).collect(),
            include: i.include.iter().map(ident_name).collect(),
            predicate: i.predicate.as_ref().map(|p| canonical(&p.to_string())),
            unique: i.unique,
            primary: false,
            valid: true,
            backs_constraint: false,
            definition: sql.trim().to_string(),
            size_bytes: None,
            scans: None,
        };
        if let Some(rel) = self.catalog.relation_mut(&table) {
            rel.indexes.push(index);
        } else {
            self.catalog.notes.push(format!(
                "index {} is on {table}, which the schema file does not create",
                index.name
            ));
        }
    }

    fn alter_table(&mut self, table: &QualifiedName, op: AlterTableOperation) {
        let Some(rel) = self.catalog.relation_mut(table) else {
            return;
        };
        match op {
            AlterTableOperation::AddConstraint { constraint, .. } => {
                if let Some((index, pk_columns)) = table_constraint_index(&constraint, &table.name)
                {
                    for c in &pk_columns {
                        if let Some(col) = rel.columns.iter_mut().find(|x| &x.name == c) {
                            col.not_null = true;
                        }
                    }
                    rel.indexes.push(index);
                }
            }
            AlterTableOperation::AddColumn { column_def, .. } => {
                let written = column_def.data_type.to_string();
                let not_null = is_serial(&written)
                    || column_def.options.iter().any(|o| {
                        matches!(
                            o.option,
                            ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
                        )
                    });
                rel.columns.push(Column {
                    name: ident_name(&column_def.name),
                    data_type: canonical_type(&written),
                    not_null,
                    stats: None,
                });
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let name = ident_name(&column_name);
                if let Some(col) = rel.columns.iter_mut().find(|c| c.name == name) {
                    match op {
                        AlterColumnOperation::SetNotNull => col.not_null = true,
                        AlterColumnOperation::DropNotNull => col.not_null = false,
                        AlterColumnOperation::AddGenerated { .. } => col.not_null = true,
                        AlterColumnOperation::SetDataType { data_type, .. } => {
                            col.data_type = canonical_type(&data_type.to_string())
                        }
                        _ => {}
                    }
                }
            }
            AlterTableOperation::AttachPartition { partition } => {
                let child = self.qualify(&ObjectName::from(partition_name(&partition)));
                let parent = table.clone();
                if let Some(child_rel) = self.catalog.relation_mut(&child) {
                    child_rel.partition_of = Some(parent);
                }
            }
            _ => {}
        }
    }
}

/// The name parts of an ATTACH PARTITION target.
fn partition_name(partition: &sqlparser::ast::Partition) -> Vec<Ident> {
    match partition {
        sqlparser::ast::Partition::Identifier(i) => vec![i.clone()],
        other => {
            // Other forms carry the name in their text; best effort.
            vec![Ident::new(other.to_string())]
        }
    }
}

/// An index key from a CREATE INDEX column.
fn key_of(c: &IndexColumn) -> IndexKey {
    let expr = &c.column.expr;
    let (text, is_expression) = match expr {
        sqlparser::ast::Expr::Identifier(ident) => (ident_name(ident), false),
        other => (canonical(&other.to_string()), true),
    };
    let descending = matches!(
        c.column.options.sort,
        Some(sqlparser::ast::OrderBySort::Desc)
    );
    IndexKey {
        text,
        is_expression,
        descending,
        // PostgreSQL's default: NULLS LAST for ASC, NULLS FIRST for DESC.
        nulls_first: c.column.options.nulls_first.unwrap_or(descending),
    }
}

/// The unique index behind a PRIMARY KEY or UNIQUE table constraint, and
/// (for a primary key) the columns it makes NOT NULL.
fn table_constraint_index(
    constraint: &TableConstraint,
    table: &str,
) -> Option<(Index, Vec<String>)> {
    match constraint {
        TableConstraint::PrimaryKey(pk) => {
            let cols: Vec<String> = pk.columns.iter().map(|c| key_of(c).text).collect();
            let mut index = constraint_index(pk.name.as_ref().map(ident_name), table, &cols, true);
            index.include = pk.include.iter().map(ident_name).collect();
            Some((index, cols))
        }
        TableConstraint::Unique(u) => {
            let cols: Vec<String> = u.columns.iter().map(|c| key_of(c).text).collect();
            let mut index = constraint_index(u.name.as_ref().map(ident_name), table, &cols, false);
            index.include = u.include.iter().map(ident_name).collect();
            Some((index, Vec::new()))
        }
        _ => None,
    }
}

/// The btree index PostgreSQL creates for a PRIMARY KEY or UNIQUE
/// constraint, named as it would name it when the constraint has no name.
fn constraint_index(name: Option<String>, table: &str, columns: &[String], primary: bool) -> Index {
    let name = name.unwrap_or_else(|| {
        if primary {
            generated_name(table, &[], "pkey")
        } else {
            generated_name(table, columns, "key")
        }
    });
    Index {
        definition: format!(
            "{} ({})",
            if primary { "PRIMARY KEY" } else { "UNIQUE" },
            columns.join(", ")
        ),
        name,
        method: "btree".to_string(),
        keys: columns
            .iter()
            .map(|c| IndexKey {
                text: c.clone(),
                is_expression: false,
                descending: false,
                nulls_first: false,
            })
            .collect(),
        include: Vec::new(),
        predicate: None,
        unique: true,
        primary,
        valid: true,
        backs_constraint: true,
        size_bytes: None,
        scans: None,
    }
}

/// `table_col1_col2_suffix`, truncated like PostgreSQL's makeObjectName:
/// the longer of table and column parts is shortened first.
fn generated_name(table: &str, columns: &[String], suffix: &str) -> String {
    let cols = columns.join("_");
    let overhead = suffix.len() + 1 + usize::from(!cols.is_empty());
    let mut t = table.to_string();
    let mut c = cols;
    while t.len() + c.len() + overhead > NAMEDATALEN {
        if t.len() >= c.len() {
            t.pop();
        } else {
            c.pop();
        }
    }
    if c.is_empty() {
        format!("{t}_{suffix}")
    } else {
        format!("{t}_{c}_{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_constraints_and_indexes() {
        let c = load_schema_text(
            r#"
            CREATE TYPE mood AS ENUM ('ok', 'sad');
            CREATE TABLE users (
                id bigserial PRIMARY KEY,
                email varchar(200) NOT NULL UNIQUE,
                "Display Name" text,
                mood mood,
                created_at timestamptz NOT NULL DEFAULT now(),
                deleted_at timestamptz
            );
            CREATE TABLE shop.orders (id int, user_id bigint REFERENCES users, total numeric(10,2),
                CONSTRAINT orders_pk PRIMARY KEY (id));
            CREATE INDEX users_lower_email ON users (lower(email)) WHERE deleted_at IS NULL;
            CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_user_total ON shop.orders USING btree (user_id, total DESC) INCLUDE (id);
            CREATE VIEW active_users AS SELECT * FROM users WHERE deleted_at IS NULL;
            CREATE FUNCTION f() RETURNS int AS $$ select 1; $$ LANGUAGE sql;
            "#,
            "test.sql",
        );
        let users = c.resolve(None, "users").unwrap();
        assert_eq!(users.kind, RelationKind::Table);
        let id = users.column("id").unwrap();
        assert_eq!((id.data_type.as_str(), id.not_null), ("bigint", true));
        assert_eq!(
            users.column("email").unwrap().data_type,
            "character varying(200)"
        );
        assert!(users.column("Display Name").is_some());
        assert_eq!(users.column("mood").unwrap().data_type, "mood");
        let names: Vec<&str> = users.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            ["users_pkey", "users_email_key", "users_lower_email"]
        );
        let partial = &users.indexes[2];
        assert!(partial.keys[0].is_expression);
        assert_eq!(partial.keys[0].text, "lower(email)");
        assert_eq!(partial.predicate.as_deref(), Some("deleted_at IS NULL"));
        let orders = c.resolve(Some("shop"), "orders").unwrap();
        assert!(orders.column("id").unwrap().not_null);
        let composite = orders
            .indexes
            .iter()
            .find(|i| i.name == "orders_user_total")
            .unwrap();
        assert!(composite.unique);
        assert!(composite.keys[1].descending && composite.keys[1].nulls_first);
        assert_eq!(composite.include, ["id"]);
        assert_eq!(orders.indexes[0].name, "orders_pk");
        let view = c.resolve(None, "active_users").unwrap();
        assert_eq!(view.kind, RelationKind::View);
        assert!(
            view.view_definition
                .as_deref()
                .unwrap()
                .contains("deleted_at IS NULL")
        );
    }

    #[test]
    fn pg_dump_forms() {
        let c = load_schema_text(
            "SELECT pg_catalog.set_config('search_path', '', false);
             CREATE TABLE public.events (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);
             CREATE TABLE public.events_2026 (id bigint NOT NULL, at timestamptz NOT NULL);
             ALTER TABLE ONLY public.events ATTACH PARTITION public.events_2026 FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2027-01-01 00:00:00+00');
             CREATE MATERIALIZED VIEW public.counts AS SELECT events.id, count(*) AS n FROM public.events GROUP BY events.id WITH NO DATA;
             ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (id, at);
             CREATE FOREIGN TABLE public.remote (id int NOT NULL, note text) SERVER elsewhere OPTIONS (table_name 'r');
             CREATE TABLE public.u (id integer NOT NULL);
             ALTER TABLE public.u ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
                 SEQUENCE NAME public.u_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1
             );",
            "dump",
        );
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        let part = c.resolve(Some("public"), "events_2026").unwrap();
        assert_eq!(part.partition_of.as_ref().unwrap().name, "events");
        let counts = c.resolve(Some("public"), "counts").unwrap();
        assert_eq!(counts.kind, RelationKind::MaterializedView);
        let names: Vec<&str> = counts.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "n"]);
        let remote = c.resolve(Some("public"), "remote").unwrap();
        assert_eq!(remote.kind, RelationKind::ForeignTable);
        assert!(remote.column("id").unwrap().not_null);
        let events = c.resolve(Some("public"), "events").unwrap();
        assert_eq!(events.kind, RelationKind::PartitionedTable);
        assert!(events.indexes[0].primary);
    }

    #[test]
    fn generated_names_are_truncated_like_postgres() {
        let long = "a".repeat(60);
        let n = generated_name(&long, &["column_one".to_string()], "key");
        assert!(n.len() <= NAMEDATALEN, "{n}");
        assert!(n.ends_with("_key"));
    }
}
