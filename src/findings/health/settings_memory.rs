//! `settings-memory`: memory settings far from the usual starting points
//! for the server's RAM — shared_buffers about 25 %, effective_cache_size
//! about 75 %, maintenance_work_mem RAM/16 up to 2 GB, and work_mem so
//! that three sorts per connection fit beside shared_buffers. Advice, not
//! verdicts: a setting is reported only when it is `settings-memory.min_factor`
//! times off, and only when the server's memory is known (given with
//! --server-memory, or read from this machine when the server is local).

use super::{HealthContext, HealthRule, bytes};
use crate::findings::advice::memory_setting;
use crate::findings::{Finding, Severity, Thresholds};

pub struct SettingsMemory;

const ID: &str = "settings-memory";
const MB: f64 = 1024.0 * 1024.0;
const GB: f64 = 1024.0 * MB;

/// A value a person would type: whole MB below 1 GB, else whole GB.
fn rounded_kb(b: f64) -> u64 {
    if b >= GB {
        ((b / GB).round().max(1.0) as u64) * 1024 * 1024
    } else {
        ((b / MB).round().max(1.0) as u64) * 1024
    }
}

struct Suggestion {
    name: &'static str,
    current: f64,
    suggested: f64,
    why: String,
    restart: bool,
}

impl HealthRule for SettingsMemory {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let Some(ram) = ctx.machine.memory_bytes.map(|m| m as f64) else {
            return Vec::new();
        };
        let s = &ctx.settings;
        let mut suggestions = Vec::new();
        let shared = s.bytes("shared_buffers");
        if let Some(current) = shared {
            suggestions.push(Suggestion {
                name: "shared_buffers",
                current,
                suggested: ram * 0.25,
                why: "PostgreSQL's own cache; about 25 % of RAM leaves the rest to the OS cache and to queries".into(),
                restart: true,
            });
        }
        if let Some(current) = s.bytes("effective_cache_size") {
            suggestions.push(Suggestion {
                name: "effective_cache_size",
                current,
                suggested: ram * 0.75,
                why: "the planner's idea of the cache (shared_buffers plus OS cache); too low makes index scans look \
                      expensive"
                    .into(),
                restart: false,
            });
        }
        if let Some(current) = s.bytes("maintenance_work_mem") {
            suggestions.push(Suggestion {
                name: "maintenance_work_mem",
                current,
                suggested: (ram / 16.0).clamp(64.0 * MB, 2.0 * GB),
                why: "memory for VACUUM, CREATE INDEX and ALTER TABLE ADD FOREIGN KEY; more makes them faster".into(),
                restart: false,
            });
        }
        if let (Some(current), Some(conns)) = (s.bytes("work_mem"), s.number("max_connections")) {
            let spare = (ram - shared.unwrap_or(ram * 0.25)).max(ram * 0.25);
            suggestions.push(Suggestion {
                name: "work_mem",
                current,
                suggested: (spare / (3.0 * conns.max(1.0))).clamp(4.0 * MB, 1.0 * GB),
                why: format!(
                    "memory per sort or hash, per query node; sized so {} connections with three each fit beside \
                     shared_buffers — raise it per session for big reports instead of globally",
                    conns
                ),
                restart: false,
            });
        }
        suggestions
            .into_iter()
            .filter(|g| {
                let factor = g.suggested / g.current.max(1.0);
                factor >= t.settings_memory_min_factor
                    || factor <= 1.0 / t.settings_memory_min_factor
            })
            .map(|g| {
                let value = memory_setting(rounded_kb(g.suggested));
                let mut fix = format!("ALTER SYSTEM SET {} = '{value}';", g.name);
                fix.push_str(if g.restart {
                    " -- takes effect after a restart"
                } else {
                    " SELECT pg_reload_conf();"
                });
                let message = format!(
                    "{} is {} on a server with {} of RAM; a usual starting point is {value}",
                    g.name,
                    bytes(g.current),
                    bytes(ram)
                );
                let advice = format!(
                    "{}: {}. A starting point, not a verdict — measure before and after. {fix}",
                    g.name, g.why
                );
                Finding::new(ID, Severity::Info, message, advice)
                    .evidence("setting", g.name)
                    .evidence("current_bytes", g.current)
                    .evidence("suggested_bytes", g.suggested)
                    .evidence("memory_bytes", ram)
                    .evidence(
                        "memory_source",
                        ctx.machine.source.clone().unwrap_or_default(),
                    )
                    .fix_sql(Some(fix))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(ram_gb: u64) -> HealthContext {
        let mut ctx = HealthContext::empty();
        ctx.machine.memory_bytes = Some(ram_gb << 30);
        ctx.settings.insert("shared_buffers", "16384", Some("8kB"));
        ctx.settings
            .insert("effective_cache_size", "524288", Some("8kB"));
        ctx.settings
            .insert("maintenance_work_mem", "65536", Some("kB"));
        ctx.settings.insert("work_mem", "4096", Some("kB"));
        ctx.settings.insert("max_connections", "100", None);
        ctx
    }

    #[test]
    fn defaults_on_a_big_machine_get_advice() {
        let found = SettingsMemory.check(&ctx(64), &Thresholds::default());
        let names: Vec<_> = found
            .iter()
            .map(|f| f.evidence["setting"].clone())
            .collect();
        assert_eq!(
            names,
            [
                "shared_buffers",
                "effective_cache_size",
                "maintenance_work_mem",
                "work_mem"
            ]
        );
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("ALTER SYSTEM SET shared_buffers = '16GB'; -- takes effect after a restart")
        );
    }

    #[test]
    fn close_enough_or_unknown_memory_is_silent() {
        assert!(
            SettingsMemory
                .check(&ctx(1), &Thresholds::default())
                .iter()
                .all(|f| f.evidence["setting"] != "work_mem")
        );
        let mut unknown = ctx(64);
        unknown.machine.memory_bytes = None;
        assert!(
            SettingsMemory
                .check(&unknown, &Thresholds::default())
                .is_empty()
        );
    }
}
