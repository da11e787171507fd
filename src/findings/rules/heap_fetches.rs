//! `heap-fetches`: an index-only scan visited the table for many of its
//! rows. It may skip the table only for pages the visibility map marks
//! all-visible, and only VACUUM sets those marks: a table changed since
//! its last vacuum turns index-only scans into index scans.
//!
//! `Heap Fetches` is the total over the loops; it is compared with the rows
//! returned over the loops.

use crate::findings::advice::{count, percent, relation_sql};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};

pub struct HeapFetches;

const ID: &str = "heap-fetches";

impl Rule for HeapFetches {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding> {
        let Some(explain) = ctx.plan() else {
            return Vec::new();
        };
        let walk = explain.nodes();
        walk.iter()
            .filter_map(|n| {
                let node = n.node;
                let fetches = node.heap_fetches?;
                let rows = node.total_actual_rows()?;
                let share = fetches / rows.max(1.0);
                if fetches < t.heap_fetches_min_fetches || share < t.heap_fetches_min_share {
                    return None;
                }
                let table = relation_sql(node)?;
                let vacuum = format!("VACUUM (ANALYZE) {table};");
                let message = format!(
                    "{} fetched {} rows from the table for {} rows returned ({}): the visibility map is not current",
                    node.label(),
                    count(fetches),
                    count(rows),
                    percent(share.min(1.0)),
                );
                let advice = format!(
                    "Vacuum the table so its pages are marked all-visible and the scan can answer from the index \
                     alone: {vacuum} If this comes back, autovacuum does not keep up with the table's changes: for an \
                     insert-mostly table lower autovacuum_vacuum_insert_scale_factor, otherwise \
                     autovacuum_vacuum_scale_factor (ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.02))."
                );
                Some(
                    Finding::new(ID, Severity::Warning, message, advice)
                        .at(node)
                        .evidence("heap_fetches", fetches)
                        .evidence("rows", rows)
                        .evidence("fetch_share", share)
                        .fix_sql(Some(vacuum)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, only};

    #[test]
    fn an_unvacuumed_table_gets_vacuum() {
        let f = only(&HeapFetches, &["heap_fetches"]);
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.node.as_deref(),
            Some("Index Only Scan using measurements_v on measurements")
        );
        assert_eq!(
            f.fix_sql.as_deref(),
            Some("VACUUM (ANALYZE) \"measurements\";")
        );
        assert_eq!(f.evidence["fetch_share"], serde_json::json!(1));
        assert!(f.evidence["heap_fetches"].as_f64().unwrap() > 100_000.0);
    }

    #[test]
    fn thresholds_apply() {
        assert!(
            check_with(
                &HeapFetches,
                &["heap_fetches"],
                "heap-fetches.min_fetches=1e6"
            )
            .is_empty()
        );
    }

    #[test]
    fn other_scans_are_fine() {
        assert_silent_on_clean(&HeapFetches);
        assert!(check(&HeapFetches, &["lossy_bitmap"]).is_empty());
    }
}
