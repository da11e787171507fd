//! The `bench-pool` report as data (JSON schema_version 1, see
//! docs/json.md): the measured steps summarised, the steps of each size
//! pooled, the USL fit and the knee, the recommendation and the warnings.
//! Built from raw step measurements by a pure function.

use super::runner::StepOutcome;
use super::workload::ReplaySummary;
use crate::bench::stats::batch::{Interval, batch_means};
use crate::bench::stats::hist::{LatencySummary, merge, new_histogram, summarize};
use crate::bench::stats::knee::kneedle;
use crate::bench::stats::recommend::{
    Context, Recommendation, RuleOfThumb, SizePoint, list, recommend, rule_of_thumb,
};
use crate::bench::stats::usl::{UslFit, fit};
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

/// Client CPU at or above this share of the client's cores means the load
/// generator, not the server, may set the pace.
pub const CLIENT_CPU_LIMIT: f64 = 0.8;
/// In a closed loop, throughput × mean latency should equal the client
/// tasks (Little's law); below this share, the tasks spend time outside
/// any measured request — the client is slow to issue the next one.
pub const LITTLE_MIN_RATIO: f64 = 0.8;

#[derive(Clone, Debug, Serialize)]
pub struct BenchPoolReport {
    pub schema_version: u32,
    pub command: &'static str,
    /// Stopped by Ctrl-C: `steps` holds the ones that completed.
    pub interrupted: bool,
    pub target: TargetInfo,
    pub workload: WorkloadInfo,
    pub config: ConfigInfo,
    pub steps: Vec<StepReport>,
    pub sizes: Vec<SizeReport>,
    pub model: Model,
    pub recommendation: Option<Recommendation>,
    pub heuristics: Heuristics,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TargetInfo {
    /// The database as a URL without password.
    pub database: String,
    pub server_version: String,
    pub server_version_num: i32,
    pub max_connections: i64,
    /// Largest pool this run could open.
    pub connection_cap: i64,
    pub connection_cap_reason: String,
    /// `tcp`, `tls` or `unix`.
    pub transport: &'static str,
    /// The server runs on this machine (Unix socket or loopback).
    pub local: bool,
    /// Median round trip of `SELECT 1` before the run, µs.
    pub rtt_us: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadInfo {
    /// `builtin`, `script` or `replay`.
    pub kind: &'static str,
    /// `select-only` / `read-write`, the script's path, or the workload files.
    pub name: String,
    /// Built-in workloads: the scale of their scratch tables.
    pub scale: Option<u32>,
    /// Built-in workloads: the scratch schema (dropped at the end).
    pub scratch_schema: Option<String>,
    /// Distinct statements the clients run.
    pub statements: usize,
    pub writes: bool,
    pub replay: Option<ReplaySummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConfigInfo {
    pub sizes: Vec<u32>,
    pub clients: usize,
    /// `closed` or `open`.
    pub mode: &'static str,
    pub rate: Option<f64>,
    pub duration_ms: u64,
    pub warmup_ms: u64,
    pub repeats: u32,
    pub batch_ms: u64,
    pub slo_p99_ms: Option<f64>,
    pub statement_timeout_ms: u64,
    pub pool_wait_timeout_ms: u64,
    pub allow_writes: bool,
    pub seed: u64,
    pub sample_every_ms: u64,
    /// Cores of the machine running pgadvisor.
    pub client_cores: u32,
    /// Load threads as given (--client-threads; a step uses fewer when its
    /// pool or its clients are fewer); `None` when chosen per pool size.
    pub client_threads: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// Position in the (shuffled) run order, from 1.
    pub order: usize,
    pub pool_size: u32,
    pub repeat: u32,
    pub clients: usize,
    /// Load threads, each with its own share of the pool and the clients.
    pub threads: usize,
    pub duration_ms: u64,
    /// Requests (transactions of a script) completed in the window.
    pub transactions: u64,
    pub tps: f64,
    pub tps_ci95: Option<Interval>,
    /// End to end (closed: from the request's start; open: from its due
    /// time), µs.
    pub latency_us: Option<LatencySummary>,
    pub pool_wait_us: Option<LatencySummary>,
    pub query_us: Option<LatencySummary>,
    /// Open loop: start minus due time, µs.
    pub schedule_lag_us: Option<LatencySummary>,
    pub errors: u64,
    pub timeouts: u64,
    /// Open loop: requests due in the window that never started.
    pub unsent: u64,
    /// Requests served by another load thread's share of the pool.
    pub borrowed: u64,
    pub error_samples: Vec<String>,
    pub db: DbStep,
    pub client_cpu: ClientCpu,
    /// Closed loop: tps × mean latency over the client tasks (≈ 1 when the
    /// client keeps every task busy).
    pub littles_law_ratio: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DbStep {
    /// pg_stat_database delta over the step (includes the sampler's few).
    pub commits: i64,
    pub rollbacks: i64,
    pub commits_per_s: f64,
    /// Mean sessions of the pool in state `active` per sample.
    pub active_avg: Option<f64>,
    pub samples: u32,
    /// Session-samples per wait event, most first (`CPU`: active, not
    /// waiting; `idle`: waiting for the client).
    pub wait_events: Vec<WaitEvent>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WaitEvent {
    pub event: String,
    pub samples: u64,
    pub share: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClientCpu {
    /// CPU seconds per wall second (1.0 = one core busy).
    pub cores_used: f64,
    /// `cores_used` over the cores the load could use: its threads, at
    /// most this machine's cores.
    pub share: f64,
    /// share ≥ 0.8.
    pub saturated: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SizeReport {
    pub pool_size: u32,
    pub repeats: usize,
    /// Mean of the repeats' tps.
    pub tps: f64,
    /// Over the batches of all repeats.
    pub tps_ci95: Option<Interval>,
    pub latency_us: Option<LatencySummary>,
    pub pool_wait_us: Option<LatencySummary>,
    pub query_us: Option<LatencySummary>,
    pub errors: u64,
    pub timeouts: u64,
    pub error_rate: f64,
    /// With --slo-p99: whether the p99 latency meets it.
    pub meets_slo: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Model {
    pub usl: Option<UslFit>,
    pub knee: Option<Knee>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Knee {
    pub n: f64,
    /// Kneedle's sensitivity S.
    pub sensitivity: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Heuristics {
    pub rule_of_thumb: RuleOfThumb,
    pub library_defaults: Vec<LibraryDefault>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LibraryDefault {
    pub library: &'static str,
    pub pool_size: u32,
}

/// Everything besides the steps.
pub struct ReportInput {
    pub target: TargetInfo,
    pub workload: WorkloadInfo,
    pub config: ConfigInfo,
    pub interrupted: bool,
    pub slo_p99_us: Option<u64>,
    pub instances: u32,
    /// The server's cores and where the number came from.
    pub server_cores: (u32, &'static str),
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// Rates to 0.1 request per second: more digits would be noise.
fn round_interval(i: Option<Interval>) -> Option<Interval> {
    i.map(|i| Interval {
        mean: round(i.mean, 1),
        low: round(i.low, 1),
        high: round(i.high, 1),
        half_width: round(i.half_width, 1),
        batches: i.batches,
    })
}

fn step_report(order: usize, repeat: u32, s: &StepOutcome, client_cores: u32) -> StepReport {
    let secs = s.duration.as_secs_f64();
    let transactions: u64 = s.batches.iter().sum();
    let tps = transactions as f64 / secs;
    let latency = summarize(&s.latency);
    let cores_used = if s.wall.is_zero() {
        0.0
    } else {
        s.cpu.as_secs_f64() / s.wall.as_secs_f64()
    };
    // The load can use at most one core per thread and all the cores.
    let usable = s.threads.min(client_cores.max(1) as usize).max(1);
    let share = cores_used / usable as f64;
    let total_waits: u64 = s.waits.events.values().sum();
    let mut wait_events: Vec<WaitEvent> = s
        .waits
        .events
        .iter()
        .map(|(event, &samples)| WaitEvent {
            event: event.clone(),
            samples,
            share: round(samples as f64 / total_waits.max(1) as f64, 4),
        })
        .collect();
    wait_events.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.event.cmp(&b.event)));
    let closed = s.schedule_lag.is_none();
    StepReport {
        order: order + 1,
        pool_size: s.pool_size,
        repeat,
        clients: s.clients,
        threads: s.threads,
        duration_ms: s.duration.as_millis() as u64,
        transactions,
        tps: round(tps, 1),
        tps_ci95: round_interval(batch_means(&s.batches, s.batch.as_secs_f64())),
        latency_us: latency,
        pool_wait_us: summarize(&s.pool_wait),
        query_us: summarize(&s.query),
        schedule_lag_us: s.schedule_lag.as_ref().and_then(summarize),
        errors: s.errors,
        timeouts: s.timeouts,
        unsent: s.unsent,
        borrowed: s.borrowed,
        error_samples: s.error_samples.clone(),
        db: DbStep {
            commits: s.commits,
            rollbacks: s.rollbacks,
            commits_per_s: round(s.commits as f64 / secs, 1),
            active_avg: (s.waits.samples > 0)
                .then(|| round(s.waits.active_sum as f64 / f64::from(s.waits.samples), 2)),
            samples: s.waits.samples,
            wait_events,
        },
        client_cpu: ClientCpu {
            cores_used: round(cores_used, 3),
            share: round(share, 3),
            saturated: share >= CLIENT_CPU_LIMIT,
        },
        littles_law_ratio: match (closed, latency) {
            (true, Some(l)) if s.clients > 0 => {
                Some(round(tps * l.mean / 1e6 / s.clients as f64, 3))
            }
            _ => None,
        },
    }
}

/// Assembles the report. `steps` as the sweep returns them.
pub fn build_report(input: ReportInput, steps: &[(usize, u32, StepOutcome)]) -> BenchPoolReport {
    let client_cores = input.config.client_cores;
    let mut warnings = input.warnings;
    let mut notes = input.notes;
    let mut step_reports: Vec<StepReport> = steps
        .iter()
        .map(|(order, repeat, s)| step_report(*order, *repeat, s, client_cores))
        .collect();
    step_reports.sort_by_key(|s| (s.pool_size, s.repeat));

    let mut sizes: Vec<u32> = steps.iter().map(|s| s.2.pool_size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut size_reports = Vec::new();
    for &n in &sizes {
        let group: Vec<&StepOutcome> = steps
            .iter()
            .map(|s| &s.2)
            .filter(|s| s.pool_size == n)
            .collect();
        let (mut lat, mut wait, mut query) = (new_histogram(), new_histogram(), new_histogram());
        let mut batches = Vec::new();
        let (mut errors, mut timeouts, mut completed) = (0, 0, 0u64);
        for s in &group {
            merge(&mut lat, &s.latency);
            merge(&mut wait, &s.pool_wait);
            merge(&mut query, &s.query);
            batches.extend_from_slice(&s.batches);
            errors += s.errors;
            timeouts += s.timeouts;
            completed += s.latency.len();
        }
        let tps = group
            .iter()
            .map(|s| s.batches.iter().sum::<u64>() as f64 / s.duration.as_secs_f64())
            .sum::<f64>()
            / group.len() as f64;
        let latency = summarize(&lat);
        let attempts = completed + errors + timeouts;
        size_reports.push(SizeReport {
            pool_size: n,
            repeats: group.len(),
            tps: round(tps, 1),
            tps_ci95: round_interval(batch_means(&batches, group[0].batch.as_secs_f64())),
            latency_us: latency,
            pool_wait_us: summarize(&wait),
            query_us: summarize(&query),
            errors,
            timeouts,
            error_rate: if attempts > 0 {
                round((errors + timeouts) as f64 / attempts as f64, 5)
            } else {
                0.0
            },
            meets_slo: input
                .slo_p99_us
                .map(|slo| latency.is_some_and(|l| l.p99 <= slo)),
        });
    }

    let points: Vec<(f64, f64)> = step_reports
        .iter()
        .map(|s| (f64::from(s.pool_size), s.tps))
        .collect();
    let usl = fit(&points);
    let xs: Vec<f64> = size_reports
        .iter()
        .map(|s| f64::from(s.pool_size))
        .collect();
    let ys: Vec<f64> = size_reports.iter().map(|s| s.tps).collect();
    let knee = kneedle(&xs, &ys, 1.0).map(|n| Knee {
        n,
        sensitivity: 1.0,
    });

    // The client's own limits.
    let saturated: Vec<u32> = step_reports
        .iter()
        .filter(|s| s.client_cpu.saturated)
        .map(|s| s.pool_size)
        .collect();
    if !saturated.is_empty() {
        let worst = step_reports
            .iter()
            .map(|s| s.client_cpu.cores_used)
            .fold(0.0, f64::max);
        warnings.push(format!(
            "the load generator used up to {worst:.2} cores, ≥ {:.0} % of the cores its load threads could use, at pool size {}: it, not the server, may have set the pace there",
            CLIENT_CPU_LIMIT * 100.0,
            list(&saturated)
        ));
    }
    let slow_client: Vec<u32> = step_reports
        .iter()
        .filter(|s| s.littles_law_ratio.is_some_and(|r| r < LITTLE_MIN_RATIO))
        .map(|s| s.pool_size)
        .collect();
    if !slow_client.is_empty() {
        warnings.push(format!(
            "throughput × latency falls short of the {} client tasks (Little's law ratio < {LITTLE_MIN_RATIO}) at pool size {}: the client is slow to issue requests",
            input.config.clients,
            list(&slow_client)
        ));
    }
    let failing: Vec<String> = size_reports
        .iter()
        .filter(|s| s.error_rate > 0.01)
        .map(|s| format!("{} ({:.1} %)", s.pool_size, s.error_rate * 100.0))
        .collect();
    if !failing.is_empty() {
        warnings.push(format!(
            "more than 1 % of requests failed or timed out at pool size {} (see error_samples)",
            failing.join(", ")
        ));
    }
    let abandoned: usize = steps.iter().map(|s| s.2.abandoned).sum();
    if abandoned > 0 {
        warnings.push(format!(
            "{abandoned} client task(s) were still busy long after their step ended and were stopped"
        ));
    }
    let unsent: Vec<String> = step_reports
        .iter()
        .filter(|s| s.unsent > 0)
        .map(|s| format!("{} ({} requests)", s.pool_size, s.unsent))
        .collect();
    if !unsent.is_empty() {
        notes.push(format!(
            "the requested rate was not sustained at pool size {}: requests due in the window never started and are not in the latencies",
            unsent.join(", ")
        ));
    }
    if steps.iter().any(|s| s.2.waits.failed > 0) {
        notes.push("some pg_stat_activity samples failed; wait events are partial".to_string());
    }
    if input.target.local && !step_reports.is_empty() {
        let mean_share = step_reports.iter().map(|s| s.client_cpu.share).sum::<f64>()
            / step_reports.len() as f64;
        let mean_cores = step_reports
            .iter()
            .map(|s| s.client_cpu.cores_used)
            .sum::<f64>()
            / step_reports.len() as f64;
        notes.push(format!(
            "pgadvisor and the server share this machine: the load generator used {mean_cores:.2} of its {client_cores} cores on average ({:.0} % of what its load threads could use), which the server could not use",
            mean_share * 100.0
        ));
    }

    let size_points: Vec<SizePoint> = size_reports
        .iter()
        .map(|s| SizePoint {
            pool_size: s.pool_size,
            tps: s.tps,
            p99_us: s.latency_us.map(|l| l.p99),
            error_rate: s.error_rate,
        })
        .collect();
    let ctx = Context {
        slo_p99_us: input.slo_p99_us,
        instances: input.instances,
        client_limited: !saturated.is_empty() || !slow_client.is_empty(),
    };
    let mut recommendation =
        recommend(&size_points, usl.as_ref(), knee.as_ref().map(|k| k.n), &ctx);
    if input.interrupted
        && let Some(r) = &mut recommendation
    {
        r.rationale.push(
            "lowers confidence: the run was interrupted, not every size was measured".to_string(),
        );
        r.confidence = crate::bench::stats::recommend::Confidence::Low;
    }
    let (cores, source) = input.server_cores;
    BenchPoolReport {
        schema_version: SCHEMA_VERSION,
        command: "bench-pool",
        interrupted: input.interrupted,
        target: input.target,
        workload: input.workload,
        config: input.config,
        steps: step_reports,
        sizes: size_reports,
        model: Model { usl, knee },
        recommendation,
        heuristics: Heuristics {
            rule_of_thumb: rule_of_thumb(cores, source),
            library_defaults: vec![
                LibraryDefault {
                    library: "deadpool-postgres (2 × the client's cores)",
                    pool_size: 2 * client_cores,
                },
                LibraryDefault {
                    library: "bb8",
                    pool_size: 10,
                },
                LibraryDefault {
                    library: "HikariCP",
                    pool_size: 10,
                },
            ],
        },
        warnings,
        notes,
    }
}
