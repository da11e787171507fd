//! Candidate indexes, per table, from the statements' shapes: equality
//! columns first, then one range column or the ORDER BY in its direction;
//! join keys; partial indexes for constant predicates; expression keys;
//! INCLUDE columns for index-only scans; and every prefix of those, so
//! selection can start narrow and widen. Needs only a GIN or trigram index
//! can serve are kept apart: HypoPG cannot cost them.

use super::queries::WorkloadQuery;
use super::spec::{IndexSpec, KeySpec};
use crate::catalog::{Catalog, Relation};
use crate::shape::{Operand, PredicateOp, TableAccess, ValueKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How many columns a covering index may INCLUDE.
const MAX_INCLUDE: usize = 3;

/// A btree proposal that will be costed.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub spec: IndexSpec,
    /// Queries (indexes into the query list) that reference the leading key
    /// on this table: only their plans can change with this index.
    pub relevant: Vec<usize>,
    /// Queries whose access pattern produced it (the "why").
    pub sources: BTreeSet<usize>,
    /// A whole proposal of some access pattern, not only a prefix of one.
    pub whole: bool,
}

/// A need only a non-btree index serves.
#[derive(Clone, Debug, Serialize)]
pub struct NonBtreeNeed {
    pub spec: IndexSpec,
    /// What the queries do (`jsonb @>`, `LIKE '%x%'`…).
    pub reason: String,
    /// An extension the index needs (pg_trgm), when one does.
    pub extension: Option<&'static str>,
    #[serde(skip)]
    pub queries: BTreeSet<usize>,
}

/// A proposal an existing index already serves.
#[derive(Clone, Debug, Serialize)]
pub struct AlreadyServed {
    pub spec: IndexSpec,
    pub existing_index: String,
}

#[derive(Clone, Debug, Default)]
pub struct CandidateSet {
    pub candidates: Vec<Candidate>,
    pub not_costed: Vec<NonBtreeNeed>,
    pub already_served: Vec<AlreadyServed>,
}

/// Builds the candidate set for the costed queries.
pub fn generate(queries: &[WorkloadQuery], catalog: &Catalog, max_columns: usize) -> CandidateSet {
    let max_columns = max_columns.max(1);
    let mut proposals: BTreeMap<IndexSpec, (BTreeSet<usize>, bool)> = BTreeMap::new();
    let mut non_btree: BTreeMap<IndexSpec, NonBtreeNeed> = BTreeMap::new();
    for (qi, query) in queries.iter().enumerate() {
        for access in &query.shape.tables {
            let Some(rel) = indexable(access, catalog) else {
                continue;
            };
            for spec in access_candidates(access, rel, max_columns) {
                // Every prefix too: the narrow start of the widening search.
                for len in 1..=spec.keys.len() {
                    let mut prefix = spec.clone();
                    prefix.keys.truncate(len);
                    if len < spec.keys.len() {
                        prefix.include.clear();
                    }
                    let entry = proposals.entry(prefix).or_default();
                    entry.0.insert(qi);
                    entry.1 |= len == spec.keys.len();
                }
            }
            for need in non_btree_needs(access, rel) {
                non_btree
                    .entry(need.spec.clone())
                    .or_insert(need)
                    .queries
                    .insert(qi);
            }
        }
    }
    let mut set = CandidateSet::default();
    for (spec, (sources, whole)) in proposals {
        let rel = catalog
            .get(&spec.table)
            .expect("proposals are on known tables");
        if let Some(existing) = rel.indexes.iter().find(|i| spec.served_by(i)) {
            set.already_served.push(AlreadyServed {
                spec,
                existing_index: existing.name.clone(),
            });
            continue;
        }
        let relevant = relevant_queries(&spec, queries);
        set.candidates.push(Candidate {
            spec,
            relevant,
            sources,
            whole,
        });
    }
    set.not_costed = non_btree
        .into_values()
        .filter(|need| {
            let rel = catalog.get(&need.spec.table).expect("known table");
            !rel.indexes.iter().any(|i| {
                i.valid
                    && i.method == need.spec.method
                    && i.keys.first().map(|k| &k.text) == need.spec.keys.first().map(|k| &k.text)
            })
        })
        .collect();
    set
}

/// The relation behind an access when an index can be built on it.
fn indexable<'a>(access: &TableAccess, catalog: &'a Catalog) -> Option<&'a Relation> {
    if !access.known || access.system {
        return None;
    }
    catalog.get(&access.table).filter(|r| r.kind.indexable())
}

/// A key for an operand: a column, or an expression without parameters
/// (an expression over `$1` cannot be an index key).
fn key_for(operand: &Operand) -> Option<KeySpec> {
    match operand {
        Operand::Column { name } => Some(KeySpec::column(name)),
        Operand::Expression { text, .. } if !text.contains('$') => Some(KeySpec::expression(text)),
        Operand::Expression { .. } => None,
    }
}

/// Distinct values of a column as a count (for ordering equality keys:
/// the most selective first).
fn distinct_values(rel: &Relation, operand: &Operand) -> f64 {
    let Operand::Column { name } = operand else {
        return 0.0;
    };
    let Some(stats) = rel.column(name).and_then(|c| c.stats) else {
        return 0.0;
    };
    if stats.n_distinct >= 0.0 {
        stats.n_distinct
    } else {
        let rows = rel.stats.map_or(1.0, |s| s.row_estimate.max(1.0));
        -stats.n_distinct * rows
    }
}

fn is_equality(op: PredicateOp) -> bool {
    matches!(op, PredicateOp::Eq | PredicateOp::In | PredicateOp::AnyEq)
}

fn is_range(op: PredicateOp) -> bool {
    matches!(
        op,
        PredicateOp::Lt
            | PredicateOp::Le
            | PredicateOp::Gt
            | PredicateOp::Ge
            | PredicateOp::Between
    )
}

/// The constant predicate a partial index can carry (`deleted_at IS NULL`).
fn partial_predicate(op: PredicateOp, operand: &Operand) -> Option<String> {
    let text = match operand {
        Operand::Column { name } => crate::catalog::quote_ident(name),
        Operand::Expression { text, .. } if !text.contains('$') => format!("({text})"),
        Operand::Expression { .. } => return None,
    };
    Some(match op {
        PredicateOp::IsNull => format!("{text} IS NULL"),
        PredicateOp::IsNotNull => format!("{text} IS NOT NULL"),
        PredicateOp::IsTrue => text,
        PredicateOp::IsFalse => format!("NOT {text}"),
        _ => return None,
    })
}

/// The btree proposals one statement's access to one table suggests.
fn access_candidates(access: &TableAccess, rel: &Relation, max_columns: usize) -> Vec<IndexSpec> {
    let usable = access
        .filters
        .iter()
        .filter(|f| !f.under_or && !f.under_not);
    let mut equality: Vec<(&Operand, f64)> = Vec::new();
    let mut range: Option<KeySpec> = None;
    let mut constants: Vec<String> = Vec::new();
    let mut keyset: Vec<KeySpec> = Vec::new();
    for f in usable {
        if is_equality(f.op) && f.value != ValueKind::None {
            if !equality.iter().any(|(o, _)| *o == &f.operand) {
                equality.push((&f.operand, distinct_values(rel, &f.operand)));
            }
        } else if is_range(f.op) && range.is_none() {
            range = key_for(&f.operand);
        } else if f.op == PredicateOp::PrefixLike && range.is_none() {
            range = key_for(&f.operand).map(|mut k| {
                k.opclass = pattern_opclass(rel, &f.operand);
                k
            });
        } else if f.op == PredicateOp::RowCompare && keyset.is_empty() {
            keyset = std::iter::once(&f.operand)
                .chain(&f.row)
                .filter_map(key_for)
                .collect();
        } else if let Some(p) = partial_predicate(f.op, &f.operand) {
            constants.push(p);
        }
    }
    // Most selective equality first; ties keep the written order.
    equality.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    let eq_keys: Vec<KeySpec> = equality.iter().filter_map(|(o, _)| key_for(o)).collect();
    let sort_keys: Vec<KeySpec> = access
        .order_by
        .iter()
        .map(|s| {
            key_for(&s.operand).map(|mut k| {
                k.descending = s.descending;
                k.nulls_first = s.nulls_first.filter(|nf| *nf != s.descending);
                k
            })
        })
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    let group_keys: Vec<KeySpec> = access
        .group_by
        .iter()
        .chain(&access.distinct_on)
        .filter_map(key_for)
        .collect();

    let mut shapes: Vec<Vec<KeySpec>> = Vec::new();
    let push = |shapes: &mut Vec<Vec<KeySpec>>, keys: Vec<KeySpec>| {
        let mut seen = BTreeSet::new();
        let mut keys: Vec<KeySpec> = keys
            .into_iter()
            .filter(|k| seen.insert(k.text.clone()))
            .collect();
        keys.truncate(max_columns);
        if !keys.is_empty() && !shapes.contains(&keys) {
            shapes.push(keys);
        }
    };
    push(
        &mut shapes,
        eq_keys.iter().cloned().chain(range.clone()).collect(),
    );
    if !sort_keys.is_empty() {
        push(
            &mut shapes,
            eq_keys
                .iter()
                .cloned()
                .chain(sort_keys.iter().cloned())
                .collect(),
        );
    }
    if !keyset.is_empty() {
        push(
            &mut shapes,
            eq_keys
                .iter()
                .cloned()
                .chain(keyset.iter().cloned())
                .collect(),
        );
    }
    if sort_keys.is_empty() && !group_keys.is_empty() {
        push(
            &mut shapes,
            eq_keys
                .iter()
                .cloned()
                .chain(group_keys.iter().cloned())
                .collect(),
        );
    }
    for join in &access.joins {
        if let Some(key) = key_for(&join.operand) {
            push(&mut shapes, vec![key.clone()]);
            if !eq_keys.is_empty() {
                push(
                    &mut shapes,
                    eq_keys
                        .iter()
                        .cloned()
                        .chain(std::iter::once(key))
                        .collect(),
                );
            }
        }
    }

    let predicate = (!constants.is_empty()).then(|| {
        constants.sort();
        constants.dedup();
        crate::catalog::expr::canonical(&constants.join(" AND "))
    });
    let include = covering_columns(access, rel);
    let mut out = Vec::new();
    for keys in shapes {
        let plain = IndexSpec::btree(rel.name.clone(), keys);
        if let Some(p) = &predicate {
            let mut partial = plain.clone();
            partial.predicate = Some(p.clone());
            // The predicate's columns need not be keys any more.
            partial.keys.retain(|k| !super::spec::mentions(p, &k.text));
            if !partial.keys.is_empty() {
                out.push(partial);
            }
        }
        if let Some(cols) = &include {
            let extra: Vec<String> = cols
                .iter()
                .filter(|c| !plain.keys.iter().any(|k| &k.text == *c))
                .cloned()
                .collect();
            if !extra.is_empty() && extra.len() <= MAX_INCLUDE {
                let mut covering = plain.clone();
                covering.include = extra;
                out.push(covering);
            }
        }
        out.push(plain);
    }
    out
}

/// The columns a read-only statement reads from the table, when few enough
/// that an index could carry them all (an index-only scan).
fn covering_columns(access: &TableAccess, rel: &Relation) -> Option<Vec<String>> {
    use crate::shape::AccessKind;
    if access.reads_all_columns
        || access.kinds.iter().any(|k| *k != AccessKind::Read)
        || access.columns_read.is_empty()
    {
        return None;
    }
    let cols: Vec<String> = access
        .columns_read
        .iter()
        .filter(|c| rel.column(c).is_some())
        .cloned()
        .collect();
    (cols.len() == access.columns_read.len()).then_some(cols)
}

/// `text_pattern_ops` / `varchar_pattern_ops` for LIKE 'abc%' on a
/// text column (needed unless the column's collation is C).
fn pattern_opclass(rel: &Relation, operand: &Operand) -> Option<String> {
    let Operand::Column { name } = operand else {
        return Some("text_pattern_ops".to_string());
    };
    let data_type = rel.column(name).map(|c| c.data_type.as_str()).unwrap_or("");
    if data_type.starts_with("character varying") {
        Some("varchar_pattern_ops".to_string())
    } else if data_type.starts_with("character") {
        Some("bpchar_pattern_ops".to_string())
    } else {
        Some("text_pattern_ops".to_string())
    }
}

/// Needs only GIN (jsonb/array containment, full text) or a trigram index
/// (`LIKE '%x%'`, regular expressions) can serve.
fn non_btree_needs(access: &TableAccess, rel: &Relation) -> Vec<NonBtreeNeed> {
    let mut out = Vec::new();
    for f in access.filters.iter().filter(|f| !f.under_not) {
        let Some(mut key) = key_for(&f.operand) else {
            continue;
        };
        let data_type = match &f.operand {
            Operand::Column { name } => rel.column(name).map(|c| c.data_type.clone()),
            Operand::Expression { .. } => None,
        }
        .unwrap_or_default();
        let (reason, extension) = match f.op {
            PredicateOp::Contains
            | PredicateOp::ContainedBy
            | PredicateOp::Overlaps
            | PredicateOp::HasKey => {
                let what = if data_type.ends_with("[]") {
                    "array"
                } else {
                    "jsonb"
                };
                (
                    format!("{what} {} filter", crate::shape::usage::op_name(f.op)),
                    None,
                )
            }
            PredicateOp::TextSearch => ("full-text search (@@)".to_string(), None),
            PredicateOp::InfixLike | PredicateOp::Regex => {
                key.opclass = Some("gin_trgm_ops".to_string());
                (
                    format!("{} filter", crate::shape::usage::op_name(f.op)),
                    Some("pg_trgm"),
                )
            }
            _ => continue,
        };
        let mut spec = IndexSpec::btree(rel.name.clone(), vec![key]);
        spec.method = "gin".to_string();
        out.push(NonBtreeNeed {
            spec,
            reason,
            extension,
            queries: BTreeSet::new(),
        });
    }
    out
}

/// Queries that reference a proposal's leading key on its table — by
/// filter, join, sort, grouping or DISTINCT ON. No other plan can use it.
pub fn relevant_queries(spec: &IndexSpec, queries: &[WorkloadQuery]) -> Vec<usize> {
    let Some(lead) = spec.keys.first() else {
        return Vec::new();
    };
    let matches = |o: &Operand| match o {
        Operand::Column { name } => !lead.is_expression && name == &lead.text,
        Operand::Expression { text, .. } => lead.is_expression && text == &lead.text,
    };
    queries
        .iter()
        .enumerate()
        .filter(|(_, q)| {
            q.shape.tables.iter().any(|a| {
                a.table == spec.table
                    && (a
                        .filters
                        .iter()
                        .any(|f| matches(&f.operand) || f.row.iter().any(&matches))
                        || a.joins.iter().any(|j| matches(&j.operand))
                        || a.order_by.iter().any(|s| matches(&s.operand))
                        || a.group_by.iter().any(&matches)
                        || a.distinct_on.iter().any(&matches))
            })
        })
        .map(|(i, _)| i)
        .collect()
}
