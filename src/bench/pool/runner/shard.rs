//! A load thread: its own single-threaded runtime and deadpool pool with
//! its share of the step's connections and clients, filled and prepared
//! before the common start, closed cleanly at the end.

use super::super::Stop;
use super::super::workload::LoadWorkload;
use super::RunConfig;
use super::task::{Schedule, StepShared, TaskOut, client_task};
use crate::db::ConnInfo;
use crate::db::bench_pool::{BenchSession, build_pool};
use anyhow::{Context, Result};
use deadpool_postgres::{Object, Pool, PoolError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

/// Connections per core from which a step packs its connections onto one
/// load thread per core instead of running one thread per connection.
const PACK_FROM_CONNECTIONS_PER_CORE: usize = 4;

/// Load threads for a step of `size` connections. Given (`explicit`): that
/// many, at most one per connection. Otherwise one thread per connection
/// (as `pgbench -j` = `-c`) while there are fewer than 4 connections per
/// core, and from 4 per core one thread per core, its connections' replies
/// handled in batches. Why, measured in paired runs against pgbench on the
/// 2-vCPU bench machine (docs/performance.md, session 5): one thread per
/// core at 8, 12, 16 and 32 connections beat pgbench by 8-24 % (14-17 µs of
/// client CPU per transaction against pgbench's 18-23), where a thread per
/// connection only matched it; at 4 and 6 connections a thread per
/// connection matched pgbench and a thread per core did not beat it;
/// threads serving 2 connections each lost 8-10 % wherever tried (4 and 6).
pub fn load_threads(size: u32, cores: usize, explicit: Option<usize>) -> usize {
    let size = size.max(1) as usize;
    if let Some(n) = explicit {
        return n.clamp(1, size);
    }
    let cores = cores.max(1);
    if size < PACK_FROM_CONNECTIONS_PER_CORE * cores {
        size
    } else {
        cores
    }
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
pub(super) struct ShardOut {
    pub(super) outs: Vec<TaskOut>,
    pub(super) abandoned: usize,
}

/// One load thread's part of a step.
pub(super) struct ShardJob {
    /// This thread's index (its pool's place in `Go::pools`).
    pub(super) index: usize,
    pub(super) info: ConnInfo,
    pub(super) session: BenchSession,
    pub(super) workload: Arc<LoadWorkload>,
    pub(super) pool_size: u32,
    pub(super) clients: usize,
    pub(super) first_client: usize,
    pub(super) sql: Vec<String>,
    pub(super) cfg: RunConfig,
    pub(super) stop: Arc<Stop>,
    pub(super) schedule: Option<Arc<Schedule>>,
    pub(super) seed: u64,
}

/// The common start, sent to every load thread once all are ready.
pub(super) struct Go {
    pub(super) start: Instant,
    /// Every thread's share of the pool, by thread index.
    pub(super) pools: Arc<Vec<Pool>>,
    pub(super) running: Arc<ShardsRunning>,
}

/// Load threads whose clients are still running. A thread keeps its
/// runtime (and so the drivers of its connections) going until all are
/// done, because another thread's client may be using one of them.
pub(super) struct ShardsRunning {
    remaining: AtomicUsize,
    all_done: tokio::sync::Notify,
}

impl ShardsRunning {
    pub(super) fn new(shards: usize) -> Self {
        Self {
            remaining: AtomicUsize::new(shards),
            all_done: tokio::sync::Notify::new(),
        }
    }

    /// This thread's clients are done; waits for the other threads' (at
    /// most until `until`: a thread that died must not hang the rest).
    async fn finish_and_wait(&self, until: Instant) {
        // Registered before the count is read, so the last thread's
        // notify_waiters cannot fall between the two.
        let all_done = self.all_done.notified();
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.all_done.notify_waiters();
            return;
        }
        let _ = tokio::time::timeout_at(until.into(), all_done).await;
    }
}

/// Runs on the load thread's own runtime: builds and fills its pool, says
/// ready (handing out its pool), waits for the common start, runs its
/// clients, waits for the other threads' clients, closes its pool.
async fn shard_main(
    job: ShardJob,
    ready: tokio::sync::oneshot::Sender<Result<Pool>>,
    go: tokio::sync::oneshot::Receiver<Option<Go>>,
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
    let _ = ready.send(filled.map(|()| pool.clone()));
    let go = match go.await {
        Ok(Some(go)) if !failed => go,
        _ => {
            pool.close();
            drop(pool);
            drivers.finish(Duration::from_secs(2)).await;
            return ShardOut::default();
        }
    };
    let start = go.start;
    let shared = Arc::new(StepShared {
        workload: job.workload.clone(),
        pools: go.pools.clone(),
        own: job.index,
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
    go.running
        .finish_and_wait(hard_deadline + Duration::from_secs(5))
        .await;
    drop(go);
    pool.close();
    drop(pool);
    drivers.finish(Duration::from_secs(2)).await;
    out
}

/// Starts one load thread with a single-threaded runtime.
pub(super) fn spawn_shard(
    job: ShardJob,
    ready: tokio::sync::oneshot::Sender<Result<Pool>>,
    go: tokio::sync::oneshot::Receiver<Option<Go>>,
    done: tokio::sync::oneshot::Sender<ShardOut>,
) -> Result<()> {
    std::thread::Builder::new()
        .name(format!("pgadvisor-load-{}", job.index))
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

#[cfg(test)]
mod tests {
    use super::{load_threads, split};

    #[test]
    fn one_thread_per_connection_then_one_per_core() {
        assert_eq!(load_threads(1, 2, None), 1);
        assert_eq!(load_threads(7, 2, None), 7);
        assert_eq!(load_threads(8, 2, None), 2);
        assert_eq!(load_threads(32, 2, None), 2);
        assert_eq!(load_threads(1000, 2, None), 2);
        assert_eq!(load_threads(63, 16, None), 63);
        assert_eq!(load_threads(64, 16, None), 16);
        assert_eq!(load_threads(3, 1, None), 3);
        assert_eq!(load_threads(4, 1, None), 1);
        assert_eq!(load_threads(8, 2, Some(3)), 3);
        assert_eq!(load_threads(2, 2, Some(64)), 2);
    }

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
