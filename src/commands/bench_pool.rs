//! `pgadvisor bench-pool`: check the connection budget, set up the
//! workload (scratch schema, script or replay), sweep the pool sizes,
//! always drop the scratch schema, then report — also after Ctrl-C, with
//! the steps measured so far and exit status 130.

use crate::bench::pool::cap::{auto_sizes, clip_sizes, connection_cap};
use crate::bench::pool::cpu::client_cores;
use crate::bench::pool::report::{ConfigInfo, ReportInput, TargetInfo, WorkloadInfo, build_report};
use crate::bench::pool::runner::{LoadMode, RunConfig, StepOutcome, Target};
use crate::bench::pool::script::{Script, SqlKind, parse_script};
use crate::bench::pool::workload::{Item, LoadWorkload, ReplaySummary, replay};
use crate::bench::pool::{PlannedStep, Stop, Sweep, SweepProgress, plan, run_sweep};
use crate::bench::stats::batch::batch_seconds;
use crate::bench::stats::hist::summarize;
use crate::cli::{BenchPoolArgs, BuiltinWorkload, PoolSizes, TableOrJson};
use crate::db::bench_pool::{
    BenchSession, READ_WRITE_SCRIPT, SELECT_ONLY_SCRIPT, bench_application_name, create_scratch,
    drop_scratch, is_local, preflight, round_trip_us, scratch_schema_name, transport,
};
use crate::db::{SessionSettings, connect, resolve_from_env};
use crate::workload::{CollectOptions, ingest};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Exit status after Ctrl-C (128 + SIGINT, as a shell reports it): the
/// report on stdout is partial.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Fingerprints replayed at most (the most called).
const REPLAY_FINGERPRINTS: usize = 100;
/// Parameter samples kept per fingerprint for the replay.
const REPLAY_SAMPLES: usize = 8;

/// Where the load comes from, read before anything connects.
enum Source {
    Builtin(BuiltinWorkload, Script),
    Script(String, Script),
    Replay(String, Box<crate::workload::Workload>),
}

fn load_source(args: &BenchPoolArgs) -> Result<Source> {
    if !args.workload.is_empty() {
        let options = args.log_input.ingest_options(CollectOptions {
            samples: REPLAY_SAMPLES,
            ..CollectOptions::default()
        });
        let workload = ingest(&args.workload, &options, None)?;
        if workload.executions == 0 {
            bail!("no statements found in {}", args.workload.join(", "));
        }
        return Ok(Source::Replay(args.workload.join(", "), Box::new(workload)));
    }
    if let Some(path) = &args.script {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the script {shown}"))?;
        let script = parse_script(&text).with_context(|| format!("in the script {shown}"))?;
        if script.writes && !args.allow_writes {
            let line = script
                .statements()
                .find(|s| s.kind == SqlKind::Write)
                .map_or(0, |s| s.line);
            bail!(
                "the script {shown} writes (line {line}); pass --allow-writes to run it (its changes are committed: use a copy of the database)"
            );
        }
        return Ok(Source::Script(shown, script));
    }
    let builtin = args.builtin.unwrap_or(BuiltinWorkload::SelectOnly);
    let text = match builtin {
        BuiltinWorkload::SelectOnly => SELECT_ONLY_SCRIPT,
        BuiltinWorkload::ReadWrite => READ_WRITE_SCRIPT,
    };
    let script = parse_script(text).context("the built-in script does not parse")?;
    Ok(Source::Builtin(builtin, script))
}

fn builtin_name(b: BuiltinWorkload) -> &'static str {
    match b {
        BuiltinWorkload::SelectOnly => "select-only",
        BuiltinWorkload::ReadWrite => "read-write",
    }
}

pub async fn run(args: BenchPoolArgs) -> Result<ExitCode> {
    let json = args.format == TableOrJson::Json;
    let source = load_source(&args)?;
    let info = resolve_from_env(
        args.connect.database.as_deref(),
        args.connect.connect_timeout,
    )?;
    let target = info.display_url();

    let stop = Stop::new();
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if stop.is_set() {
                    eprintln!("bench-pool: stopping — cleaning up, then printing the steps so far");
                }
                stop.trigger();
            }
        });
    }

    let control = connect(&info, &SessionSettings::default()).await?;
    let pre = preflight(&control)
        .await
        .with_context(|| format!("on {target}"))?;
    let rtt_us = round_trip_us(&control)
        .await
        .with_context(|| format!("cannot time a round trip to {target}"))?;
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    // The sampler is this run's only other session besides the control one
    // (already among the connections in use).
    let cap = connection_cap(&pre.slots, 1);
    let sizes = match &args.sizes {
        PoolSizes::Auto => auto_sizes(cap.pool_size),
        PoolSizes::List(list) => {
            let (kept, clipped) = clip_sizes(list, cap.pool_size);
            if !clipped.is_empty() && cap.pool_size >= 1 {
                let w = format!(
                    "pool size {} exceeds what the server allows this run ({}: {}); clipped to {}",
                    clipped
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    cap.pool_size,
                    cap.reason,
                    cap.pool_size
                );
                eprintln!("warning: {w}");
                warnings.push(w);
            }
            kept
        }
    };
    if sizes.is_empty() {
        bail!(
            "no connection is free for a pool on {target}: {}",
            cap.reason
        );
    }
    let largest = *sizes.iter().max().expect("not empty");
    let clients = args.clients.map_or(4 * largest as usize, |c| c as usize);
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    let local = is_local(&info);
    let client_cores = client_cores();
    // Load threads as pgbench -j, each with its own runtime, share of the
    // pool and clients (see runner::split); given, or per pool size by
    // runner::load_threads.
    let client_threads = args.client_threads.map(|n| n as usize);
    let server_cores = match (args.server_cores, local) {
        (Some(n), _) => (n, "given"),
        (None, true) => (client_cores, "local"),
        (None, false) => {
            notes.push(format!(
                "the server's cores are unknown (pass --server-cores): the rule of thumb uses this machine's {client_cores}"
            ));
            (client_cores, "client")
        }
    };

    let sampler = Arc::new(connect(&info, &SessionSettings::default()).await?);
    let scratch = match &source {
        Source::Builtin(..) => Some(scratch_schema_name()),
        _ => None,
    };
    let mut replay_summary: Option<ReplaySummary> = None;
    let prepared = prepare_workload(&args, &source, &mut replay_summary, &mut warnings);
    let mode = match args.rate {
        Some(rate) => LoadMode::Open { rate },
        None => LoadMode::Closed,
    };
    let cfg = RunConfig {
        clients,
        duration: args.duration,
        batch: Duration::from_secs_f64(batch_seconds(args.duration.as_secs_f64())),
        mode,
        wait_timeout: args.statement_timeout,
        statement_timeout: args.statement_timeout,
        scale: args.scale,
        seed,
        sample_every: Duration::from_millis(100),
        threads: client_threads,
        cores: client_cores as usize,
    };
    let steps = plan(&sizes, args.repeats, seed);
    let progress = Progress::new(json, &steps, args.duration);

    // From here the scratch schema may exist: whatever happens, it is
    // dropped before the report is written.
    let outcome: Result<(Sweep, Arc<LoadWorkload>)> = async {
        let workload = Arc::new(prepared?);
        if let Some(schema) = &scratch
            && !stop.is_set()
        {
            progress.note(&format!(
                "creating the scratch schema {schema} (scale {})",
                args.scale
            ));
            let created = create_scratch(&control, &info, schema, args.scale, stop.wait()).await;
            // An interrupted setup is not an error: the report says so.
            if let Err(e) = created
                && !stop.is_set()
            {
                return Err(e);
            }
        }
        let session = BenchSession {
            application_name: bench_application_name(),
            statement_timeout: args.statement_timeout,
            lock_timeout: args.statement_timeout,
            search_path: scratch.clone(),
            read_only: !workload.writes(),
        };
        let sweep = if stop.is_set() {
            Sweep {
                steps: Vec::new(),
                interrupted: true,
                error: None,
            }
        } else {
            let run_target = Target {
                info: &info,
                session: &session,
                control: &control,
                sampler: sampler.clone(),
            };
            run_sweep(
                &run_target,
                &workload,
                &cfg,
                args.warmup,
                &steps,
                &stop,
                &progress,
            )
            .await
        };
        Ok((sweep, workload))
    }
    .await;
    progress.finish();
    if let Some(schema) = &scratch
        && let Err(e) = drop_scratch(&control, &info, schema).await
    {
        let w = format!("{e:#}");
        eprintln!("warning: {w}");
        warnings.push(w);
    }
    let (sweep, workload) = outcome?;
    if sweep.steps.is_empty()
        && let Some(e) = sweep.error
    {
        return Err(e);
    }
    if sweep.interrupted {
        notes.push(format!(
            "interrupted by Ctrl-C after {} of {} steps: the report covers those",
            sweep.steps.len(),
            steps.len()
        ));
    }
    if let Some(e) = &sweep.error {
        notes.push(format!(
            "stopped after {} of {} steps: {e:#}",
            sweep.steps.len(),
            steps.len()
        ));
    }
    let (kind, name, scale) = match &source {
        Source::Builtin(b, _) => ("builtin", builtin_name(*b).to_string(), Some(args.scale)),
        Source::Script(path, _) => ("script", path.clone(), None),
        Source::Replay(files, _) => ("replay", files.clone(), None),
    };
    let input = ReportInput {
        target: TargetInfo {
            database: target.clone(),
            server_version: pre.server_version.clone(),
            server_version_num: pre.server_version_num,
            max_connections: pre.slots.max_connections,
            connection_cap: cap.pool_size,
            connection_cap_reason: cap.reason.clone(),
            transport: transport(&info, pre.ssl),
            local,
            rtt_us,
        },
        workload: WorkloadInfo {
            kind,
            name,
            scale,
            scratch_schema: scratch.clone(),
            statements: workload.statements(),
            writes: workload.writes(),
            replay: replay_summary,
        },
        config: ConfigInfo {
            sizes: sizes.clone(),
            clients,
            mode: if args.rate.is_some() {
                "open"
            } else {
                "closed"
            },
            rate: args.rate,
            duration_ms: args.duration.as_millis() as u64,
            warmup_ms: args.warmup.as_millis() as u64,
            repeats: args.repeats,
            batch_ms: cfg.batch.as_millis() as u64,
            slo_p99_ms: args.slo_p99.map(|d| d.as_secs_f64() * 1000.0),
            statement_timeout_ms: args.statement_timeout.as_millis() as u64,
            pool_wait_timeout_ms: cfg.wait_timeout.as_millis() as u64,
            allow_writes: args.allow_writes,
            seed,
            sample_every_ms: cfg.sample_every.as_millis() as u64,
            client_cores,
            client_threads,
        },
        interrupted: sweep.interrupted,
        slo_p99_us: args.slo_p99.map(|d| d.as_micros() as u64),
        instances: args.instances,
        server_cores,
        warnings,
        notes,
    };
    let report = build_report(input, &sweep.steps);
    if let Some(path) = &args.plot {
        if report.steps.is_empty() {
            eprintln!("warning: nothing was measured, so no plot was written");
        } else {
            let svg = crate::render::bench_pool_plot::plot_svg(&report)?;
            std::fs::write(path, svg)
                .with_context(|| format!("cannot write the plot to {}", path.display()))?;
        }
    }
    {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match args.format {
            TableOrJson::Table => crate::render::bench_pool::write_table(&mut out, &report)?,
            TableOrJson::Json => crate::render::bench_pool::write_json(&mut out, &report)?,
        }
        out.flush()?;
    }
    if let Some(e) = sweep.error {
        return Err(e.context(format!(
            "bench-pool on {target} stopped early (the steps measured so far are above)"
        )));
    }
    if sweep.interrupted {
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The workload the clients run. Writes in a replay are left out (named in
/// a warning) without --allow-writes; a replay with nothing left fails.
fn prepare_workload(
    args: &BenchPoolArgs,
    source: &Source,
    summary: &mut Option<ReplaySummary>,
    warnings: &mut Vec<String>,
) -> Result<LoadWorkload> {
    match source {
        Source::Builtin(_, script) | Source::Script(_, script) => {
            Ok(LoadWorkload::new(vec![(Item::Script(script.clone()), 1.0)]))
        }
        Source::Replay(files, workload) => {
            let (load, s) = replay(workload, args.allow_writes, REPLAY_FINGERPRINTS);
            let writes: Vec<&str> = s
                .skipped
                .iter()
                .filter(|k| k.reason.contains("--allow-writes"))
                .map(|k| k.query.as_str())
                .collect();
            let Some(load) = load else {
                let reasons: Vec<String> = s
                    .skipped
                    .iter()
                    .take(5)
                    .map(|k| format!("{} ({})", one_line(&k.query), k.reason))
                    .collect();
                bail!(
                    "nothing in {files} can be replayed{}: {}",
                    if writes.is_empty() {
                        ""
                    } else {
                        " — writes are refused without --allow-writes"
                    },
                    reasons.join("; ")
                );
            };
            if !writes.is_empty() {
                let w = format!(
                    "{} write statement(s) left out of the replay (pass --allow-writes to run them; they are committed): {}",
                    writes.len(),
                    writes
                        .iter()
                        .take(3)
                        .map(|q| one_line(q))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                eprintln!("warning: {w}");
                warnings.push(w);
            }
            *summary = Some(s);
            Ok(load)
        }
    }
}

fn one_line(q: &str) -> String {
    let flat: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 80 {
        format!("{}…", flat.chars().take(79).collect::<String>())
    } else {
        flat
    }
}

/// A progress bar on a terminal, one line per step otherwise (json or not:
/// it goes to stderr).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    step_ms: u64,
    current: std::sync::atomic::AtomicU64,
}

impl Progress {
    fn new(json: bool, steps: &[PlannedStep], duration: Duration) -> Self {
        let step_ms = duration.as_millis() as u64;
        let bar = super::progress_allowed(json).then(|| {
            let bar = indicatif::ProgressBar::new(step_ms * steps.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% ETA {eta} {msg}")
                    .expect("static template"),
            );
            bar
        });
        Self {
            bar,
            step_ms,
            current: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(message.to_string()),
            None => eprintln!("bench-pool: {message}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl SweepProgress for Progress {
    fn warmup(&self, seconds: f64) {
        self.note(&format!("warming up for {seconds:.1}s"));
    }

    fn step_started(&self, index: usize, total: usize, step: PlannedStep) {
        self.current.store(
            index as u64 * self.step_ms,
            std::sync::atomic::Ordering::Relaxed,
        );
        let message = format!(
            "step {}/{total}: pool size {} (repeat {})",
            index + 1,
            step.pool_size,
            step.repeat
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(index as u64 * self.step_ms);
                bar.set_message(message);
            }
            None => eprintln!("bench-pool: {message}"),
        }
    }

    fn tick(&self, seconds_into_step: f64) {
        if let Some(bar) = &self.bar {
            let base = self.current.load(std::sync::atomic::Ordering::Relaxed);
            bar.set_position(base + (seconds_into_step * 1000.0) as u64);
        }
    }

    fn step_done(&self, index: usize, total: usize, outcome: &StepOutcome) {
        if self.bar.is_none() {
            let done: u64 = outcome.batches.iter().sum();
            let tps = done as f64 / outcome.duration.as_secs_f64();
            let p99 = summarize(&outcome.latency).map_or("-".to_string(), |l| {
                format!("{:.2} ms", l.p99 as f64 / 1000.0)
            });
            eprintln!(
                "bench-pool: step {}/{total} done: pool size {}: {tps:.0} tps, p99 {p99}, {} errors, {} timeouts",
                index + 1,
                outcome.pool_size,
                outcome.errors,
                outcome.timeouts
            );
        }
    }
}
