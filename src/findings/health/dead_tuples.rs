//! `dead-tuples`: a table holds many dead rows — versions left by UPDATE
//! and DELETE that vacuum has not cleaned up yet. Scans still read them,
//! and until vacuum runs their space is not reused, so the table grows.

use super::{HealthContext, HealthRule, duration, plain_name, sql_name};
use crate::findings::advice::{count, percent};
use crate::findings::{Finding, Severity, Thresholds};

pub struct DeadTuples;

const ID: &str = "dead-tuples";

impl HealthRule for DeadTuples {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let autovacuum_on = ctx.settings.flag("autovacuum").unwrap_or(true);
        ctx.tables
            .iter()
            .filter_map(|table| {
                let dead = table.dead_tuples as f64;
                let share = dead / (dead + table.live_tuples as f64).max(1.0);
                if dead < t.dead_tuples_min_dead || share < t.dead_tuples_min_share {
                    return None;
                }
                let fix = format!("VACUUM (ANALYZE) {};", sql_name(&table.name));
                let last = table
                    .vacuum_age_s
                    .map_or("never vacuumed".to_string(), |a| format!("last vacuumed {} ago", duration(a)));
                let message = format!(
                    "{} holds {} dead rows ({} of its rows); {last}",
                    table.name.name,
                    count(dead),
                    percent(share)
                );
                let why = if !autovacuum_on {
                    "autovacuum is off for the whole server"
                } else if !table.autovacuum_enabled {
                    "autovacuum is off for this table (autovacuum_enabled = false)"
                } else {
                    "autovacuum has not kept up: lower the table's autovacuum_vacuum_scale_factor, or look for a long \
                     transaction holding back cleanup"
                };
                let advice = format!("Vacuum it now: {fix} Then find why: {why}.");
                Some(
                    Finding::new(ID, Severity::Warning, message, advice)
                        .relation(Some(plain_name(&table.name)))
                        .evidence("dead_rows", dead)
                        .evidence("live_rows", table.live_tuples as f64)
                        .evidence("dead_share", share)
                        .evidence("vacuum_age_s", table.vacuum_age_s.unwrap_or(f64::NAN))
                        .evidence("autovacuum_enabled", if table.autovacuum_enabled && autovacuum_on { "yes" } else { "no" })
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
    use crate::findings::health::TableHealth;

    #[test]
    fn many_dead_rows_call_for_vacuum() {
        let mut ctx = HealthContext::empty();
        ctx.tables = vec![
            TableHealth {
                name: QualifiedName::new("public", "jobs"),
                live_tuples: 50_000,
                dead_tuples: 150_000,
                autovacuum_enabled: false,
                ..TableHealth::default()
            },
            TableHealth {
                name: QualifiedName::new("public", "fine"),
                live_tuples: 5_000_000,
                dead_tuples: 20_000,
                ..TableHealth::default()
            },
        ];
        let found = DeadTuples.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("VACUUM (ANALYZE) \"public\".\"jobs\";")
        );
        assert!(found[0].advice.contains("off for this table"));
    }
}
