//! `index-bloat`: a B-tree index much larger than its entries need. The
//! estimate: entries (the index's reltuples) × (8-byte tuple header + key
//! width from pg_stats, aligned, + a 4-byte line pointer) over the usable
//! leaf page space at the index's fillfactor (90 by default), plus the
//! meta page and about 1 % inner pages. Deduplication (PostgreSQL 13+) can
//! make a healthy index smaller than this, so the estimate errs towards
//! reporting less bloat. Expression keys have no width here; such indexes
//! are skipped.

use super::table_bloat::maxalign;
use super::{HealthContext, HealthRule, IndexHealth, bytes, sql_name};
use crate::catalog::QualifiedName;
use crate::findings::advice::percent;
use crate::findings::{Finding, Severity, Thresholds};

pub struct IndexBloat;

const ID: &str = "index-bloat";

/// Page header plus the B-tree special space (BTPageOpaqueData).
const PAGE_OVERHEAD: f64 = 24.0 + 16.0;
const INDEX_TUPLE_HEADER: f64 = 8.0;
const LINE_POINTER: f64 = 4.0;

/// Pages the index's entries would need, when the key width is known.
pub fn expected_pages(index: &IndexHealth, block_size: f64) -> Option<f64> {
    if index.method != "btree" || index.reltuples <= 0.0 {
        return None;
    }
    let width = index.key_width?;
    let entry = INDEX_TUPLE_HEADER + maxalign(width) + LINE_POINTER;
    let usable = (block_size - PAGE_OVERHEAD) * f64::from(index.fillfactor.clamp(10, 100)) / 100.0;
    let per_page = (usable / entry).floor().max(1.0);
    let leaves = (index.reltuples / per_page).ceil();
    Some(1.0 + (leaves * 1.01).ceil())
}

impl HealthRule for IndexBloat {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let block = ctx.settings.number("block_size").unwrap_or(8192.0);
        ctx.indexes
            .iter()
            .filter(|i| !i.being_built)
            .filter_map(|index| {
                let expected = expected_pages(index, block)?;
                let actual = index.relpages as f64;
                let wasted_pages = (actual - expected).max(0.0);
                let share = wasted_pages / actual.max(1.0);
                let wasted = wasted_pages * block;
                if share < t.index_bloat_min_share || wasted < t.index_bloat_min_wasted_mb * 1024.0 * 1024.0 {
                    return None;
                }
                let name = QualifiedName::new(index.table.schema.clone(), index.name.clone());
                let fix = format!("REINDEX INDEX CONCURRENTLY {};", sql_name(&name));
                let message = format!(
                    "index {} on {} takes {} but its entries need about {}: an estimated {} ({}) is empty space",
                    index.name,
                    index.table.name,
                    bytes(actual * block),
                    bytes(expected * block),
                    bytes(wasted),
                    percent(share)
                );
                let advice = format!(
                    "A bloated index costs cache and I/O on every scan. Rebuild it without blocking writes (needs \
                     room for the copy; an interrupted run leaves an invalid `_ccnew` index to drop): {fix}"
                );
                Some(
                    Finding::new(ID, Severity::Warning, message, advice)
                        .relation(Some(format!("{}.{}", index.table.schema, index.name)))
                        .evidence("table", format!("{}.{}", index.table.schema, index.table.name))
                        .evidence("size_bytes", actual * block)
                        .evidence("expected_bytes", expected * block)
                        .evidence("wasted_bytes", wasted)
                        .evidence("wasted_share", share)
                        .fix_sql(Some(fix)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(relpages: i64) -> IndexHealth {
        IndexHealth {
            table: QualifiedName::new("public", "t"),
            name: "t_a_idx".into(),
            method: "btree".into(),
            relpages,
            reltuples: 10_000_000.0,
            fillfactor: 90,
            key_width: Some(8.0),
            ..IndexHealth::default()
        }
    }

    #[test]
    fn an_index_three_times_too_big_is_bloated() {
        // 8 + 8 + 4 = 20 bytes an entry, 366 a page → 27,323 leaves.
        let expected = expected_pages(&index(0), 8192.0).unwrap();
        assert!((expected - 27_598.0).abs() < 2.0, "{expected}");
        let mut ctx = HealthContext::empty();
        ctx.indexes = vec![index(3 * 27_598)];
        let found = IndexBloat.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("REINDEX INDEX CONCURRENTLY \"public\".\"t_a_idx\";")
        );
        ctx.indexes = vec![index(30_000)];
        assert!(IndexBloat.check(&ctx, &Thresholds::default()).is_empty());
    }

    #[test]
    fn other_methods_and_unknown_widths_are_skipped() {
        let gin = IndexHealth {
            method: "gin".into(),
            ..index(1_000_000)
        };
        let expr = IndexHealth {
            key_width: None,
            ..index(1_000_000)
        };
        let mut ctx = HealthContext::empty();
        ctx.indexes = vec![gin, expr];
        assert!(IndexBloat.check(&ctx, &Thresholds::default()).is_empty());
    }
}
