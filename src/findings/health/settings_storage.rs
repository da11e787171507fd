//! `settings-storage`: planner I/O settings left at their spinning-disk
//! defaults. random_page_cost = 4 tells the planner a random read costs
//! four sequential ones, which on SSDs (or a mostly cached database) is
//! far off and steers it away from index scans; effective_io_concurrency
//! = 1 stops bitmap heap scans from prefetching. The storage cannot be
//! seen from SQL: with --storage ssd this is firm advice, unknown storage
//! makes it conditional, and --storage hdd silences it.

use super::{HealthContext, HealthRule, Storage};
use crate::findings::{Finding, Severity, Thresholds};

pub struct SettingsStorage;

const ID: &str = "settings-storage";

impl HealthRule for SettingsStorage {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        if ctx.machine.storage == Some(Storage::Hdd) {
            return Vec::new();
        }
        let known_ssd = ctx.machine.storage == Some(Storage::Ssd);
        let condition = if known_ssd {
            "The data is on SSD"
        } else {
            "If the data is on SSD or mostly cached"
        };
        let mut out = Vec::new();
        if let Some(cost) = ctx.settings.number("random_page_cost")
            && cost > t.settings_storage_max_random_page_cost
        {
            let fix =
                "ALTER SYSTEM SET random_page_cost = 1.1; SELECT pg_reload_conf();".to_string();
            out.push(
                Finding::new(
                    ID,
                    Severity::Info,
                    format!("random_page_cost is {cost}, the value for spinning disks"),
                    format!(
                        "{condition}: a random read costs about as much as a sequential one, and {cost} makes the \
                         planner prefer sequential scans where an index is cheaper. Try 1.1 for a session first and \
                         compare plans: {fix}"
                    ),
                )
                .evidence("setting", "random_page_cost")
                .evidence("current", cost)
                .evidence("suggested", 1.1)
                .evidence("storage", if known_ssd { "ssd" } else { "unknown" })
                .fix_sql(Some(fix)),
            );
        }
        if let Some(io) = ctx.settings.number("effective_io_concurrency")
            && io <= 1.0
        {
            let fix = "ALTER SYSTEM SET effective_io_concurrency = 200; SELECT pg_reload_conf();"
                .to_string();
            out.push(
                Finding::new(
                    ID,
                    Severity::Info,
                    format!("effective_io_concurrency is {io}: bitmap heap scans do not prefetch"),
                    format!("{condition}: it serves many reads at once; let bitmap heap scans prefetch: {fix}"),
                )
                .evidence("setting", "effective_io_concurrency")
                .evidence("current", io)
                .evidence("suggested", 200.0)
                .evidence("storage", if known_ssd { "ssd" } else { "unknown" })
                .fix_sql(Some(fix)),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_get_conditional_advice_unless_the_disks_spin() {
        let mut ctx = HealthContext::empty();
        ctx.settings.insert("random_page_cost", "4", None);
        ctx.settings.insert("effective_io_concurrency", "1", None);
        let found = SettingsStorage.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 2);
        assert!(found[0].advice.starts_with("If the data is on SSD"));
        ctx.machine.storage = Some(Storage::Ssd);
        assert!(
            SettingsStorage.check(&ctx, &Thresholds::default())[0]
                .advice
                .starts_with("The data is on SSD")
        );
        ctx.machine.storage = Some(Storage::Hdd);
        assert!(
            SettingsStorage
                .check(&ctx, &Thresholds::default())
                .is_empty()
        );
        ctx.machine.storage = None;
        ctx.settings.insert("random_page_cost", "1.1", None);
        ctx.settings.insert("effective_io_concurrency", "200", None);
        assert!(
            SettingsStorage
                .check(&ctx, &Thresholds::default())
                .is_empty()
        );
    }
}
