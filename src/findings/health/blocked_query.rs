//! `blocked-query`: a statement has been waiting for a lock another
//! session holds, with who blocks whom (pg_blocking_pids). The blocker is
//! often idle in a transaction; ending it releases the lock.

use super::{HealthContext, HealthRule, Needs, Session, duration, short_query};
use crate::findings::{Finding, Severity, Thresholds};

pub struct BlockedQuery;

const ID: &str = "blocked-query";

fn describe(s: &Session) -> String {
    let state = s.state.as_deref().unwrap_or("state hidden");
    let age = s.xact_age_s.map_or(String::new(), |a| {
        format!(", transaction open {}", duration(a))
    });
    format!(
        "pid {} ({}, {state}{age}: {})",
        s.pid,
        s.user.as_deref().unwrap_or("?"),
        short_query(s.query.as_deref(), 80)
    )
}

/// The session at the head of the wait chain: follow the first blocker
/// until one that waits for nobody (bounded, in case of a cycle).
fn chain_head(ctx: &HealthContext, s: &Session) -> Option<i32> {
    let mut pid = *s.blocked_by.first()?;
    for _ in 0..32 {
        match ctx.sessions.iter().find(|o| o.pid == pid) {
            Some(o) if !o.blocked_by.is_empty() => pid = o.blocked_by[0],
            _ => return Some(pid),
        }
    }
    Some(pid)
}

impl HealthRule for BlockedQuery {
    fn id(&self) -> &'static str {
        ID
    }

    fn needs(&self) -> Needs {
        Needs::ReadAllStats
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        ctx.sessions
            .iter()
            .filter(|s| s.in_this_database && !s.blocked_by.is_empty())
            .filter_map(|s| {
                // A waiting statement's state changed when it started.
                let waited = s.query_age_s.or(s.state_age_s)?;
                if waited < t.blocked_min_wait_seconds {
                    return None;
                }
                let blockers: Vec<&Session> = s
                    .blocked_by
                    .iter()
                    .filter_map(|pid| ctx.sessions.iter().find(|o| o.pid == *pid))
                    .collect();
                let named: Vec<String> = s
                    .blocked_by
                    .iter()
                    .map(|pid| {
                        blockers
                            .iter()
                            .find(|b| b.pid == *pid)
                            .map_or(format!("pid {pid}"), |b| describe(b))
                    })
                    .collect();
                let head = chain_head(ctx, s);
                let fix = head.map(|pid| format!("SELECT pg_terminate_backend({pid});"));
                let message = format!(
                    "{} has waited {} for a lock held by {}",
                    describe(s),
                    duration(waited),
                    named.join("; ")
                );
                let advice = format!(
                    "Lock waits queue: everything behind this statement waits too. {} Keep transactions that take locks \
                     short, and give DDL a lock_timeout so it gives up instead of queueing.",
                    match head {
                        Some(pid) => format!("If pid {pid} should not be holding its transaction open, ending it (its transaction rolls back) releases the lock."),
                        None => String::new(),
                    }
                );
                let mut f = Finding::new(ID, Severity::Warning, message, advice)
                    .evidence("pid", u64::from(s.pid.unsigned_abs()))
                    .evidence("waited_s", waited)
                    .evidence("query", s.query.clone().unwrap_or_default())
                    .evidence("blocked_by", s.blocked_by.iter().map(|p| p.to_string()).collect::<Vec<_>>())
                    .evidence("blockers", named)
                    .fix_sql(fix);
                if let (Some(ty), Some(ev)) = (&s.wait_event_type, &s.wait_event) {
                    f = f.evidence("wait_event", format!("{ty}:{ev}"));
                }
                Some(f)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_blocks_whom_is_named_and_the_head_of_the_chain_is_the_fix() {
        let holder = Session {
            pid: 100,
            user: Some("app".into()),
            backend_type: Some("client backend".into()),
            state: Some("idle in transaction".into()),
            xact_age_s: Some(400.0),
            query: Some("UPDATE accounts SET balance = 0 WHERE id = 1".into()),
            ..Session::default()
        };
        let waiter = Session {
            pid: 200,
            in_this_database: true,
            state: Some("active".into()),
            query_age_s: Some(30.0),
            wait_event_type: Some("Lock".into()),
            wait_event: Some("transactionid".into()),
            query: Some("UPDATE accounts SET balance = 1 WHERE id = 1".into()),
            blocked_by: vec![100],
            ..Session::default()
        };
        let second = Session {
            pid: 300,
            blocked_by: vec![200],
            ..waiter.clone()
        };
        let mut ctx = HealthContext::empty();
        ctx.sessions = vec![holder, waiter, second];
        let found = BlockedQuery.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 2);
        assert!(
            found[0]
                .message
                .contains("pid 100 (app, idle in transaction"),
            "{}",
            found[0].message
        );
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("SELECT pg_terminate_backend(100);")
        );
        assert_eq!(found[0].evidence["wait_event"], "Lock:transactionid");
        // pid 300 waits for 200, which waits for 100: 100 is the one to end.
        assert_eq!(
            found[1].fix_sql.as_deref(),
            Some("SELECT pg_terminate_backend(100);")
        );
    }
}
