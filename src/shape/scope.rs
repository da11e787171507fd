//! Name scopes of a statement: which tables (base tables, CTEs, subqueries,
//! views) are visible under which names at each query level, and binding a
//! column reference to one of them through the catalog — or reporting it as
//! unknown or ambiguous, never guessing.

use super::Operand;
use crate::catalog::QualifiedName;

/// Where a derived table's output column comes from.
#[derive(Clone, Debug)]
pub struct DerivedColumn {
    pub name: String,
    /// A base table column it passes through unchanged, if it does.
    pub origin: Option<(QualifiedName, Operand)>,
}

#[derive(Clone, Debug)]
pub enum SourceKind {
    /// A base table; `columns` from the catalog, `None` when the catalog
    /// does not know the table.
    Base {
        table: QualifiedName,
        columns: Option<Vec<String>>,
    },
    /// A CTE, subquery in FROM, or expanded view.
    Derived { columns: Vec<DerivedColumn> },
    /// A function in FROM whose columns are not known: `column` is the one
    /// a scalar function would have; any other name binds as computed.
    Opaque { column: String },
}

/// A table visible in a scope under `name` (its alias, or its own name).
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    /// Only reachable qualified (EXCLUDED in ON CONFLICT DO UPDATE).
    pub qualified_only: bool,
}

/// One query level's sources; outer levels are searched for correlation.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub sources: Vec<Source>,
    /// Columns merged by `JOIN … USING (col)`: an unqualified reference is
    /// the merged column (taken from the left side's source at this index),
    /// not an ambiguity.
    pub using: Vec<(String, usize)>,
}

impl Scope {
    /// Records a USING column, found in one of the first `before` sources.
    pub fn merge_using(&mut self, column: &str, before: usize) {
        if let Some(idx) = self.sources[..before.min(self.sources.len())]
            .iter()
            .position(|s| bind_in(s, column, 0).is_some())
        {
            self.using.push((column.to_string(), idx));
        }
    }
}

/// The result of binding a column reference.
#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    /// A base table column (directly, or through a derived column that
    /// passes it through). `depth` is 0 for the current level, more for
    /// outer levels (a correlated reference).
    Base {
        table: QualifiedName,
        operand: Operand,
        depth: usize,
    },
    /// A computed column of a derived table: not attributable to a table.
    Computed,
    Unknown,
    Ambiguous(Vec<String>),
    UnknownQualifier,
}

/// Binds `column` (optionally qualified by `qualifier`) against the scopes,
/// innermost last.
pub fn bind(scopes: &[Scope], qualifier: Option<&str>, column: &str) -> Binding {
    for (depth, scope) in scopes.iter().rev().enumerate() {
        match qualifier {
            Some(q) => {
                if let Some(source) = scope.sources.iter().rev().find(|s| s.name == q) {
                    return bind_in(source, column, depth).unwrap_or(Binding::Unknown);
                }
            }
            None => {
                if let Some(&(_, idx)) = scope.using.iter().find(|(c, _)| c == column)
                    && let Some(b) = bind_in(&scope.sources[idx], column, depth)
                {
                    return b;
                }
                let mut found: Vec<Binding> = Vec::new();
                let mut names: Vec<String> = Vec::new();
                let mut unknown_tables = 0usize;
                let mut unknowable = 0usize;
                for source in scope.sources.iter().filter(|s| !s.qualified_only) {
                    match &source.kind {
                        // System catalogs and record-returning functions:
                        // their columns are not known, and not worth binding.
                        SourceKind::Base {
                            table,
                            columns: None,
                        } if crate::shape::is_system_schema(&table.schema) => unknowable += 1,
                        SourceKind::Opaque { column: c } if c != column => unknowable += 1,
                        SourceKind::Base { columns: None, .. } => unknown_tables += 1,
                        _ => {
                            if let Some(b) = bind_in(source, column, depth) {
                                found.push(b);
                                names.push(source.name.clone());
                            }
                        }
                    }
                }
                match found.len() {
                    1 if unknown_tables == 0 => return found.remove(0),
                    0 if unknown_tables == 0 && unknowable > 0 => return Binding::Computed,
                    // `json_agg(u)`: a table's name alone is its whole row.
                    0 if unknown_tables == 0 && scope.sources.iter().any(|s| s.name == column) => {
                        return Binding::Computed;
                    }
                    0 if unknown_tables == 0 => continue,
                    0 if unknown_tables == 1 && scope.sources.len() == 1 => {
                        // The only table in scope, not in the catalog: the
                        // column can belong to nothing else.
                        if let SourceKind::Base { table, .. } = &scope.sources[0].kind {
                            return Binding::Base {
                                table: table.clone(),
                                operand: Operand::Column {
                                    name: column.to_string(),
                                },
                                depth,
                            };
                        }
                        return Binding::Unknown;
                    }
                    0 | 1 => return Binding::Unknown,
                    _ => return Binding::Ambiguous(names),
                }
            }
        }
    }
    if qualifier.is_some() {
        Binding::UnknownQualifier
    } else {
        Binding::Unknown
    }
}

/// Columns every table has.
const SYSTEM_COLUMNS: &[&str] = &["ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "oid"];

fn bind_in(source: &Source, column: &str, depth: usize) -> Option<Binding> {
    match &source.kind {
        SourceKind::Opaque { .. } => Some(Binding::Computed),
        SourceKind::Base { table, columns } => {
            let known = columns
                .as_ref()
                .is_none_or(|c| c.iter().any(|x| x == column) || SYSTEM_COLUMNS.contains(&column));
            known.then(|| Binding::Base {
                table: table.clone(),
                operand: Operand::Column {
                    name: column.to_string(),
                },
                depth,
            })
        }
        SourceKind::Derived { columns } => {
            let c = columns.iter().find(|c| c.name == column)?;
            Some(match &c.origin {
                Some((table, operand)) => Binding::Base {
                    table: table.clone(),
                    operand: operand.clone(),
                    depth,
                },
                None => Binding::Computed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(name: &str, table: &str, cols: Option<&[&str]>) -> Source {
        Source {
            qualified_only: false,
            name: name.to_string(),
            kind: SourceKind::Base {
                table: QualifiedName::new("public", table),
                columns: cols.map(|c| c.iter().map(|s| s.to_string()).collect()),
            },
        }
    }

    #[test]
    fn binding_rules() {
        let outer = Scope {
            sources: vec![base("u", "users", Some(&["id", "email"]))],
            using: Vec::new(),
        };
        let inner = Scope {
            sources: vec![
                base("o", "orders", Some(&["id", "user_id"])),
                base("i", "items", Some(&["id", "order_id"])),
            ],
            using: Vec::new(),
        };
        let scopes = [outer, inner];
        assert!(matches!(
            bind(&scopes, Some("o"), "user_id"),
            Binding::Base { depth: 0, .. }
        ));
        assert!(matches!(
            bind(&scopes, None, "order_id"),
            Binding::Base { depth: 0, .. }
        ));
        assert_eq!(
            bind(&scopes, None, "id"),
            Binding::Ambiguous(vec!["o".into(), "i".into()])
        );
        // Correlated: only the outer level has email.
        assert!(matches!(
            bind(&scopes, None, "email"),
            Binding::Base { depth: 1, .. }
        ));
        assert_eq!(bind(&scopes, None, "nope"), Binding::Unknown);
        assert_eq!(bind(&scopes, Some("x"), "id"), Binding::UnknownQualifier);
        assert_eq!(bind(&scopes, Some("o"), "email"), Binding::Unknown);
    }
}
