//! Live runs of bench-cache: the key stream replayed against the real
//! database (and Redis), one strategy at a time — no cache, an in-process
//! L1 (moka), Redis as L2, or both — by `clients` tasks in a closed loop,
//! cache-aside, with writes that invalidate. `client` is the loop, `l1` and
//! `redis` the tiers, `versions` the staleness bookkeeping; this module
//! sets a run up (fresh tiers, warm-up), runs it and gathers what the
//! report needs, including the simulation of the very stream the clients
//! followed, for the sim-versus-live check.

pub mod client;
pub mod l1;
pub mod redis;
pub mod versions;

use crate::bench::pool::Stop;
use crate::db::bench_cache::{BenchCacheSession, ScratchCounters, TraceStatement};
use anyhow::Result;
use client::{Tally, run_client};
use l1::{Cached, L1, L1Policy};
use redis::{RedisTier, RedisUsage};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use versions::VersionBook;

/// A caching strategy, from the simplest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Strategy {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "l1")]
    L1,
    #[serde(rename = "l2")]
    L2,
    #[serde(rename = "l1+l2")]
    L1L2,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Strategy::None, Strategy::L1, Strategy::L2, Strategy::L1L2];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::None => "none",
            Strategy::L1 => "l1",
            Strategy::L2 => "l2",
            Strategy::L1L2 => "l1+l2",
        }
    }

    pub fn parse(text: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == text.trim())
    }

    pub fn has_l1(self) -> bool {
        matches!(self, Strategy::L1 | Strategy::L1L2)
    }

    pub fn has_l2(self) -> bool {
        matches!(self, Strategy::L2 | Strategy::L1L2)
    }
}

/// One live run to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSpec {
    pub strategy: Strategy,
    /// L1 entries, for strategies with an L1.
    pub l1_capacity: Option<u64>,
}

impl RunSpec {
    pub fn label(&self) -> String {
        match self.l1_capacity {
            Some(c) => format!("{} (L1 capacity {c})", self.strategy.name()),
            None => self.strategy.name().to_string(),
        }
    }
}

/// Settings shared by every run.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub duration: Duration,
    pub write_ratio: f64,
    pub ttl: Duration,
    /// Hottest keys loaded into the tiers before the clock starts.
    pub warm_up: usize,
    pub seed: u64,
    pub l1_policy: L1Policy,
}

/// What every run shares: the sessions (one per client), Redis, the
/// stream, the trace statements and the version book.
pub struct Bench {
    /// The database, as shown in messages (no password).
    pub database: String,
    pub sessions: Vec<Arc<BenchCacheSession>>,
    pub l2: Option<RedisTier>,
    /// The keys the clients follow, in order.
    pub stream: Arc<Vec<u32>>,
    pub distinct: u32,
    /// For a trace: each dense key's statement (`None`: not runnable).
    pub trace: Option<Arc<Vec<Option<TraceStatement>>>>,
    pub versions: Arc<VersionBook>,
    /// Ctrl-C.
    pub stop: Arc<Stop>,
}

/// What the clients of one run share.
pub struct RunContext {
    pub database: String,
    pub clients: usize,
    pub sessions: Vec<Arc<BenchCacheSession>>,
    pub l1: Option<L1>,
    pub l2: Option<RedisTier>,
    pub stream: Arc<Vec<u32>>,
    pub trace: Option<Arc<Vec<Option<TraceStatement>>>>,
    pub versions: Arc<VersionBook>,
    pub write_ratio: f64,
    pub seed: u64,
    deadline: Instant,
    stop: Arc<Stop>,
    aborted: AtomicBool,
}

impl RunContext {
    #[inline]
    pub fn should_stop(&self) -> bool {
        self.stop.is_set()
            || self.aborted.load(Ordering::Relaxed)
            || Instant::now() >= self.deadline
    }

    /// Another client failed for good: everyone stops.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::Relaxed);
    }
}

/// Progress of the live runs, for the command to show.
pub trait LiveProgress: Sync {
    fn note(&self, message: &str);
    fn tick(&self, seconds_into_run: f64);
}

/// The outcome of one run (partial when it was interrupted or failed).
pub struct RunOutcome {
    pub spec: RunSpec,
    pub clients: usize,
    pub elapsed: Duration,
    pub tally: Tally,
    /// Per client: where it started and how many stream positions it used.
    pub segments: Vec<(usize, u64)>,
    /// The warm-up keys, coldest first, as they were loaded.
    pub warm_keys: Vec<u32>,
    pub warm_up_queries: u64,
    /// L1 entries and payload bytes at the end.
    pub l1_usage: Option<(u64, u64)>,
    /// Redis: used_memory before and after, and what the prefix held.
    pub redis_used_before: Option<u64>,
    pub redis_used_after: Option<u64>,
    pub redis_usage: Option<RedisUsage>,
    /// pg_stat_statements counters of the scratch statements, this run.
    pub pgss: Option<ScratchCounters>,
    pub interrupted: bool,
    /// Why the run stopped early, naming the server that failed.
    pub error: Option<anyhow::Error>,
}

/// The `n` most frequent keys of the stream, coldest of them first (so an
/// LRU filled in this order keeps the hottest).
pub fn hottest_keys(stream: &[u32], distinct: u32, n: usize) -> Vec<u32> {
    if n == 0 {
        return Vec::new();
    }
    let mut counts = vec![0u32; distinct as usize];
    for &k in stream {
        counts[k as usize] += 1;
    }
    let mut keys: Vec<u32> = (0..distinct).filter(|&k| counts[k as usize] > 0).collect();
    keys.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    keys.truncate(n);
    keys.reverse();
    keys
}

/// One run: fresh tiers, warm-up, `clients` tasks for the duration, then
/// what the tiers hold, and the tiers emptied again. `counters` reads the
/// scratch statements' pg_stat_statements counters (None: not available).
pub async fn run_strategy<C>(
    bench: &Bench,
    spec: RunSpec,
    settings: &RunSettings,
    progress: &dyn LiveProgress,
    counters: C,
) -> RunOutcome
where
    C: AsyncFn() -> Option<ScratchCounters>,
{
    let clients = bench.sessions.len();
    let mut outcome = RunOutcome {
        spec,
        clients,
        elapsed: Duration::ZERO,
        tally: Tally::default(),
        segments: Vec::new(),
        warm_keys: Vec::new(),
        warm_up_queries: 0,
        l1_usage: None,
        redis_used_before: None,
        redis_used_after: None,
        redis_usage: None,
        pgss: None,
        interrupted: false,
        error: None,
    };
    let l2 = if spec.strategy.has_l2() {
        bench.l2.clone()
    } else {
        None
    };
    if spec.strategy.has_l2() && l2.is_none() {
        outcome.error = Some(anyhow::anyhow!("{} needs --redis", spec.strategy.name()));
        return outcome;
    }
    let l1 = spec.strategy.has_l1().then(|| {
        L1::new(
            spec.l1_capacity.unwrap_or(1),
            settings.l1_policy,
            settings.ttl,
        )
    });
    if let Some(l2) = &l2 {
        let before = async {
            l2.clear().await?;
            l2.used_memory().await
        };
        match before.await {
            Ok(used) => outcome.redis_used_before = Some(used),
            Err(e) => {
                outcome.error = Some(e);
                return outcome;
            }
        }
    }

    if settings.warm_up > 0 && (l1.is_some() || l2.is_some()) {
        let keys = hottest_keys(&bench.stream, bench.distinct, settings.warm_up);
        progress.note(&format!("{}: warming up {} keys", spec.label(), keys.len()));
        if let Err(e) = warm_up(bench, l1.as_ref(), l2.as_ref(), &keys, &mut outcome).await {
            outcome.error = Some(e);
            return outcome;
        }
        outcome.warm_keys = keys;
    }
    if bench.stop.is_set() {
        outcome.interrupted = true;
        return outcome;
    }

    let counters_before = counters().await;
    let ctx = Arc::new(RunContext {
        database: bench.database.clone(),
        clients,
        sessions: bench.sessions.clone(),
        l1: l1.clone(),
        l2: l2.clone(),
        stream: bench.stream.clone(),
        trace: bench.trace.clone(),
        versions: bench.versions.clone(),
        write_ratio: settings.write_ratio,
        seed: settings.seed,
        deadline: Instant::now() + settings.duration,
        stop: bench.stop.clone(),
        aborted: AtomicBool::new(false),
    });
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..clients {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let (tally, error) = run_client(&ctx, index).await;
            (index, tally, error)
        });
    }
    let mut tallies: Vec<(usize, Tally)> = Vec::with_capacity(clients);
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok((index, tally, error))) => {
                    tallies.push((index, tally));
                    if let Some(e) = error
                        && outcome.error.is_none()
                    {
                        outcome.error = Some(e);
                    }
                }
                Some(Err(e)) => {
                    ctx.abort();
                    if outcome.error.is_none() {
                        outcome.error = Some(anyhow::anyhow!("a client task failed: {e}"));
                    }
                }
                None => break,
            },
            _ = ticker.tick() => progress.tick(started.elapsed().as_secs_f64()),
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.interrupted = bench.stop.is_set();
    tallies.sort_by_key(|(i, _)| *i);
    for (_, t) in &tallies {
        outcome.segments.push((t.start, t.consumed));
        outcome.tally.merge(t);
    }

    if let (Some(before), Some(after)) = (counters_before, counters().await) {
        outcome.pgss = Some(ScratchCounters {
            read_calls: after.read_calls - before.read_calls,
            read_exec_ms: after.read_exec_ms - before.read_exec_ms,
            write_calls: after.write_calls - before.write_calls,
            write_exec_ms: after.write_exec_ms - before.write_exec_ms,
        });
    }
    if let Some(l1) = &l1 {
        outcome.l1_usage = Some(l1.usage());
    }
    if let Some(l2) = &l2 {
        // After a Redis failure there is nothing more to ask it.
        let redis_failed = outcome
            .error
            .as_ref()
            .is_some_and(|e| format!("{e:#}").contains(&l2.url));
        if !redis_failed {
            let after = async {
                let used = l2.used_memory().await?;
                let usage = l2.usage().await?;
                l2.clear().await?;
                Ok::<_, anyhow::Error>((used, usage))
            };
            match after.await {
                Ok((used, usage)) => {
                    outcome.redis_used_after = Some(used);
                    outcome.redis_usage = Some(usage);
                }
                Err(e) => {
                    if outcome.error.is_none() {
                        outcome.error = Some(e);
                    }
                }
            }
        }
    }
    outcome
}

/// Loads `keys` (coldest first) from the database into the run's tiers,
/// on the first session, before the clock starts.
async fn warm_up(
    bench: &Bench,
    l1: Option<&L1>,
    l2: Option<&RedisTier>,
    keys: &[u32],
    outcome: &mut RunOutcome,
) -> Result<()> {
    let Some(session) = bench.sessions.first() else {
        return Ok(());
    };
    let mut conn = l2.map(|r| r.handle());
    let mut key_buf = Vec::new();
    for &key in keys {
        if bench.stop.is_set() {
            break;
        }
        let trace = bench
            .trace
            .as_ref()
            .and_then(|t| t.get(key as usize)?.as_ref());
        let (payload, version) = match session.read(key, trace).await {
            Ok(row) => row,
            Err(crate::db::bench_cache::DbFailure::Statement(_)) => continue,
            Err(crate::db::bench_cache::DbFailure::Connection(e)) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "the database {} went away during the warm-up",
                    bench.database
                )));
            }
        };
        outcome.warm_up_queries += 1;
        let value = Cached {
            version,
            payload: payload.into(),
        };
        if let (Some(l2), Some(conn)) = (l2, conn.as_mut()) {
            l2.key_into(&mut key_buf, key);
            l2.set(conn, &key_buf, &value.encode())
                .await
                .map_err(|e| l2.failure("the warm-up", e))?;
        }
        if let Some(l1) = l1 {
            l1.insert(key, value);
        }
    }
    Ok(())
}

/// The accesses the clients of a run made, as one stream: each client's
/// segment of the key stream, interleaved round-robin (the clients of a
/// closed loop move at about the same pace; with one client it is exact).
pub fn interleaved<'a>(
    stream: &'a [u32],
    segments: &'a [(usize, u64)],
) -> impl Iterator<Item = u32> + 'a {
    let longest = segments.iter().map(|s| s.1).max().unwrap_or(0);
    let len = stream.len();
    (0..longest).flat_map(move |j| {
        segments
            .iter()
            .filter(move |s| j < s.1 && len > 0)
            .map(move |&(start, _)| stream[(start + j as usize) % len])
    })
}

/// Hit ratios the simulation gives for the stream a run's clients really
/// followed (warm-up keys first): L1 at the run's capacity with the run's
/// policy, and an unbounded L2 (Redis keeps every key within the TTL).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SimulatedRun {
    /// Accesses simulated (the warm-up not counted).
    pub accesses: u64,
    /// L1 hits per access.
    pub l1_hit_ratio: Option<f64>,
    /// L2 hits per access that reached L2 (all of them without an L1).
    pub l2_hit_ratio_of_l1_misses: Option<f64>,
}

pub fn simulate_run(
    stream: &[u32],
    distinct: u32,
    outcome: &RunOutcome,
    policy: L1Policy,
) -> SimulatedRun {
    let accesses: u64 = outcome.segments.iter().map(|s| s.1).sum();
    let warm = &outcome.warm_keys;
    let l1_hits = outcome
        .spec
        .l1_capacity
        .filter(|_| outcome.spec.strategy.has_l1())
        .map(|c| {
            let capacity = u32::try_from(c).unwrap_or(u32::MAX);
            let all = warm
                .iter()
                .copied()
                .chain(interleaved(stream, &outcome.segments));
            // The warm-up keys are distinct, so they all miss: every hit is the
            // run's own.
            policy.simulated().hits_of(all, distinct, capacity)
        });
    let l2 = outcome.spec.strategy.has_l2().then(|| {
        let mut seen = vec![false; distinct as usize];
        for &k in warm {
            seen[k as usize] = true;
        }
        let mut hits = 0u64;
        for k in interleaved(stream, &outcome.segments) {
            hits += u64::from(std::mem::replace(&mut seen[k as usize], true));
        }
        // L2 holds whatever L1 holds (every L1 fill went through it), so
        // its hits are the unbounded hits L1 did not take.
        let reached = accesses - l1_hits.unwrap_or(0);
        let l2_hits = hits.saturating_sub(l1_hits.unwrap_or(0));
        if reached > 0 {
            l2_hits as f64 / reached as f64
        } else {
            0.0
        }
    });
    SimulatedRun {
        accesses,
        l1_hit_ratio: l1_hits.map(|h| {
            if accesses > 0 {
                h as f64 / accesses as f64
            } else {
                0.0
            }
        }),
        l2_hit_ratio_of_l1_misses: l2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_by_name() {
        for s in Strategy::ALL {
            assert_eq!(Strategy::parse(s.name()), Some(s));
        }
        assert_eq!(Strategy::parse(" l1+l2 "), Some(Strategy::L1L2));
        assert_eq!(Strategy::parse("l3"), None);
        assert!(Strategy::L1L2.has_l1() && Strategy::L1L2.has_l2());
        assert!(!Strategy::None.has_l1() && !Strategy::None.has_l2());
    }

    #[test]
    fn hottest_keys_come_coldest_first() {
        let stream = [3, 1, 3, 2, 3, 1, 0];
        assert_eq!(hottest_keys(&stream, 5, 2), vec![1, 3]);
        assert_eq!(hottest_keys(&stream, 5, 10), vec![2, 0, 1, 3]);
        assert!(hottest_keys(&stream, 5, 0).is_empty());
    }

    #[test]
    fn client_segments_interleave_round_robin_and_wrap() {
        let stream = [0, 1, 2, 3, 4];
        let got: Vec<u32> = interleaved(&stream, &[(0, 3), (3, 2)]).collect();
        assert_eq!(got, vec![0, 3, 1, 4, 2]);
        let wrapped: Vec<u32> = interleaved(&stream, &[(4, 3)]).collect();
        assert_eq!(wrapped, vec![4, 0, 1]);
    }

    fn outcome(spec: RunSpec, segments: Vec<(usize, u64)>, warm: Vec<u32>) -> RunOutcome {
        RunOutcome {
            spec,
            clients: segments.len(),
            elapsed: Duration::ZERO,
            tally: Tally::default(),
            segments,
            warm_keys: warm,
            warm_up_queries: 0,
            l1_usage: None,
            redis_used_before: None,
            redis_used_after: None,
            redis_usage: None,
            pgss: None,
            interrupted: false,
            error: None,
        }
    }

    #[test]
    fn a_run_is_simulated_on_the_stream_its_clients_followed() {
        // One client, 0 1 0 2 1 0 with an LRU of 2: 1 hit; Redis unbounded
        // takes the other repeats (3 of them) minus L1's one.
        let stream = [0, 1, 0, 2, 1, 0];
        let spec = RunSpec {
            strategy: Strategy::L1L2,
            l1_capacity: Some(2),
        };
        let sim = simulate_run(
            &stream,
            3,
            &outcome(spec, vec![(0, 6)], vec![]),
            L1Policy::Lru,
        );
        assert_eq!(sim.accesses, 6);
        assert!((sim.l1_hit_ratio.unwrap() - 1.0 / 6.0).abs() < 1e-12);
        assert!((sim.l2_hit_ratio_of_l1_misses.unwrap() - 2.0 / 5.0).abs() < 1e-12);
        // Warmed with key 2: its access hits in Redis too.
        let l2 = RunSpec {
            strategy: Strategy::L2,
            l1_capacity: None,
        };
        let sim = simulate_run(
            &stream,
            3,
            &outcome(l2, vec![(0, 6)], vec![2]),
            L1Policy::Lru,
        );
        assert_eq!(sim.l1_hit_ratio, None);
        assert!((sim.l2_hit_ratio_of_l1_misses.unwrap() - 4.0 / 6.0).abs() < 1e-12);
    }
}
