//! `pgadvisor bench-cache`: build the key stream (a workload's reads or a
//! synthetic distribution), simulate the cache policies on it, then — with
//! -d — run each strategy live against the database (and Redis), always
//! removing the Redis keys and dropping the scratch schema afterwards, and
//! report with a recommendation. Ctrl-C and a server that goes away both
//! end in the report of what was measured (exit 130 and 1).

use super::bench_pool::EXIT_INTERRUPTED;
use crate::bench::cache::keys::{Distribution, KeyStream};
use crate::bench::cache::live::l1::L1Policy;
use crate::bench::cache::live::redis::{RedisTier, key_prefix};
use crate::bench::cache::live::versions::VersionBook;
use crate::bench::cache::live::{
    Bench, LiveProgress, RunOutcome, RunSettings, RunSpec, Strategy, run_strategy,
};
use crate::bench::cache::recommend::Targets;
use crate::bench::cache::report::{
    LeftOut, LiveConfig, LiveInput, RedisInfo, ReportInput, SourceInfo, TraceInfo, build_report,
};
use crate::bench::cache::sim::{PolicyKind, Simulation, default_capacities, simulate};
use crate::bench::pool::Stop;
use crate::bench::pool::cap::connection_cap;
use crate::cli::{BenchCacheArgs, L1PolicyArg, TableOrJson};
use crate::db::bench_cache::{
    BenchCacheSession, ReadPlan, ScratchKind, TraceStatement, create_scratch, drop_scratch_anyway,
    pgss_view, scratch_counters, scratch_schema_name,
};
use crate::db::bench_pool::preflight;
use crate::db::explain::{Decision, classify};
use crate::db::{SessionSettings, connect, resolve_from_env};
use crate::workload::{CollectOptions, Workload, ingest};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A usage error found after parsing: printed by clap, exit status 2.
fn usage_error(message: &str) -> ! {
    use clap::CommandFactory;
    let mut cli = crate::cli::Cli::command();
    let sub = cli
        .find_subcommand_mut("bench-cache")
        .cloned()
        .unwrap_or(cli);
    sub.bin_name("pgadvisor bench-cache")
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

/// The key stream and where it came from.
struct Source {
    info: SourceInfo,
    stream: KeyStream,
    /// For a trace: each dense key's statement, when it can run.
    statements: Option<Vec<Option<TraceStatement>>>,
}

fn load_source(args: &BenchCacheArgs) -> Result<Source> {
    let dist_text = args.dist.clone().unwrap_or_else(|| {
        if args.workload.is_empty() {
            "zipf:0.9".to_string()
        } else {
            "trace".to_string()
        }
    });
    let dist = Distribution::parse(&dist_text, args.keys).unwrap_or_else(|e| usage_error(&e));
    match (&dist, args.workload.is_empty()) {
        (Distribution::Trace, true) => {
            usage_error("--dist trace needs workload files (or - for stdin)")
        }
        (Distribution::Zipf { .. } | Distribution::Uniform { .. }, false) => usage_error(
            "workload files give their own key stream: leave out --dist or pass --dist trace",
        ),
        _ => {}
    }
    if dist != Distribution::Trace {
        let stream = KeyStream::synthetic(&dist, args.accesses as usize, args.seed);
        return Ok(Source {
            info: SourceInfo {
                kind: "synthetic",
                distribution: dist_text,
                description: dist.label(),
                keys: stream.distinct,
                accesses: stream.accesses.len() as u64,
                seed: Some(args.seed),
                files: Vec::new(),
                trace: None,
            },
            stream,
            statements: None,
        });
    }
    let options = args.log_input.ingest_options(CollectOptions {
        trace: true,
        samples: 0,
        ..CollectOptions::default()
    });
    let workload = ingest(&args.workload, &options, None)?;
    let stream = KeyStream::from_workload(&workload);
    if stream.accesses.is_empty() {
        bail!(
            "no reads (SELECT executions) in {}: there is nothing a cache could answer",
            args.workload.join(", ")
        );
    }
    let (statements, trace) = trace_statements(&workload, &stream);
    Ok(Source {
        info: SourceInfo {
            kind: "trace",
            distribution: dist_text,
            description: dist.label(),
            keys: stream.distinct,
            accesses: stream.accesses.len() as u64,
            seed: None,
            files: args.workload.clone(),
            trace: Some(trace),
        },
        stream,
        statements: Some(statements),
    })
}

/// Each trace key's logged statement, when a live run may execute it: a
/// read (by `classify`, the same check `analyze` uses) with as many logged
/// values as placeholders. The others are counted by reason.
fn trace_statements(
    workload: &Workload,
    stream: &KeyStream,
) -> (Vec<Option<TraceStatement>>, TraceInfo) {
    use crate::advisor::queries::placeholder_count;
    let mut counts = vec![0u64; stream.distinct as usize];
    for &k in &stream.accesses {
        counts[k as usize] += 1;
    }
    let mut reasons: Vec<LeftOut> = Vec::new();
    let mut left_out_accesses = 0u64;
    let mut statements = Vec::with_capacity(stream.distinct as usize);
    for (k, origin) in stream.origin.iter().enumerate() {
        let sample = workload.trace_samples.get(origin);
        let refused = match sample {
            None => Some((
                "the statement is too long to keep (over 1 MB)".to_string(),
                String::new(),
            )),
            Some(s) => match classify(&s.statement) {
                Decision::ReadOnly => {
                    let wanted = placeholder_count(&s.statement);
                    (wanted != s.parameters.len()).then(|| {
                        (
                            "no logged parameter values for its placeholders".to_string(),
                            s.statement.clone(),
                        )
                    })
                }
                Decision::Write => Some((
                    "it writes (a data-modifying WITH): never run".to_string(),
                    s.statement.clone(),
                )),
                Decision::Never { reason } => {
                    Some((format!("never run: {reason}"), s.statement.clone()))
                }
            },
        };
        match (refused, sample) {
            (None, Some(s)) => statements.push(Some(TraceStatement {
                sql: s.statement.clone(),
                params: s.parameters.clone(),
            })),
            (refused, _) => {
                let (reason, example) = refused.unwrap_or_default();
                left_out_accesses += counts[k];
                match reasons.iter_mut().find(|r| r.reason == reason) {
                    Some(r) => r.keys += 1,
                    None => reasons.push(LeftOut {
                        reason,
                        keys: 1,
                        example: crate::render::table::one_line(&example, 100),
                    }),
                }
                statements.push(None);
            }
        }
    }
    reasons.sort_by(|a, b| b.keys.cmp(&a.keys).then(a.reason.cmp(&b.reason)));
    let runnable = statements.iter().filter(|s| s.is_some()).count() as u32;
    let info = TraceInfo {
        reads: stream.accesses.len() as u64,
        distinct_keys: stream.distinct,
        runnable_keys: runnable,
        left_out_accesses,
        left_out: reasons,
    };
    (statements, info)
}

fn l1_policy(arg: L1PolicyArg) -> L1Policy {
    match arg {
        L1PolicyArg::Lru => L1Policy::Lru,
        L1PolicyArg::Tinylfu => L1Policy::Tinylfu,
    }
}

/// The strategies to run live, in the order given.
fn strategies(args: &BenchCacheArgs) -> Vec<Strategy> {
    let mut list: Vec<Strategy> = Vec::new();
    for s in args.strategies.iter().filter_map(|n| Strategy::parse(n)) {
        if !list.contains(&s) {
            list.push(s);
        }
    }
    if list.is_empty() {
        list = if args.redis.is_some() {
            Strategy::ALL.to_vec()
        } else {
            vec![Strategy::None, Strategy::L1]
        };
    }
    if args.redis.is_none()
        && let Some(s) = list.iter().find(|s| s.has_l2())
    {
        usage_error(&format!("the {} strategy needs --redis URL", s.name()));
    }
    list
}

pub async fn run(args: BenchCacheArgs) -> Result<ExitCode> {
    let json = args.format == TableOrJson::Json;
    let live_wanted = args.connect.database.is_some();
    let strategies = strategies(&args);
    if !live_wanted && args.redis.is_some() {
        usage_error("--redis is for the live runs, which need -d URL (or DATABASE_URL)");
    }
    let policy = l1_policy(args.l1_policy);
    let stop = Stop::new();
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if !stop.is_set() {
                    eprintln!(
                        "bench-cache: stopping — cleaning up, then printing what was measured"
                    );
                }
                stop.trigger();
            }
        });
    }
    let progress = Progress::new(json);
    let source = load_source(&args)?;
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    if let Some(t) = &source.info.trace
        && t.left_out_accesses > 0
    {
        let w = format!(
            "{} of {} trace keys ({} reads) cannot run live and are left out of the live runs: {}",
            t.distinct_keys - t.runnable_keys,
            t.distinct_keys,
            t.left_out_accesses,
            t.left_out
                .iter()
                .map(|r| format!("{} ({} keys)", r.reason, r.keys))
                .collect::<Vec<_>>()
                .join("; ")
        );
        if live_wanted {
            eprintln!("warning: {w}");
            warnings.push(w);
        }
    }

    // Simulation: on a blocking thread, so Ctrl-C is still heard.
    let mut capacities = default_capacities(source.stream.distinct);
    for &c in &args.l1_capacity {
        if let Ok(c) = u32::try_from(c) {
            capacities.push(c);
        }
    }
    capacities.sort_unstable();
    capacities.dedup();
    progress.note(&format!(
        "simulating {} accesses over {} keys at {} capacities",
        source.stream.accesses.len(),
        source.stream.distinct,
        capacities.len()
    ));
    let stream = Arc::new(source.stream);
    let (simulation, simulation_seconds, keys_seen) = {
        let stream = stream.clone();
        let capacities = capacities.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let sim = simulate(&stream, &capacities, &PolicyKind::ALL);
            let seconds = started.elapsed().as_secs_f64();
            (sim, seconds, stream.keys_seen())
        })
        .await
        .context("the simulation failed")?
    };

    let mut live_outcome = None;
    if live_wanted && !stop.is_set() {
        let mut l1_capacities = args.l1_capacity.clone();
        l1_capacities.sort_unstable();
        l1_capacities.dedup();
        if l1_capacities.is_empty() {
            l1_capacities.push(default_l1_capacity(&simulation, policy, stream.distinct));
        }
        let runs: Vec<RunSpec> = strategies
            .iter()
            .flat_map(|&strategy| {
                if strategy.has_l1() {
                    l1_capacities
                        .iter()
                        .map(|&c| RunSpec {
                            strategy,
                            l1_capacity: Some(c),
                        })
                        .collect::<Vec<_>>()
                } else {
                    vec![RunSpec {
                        strategy,
                        l1_capacity: None,
                    }]
                }
            })
            .collect();
        live_outcome = Some(
            live(
                &args,
                &stream,
                source.statements,
                &runs,
                policy,
                &stop,
                &progress,
                &mut warnings,
            )
            .await?,
        );
    }
    progress.finish();

    let interrupted = stop.is_set();
    if interrupted {
        notes.push(match &live_outcome {
            Some(l) => format!(
                "interrupted by Ctrl-C after {} of {} live runs: the report covers what was measured",
                l.outcomes.iter().filter(|o| !o.interrupted).count(),
                l.planned
            ),
            None => "interrupted by Ctrl-C before the live runs".to_string(),
        });
    }
    let mut live_error = None;
    let live_input = match &mut live_outcome {
        Some(l) => {
            live_error = l.error.take();
            Some(LiveInput {
                database: l.database.clone(),
                server_version: l.server_version.clone(),
                redis: l.redis.clone(),
                scratch_schema: l.scratch_schema.clone(),
                scratch_dropped: l.scratch_dropped,
                config: l.config.clone(),
                pg_stat_statements: l.pgss,
                stream: &l.stream,
                distinct: stream.distinct,
                outcomes: &l.outcomes,
            })
        }
        None => None,
    };
    let report = build_report(ReportInput {
        source: source.info,
        simulation,
        simulation_seconds,
        keys_seen,
        live: live_input,
        targets: Targets {
            hit_ratio: args.target_hit_ratio,
            max_stale_read_ratio: args.max_stale_reads,
            p99_ms: args.target_p99.map(|d| d.as_secs_f64() * 1000.0),
        },
        ttl_ms: args.ttl.as_millis() as u64,
        write_ratio: args.write_ratio,
        l1_policy: policy,
        interrupted,
        warnings,
        notes,
    });
    if let Some(path) = &args.plot {
        let svg = crate::render::bench_cache_plot::plot_svg(&report)?;
        std::fs::write(path, svg)
            .with_context(|| format!("cannot write the plot to {}", path.display()))?;
    }
    {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match args.format {
            TableOrJson::Table => crate::render::bench_cache::write_table(&mut out, &report)?,
            TableOrJson::Json => crate::render::bench_cache::write_json(&mut out, &report)?,
        }
        out.flush()?;
    }
    if let Some(e) = live_error {
        return Err(e.context("bench-cache stopped early (what was measured is above)"));
    }
    if interrupted {
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The simulated knee of the L1 policy's curve, else 10 % of the keys.
fn default_l1_capacity(sim: &Simulation, policy: L1Policy, distinct: u32) -> u64 {
    sim.policies
        .iter()
        .find(|c| c.policy == policy.simulated())
        .and_then(|c| c.knee_capacity)
        .map_or_else(|| (u64::from(distinct) / 10).max(1), u64::from)
}

/// What the live part measured, and what went wrong.
struct LiveOutcome {
    database: String,
    server_version: String,
    redis: Option<RedisInfo>,
    scratch_schema: Option<String>,
    scratch_dropped: bool,
    config: LiveConfig,
    pgss: bool,
    stream: Arc<Vec<u32>>,
    outcomes: Vec<RunOutcome>,
    planned: usize,
    /// The first failure (setup, a run, the cleanup), naming the server.
    error: Option<anyhow::Error>,
}

#[allow(clippy::too_many_arguments)]
async fn live(
    args: &BenchCacheArgs,
    stream: &KeyStream,
    statements: Option<Vec<Option<TraceStatement>>>,
    runs: &[RunSpec],
    policy: L1Policy,
    stop: &Arc<Stop>,
    progress: &Progress,
    warnings: &mut Vec<String>,
) -> Result<LiveOutcome> {
    let info = resolve_from_env(
        args.connect.database.as_deref(),
        args.connect.connect_timeout,
    )?;
    let target = info.display_url();
    let live_stream: Vec<u32> = match &statements {
        Some(s) => stream
            .accesses
            .iter()
            .copied()
            .filter(|&k| s[k as usize].is_some())
            .collect(),
        None => stream.accesses.clone(),
    };
    if live_stream.is_empty() {
        bail!(
            "no read of the workload can run live (see the warning above); the simulation alone runs without -d"
        );
    }
    let control = connect(&info, &SessionSettings::default()).await?;
    let pre = preflight(&control)
        .await
        .with_context(|| format!("on {target}"))?;
    // Besides the clients, only the control session (already counted in
    // use) is open.
    let cap = connection_cap(&pre.slots, 0);
    let cap_reason = cap.reason.replace(" − 0 for the sampler", "");
    let clients = (args.clients as i64).min(cap.pool_size);
    if clients < 1 {
        bail!("no connection is free for a client on {target}: {cap_reason}");
    }
    if clients < i64::from(args.clients) {
        let w = format!(
            "{} clients exceed what the server allows this run ({cap_reason}); running {clients}",
            args.clients
        );
        eprintln!("warning: {w}");
        warnings.push(w);
    }
    let clients = clients as usize;
    let needs_redis = runs.iter().any(|r| r.strategy.has_l2());
    let l2 = match (&args.redis, needs_redis) {
        (Some(url), true) => Some(RedisTier::connect(url, key_prefix(), args.ttl).await?),
        _ => None,
    };
    let synthetic = statements.is_none();
    let writes = args.write_ratio > 0.0;
    let scratch = (synthetic || writes).then(scratch_schema_name);
    let plan = match (&scratch, synthetic) {
        (Some(schema), true) => ReadPlan::Items {
            schema: schema.clone(),
        },
        (versions, _) => ReadPlan::Trace {
            versions: versions.clone(),
        },
    };
    let view = match &scratch {
        Some(_) => pgss_view(&control).await,
        None => None,
    };
    let settings = RunSettings {
        duration: args.duration,
        write_ratio: args.write_ratio,
        ttl: args.ttl,
        warm_up: args.warm_up,
        seed: args.seed,
        l1_policy: policy,
    };
    let config = LiveConfig {
        clients,
        clients_requested: args.clients,
        connection_cap: cap.pool_size,
        connection_cap_reason: cap_reason,
        duration_ms: args.duration.as_millis() as u64,
        write_ratio: args.write_ratio,
        ttl_ms: args.ttl.as_millis() as u64,
        warm_up: args.warm_up,
        l1_policy: policy,
        statement_timeout_ms: args.statement_timeout.as_millis() as u64,
        seed: args.seed,
        stream_accesses: live_stream.len() as u64,
    };
    let live_stream = Arc::new(live_stream);
    let mut outcomes = Vec::new();

    // From here the scratch schema and Redis keys may exist: whatever
    // happens, they are removed before the report is written.
    let measured: Result<()> = async {
        if let Some(schema) = &scratch {
            let kind = if synthetic {
                ScratchKind::Items
            } else {
                ScratchKind::Versions
            };
            progress.note(&format!(
                "creating the scratch schema {schema} ({} keys)",
                stream.distinct
            ));
            let created =
                create_scratch(&control, &info, schema, kind, stream.distinct, stop.wait()).await;
            if stop.is_set() {
                return Ok(());
            }
            created?;
        }
        let session_settings = SessionSettings {
            statement_timeout: args.statement_timeout,
            lock_timeout: args.statement_timeout.min(Duration::from_secs(1)),
        };
        let mut sessions = Vec::with_capacity(clients);
        for _ in 0..clients {
            if stop.is_set() {
                return Ok(());
            }
            sessions.push(Arc::new(
                BenchCacheSession::open(&info, &session_settings, &plan).await?,
            ));
        }
        let bench = Bench {
            database: target.clone(),
            sessions,
            l2: l2.clone(),
            stream: live_stream.clone(),
            distinct: stream.distinct,
            trace: statements.map(Arc::new),
            versions: Arc::new(VersionBook::new(stream.distinct)),
            stop: stop.clone(),
        };
        for (i, spec) in runs.iter().enumerate() {
            if stop.is_set() {
                break;
            }
            progress.run_started(i, runs.len(), spec, clients, args.duration);
            let counters = async || match &view {
                Some(v) => scratch_counters(&control, v, &plan).await.ok(),
                None => None,
            };
            let outcome = run_strategy(&bench, *spec, &settings, progress, counters).await;
            progress.run_done(i, runs.len(), &outcome);
            // The run keeps its error for the report; the command fails with it.
            let failed = outcome.error.as_ref().map(|e| anyhow::anyhow!("{e:#}"));
            outcomes.push(outcome);
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Ok(())
    }
    .await;
    let error = measured.err();

    // Cleanup, also after an error or Ctrl-C.
    let mut keys_left = None;
    if let Some(l2) = &l2 {
        match async {
            l2.clear().await?;
            Ok::<_, anyhow::Error>(l2.usage().await?.keys)
        }
        .await
        {
            Ok(left) => keys_left = Some(left),
            Err(e) => {
                let w = format!(
                    "{e:#}: keys under {prefix} may be left; remove them with redis-cli -u {url} --scan --pattern '{prefix}*' | xargs redis-cli -u {url} unlink",
                    prefix = l2.prefix,
                    url = l2.url
                );
                eprintln!("warning: {w}");
                warnings.push(w);
            }
        }
    }
    let mut scratch_dropped = true;
    if let Some(schema) = &scratch
        && let Err(e) = drop_scratch_anyway(&control, &info, schema).await
    {
        scratch_dropped = false;
        let w = format!("{e:#}");
        eprintln!("warning: {w}");
        warnings.push(w);
    }
    Ok(LiveOutcome {
        database: target,
        server_version: pre.server_version,
        redis: l2.as_ref().map(|r| RedisInfo {
            url: r.url.clone(),
            key_prefix: r.prefix.clone(),
            keys_left,
        }),
        scratch_schema: scratch,
        scratch_dropped,
        config,
        pgss: view.is_some(),
        stream: live_stream,
        outcomes,
        planned: runs.len(),
        error,
    })
}

/// Progress on stderr: a bar on a terminal (not with json), else one line
/// per event.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(json: bool) -> Self {
        let bar = super::progress_allowed(json).then(|| {
            let bar = indicatif::ProgressBar::new(1000);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg}")
                    .expect("static template"),
            );
            bar
        });
        Self { bar }
    }

    fn run_started(&self, index: usize, total: usize, spec: &RunSpec, clients: usize, d: Duration) {
        let message = format!(
            "run {}/{total}: {}, {clients} clients for {}",
            index + 1,
            spec.label(),
            humantime::format_duration(d)
        );
        match &self.bar {
            Some(bar) => {
                bar.set_length(d.as_millis() as u64);
                bar.set_position(0);
                bar.set_message(message);
            }
            None => eprintln!("bench-cache: {message}"),
        }
    }

    fn run_done(&self, index: usize, total: usize, o: &RunOutcome) {
        if self.bar.is_some() {
            return;
        }
        let t = &o.tally;
        let secs = o.elapsed.as_secs_f64().max(1e-9);
        let hit = if t.reads > 0 {
            (t.l1_hits + t.l2_hits) as f64 / t.reads as f64
        } else {
            0.0
        };
        let p50 = crate::bench::stats::hist::summarize(&t.latency.read)
            .map_or("-".to_string(), |s| format!("{:.1} µs", s.p50 as f64 / 1e3));
        eprintln!(
            "bench-cache: run {}/{total} done: {}: {:.0} requests/s, hit ratio {hit:.3}, read p50 {p50}, {} database reads",
            index + 1,
            o.spec.label(),
            (t.reads + t.writes) as f64 / secs,
            t.db_reads
        );
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl LiveProgress for Progress {
    fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(message.to_string()),
            None => eprintln!("bench-cache: {message}"),
        }
    }

    fn tick(&self, seconds_into_run: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position((seconds_into_run * 1000.0) as u64);
        }
    }
}
