//! `buffers-read-share`: most of the shared buffers the statement touched
//! were not in shared_buffers and had to be read (from the OS page cache
//! or from disk).
//!
//! Read from the last run (the warmest cache: a first run after a restart
//! always reads). Buffer counts are cumulative, so the root holds the
//! statement's total; the node named is the one that read the most blocks
//! itself. Blocks are 8 kB.

use crate::findings::advice::{count, percent};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};
use crate::plan::{NodeRef, PlanWalk};

pub struct BuffersReadShare;

const ID: &str = "buffers-read-share";

const BLOCK_KB: f64 = 8.0;

impl Rule for BuffersReadShare {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding> {
        let Some(explain) = ctx.plan() else {
            return Vec::new();
        };
        let root = &explain.plan;
        let (Some(hit), Some(read)) = (root.shared_hit_blocks, root.shared_read_blocks) else {
            return Vec::new();
        };
        let (hit, read) = (hit as f64, read as f64);
        let share = read / (hit + read).max(1.0);
        if read < t.buffers_read_min_read_blocks || share < t.buffers_read_min_share {
            return Vec::new();
        }
        let walk = explain.nodes();
        let reader = top_reader(&walk);
        let touched_kb = (hit + read) * BLOCK_KB;
        let ring = match ctx.settings.shared_buffers_bytes {
            Some(sb) if touched_kb * 1024.0 > sb as f64 / 4.0 => format!(
                " The statement touches {} MB, more than a quarter of shared_buffers ({} MB): a sequential scan of a table \
                 that large goes through a small ring of buffers and reads it again every time, whatever the setting.",
                count(touched_kb / 1024.0),
                count(sb as f64 / 1024.0 / 1024.0)
            ),
            _ => String::new(),
        };
        let message = format!(
            "{} of the shared buffers touched were read rather than found in shared_buffers: {} blocks ({} MB) read, {} hit",
            percent(share),
            count(read),
            count(read * BLOCK_KB / 1024.0),
            count(hit),
        );
        let advice = format!(
            "Reading fewer blocks helps most: the other findings (an index for a large scan) usually cut this. If the \
             working set should stay cached, raise shared_buffers (about 25 % of RAM is the usual start; ALTER SYSTEM \
             SET shared_buffers = '…' and a restart) and check pg_statio_user_tables for the tables read most.{ring}"
        );
        let mut f = Finding::new(ID, Severity::Info, message, advice)
            .evidence("shared_read_blocks", read)
            .evidence("shared_hit_blocks", hit)
            .evidence("read_share", share)
            .evidence("run", ctx.runs.len() as u64);
        if let Some(reader) = reader {
            f = f.at(reader.node);
        }
        if let Some(sb) = ctx.settings.shared_buffers_bytes {
            f = f.evidence("shared_buffers_kb", sb / 1024);
        }
        vec![f]
    }
}

/// The node that read the most blocks itself (its count minus its
/// children's).
fn top_reader<'a>(walk: &PlanWalk<'a>) -> Option<NodeRef<'a>> {
    walk.iter()
        .map(|n| {
            let own = n.node.shared_read_blocks.unwrap_or(0);
            let children: u64 = walk
                .children(n)
                .map(|c| c.node.shared_read_blocks.unwrap_or(0))
                .sum();
            (n, own.saturating_sub(children))
        })
        .filter(|(_, own)| *own > 0)
        .max_by_key(|(n, own)| (*own, std::cmp::Reverse(n.index)))
        .map(|(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::ServerSettings;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, context, only};

    #[test]
    fn mostly_read_buffers_are_reported_at_the_reading_node() {
        let f = only(&BuffersReadShare, &["buffers_read_share"]);
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(f.node.as_deref(), Some("Seq Scan on wide"));
        assert!(f.evidence["read_share"].as_f64().unwrap() > 0.5);
        assert!(f.fix_sql.is_none());
    }

    #[test]
    fn a_table_past_the_ring_buffer_size_is_explained() {
        let ctx = context(&["buffers_read_share"]).with_settings(ServerSettings {
            shared_buffers_bytes: Some(128 * 1024 * 1024),
            ..ServerSettings::default()
        });
        let f = BuffersReadShare
            .check(&ctx, &Thresholds::default())
            .remove(0);
        assert!(f.advice.contains("ring of buffers"), "{}", f.advice);
        assert_eq!(f.evidence["shared_buffers_kb"], serde_json::json!(131_072));
    }

    #[test]
    fn only_the_last_run_counts() {
        assert!(
            check(
                &BuffersReadShare,
                &["buffers_read_share", "clean_index_scan"]
            )
            .is_empty()
        );
    }

    #[test]
    fn cached_plans_are_fine() {
        assert!(
            check_with(
                &BuffersReadShare,
                &["buffers_read_share"],
                "buffers-read-share.min_share=0.99"
            )
            .is_empty()
        );
        assert_silent_on_clean(&BuffersReadShare);
        assert!(check(&BuffersReadShare, &["seq_scan_large_table"]).is_empty());
        assert!(check(&BuffersReadShare, &["generic_plan_estimate"]).is_empty());
    }
}
