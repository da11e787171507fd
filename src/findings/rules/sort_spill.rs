//! `sort-spill`: a sort did not fit in work_mem and wrote its runs to disk
//! (`Sort Space Type: Disk`, "external merge").
//!
//! The work_mem it needs is larger than what it wrote: tuples take more
//! room in memory than in a sort's temporary files. Measured on
//! PostgreSQL 15 (scripts/capture-plans.sh's `orders` sort): 8,288 kB on
//! disk sorted in memory only from about 20,200 kB — so the suggestion is
//! the disk size × [`MEMORY_PER_DISK_KB`], rounded up to a size a person
//! would type.

use crate::findings::advice::{count, set_work_mem_sql};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};

pub struct SortSpill;

const ID: &str = "sort-spill";

/// kB of memory an in-memory sort needs per kB its external sort wrote.
pub const MEMORY_PER_DISK_KB: f64 = 2.5;

impl Rule for SortSpill {
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
                let disk_kb = node.sort_disk_kb()? as f64;
                if disk_kb < t.sort_spill_min_disk_kb {
                    return None;
                }
                let (needed_kb, fix) = set_work_mem_sql(disk_kb * MEMORY_PER_DISK_KB);
                let keys = node
                    .sort_key
                    .as_ref()
                    .map(|k| format!(" ({})", k.join(", ")))
                    .unwrap_or_default();
                let message = format!(
                    "{}{keys} wrote {} kB to disk ({}): it did not fit in work_mem",
                    node.label(),
                    count(disk_kb),
                    node.sort_method.as_deref().unwrap_or("external sort"),
                );
                let advice = format!(
                    "In memory this sort needs about {} kB: `{fix}` in its session, or SET LOCAL inside its \
                     transaction, or ALTER ROLE … SET work_mem for the role that runs it — not server-wide, since \
                     every sort and hash of every connection may take that much. An index whose leading columns \
                     match the sort key returns rows already sorted and removes the sort.",
                    count(disk_kb * MEMORY_PER_DISK_KB),
                );
                let mut f = Finding::new(ID, Severity::Warning, message, advice)
                    .at(node)
                    .evidence("disk_kb", disk_kb)
                    .evidence("work_mem_needed_kb", needed_kb)
                    .fix_sql(Some(fix));
                if let Some(method) = &node.sort_method {
                    f = f.evidence("sort_method", method.as_str());
                }
                if let Some(bytes) = ctx.settings.work_mem_bytes {
                    f = f.evidence("work_mem_kb", bytes / 1024);
                }
                Some(f)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::ServerSettings;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, context, only};

    #[test]
    fn a_disk_sort_gets_the_work_mem_it_needs() {
        let f = only(&SortSpill, &["sort_spill"]);
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.node.as_deref(), Some("Sort"));
        assert_eq!(
            f.evidence["sort_method"],
            serde_json::json!("external merge")
        );
        let disk = f.evidence["disk_kb"].as_f64().unwrap();
        assert!(disk > 5_000.0, "{disk}");
        let needed = f.evidence["work_mem_needed_kb"].as_f64().unwrap();
        assert!(needed >= disk * MEMORY_PER_DISK_KB);
        // 8,288 kB on disk when captured → 24MB
        assert_eq!(f.fix_sql.as_deref(), Some("SET work_mem = '24MB';"));
        assert!(f.message.contains("(amount, created_at)"), "{}", f.message);
    }

    #[test]
    fn the_current_setting_is_shown_when_known() {
        let ctx = context(&["sort_spill"]).with_settings(ServerSettings {
            work_mem_bytes: Some(64 * 1024),
            ..ServerSettings::default()
        });
        let f = SortSpill.check(&ctx, &Thresholds::default()).remove(0);
        assert_eq!(f.evidence["work_mem_kb"], serde_json::json!(64));
    }

    #[test]
    fn small_spills_and_memory_sorts_are_fine() {
        assert!(
            check_with(&SortSpill, &["sort_spill"], "sort-spill.min_disk_kb=100000").is_empty()
        );
        assert_silent_on_clean(&SortSpill);
        // top-N heapsort and quicksort in memory
        assert!(check(&SortSpill, &["limit_subplan_cte"]).is_empty());
    }
}
