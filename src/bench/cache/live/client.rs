//! One client task of a live run: a closed loop over the key stream from
//! its own offset, until the run's deadline, Ctrl-C or another client's
//! fatal error. A read goes cache-aside through the run's tiers (L1, then
//! Redis, then the database, filling every tier it missed on the way
//! back); a write commits in the database, records the new version, then
//! deletes the key from every tier. Latencies are kept in nanoseconds.

use super::RunContext;
use super::l1::Cached;
use crate::bench::stats::hist::new_histogram;
use crate::db::bench_cache::DbFailure;
use hdrhistogram::Histogram;
use std::time::Instant;

/// Requests between two voluntary yields: a run of L1 hits never awaits,
/// and the runtime's other tasks (timers, Ctrl-C) must still get a turn.
const YIELD_EVERY: u64 = 64;

/// Latency histograms of one client (or merged), nanoseconds.
pub struct Latencies {
    /// Every read, end to end.
    pub read: Histogram<u64>,
    /// Reads answered by L1.
    pub l1_hit: Histogram<u64>,
    /// Reads answered by Redis (after an L1 miss, when there is an L1).
    pub l2_hit: Histogram<u64>,
    /// Reads that went to the database, end to end (tier checks and fills
    /// included).
    pub miss: Histogram<u64>,
    /// The database read alone.
    pub db_read: Histogram<u64>,
    /// Redis GET round trips (hits and misses).
    pub redis_get: Histogram<u64>,
    /// Writes: the committed UPDATE and the invalidations.
    pub write: Histogram<u64>,
}

impl Latencies {
    pub fn new() -> Latencies {
        Latencies {
            read: new_histogram(),
            l1_hit: new_histogram(),
            l2_hit: new_histogram(),
            miss: new_histogram(),
            db_read: new_histogram(),
            redis_get: new_histogram(),
            write: new_histogram(),
        }
    }

    pub fn merge(&mut self, other: &Latencies) {
        use crate::bench::stats::hist::merge;
        merge(&mut self.read, &other.read);
        merge(&mut self.l1_hit, &other.l1_hit);
        merge(&mut self.l2_hit, &other.l2_hit);
        merge(&mut self.miss, &other.miss);
        merge(&mut self.db_read, &other.db_read);
        merge(&mut self.redis_get, &other.redis_get);
        merge(&mut self.write, &other.write);
    }
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

/// Nanoseconds since `t`, at least 1 (a histogram cannot hold 0).
#[inline]
fn record_since(h: &mut Histogram<u64>, t: Instant, now: Instant) {
    let ns = now.saturating_duration_since(t).as_nanos() as u64;
    let _ = h.record(ns.max(1));
}

/// What one client did.
#[derive(Default)]
pub struct Tally {
    /// Where in the stream it started, and how many positions it used.
    pub start: usize,
    pub consumed: u64,
    pub reads: u64,
    pub writes: u64,
    pub l1_hits: u64,
    pub l2_hits: u64,
    pub db_reads: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub invalidations: u64,
    pub stale_reads: u64,
    pub max_staleness_ns: u64,
    /// One statement error, as an example for the report.
    pub first_error: Option<String>,
    pub latency: Latencies,
}

impl Tally {
    pub fn merge(&mut self, o: &Tally) {
        self.consumed += o.consumed;
        self.reads += o.reads;
        self.writes += o.writes;
        self.l1_hits += o.l1_hits;
        self.l2_hits += o.l2_hits;
        self.db_reads += o.db_reads;
        self.read_errors += o.read_errors;
        self.write_errors += o.write_errors;
        self.invalidations += o.invalidations;
        self.stale_reads += o.stale_reads;
        self.max_staleness_ns = self.max_staleness_ns.max(o.max_staleness_ns);
        if self.first_error.is_none() {
            self.first_error.clone_from(&o.first_error);
        }
        self.latency.merge(&o.latency);
    }

    #[inline]
    fn check_stale(&mut self, ctx: &RunContext, key: u32, version: i64, now: Instant) {
        if let Some(age) = ctx.versions.staleness(key, version, now) {
            self.stale_reads += 1;
            self.max_staleness_ns = self.max_staleness_ns.max(age.as_nanos() as u64);
        }
    }
}

/// Runs client `index` until the run ends. A fatal error (the database
/// session or Redis gone) stops every client of the run and is returned
/// with the tally so far.
pub async fn run_client(ctx: &RunContext, index: usize) -> (Tally, Option<anyhow::Error>) {
    let len = ctx.stream.len();
    let start = len * index / ctx.clients.max(1);
    let mut tally = Tally {
        start,
        ..Tally::default()
    };
    let Some(session) = ctx.sessions.get(index) else {
        return (tally, None);
    };
    let mut redis = ctx.l2.as_ref().map(|r| r.handle());
    let mut key_buf = Vec::with_capacity(64);
    let mut rng =
        fastrand::Rng::with_seed(ctx.seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut pos = start;
    loop {
        if tally.consumed > 0 && tally.consumed.is_multiple_of(YIELD_EVERY) {
            tokio::task::yield_now().await;
        }
        // Every request: a slow statement must not carry the run past its
        // end (reading the clock costs tens of nanoseconds).
        if ctx.should_stop() {
            break;
        }
        let key = ctx.stream[pos];
        pos += 1;
        if pos == len {
            pos = 0;
        }
        tally.consumed += 1;
        let write = ctx.write_ratio > 0.0 && rng.f64() < ctx.write_ratio;
        let failure = if write {
            write_key(ctx, session, redis.as_mut(), &mut key_buf, key, &mut tally).await
        } else {
            read_key(ctx, session, redis.as_mut(), &mut key_buf, key, &mut tally).await
        };
        if let Err(e) = failure {
            ctx.abort();
            return (tally, Some(e));
        }
    }
    (tally, None)
}

async fn read_key(
    ctx: &RunContext,
    session: &crate::db::bench_cache::BenchCacheSession,
    mut redis: Option<&mut redis::aio::MultiplexedConnection>,
    key_buf: &mut Vec<u8>,
    key: u32,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let t0 = Instant::now();
    if let Some(l1) = &ctx.l1
        && let Some(v) = l1.get(key)
    {
        let now = Instant::now();
        record_since(&mut tally.latency.l1_hit, t0, now);
        record_since(&mut tally.latency.read, t0, now);
        tally.reads += 1;
        tally.l1_hits += 1;
        tally.check_stale(ctx, key, v.version, now);
        return Ok(());
    }
    if let (Some(l2), Some(conn)) = (&ctx.l2, redis.as_deref_mut()) {
        l2.key_into(key_buf, key);
        let tg = Instant::now();
        let got = l2
            .get(conn, key_buf)
            .await
            .map_err(|e| l2.failure("a GET", e))?;
        record_since(&mut tally.latency.redis_get, tg, Instant::now());
        if let Some(v) = got.as_deref().and_then(Cached::decode) {
            if let Some(l1) = &ctx.l1 {
                l1.insert(key, v.clone());
            }
            let now = Instant::now();
            record_since(&mut tally.latency.l2_hit, t0, now);
            record_since(&mut tally.latency.read, t0, now);
            tally.reads += 1;
            tally.l2_hits += 1;
            tally.check_stale(ctx, key, v.version, now);
            return Ok(());
        }
    }
    let td = Instant::now();
    let trace = ctx
        .trace
        .as_ref()
        .and_then(|t| t.get(key as usize)?.as_ref());
    let (payload, version) = match session.read(key, trace).await {
        Ok(row) => row,
        Err(DbFailure::Statement(message)) => {
            tally.read_errors += 1;
            if tally.first_error.is_none() {
                tally.first_error = Some(message);
            }
            return Ok(());
        }
        Err(DbFailure::Connection(e)) => {
            return Err(anyhow::Error::new(e).context(format!(
                "the database {} went away during a read",
                ctx.database
            )));
        }
    };
    record_since(&mut tally.latency.db_read, td, Instant::now());
    tally.db_reads += 1;
    let value = Cached {
        version,
        payload: payload.into(),
    };
    if let (Some(l2), Some(conn)) = (&ctx.l2, redis) {
        l2.key_into(key_buf, key);
        l2.set(conn, key_buf, &value.encode())
            .await
            .map_err(|e| l2.failure("a SET", e))?;
    }
    if let Some(l1) = &ctx.l1 {
        l1.insert(key, value);
    }
    let now = Instant::now();
    record_since(&mut tally.latency.miss, t0, now);
    record_since(&mut tally.latency.read, t0, now);
    tally.reads += 1;
    Ok(())
}

async fn write_key(
    ctx: &RunContext,
    session: &crate::db::bench_cache::BenchCacheSession,
    redis: Option<&mut redis::aio::MultiplexedConnection>,
    key_buf: &mut Vec<u8>,
    key: u32,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let version = match session.write(key).await {
        Ok(v) => v,
        Err(DbFailure::Statement(message)) => {
            tally.write_errors += 1;
            if tally.first_error.is_none() {
                tally.first_error = Some(message);
            }
            return Ok(());
        }
        Err(DbFailure::Connection(e)) => {
            return Err(anyhow::Error::new(e).context(format!(
                "the database {} went away during a write",
                ctx.database
            )));
        }
    };
    // The commit has returned: from now on an older cached version is stale.
    ctx.versions.committed(key, version, Instant::now());
    let mut invalidated = false;
    if let Some(l1) = &ctx.l1 {
        l1.invalidate(key);
        invalidated = true;
    }
    if let (Some(l2), Some(conn)) = (&ctx.l2, redis) {
        l2.key_into(key_buf, key);
        l2.delete(conn, key_buf)
            .await
            .map_err(|e| l2.failure("an UNLINK", e))?;
        invalidated = true;
    }
    tally.invalidations += u64::from(invalidated);
    tally.writes += 1;
    record_since(&mut tally.latency.write, t0, Instant::now());
    Ok(())
}
