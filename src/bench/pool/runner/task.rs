//! One client task's loop: check a connection out of its thread's pool
//! (timing the wait), run a request (a statement or a script), hand the
//! connection back, record latency, pool wait and query time into its own
//! histograms and batch counters; and the open loop's shared schedule of
//! due times.

use super::super::Stop;
use super::super::script::{Command, Script, eval};
use super::super::workload::{Item, LoadWorkload};
use super::ERROR_SAMPLES;
use crate::bench::stats::hist::{new_histogram, record};
use crate::db::bench_pool::{BindValue, ROLLBACK_SQL};
use deadpool_postgres::{Object, Pool, PoolError, TimeoutType, Timeouts};
use hdrhistogram::Histogram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

/// What a task records.
pub(super) struct TaskOut {
    pub(super) latency: Histogram<u64>,
    pub(super) pool_wait: Histogram<u64>,
    pub(super) query: Histogram<u64>,
    pub(super) lag: Option<Histogram<u64>>,
    pub(super) batches: Vec<u64>,
    pub(super) errors: u64,
    pub(super) timeouts: u64,
    pub(super) unsent: u64,
    /// Requests served by a connection from another thread's share of the
    /// pool (taken because this thread's had none free).
    pub(super) borrowed: u64,
    pub(super) error_samples: Vec<String>,
}

/// Shared by the tasks of one step; read-only but for the schedule.
pub(super) struct StepShared {
    pub(super) workload: Arc<LoadWorkload>,
    /// Every load thread's share of the pool; `own` is this thread's.
    pub(super) pools: Arc<Vec<Pool>>,
    pub(super) own: usize,
    pub(super) stop: Arc<Stop>,
    pub(super) start: Instant,
    pub(super) deadline: Instant,
    pub(super) batch_ns: u64,
    pub(super) n_batches: usize,
    pub(super) scale: u32,
    pub(super) seed: u64,
    pub(super) schedule: Option<Arc<Schedule>>,
    pub(super) wait_timeout: Duration,
    pub(super) create_timeout: Duration,
}

/// The open loop's due times: one Poisson process shared by all tasks, so
/// a request waits for whichever task frees up first.
pub(super) struct Schedule {
    rate: f64,
    state: Mutex<(fastrand::Rng, f64)>,
}

impl Schedule {
    pub(super) fn new(rate: f64, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let first = exp_gap(&mut rng, rate);
        Self {
            rate,
            state: Mutex::new((rng, first)),
        }
    }

    /// The next due time, in seconds from the start.
    pub(super) fn next(&self) -> f64 {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let due = g.1;
        let gap = exp_gap(&mut g.0, self.rate);
        g.1 += gap;
        due
    }
}

fn exp_gap(rng: &mut fastrand::Rng, rate: f64) -> f64 {
    -(1.0 - rng.f64()).ln() / rate
}

/// Why a request failed.
enum Failure {
    Timeout(String),
    Error(String),
}

fn classify_db(e: &tokio_postgres::Error) -> Failure {
    let message = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    };
    if e.code() == Some(&SqlState::QUERY_CANCELED)
        || e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
    {
        Failure::Timeout(message)
    } else {
        Failure::Error(message)
    }
}

/// Runs one request (a script or a statement) on a checked-out session.
async fn run_item(
    client: &Object,
    item: &Item,
    vars: &mut [i64],
    rng: &mut fastrand::Rng,
) -> Result<(), Failure> {
    match item {
        Item::Statement(r) => {
            let statement = client
                .prepare_cached(&r.sql)
                .await
                .map_err(|e| classify_db(&e))?;
            client
                .execute_raw(
                    &statement,
                    r.params.iter().map(|p| BindValue::Text(p.as_deref())),
                )
                .await
                .map_err(|e| classify_db(&e))?;
        }
        Item::Script(script) => {
            let result = run_script(client, script, vars, rng).await;
            if result.is_err() && script.transactions {
                // Hand the session back outside any transaction; a failure
                // here shows on the next request.
                let _ = client.batch_execute(ROLLBACK_SQL).await;
            }
            result?;
        }
    }
    Ok(())
}

async fn run_script(
    client: &Object,
    script: &Script,
    vars: &mut [i64],
    rng: &mut fastrand::Rng,
) -> Result<(), Failure> {
    for command in &script.commands {
        match command {
            Command::Set { slot, expr } => {
                vars[*slot] = eval(expr, vars, rng).map_err(|e| Failure::Error(e.to_string()))?;
            }
            Command::Sleep { amount, unit_us } => {
                let n = eval(amount, vars, rng).map_err(|e| Failure::Error(e.to_string()))?;
                let us = (n.max(0) as u64).saturating_mul(*unit_us);
                tokio::time::sleep(Duration::from_micros(us)).await;
            }
            Command::Sql(sql) => {
                let statement = client
                    .prepare_cached(&sql.text)
                    .await
                    .map_err(|e| classify_db(&e))?;
                let values = &*vars;
                client
                    .execute_raw(
                        &statement,
                        sql.args.iter().map(|&slot| BindValue::Int(values[slot])),
                    )
                    .await
                    .map_err(|e| classify_db(&e))?;
            }
        }
    }
    Ok(())
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

impl TaskOut {
    fn new(n_batches: usize, open: bool) -> Self {
        Self {
            latency: new_histogram(),
            pool_wait: new_histogram(),
            query: new_histogram(),
            lag: open.then(new_histogram),
            batches: vec![0; n_batches],
            errors: 0,
            timeouts: 0,
            unsent: 0,
            borrowed: 0,
            error_samples: Vec::new(),
        }
    }

    fn fail(&mut self, failure: Failure) {
        let message = match failure {
            Failure::Timeout(m) => {
                self.timeouts += 1;
                m
            }
            Failure::Error(m) => {
                self.errors += 1;
                m
            }
        };
        if self.error_samples.len() < ERROR_SAMPLES && !self.error_samples.contains(&message) {
            self.error_samples.push(message);
        }
    }

    #[inline]
    fn complete(
        &mut self,
        shared: &StepShared,
        begin: Instant,
        checked_out: Instant,
        done: Instant,
    ) {
        record(&mut self.latency, micros(done - begin));
        record(&mut self.query, micros(done - checked_out));
        let i = (done.saturating_duration_since(shared.start).as_nanos()
            / u128::from(shared.batch_ns)) as usize;
        if done <= shared.deadline
            && let Some(b) = self.batches.get_mut(i)
        {
            *b += 1;
        }
    }
}

/// Where a checked-out connection came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    OwnShare,
    /// Another load thread's share: its driver runs on that thread.
    Borrowed,
}

/// A connection, or `Ok(None)` when the window closed while waiting for
/// one (the request is abandoned, not failed). A free connection of this
/// thread's share of the pool is taken without arming a timer (deadpool
/// treats a zero wait as a try); failing that, a free one of another
/// thread's share — so that, as with one shared pool, no request waits
/// while a connection it could use is idle; only then does the request
/// wait for its own share, bounded by the pool wait timeout or the end of
/// the window, whichever is first.
async fn checkout(shared: &StepShared, now: Instant) -> Result<Option<(Object, Source)>, Failure> {
    let at_once = Timeouts {
        wait: Some(Duration::ZERO),
        create: Some(shared.create_timeout),
        recycle: None,
    };
    let own = &shared.pools[shared.own];
    match own.timeout_get(&at_once).await {
        Ok(client) => return Ok(Some((client, Source::OwnShare))),
        Err(PoolError::Timeout(TimeoutType::Wait)) => {}
        Err(PoolError::Backend(e)) => return Err(classify_db(&e)),
        Err(other) => return Err(Failure::Error(other.to_string())),
    }
    let n = shared.pools.len();
    for offset in 1..n {
        let other = &shared.pools[(shared.own + offset) % n];
        // Only a connection that is free now; errors belong to its thread.
        if let Ok(client) = other.timeout_get(&at_once).await {
            return Ok(Some((client, Source::Borrowed)));
        }
    }
    let remaining = shared.deadline.saturating_duration_since(now);
    let window_first = remaining <= shared.wait_timeout;
    let timeouts = Timeouts {
        wait: Some(shared.wait_timeout.min(remaining)),
        create: Some(shared.create_timeout),
        recycle: None,
    };
    match own.timeout_get(&timeouts).await {
        Ok(client) => Ok(Some((client, Source::OwnShare))),
        Err(PoolError::Timeout(TimeoutType::Wait)) if window_first => Ok(None),
        Err(PoolError::Timeout(TimeoutType::Wait)) => Err(Failure::Timeout(
            "no pooled connection free within the wait timeout".to_string(),
        )),
        Err(PoolError::Backend(e)) => Err(classify_db(&e)),
        Err(other) => Err(Failure::Error(other.to_string())),
    }
}

pub(super) async fn client_task(id: usize, shared: Arc<StepShared>) -> TaskOut {
    let open = shared.schedule.is_some();
    let mut out = TaskOut::new(shared.n_batches, open);
    let mut rng =
        fastrand::Rng::with_seed(shared.seed ^ (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    // Each script keeps its own variables (slots) per task.
    let mut states: Vec<Vec<i64>> = shared
        .workload
        .items
        .iter()
        .map(|item| match item {
            Item::Script(s) => s.new_state(shared.scale, id),
            Item::Statement(_) => Vec::new(),
        })
        .collect();
    tokio::time::sleep_until(shared.start.into()).await;
    loop {
        if shared.stop.is_set() {
            break;
        }
        let (begin, want) = match &shared.schedule {
            None => {
                let now = Instant::now();
                if now >= shared.deadline {
                    break;
                }
                (now, now)
            }
            Some(schedule) => {
                let due_s = schedule.next();
                let due = shared.start + Duration::from_secs_f64(due_s);
                if due >= shared.deadline {
                    break;
                }
                if due > Instant::now() {
                    tokio::time::sleep_until(due.into()).await;
                }
                let started = Instant::now();
                if started >= shared.deadline {
                    out.unsent += 1;
                    break;
                }
                if let Some(lag) = &mut out.lag {
                    record(lag, micros(started - due));
                }
                (due, started)
            }
        };
        // A request still waiting for a connection when the window closes
        // is abandoned: it would only lengthen the step and add commits
        // that the window's throughput does not count.
        let client = match checkout(&shared, want).await {
            Ok(None) => {
                if open {
                    out.unsent += 1;
                }
                break;
            }
            Ok(Some((c, source))) => {
                if source == Source::Borrowed {
                    out.borrowed += 1;
                }
                c
            }
            Err(f) => {
                out.fail(f);
                // A server that refuses connections must not be hammered in
                // a tight loop.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let checked_out = Instant::now();
        record(&mut out.pool_wait, micros(checked_out - want));
        let index = shared.workload.pick(&mut rng);
        let item = &shared.workload.items[index];
        let result = run_item(&client, item, &mut states[index], &mut rng).await;
        let done = Instant::now();
        drop(client);
        match result {
            Ok(()) => out.complete(&shared, begin, checked_out, done),
            Err(f) => out.fail(f),
        }
    }
    out
}
