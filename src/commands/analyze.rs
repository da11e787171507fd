//! `pgadvisor analyze`: the heaviest statements of the workload (files or
//! pg_stat_statements), each EXPLAIN ANALYZEd K times by the safe runner
//! with a real logged parameter sample, turned into plan findings.

use crate::analysis::{
    AnalyzeReport, AnalyzeSettings, AnalyzeSummary, AnalyzedStatement, HealthSection, Status,
    WorstEstimate, gate_tripped, percentiles,
};
use crate::cli::{AnalyzeArgs, AnalyzeFormat};
use crate::db::explain::{Decision, RunOutcome, SafeRunner, classify};
use crate::db::whatif::Planner;
use crate::db::{SessionSettings, connect, resolve_from_env};
use crate::findings::{Finding, PlanContext, ServerSettings, Thresholds, run_all};
use crate::plan::{Explain, parse_explain};
use crate::workload::model::Fingerprint;
use crate::workload::rank::{SortKey, rank};
use crate::workload::{CollectOptions, Workload, ingest};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::process::ExitCode;

pub async fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    let mut thresholds = Thresholds::default();
    for t in &args.thresholds {
        let (key, value) = t
            .split_once('=')
            .with_context(|| format!("--threshold {t}: expected RULE.NAME=VALUE"))?;
        thresholds
            .set(key.trim(), value.trim())
            .map_err(|e| anyhow::anyhow!("--threshold {t}: {e}"))?;
    }
    let info = resolve_from_env(
        args.connect.database.as_deref(),
        args.connect.connect_timeout,
    )?;
    let target = info.display_url();
    let settings = SessionSettings {
        statement_timeout: args.statement_timeout,
        ..SessionSettings::default()
    };
    let client = connect(&info, &settings).await?;
    // Health first: sessions and locks are seen as they were before any
    // EXPLAIN of ours ran.
    let health = if args.no_health {
        None
    } else {
        Some(health_section(&args, &info, &client, &thresholds).await?)
    };
    let mut notes = Vec::new();
    let workload = if args.health_only {
        None
    } else if args.inputs.is_empty() {
        match crate::db::pg_stat_statements::read_statements(&client, false).await {
            Ok(rows) => Some((
                crate::workload::pgss::workload_from_statements(rows, &target),
                "pg_stat_statements",
            )),
            // No workload to analyze: the health checks are the report.
            Err(e) if health.is_some() && !args.from_pg_stat_statements => {
                notes.push(format!(
                    "no workload: {e:#}; only the health checks ran (give log files, or install pg_stat_statements)"
                ));
                None
            }
            Err(e) => return Err(e),
        }
    } else {
        Some((read_files(&args)?, "logs"))
    };
    let server = crate::db::explain::server_settings(&client).await?;
    drop(client);
    let mut report = AnalyzeReport {
        schema_version: crate::analysis::SCHEMA_VERSION,
        command: "analyze",
        database: target.clone(),
        source: workload
            .as_ref()
            .map_or("none", |(_, source)| *source)
            .to_string(),
        settings: AnalyzeSettings {
            top: args.top,
            runs: args.runs,
            health: health.is_some(),
            allow_writes: args.allow_writes,
            statement_timeout_ms: args.statement_timeout.as_millis() as u64,
        },
        summary: AnalyzeSummary::default(),
        statements: Vec::new(),
        health,
        notes,
    };
    let mut lost: Option<anyhow::Error> = None;
    let mut reconnects = 0;
    if let Some((workload, _)) = &workload {
        let order = rank(&workload.fingerprints, SortKey::Total, args.top);
        let bar = progress(args.format, order.len());
        let mut runner = SafeRunner::open(&info, settings).await?;
        let mut planner = Planner::open(&info, &settings).await?;
        for (i, &f) in order.iter().enumerate() {
            let fp = &workload.fingerprints[f];
            if let Some(bar) = &bar {
                bar.set_message(fp.id.to_string());
            }
            match analyze_one(
                &args,
                fp,
                i + 1,
                &mut runner,
                &mut planner,
                &thresholds,
                server,
            )
            .await
            {
                Ok(statement) => report.statements.push(statement),
                Err(e) => {
                    // The database went away: keep what was gathered.
                    lost = Some(e);
                    break;
                }
            }
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        reconnects = runner.sessions_opened.saturating_sub(1);
    }
    summarize(&mut report, reconnects);
    if let Some(e) = &lost {
        report.notes.push(format!(
            "stopped after {} statement(s): {e:#}",
            report.statements.len()
        ));
    }
    {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match args.format {
            AnalyzeFormat::Table => crate::render::analyze::write_table(&mut out, &report)?,
            AnalyzeFormat::Json => crate::render::analyze::write_json(&mut out, &report)?,
            AnalyzeFormat::Markdown => crate::render::analyze::write_markdown(&mut out, &report)?,
        }
        out.flush()?;
    }
    if let Some(e) = lost {
        return Err(e.context(format!(
            "the database at {target} went away during analyze (the results gathered so far are above)"
        )));
    }
    if args.fail_on.is_some_and(|s| gate_tripped(&report, s)) {
        return Ok(ExitCode::from(super::EXIT_GATE));
    }
    Ok(ExitCode::SUCCESS)
}

/// Gathers the health snapshot and runs the health rules.
async fn health_section(
    args: &AnalyzeArgs,
    info: &crate::db::ConnInfo,
    client: &tokio_postgres::Client,
    thresholds: &Thresholds,
) -> Result<HealthSection> {
    let machine = crate::db::server_host::machine(info, args.server_memory, args.storage);
    let gathered = crate::db::health::gather(client, machine).await?;
    let ctx = &gathered.context;
    let outcome = crate::findings::health::run_all(ctx, thresholds);
    let mut counts = std::collections::BTreeMap::new();
    for f in &outcome.findings {
        *counts.entry(f.severity).or_default() += 1;
    }
    let mut notes = gathered.notes.clone();
    notes.extend(outcome.notes);
    Ok(HealthSection {
        role: ctx.role.name.clone(),
        superuser: ctx.role.superuser,
        read_all_stats: ctx.role.read_all_stats,
        server_memory_bytes: ctx.machine.memory_bytes,
        server_memory_source: ctx.machine.source.clone(),
        storage: ctx.machine.storage,
        findings: outcome.findings,
        counts,
        notes,
    })
}

fn read_files(args: &AnalyzeArgs) -> Result<Workload> {
    let options = args.log_input.ingest_options(CollectOptions {
        samples: 3,
        ..CollectOptions::default()
    });
    let workload = ingest(&args.inputs, &options, None)?;
    if workload.executions == 0 && workload.errors == 0 {
        bail!("no statements found in {}", args.inputs.join(", "));
    }
    Ok(workload)
}

/// One statement: decide, run K times (or explain generically), find.
/// Errors only when the database cannot be reached any more.
async fn analyze_one(
    args: &AnalyzeArgs,
    fp: &Fingerprint,
    rank: usize,
    runner: &mut SafeRunner,
    planner: &mut Planner,
    thresholds: &Thresholds,
    server: ServerSettings,
) -> Result<AnalyzedStatement> {
    let mut out = AnalyzedStatement {
        rank,
        fingerprint: fp.id.to_string(),
        query: fp.text.clone(),
        calls: fp.calls,
        total_ms: (fp.timed_calls > 0).then(|| fp.total_ms()),
        status: Status::Skipped,
        reason: None,
        runs: 0,
        execution_ms: None,
        planning_ms: None,
        plan_cost: None,
        worst_estimate: None,
        indexes_used: Vec::new(),
        findings: Vec::new(),
    };
    let (statement, parameters) = match fp.samples.first() {
        Some(s) => (s.statement.clone(), s.parameters.clone()),
        None => (fp.text.clone(), Vec::new()),
    };
    let decision = classify(&statement);
    match &decision {
        Decision::Never { reason } => {
            out.reason = Some(format!("never executed: {reason}"));
            return Ok(out);
        }
        Decision::Write if !args.allow_writes => {
            out.reason = Some(
                "a write: pass --allow-writes to run it inside a transaction that is rolled back"
                    .to_string(),
            );
            return Ok(out);
        }
        _ => {}
    }
    let has_params = crate::advisor::queries::placeholder_count(&statement) > 0;
    let generic = if has_params {
        let variant = crate::advisor::queries::PlanVariant::Generic {
            statement: fp.text.clone(),
        };
        match planner.plan_json(&variant).await? {
            Ok(plan) => parse_explain(&plan).ok(),
            Err(_) => None,
        }
    } else {
        None
    };
    if has_params && parameters.is_empty() {
        // No values to run it with: the generic plan only, nothing executed.
        out.status = Status::ExplainedGenerically;
        out.reason = Some(
            "no logged parameter values: plain EXPLAIN of the generic plan, not executed"
                .to_string(),
        );
        if let Some(plan) = &generic {
            describe_plan(&mut out, plan);
            out.findings = findings(std::slice::from_ref(plan), None, thresholds, server);
        }
        return Ok(out);
    }
    let mut plans: Vec<Explain> = Vec::new();
    for _ in 0..args.runs {
        match runner
            .explain_analyze(&statement, &parameters, &decision)
            .await?
        {
            RunOutcome::Plan { plan, .. } => match parse_explain(&plan) {
                Ok(p) => plans.push(p),
                Err(e) => {
                    out.status = Status::Failed;
                    out.reason = Some(format!("the plan could not be read: {e}"));
                    return Ok(out);
                }
            },
            RunOutcome::Timeout => {
                out.status = Status::TimedOut;
                out.reason = Some(format!(
                    "cancelled by statement_timeout ({})",
                    humantime::format_duration(args.statement_timeout)
                ));
                return Ok(out);
            }
            RunOutcome::Error(e) => {
                out.status = Status::Failed;
                out.reason = Some(e);
                return Ok(out);
            }
            RunOutcome::SessionLost(e) => {
                out.status = Status::Failed;
                out.reason = Some(format!(
                    "its session ended ({e}); the run goes on with a new session"
                ));
                return Ok(out);
            }
        }
    }
    out.status = Status::Analyzed;
    out.runs = plans.len();
    let times: Vec<f64> = plans.iter().filter_map(|p| p.execution_time_ms).collect();
    out.execution_ms = percentiles(&times);
    if let Some(last) = plans.last() {
        describe_plan(&mut out, last);
    }
    out.findings = findings(&plans, generic, thresholds, server);
    Ok(out)
}

/// Cost, planning time, worst estimate and indexes from one plan.
fn describe_plan(out: &mut AnalyzedStatement, plan: &Explain) {
    out.plan_cost = plan.plan.total_cost;
    out.planning_ms = plan.planning_time_ms;
    out.indexes_used = plan.indexes_used();
    out.worst_estimate = plan.worst_estimate().map(|w| WorstEstimate {
        node: w.node,
        estimated_rows: w.estimated_rows,
        actual_rows: w.actual_rows,
        factor: w.factor,
    });
}

fn findings(
    plans: &[Explain],
    generic: Option<Explain>,
    thresholds: &Thresholds,
    server: ServerSettings,
) -> Vec<Finding> {
    let ctx = PlanContext::new(plans.to_vec(), generic).with_settings(server);
    run_all(&ctx, thresholds)
}

fn summarize(report: &mut AnalyzeReport, reconnects: usize) {
    let s = &mut report.summary;
    s.statements = report.statements.len();
    s.reconnects = reconnects;
    for st in &report.statements {
        match st.status {
            Status::Analyzed => s.analyzed += 1,
            Status::ExplainedGenerically => s.explained_generically += 1,
            Status::Skipped => s.skipped += 1,
            Status::TimedOut => s.timed_out += 1,
            Status::Failed => s.failed += 1,
        }
        for f in &st.findings {
            *s.findings.entry(f.severity).or_default() += 1;
        }
    }
    s.sequences_may_have_advanced = report.settings.allow_writes
        && report
            .statements
            .iter()
            .any(|st| st.status == Status::Analyzed && classify(&st.query) == Decision::Write);
    if s.sequences_may_have_advanced {
        report.notes.push(
            "--allow-writes: every write was rolled back, but sequences are not transactional: those the writes drew from (serial / identity columns, nextval) may have advanced".to_string(),
        );
    }
}

fn progress(format: AnalyzeFormat, len: usize) -> Option<indicatif::ProgressBar> {
    super::progress_allowed(format == AnalyzeFormat::Json).then(|| {
        let bar = indicatif::ProgressBar::new(len as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} statements {msg}")
                .expect("static template"),
        );
        bar
    })
}
