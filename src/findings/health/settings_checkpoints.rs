//! `settings-checkpoints`: many checkpoints were requested rather than
//! timed — WAL filled max_wal_size before checkpoint_timeout came round.
//! Frequent checkpoints write the same pages again and again and, with
//! full_page_writes, inflate WAL. Read from pg_stat_bgwriter (PostgreSQL
//! 13–16; pg_stat_checkpointer from 17 is not read yet).

use super::{HealthContext, HealthRule, duration};
use crate::findings::advice::{memory_setting, percent};
use crate::findings::{Finding, Severity, Thresholds};

pub struct SettingsCheckpoints;

const ID: &str = "settings-checkpoints";

impl HealthRule for SettingsCheckpoints {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(c) = ctx.checkpoints {
            let total = (c.timed + c.requested) as f64;
            let share = c.requested as f64 / total.max(1.0);
            if total >= t.settings_checkpoints_min_checkpoints
                && share > t.settings_checkpoints_max_requested_share
            {
                let current = ctx.settings.bytes("max_wal_size");
                let suggested_kb = current.map_or(2 * 1024 * 1024, |b| (b / 1024.0) as u64 * 2);
                let value = memory_setting(suggested_kb);
                let fix =
                    format!("ALTER SYSTEM SET max_wal_size = '{value}'; SELECT pg_reload_conf();");
                out.push(
                    Finding::new(
                        ID,
                        Severity::Info,
                        format!(
                            "{} of {} checkpoints{} were requested, not timed: WAL fills max_wal_size{} first",
                            percent(share),
                            total,
                            c.stats_age_s.map_or(String::new(), |a| format!(" in {}", duration(a))),
                            current.map_or(String::new(), |b| format!(" ({})", super::bytes(b)))
                        ),
                        format!(
                            "Requested checkpoints also come from CREATE DATABASE, base backups and manual CHECKPOINT; \
                             if those are rare here, WAL volume is the cause. Let checkpoints come from \
                             checkpoint_timeout: raise max_wal_size (costs disk space for WAL and a longer crash \
                             recovery): {fix}"
                        ),
                    )
                    .evidence("checkpoints_timed", c.timed as f64)
                    .evidence("checkpoints_requested", c.requested as f64)
                    .evidence("requested_share", share)
                    .fix_sql(Some(fix)),
                );
            }
        }
        if let Some(target) = ctx.settings.number("checkpoint_completion_target")
            && target < 0.9
        {
            let fix =
                "ALTER SYSTEM SET checkpoint_completion_target = 0.9; SELECT pg_reload_conf();"
                    .to_string();
            out.push(
                Finding::new(
                    ID,
                    Severity::Info,
                    format!("checkpoint_completion_target is {target}: checkpoint writes come in bursts"),
                    format!("Spread them over the interval (0.9 is the default since PostgreSQL 14): {fix}"),
                )
                .evidence("checkpoint_completion_target", target)
                .fix_sql(Some(fix)),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::health::Checkpoints;

    #[test]
    fn requested_checkpoints_ask_for_more_wal() {
        let mut ctx = HealthContext::empty();
        ctx.settings.insert("max_wal_size", "1024", Some("MB"));
        ctx.checkpoints = Some(Checkpoints {
            timed: 10,
            requested: 40,
            stats_age_s: Some(86_400.0),
        });
        let found = SettingsCheckpoints.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("ALTER SYSTEM SET max_wal_size = '2GB'; SELECT pg_reload_conf();")
        );
        ctx.checkpoints = Some(Checkpoints {
            timed: 100,
            requested: 2,
            stats_age_s: None,
        });
        assert!(
            SettingsCheckpoints
                .check(&ctx, &Thresholds::default())
                .is_empty()
        );
    }
}
