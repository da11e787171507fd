//! `long-running-query`: a client statement has been running for a long
//! time. Besides the resources it uses, its snapshot holds back vacuum
//! like an open transaction does.

use super::{HealthContext, HealthRule, Needs, duration, short_query};
use crate::findings::{Finding, Severity, Thresholds};

pub struct LongRunningQuery;

const ID: &str = "long-running-query";

impl HealthRule for LongRunningQuery {
    fn id(&self) -> &'static str {
        ID
    }

    fn needs(&self) -> Needs {
        Needs::ReadAllStats
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        ctx.sessions
            .iter()
            .filter(|s| s.in_this_database && s.is_client() && s.state.as_deref() == Some("active"))
            .filter_map(|s| {
                let age = s.query_age_s?;
                if age < t.long_running_min_seconds {
                    return None;
                }
                let fix = format!("SELECT pg_cancel_backend({});", s.pid);
                let waiting = match (&s.wait_event_type, &s.wait_event) {
                    (Some(ty), Some(ev)) => format!(", waiting on {ty}:{ev}"),
                    _ => String::new(),
                };
                let message = format!(
                    "session {} ({}) has been running one statement for {}{waiting}: {}",
                    s.pid,
                    s.user.as_deref().unwrap_or("?"),
                    duration(age),
                    short_query(s.query.as_deref(), 160)
                );
                let advice = format!(
                    "If it is not an expected batch job, cancel it (the transaction is rolled back): {fix} Run its \
                     statement through `pgadvisor analyze` for plan findings, and give such callers a \
                     statement_timeout."
                );
                Some(
                    Finding::new(ID, Severity::Warning, message, advice)
                        .evidence("pid", u64::from(s.pid.unsigned_abs()))
                        .evidence("user", s.user.clone().unwrap_or_default())
                        .evidence("running_s", age)
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
    fn only_long_active_client_statements_count() {
        let s = |pid, backend: &str, state: &str, secs: f64| Session {
            pid,
            in_this_database: true,
            backend_type: Some(backend.into()),
            state: Some(state.into()),
            query_age_s: Some(secs),
            query: Some("SELECT pg_sleep(1000)".into()),
            ..Session::default()
        };
        let mut ctx = HealthContext::empty();
        ctx.sessions = vec![
            s(1, "client backend", "active", 900.0),
            s(2, "client backend", "active", 10.0),
            s(3, "autovacuum worker", "active", 900.0),
            s(4, "client backend", "idle", 900.0),
        ];
        let found = LongRunningQuery.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("SELECT pg_cancel_backend(1);")
        );
    }
}
