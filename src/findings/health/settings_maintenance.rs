//! `settings-maintenance`: the switches the other checks and the server's
//! own upkeep depend on. autovacuum off lets dead rows and transaction-ID
//! age grow unchecked; track_counts off blinds autovacuum and every
//! statistics-based finding here; track_io_timing off hides read times
//! from EXPLAIN (BUFFERS) and pg_stat_statements.

use super::{HealthContext, HealthRule};
use crate::findings::{Finding, Severity, Thresholds};

pub struct SettingsMaintenance;

const ID: &str = "settings-maintenance";

impl HealthRule for SettingsMaintenance {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, _t: &Thresholds) -> Vec<Finding> {
        let switches = [
            (
                "autovacuum",
                Severity::Critical,
                "dead rows are never cleaned up, tables bloat, statistics go stale and only the forced \
                 anti-wraparound vacuums still run",
            ),
            (
                "track_counts",
                Severity::Critical,
                "autovacuum cannot tell which tables need work, and the table and index statistics these checks \
                 read stay empty",
            ),
            (
                "track_io_timing",
                Severity::Info,
                "EXPLAIN (ANALYZE, BUFFERS) and pg_stat_statements cannot say how long reads took; the overhead is \
                 small on most platforms (check with pg_test_timing)",
            ),
        ];
        switches
            .into_iter()
            .filter(|(name, _, _)| ctx.settings.flag(name) == Some(false))
            .map(|(name, severity, why)| {
                let fix = format!("ALTER SYSTEM SET {name} = on; SELECT pg_reload_conf();");
                Finding::new(
                    ID,
                    severity,
                    format!("{name} is off"),
                    format!("With {name} off, {why}. {fix}"),
                )
                .evidence("setting", name)
                .evidence("current", "off")
                .fix_sql(Some(fix))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_that_are_off_are_reported() {
        let mut ctx = HealthContext::empty();
        ctx.settings.insert("autovacuum", "off", None);
        ctx.settings.insert("track_counts", "on", None);
        ctx.settings.insert("track_io_timing", "off", None);
        let found = SettingsMaintenance.check(&ctx, &Thresholds::default());
        let names: Vec<_> = found
            .iter()
            .map(|f| (f.evidence["setting"].clone(), f.severity))
            .collect();
        assert_eq!(
            names,
            [
                (serde_json::json!("autovacuum"), Severity::Critical),
                (serde_json::json!("track_io_timing"), Severity::Info)
            ]
        );
    }
}
