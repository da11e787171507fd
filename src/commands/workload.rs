//! `pgadvisor workload`: ingest, rank, render.

use crate::catalog::schema_file::load_schema_file;
use crate::catalog::{Catalog, CatalogSource};
use crate::cli::{TableOrJson, WorkloadArgs};
use crate::db::{SessionSettings, connect, resolve_from_env};
use crate::render::by_table::{write_by_table, write_by_table_json};
use crate::render::workload_json::write_workload_json;
use crate::render::workload_table::write_workload_table;
use crate::shape::usage::usage_by_table;
use crate::workload::rank::rank;
use crate::workload::{CollectOptions, IngestOptions, Progress, ingest};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::process::ExitCode;

pub async fn run(args: WorkloadArgs) -> Result<ExitCode> {
    if args.inputs.iter().filter(|p| *p == "-").count() > 1 {
        bail!("stdin (-) can be given only once");
    }
    let options = IngestOptions {
        format: args.log_format.forced(),
        log_line_prefix: args.log_line_prefix.clone(),
        collect: CollectOptions {
            samples: args.samples,
            databases: args.dbnames.clone(),
            users: args.users.clone(),
        },
    };
    let json = args.format == TableOrJson::Json;
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
    if args.by_table {
        let catalog = load_catalog(&args).await?;
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

fn first_warning(workload: &crate::workload::Workload) -> String {
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
