//! `pgadvisor apply PLAN.json` (and `recommend-indexes --apply`): show the
//! plan, ask (unless --yes), then build one index at a time safely.

use crate::advisor::report::{Report, SCHEMA_VERSION};
use crate::catalog::RelationKind;
use crate::cli::{ApplyArgs, BuildArgs, TableOrJson};
use crate::db::apply::{BuildLimits, BuildOutcome, build_all, check_entry, target_warning};
use crate::db::{ConnInfo, SessionSettings, connect, resolve_from_env};
use crate::render::apply::{write_apply_json, write_apply_table};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

pub async fn run(args: ApplyArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.plan)
        .with_context(|| format!("cannot read {}", args.plan.display()))?;
    let report: Report = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a recommend-indexes JSON report (write one with --format json)",
            args.plan.display()
        )
    })?;
    if report.command != "recommend-indexes" || report.schema_version != SCHEMA_VERSION {
        bail!(
            "{} holds a {} report of schema version {}; apply reads recommend-indexes reports of version {SCHEMA_VERSION}",
            args.plan.display(),
            report.command,
            report.schema_version
        );
    }
    let info = resolve_from_env(
        args.connect.database.as_deref(),
        args.connect.connect_timeout,
    )?;
    let outcomes = apply_report(&report, &info, &args.build, args.yes).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        TableOrJson::Table => write_apply_table(&mut out, &outcomes)?,
        TableOrJson::Json => write_apply_json(&mut out, &outcomes)?,
    }
    out.flush()?;
    Ok(if outcomes.iter().any(BuildOutcome::failed) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Shows what will be built, asks, builds.
pub async fn apply_report(
    report: &Report,
    info: &ConnInfo,
    build: &BuildArgs,
    yes: bool,
) -> Result<Vec<BuildOutcome>> {
    let target = info.display_url();
    if report.recommendations.is_empty() {
        eprintln!("nothing to build: the plan recommends no index");
        return Ok(Vec::new());
    }
    if let Some(warning) = target_warning(report.database.as_deref(), &target) {
        eprintln!("warning: {warning}");
    }
    let client = connect(info, &SessionSettings::default()).await?;
    let catalog = crate::db::catalog::load_catalog(&client)
        .await
        .with_context(|| format!("reading the catalog of {target}"))?;
    drop(client);
    eprintln!(
        "pgadvisor will build {} index(es) on {target}, one at a time (lock_timeout {}, statement_timeout {}):",
        report.recommendations.len(),
        humantime::format_duration(build.lock_timeout),
        humantime::format_duration(build.build_timeout)
    );
    // What runs is built from each entry's spec, not its `ddl` text: show
    // that, so what is confirmed is what is built.
    for r in &report.recommendations {
        if let Err(e) = check_entry(r) {
            eprintln!("  (will refuse {:?}: malformed plan entry: {e})", r.name);
            continue;
        }
        let ddl = r.spec.create_sql(&r.name);
        let partitions = catalog
            .relations
            .values()
            .filter(|rel| rel.partition_of.as_ref() == Some(&r.table))
            .count();
        let partitioned =
            catalog.get(&r.table).map(|rel| rel.kind) == Some(RelationKind::PartitionedTable);
        if partitioned {
            eprintln!(
                "  {ddl};\n    (partitioned: built on each of its {partitions} partition(s), then attached to an index ON ONLY {})",
                r.table
            );
        } else {
            eprintln!("  {ddl};");
        }
        if ddl != r.ddl {
            eprintln!(
                "    (the plan's ddl text differs from its spec; the statement above is what runs)"
            );
        }
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("not building without confirmation: stdin is not a terminal, so pass --yes");
        }
        eprint!("Build them now? [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            bail!("not building: not confirmed");
        }
    }
    let limits = BuildLimits {
        lock_timeout: build.lock_timeout,
        build_timeout: build.build_timeout,
    };
    build_all(info, limits, &report.recommendations, &catalog).await
}
