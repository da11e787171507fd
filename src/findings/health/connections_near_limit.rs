//! `connections-near-limit`: client connections are close to the slots
//! ordinary roles may use (max_connections minus the reserved ones). At
//! the limit new connections fail outright. Counts include every client
//! session the server has, whatever this role may see of it.

use super::{HealthContext, HealthRule, Needs};
use crate::findings::advice::{count, percent};
use crate::findings::{Finding, Severity, Thresholds};
use std::collections::BTreeMap;

pub struct ConnectionsNearLimit;

const ID: &str = "connections-near-limit";

impl HealthRule for ConnectionsNearLimit {
    fn id(&self) -> &'static str {
        ID
    }

    fn needs(&self) -> Needs {
        Needs::ReadAllStats
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let Some(max) = ctx.settings.number("max_connections") else {
            return Vec::new();
        };
        let reserved = ctx
            .settings
            .number("superuser_reserved_connections")
            .unwrap_or(0.0)
            + ctx.settings.number("reserved_connections").unwrap_or(0.0);
        let slots = (max - reserved).max(1.0);
        let clients: Vec<_> = ctx.sessions.iter().filter(|s| s.is_client()).collect();
        // pgadvisor's own session is not in the list but holds a slot.
        let used = clients.len() as f64 + 1.0;
        let share = used / slots;
        if share < t.connections_warning_share {
            return Vec::new();
        }
        let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
        for s in &clients {
            *by_state
                .entry(s.state.clone().unwrap_or_else(|| "unknown".into()))
                .or_default() += 1;
        }
        let idle = by_state.get("idle").copied().unwrap_or(0);
        let states: Vec<String> = by_state.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let severity = if share >= t.connections_critical_share {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let message = format!(
            "{} of {} connection slots in use ({}): {}",
            count(used),
            count(slots),
            percent(share),
            states.join(", ")
        );
        let advice = format!(
            "New connections fail at the limit. {} idle connections hold slots without work: put a pooler \
             (PgBouncer in transaction mode) or smaller application pools in front; raising max_connections costs \
             memory per connection and needs a restart.",
            count(idle as f64)
        );
        let mut f = Finding::new(ID, severity, message, advice)
            .evidence("connections", used)
            .evidence("slots", slots)
            .evidence("used_share", share)
            .evidence("max_connections", max);
        for (state, n) in by_state {
            f = f.evidence(
                &format!(
                    "state_{}",
                    state.replace([' ', '(', ')'], "_").trim_end_matches('_')
                ),
                n,
            );
        }
        vec![f]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::health::Session;

    fn client(state: &str) -> Session {
        Session {
            backend_type: Some("client backend".into()),
            state: Some(state.into()),
            ..Session::default()
        }
    }

    #[test]
    fn near_the_limit_is_found_with_states() {
        let mut ctx = HealthContext::empty();
        ctx.settings.insert("max_connections", "100", None);
        ctx.settings
            .insert("superuser_reserved_connections", "3", None);
        ctx.sessions = (0..80)
            .map(|_| client("idle"))
            .chain((0..10).map(|_| client("active")))
            .collect();
        let found = ConnectionsNearLimit.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].evidence["state_idle"], serde_json::json!(80));
        assert_eq!(found[0].evidence["connections"], serde_json::json!(91));
        ctx.sessions.truncate(50);
        assert!(
            ConnectionsNearLimit
                .check(&ctx, &Thresholds::default())
                .is_empty()
        );
    }
}
