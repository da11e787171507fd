//! Query shapes: what one statement asks of each table it touches —
//! filters by column or expression and operator, join keys, sort, grouping,
//! DISTINCT, LIMIT/OFFSET and the columns it reads — bound to the catalog.
//! Pure: a statement and a catalog in, a `StatementShape` out.

mod analyze;
pub mod lexical;
mod scope;
pub mod usage;

use crate::catalog::{Catalog, QualifiedName};
use serde::Serialize;
use std::collections::BTreeSet;

/// A column or an expression over the columns of one table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operand {
    Column {
        name: String,
    },
    /// Canonical text without table qualifiers (`lower(email)`,
    /// `data ->> 'kind'`), and the columns it uses.
    Expression {
        text: String,
        columns: Vec<String>,
    },
}

impl Operand {
    pub fn text(&self) -> &str {
        match self {
            Self::Column { name } => name,
            Self::Expression { text, .. } => text,
        }
    }
}

/// What a predicate asks of its operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PredicateOp {
    /// `=`, also `IS NOT DISTINCT FROM`.
    Eq,
    /// `IN (…)`, `IN (SELECT …)`.
    In,
    /// `= ANY(…)`.
    AnyEq,
    Lt,
    Le,
    Gt,
    Ge,
    Between,
    IsNull,
    IsNotNull,
    /// A boolean column (or expression) tested as true: `WHERE active`.
    IsTrue,
    /// … as false: `WHERE NOT archived`.
    IsFalse,
    /// `LIKE 'abc%'`: a btree (text_pattern_ops) can serve it.
    PrefixLike,
    /// `LIKE '%x%'`, `ILIKE`: only a trigram index can.
    InfixLike,
    /// LIKE with a pattern not known from the text (a parameter without a
    /// sample value).
    Like,
    /// `~`, `~*`, `SIMILAR TO`.
    Regex,
    /// `@>` (jsonb or array containment).
    Contains,
    /// `<@`.
    ContainedBy,
    /// `&&`.
    Overlaps,
    /// jsonb `?`, `?|`, `?&`.
    HasKey,
    /// Full text `@@`.
    TextSearch,
    /// `IS DISTINCT FROM`.
    DistinctFrom,
    /// `<>`, `!=`.
    NotEq,
    /// `(a, b) > ($1, $2)`: keyset pagination over several columns.
    RowCompare,
    /// Anything else (`~~*`, custom operators…).
    Other,
}

/// What the other side of a predicate is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// A `$n` parameter (or a constant normalized into one).
    Parameter,
    /// A constant written in the text (kept only for NULL and booleans).
    Constant,
    /// A subquery.
    Subquery,
    /// An expression not tied to a table (`now() - interval '1 day'`).
    Expression,
    /// No other side (`IS NULL`, a bare boolean).
    None,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Predicate {
    pub operand: Operand,
    pub op: PredicateOp,
    pub value: ValueKind,
    /// Under an OR: an index on it alone cannot filter the rows.
    pub under_or: bool,
    /// Under a NOT.
    pub under_not: bool,
    /// For a row comparison, the other columns in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub row: Vec<Operand>,
}

/// How two tables are joined.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct JoinKey {
    pub operand: Operand,
    pub other_table: QualifiedName,
    pub other_operand: Operand,
    /// `on`, `using`, `where` (comma join or correlated subquery).
    pub written_in: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SortKey {
    pub operand: Operand,
    pub descending: bool,
    /// NULLS FIRST/LAST when written.
    pub nulls_first: Option<bool>,
}

/// How a statement uses a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    Read,
    Insert,
    Update,
    Delete,
}

/// Everything one statement asks of one table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableAccess {
    pub table: QualifiedName,
    /// Found in the catalog.
    pub known: bool,
    /// Found only by a lexical scan of a statement that does not parse.
    pub guessed: bool,
    /// A system catalog (pg_catalog, information_schema): not indexable by
    /// users, never reported as unknown.
    pub system: bool,
    pub kinds: BTreeSet<AccessKind>,
    pub filters: Vec<Predicate>,
    pub joins: Vec<JoinKey>,
    pub order_by: Vec<SortKey>,
    pub group_by: Vec<Operand>,
    pub distinct_on: Vec<Operand>,
    pub distinct: bool,
    pub limit: bool,
    pub offset: bool,
    /// Columns read anywhere in the statement (for covering indexes).
    pub columns_read: BTreeSet<String>,
    /// `SELECT *` (or `t.*`) read every column.
    pub reads_all_columns: bool,
    /// Columns an UPDATE sets (they decide HOT updates and index upkeep).
    pub columns_written: BTreeSet<String>,
}

impl TableAccess {
    pub fn new(table: QualifiedName, known: bool) -> Self {
        Self {
            table,
            known,
            guessed: false,
            system: false,
            kinds: BTreeSet::new(),
            filters: Vec::new(),
            joins: Vec::new(),
            order_by: Vec::new(),
            group_by: Vec::new(),
            distinct_on: Vec::new(),
            distinct: false,
            limit: false,
            offset: false,
            columns_read: BTreeSet::new(),
            reads_all_columns: false,
            columns_written: BTreeSet::new(),
        }
    }
}

/// A name that could not be bound, and why. Never guessed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum BindingProblem {
    /// A column no table in scope has.
    UnknownColumn { column: String },
    /// A column several tables in scope have.
    AmbiguousColumn { column: String, tables: Vec<String> },
    /// A table the catalog does not have (its accesses are kept, unbound).
    UnknownTable { table: String },
    /// A qualifier that names no table in scope.
    UnknownQualifier { qualifier: String },
}

impl BindingProblem {
    /// The stable name of the problem's kind (as in JSON).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownColumn { .. } => "unknown_column",
            Self::AmbiguousColumn { .. } => "ambiguous_column",
            Self::UnknownTable { .. } => "unknown_table",
            Self::UnknownQualifier { .. } => "unknown_qualifier",
        }
    }
}

/// The shape of one statement.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StatementShape {
    pub tables: Vec<TableAccess>,
    pub problems: Vec<BindingProblem>,
    /// Why the statement could not be parsed, when it could not.
    pub parse_error: Option<String>,
}

impl StatementShape {
    /// Every column reference was bound to a known table.
    pub fn fully_bound(&self) -> bool {
        self.parse_error.is_none()
            && self.problems.is_empty()
            && self.tables.iter().all(|t| t.known || t.system)
    }
}

/// Schemas of the system catalogs.
pub fn is_system_schema(schema: &str) -> bool {
    matches!(schema, "pg_catalog" | "information_schema" | "pg_toast")
}

/// Parses `sql` (PostgreSQL dialect) and computes its shape. `params` are
/// the values of `$1…` when a sample supplied them (they tell a LIKE prefix
/// pattern from an infix one); they are never recorded.
pub fn analyze_sql(sql: &str, catalog: &Catalog, params: &[Option<String>]) -> StatementShape {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    let parsed = std::panic::catch_unwind(|| Parser::parse_sql(&PostgreSqlDialect {}, sql));
    match parsed {
        Ok(Ok(statements)) => {
            let mut analyzer = analyze::Analyzer::new(catalog, params);
            for statement in &statements {
                analyzer.statement(statement);
            }
            analyzer.finish()
        }
        Ok(Err(e)) => lexical::guess_shape(sql, catalog, e.to_string()),
        Err(_) => lexical::guess_shape(sql, catalog, "the SQL parser failed".to_string()),
    }
}
