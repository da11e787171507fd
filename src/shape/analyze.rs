//! The walk over a parsed statement: query levels, FROM items (tables,
//! CTEs, subqueries, views, table functions), joins, WHERE/ON predicates,
//! projection, GROUP BY, DISTINCT, ORDER BY, LIMIT, and the DML forms.

use super::scope::{Binding, DerivedColumn, Scope, Source, SourceKind, bind};
use super::{
    AccessKind, BindingProblem, JoinKey, Operand, Predicate, PredicateOp, SortKey, StatementShape,
    TableAccess, ValueKind,
};
use crate::catalog::expr::canonicalize;
use crate::catalog::names::{ident_name, split_name};
use crate::catalog::{Catalog, QualifiedName, RelationKind};
use sqlparser::ast::{
    AssignmentTarget, BinaryOperator, ConflictTarget, Distinct, Expr, FromTable, FunctionArg,
    FunctionArgExpr, GroupByExpr, InTarget, Join, JoinConstraint, JoinOperator, LimitClause,
    ObjectName, ObjectNamePart, OnConflictAction, OnInsert, OrderByKind, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, TableObject, TableWithJoins,
    UnaryOperator, Value, ValueWithSpan, visit_expressions_mut,
};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// Views inside views are expanded this deep at most.
const MAX_VIEW_DEPTH: usize = 8;

/// Where a predicate sits.
#[derive(Clone, Copy)]
struct Context {
    under_or: bool,
    under_not: bool,
    written_in: &'static str,
}

impl Context {
    fn top(written_in: &'static str) -> Self {
        Self {
            under_or: false,
            under_not: false,
            written_in,
        }
    }
}

/// One side of a comparison.
#[derive(Clone, Debug)]
enum Side {
    Table {
        table: QualifiedName,
        operand: Operand,
    },
    Value(ValueKind),
    /// Columns of several tables, a computed column, or something unbound.
    Other,
}

pub struct Analyzer<'c> {
    catalog: &'c Catalog,
    params: &'c [Option<String>],
    scopes: Vec<Scope>,
    /// CTEs visible, innermost WITH last.
    ctes: Vec<Vec<(String, Vec<DerivedColumn>)>>,
    accesses: BTreeMap<QualifiedName, TableAccess>,
    problems: BTreeSet<BindingProblem>,
    view_depth: usize,
}

impl<'c> Analyzer<'c> {
    pub fn new(catalog: &'c Catalog, params: &'c [Option<String>]) -> Self {
        Self {
            catalog,
            params,
            scopes: Vec::new(),
            ctes: Vec::new(),
            accesses: BTreeMap::new(),
            problems: BTreeSet::new(),
            view_depth: 0,
        }
    }

    pub fn finish(self) -> StatementShape {
        let mut tables: Vec<TableAccess> = self.accesses.into_values().collect();
        for t in &mut tables {
            t.filters.sort();
            t.filters.dedup();
            t.joins.sort();
            t.joins.dedup();
        }
        StatementShape {
            tables,
            problems: self.problems.into_iter().collect(),
            parse_error: None,
        }
    }

    fn access(&mut self, table: &QualifiedName) -> &mut TableAccess {
        let known = self.catalog.get(table).is_some();
        self.accesses.entry(table.clone()).or_insert_with(|| {
            let mut access = TableAccess::new(table.clone(), known);
            access.system = super::is_system_schema(&table.schema);
            access
        })
    }

    /// Analyzes a statement; returns its output columns (a query's, or a
    /// DML statement's RETURNING list, which a CTE can select from).
    pub fn statement(&mut self, statement: &Statement) -> Vec<DerivedColumn> {
        match statement {
            Statement::Query(q) => self.query(q),
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
            Statement::Explain { statement, .. } => self.statement(statement),
            _ => Vec::new(),
        }
    }

    // ---- query levels -------------------------------------------------

    /// Analyzes a query; returns its output columns.
    fn query(&mut self, q: &Query) -> Vec<DerivedColumn> {
        let with_ctes = q.with.is_some();
        if let Some(with) = &q.with {
            self.ctes.push(Vec::new());
            for cte in &with.cte_tables {
                let name = ident_name(&cte.alias.name);
                let alias_columns: Vec<String> = cte
                    .alias
                    .columns
                    .iter()
                    .map(|c| ident_name(&c.name))
                    .collect();
                let mut columns = if with.recursive {
                    self.recursive_cte(&name, &cte.query, &alias_columns)
                } else {
                    self.query(&cte.query)
                };
                rename(&mut columns, &alias_columns);
                let level = self.ctes.last_mut().expect("pushed");
                level.retain(|(n, _)| n != &name);
                level.push((name, columns));
            }
        }
        let (limit, offset) = limit_offset(q);
        let order_by: Vec<&sqlparser::ast::OrderByExpr> = match q.order_by.as_ref().map(|o| &o.kind)
        {
            Some(OrderByKind::Expressions(exprs)) => exprs.iter().collect(),
            _ => Vec::new(),
        };
        let out = self.set_expr(&q.body, &order_by, limit, offset);
        if with_ctes {
            self.ctes.pop();
        }
        out
    }

    /// `WITH RECURSIVE name AS (base UNION [ALL] step)`: the base branch is
    /// analyzed first and its columns made visible under the CTE's name, so
    /// the step branch (which refers to it) binds; columns keep an origin
    /// where both branches pass the same base column.
    fn recursive_cte(
        &mut self,
        name: &str,
        q: &Query,
        alias_columns: &[String],
    ) -> Vec<DerivedColumn> {
        let SetExpr::SetOperation { left, right, .. } = q.body.as_ref() else {
            return self.query(q);
        };
        let mut base = self.set_expr(left, &[], false, false);
        rename(&mut base, alias_columns);
        let level = self.ctes.last_mut().expect("a WITH level is open");
        level.push((name.to_string(), base.clone()));
        let step = self.set_expr(right, &[], false, false);
        level_remove(self.ctes.last_mut().expect("a WITH level is open"), name);
        merge_branches(base, &step)
    }

    fn set_expr(
        &mut self,
        body: &SetExpr,
        order_by: &[&sqlparser::ast::OrderByExpr],
        limit: bool,
        offset: bool,
    ) -> Vec<DerivedColumn> {
        match body {
            SetExpr::Select(select) => self.select(select, order_by, limit, offset),
            SetExpr::Query(q) => self.query(q),
            SetExpr::SetOperation { left, right, .. } => {
                let out = self.set_expr(left, &[], false, false);
                let other = self.set_expr(right, &[], false, false);
                merge_branches(out, &other)
            }
            SetExpr::Values(values) => {
                for row in &values.rows {
                    for e in &row.content {
                        self.reads(e);
                    }
                }
                // PostgreSQL names VALUES columns column1, column2, …
                let width = values.rows.first().map_or(0, |r| r.content.len());
                (1..=width)
                    .map(|i| DerivedColumn {
                        name: format!("column{i}"),
                        origin: None,
                    })
                    .collect()
            }
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                self.statement(s)
            }
            SetExpr::Table(_) => Vec::new(),
        }
    }

    fn select(
        &mut self,
        select: &Select,
        order_by: &[&sqlparser::ast::OrderByExpr],
        limit: bool,
        offset: bool,
    ) -> Vec<DerivedColumn> {
        self.scopes.push(Scope::default());
        for twj in &select.from {
            self.table_with_joins(twj);
        }
        if let Some(selection) = &select.selection {
            self.predicates(selection, Context::top("where"));
        }
        let mut out = Vec::new();
        for item in &select.projection {
            self.projection_item(item, &mut out);
        }
        if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
            for e in exprs {
                let e = resolve_output_reference(e, select);
                if let Side::Table { table, operand } = self.side(e) {
                    self.access(&table).group_by.push(operand);
                }
            }
        }
        if let Some(having) = &select.having {
            self.reads(having);
        }
        let direct = self.direct_tables();
        match &select.distinct {
            Some(Distinct::Distinct) => {
                for t in &direct {
                    self.access(t).distinct = true;
                }
            }
            Some(Distinct::On(exprs)) => {
                for e in exprs {
                    if let Side::Table { table, operand } = self.side(e) {
                        self.access(&table).distinct_on.push(operand);
                    }
                }
            }
            _ => {}
        }
        for ob in order_by {
            let expr = resolve_output_reference(&ob.expr, select);
            if let Side::Table { table, operand } = self.side(expr) {
                let descending = matches!(ob.options.sort, Some(sqlparser::ast::OrderBySort::Desc));
                self.access(&table).order_by.push(SortKey {
                    operand,
                    descending,
                    nulls_first: ob.options.nulls_first,
                });
            } else {
                self.reads(expr);
            }
        }
        for t in &direct {
            let a = self.access(t);
            a.limit |= limit;
            a.offset |= offset;
        }
        self.scopes.pop();
        out
    }

    /// Base tables named directly in the current level's FROM.
    fn direct_tables(&self) -> Vec<QualifiedName> {
        self.scopes
            .last()
            .map(|s| {
                s.sources
                    .iter()
                    .filter_map(|src| match &src.kind {
                        SourceKind::Base { table, .. } => Some(table.clone()),
                        SourceKind::Derived { .. } | SourceKind::Opaque { .. } => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn projection_item(&mut self, item: &SelectItem, out: &mut Vec<DerivedColumn>) {
        match item {
            SelectItem::UnnamedExpr(e) => {
                let origin = self.origin_of(e);
                out.push(DerivedColumn {
                    name: output_name(e),
                    origin,
                });
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                let origin = self.origin_of(expr);
                out.push(DerivedColumn {
                    name: ident_name(alias),
                    origin,
                });
            }
            SelectItem::ExprWithAliases { expr, aliases } => {
                self.reads(expr);
                out.extend(aliases.iter().map(|a| DerivedColumn {
                    name: ident_name(a),
                    origin: None,
                }));
            }
            SelectItem::Wildcard(_) => {
                let sources = self
                    .scopes
                    .last()
                    .map(|s| s.sources.clone())
                    .unwrap_or_default();
                for source in &sources {
                    self.star(source, out);
                }
            }
            SelectItem::QualifiedWildcard(kind, _) => {
                let SelectItemQualifiedWildcardKind::ObjectName(qualifier) = kind else {
                    return;
                };
                let (_, name) = split_name(qualifier);
                let source = self
                    .scopes
                    .iter()
                    .rev()
                    .find_map(|s| s.sources.iter().rev().find(|src| src.name == name))
                    .cloned();
                match source {
                    Some(source) => self.star(&source, out),
                    None => {
                        self.problems.insert(BindingProblem::UnknownQualifier {
                            qualifier: qualifier.to_string(),
                        });
                    }
                }
            }
        }
    }

    /// `*` over one source: every column read, and passed through.
    fn star(&mut self, source: &Source, out: &mut Vec<DerivedColumn>) {
        match &source.kind {
            SourceKind::Base { table, columns } => {
                self.access(table).reads_all_columns = true;
                for c in columns.iter().flatten() {
                    out.push(DerivedColumn {
                        name: c.clone(),
                        origin: Some((table.clone(), Operand::Column { name: c.clone() })),
                    });
                }
            }
            SourceKind::Derived { columns } => out.extend(columns.iter().cloned()),
            SourceKind::Opaque { column } => out.push(DerivedColumn {
                name: column.clone(),
                origin: None,
            }),
        }
    }

    /// The base column or expression a projected expression passes through.
    fn origin_of(&mut self, e: &Expr) -> Option<(QualifiedName, Operand)> {
        match self.side(e) {
            Side::Table { table, operand } => Some((table, operand)),
            _ => None,
        }
    }

    // ---- FROM ----------------------------------------------------------

    fn table_with_joins(&mut self, twj: &TableWithJoins) {
        self.table_factor(&twj.relation);
        for join in &twj.joins {
            self.join(join);
        }
    }

    fn join(&mut self, join: &Join) {
        let before = self.scopes.last().map_or(0, |s| s.sources.len());
        self.table_factor(&join.relation);
        let constraint = match &join.join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c)
            | JoinOperator::CrossJoin(c)
            | JoinOperator::Semi(c)
            | JoinOperator::LeftSemi(c)
            | JoinOperator::RightSemi(c)
            | JoinOperator::Anti(c)
            | JoinOperator::LeftAnti(c)
            | JoinOperator::RightAnti(c)
            | JoinOperator::StraightJoin(c) => Some(c),
            _ => None,
        };
        match constraint {
            Some(JoinConstraint::On(expr)) => self.predicates(expr, Context::top("on")),
            Some(JoinConstraint::Using(columns)) => {
                let Some(scope) = self.scopes.last() else {
                    return;
                };
                let left = Scope {
                    sources: scope.sources[..before].to_vec(),
                    using: scope.using.clone(),
                };
                let right = Scope {
                    sources: scope.sources[before..].to_vec(),
                    using: Vec::new(),
                };
                for column in columns {
                    let (_, name) = split_name(column);
                    if let Some(scope) = self.scopes.last_mut() {
                        scope.merge_using(&name, before);
                    }
                    let l = bind(std::slice::from_ref(&left), None, &name);
                    let r = bind(std::slice::from_ref(&right), None, &name);
                    if let (
                        Binding::Base {
                            table: lt,
                            operand: lo,
                            ..
                        },
                        Binding::Base {
                            table: rt,
                            operand: ro,
                            ..
                        },
                    ) = (l, r)
                    {
                        self.join_key(&lt, &lo, &rt, &ro, "using");
                    }
                }
            }
            _ => {}
        }
    }

    fn table_factor(&mut self, factor: &TableFactor) {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } => {
                // generate_series(…), websearch_to_tsquery(…): a function in FROM.
                for arg in &args.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } = arg
                    {
                        self.reads(e);
                    }
                }
                let (_, function) = split_name(name);
                self.function_source(&function, alias.as_ref());
            }
            TableFactor::Table { name, alias, .. } => {
                let (schema, table_name) = split_name(name);
                let visible = alias
                    .as_ref()
                    .map_or_else(|| table_name.clone(), |a| ident_name(&a.name));
                let alias_columns: Vec<String> = alias
                    .as_ref()
                    .map(|a| a.columns.iter().map(|c| ident_name(&c.name)).collect())
                    .unwrap_or_default();
                // A CTE name shadows a table of the same name.
                if schema.is_none()
                    && let Some(columns) = self.cte(&table_name)
                {
                    let mut columns = columns;
                    rename(&mut columns, &alias_columns);
                    self.add_source(visible, SourceKind::Derived { columns });
                    return;
                }
                let kind = match self.catalog.resolve(schema.as_deref(), &table_name) {
                    Some(rel)
                        if rel.kind == RelationKind::View && rel.view_definition.is_some() =>
                    {
                        match self.expand_view(rel.view_definition.as_deref().unwrap_or("")) {
                            Some(mut columns) => {
                                if columns.is_empty() {
                                    columns = rel
                                        .columns
                                        .iter()
                                        .map(|c| DerivedColumn {
                                            name: c.name.clone(),
                                            origin: None,
                                        })
                                        .collect();
                                }
                                rename(&mut columns, &alias_columns);
                                SourceKind::Derived { columns }
                            }
                            None => self.base_source(
                                rel.name.clone(),
                                Some(rel.columns.iter().map(|c| c.name.clone()).collect()),
                            ),
                        }
                    }
                    Some(rel) => {
                        let cols: Vec<String> =
                            rel.columns.iter().map(|c| c.name.clone()).collect();
                        self.base_source(rel.name.clone(), Some(cols))
                    }
                    None => {
                        let qualified = self.unknown_table(schema.as_deref(), &table_name);
                        self.base_source(qualified, None)
                    }
                };
                self.add_source(visible, kind);
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                // LATERAL subqueries see the sources before them; others see
                // them too here, which only matters for invalid SQL.
                let mut columns = self.query(subquery);
                let (name, alias_columns) = alias_parts(alias.as_ref());
                rename(&mut columns, &alias_columns);
                self.add_source(name, SourceKind::Derived { columns });
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.table_with_joins(table_with_joins),
            TableFactor::Function { args, alias, .. } => {
                for arg in args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } = arg
                    {
                        self.reads(e);
                    }
                }
                self.opaque_source(alias.as_ref());
            }
            TableFactor::UNNEST {
                alias, array_exprs, ..
            } => {
                for e in array_exprs {
                    self.reads(e);
                }
                self.opaque_source(alias.as_ref());
            }
            TableFactor::TableFunction { expr, alias } => {
                self.reads(expr);
                self.opaque_source(alias.as_ref());
            }
            other => {
                // Forms PostgreSQL lacks (PIVOT, MATCH_RECOGNIZE…): nothing to bind.
                let _ = other;
            }
        }
    }

    /// A table function's rows: columns named by the alias, not tied to a table.
    fn opaque_source(&mut self, alias: Option<&sqlparser::ast::TableAlias>) {
        self.function_source("", alias);
    }

    /// A function in FROM. With an alias column list, those are its
    /// columns; otherwise a function returning one value names its column
    /// after the alias (or itself), and a set-returning record function has
    /// columns we cannot know — those bind as computed, never as unknown.
    fn function_source(&mut self, function: &str, alias: Option<&sqlparser::ast::TableAlias>) {
        let (name, alias_columns) = alias_parts(alias);
        let name = if name.is_empty() {
            function.to_string()
        } else {
            name
        };
        let kind = if alias_columns.is_empty() {
            SourceKind::Opaque {
                column: name.clone(),
            }
        } else {
            SourceKind::Derived {
                columns: alias_columns
                    .into_iter()
                    .map(|n| DerivedColumn {
                        name: n,
                        origin: None,
                    })
                    .collect(),
            }
        };
        self.add_source(name, kind);
    }

    /// A table the catalog lacks: qualified the way the server would (an
    /// unqualified `pg_*` name is a system catalog, searched first), and
    /// reported unless it is a system table.
    fn unknown_table(&mut self, schema: Option<&str>, name: &str) -> QualifiedName {
        let schema = match schema {
            Some(s) => s.to_string(),
            None if name.starts_with("pg_") => "pg_catalog".to_string(),
            None => self
                .catalog
                .search_path
                .first()
                .cloned()
                .unwrap_or_else(|| "public".to_string()),
        };
        let qualified = QualifiedName::new(schema, name);
        if !super::is_system_schema(&qualified.schema) {
            self.problems.insert(BindingProblem::UnknownTable {
                table: qualified.to_string(),
            });
        }
        qualified
    }

    fn base_source(&mut self, table: QualifiedName, columns: Option<Vec<String>>) -> SourceKind {
        self.access(&table).kinds.insert(AccessKind::Read);
        SourceKind::Base { table, columns }
    }

    fn add_source(&mut self, name: String, kind: SourceKind) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.sources.push(Source {
                name,
                kind,
                qualified_only: false,
            });
        }
    }

    fn add_qualified_only_source(&mut self, name: String, kind: SourceKind) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.sources.push(Source {
                name,
                kind,
                qualified_only: true,
            });
        }
    }

    fn cte(&self, name: &str) -> Option<Vec<DerivedColumn>> {
        self.ctes
            .iter()
            .rev()
            .find_map(|level| level.iter().rev().find(|(n, _)| n == name))
            .map(|(_, c)| c.clone())
    }

    /// Analyzes a view's defining query in a fresh scope chain; its output
    /// columns map to base columns where they pass them through.
    fn expand_view(&mut self, definition: &str) -> Option<Vec<DerivedColumn>> {
        if self.view_depth >= MAX_VIEW_DEPTH {
            return None;
        }
        let dialect = sqlparser::dialect::PostgreSqlDialect {};
        let parsed =
            sqlparser::parser::Parser::parse_sql(&dialect, definition.trim().trim_end_matches(';'))
                .ok()?;
        let Some(Statement::Query(q)) = parsed.first() else {
            return None;
        };
        let saved_scopes = std::mem::take(&mut self.scopes);
        let saved_ctes = std::mem::take(&mut self.ctes);
        self.view_depth += 1;
        let columns = self.query(q);
        self.view_depth -= 1;
        self.scopes = saved_scopes;
        self.ctes = saved_ctes;
        Some(columns)
    }

    // ---- expressions and predicates -----------------------------------

    /// Binds a column reference, recording problems and reads.
    fn bind_column(&mut self, qualifier: Option<&str>, column: &str, shown: &str) -> Binding {
        let b = bind(&self.scopes, qualifier, column);
        match &b {
            Binding::Base { table, operand, .. } => {
                let access = self.access(table);
                match operand {
                    Operand::Column { name } => {
                        access.columns_read.insert(name.clone());
                    }
                    Operand::Expression { columns, .. } => {
                        access.columns_read.extend(columns.iter().cloned());
                    }
                }
            }
            Binding::Unknown => {
                self.problems.insert(BindingProblem::UnknownColumn {
                    column: shown.to_string(),
                });
            }
            Binding::Ambiguous(tables) => {
                self.problems.insert(BindingProblem::AmbiguousColumn {
                    column: shown.to_string(),
                    tables: tables.clone(),
                });
            }
            Binding::UnknownQualifier => {
                self.problems.insert(BindingProblem::UnknownQualifier {
                    qualifier: qualifier.unwrap_or("").to_string(),
                });
            }
            Binding::Computed => {}
        }
        b
    }

    /// Every column an expression references (outside subqueries), bound;
    /// subqueries inside it are analyzed.
    fn column_refs(&mut self, e: &Expr) -> Vec<Binding> {
        let mut refs = Vec::new();
        let mut subqueries = Vec::new();
        collect_refs(e, &mut refs, &mut subqueries);
        for q in subqueries {
            self.query(&q);
        }
        refs.into_iter()
            .map(|(qualifier, column, shown)| {
                self.bind_column(qualifier.as_deref(), &column, &shown)
            })
            .collect()
    }

    /// Notes what an expression reads (and analyzes its subqueries).
    fn reads(&mut self, e: &Expr) {
        self.column_refs(e);
    }

    /// What one side of a comparison is.
    fn side(&mut self, e: &Expr) -> Side {
        let e = strip_nested(e);
        if let Some(kind) = value_kind(e) {
            // Subqueries are analyzed for their own tables.
            if kind == ValueKind::Subquery || kind == ValueKind::Expression {
                self.reads(e);
            }
            return Side::Value(kind);
        }
        let bindings = self.column_refs(e);
        // An aggregate or window result is not something a table index holds.
        if contains_aggregate(e) {
            return Side::Other;
        }
        let mut table: Option<(QualifiedName, usize)> = None;
        let mut columns = Vec::new();
        let mut single_operand = None;
        for b in &bindings {
            match b {
                Binding::Base {
                    table: t,
                    operand,
                    depth,
                } => {
                    match &table {
                        None => table = Some((t.clone(), *depth)),
                        Some((prev, d)) if prev == t && d == depth => {}
                        Some(_) => return Side::Other,
                    }
                    match operand {
                        Operand::Column { name } => columns.push(name.clone()),
                        Operand::Expression { columns: c, .. } => columns.extend(c.iter().cloned()),
                    }
                    single_operand = Some(operand.clone());
                }
                _ => return Side::Other,
            }
        }
        let Some((table, _)) = table else {
            return Side::Other;
        };
        // A bare column (possibly through a view or CTE column).
        if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
            && let Some(operand) = single_operand
        {
            return Side::Table { table, operand };
        }
        columns.sort();
        columns.dedup();
        Side::Table {
            table,
            operand: Operand::Expression {
                text: expression_text(e),
                columns,
            },
        }
    }

    fn predicates(&mut self, e: &Expr, ctx: Context) {
        match e {
            Expr::Nested(inner) => self.predicates(inner, ctx),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                self.predicates(left, ctx);
                self.predicates(right, ctx);
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => {
                let ctx = Context {
                    under_or: true,
                    ..ctx
                };
                self.predicates(left, ctx);
                self.predicates(right, ctx);
            }
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => {
                // `NOT archived`: a boolean column tested false.
                if matches!(
                    strip_nested(expr),
                    Expr::Identifier(_) | Expr::CompoundIdentifier(_)
                ) && let Side::Table { table, operand } = self.side(expr)
                {
                    self.filter(
                        &table,
                        operand,
                        PredicateOp::IsFalse,
                        ValueKind::None,
                        ctx,
                        Vec::new(),
                    );
                    return;
                }
                // NOT (x IS NOT NULL) is x IS NULL, and so on.
                let negated = match strip_nested(expr) {
                    Expr::IsNull(inner) => Some((inner, PredicateOp::IsNotNull)),
                    Expr::IsNotNull(inner) => Some((inner, PredicateOp::IsNull)),
                    Expr::IsTrue(inner) | Expr::IsNotFalse(inner) => {
                        Some((inner, PredicateOp::IsFalse))
                    }
                    Expr::IsFalse(inner) | Expr::IsNotTrue(inner) => {
                        Some((inner, PredicateOp::IsTrue))
                    }
                    _ => None,
                };
                if let Some((inner, op)) = negated {
                    self.unary(inner, op, ctx);
                    return;
                }
                let ctx = Context {
                    under_not: !ctx.under_not,
                    ..ctx
                };
                self.predicates(expr, ctx);
            }
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                if let Side::Table { table, operand } = self.side(e) {
                    self.filter(
                        &table,
                        operand,
                        PredicateOp::IsTrue,
                        ValueKind::None,
                        ctx,
                        Vec::new(),
                    );
                }
            }
            Expr::IsNull(inner) => self.unary(inner, PredicateOp::IsNull, ctx),
            Expr::IsNotNull(inner) => self.unary(inner, PredicateOp::IsNotNull, ctx),
            Expr::IsTrue(inner) | Expr::IsNotFalse(inner) => {
                self.unary(inner, PredicateOp::IsTrue, ctx)
            }
            Expr::IsFalse(inner) | Expr::IsNotTrue(inner) => {
                self.unary(inner, PredicateOp::IsFalse, ctx)
            }
            Expr::IsDistinctFrom(a, b) => self.comparison(a, PredicateOp::DistinctFrom, b, ctx),
            Expr::IsNotDistinctFrom(a, b) => self.comparison(a, PredicateOp::Eq, b, ctx),
            Expr::In {
                expr,
                target,
                negated,
                ..
            } => {
                let (op, value) = match target {
                    InTarget::List(list) => {
                        for item in list {
                            self.reads(item);
                        }
                        (PredicateOp::In, ValueKind::Parameter)
                    }
                    InTarget::Subquery(subquery) => {
                        self.query(subquery);
                        (PredicateOp::In, ValueKind::Subquery)
                    }
                    InTarget::Unnest(array) => {
                        self.reads(array);
                        (PredicateOp::AnyEq, ValueKind::Parameter)
                    }
                    InTarget::Table { .. } => (PredicateOp::In, ValueKind::Subquery),
                };
                let ctx = Context {
                    under_not: ctx.under_not ^ negated,
                    ..ctx
                };
                self.against_value(expr, op, value, ctx);
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let low_kind = self.value_side(low);
                self.value_side(high);
                let ctx = Context {
                    under_not: ctx.under_not ^ negated,
                    ..ctx
                };
                self.against_value(expr, PredicateOp::Between, low_kind, ctx);
            }
            Expr::Like {
                negated,
                expr,
                pattern,
                ..
            } => {
                let op = self.like_kind(pattern, false);
                let ctx = Context {
                    under_not: ctx.under_not ^ negated,
                    ..ctx
                };
                let kind = self.value_side(pattern);
                self.against_value(expr, op, kind, ctx);
            }
            Expr::ILike {
                negated,
                expr,
                pattern,
                ..
            } => {
                let op = self.like_kind(pattern, true);
                let ctx = Context {
                    under_not: ctx.under_not ^ negated,
                    ..ctx
                };
                let kind = self.value_side(pattern);
                self.against_value(expr, op, kind, ctx);
            }
            Expr::SimilarTo {
                negated,
                expr,
                pattern,
                ..
            } => {
                let ctx = Context {
                    under_not: ctx.under_not ^ negated,
                    ..ctx
                };
                let kind = self.value_side(pattern);
                self.against_value(expr, PredicateOp::Regex, kind, ctx);
            }
            Expr::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => {
                let op = match compare_op {
                    BinaryOperator::Eq => PredicateOp::AnyEq,
                    other => comparison_op(other).unwrap_or(PredicateOp::Other),
                };
                let kind = self.value_side(right);
                self.against_value(left, op, kind, ctx);
            }
            Expr::AllOp { left, right, .. } => {
                let kind = self.value_side(right);
                self.against_value(left, PredicateOp::Other, kind, ctx);
            }
            Expr::Exists { subquery, negated } => {
                let _ = negated;
                self.query(subquery);
            }
            Expr::BinaryOp { left, op, right } => match comparison_op(op) {
                Some(pop) => {
                    let ctx = if matches!(
                        op,
                        BinaryOperator::PGRegexNotMatch
                            | BinaryOperator::PGRegexNotIMatch
                            | BinaryOperator::PGNotLikeMatch
                            | BinaryOperator::PGNotILikeMatch
                    ) {
                        Context {
                            under_not: !ctx.under_not,
                            ..ctx
                        }
                    } else {
                        ctx
                    };
                    if let (Expr::Tuple(l), Expr::Tuple(r)) =
                        (strip_nested(left), strip_nested(right))
                    {
                        self.row_comparison(l, r, ctx);
                    } else {
                        self.comparison(left, pop, right, ctx);
                    }
                }
                None => {
                    self.reads(e);
                }
            },
            other => self.reads(other),
        }
    }

    /// What kind of value an expression is, analyzing what it reads.
    fn value_side(&mut self, e: &Expr) -> ValueKind {
        match self.side(e) {
            Side::Value(kind) => kind,
            _ => ValueKind::Expression,
        }
    }

    fn unary(&mut self, inner: &Expr, op: PredicateOp, ctx: Context) {
        if let Side::Table { table, operand } = self.side(inner) {
            let value = match op {
                PredicateOp::IsNull | PredicateOp::IsNotNull => ValueKind::Constant,
                _ => ValueKind::None,
            };
            self.filter(&table, operand, op, value, ctx, Vec::new());
        }
    }

    fn against_value(&mut self, expr: &Expr, op: PredicateOp, value: ValueKind, ctx: Context) {
        if let Side::Table { table, operand } = self.side(expr) {
            self.filter(&table, operand, op, value, ctx, Vec::new());
        }
    }

    fn comparison(&mut self, left: &Expr, op: PredicateOp, right: &Expr, ctx: Context) {
        let l = self.side(left);
        let r = self.side(right);
        match (l, r) {
            (Side::Table { table, operand }, Side::Value(kind)) => {
                self.filter(&table, operand, op, kind, ctx, Vec::new())
            }
            (Side::Value(kind), Side::Table { table, operand }) => {
                self.filter(&table, operand, flip(op), kind, ctx, Vec::new())
            }
            (
                Side::Table {
                    table: lt,
                    operand: lo,
                },
                Side::Table {
                    table: rt,
                    operand: ro,
                },
            ) if op == PredicateOp::Eq && !ctx.under_not && !ctx.under_or => {
                // Only an equality join can drive an index lookup.
                self.join_key(&lt, &lo, &rt, &ro, ctx.written_in);
            }
            _ => {}
        }
    }

    /// `(a, b) > ($1, $2)`: keyset pagination.
    fn row_comparison(&mut self, left: &[Expr], right: &[Expr], ctx: Context) {
        let mut operands = Vec::new();
        let mut table: Option<QualifiedName> = None;
        for e in left {
            match self.side(e) {
                Side::Table { table: t, operand } => {
                    if table.get_or_insert(t.clone()) != &t {
                        return;
                    }
                    operands.push(operand);
                }
                _ => return,
            }
        }
        let value = right
            .iter()
            .map(|e| self.value_side(e))
            .next()
            .unwrap_or(ValueKind::Parameter);
        if let Some(table) = table
            && !operands.is_empty()
        {
            let first = operands.remove(0);
            self.filter(&table, first, PredicateOp::RowCompare, value, ctx, operands);
        }
    }

    fn filter(
        &mut self,
        table: &QualifiedName,
        operand: Operand,
        op: PredicateOp,
        value: ValueKind,
        ctx: Context,
        row: Vec<Operand>,
    ) {
        self.access(table).filters.push(Predicate {
            operand,
            op,
            value,
            under_or: ctx.under_or,
            under_not: ctx.under_not,
            row,
        });
    }

    fn join_key(
        &mut self,
        lt: &QualifiedName,
        lo: &Operand,
        rt: &QualifiedName,
        ro: &Operand,
        written_in: &'static str,
    ) {
        self.access(lt).joins.push(JoinKey {
            operand: lo.clone(),
            other_table: rt.clone(),
            other_operand: ro.clone(),
            written_in,
        });
        self.access(rt).joins.push(JoinKey {
            operand: ro.clone(),
            other_table: lt.clone(),
            other_operand: lo.clone(),
            written_in,
        });
    }

    /// Prefix or infix LIKE, from the pattern (or the sample's parameter).
    fn like_kind(&self, pattern: &Expr, case_insensitive: bool) -> PredicateOp {
        let text = match strip_nested(pattern) {
            Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s),
                ..
            }) => Some(s.clone()),
            Expr::Value(ValueWithSpan {
                value: Value::Placeholder(p),
                ..
            }) => p
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| self.params.get(n.wrapping_sub(1)).cloned().flatten()),
            // `'%' || $1 || '%'` and the like.
            Expr::BinaryOp {
                op: BinaryOperator::StringConcat,
                left,
                ..
            } => {
                return if is_wildcard_literal(leftmost_concat(left)) {
                    PredicateOp::InfixLike
                } else {
                    PredicateOp::Like
                };
            }
            _ => None,
        };
        match text {
            None => PredicateOp::Like,
            Some(p) if p.starts_with('%') || p.starts_with('_') => PredicateOp::InfixLike,
            // ILIKE 'abc%' folds case: a plain btree cannot serve it.
            Some(_) if case_insensitive => PredicateOp::InfixLike,
            Some(_) => PredicateOp::PrefixLike,
        }
    }

    // ---- DML -----------------------------------------------------------

    fn insert(&mut self, insert: &sqlparser::ast::Insert) -> Vec<DerivedColumn> {
        let TableObject::TableName(name) = &insert.table else {
            return Vec::new();
        };
        self.scopes.push(Scope::default());
        let (schema, table_name) = split_name(name);
        let visible = insert
            .table_alias
            .as_ref()
            .map_or_else(|| table_name.clone(), |a| ident_name(&a.alias));
        let target = self.target(schema.as_deref(), &table_name, visible, AccessKind::Insert);
        if let Some(source) = &insert.source {
            // INSERT … SELECT: the SELECT has its own scope.
            let saved = std::mem::take(&mut self.scopes);
            self.query(source);
            self.scopes = saved;
        }
        if let (Some(target), Some(OnInsert::OnConflict(conflict))) = (&target, &insert.on) {
            if let Some(ConflictTarget::Columns { columns, .. }) = &conflict.conflict_target {
                for c in columns {
                    let name = ident_name(c);
                    self.access(target).columns_read.insert(name.clone());
                    self.filter(
                        target,
                        Operand::Column { name },
                        PredicateOp::Eq,
                        ValueKind::Parameter,
                        Context::top("on conflict"),
                        Vec::new(),
                    );
                }
            }
            if let OnConflictAction::DoUpdate(update) = &conflict.action {
                // EXCLUDED is the proposed row, not a table; unqualified
                // names in DO UPDATE are the target's.
                self.add_qualified_only_source(
                    "excluded".to_string(),
                    SourceKind::Derived {
                        columns: self
                            .catalog
                            .get(target)
                            .map(|r| {
                                r.columns
                                    .iter()
                                    .map(|c| DerivedColumn {
                                        name: c.name.clone(),
                                        origin: None,
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    },
                );
                for a in &update.assignments {
                    self.assignment(target, a);
                }
                if let Some(selection) = &update.selection {
                    self.predicates(selection, Context::top("where"));
                }
            }
        }
        let mut out = Vec::new();
        if let Some(returning) = &insert.returning {
            for item in returning {
                self.projection_item(item, &mut out);
            }
        }
        self.scopes.pop();
        out
    }

    fn update(&mut self, update: &sqlparser::ast::Update) -> Vec<DerivedColumn> {
        self.scopes.push(Scope::default());
        let target = match &update.table.relation {
            TableFactor::Table { name, alias, .. } => {
                let (schema, table_name) = split_name(name);
                let visible = alias
                    .as_ref()
                    .map_or_else(|| table_name.clone(), |a| ident_name(&a.name));
                self.target(schema.as_deref(), &table_name, visible, AccessKind::Update)
            }
            _ => None,
        };
        if let Some(from) = &update.from {
            let tables = match from {
                sqlparser::ast::UpdateTableFromKind::BeforeSet(t)
                | sqlparser::ast::UpdateTableFromKind::AfterSet(t) => t,
            };
            for twj in tables {
                self.table_with_joins(twj);
            }
        }
        if let Some(target) = &target {
            for a in &update.assignments {
                self.assignment(target, a);
            }
        }
        if let Some(selection) = &update.selection {
            self.predicates(selection, Context::top("where"));
        }
        let mut out = Vec::new();
        if let Some(returning) = &update.returning {
            for item in returning {
                self.projection_item(item, &mut out);
            }
        }
        self.scopes.pop();
        out
    }

    fn assignment(&mut self, target: &QualifiedName, a: &sqlparser::ast::Assignment) {
        let columns: Vec<&ObjectName> = match &a.target {
            AssignmentTarget::ColumnName(n) => vec![n],
            AssignmentTarget::Tuple(ns) => ns.iter().collect(),
        };
        for c in columns {
            let (_, column) = split_name(c);
            self.access(target).columns_written.insert(column);
        }
        self.reads(&a.value);
    }

    fn delete(&mut self, delete: &sqlparser::ast::Delete) -> Vec<DerivedColumn> {
        self.scopes.push(Scope::default());
        let from = match &delete.from {
            FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
        };
        for twj in from {
            if let TableFactor::Table { name, alias, .. } = &twj.relation {
                let (schema, table_name) = split_name(name);
                let visible = alias
                    .as_ref()
                    .map_or_else(|| table_name.clone(), |a| ident_name(&a.name));
                self.target(schema.as_deref(), &table_name, visible, AccessKind::Delete);
            }
        }
        for twj in delete.using.iter().flatten() {
            self.table_with_joins(twj);
        }
        if let Some(selection) = &delete.selection {
            self.predicates(selection, Context::top("where"));
        }
        let mut out = Vec::new();
        if let Some(returning) = &delete.returning {
            for item in returning {
                self.projection_item(item, &mut out);
            }
        }
        self.scopes.pop();
        out
    }

    /// The table an INSERT / UPDATE / DELETE writes, added to the scope.
    fn target(
        &mut self,
        schema: Option<&str>,
        name: &str,
        visible: String,
        kind: AccessKind,
    ) -> Option<QualifiedName> {
        let (table, columns) = match self.catalog.resolve(schema, name) {
            Some(rel) => (
                rel.name.clone(),
                Some(rel.columns.iter().map(|c| c.name.clone()).collect()),
            ),
            None => (self.unknown_table(schema, name), None),
        };
        self.access(&table).kinds.insert(kind);
        self.add_source(
            visible,
            SourceKind::Base {
                table: table.clone(),
                columns,
            },
        );
        Some(table)
    }
}

// ---- helpers ----------------------------------------------------------

fn level_remove(level: &mut Vec<(String, Vec<DerivedColumn>)>, name: &str) {
    level.retain(|(n, _)| n != name);
}

/// Output columns of a set operation: named by the first branch; a column
/// keeps its origin only when every branch passes the same base column.
fn merge_branches(mut first: Vec<DerivedColumn>, other: &[DerivedColumn]) -> Vec<DerivedColumn> {
    for (i, c) in first.iter_mut().enumerate() {
        let same = other.get(i).is_some_and(|o| o.origin == c.origin);
        if !same {
            c.origin = None;
        }
    }
    first
}

fn strip_nested(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip_nested(inner),
        other => other,
    }
}

/// A value that references no column: a parameter, a constant, a
/// subquery, or an expression of those.
fn value_kind(e: &Expr) -> Option<ValueKind> {
    match e {
        Expr::Value(ValueWithSpan { value, .. }) => Some(match value {
            Value::Placeholder(_) => ValueKind::Parameter,
            _ => ValueKind::Constant,
        }),
        Expr::Subquery(_) => Some(ValueKind::Subquery),
        _ => {
            let mut refs = Vec::new();
            let mut subqueries = Vec::new();
            collect_refs(e, &mut refs, &mut subqueries);
            if !refs.is_empty() {
                return None;
            }
            Some(match e {
                Expr::Cast { expr, .. } => value_kind(expr).unwrap_or(ValueKind::Expression),
                Expr::Array(_) | Expr::Tuple(_) => ValueKind::Parameter,
                _ if !subqueries.is_empty() => ValueKind::Subquery,
                _ => ValueKind::Expression,
            })
        }
    }
}

/// Column references in an expression (qualifier, column, as written), not
/// descending into subqueries, which are collected separately.
fn collect_refs(
    e: &Expr,
    refs: &mut Vec<(Option<String>, String, String)>,
    subqueries: &mut Vec<Query>,
) {
    let mut expr = e.clone();
    // Subqueries are analyzed by the caller at their own level; replace
    // them here so the walk below does not see their columns.
    let _ = visit_expressions_mut(&mut expr, |x| {
        match x {
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => {
                subqueries.push((**q).clone());
                *x = Expr::value(Value::Null);
            }
            // ARRAY(SELECT …)
            Expr::Function(f)
                if matches!(f.args, sqlparser::ast::FunctionArguments::Subquery(_)) =>
            {
                if let sqlparser::ast::FunctionArguments::Subquery(q) = &f.args {
                    subqueries.push((**q).clone());
                }
                *x = Expr::value(Value::Null);
            }
            Expr::In {
                expr,
                target: InTarget::Subquery(subquery),
                ..
            } => {
                subqueries.push((**subquery).clone());
                *x = (**expr).clone();
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    let _ = sqlparser::ast::visit_expressions(&expr, |x| {
        match x {
            Expr::Identifier(i) => refs.push((None, ident_name(i), i.to_string())),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let column = ident_name(&parts[parts.len() - 1]);
                let qualifier = ident_name(&parts[parts.len() - 2]);
                let shown = parts
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(".");
                refs.push((Some(qualifier), column, shown));
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Canonical text of an expression over one table, qualifiers removed.
fn expression_text(e: &Expr) -> String {
    let mut expr = e.clone();
    let _ = visit_expressions_mut(&mut expr, |x| {
        if let Expr::CompoundIdentifier(parts) = x
            && let Some(last) = parts.last().cloned()
        {
            *x = Expr::Identifier(last);
        }
        ControlFlow::<()>::Continue(())
    });
    canonicalize(&mut expr);
    expr.to_string()
}

fn comparison_op(op: &BinaryOperator) -> Option<PredicateOp> {
    Some(match op {
        BinaryOperator::Eq => PredicateOp::Eq,
        BinaryOperator::NotEq => PredicateOp::NotEq,
        BinaryOperator::Lt => PredicateOp::Lt,
        BinaryOperator::LtEq => PredicateOp::Le,
        BinaryOperator::Gt => PredicateOp::Gt,
        BinaryOperator::GtEq => PredicateOp::Ge,
        BinaryOperator::AtArrow => PredicateOp::Contains,
        BinaryOperator::ArrowAt => PredicateOp::ContainedBy,
        BinaryOperator::PGOverlap => PredicateOp::Overlaps,
        BinaryOperator::Question | BinaryOperator::QuestionAnd | BinaryOperator::QuestionPipe => {
            PredicateOp::HasKey
        }
        BinaryOperator::AtAt => PredicateOp::TextSearch,
        BinaryOperator::PGRegexMatch
        | BinaryOperator::PGRegexIMatch
        | BinaryOperator::PGRegexNotMatch
        | BinaryOperator::PGRegexNotIMatch => PredicateOp::Regex,
        BinaryOperator::PGLikeMatch | BinaryOperator::PGNotLikeMatch => PredicateOp::Like,
        BinaryOperator::PGILikeMatch | BinaryOperator::PGNotILikeMatch => PredicateOp::InfixLike,
        BinaryOperator::PGStartsWith => PredicateOp::PrefixLike,
        _ => return None,
    })
}

/// The same predicate seen from the other side (`$1 < a` is `a > $1`).
fn flip(op: PredicateOp) -> PredicateOp {
    match op {
        PredicateOp::Lt => PredicateOp::Gt,
        PredicateOp::Le => PredicateOp::Ge,
        PredicateOp::Gt => PredicateOp::Lt,
        PredicateOp::Ge => PredicateOp::Le,
        PredicateOp::Contains => PredicateOp::ContainedBy,
        PredicateOp::ContainedBy => PredicateOp::Contains,
        other => other,
    }
}

/// Aggregate functions PostgreSQL ships (the ones queries use).
const AGGREGATES: &[&str] = &[
    "array_agg",
    "avg",
    "bit_and",
    "bit_or",
    "bool_and",
    "bool_or",
    "count",
    "every",
    "json_agg",
    "json_object_agg",
    "jsonb_agg",
    "jsonb_object_agg",
    "max",
    "min",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "string_agg",
    "sum",
    "var_pop",
    "var_samp",
    "variance",
    "xmlagg",
];

/// Whether an expression holds an aggregate or a window function.
fn contains_aggregate(e: &Expr) -> bool {
    let found = sqlparser::ast::visit_expressions(e, |x| {
        if let Expr::Function(f) = x {
            let name = f.name.to_string().to_ascii_lowercase();
            let base = name.rsplit('.').next().unwrap_or("");
            if f.over.is_some() || AGGREGATES.contains(&base) {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found.is_break()
}

/// The first operand of `a || b || c`.
fn leftmost_concat(e: &Expr) -> &Expr {
    match strip_nested(e) {
        Expr::BinaryOp {
            op: BinaryOperator::StringConcat,
            left,
            ..
        } => leftmost_concat(left),
        other => other,
    }
}

fn is_wildcard_literal(e: &Expr) -> bool {
    matches!(
        strip_nested(e),
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s),
            ..
        }) if s.starts_with('%') || s.starts_with('_')
    )
}

fn alias_parts(alias: Option<&sqlparser::ast::TableAlias>) -> (String, Vec<String>) {
    match alias {
        Some(a) => (
            ident_name(&a.name),
            a.columns.iter().map(|c| ident_name(&c.name)).collect(),
        ),
        None => (String::new(), Vec::new()),
    }
}

/// Column aliases of a derived table rename its output columns in order.
fn rename(columns: &mut [DerivedColumn], names: &[String]) {
    for (c, n) in columns.iter_mut().zip(names) {
        c.name = n.clone();
    }
}

/// The name PostgreSQL gives an unnamed output column.
fn output_name(e: &Expr) -> String {
    match strip_nested(e) {
        Expr::Identifier(i) => ident_name(i),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident_name).unwrap_or_default(),
        Expr::Function(f) => f
            .name
            .0
            .last()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => ident_name(i),
                other => other.to_string(),
            })
            .unwrap_or_default(),
        Expr::Cast { expr, .. } => output_name(expr),
        _ => "?column?".to_string(),
    }
}

/// ORDER BY may name an output column by position (`ORDER BY 2`) or alias.
fn resolve_output_reference<'a>(e: &'a Expr, select: &'a Select) -> &'a Expr {
    match e {
        Expr::Value(ValueWithSpan {
            value: Value::Number(n, _),
            ..
        }) => {
            if let Ok(pos) = n.parse::<usize>()
                && let Some(item) = select.projection.get(pos.wrapping_sub(1))
            {
                return match item {
                    SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. } => x,
                    _ => e,
                };
            }
            e
        }
        Expr::Identifier(i) => {
            let name = ident_name(i);
            for item in &select.projection {
                if let SelectItem::ExprWithAlias { expr, alias } = item
                    && ident_name(alias) == name
                    && !matches!(expr, Expr::Identifier(_))
                {
                    return expr;
                }
            }
            e
        }
        _ => e,
    }
}

fn limit_offset(q: &Query) -> (bool, bool) {
    let (mut limit, offset) = match &q.limit_clause {
        Some(LimitClause::LimitOffset { limit, offset, .. }) => (limit.is_some(), offset.is_some()),
        Some(LimitClause::OffsetCommaLimit { .. }) => (true, true),
        None => (false, false),
    };
    if q.fetch.is_some() {
        limit = true;
    }
    // LIMIT ALL is no limit.
    if let Some(LimitClause::LimitOffset {
        limit: Some(Expr::Value(ValueWithSpan {
            value: Value::Null, ..
        })),
        ..
    }) = &q.limit_clause
    {
        limit = false;
    }
    (limit, offset)
}
