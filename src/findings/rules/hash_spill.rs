//! `hash-spill`: a hash join's hash table or a hash aggregate did not fit
//! in memory and was split into batches written to disk.
//!
//! Memory needed: a Hash node's `Peak Memory Usage` is per batch, so the
//! whole table takes about peak × batches; a HashAggregate holds `Peak
//! Memory Usage` and spilled `Disk Usage`, which takes about
//! [`AGG_MEMORY_PER_DISK_KB`] times more room once in memory (measured on
//! PostgreSQL 15: 173 kB + 7,448 kB spilled ran in memory in 9,489 kB).
//! Hash tables may use work_mem × hash_mem_multiplier, so the suggested
//! work_mem is the need divided by the multiplier, rounded up.

use crate::findings::advice::{count, set_work_mem_sql};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};
use crate::plan::PlanNode;

pub struct HashSpill;

const ID: &str = "hash-spill";

/// kB of memory a hash aggregate needs per kB it spilled.
pub const AGG_MEMORY_PER_DISK_KB: f64 = 1.5;

impl Rule for HashSpill {
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
                let s = spill(n.node, t)?;
                // a Hash is known by the join it feeds
                let join = walk
                    .parent(n)
                    .filter(|_| n.node.node_type == "Hash")
                    .and_then(|p| p.node.hash_cond.as_deref())
                    .map(|cond| format!(" (for the join on {cond})"))
                    .unwrap_or_default();
                Some(finding(ctx, n.node, s, &join))
            })
            .collect()
    }
}

struct Spill {
    batches: u64,
    /// kB the whole hash table would take in memory.
    memory_kb: f64,
    aggregate: bool,
}

fn spill(node: &PlanNode, t: &Thresholds) -> Option<Spill> {
    let min_batches = t.hash_spill_min_batches;
    if node.node_type == "Hash" {
        let batches = node.hash_batches?;
        if (batches as f64) < min_batches || batches < 2 {
            return None;
        }
        let peak = node.peak_memory_usage.unwrap_or(0) as f64;
        return Some(Spill {
            batches,
            memory_kb: peak * batches as f64,
            aggregate: false,
        });
    }
    if node.node_type == "Aggregate" && node.hashagg_batches.is_some() {
        let batches = node.hashagg_batches?;
        let disk = node.disk_usage.unwrap_or(0) as f64;
        if (batches as f64) < min_batches || (batches < 2 && disk == 0.0) {
            return None;
        }
        let peak = node.peak_memory_usage.unwrap_or(0) as f64;
        return Some(Spill {
            batches,
            memory_kb: peak + disk * AGG_MEMORY_PER_DISK_KB,
            aggregate: true,
        });
    }
    None
}

fn finding(ctx: &PlanContext, node: &PlanNode, s: Spill, join: &str) -> Finding {
    let multiplier = ctx.hash_mem_multiplier();
    let (needed_kb, fix) = set_work_mem_sql(s.memory_kb / multiplier);
    let what = if s.aggregate {
        "grouped in"
    } else {
        "built its hash table in"
    };
    let disk = match (s.aggregate, node.disk_usage, node.temp_written_blocks) {
        (true, Some(kb), _) => format!(", writing {} kB to disk", count(kb as f64)),
        (false, _, Some(blocks)) if blocks > 0 => {
            format!(
                ", writing {} kB of temporary files",
                count(blocks as f64 * 8.0)
            )
        }
        _ => String::new(),
    };
    let replanned = match node.original_hash_batches {
        Some(original) if original < s.batches => format!(
            " (planned for {}: the rows to hash were underestimated)",
            count(original as f64)
        ),
        _ => String::new(),
    };
    let message = format!(
        "{}{join} {what} {} batches{replanned}{disk}: it did not fit in work_mem × hash_mem_multiplier",
        node.label(),
        count(s.batches as f64),
    );
    let advice = format!(
        "It needs about {} kB in memory; with hash_mem_multiplier = {multiplier}, `{fix}` keeps it in one batch. \
         Set it for the session or transaction that runs this statement (SET LOCAL inside its transaction, or \
         ALTER ROLE … SET work_mem), not server-wide: every hash and sort of every connection may take that much.",
        count(s.memory_kb),
    );
    let mut f = Finding::new(ID, Severity::Warning, message, advice)
        .at(node)
        .evidence("batches", s.batches)
        .evidence("memory_needed_kb", s.memory_kb)
        .evidence("hash_mem_multiplier", multiplier)
        .evidence("work_mem_needed_kb", needed_kb)
        .fix_sql(Some(fix));
    if let Some(peak) = node.peak_memory_usage {
        f = f.evidence("peak_memory_kb", peak);
    }
    if let Some(original) = node.original_hash_batches {
        f = f.evidence("original_batches", original);
    }
    if let Some(disk) = node.disk_usage {
        f = f.evidence("disk_kb", disk);
    }
    if let Some(bytes) = ctx.settings.work_mem_bytes {
        f = f.evidence("work_mem_kb", bytes / 1024);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::ServerSettings;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, context, only};

    #[test]
    fn a_batched_hash_join_gets_work_mem() {
        let f = only(&HashSpill, &["hash_spill"]);
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.node.as_deref(), Some("Hash"));
        assert_eq!(f.evidence["batches"], serde_json::json!(16));
        assert!(f.message.contains("16 batches"), "{}", f.message);
        assert!(
            f.message
                .starts_with("Hash (for the join on (o.customer_id = c.id))"),
            "{}",
            f.message
        );
        // 82 kB × 16 batches / 2 → 1MB (the same join ran in one batch at 1MB)
        assert_eq!(f.fix_sql.as_deref(), Some("SET work_mem = '1MB';"));
    }

    #[test]
    fn a_spilling_hash_aggregate_gets_work_mem() {
        let f = only(&HashSpill, &["hashagg_spill"]);
        assert_eq!(f.node.as_deref(), Some("HashAggregate"));
        assert!(f.evidence["disk_kb"].as_f64().unwrap() > 1000.0);
        // 173 kB + 7,448 kB × 1.5, over 2 → 6MB (measured: fits from 4.6MB)
        assert_eq!(f.fix_sql.as_deref(), Some("SET work_mem = '6MB';"));
    }

    #[test]
    fn the_multiplier_comes_from_the_server_when_known() {
        let ctx = context(&["hashagg_spill"]).with_settings(ServerSettings {
            hash_mem_multiplier: Some(1.0),
            ..ServerSettings::default()
        });
        let f = HashSpill.check(&ctx, &Thresholds::default()).remove(0);
        assert_eq!(f.fix_sql.as_deref(), Some("SET work_mem = '12MB';"));
    }

    #[test]
    fn one_batch_is_no_spill() {
        assert!(check_with(&HashSpill, &["hash_spill"], "hash-spill.min_batches=32").is_empty());
        assert_silent_on_clean(&HashSpill);
        // in-memory hash joins and hash aggregates
        assert!(check(&HashSpill, &["planning_over_execution"]).is_empty());
        assert!(check(&HashSpill, &["jit_dominating"]).is_empty());
    }
}
