//! `pgadvisor recommend-indexes`: read the workload, load the catalog,
//! cost candidates with HypoPG on the server (or advise offline from a
//! schema file or when HypoPG is missing), render, and optionally build.

use crate::advisor::report::Report;
use crate::advisor::{self, AdviseOptions};
use crate::catalog::Catalog;
use crate::catalog::schema_file::load_schema_file;
use crate::cli::{RecommendArgs, ReportFormat};
use crate::db::whatif::{
    HypoDropChecker, HypoOracle, HypoStatus, WhatIf, create_hypopg, hypopg_status,
};
use crate::db::{ConnInfo, SessionSettings, connect, resolve_from_env};
use crate::render::recommend::{write_json, write_markdown, write_sql, write_table};
use crate::workload::{CollectOptions, Workload, ingest};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

/// random_page_cost when no server says otherwise (offline).
const DEFAULT_ENTRY_COST: f64 = 4.0;

pub async fn run(args: RecommendArgs) -> Result<ExitCode> {
    if args.inputs.iter().filter(|p| *p == "-").count() > 1 {
        bail!("stdin (-) can be given only once");
    }
    if args.apply && args.schema.is_some() {
        bail!("--apply needs a database (-d URL), not --schema");
    }
    let mut options = AdviseOptions {
        max_indexes: args.max_indexes,
        max_columns: args.max_columns as usize,
        budget_bytes: args.budget,
        min_improvement_pct: args.min_improvement.max(0.0),
        entry_cost: DEFAULT_ENTRY_COST,
        unused_min_bytes: args.unused_min_size as i64,
    };
    let bar = Spinner::new(args.format);

    if let Some(path) = &args.schema {
        bar.say("reading the workload");
        let workload = read_files(&args)?;
        let catalog = load_schema_file(&path.to_string_lossy())?;
        let prepared = advisor::prepare(&workload, &catalog, &options);
        let notes = vec![format!(
            "offline advice from {}: nothing was costed; run with -d URL on a server with HypoPG for costed advice",
            path.display()
        )];
        let report =
            advisor::offline::advise_offline(&prepared, &workload, &catalog, &options, notes);
        bar.clear();
        return finish(&args, report, None).await;
    }

    let info = resolve_from_env(args.connect.database.as_deref(), args.connect.connect_timeout)
        .context(
            "recommend-indexes needs a database to cost indexes on (-d URL, DATABASE_URL or PG* variables), or --schema FILE for offline advice",
        )?;
    let target = info.display_url();
    bar.say(&format!("connecting to {target}"));
    let client = connect(&info, &SessionSettings::default()).await?;
    let workload = if args.from_pg_stat_statements {
        bar.say("reading pg_stat_statements");
        // --dbname reads every database's statements, then keeps those.
        let all_databases = !args.dbnames.is_empty();
        let mut rows =
            crate::db::pg_stat_statements::read_statements(&client, all_databases).await?;
        crate::workload::pgss::retain_matching(&mut rows, &args.dbnames, &[]);
        crate::workload::pgss::workload_from_statements(rows, &target)
    } else {
        bar.say("reading the workload");
        read_files(&args)?
    };
    bar.say("reading the catalog");
    let catalog = crate::db::catalog::load_catalog(&client)
        .await
        .with_context(|| format!("reading the catalog of {target}"))?;
    let mut status = hypopg_status(&client).await?;
    options.entry_cost = status.random_page_cost;
    let mut notes = Vec::new();
    if status.installed_version.is_none()
        && status.available_version.is_some()
        && args.enable_hypopg
    {
        create_hypopg(&client).await?;
        notes.push(format!(
            "created the hypopg extension in {target} (--enable-hypopg)"
        ));
        status = hypopg_status(&client).await?;
    }
    let prepared = advisor::prepare(&workload, &catalog, &options);
    let mut report = match status.installed_version.clone() {
        Some(version) => {
            let mut report = costed(
                &args, &info, &options, status, prepared, workload, catalog, notes, &bar,
            )
            .await?;
            report.hypopg_version = Some(version);
            report
        }
        None => {
            notes.push(hypopg_missing(&status, &target));
            advisor::offline::advise_offline(&prepared, &workload, &catalog, &options, notes)
        }
    };
    report.database = Some(target);
    bar.clear();
    finish(&args, report, Some(info)).await
}

/// Exactly what to do when HypoPG is missing.
fn hypopg_missing(status: &HypoStatus, target: &str) -> String {
    let major = status.server_version_num / 10000;
    match &status.available_version {
        Some(v) => format!(
            "HypoPG {v} is available on the server but not installed in {target}: run CREATE EXTENSION hypopg; there (or pass --enable-hypopg) for costed advice. This advice is offline: not costed."
        ),
        None => format!(
            "the hypopg extension is not installed on the server: install its package for PostgreSQL {major} (Debian/Ubuntu: apt-get install postgresql-{major}-hypopg; RHEL/Fedora: dnf install hypopg_{major}), then run CREATE EXTENSION hypopg; in the database. This advice is offline: not costed."
        ),
    }
}

#[allow(clippy::too_many_arguments)]
async fn costed(
    args: &RecommendArgs,
    info: &ConnInfo,
    options: &AdviseOptions,
    status: HypoStatus,
    prepared: advisor::Prepared,
    workload: Workload,
    catalog: Catalog,
    notes: Vec<String>,
    bar: &Spinner,
) -> Result<Report> {
    let ddl: Vec<String> = prepared
        .candidates
        .candidates
        .iter()
        .map(|c| c.spec.hypothetical_sql())
        .collect();
    bar.say(&format!(
        "costing {} candidate index(es) over {} statement(s)",
        ddl.len(),
        prepared.queries.len()
    ));
    let whatif = Arc::new(
        WhatIf::open(
            info,
            &SessionSettings::default(),
            args.jobs as usize,
            status,
            ddl,
        )
        .await?,
    );
    let sizes = whatif.sizes().await?;
    let variants = Arc::new(
        prepared
            .queries
            .iter()
            .map(|q| q.variants.clone())
            .collect::<Vec<_>>(),
    );
    let handle = tokio::runtime::Handle::current();
    let verify_drops = args.verify_drops;
    let options = options.clone();
    let report = tokio::task::spawn_blocking(move || -> Result<Report> {
        let mut oracle = HypoOracle::new(whatif.clone(), handle.clone(), variants.clone());
        let mut checker = HypoDropChecker {
            oracle: HypoOracle::new(whatif, handle, variants),
            verify_by_rollback: verify_drops,
        };
        let mut report = advisor::advise_costed(
            &prepared,
            &workload,
            &catalog,
            &options,
            &sizes,
            &mut oracle,
            &mut checker,
            notes,
        )?;
        let mut errors = oracle.errors;
        errors.extend(checker.oracle.errors);
        // A normalized text that cannot be planned generically is common
        // (a constant in GROUP BY became $n): one note for all of those.
        let mut generic_failures = Vec::new();
        for ((q, v), error) in errors {
            let query = &prepared.queries[q];
            let generic = matches!(
                query.variants[v],
                crate::advisor::queries::PlanVariant::Generic { .. }
            );
            if generic && v > 0 {
                generic_failures.push(format!("{} ({error})", query.fingerprint));
                continue;
            }
            report.notes.push(format!(
                "{}: the server could not plan it: {error}",
                query.fingerprint
            ));
        }
        if !generic_failures.is_empty() {
            report.notes.push(format!(
                "{} statement(s) have no generic plan (their normalized text does not plan with unknown parameters), so only their logged samples were costed: {}",
                generic_failures.len(),
                generic_failures.join("; ")
            ));
        }
        Ok(report)
    })
    .await
    .context("the costing task failed")??;
    Ok(report)
}

fn read_files(args: &RecommendArgs) -> Result<Workload> {
    let options = args.log_input.ingest_options(CollectOptions {
        samples: crate::advisor::queries::SAMPLES_COSTED,
        databases: args.dbnames.clone(),
        ..CollectOptions::default()
    });
    let workload = ingest(&args.inputs, &options, None)?;
    if workload.executions == 0 && workload.errors == 0 {
        bail!(
            "no statements found in {} ({} problem(s) while reading)",
            args.inputs.join(", "),
            workload.warnings.total()
        );
    }
    Ok(workload)
}

async fn finish(args: &RecommendArgs, report: Report, info: Option<ConnInfo>) -> Result<ExitCode> {
    {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match args.format {
            ReportFormat::Table => write_table(&mut out, &report)?,
            ReportFormat::Json => write_json(&mut out, &report)?,
            ReportFormat::Sql => write_sql(&mut out, &report)?,
            ReportFormat::Markdown => write_markdown(&mut out, &report)?,
        }
        out.flush()?;
    }
    if args.apply {
        let info = info.expect("--apply requires a database");
        let outcome = super::apply::apply_report(&report, &info, &args.build, args.yes).await?;
        if !outcome.is_empty() {
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            crate::render::apply::write_apply_table(&mut err, &outcome)?;
        }
        if outcome.iter().any(|o| o.failed()) {
            return Ok(ExitCode::FAILURE);
        }
    }
    let found = !report.recommendations.is_empty() || !report.not_costed.is_empty();
    if args.fail_on_recommendation && found {
        return Ok(ExitCode::from(super::EXIT_GATE));
    }
    Ok(ExitCode::SUCCESS)
}

/// A spinner on stderr naming the current phase (only on a terminal, and
/// not for machine formats).
struct Spinner {
    bar: Option<indicatif::ProgressBar>,
}

impl Spinner {
    fn new(format: ReportFormat) -> Self {
        let machine = matches!(format, ReportFormat::Json | ReportFormat::Sql);
        let bar = super::progress_allowed(machine).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self { bar }
    }

    fn say(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }

    fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
