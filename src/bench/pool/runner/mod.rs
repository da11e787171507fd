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
//!
//! The pieces: `task` (one client's loop and what it records), `shard`
//! (a load thread: its runtime, pool and clients), `sampler`
//! (pg_stat_activity during the step); this file runs a step over them
//! and merges what they measured.

mod sampler;
mod shard;
mod task;

pub use shard::{load_threads, split};

use super::Stop;
use super::cpu::process_cpu_time;
use super::workload::LoadWorkload;
use crate::bench::stats::hist::{merge, new_histogram};
use crate::db::ConnInfo;
use crate::db::bench_pool::{BenchSession, commits, sessions_open};
use anyhow::Result;
use hdrhistogram::Histogram;
use shard::{Go, ShardJob, ShardsRunning, spawn_shard};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use task::Schedule;
use tokio_postgres::Client;

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
    /// Load threads as given (--client-threads), at most one per
    /// connection; `None`: `shard::load_threads` decides per pool size.
    pub threads: Option<usize>,
    /// This machine's cores (for the automatic thread count).
    pub cores: usize,
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
    /// Requests served by a connection of another load thread's share of
    /// the pool (their own thread's share had none free).
    pub borrowed: u64,
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

/// Distinct error messages kept per step (and per task).
const ERROR_SAMPLES: usize = 5;

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
    let parts = split(
        size,
        cfg.clients,
        load_threads(size, cfg.cores, cfg.threads),
    );
    let mut readies = Vec::new();
    let mut gos = Vec::new();
    let mut dones = Vec::new();
    let mut first_client = 0;
    for (i, &(pool_size, clients)) in parts.iter().enumerate() {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let job = ShardJob {
            index: i,
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
        spawn_shard(job, ready_tx, go_rx, done_tx)?;
        readies.push(ready_rx);
        gos.push(go_tx);
        dones.push(done_rx);
    }
    // Every thread has its pool filled (or one failed, or Ctrl-C came).
    let mut failure: Option<anyhow::Error> = None;
    let mut pools = Vec::with_capacity(readies.len());
    for ready in readies {
        let r = tokio::select! {
            r = ready => Some(r.unwrap_or_else(|_| Err(anyhow::anyhow!("a load thread ended early")))),
            () = stop.wait() => None,
        };
        match r {
            Some(Ok(pool)) => pools.push(pool),
            Some(Err(e)) if failure.is_none() => failure = Some(e),
            _ => {}
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
    let sampler_task = tokio::spawn(sampler::sampler(
        target.sampler.clone(),
        target.session.application_name.clone(),
        cfg.sample_every,
        sampler_stopped,
    ));
    let cpu_before = process_cpu_time();
    // A short lead so that every task is waiting when the clock starts.
    let start = Instant::now() + Duration::from_millis(20);
    let pools = Arc::new(pools);
    let running = Arc::new(ShardsRunning::new(gos.len()));
    for go in gos {
        let _ = go.send(Some(Go {
            start,
            pools: pools.clone(),
            running: running.clone(),
        }));
    }
    drop(pools);
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
        borrowed: 0,
        error_samples: Vec::new(),
        abandoned,
        commits: commits_after - commits_before,
        rollbacks: rollbacks_after - rollbacks_before,
        waits,
        cpu,
        wall,
    };
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
        step.borrowed += out.borrowed;
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
