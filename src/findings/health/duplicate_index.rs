//! `duplicate-index`: an index another index makes redundant — the same
//! keys, or its keys as the leading prefix of a B-tree with the same
//! method, predicate and expressions. A covering (INCLUDE) index is not a
//! duplicate unless the other carries those columns too; indexes that
//! enforce a constraint are never the one to drop. Shares
//! `advisor::drops` with recommend-indexes.

use super::{HealthContext, HealthRule, bytes, sql_name};
use crate::advisor::drops::drop_candidates;
use crate::advisor::report::DropReason;
use crate::findings::{Finding, Severity, Thresholds};

pub struct DuplicateIndex;

const ID: &str = "duplicate-index";

impl HealthRule for DuplicateIndex {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, _t: &Thresholds) -> Vec<Finding> {
        drop_candidates(&ctx.catalog, i64::MAX)
            .into_iter()
            .filter(|d| d.reason != DropReason::Unused)
            .map(|d| {
                let by = d.covered_by.clone().unwrap_or_default();
                let size = d.size_bytes.unwrap_or(0) as f64;
                let (what, reason) = match d.reason {
                    DropReason::Duplicate => ("has the same definition as", "duplicate"),
                    _ => ("is a leading prefix of", "prefix"),
                };
                let drop = format!("DROP INDEX CONCURRENTLY {};", sql_name(&d.index));
                let message = format!(
                    "index {} on {} ({}) {what} {by}",
                    d.index.name,
                    d.table.name,
                    bytes(size)
                );
                let advice = format!(
                    "{by} answers every query {} can; dropping it saves its space and its cost on every write: {drop}",
                    d.index.name
                );
                Finding::new(ID, Severity::Warning, message, advice)
                    .relation(Some(format!("{}.{}", d.index.schema, d.index.name)))
                    .evidence("table", format!("{}.{}", d.table.schema, d.table.name))
                    .evidence("reason", reason)
                    .evidence("covered_by", by)
                    .evidence("size_bytes", size)
                    .evidence("scans", d.scans.unwrap_or(0).max(0) as u64)
                    .fix_sql(Some(drop))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{catalog_with, index};

    #[test]
    fn duplicates_and_prefixes_are_found_covering_ones_are_not() {
        let mut covering = index("t_a_incl", &["a"]);
        covering.include = vec!["z".into()];
        let mut ctx = HealthContext::empty();
        ctx.catalog = catalog_with(vec![
            index("t_b_idx", &["b"]),
            index("t_b_idx2", &["b"]),
            index("t_c_idx", &["c"]),
            index("t_c_d_idx", &["c", "d"]),
            covering,
            index("t_a_b_idx", &["a", "b"]),
        ]);
        let found = DuplicateIndex.check(&ctx, &Thresholds::default());
        let names: Vec<(&str, &serde_json::Value)> = found
            .iter()
            .map(|f| (f.relation.as_deref().unwrap(), &f.evidence["reason"]))
            .collect();
        assert_eq!(
            names,
            vec![
                ("public.t_b_idx2", &serde_json::json!("duplicate")),
                ("public.t_c_idx", &serde_json::json!("prefix")),
            ]
        );
    }
}
