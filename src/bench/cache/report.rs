//! The bench-cache report (data only, schema_version 1, docs/json.md):
//! where the keys came from, the simulation's curves, each live run with
//! its tiers, latencies, database load and staleness, the simulation of the
//! same stream beside it, the latency model checked against the run, and
//! the recommendation. Built from measurements; nothing here talks to a
//! server or prints.

use super::live::l1::L1Policy;
use super::live::{RunOutcome, SimulatedRun, Strategy, simulate_run};
use super::recommend::{Candidate, Context, Recommendation, Targets, predicted_mean, recommend};
use super::sim::{PolicyKind, Simulation};
use crate::bench::stats::hist::{LatencySummary, summarize};
use hdrhistogram::Histogram;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct BenchCacheReport {
    pub schema_version: u32,
    pub command: &'static str,
    /// Ctrl-C stopped the run: what is here was measured before it.
    pub interrupted: bool,
    pub source: SourceInfo,
    pub simulation: SimulationReport,
    /// `null` without -d.
    pub live: Option<LiveReport>,
    pub targets: Targets,
    pub recommendation: Option<Recommendation>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceInfo {
    /// `synthetic` or `trace`.
    pub kind: &'static str,
    /// `zipf:S`, `uniform` or `trace`, as given.
    pub distribution: String,
    pub description: String,
    /// Distinct keys of the key space.
    pub keys: u32,
    /// Accesses in the stream.
    pub accesses: u64,
    /// The synthetic stream's seed.
    pub seed: Option<u64>,
    pub files: Vec<String>,
    pub trace: Option<TraceInfo>,
}

/// What became of a workload trace's reads.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TraceInfo {
    /// SELECT executions (the key stream).
    pub reads: u64,
    pub distinct_keys: u32,
    /// Keys whose logged statement a live run can execute.
    pub runnable_keys: u32,
    /// Accesses of the keys that cannot run (left out of live runs).
    pub left_out_accesses: u64,
    /// Why keys were left out, most frequent first.
    pub left_out: Vec<LeftOut>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LeftOut {
    pub reason: String,
    pub keys: u32,
    /// One statement left out for this reason, on one line.
    pub example: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SimulationReport {
    #[serde(flatten)]
    pub result: Simulation,
    /// Keys that occur in the stream.
    pub keys_seen: u32,
    /// Bélády's optimum, accesses per second over its sweep (it needs the
    /// whole future: a bound, not a policy).
    pub belady_accesses_per_s: f64,
    /// Wall time of the whole simulation.
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LiveReport {
    /// The database, without a password.
    pub database: String,
    pub server_version: String,
    pub redis: Option<RedisInfo>,
    /// The scratch schema of the run (always dropped).
    pub scratch_schema: Option<String>,
    pub scratch_dropped: bool,
    pub config: LiveConfig,
    /// pg_stat_statements counted the scratch statements.
    pub pg_stat_statements: bool,
    /// Tier latencies pooled over the runs: the inputs of the model.
    pub tiers: TierLatencies,
    pub runs: Vec<RunReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RedisInfo {
    /// Without a password.
    pub url: String,
    pub key_prefix: String,
    /// Keys left under the prefix after the cleanup (0 unless Redis failed).
    pub keys_left: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LiveConfig {
    pub clients: usize,
    pub clients_requested: u32,
    pub connection_cap: i64,
    pub connection_cap_reason: String,
    pub duration_ms: u64,
    pub write_ratio: f64,
    pub ttl_ms: u64,
    pub warm_up: usize,
    pub l1_policy: L1Policy,
    pub statement_timeout_ms: u64,
    pub seed: u64,
    /// Accesses in the stream the clients follow.
    pub stream_accesses: u64,
}

/// Mean latencies of each tier over every run, nanoseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct TierLatencies {
    /// A read answered by L1.
    pub l1_hit_ns: Option<f64>,
    /// A read answered by Redis.
    pub l2_hit_ns: Option<f64>,
    /// A Redis GET round trip.
    pub redis_get_ns: Option<f64>,
    /// The database read alone.
    pub db_read_ns: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub strategy: Strategy,
    pub l1_capacity: Option<u64>,
    pub clients: usize,
    /// Measured time.
    pub duration_ms: f64,
    pub interrupted: bool,
    /// Why the run stopped early (the server that failed is named).
    pub error: Option<String>,
    /// Reads and writes done.
    pub requests: u64,
    pub reads: u64,
    pub writes: u64,
    pub throughput_per_s: f64,
    /// Reads answered by a cache tier, per read.
    pub hit_ratio: f64,
    pub l1: Option<L1Report>,
    pub l2: Option<L2Report>,
    pub latency_ns: RunLatencies,
    pub db: DbReport,
    /// Keys deleted from the tiers after writes.
    pub invalidations: u64,
    pub stale_reads: u64,
    /// Stale reads per read.
    pub stale_read_ratio: f64,
    pub max_staleness_ms: f64,
    /// The simulation of the stream this run's clients followed.
    pub simulated: SimulatedRun,
    /// Live L1 hit ratio − simulated, in points (for runs with an L1).
    pub l1_vs_simulated_points: Option<f64>,
    /// Whether the simulation models this run: no writes (the simulation
    /// does not invalidate), a TTL longer than the run (it does not
    /// expire) and no failed reads (they fill no cache).
    pub comparable_with_simulation: bool,
    pub model: Option<ModelCheck>,
    /// One statement error, for a run that had some.
    pub first_statement_error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct L1Report {
    pub hits: u64,
    /// L1 hits per read.
    pub hit_ratio: f64,
    pub entries: u64,
    /// Payload and version bytes held (moka's own overhead not counted).
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct L2Report {
    pub hits: u64,
    /// Redis hits per read.
    pub hit_ratio: f64,
    /// Redis hits per read that reached Redis (L1 misses).
    pub hit_ratio_of_l1_misses: f64,
    /// Keys under the prefix at the end of the run.
    pub keys: Option<u64>,
    /// keys × the mean MEMORY USAGE of a sample of them.
    pub estimated_bytes: Option<u64>,
    /// INFO used_memory after the run − before it (the whole server).
    pub used_memory_delta_bytes: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RunLatencies {
    pub read: Option<LatencySummary>,
    pub l1_hit: Option<LatencySummary>,
    pub l2_hit: Option<LatencySummary>,
    pub miss: Option<LatencySummary>,
    pub db_read: Option<LatencySummary>,
    pub redis_get: Option<LatencySummary>,
    pub write: Option<LatencySummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DbReport {
    /// Statements the clients ran on the database: reads that missed every
    /// tier, and writes.
    pub queries: u64,
    pub reads: u64,
    pub writes: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    /// Reads of the warm-up, before the clock started.
    pub warm_up_queries: u64,
    pub pg_stat_statements: Option<PgssDelta>,
    /// Reads that did not reach the database, in percent of reads.
    pub load_saved_pct: f64,
    /// Where the database time comes from: `pg_stat_statements`
    /// (execution time on the server) or `client` (round trips).
    pub time_source: &'static str,
    /// Database time of this run's reads.
    pub read_time_ms: f64,
    /// Time the database would have spent on the reads the caches
    /// answered, at the uncached cost per read.
    pub time_saved_ms: f64,
    pub time_saved_pct: f64,
}

/// pg_stat_statements counters of the scratch statements over the run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PgssDelta {
    pub read_calls: i64,
    pub read_exec_ms: f64,
    pub write_calls: i64,
    pub write_exec_ms: f64,
}

/// The latency model against the run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ModelCheck {
    pub h1: f64,
    pub h2: f64,
    pub t1_ns: f64,
    pub t2_ns: f64,
    /// A read that reaches the database: the pooled database read, plus
    /// two Redis round trips (the GET that missed, the SET) with Redis.
    pub t_db_ns: f64,
    pub predicted_mean_ns: f64,
    pub measured_mean_ns: f64,
    /// (predicted − measured) / measured, in percent.
    pub error_pct: f64,
}

/// Everything the report is built from.
pub struct ReportInput<'a> {
    pub source: SourceInfo,
    pub simulation: Simulation,
    pub simulation_seconds: f64,
    pub keys_seen: u32,
    pub live: Option<LiveInput<'a>>,
    pub targets: Targets,
    pub ttl_ms: u64,
    pub write_ratio: f64,
    pub l1_policy: L1Policy,
    pub interrupted: bool,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

pub struct LiveInput<'a> {
    pub database: String,
    pub server_version: String,
    pub redis: Option<RedisInfo>,
    pub scratch_schema: Option<String>,
    pub scratch_dropped: bool,
    pub config: LiveConfig,
    pub pg_stat_statements: bool,
    pub stream: &'a [u32],
    pub distinct: u32,
    pub outcomes: &'a [RunOutcome],
}

/// `v` rounded to `digits` decimals: the JSON shows what was measured,
/// not float noise.
fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// a / b to 6 decimals, 0 when b is 0.
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        round(a as f64 / b as f64, 6)
    }
}

/// Σ mean·count / Σ count over the histograms that have values.
fn pooled_mean<'a>(hists: impl Iterator<Item = &'a Histogram<u64>>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u64);
    for h in hists {
        if !h.is_empty() {
            sum += h.mean() * h.len() as f64;
            n += h.len();
        }
    }
    (n > 0).then(|| sum / n as f64)
}

fn mean_of(h: &Histogram<u64>) -> Option<f64> {
    (!h.is_empty()).then(|| h.mean())
}

pub fn build_report(input: ReportInput<'_>) -> BenchCacheReport {
    let ReportInput {
        source,
        simulation,
        simulation_seconds,
        keys_seen,
        live,
        targets,
        ttl_ms,
        write_ratio,
        l1_policy,
        interrupted,
        warnings,
        mut notes,
    } = input;
    let policy_seconds: f64 = simulation
        .policies
        .iter()
        .filter(|c| c.accesses_per_s > 0.0)
        .map(|c| simulation.accesses as f64 * simulation.capacities.len() as f64 / c.accesses_per_s)
        .sum();
    let belady_seconds = simulation_seconds - policy_seconds;
    let belady_accesses_per_s = if belady_seconds > 0.0 {
        simulation.accesses as f64 * simulation.capacities.len() as f64 / belady_seconds
    } else {
        0.0
    };

    let live_report = live.map(|l| build_live(l, ttl_ms, l1_policy));
    let mut ctx = Context {
        ttl_ms,
        write_ratio,
        ..Context::default()
    };
    let candidates: Vec<Candidate> = match &live_report {
        Some(l) if l.runs.iter().any(|r| r.reads > 0) => {
            ctx.none_mean_ns = l
                .runs
                .iter()
                .find(|r| r.strategy == Strategy::None && r.reads > 0)
                .and_then(|r| r.latency_ns.read.map(|s| s.mean));
            if let Some(worst) = l
                .runs
                .iter()
                .filter_map(|r| Some((r, r.model?)))
                .max_by(|a, b| a.1.error_pct.abs().total_cmp(&b.1.error_pct.abs()))
            {
                ctx.notes.push(format!(
                    "the latency model E[R] is within {:.0} % of the measured mean read on every run (worst: {}, {:+.0} %); it leaves out queueing for the CPU, which client, database and Redis share on one machine",
                    worst.1.error_pct.abs(),
                    run_label(worst.0),
                    worst.1.error_pct
                ));
            }
            l.runs
                .iter()
                .filter(|r| r.reads > 0)
                .map(|r| Candidate {
                    strategy: r.strategy,
                    l1_capacity: r.l1_capacity,
                    hit_ratio: r.hit_ratio,
                    stale_read_ratio: Some(r.stale_read_ratio),
                    p99_ns: r.latency_ns.read.map(|s| s.p99),
                    mean_ns: r.latency_ns.read.map(|s| s.mean),
                    db_load_saved_pct: r.db.load_saved_pct,
                    measured: true,
                })
                .collect()
        }
        _ => {
            let kind = l1_policy.simulated();
            simulation
                .policies
                .iter()
                .filter(|c| c.policy == kind)
                .flat_map(|c| c.points.iter())
                .map(|p| Candidate {
                    strategy: Strategy::L1,
                    l1_capacity: Some(u64::from(p.capacity)),
                    hit_ratio: p.hit_ratio,
                    stale_read_ratio: None,
                    p99_ns: None,
                    mean_ns: None,
                    db_load_saved_pct: p.hit_ratio * 100.0,
                    measured: false,
                })
                .collect()
        }
    };
    if let Some(hint) =
        simulated_capacity_hint(&simulation, l1_policy.simulated(), targets.hit_ratio)
    {
        ctx.notes.push(hint);
    }
    let recommendation = recommend(&candidates, &targets, &ctx);
    if live_report.is_none() {
        notes.push("simulation only: pass -d URL (and --redis URL) for the live runs".to_string());
    }
    BenchCacheReport {
        schema_version: SCHEMA_VERSION,
        command: "bench-cache",
        interrupted,
        source,
        simulation: SimulationReport {
            result: simulation,
            keys_seen,
            belady_accesses_per_s: belady_accesses_per_s.round(),
            seconds: round(simulation_seconds, 3),
        },
        live: live_report,
        targets,
        recommendation,
        warnings,
        notes,
    }
}

fn run_label(r: &RunReport) -> String {
    match r.l1_capacity {
        Some(c) => format!("{} ({c})", r.strategy.name()),
        None => r.strategy.name().to_string(),
    }
}

/// The smallest simulated capacity at which the policy reaches the target.
fn simulated_capacity_hint(sim: &Simulation, policy: PolicyKind, target: f64) -> Option<String> {
    let curve = sim.policies.iter().find(|c| c.policy == policy)?;
    let mut line = match curve.points.iter().find(|p| p.hit_ratio + 1e-12 >= target) {
        Some(p) => format!(
            "simulation: {} reaches the target hit ratio {target:.2} at {} entries ({:.3})",
            policy.name(),
            p.capacity,
            p.hit_ratio
        ),
        None => format!(
            "simulation: {} stays below the target hit ratio {target:.2} up to {} entries",
            policy.name(),
            curve.points.last()?.capacity
        ),
    };
    if let Some(k) = curve.knee_capacity {
        line.push_str(&format!("; its knee is at {k} entries"));
    }
    Some(line)
}

fn build_live(l: LiveInput<'_>, ttl_ms: u64, policy: L1Policy) -> LiveReport {
    let outcomes = l.outcomes;
    let tiers = TierLatencies {
        l1_hit_ns: pooled_mean(outcomes.iter().map(|o| &o.tally.latency.l1_hit))
            .map(|v| round(v, 1)),
        l2_hit_ns: pooled_mean(outcomes.iter().map(|o| &o.tally.latency.l2_hit))
            .map(|v| round(v, 1)),
        redis_get_ns: pooled_mean(outcomes.iter().map(|o| &o.tally.latency.redis_get))
            .map(|v| round(v, 1)),
        db_read_ns: pooled_mean(outcomes.iter().map(|o| &o.tally.latency.db_read))
            .map(|v| round(v, 1)),
    };
    // The database cost of one uncached read: the none run's, else this
    // run's own.
    let per_read_baseline = |o: &RunOutcome| -> (f64, &'static str) {
        let pgss = |o: &RunOutcome| {
            o.pgss
                .filter(|p| p.read_calls > 0)
                .map(|p| p.read_exec_ms / p.read_calls as f64)
        };
        let client = |o: &RunOutcome| mean_of(&o.tally.latency.db_read).map(|ns| ns / 1e6);
        let none = outcomes
            .iter()
            .find(|n| n.spec.strategy == Strategy::None && n.tally.db_reads > 0);
        if l.pg_stat_statements
            && let Some(ms) = none.and_then(pgss).or_else(|| pgss(o))
        {
            return (ms, "pg_stat_statements");
        }
        (
            none.and_then(client).or_else(|| client(o)).unwrap_or(0.0),
            "client",
        )
    };
    let runs = outcomes
        .iter()
        .map(|o| {
            let t = &o.tally;
            let secs = o.elapsed.as_secs_f64();
            let hits = t.l1_hits + t.l2_hits;
            let simulated = simulate_run(l.stream, l.distinct, o, policy);
            let simulated = SimulatedRun {
                l1_hit_ratio: simulated.l1_hit_ratio.map(|r| round(r, 6)),
                l2_hit_ratio_of_l1_misses: simulated.l2_hit_ratio_of_l1_misses.map(|r| round(r, 6)),
                ..simulated
            };
            // The simulation neither invalidates, expires, nor fails a read.
            let comparable = l.config.write_ratio == 0.0
                && u128::from(ttl_ms) > o.elapsed.as_millis()
                && t.read_errors == 0;
            let l1 = o.spec.strategy.has_l1().then(|| L1Report {
                hits: t.l1_hits,
                hit_ratio: ratio(t.l1_hits, t.reads),
                entries: o.l1_usage.map_or(0, |u| u.0),
                bytes: o.l1_usage.map_or(0, |u| u.1),
            });
            let l2 = o.spec.strategy.has_l2().then(|| L2Report {
                hits: t.l2_hits,
                hit_ratio: ratio(t.l2_hits, t.reads),
                hit_ratio_of_l1_misses: ratio(t.l2_hits, t.reads - t.l1_hits),
                keys: o.redis_usage.map(|u| u.keys),
                estimated_bytes: o.redis_usage.map(|u| u.estimated_bytes),
                used_memory_delta_bytes: o
                    .redis_used_before
                    .zip(o.redis_used_after)
                    .map(|(b, a)| a as i64 - b as i64),
            });
            let (baseline_ms, source) = per_read_baseline(o);
            let read_time_ms = match (source, o.pgss) {
                ("pg_stat_statements", Some(p)) => p.read_exec_ms,
                _ => mean_of(&t.latency.db_read).map_or(0.0, |ns| ns * t.db_reads as f64 / 1e6),
            };
            let uncached_ms = baseline_ms * t.reads as f64;
            let time_saved_ms = (uncached_ms - read_time_ms).max(0.0);
            let measured_mean = mean_of(&t.latency.read);
            let model = measured_mean.and_then(|measured| {
                let h1 = simulated.l1_hit_ratio.unwrap_or(0.0);
                let h2 = simulated.l2_hit_ratio_of_l1_misses.unwrap_or(0.0);
                let t1 = if o.spec.strategy.has_l1() {
                    tiers.l1_hit_ns?
                } else {
                    0.0
                };
                let t2 = if o.spec.strategy.has_l2() {
                    tiers.l2_hit_ns?
                } else {
                    0.0
                };
                // A read that reaches the database also pays, with Redis,
                // the GET that missed and the SET that fills it.
                let t_db = tiers.db_read_ns?
                    + if o.spec.strategy.has_l2() {
                        2.0 * tiers.redis_get_ns?
                    } else {
                        0.0
                    };
                let predicted = predicted_mean(h1, t1, h2, t2, t_db);
                Some(ModelCheck {
                    h1,
                    h2,
                    t1_ns: t1,
                    t2_ns: t2,
                    t_db_ns: round(t_db, 1),
                    predicted_mean_ns: round(predicted, 1),
                    measured_mean_ns: round(measured, 1),
                    error_pct: round((predicted - measured) / measured * 100.0, 2),
                })
            });
            RunReport {
                strategy: o.spec.strategy,
                l1_capacity: o.spec.l1_capacity,
                clients: o.clients,
                duration_ms: round(secs * 1000.0, 3),
                interrupted: o.interrupted,
                error: o.error.as_ref().map(|e| format!("{e:#}")),
                requests: t.reads + t.writes,
                reads: t.reads,
                writes: t.writes,
                throughput_per_s: if secs > 0.0 {
                    round((t.reads + t.writes) as f64 / secs, 1)
                } else {
                    0.0
                },
                hit_ratio: ratio(hits, t.reads),
                l1_vs_simulated_points: l1
                    .as_ref()
                    .zip(simulated.l1_hit_ratio)
                    .map(|(live, sim)| round((live.hit_ratio - sim) * 100.0, 4)),
                l1,
                l2,
                latency_ns: RunLatencies {
                    read: summarize(&t.latency.read),
                    l1_hit: summarize(&t.latency.l1_hit),
                    l2_hit: summarize(&t.latency.l2_hit),
                    miss: summarize(&t.latency.miss),
                    db_read: summarize(&t.latency.db_read),
                    redis_get: summarize(&t.latency.redis_get),
                    write: summarize(&t.latency.write),
                },
                db: DbReport {
                    queries: t.db_reads + t.writes + t.read_errors + t.write_errors,
                    reads: t.db_reads,
                    writes: t.writes,
                    read_errors: t.read_errors,
                    write_errors: t.write_errors,
                    warm_up_queries: o.warm_up_queries,
                    pg_stat_statements: o.pgss.map(|p| PgssDelta {
                        read_calls: p.read_calls,
                        read_exec_ms: round(p.read_exec_ms, 3),
                        write_calls: p.write_calls,
                        write_exec_ms: round(p.write_exec_ms, 3),
                    }),
                    load_saved_pct: if t.reads > 0 {
                        round((1.0 - t.db_reads as f64 / t.reads as f64) * 100.0, 3)
                    } else {
                        0.0
                    },
                    time_source: source,
                    read_time_ms: round(read_time_ms, 3),
                    time_saved_ms: round(time_saved_ms, 3),
                    time_saved_pct: if uncached_ms > 0.0 {
                        round(time_saved_ms / uncached_ms * 100.0, 3)
                    } else {
                        0.0
                    },
                },
                invalidations: t.invalidations,
                stale_reads: t.stale_reads,
                stale_read_ratio: ratio(t.stale_reads, t.reads),
                max_staleness_ms: round(t.max_staleness_ns as f64 / 1e6, 3),
                simulated,
                comparable_with_simulation: comparable,
                model,
                first_statement_error: t.first_error.clone(),
            }
        })
        .collect();
    LiveReport {
        database: l.database,
        server_version: l.server_version,
        redis: l.redis,
        scratch_schema: l.scratch_schema,
        scratch_dropped: l.scratch_dropped,
        config: l.config,
        pg_stat_statements: l.pg_stat_statements,
        tiers,
        runs,
    }
}
