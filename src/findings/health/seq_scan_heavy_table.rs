//! `seq-scan-heavy-table`: a large table read mostly by sequential scans.
//! Each scan reads the whole table; when they are frequent, some query
//! lacks an index. Which one is for `analyze` with a workload, or
//! `recommend-indexes`, to say.

use super::{HealthContext, HealthRule, plain_name};
use crate::findings::advice::{count, percent};
use crate::findings::{Finding, Severity, Thresholds};

pub struct SeqScanHeavyTable;

const ID: &str = "seq-scan-heavy-table";

impl HealthRule for SeqScanHeavyTable {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        ctx.tables
            .iter()
            .filter_map(|table| {
                let rows = table.live_tuples.max(table.reltuples as i64) as f64;
                let seq = table.seq_scan as f64;
                let share = seq / (seq + table.idx_scan as f64).max(1.0);
                if rows < t.seq_heavy_min_rows || seq < t.seq_heavy_min_seq_scans || share < t.seq_heavy_min_seq_share {
                    return None;
                }
                let rows_per_scan = table.seq_tup_read as f64 / seq.max(1.0);
                let message = format!(
                    "{} ({} rows) was read by {} sequential scans ({} of its scans), {} rows each on average",
                    table.name.name,
                    count(rows),
                    count(seq),
                    percent(share),
                    count(rows_per_scan)
                );
                let advice = "Find the statements that scan it (`pgadvisor analyze` with the server log or \
                              pg_stat_statements shows seq-scan-large-table per statement) and index their filters: \
                              `pgadvisor recommend-indexes` costs the candidates against the whole workload."
                    .to_string();
                Some(
                    Finding::new(ID, Severity::Warning, message, advice)
                        .relation(Some(plain_name(&table.name)))
                        .evidence("live_rows", rows)
                        .evidence("seq_scans", seq)
                        .evidence("index_scans", table.idx_scan as f64)
                        .evidence("seq_share", share)
                        .evidence("rows_per_seq_scan", rows_per_scan),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;
    use crate::findings::health::TableHealth;

    #[test]
    fn big_tables_scanned_sequentially_are_found() {
        let big = TableHealth {
            name: QualifiedName::new("public", "events"),
            live_tuples: 500_000,
            seq_scan: 400,
            seq_tup_read: 200_000_000,
            idx_scan: 10,
            ..TableHealth::default()
        };
        let small = TableHealth {
            name: QualifiedName::new("public", "kinds"),
            live_tuples: 50,
            seq_scan: 100_000,
            ..TableHealth::default()
        };
        let indexed = TableHealth {
            idx_scan: 1_000_000,
            name: QualifiedName::new("public", "orders"),
            ..big.clone()
        };
        let mut ctx = HealthContext::empty();
        ctx.tables = vec![big, small, indexed];
        let found = SeqScanHeavyTable.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].relation.as_deref(), Some("public.events"));
        assert_eq!(
            found[0].evidence["rows_per_seq_scan"],
            serde_json::json!(500_000)
        );
    }
}
