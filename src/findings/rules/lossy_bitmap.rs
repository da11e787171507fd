//! `lossy-bitmap`: a bitmap heap scan's bitmap outgrew work_mem and
//! degraded to one bit per page for part of the table ("Lossy Heap
//! Blocks"), so every row of those pages was read and rechecked.
//!
//! An exact bitmap needs about [`BYTES_PER_PAGE`] bytes per heap page
//! (PostgreSQL's tidbitmap page entry plus its hash table slot), so the
//! suggestion is (exact + lossy pages) × 64 bytes, rounded up.

use crate::findings::advice::{count, set_work_mem_sql};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};

pub struct LossyBitmap;

const ID: &str = "lossy-bitmap";

/// Bitmap memory per exactly-tracked heap page.
pub const BYTES_PER_PAGE: f64 = 64.0;

impl Rule for LossyBitmap {
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
                let lossy = node.lossy_heap_blocks? as f64;
                if lossy < t.lossy_bitmap_min_lossy_blocks || lossy == 0.0 {
                    return None;
                }
                let exact = node.exact_heap_blocks.unwrap_or(0) as f64;
                let (needed_kb, fix) = set_work_mem_sql((exact + lossy) * BYTES_PER_PAGE / 1024.0);
                let rechecked = node
                    .rows_removed_by_index_recheck
                    .map(|r| format!("; the recheck threw away {} rows", count(r)))
                    .unwrap_or_default();
                let message = format!(
                    "{} tracked {} of its {} heap pages only as whole pages (lossy){rechecked}",
                    node.label(),
                    count(lossy),
                    count(exact + lossy),
                );
                let advice = format!(
                    "The bitmap did not fit in work_mem. An exact bitmap of {} pages needs about {} kB: `{fix}` for the \
                     session or transaction that runs this statement.",
                    count(exact + lossy),
                    count(((exact + lossy) * BYTES_PER_PAGE / 1024.0).ceil()),
                );
                let mut f = Finding::new(ID, Severity::Info, message, advice)
                    .at(node)
                    .evidence("lossy_heap_blocks", lossy)
                    .evidence("exact_heap_blocks", exact)
                    .evidence("work_mem_needed_kb", needed_kb)
                    .fix_sql(Some(fix));
                if let Some(r) = node.rows_removed_by_index_recheck {
                    f = f.evidence("rows_removed_by_index_recheck", r);
                }
                Some(f)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, only};

    #[test]
    fn a_lossy_bitmap_gets_work_mem() {
        let f = only(&LossyBitmap, &["lossy_bitmap"]);
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(f.node.as_deref(), Some("Bitmap Heap Scan on readings"));
        assert!(f.evidence["lossy_heap_blocks"].as_f64().unwrap() >= 100.0);
        assert!(
            f.evidence["rows_removed_by_index_recheck"]
                .as_f64()
                .unwrap()
                > 0.0
        );
        // ~1,100 pages × 64 bytes: the smallest suggestion
        assert_eq!(f.fix_sql.as_deref(), Some("SET work_mem = '1MB';"));
    }

    #[test]
    fn thresholds_apply() {
        assert!(
            check_with(
                &LossyBitmap,
                &["lossy_bitmap"],
                "lossy-bitmap.min_lossy_blocks=100000"
            )
            .is_empty()
        );
    }

    #[test]
    fn exact_bitmaps_are_fine() {
        assert_silent_on_clean(&LossyBitmap);
        assert!(check(&LossyBitmap, &["heap_fetches"]).is_empty());
    }
}
