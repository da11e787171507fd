//! `unused-index`: an index no query has scanned since statistics were
//! reset, that enforces no constraint and is big enough to matter. It
//! still costs every write and vacuum. The scan counts are this server's
//! only: a replica's reads are not counted here. Found by the same code
//! recommend-indexes uses for its drop advice (`advisor::drops`).

use super::{HealthContext, HealthRule, bytes, duration, sql_name};
use crate::advisor::drops::drop_candidates;
use crate::advisor::report::DropReason;
use crate::findings::{Finding, Severity, Thresholds};

pub struct UnusedIndex;

const ID: &str = "unused-index";

impl HealthRule for UnusedIndex {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let min_bytes = (t.unused_index_min_size_mb * 1024.0 * 1024.0) as i64;
        let stats_young = ctx
            .stats_reset_age_s
            .is_some_and(|age| age < t.unused_index_min_stats_age_days * 86_400.0);
        let since = match ctx.stats_reset_age_s {
            Some(age) => format!("since statistics were reset {} ago", duration(age)),
            None => "since statistics began (never reset)".to_string(),
        };
        drop_candidates(&ctx.catalog, min_bytes)
            .into_iter()
            .filter(|d| d.reason == DropReason::Unused)
            .map(|d| {
                let size = d.size_bytes.unwrap_or(0) as f64;
                let drop = format!("DROP INDEX CONCURRENTLY {};", sql_name(&d.index));
                let message = format!(
                    "index {} on {} ({}) has had no scans {since}",
                    d.index.name,
                    d.table.name,
                    bytes(size)
                );
                let mut advice = format!(
                    "It costs every INSERT and UPDATE and every vacuum, and serves no read. Check replicas first \
                     (their scans are not counted here) and keep its definition to re-create it; then {drop}"
                );
                if stats_young {
                    advice.push_str(" Statistics are young: wait for a full business cycle (month-end jobs, reports) before dropping.");
                }
                Finding::new(
                    ID,
                    if stats_young { Severity::Info } else { Severity::Warning },
                    message,
                    advice,
                )
                .relation(Some(format!("{}.{}", d.index.schema, d.index.name)))
                .evidence("table", format!("{}.{}", d.table.schema, d.table.name))
                .evidence("size_bytes", size)
                .evidence("scans", 0u64)
                .evidence(
                    "stats_age_s",
                    ctx.stats_reset_age_s.unwrap_or(f64::NAN),
                )
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
    fn an_unscanned_index_is_found_but_not_one_backing_a_constraint() {
        let mut unused = index("t_c_idx", &["c"]);
        unused.scans = Some(0);
        let mut unique = index("t_u_key", &["u"]);
        unique.scans = Some(0);
        unique.unique = true;
        unique.backs_constraint = true;
        let mut ctx = HealthContext::empty();
        ctx.catalog = catalog_with(vec![unused, unique, index("t_a_idx", &["a"])]);
        let found = UnusedIndex.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].relation.as_deref(), Some("public.t_c_idx"));
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("DROP INDEX CONCURRENTLY \"public\".\"t_c_idx\";")
        );
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn young_statistics_soften_it_and_small_indexes_are_left() {
        let mut unused = index("t_c_idx", &["c"]);
        unused.scans = Some(0);
        let mut ctx = HealthContext::empty();
        ctx.catalog = catalog_with(vec![unused]);
        ctx.stats_reset_age_s = Some(3600.0);
        let found = UnusedIndex.check(&ctx, &Thresholds::default());
        assert_eq!(found[0].severity, Severity::Info);
        let mut t = Thresholds::default();
        t.apply("unused-index.min_size_mb=100").unwrap();
        assert!(UnusedIndex.check(&ctx, &t).is_empty());
    }
}
