//! `pgadvisor workload`: ingest (files, or pg_stat_statements), rank,
//! render.

use crate::catalog::schema_file::load_schema_file;
use crate::catalog::{Catalog, CatalogSource};
use crate::cli::{TableOrJson, WorkloadArgs};
use crate::db::pg_stat_statements::read_statements;
use crate::db::{SessionSettings, connect, resolve_from_env};
use crate::render::by_table::{write_by_table, write_by_table_json};
use crate::render::workload_json::write_workload_json;
use crate::render::workload_table::write_workload_table;
use crate::shape::usage::usage_by_table;
use crate::workload::pgss::{HIDDEN_TEXT, retain_matching, workload_from_statements};
use crate::workload::rank::{SortKey, rank};
use crate::workload::{CollectOptions, Progress, Workload, ingest};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::process::ExitCode;
use tokio_postgres::Client;

pub async fn run(args: WorkloadArgs) -> Result<ExitCode> {
    let json = args.format == TableOrJson::Json;
    let (workload, live) = if args.from_pg_stat_statements {
        let (workload, client) = read_pg_stat_statements(&args).await?;
        (workload, Some(client))
    } else {
        (ingest_files(&args, json)?, None)
    };
    if args.by_table {
        let catalog = match (&live, &args.schema) {
            (Some((client, target)), None) => Some(
                crate::db::catalog::load_catalog(client)
                    .await
                    .with_context(|| format!("reading the catalog of {target}"))?,
            ),
            _ => load_catalog(&args).await?,
        };
        let report = usage_by_table(
            &workload,
            catalog
                .as_ref()
                .unwrap_or(&Catalog::new(CatalogSource::SchemaFile)),
        );
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match args.format {
            TableOrJson::Json => {
                write_by_table_json(&mut out, &workload, catalog.as_ref(), &report)?
            }
            TableOrJson::Table => write_by_table(
                &mut out,
                &workload,
                catalog.as_ref(),
                &report,
                args.top,
                args.verbose,
            )?,
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let order = rank(&workload.fingerprints, args.sort, args.top);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        TableOrJson::Json => write_workload_json(&mut out, &workload, &order, args.sort)?,
        TableOrJson::Table => {
            write_workload_table(&mut out, &workload, &order, args.sort, args.verbose)?
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The workload from log files, SQL files or stdin.
fn ingest_files(args: &WorkloadArgs, json: bool) -> Result<Workload> {
    if args.inputs.iter().filter(|p| *p == "-").count() > 1 {
        bail!("stdin (-) can be given only once");
    }
    let options = args.log_input.ingest_options(CollectOptions {
        samples: args.samples,
        databases: args.dbnames.clone(),
        users: args.users.clone(),
        trace: false,
    });
    let bar = super::progress_allowed(json).then(BarProgress::new);
    let workload = ingest(
        &args.inputs,
        &options,
        bar.as_ref().map(|b| b as &dyn Progress),
    )?;
    if let Some(bar) = bar {
        bar.bar.finish_and_clear();
    }
    if workload.executions == 0 && workload.errors == 0 && workload.warnings.total() > 0 {
        bail!(
            "nothing usable in {}: {} problem(s), first: {}",
            args.inputs.join(", "),
            workload.warnings.total(),
            first_warning(&workload)
        );
    }
    Ok(workload)
}

/// The workload from pg_stat_statements: the connected database's
/// statements, or those of the --dbname databases. Returns the session too
/// (with the target, for messages), so --by-table binds through the same
/// database.
async fn read_pg_stat_statements(args: &WorkloadArgs) -> Result<(Workload, (Client, String))> {
    if matches!(args.sort, SortKey::P95 | SortKey::P99) {
        bail!(
            "--sort {} needs latency percentiles, which pg_stat_statements does not keep: sort by total, mean or calls",
            if args.sort == SortKey::P95 {
                "p95"
            } else {
                "p99"
            }
        );
    }
    let info = resolve_from_env(
        args.connect.database.as_deref(),
        args.connect.connect_timeout,
    )?;
    let target = info.display_url();
    let client = connect(&info, &SessionSettings::default()).await?;
    let mut rows = read_statements(&client, !args.dbnames.is_empty())
        .await
        .with_context(|| format!("reading pg_stat_statements on {target}"))?;
    let hidden = rows.iter().filter(|r| r.query == HIDDEN_TEXT).count();
    if hidden > 0 && hidden == rows.len() {
        bail!(
            "reading pg_stat_statements on {target}: all {hidden} statement texts are hidden from this role; grant it pg_read_all_stats (GRANT pg_read_all_stats TO …) or connect as a role that has it"
        );
    }
    let filtered_out = retain_matching(&mut rows, &args.dbnames, &args.users);
    let mut workload = workload_from_statements(rows, &target);
    workload.filtered_out = filtered_out;
    Ok((workload, (client, target)))
}

/// The catalog for --by-table: a schema file, a live database, or none.
async fn load_catalog(args: &WorkloadArgs) -> Result<Option<Catalog>> {
    if let Some(path) = &args.schema {
        return Ok(Some(load_schema_file(&path.to_string_lossy())?));
    }
    if args.connect.database.is_none() && std::env::var_os("PGHOST").is_none() {
        return Ok(None);
    }
    let info = resolve_from_env(
        args.connect.database.as_deref(),
        args.connect.connect_timeout,
    )?;
    let client = connect(&info, &SessionSettings::default()).await?;
    let catalog = crate::db::catalog::load_catalog(&client)
        .await
        .with_context(|| format!("reading the catalog of {}", info.display_url()))?;
    Ok(Some(catalog))
}

fn first_warning(workload: &Workload) -> String {
    workload
        .warnings
        .by_reason
        .iter()
        .next()
        .map(|(reason, tally)| {
            let at = tally
                .locations
                .first()
                .map(|(l, _)| workload.locate(l))
                .unwrap_or_default();
            format!("{} at {at}", reason.describe())
        })
        .unwrap_or_default()
}

/// A byte-based progress bar on stderr.
struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    fn new() -> Self {
        Self {
            bar: ProgressBar::new(0),
        }
    }
}

impl Progress for BarProgress {
    fn start_input(&self, path: &str, size: Option<u64>) {
        match size {
            Some(len) => {
                self.bar.set_length(len);
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                    )
                    .expect("static template")
                    .progress_chars("=> "),
                );
            }
            None => self.bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {bytes} {bytes_per_sec}")
                    .expect("static template"),
            ),
        }
        self.bar.set_position(0);
        self.bar.set_message(path.to_string());
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }
}
