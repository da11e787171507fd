//! One measured step: a pool of N sessions, a fixed set of client tasks
//! competing for it for a fixed time, each recording into its own
//! histograms and batch counters (no shared state on the hot path but the
//! pool itself), merged when the step ends. The pool and the clients are
//! split over load threads, each with its own single-threaded runtime and
//! deadpool pool (see `split` for why). Closed loop: each task sends
//! its next request as soon as the previous one ends. Open loop (--rate):
//! requests are due at Poisson-spaced times from one shared schedule, and
//! latency counts from when a request was due, not from when a task got to
//! it — so a pool that falls behind shows its queue in the latencies
//! instead of hiding it (no coordinated omission).
//!
//! Around the tasks: the pool is filled and every statement prepared on
//! every connection before the clock starts; the wait-event sampler polls
//! pg_stat_activity on its own connection; the step's commits come from
//! pg_stat_database once the pool's sessions have ended (a backend reports
//! its counters when it exits); the process's CPU time brackets the step.

use super::Stop;
use super::cpu::process_cpu_time;
use super::script::{Command, eval};
use super::workload::{Item, LoadWorkload};
use crate::bench::stats::hist::{new_histogram, record};
use crate::db::ConnInfo;

use crate::db::bench_pool::{
    BenchSession, BindValue, ROLLBACK_SQL, build_pool, commits, sample_sessions, sessions_open,
};
use anyhow::{Context, Result};
use deadpool_postgres::{Object, Pool, PoolError, TimeoutType, Timeouts};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

/// Closed or open loop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LoadMode {
    Closed,
    /// Requests per second, Poisson arrivals.
    Open {
        rate: f64,
    },
}

/// Everything a step needs besides its pool size.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub clients: usize,
    pub duration: Duration,
    /// Length of a batch for the batch-means interval.
    pub batch: Duration,
    pub mode: LoadMode,
    /// Longest wait for a pooled connection before the request counts as a
    /// timeout.
    pub wait_timeout: Duration,
    pub statement_timeout: Duration,
    pub scale: u32,
    pub seed: u64,
    /// Sampling period of pg_stat_activity.
    pub sample_every: Duration,
    /// Load threads, each with its own runtime, share of the pool and
    /// clients (fewer when the pool or the clients are fewer).
    pub threads: usize,
}

/// Where a step runs.
pub struct Target<'a> {
    pub info: &'a ConnInfo,
    pub session: &'a BenchSession,
    /// The run's own session: commits, sessions left.
    pub control: &'a Client,
    /// The sampler's session.
    pub sampler: Arc<Client>,
}

/// What one step measured (raw: histograms and counters).
#[derive(Debug)]
pub struct StepOutcome {
    pub pool_size: u32,
    pub clients: usize,
    /// Load threads (and per-thread pools) the step ran on.
    pub threads: usize,
    pub duration: Duration,
    pub batch: Duration,
    /// Requests completed in each batch of the measured window.
    pub batches: Vec<u64>,
    /// End to end: from the request's start (closed) or due time (open).
    pub latency: Histogram<u64>,
    pub pool_wait: Histogram<u64>,
    pub query: Histogram<u64>,
    /// Open loop: how late requests started after they were due.
    pub schedule_lag: Option<Histogram<u64>>,
    pub errors: u64,
    pub timeouts: u64,
    /// Open loop: requests due within the window that never started.
    pub unsent: u64,
    /// The first few distinct error messages.
    pub error_samples: Vec<String>,
    /// Client tasks still running at the hard deadline (aborted).
    pub abandoned: usize,
    pub commits: i64,
    pub rollbacks: i64,
    pub waits: WaitSamples,
    /// Process CPU time over the step, and the wall time it covers.
    pub cpu: Duration,
    pub wall: Duration,
}

/// pg_stat_activity samples of the benchmark's sessions.
#[derive(Clone, Debug, Default)]
pub struct WaitSamples {
    pub samples: u32,
    /// Session-samples per label (`CPU`, `Lock:transactionid`, `idle`, …).
    pub events: BTreeMap<String, u64>,
    /// Sum over samples of the sessions in state `active`.
    pub active_sum: u64,
    pub failed: u32,
}

const ERROR_SAMPLES: usize = 5;

/// What a task records.
struct TaskOut {
    latency: Histogram<u64>,
    pool_wait: Histogram<u64>,
    query: Histogram<u64>,
    lag: Option<Histogram<u64>>,
    batches: Vec<u64>,
    errors: u64,
    timeouts: u64,
    unsent: u64,
    error_samples: Vec<String>,
}

/// Shared by the tasks of one step; read-only but for the schedule.
struct StepShared {
    workload: Arc<LoadWorkload>,
    pool: Pool,
    stop: Arc<Stop>,
    start: Instant,
    deadline: Instant,
    batch_ns: u64,
    n_batches: usize,
    scale: u32,
    seed: u64,
    schedule: Option<Arc<Schedule>>,
    wait_timeout: Duration,
    create_timeout: Duration,
}

/// The open loop's due times: one Poisson process shared by all tasks, so
/// a request waits for whichever task frees up first.
struct Schedule {
    rate: f64,
    state: Mutex<(fastrand::Rng, f64)>,
}

impl Schedule {
    fn new(rate: f64, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let first = exp_gap(&mut rng, rate);
        Self {
            rate,
            state: Mutex::new((rng, first)),
        }
    }

    /// The next due time, in seconds from the start.
    fn next(&self) -> f64 {
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
    script: &super::script::Script,
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

/// A connection, or `Ok(None)` when the window closed while waiting for
/// one (the request is abandoned, not failed). One timer bounds the wait:
/// the pool wait timeout or the end of the window, whichever is first.
async fn checkout(shared: &StepShared, now: Instant) -> Result<Option<Object>, Failure> {
    let remaining = shared.deadline.saturating_duration_since(now);
    let window_first = remaining <= shared.wait_timeout;
    let timeouts = Timeouts {
        wait: Some(shared.wait_timeout.min(remaining)),
        create: Some(shared.create_timeout),
        recycle: None,
    };
    match shared.pool.timeout_get(&timeouts).await {
        Ok(client) => Ok(Some(client)),
        Err(PoolError::Timeout(TimeoutType::Wait)) if window_first => Ok(None),
        Err(PoolError::Timeout(TimeoutType::Wait)) => Err(Failure::Timeout(
            "no pooled connection free within the wait timeout".to_string(),
        )),
        Err(PoolError::Backend(e)) => Err(classify_db(&e)),
        Err(other) => Err(Failure::Error(other.to_string())),
    }
}

async fn client_task(id: usize, shared: Arc<StepShared>) -> TaskOut {
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
            Ok(Some(c)) => c,
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

/// Fills the pool to `size` sessions and prepares every statement on each,
/// so that the measured window sees neither connects nor parses. Errors
/// here (no connection, a statement that does not prepare) end the run.
async fn prefill(pool: &Pool, size: usize, sql: &[String], target: &str) -> Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..size {
        let pool = pool.clone();
        let sql = sql.to_vec();
        set.spawn(async move {
            let client = pool.get().await.map_err(|e| match e {
                PoolError::Backend(e) => anyhow::Error::new(e),
                other => anyhow::anyhow!("{other}"),
            })?;
            for text in &sql {
                client.prepare_cached(text).await.map_err(|e| {
                    let message = match e.as_db_error() {
                        Some(db) => db.message().to_string(),
                        None => e.to_string(),
                    };
                    anyhow::anyhow!("the statement {text:?} does not prepare: {message}")
                })?;
            }
            // Held until every task has its own session.
            Ok::<Object, anyhow::Error>(client)
        });
    }
    let mut held = Vec::with_capacity(size);
    while let Some(r) = set.join_next().await {
        let client = r
            .context("a pool task failed")?
            .with_context(|| format!("cannot open the pool's sessions on {target}"))?;
        held.push(client);
    }
    drop(held);
    Ok(())
}

/// Polls pg_stat_activity until the stop signal; counts sessions per label.
async fn sampler(
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

/// How a step's pool and clients are split over the load threads: each
/// thread runs a single-threaded runtime with its own share of the pool's
/// connections and of the clients (pgbench's `-j`). One shared pool behind
/// a work-stealing runtime cost up to 40 % of the throughput at low
/// concurrency on the bench machine (a reply was often handled by another
/// worker than the one that sent the request, and waking it is dear in a
/// VM); per-thread pools keep each connection, its driver and its clients
/// on one thread. `(pool size, clients)` per thread, pool sizes differing by
/// at most one and clients in proportion.
pub fn split(size: u32, clients: usize, threads: usize) -> Vec<(u32, usize)> {
    let n = threads.max(1).min(size.max(1) as usize).min(clients.max(1));
    let mut out = Vec::with_capacity(n);
    let mut given_clients = 0usize;
    let mut given_size = 0u32;
    for i in 0..n {
        let share = size / n as u32 + u32::from((i as u32) < size % n as u32);
        given_size += share;
        // Clients follow the pool shares; rounding leftovers go last.
        let upto = if i + 1 == n {
            clients
        } else {
            (clients as u64 * u64::from(given_size) / u64::from(size.max(1))) as usize
        };
        out.push((share, upto - given_clients));
        given_clients = upto;
    }
    out
}

/// What one load thread did.
#[derive(Default)]
struct ShardOut {
    outs: Vec<TaskOut>,
    abandoned: usize,
}

/// One load thread's part of a step.
struct ShardJob {
    info: ConnInfo,
    session: BenchSession,
    workload: Arc<LoadWorkload>,
    pool_size: u32,
    clients: usize,
    first_client: usize,
    sql: Vec<String>,
    cfg: RunConfig,
    stop: Arc<Stop>,
    schedule: Option<Arc<Schedule>>,
    seed: u64,
}

/// Runs on the load thread's own runtime: builds and fills its pool, says
/// ready, waits for the common start, runs its clients, closes its pool.
async fn shard_main(
    job: ShardJob,
    ready: tokio::sync::oneshot::Sender<Result<()>>,
    go: tokio::sync::oneshot::Receiver<Option<Instant>>,
) -> ShardOut {
    let display = job.info.display_url();
    let built = build_pool(
        &job.info,
        &job.session,
        job.pool_size as usize,
        job.cfg.wait_timeout,
    );
    let (pool, drivers) = match built {
        Ok(p) => p,
        Err(e) => {
            let _ = ready.send(Err(e));
            return ShardOut::default();
        }
    };
    let filled = prefill(&pool, job.pool_size as usize, &job.sql, &display).await;
    let failed = filled.is_err();
    let _ = ready.send(filled);
    let start = match go.await {
        Ok(Some(start)) if !failed => start,
        _ => {
            pool.close();
            drop(pool);
            drivers.finish(Duration::from_secs(2)).await;
            return ShardOut::default();
        }
    };
    let shared = Arc::new(StepShared {
        workload: job.workload.clone(),
        pool: pool.clone(),
        stop: job.stop.clone(),
        start,
        deadline: start + job.cfg.duration,
        batch_ns: job.cfg.batch.as_nanos().max(1) as u64,
        n_batches: (job.cfg.duration.as_nanos() / job.cfg.batch.as_nanos().max(1)).max(1) as usize,
        scale: job.cfg.scale,
        seed: job.seed,
        schedule: job.schedule.clone(),
        wait_timeout: job.cfg.wait_timeout,
        create_timeout: job
            .info
            .connect_timeout()
            .unwrap_or(Duration::from_secs(30)),
    });
    let mut set = tokio::task::JoinSet::new();
    for id in job.first_client..job.first_client + job.clients {
        set.spawn(client_task(id, shared.clone()));
    }
    // Every request is bounded by the pool wait and the statement timeout;
    // past this, a task is stuck and is aborted.
    let hard_deadline =
        shared.deadline + job.cfg.wait_timeout + job.cfg.statement_timeout + Duration::from_secs(5);
    let mut out = ShardOut::default();
    loop {
        match tokio::time::timeout_at(hard_deadline.into(), set.join_next()).await {
            Ok(None) => break,
            Ok(Some(Ok(o))) => out.outs.push(o),
            Ok(Some(Err(_))) => out.abandoned += 1,
            Err(_) => {
                out.abandoned += set.len();
                set.abort_all();
                while set.join_next().await.is_some() {}
                break;
            }
        }
    }
    drop(shared);
    pool.close();
    drop(pool);
    drivers.finish(Duration::from_secs(2)).await;
    out
}

/// Starts one load thread with a single-threaded runtime.
fn spawn_shard(
    index: usize,
    job: ShardJob,
    ready: tokio::sync::oneshot::Sender<Result<()>>,
    go: tokio::sync::oneshot::Receiver<Option<Instant>>,
    done: tokio::sync::oneshot::Sender<ShardOut>,
) -> Result<()> {
    std::thread::Builder::new()
        .name(format!("pgadvisor-load-{index}"))
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ =
                        ready
                            .send(Err(anyhow::Error::new(e)
                                .context("cannot start a load thread's runtime")));
                    return;
                }
            };
            let out = runtime.block_on(shard_main(job, ready, go));
            let _ = done.send(out);
        })
        .context("cannot start a load thread")?;
    Ok(())
}

/// Runs one step at `size`. `Ok(None)` when the stop signal came during
/// it (the partial step is not reported). `on_tick` gets the seconds
/// elapsed in the step, a few times a second (the progress bar).
pub async fn run_step(
    target: &Target<'_>,
    workload: &Arc<LoadWorkload>,
    cfg: &RunConfig,
    size: u32,
    stop: &Arc<Stop>,
    on_tick: &(dyn Fn(f64) + Sync),
) -> Result<Option<StepOutcome>> {
    let sql: Vec<String> = workload
        .sql_texts()
        .into_iter()
        .map(str::to_string)
        .collect();
    let seed = cfg.seed ^ u64::from(size).wrapping_mul(0x2545_f491_4f6c_dd1d);
    let schedule = match cfg.mode {
        LoadMode::Closed => None,
        LoadMode::Open { rate } => Some(Arc::new(Schedule::new(rate, seed))),
    };
    let parts = split(size, cfg.clients, cfg.threads);
    let mut readies = Vec::new();
    let mut gos = Vec::new();
    let mut dones = Vec::new();
    let mut first_client = 0;
    for (i, &(pool_size, clients)) in parts.iter().enumerate() {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let job = ShardJob {
            info: target.info.clone(),
            session: target.session.clone(),
            workload: workload.clone(),
            pool_size,
            clients,
            first_client,
            sql: sql.clone(),
            cfg: cfg.clone(),
            stop: stop.clone(),
            schedule: schedule.clone(),
            seed,
        };
        first_client += clients;
        spawn_shard(i, job, ready_tx, go_rx, done_tx)?;
        readies.push(ready_rx);
        gos.push(go_tx);
        dones.push(done_rx);
    }
    // Every thread has its pool filled (or one failed, or Ctrl-C came).
    let mut failure: Option<anyhow::Error> = None;
    for ready in readies {
        let r = tokio::select! {
            r = ready => r.unwrap_or_else(|_| Err(anyhow::anyhow!("a load thread ended early"))),
            () = stop.wait() => Ok(()),
        };
        if let Err(e) = r
            && failure.is_none()
        {
            failure = Some(e);
        }
    }
    if failure.is_some() || stop.is_set() {
        for go in gos {
            let _ = go.send(None);
        }
        for done in dones {
            let _ = done.await;
        }
        wait_sessions_gone(target).await;
        return match failure {
            Some(e) if !stop.is_set() => Err(e),
            _ => Ok(None),
        };
    }
    let (commits_before, rollbacks_before) = commits(target.control).await?;
    let (sampler_stop, sampler_stopped) = tokio::sync::oneshot::channel();
    let sampler_task = tokio::spawn(sampler(
        target.sampler.clone(),
        target.session.application_name.clone(),
        cfg.sample_every,
        sampler_stopped,
    ));
    let cpu_before = process_cpu_time();
    // A short lead so that every task is waiting when the clock starts.
    let start = Instant::now() + Duration::from_millis(20);
    for go in gos {
        let _ = go.send(Some(start));
    }
    let mut outs = Vec::with_capacity(cfg.clients);
    let mut abandoned = 0usize;
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    for done in dones {
        tokio::pin!(done);
        loop {
            tokio::select! {
                r = &mut done => {
                    match r {
                        Ok(shard) => {
                            abandoned += shard.abandoned;
                            outs.extend(shard.outs);
                        }
                        Err(_) => abandoned += 1,
                    }
                    break;
                }
                _ = ticker.tick() => {
                    let elapsed = Instant::now().saturating_duration_since(start);
                    on_tick(elapsed.min(cfg.duration).as_secs_f64());
                }
            }
        }
    }
    let wall = start.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu_before);
    let _ = sampler_stop.send(());
    let waits = sampler_task.await.unwrap_or_default();
    wait_sessions_gone(target).await;
    if stop.is_set() {
        return Ok(None);
    }
    let (commits_after, rollbacks_after) = commits(target.control).await?;
    let batch_ns = cfg.batch.as_nanos().max(1);
    let n_batches = (cfg.duration.as_nanos() / batch_ns).max(1) as usize;
    let mut unsent = 0;
    if let Some(schedule) = &schedule {
        let limit = cfg.duration.as_secs_f64();
        while schedule.next() < limit {
            unsent += 1;
        }
    }
    let mut step = StepOutcome {
        pool_size: size,
        clients: cfg.clients,
        threads: parts.len(),
        duration: cfg.duration,
        batch: cfg.batch,
        batches: vec![0; n_batches],
        latency: new_histogram(),
        pool_wait: new_histogram(),
        query: new_histogram(),
        schedule_lag: schedule.as_ref().map(|_| new_histogram()),
        errors: 0,
        timeouts: 0,
        unsent,
        error_samples: Vec::new(),
        abandoned,
        commits: commits_after - commits_before,
        rollbacks: rollbacks_after - rollbacks_before,
        waits,
        cpu,
        wall,
    };
    use crate::bench::stats::hist::merge;
    for out in outs {
        merge(&mut step.latency, &out.latency);
        merge(&mut step.pool_wait, &out.pool_wait);
        merge(&mut step.query, &out.query);
        if let (Some(into), Some(from)) = (&mut step.schedule_lag, &out.lag) {
            merge(into, from);
        }
        for (a, b) in step.batches.iter_mut().zip(&out.batches) {
            *a += b;
        }
        step.errors += out.errors;
        step.timeouts += out.timeouts;
        step.unsent += out.unsent;
        for m in out.error_samples {
            if step.error_samples.len() < ERROR_SAMPLES && !step.error_samples.contains(&m) {
                step.error_samples.push(m);
            }
        }
    }
    Ok(Some(step))
}

/// Waits (up to 5 s) until the server has ended the pool's sessions, so the
/// next step's pool never overlaps this one's (the connection cap holds)
/// and their counters have reached pg_stat_database.
async fn wait_sessions_gone(target: &Target<'_>) {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        match sessions_open(target.control, &target.session.application_name).await {
            Ok(0) | Err(_) => break,
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn pools_and_clients_are_split_over_the_threads() {
        assert_eq!(split(1, 4, 2), vec![(1, 4)]);
        assert_eq!(split(2, 2, 2), vec![(1, 1), (1, 1)]);
        assert_eq!(split(5, 20, 2), vec![(3, 12), (2, 8)]);
        assert_eq!(split(32, 128, 2), vec![(16, 64), (16, 64)]);
        assert_eq!(split(8, 3, 4), vec![(3, 1), (3, 1), (2, 1)]);
        assert_eq!(split(4, 4, 1), vec![(4, 4)]);
        for (size, clients, threads) in [(7, 9, 3), (16, 5, 8), (3, 100, 2)] {
            let parts = split(size, clients, threads);
            assert_eq!(parts.iter().map(|p| p.0).sum::<u32>(), size);
            assert_eq!(parts.iter().map(|p| p.1).sum::<usize>(), clients);
            assert!(parts.iter().all(|p| p.0 >= 1));
        }
    }
}
