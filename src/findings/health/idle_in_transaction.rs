//! `idle-in-transaction`: a session opened a transaction and is doing
//! nothing in it. It holds its locks and its snapshot, so vacuum cannot
//! remove rows that died after it started — across the whole database.

use super::{HealthContext, HealthRule, Needs, duration, short_query};
use crate::findings::{Finding, Severity, Thresholds};

pub struct IdleInTransaction;

const ID: &str = "idle-in-transaction";

impl HealthRule for IdleInTransaction {
    fn id(&self) -> &'static str {
        ID
    }

    fn needs(&self) -> Needs {
        Needs::ReadAllStats
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let timeout = ctx
            .settings
            .number("idle_in_transaction_session_timeout")
            .unwrap_or(0.0);
        ctx.sessions
            .iter()
            .filter(|s| s.in_this_database)
            .filter(|s| s.state.as_deref().is_some_and(|st| st.starts_with("idle in transaction")))
            .filter_map(|s| {
                let idle = s.state_age_s?;
                if idle < t.idle_in_xact_min_seconds {
                    return None;
                }
                let xact = s.xact_age_s.unwrap_or(idle);
                let severity =
                    if xact >= t.idle_in_xact_critical_seconds { Severity::Critical } else { Severity::Warning };
                let fix = format!("SELECT pg_terminate_backend({});", s.pid);
                let message = format!(
                    "session {} ({}{}) has been idle in a transaction for {} (transaction open {}); last statement: {}",
                    s.pid,
                    s.user.as_deref().unwrap_or("?"),
                    s.application_name.as_deref().filter(|a| !a.is_empty()).map_or(String::new(), |a| format!(", {a}")),
                    duration(idle),
                    duration(xact),
                    short_query(s.query.as_deref(), 120)
                );
                let advice = format!(
                    "It holds its locks and keeps vacuum from removing dead rows. Fix the application path that leaves \
                     the transaction open (a missing COMMIT, work done between statements); {} Ending the session \
                     rolls its transaction back: {fix}",
                    if timeout > 0.0 {
                        "idle_in_transaction_session_timeout is set but higher than this.".to_string()
                    } else {
                        "set idle_in_transaction_session_timeout (e.g. ALTER ROLE … SET idle_in_transaction_session_timeout = '5min') as a backstop.".to_string()
                    }
                );
                Some(
                    Finding::new(ID, severity, message, advice)
                        .evidence("pid", u64::from(s.pid.unsigned_abs()))
                        .evidence("user", s.user.clone().unwrap_or_default())
                        .evidence("idle_s", idle)
                        .evidence("transaction_age_s", xact)
                        .evidence("query", s.query.clone().unwrap_or_default())
                        .fix_sql(Some(fix)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::health::Session;

    #[test]
    fn long_idle_transactions_are_found_by_age() {
        let idle = |pid, secs: f64| Session {
            pid,
            in_this_database: true,
            backend_type: Some("client backend".into()),
            state: Some("idle in transaction".into()),
            state_age_s: Some(secs),
            xact_age_s: Some(secs + 1.0),
            query: Some("UPDATE t SET a = 1".into()),
            ..Session::default()
        };
        let mut ctx = HealthContext::empty();
        ctx.sessions = vec![idle(10, 5.0), idle(11, 120.0), idle(12, 7200.0)];
        let found = IdleInTransaction.check(&ctx, &Thresholds::default());
        let pids: Vec<_> = found
            .iter()
            .map(|f| (f.evidence["pid"].clone(), f.severity))
            .collect();
        assert_eq!(
            pids,
            [
                (serde_json::json!(11), Severity::Warning),
                (serde_json::json!(12), Severity::Critical)
            ]
        );
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("SELECT pg_terminate_backend(11);")
        );
    }
}
