//! Indexes worth dropping: duplicates (same keys as another index),
//! prefix-covered ones (their keys lead another index of the same kind)
//! and unused ones (no scans since statistics were reset). Never an index
//! that enforces a constraint or uniqueness. Whether dropping hurts the
//! workload is checked elsewhere (what-if), this only finds them.

use super::report::DropReason;
use crate::catalog::{Catalog, Index, QualifiedName, Relation};

#[derive(Clone, Debug, PartialEq)]
pub struct DropCandidate {
    pub table: QualifiedName,
    /// The index, schema-qualified (indexes live in their table's schema).
    pub index: QualifiedName,
    pub reason: DropReason,
    pub covered_by: Option<String>,
    pub size_bytes: Option<i64>,
    pub scans: Option<i64>,
}

/// Finds drop candidates on every table. `unused_min_bytes` keeps small
/// unused indexes out of the list (they cost little); unused advice needs
/// live statistics.
pub fn drop_candidates(catalog: &Catalog, unused_min_bytes: i64) -> Vec<DropCandidate> {
    let mut out = Vec::new();
    for rel in catalog.relations.values() {
        for index in rel.indexes.iter().filter(|i| droppable(i)) {
            if let Some((reason, by)) = covered(index, rel) {
                out.push(candidate(rel, index, reason, Some(by.name.clone())));
            } else if index.scans == Some(0) && index.size_bytes.unwrap_or(0) >= unused_min_bytes {
                out.push(candidate(rel, index, DropReason::Unused, None));
            }
        }
    }
    out
}

fn candidate(
    rel: &Relation,
    index: &Index,
    reason: DropReason,
    covered_by: Option<String>,
) -> DropCandidate {
    DropCandidate {
        table: rel.name.clone(),
        index: QualifiedName::new(rel.name.schema.clone(), index.name.clone()),
        reason,
        covered_by,
        size_bytes: index.size_bytes,
        scans: index.scans,
    }
}

/// Dropping it changes no constraint and no uniqueness.
fn droppable(index: &Index) -> bool {
    index.valid && !index.unique && !index.primary && !index.backs_constraint
}

/// Another valid index of the same method and predicate that gives all
/// this one gives: the same keys (a duplicate; of two plain duplicates the
/// one with fewer scans goes, on a tie the later name), or these keys as
/// its leading prefix.
fn covered<'a>(index: &Index, rel: &'a Relation) -> Option<(DropReason, &'a Index)> {
    let mut prefix_of = None;
    for other in rel.indexes.iter() {
        if other.name == index.name
            || !other.valid
            || other.method != index.method
            || other.predicate != index.predicate
            || other.keys.len() < index.keys.len()
        {
            continue;
        }
        if !index.keys.iter().zip(&other.keys).all(|(a, b)| a == b) {
            continue;
        }
        // A covering (INCLUDE) index is not a duplicate unless the other
        // carries those columns too.
        let carries = index.include.iter().all(|c| {
            other.include.contains(c) || other.keys.iter().any(|k| !k.is_expression && &k.text == c)
        });
        if !carries {
            continue;
        }
        if other.keys.len() == index.keys.len() {
            let other_kept = !droppable(other)
                || other.scans > index.scans
                || (other.scans == index.scans && other.name < index.name);
            if other_kept && other.include.len() >= index.include.len() {
                return Some((DropReason::Duplicate, other));
            }
        } else if index.method == "btree" && prefix_of.is_none() {
            prefix_of = Some(other);
        }
    }
    prefix_of.map(|o| (DropReason::PrefixCovered, o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{catalog_with as catalog, index};

    #[test]
    fn finds_duplicates_prefixes_and_unused() {
        let mut pk = index("t_pkey", &["id"]);
        pk.primary = true;
        pk.unique = true;
        pk.backs_constraint = true;
        let mut unused = index("t_c_idx", &["c"]);
        unused.scans = Some(0);
        let found = drop_candidates(
            &catalog(vec![
                pk,
                index("t_a_idx", &["a"]),
                index("t_a_b_idx", &["a", "b"]),
                index("t_b_idx", &["b"]),
                index("t_b_idx2", &["b"]),
                unused,
            ]),
            1 << 20,
        );
        let summary: Vec<(String, DropReason, Option<String>)> = found
            .iter()
            .map(|d| (d.index.name.clone(), d.reason, d.covered_by.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "t_a_idx".into(),
                    DropReason::PrefixCovered,
                    Some("t_a_b_idx".into())
                ),
                (
                    "t_b_idx2".into(),
                    DropReason::Duplicate,
                    Some("t_b_idx".into())
                ),
                ("t_c_idx".into(), DropReason::Unused, None),
            ]
        );
    }

    #[test]
    fn covering_unique_and_partial_indexes_are_kept() {
        let mut covering = index("t_a_incl", &["a"]);
        covering.include = vec!["z".into()];
        let mut unique = index("t_a_uniq", &["a"]);
        unique.unique = true;
        let mut partial = index("t_a_part", &["a"]);
        partial.predicate = Some("deleted_at IS NULL".into());
        let found = drop_candidates(
            &catalog(vec![
                covering,
                unique,
                partial,
                index("t_a_b_idx", &["a", "b"]),
            ]),
            1 << 20,
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
