//! The wait-event sampler: polls pg_stat_activity for the benchmark's
//! sessions on its own connection while a step runs.

use super::WaitSamples;
use crate::db::bench_pool::sample_sessions;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::Client;

/// Polls pg_stat_activity until the stop signal; counts sessions per label.
pub(super) async fn sampler(
    client: Arc<Client>,
    application_name: String,
    every: Duration,
    mut done: tokio::sync::oneshot::Receiver<()>,
) -> WaitSamples {
    let mut out = WaitSamples::default();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut done => break,
            _ = tick.tick() => {
                match sample_sessions(&client, &application_name).await {
                    Ok(rows) => {
                        out.samples += 1;
                        for r in rows {
                            let n = r.sessions.max(0) as u64;
                            let state = r.state.as_deref().unwrap_or("");
                            if state == "active" {
                                out.active_sum += n;
                            }
                            let label = match (state, &r.wait_event_type, &r.wait_event) {
                                ("active", Some(t), Some(e)) => format!("{t}:{e}"),
                                ("active", _, _) => "CPU".to_string(),
                                ("", _, _) => "unknown".to_string(),
                                (s, _, _) => s.to_string(),
                            };
                            *out.events.entry(label).or_default() += n;
                        }
                    }
                    Err(_) => out.failed += 1,
                }
            }
        }
    }
    out
}
