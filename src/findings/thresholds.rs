//! Every threshold of every rule, in one struct. Keys are
//! `RULE-ID.name` (`seq-scan-large-table.min_rows`), the form
//! `--threshold KEY=VALUE` takes; docs/findings.md lists them with their
//! defaults (a test keeps the two in step).

use std::fmt::Write as _;

/// One threshold, for listings and documentation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdInfo {
    pub key: &'static str,
    pub value: f64,
    pub default: f64,
    /// Largest allowed value (1 for shares).
    pub max: f64,
    pub doc: &'static str,
}

macro_rules! thresholds {
    ($( #[doc = $doc:literal] $field:ident : $key:literal = $default:expr, max $max:expr; )*) => {
        /// The thresholds of every rule. `Default` holds the documented
        /// defaults.
        #[derive(Clone, Debug, PartialEq)]
        pub struct Thresholds {
            $( #[doc = $doc] pub $field: f64, )*
        }

        impl Default for Thresholds {
            fn default() -> Thresholds {
                Thresholds { $( $field: $default, )* }
            }
        }

        impl Thresholds {
            /// Every threshold with its current value, in rule order.
            pub fn describe(&self) -> Vec<ThresholdInfo> {
                let defaults = Thresholds::default();
                vec![$(ThresholdInfo {
                    key: $key,
                    value: self.$field,
                    default: defaults.$field,
                    max: $max,
                    doc: $doc.trim(),
                },)*]
            }

            fn slot(&mut self, key: &str) -> Option<(&mut f64, f64)> {
                match key {
                    $( $key => Some((&mut self.$field, $max)), )*
                    _ => None,
                }
            }
        }
    };
}

const NO_MAX: f64 = f64::INFINITY;

thresholds! {
    /// Rows a sequential scan must read (over all its workers, per loop) to count as large.
    seq_scan_min_rows: "seq-scan-large-table.min_rows" = 100_000.0, max NO_MAX;
    /// Share of the rows read that the filter must discard (0–1).
    seq_scan_min_discard_share: "seq-scan-large-table.min_discard_share" = 0.9, max 1.0;
    /// Smallest actual/estimated (or estimated/actual) row ratio that is reported.
    misestimate_min_factor: "row-misestimate.min_factor" = 10.0, max NO_MAX;
    /// Rows (the larger of estimated and actual, times loops) a node must involve.
    misestimate_min_rows: "row-misestimate.min_rows" = 1_000.0, max NO_MAX;
    /// kB a sort must write to disk.
    sort_spill_min_disk_kb: "sort-spill.min_disk_kb" = 1_024.0, max NO_MAX;
    /// Batches a hash join's hash or a hash aggregate must split into (1 = no spill).
    hash_spill_min_batches: "hash-spill.min_batches" = 2.0, max NO_MAX;
    /// Times the inner side must run.
    nested_loop_min_loops: "nested-loop-unindexed-inner.min_loops" = 100.0, max NO_MAX;
    /// Inner rows examined over all loops (rows per loop × loops).
    nested_loop_min_rows_examined: "nested-loop-unindexed-inner.min_rows_examined" = 100_000.0, max NO_MAX;
    /// Heap fetches of an index-only scan.
    heap_fetches_min_fetches: "heap-fetches.min_fetches" = 1_000.0, max NO_MAX;
    /// Heap fetches per row returned (0–1).
    heap_fetches_min_share: "heap-fetches.min_share" = 0.1, max 1.0;
    /// Lossy heap blocks of a bitmap heap scan.
    lossy_bitmap_min_lossy_blocks: "lossy-bitmap.min_lossy_blocks" = 100.0, max NO_MAX;
    /// Shared blocks read (not found in shared_buffers).
    buffers_read_min_read_blocks: "buffers-read-share.min_read_blocks" = 1_000.0, max NO_MAX;
    /// Share of shared blocks read rather than hit (0–1).
    buffers_read_min_share: "buffers-read-share.min_share" = 0.5, max 1.0;
    /// Planning time over execution time.
    planning_min_ratio: "planning-over-execution.min_ratio" = 1.0, max NO_MAX;
    /// Milliseconds of planning below which nothing is reported.
    planning_min_planning_ms: "planning-over-execution.min_planning_ms" = 1.0, max NO_MAX;
    /// Share of execution time spent compiling (0–1).
    jit_min_share: "jit-dominating.min_share" = 0.5, max 1.0;
    /// Milliseconds of JIT below which nothing is reported.
    jit_min_jit_ms: "jit-dominating.min_jit_ms" = 10.0, max NO_MAX;
    /// Generic over custom: execution time when both ran, else estimated cost.
    generic_min_ratio: "generic-plan-worse.min_ratio" = 5.0, max NO_MAX;
    /// Milliseconds the generic plan must lose when both ran.
    generic_min_extra_ms: "generic-plan-worse.min_extra_ms" = 1.0, max NO_MAX;

    // Health rules (src/findings/health/).
    /// Lowest share of table (and, apart, index) block reads served from shared_buffers (0–1).
    cache_hit_min_ratio: "cache-hit-ratio.min_ratio" = 0.99, max 1.0;
    /// Blocks (hit + read) the tables, or the indexes, must have touched for their ratio to count.
    cache_hit_min_blocks: "cache-hit-ratio.min_blocks" = 100_000.0, max NO_MAX;
    /// MB an index with no scans must take to be reported.
    unused_index_min_size_mb: "unused-index.min_size_mb" = 10.0, max NO_MAX;
    /// Days of statistics below which "no scans" is reported as info only (statistics reset recently).
    unused_index_min_stats_age_days: "unused-index.min_stats_age_days" = 7.0, max NO_MAX;
    /// Live rows a table must have.
    seq_heavy_min_rows: "seq-scan-heavy-table.min_rows" = 100_000.0, max NO_MAX;
    /// Sequential scans since statistics were reset.
    seq_heavy_min_seq_scans: "seq-scan-heavy-table.min_seq_scans" = 100.0, max NO_MAX;
    /// Share of the table's scans that are sequential (0–1).
    seq_heavy_min_seq_share: "seq-scan-heavy-table.min_seq_share" = 0.5, max 1.0;
    /// Estimated MB of wasted table space.
    table_bloat_min_wasted_mb: "table-bloat.min_wasted_mb" = 64.0, max NO_MAX;
    /// Estimated share of the table's pages that are waste (0–1).
    table_bloat_min_share: "table-bloat.min_share" = 0.5, max 1.0;
    /// Estimated MB of wasted index space.
    index_bloat_min_wasted_mb: "index-bloat.min_wasted_mb" = 64.0, max NO_MAX;
    /// Estimated share of the index's pages that are waste (0–1).
    index_bloat_min_share: "index-bloat.min_share" = 0.5, max 1.0;
    /// Dead rows a table must hold.
    dead_tuples_min_dead: "dead-tuples.min_dead" = 10_000.0, max NO_MAX;
    /// Dead rows over live + dead (0–1).
    dead_tuples_min_share: "dead-tuples.min_share" = 0.2, max 1.0;
    /// Rows inserted since the last vacuum plus dead rows.
    vacuum_overdue_min_changes: "vacuum-overdue.min_changes" = 100_000.0, max NO_MAX;
    /// Days since the last vacuum (never vacuumed counts as overdue).
    vacuum_overdue_max_age_days: "vacuum-overdue.max_age_days" = 7.0, max NO_MAX;
    /// Live rows a table must have.
    stale_stats_min_rows: "stale-statistics.min_rows" = 1_000.0, max NO_MAX;
    /// Rows changed since the last analyze over live rows.
    stale_stats_min_changed_share: "stale-statistics.min_changed_share" = 0.2, max NO_MAX;
    /// Transaction-ID age over 2^31 that is a warning (0–1).
    xid_warning_share: "xid-wraparound.warning_share" = 0.5, max 1.0;
    /// Transaction-ID age over 2^31 that is critical (0–1).
    xid_critical_share: "xid-wraparound.critical_share" = 0.75, max 1.0;
    /// Share of a sequence's (or its column's) range used that is a warning (0–1).
    sequence_warning_share: "sequence-exhaustion.warning_share" = 0.75, max 1.0;
    /// Share used that is critical (0–1).
    sequence_critical_share: "sequence-exhaustion.critical_share" = 0.9, max 1.0;
    /// Client connections over the slots open to ordinary roles that is a warning (0–1).
    connections_warning_share: "connections-near-limit.warning_share" = 0.8, max 1.0;
    /// Share that is critical (0–1).
    connections_critical_share: "connections-near-limit.critical_share" = 0.95, max 1.0;
    /// Seconds a session must have sat idle in an open transaction.
    idle_in_xact_min_seconds: "idle-in-transaction.min_seconds" = 60.0, max NO_MAX;
    /// Seconds of transaction age that make it critical.
    idle_in_xact_critical_seconds: "idle-in-transaction.critical_seconds" = 3_600.0, max NO_MAX;
    /// Seconds a statement must have been running.
    long_running_min_seconds: "long-running-query.min_seconds" = 300.0, max NO_MAX;
    /// Seconds a statement must have waited for a lock another session holds.
    blocked_min_wait_seconds: "blocked-query.min_wait_seconds" = 10.0, max NO_MAX;
    /// How far (as a factor) a memory setting must be from the suggested value.
    settings_memory_min_factor: "settings-memory.min_factor" = 2.0, max NO_MAX;
    /// random_page_cost above which SSD advice is given.
    settings_storage_max_random_page_cost: "settings-storage.max_random_page_cost" = 2.0, max NO_MAX;
    /// Share of checkpoints that were requested (not timed) (0–1).
    settings_checkpoints_max_requested_share: "settings-checkpoints.max_requested_share" = 0.2, max 1.0;
    /// Checkpoints the counters must cover.
    settings_checkpoints_min_checkpoints: "settings-checkpoints.min_checkpoints" = 10.0, max NO_MAX;
}

impl Thresholds {
    /// Sets `key` (`RULE-ID.name`) to `value`, a non-negative number
    /// (`100000`, `100_000`, `1e5`; shares at most 1).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let parsed: f64 = value
            .trim()
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{key}: `{value}` is not a number"))?;
        let known = self.describe();
        let Some((slot, max)) = self.slot(key) else {
            return Err(unknown_key(key, &known));
        };
        if !parsed.is_finite() || parsed < 0.0 || parsed > max {
            return Err(if max.is_finite() {
                format!("{key}: `{value}` is not between 0 and {max}")
            } else {
                format!("{key}: `{value}` is not a non-negative number")
            });
        }
        *slot = parsed;
        Ok(())
    }

    /// `KEY=VALUE`, as `--threshold` takes it.
    pub fn apply(&mut self, assignment: &str) -> Result<(), String> {
        let (key, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("`{assignment}`: expected RULE.NAME=VALUE"))?;
        self.set(key.trim(), value)
    }

    /// The thresholds whose value differs from the default: `(key, value)`.
    pub fn overridden(&self) -> Vec<(&'static str, f64)> {
        self.describe()
            .into_iter()
            .filter(|t| t.value != t.default)
            .map(|t| (t.key, t.value))
            .collect()
    }
}

fn unknown_key(key: &str, known: &[ThresholdInfo]) -> String {
    let rule = key.split('.').next().unwrap_or(key);
    let same_rule: Vec<&str> = known
        .iter()
        .filter(|t| t.key.split('.').next() == Some(rule))
        .map(|t| t.key)
        .collect();
    let listed = if same_rule.is_empty() {
        known.iter().map(|t| t.key).collect()
    } else {
        same_rule
    };
    let mut message = format!("unknown threshold `{key}`; known:");
    for k in listed {
        let _ = write!(message, " {k}");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::registry;

    #[test]
    fn set_parses_and_validates() {
        let mut t = Thresholds::default();
        t.set("seq-scan-large-table.min_rows", "100_000").unwrap();
        t.set("seq-scan-large-table.min_rows", "2e5").unwrap();
        assert_eq!(t.seq_scan_min_rows, 200_000.0);
        t.apply("heap-fetches.min_share = 0.25").unwrap();
        assert_eq!(t.heap_fetches_min_share, 0.25);
        assert_eq!(t.overridden().len(), 2);

        let err = t.set("heap-fetches.min_share", "1.5").unwrap_err();
        assert!(err.contains("between 0 and 1"), "{err}");
        assert!(t.set("sort-spill.min_disk_kb", "-1").is_err());
        assert!(
            t.set("sort-spill.min_disk_kb", "lots")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(t.set("sort-spill.min_disk_kb", "inf").is_err());
        let err = t.set("sort-spill.max_disk_kb", "1").unwrap_err();
        assert!(
            err.contains("sort-spill.min_disk_kb") && !err.contains("heap-fetches"),
            "{err}"
        );
        assert!(
            t.set("nope", "1")
                .unwrap_err()
                .contains("heap-fetches.min_fetches")
        );
        assert!(t.apply("no-equals-sign").is_err());
    }

    #[test]
    fn every_key_belongs_to_a_rule_and_every_rule_has_thresholds() {
        let ids: Vec<&str> = registry().iter().map(|r| r.id()).collect();
        let health: Vec<&str> = crate::findings::health::registry()
            .iter()
            .map(|r| r.id())
            .collect();
        let described = Thresholds::default().describe();
        for t in &described {
            let rule = t.key.split('.').next().unwrap();
            assert!(
                ids.contains(&rule) || health.contains(&rule),
                "{} names no rule",
                t.key
            );
            assert!(t.default <= t.max);
        }
        for id in ids {
            assert!(
                described
                    .iter()
                    .any(|t| t.key.starts_with(&format!("{id}."))),
                "{id} has no threshold"
            );
        }
    }

    #[test]
    fn docs_list_every_threshold_with_its_default() {
        let doc = include_str!("../../docs/findings.md");
        for t in Thresholds::default().describe() {
            let default = if t.default.fract() == 0.0 {
                format!("{}", t.default as i64)
            } else {
                format!("{}", t.default)
            };
            let written = format!("`{}` = {default}", t.key);
            assert!(
                doc.contains(&written),
                "docs/findings.md should say {written}"
            );
        }
    }
}
