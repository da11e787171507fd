//! `table-bloat`: a table takes much more space than its live rows need —
//! the space of rows deleted or updated away, which plain VACUUM makes
//! reusable but does not give back. An estimate, in the classic way: the
//! row count and the average row width from the planner's statistics
//! (pg_stats) give the pages the rows would fill at the table's
//! fillfactor; the rest of `relpages` is waste. Wide values stored out of
//! line (TOAST) and stale statistics make it rough, so it is reported
//! only past both a share and a size.

use super::{HealthContext, HealthRule, TableHealth, bytes, plain_name, sql_name};
use crate::findings::advice::{count, percent};
use crate::findings::{Finding, Severity, Thresholds};

pub struct TableBloat;

const ID: &str = "table-bloat";

/// Page header (PageHeaderData).
const PAGE_HEADER: f64 = 24.0;
/// Heap tuple header before the null bitmap (HeapTupleHeaderData).
const TUPLE_HEADER: f64 = 23.0;
/// One line pointer per tuple (ItemIdData).
const LINE_POINTER: f64 = 4.0;

pub(crate) fn maxalign(v: f64) -> f64 {
    (v / 8.0).ceil() * 8.0
}

/// Pages the live rows would need, when the width is known.
pub fn expected_pages(table: &TableHealth, block_size: f64) -> Option<f64> {
    let width = table.data_width?;
    if table.reltuples <= 0.0 {
        return None;
    }
    let null_bitmap = if table.has_nulls {
        (f64::from(table.columns) / 8.0).ceil()
    } else {
        0.0
    };
    let tuple = maxalign(TUPLE_HEADER + null_bitmap) + maxalign(width) + LINE_POINTER;
    let usable = (block_size - PAGE_HEADER) * f64::from(table.fillfactor.clamp(10, 100)) / 100.0;
    let per_page = (usable / tuple).floor().max(1.0);
    Some((table.reltuples / per_page).ceil())
}

impl HealthRule for TableBloat {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let block = ctx.settings.number("block_size").unwrap_or(8192.0);
        ctx.tables
            .iter()
            .filter_map(|table| {
                let expected = expected_pages(table, block)?;
                let actual = table.relpages as f64;
                let wasted_pages = (actual - expected).max(0.0);
                let share = wasted_pages / actual.max(1.0);
                let wasted = wasted_pages * block;
                if share < t.table_bloat_min_share || wasted < t.table_bloat_min_wasted_mb * 1024.0 * 1024.0 {
                    return None;
                }
                let name = sql_name(&table.name);
                let fix = format!("VACUUM (FULL, ANALYZE) {name};");
                let message = format!(
                    "{} takes {} but its {} live rows need about {}: an estimated {} ({}) is empty space",
                    table.name.name,
                    bytes(actual * block),
                    count(table.reltuples),
                    bytes(expected * block),
                    bytes(wasted),
                    percent(share)
                );
                let advice = format!(
                    "Sequential scans and the cache carry the empty pages. VACUUM FULL rewrites the table compactly but \
                     holds an ACCESS EXCLUSIVE lock (no reads or writes) while it runs and needs room for the copy; \
                     pg_repack does the same online. If it grew from mass updates or deletes, make autovacuum keep up \
                     (it is {} for this table). {fix}",
                    if table.autovacuum_enabled { "on" } else { "off" }
                );
                Some(
                    Finding::new(ID, Severity::Warning, message, advice)
                        .relation(Some(plain_name(&table.name)))
                        .evidence("size_bytes", actual * block)
                        .evidence("expected_bytes", expected * block)
                        .evidence("wasted_bytes", wasted)
                        .evidence("wasted_share", share)
                        .evidence("row_estimate", table.reltuples)
                        .evidence("row_width_bytes", table.data_width.unwrap_or(f64::NAN))
                        .fix_sql(Some(fix)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;

    fn table(relpages: i64) -> TableHealth {
        TableHealth {
            name: QualifiedName::new("public", "accounts"),
            relpages,
            reltuples: 1_000_000.0,
            fillfactor: 100,
            autovacuum_enabled: true,
            data_width: Some(100.0),
            columns: 4,
            ..TableHealth::default()
        }
    }

    #[test]
    fn expected_pages_follow_the_row_width() {
        // 24 + 104 + 4 = 132 bytes a row, 61 rows a page.
        let pages = expected_pages(&table(0), 8192.0).unwrap();
        assert_eq!(pages, (1_000_000.0_f64 / 61.0).ceil());
        let unknown = TableHealth {
            data_width: None,
            ..table(0)
        };
        assert!(expected_pages(&unknown, 8192.0).is_none());
    }

    #[test]
    fn a_table_four_times_too_big_is_bloated_a_tight_one_is_not() {
        let mut ctx = HealthContext::empty();
        ctx.tables = vec![table(4 * 16_394)];
        let found = TableBloat.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("VACUUM (FULL, ANALYZE) \"public\".\"accounts\";")
        );
        let share = found[0].evidence["wasted_share"].as_f64().unwrap();
        assert!((share - 0.75).abs() < 0.01, "{share}");
        ctx.tables = vec![table(17_000)];
        assert!(TableBloat.check(&ctx, &Thresholds::default()).is_empty());
    }
}
