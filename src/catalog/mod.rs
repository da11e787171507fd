//! The catalog: tables, columns, indexes and the planner statistics that
//! matter for index selection — one model, filled either from a live
//! database (`db::catalog`) or offline from a schema file (`schema_file`).
//! Names are stored as PostgreSQL stores them: unquoted identifiers folded
//! to lower case, quoted ones exactly as written.

pub mod expr;
pub mod names;
pub mod schema_file;
#[cfg(test)]
pub(crate) mod testing;
pub mod types;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of relation a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    Table,
    PartitionedTable,
    View,
    MaterializedView,
    ForeignTable,
}

impl RelationKind {
    /// From `pg_class.relkind`.
    pub fn from_relkind(relkind: &str) -> Option<Self> {
        Some(match relkind {
            "r" => Self::Table,
            "p" => Self::PartitionedTable,
            "v" => Self::View,
            "m" => Self::MaterializedView,
            "f" => Self::ForeignTable,
            _ => return None,
        })
    }

    /// Whether indexes can be built on it.
    pub fn indexable(self) -> bool {
        matches!(
            self,
            Self::Table | Self::PartitionedTable | Self::MaterializedView
        )
    }
}

/// `schema.name`, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for QualifiedName {
    /// Quoted where PostgreSQL would need quotes, so it can be pasted into SQL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}",
            quote_ident(&self.schema),
            quote_ident(&self.name)
        )
    }
}

/// Quotes an identifier when it is not a plain lower-case name.
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !types::is_reserved_word(name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    /// The type as `format_type()` shows it (`character varying(20)`,
    /// `timestamp with time zone`, `integer[]`).
    pub data_type: String,
    pub not_null: bool,
    /// Planner statistics, when the source has them and the role may see them.
    pub stats: Option<ColumnStats>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ColumnStats {
    /// Fraction of NULLs.
    pub null_frac: f64,
    /// Distinct values: positive = count, negative = minus the fraction of
    /// rows (as in pg_stats).
    pub n_distinct: f64,
}

/// One key of an index: a column or an expression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexKey {
    /// A column name (as stored) or the expression's canonical text
    /// (`catalog::expr::canonical`).
    pub text: String,
    pub is_expression: bool,
    pub descending: bool,
    pub nulls_first: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Index {
    pub name: String,
    /// Access method: btree, hash, gin, gist, brin, spgist.
    pub method: String,
    pub keys: Vec<IndexKey>,
    /// INCLUDE columns.
    pub include: Vec<String>,
    /// Canonical text of the WHERE clause of a partial index.
    pub predicate: Option<String>,
    pub unique: bool,
    pub primary: bool,
    /// False for an index left invalid by a failed CREATE INDEX CONCURRENTLY.
    pub valid: bool,
    /// It enforces a PRIMARY KEY, UNIQUE or EXCLUDE constraint (dropping
    /// it means dropping the constraint).
    pub backs_constraint: bool,
    /// `pg_get_indexdef` (live) or the statement as written (schema file).
    pub definition: String,
    pub size_bytes: Option<i64>,
    /// Index scans since statistics were reset.
    pub scans: Option<i64>,
}

/// Counters and estimates of a table, from pg_class and pg_stat_user_tables.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TableStats {
    /// `reltuples`: the planner's row estimate (-1 when never analyzed).
    pub row_estimate: f64,
    pub size_bytes: i64,
    pub total_size_bytes: i64,
    pub seq_scans: i64,
    pub index_scans: i64,
    pub inserts: i64,
    pub updates: i64,
    pub hot_updates: i64,
    pub deletes: i64,
    pub live_tuples: i64,
    pub dead_tuples: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Relation {
    pub name: QualifiedName,
    pub kind: RelationKind,
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
    /// The defining query of a view or materialized view, when known.
    pub view_definition: Option<String>,
    /// The partitioned table this is a partition of.
    pub partition_of: Option<QualifiedName>,
    pub stats: Option<TableStats>,
}

impl Relation {
    pub fn new(name: QualifiedName, kind: RelationKind) -> Self {
        Self {
            name,
            kind,
            columns: Vec::new(),
            indexes: Vec::new(),
            view_definition: None,
            partition_of: None,
            stats: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Where a catalog came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogSource {
    LiveDatabase,
    SchemaFile,
}

/// All relations pgadvisor may reason about, by qualified name.
#[derive(Clone, Debug, Serialize)]
pub struct Catalog {
    pub source: CatalogSource,
    /// Schemas searched for unqualified names, in order.
    pub search_path: Vec<String>,
    pub relations: BTreeMap<QualifiedName, Relation>,
    /// Things the loader could not read or see (unparsable DDL, statistics
    /// the role may not read), for the report.
    pub notes: Vec<String>,
}

impl Catalog {
    pub fn new(source: CatalogSource) -> Self {
        Self {
            source,
            search_path: vec!["public".to_string()],
            relations: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    pub fn get(&self, name: &QualifiedName) -> Option<&Relation> {
        self.relations.get(name)
    }

    /// Finds a relation by an optional schema and a name, the way the
    /// server would: a qualified name directly, an unqualified one through
    /// the search path.
    pub fn resolve(&self, schema: Option<&str>, name: &str) -> Option<&Relation> {
        match schema {
            Some(s) => self.get(&QualifiedName::new(s, name)),
            None => self
                .search_path
                .iter()
                .find_map(|s| self.get(&QualifiedName::new(s.as_str(), name))),
        }
    }

    pub fn relation_mut(&mut self, name: &QualifiedName) -> Option<&mut Relation> {
        self.relations.get_mut(name)
    }
}
