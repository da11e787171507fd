//! `stale-statistics`: a table never analyzed, or changed a lot since its
//! last analyze. The planner's row estimates come from these statistics;
//! stale ones give the misestimates `row-misestimate` finds per plan.

use super::{HealthContext, HealthRule, duration, plain_name, sql_name};
use crate::findings::advice::{count, percent};
use crate::findings::{Finding, Severity, Thresholds};

pub struct StaleStatistics;

const ID: &str = "stale-statistics";

impl HealthRule for StaleStatistics {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        ctx.tables
            .iter()
            .filter_map(|table| {
                let live = table.live_tuples as f64;
                if live < t.stale_stats_min_rows {
                    return None;
                }
                let changed = table.mod_since_analyze as f64;
                let share = changed / live.max(1.0);
                let never = table.analyze_age_s.is_none();
                if !never && share < t.stale_stats_min_changed_share {
                    return None;
                }
                let fix = format!("ANALYZE {};", sql_name(&table.name));
                let message = if never {
                    format!("{} ({} rows) has never been analyzed: the planner guesses its row counts", table.name.name, count(live))
                } else {
                    format!(
                        "{} changed {} rows ({} of its rows) since it was analyzed {} ago",
                        table.name.name,
                        count(changed),
                        percent(share.min(9.99)),
                        duration(table.analyze_age_s.unwrap_or(0.0))
                    )
                };
                let advice = format!(
                    "Refresh its statistics (cheap: a sample of the table): {fix} If it recurs, lower the table's \
                     autovacuum_analyze_scale_factor, or ANALYZE after bulk loads."
                );
                Some(
                    Finding::new(ID, if never { Severity::Warning } else { Severity::Info }, message, advice)
                        .relation(Some(plain_name(&table.name)))
                        .evidence("live_rows", live)
                        .evidence("changed_since_analyze", changed)
                        .evidence("changed_share", share)
                        .evidence("analyze_age_s", table.analyze_age_s.unwrap_or(f64::NAN))
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
    fn never_analyzed_and_much_changed_tables_are_found() {
        let base = TableHealth {
            name: QualifiedName::new("public", "a"),
            live_tuples: 100_000,
            analyze_age_s: Some(60.0),
            ..TableHealth::default()
        };
        let never = TableHealth {
            analyze_age_s: None,
            ..base.clone()
        };
        let changed = TableHealth {
            name: QualifiedName::new("public", "b"),
            mod_since_analyze: 50_000,
            ..base.clone()
        };
        let mut ctx = HealthContext::empty();
        ctx.tables = vec![
            never,
            changed,
            TableHealth {
                name: QualifiedName::new("public", "c"),
                ..base
            },
        ];
        let found = StaleStatistics.check(&ctx, &Thresholds::default());
        let names: Vec<_> = found.iter().map(|f| f.relation.clone().unwrap()).collect();
        assert_eq!(names, ["public.a", "public.b"]);
        assert_eq!(found[0].severity, Severity::Warning);
    }
}
