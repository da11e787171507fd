//! `workload --by-table`: the workload per table, as JSON (schema_version 1,
//! docs/json.md) and as a terminal report.

use super::table::{fmt_ms, new_table, one_line};
use super::workload_json::{Summary, WarningEntry, WorkloadDocument};
use super::workload_table::{write_notes_and_warnings, write_summary};
use crate::catalog::{Catalog, CatalogSource};
use crate::shape::usage::{ShapeCoverage, TableUsage, UsageReport};
use crate::workload::Workload;
use crate::workload::rank::SortKey;
use comfy_table::{Cell, CellAlignment};
use serde::Serialize;
use std::io::Write;

/// Uses listed per table in the terminal report (JSON lists all).
const USES_SHOWN: usize = 15;

#[derive(Serialize)]
struct CatalogSummary<'a> {
    /// `live_database`, `schema_file`, or `none`.
    source: &'static str,
    relations: usize,
    notes: &'a [String],
}

#[derive(Serialize)]
struct ByTableDocument<'a> {
    schema_version: u32,
    command: &'static str,
    view: &'static str,
    summary: Summary<'a>,
    notes: &'a [String],
    warnings: Vec<WarningEntry>,
    catalog: CatalogSummary<'a>,
    coverage: &'a ShapeCoverage,
    tables: &'a [TableUsage],
}

fn catalog_summary(catalog: Option<&Catalog>) -> CatalogSummary<'_> {
    match catalog {
        Some(c) => CatalogSummary {
            source: match c.source {
                CatalogSource::LiveDatabase => "live_database",
                CatalogSource::SchemaFile => "schema_file",
            },
            relations: c.relations.len(),
            notes: &c.notes,
        },
        None => CatalogSummary {
            source: "none",
            relations: 0,
            notes: &[],
        },
    }
}

pub fn write_by_table_json(
    out: &mut impl Write,
    workload: &Workload,
    catalog: Option<&Catalog>,
    report: &UsageReport,
) -> std::io::Result<()> {
    let workload_doc = WorkloadDocument::build(workload, &[], SortKey::Total);
    let doc = ByTableDocument {
        schema_version: super::workload_json::SCHEMA_VERSION,
        command: "workload",
        view: "by_table",
        summary: workload_doc.summary,
        notes: workload_doc.notes,
        warnings: workload_doc.warnings,
        catalog: catalog_summary(catalog),
        coverage: &report.coverage,
        tables: &report.tables,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub fn write_by_table(
    out: &mut impl Write,
    workload: &Workload,
    catalog: Option<&Catalog>,
    report: &UsageReport,
    top: usize,
    verbose: bool,
) -> std::io::Result<()> {
    let doc = WorkloadDocument::build(workload, &[], SortKey::Total);
    write_summary(out, &doc.summary)?;
    let c = &report.coverage;
    let cat = catalog_summary(catalog);
    writeln!(
        out,
        "{} statements analyzed: {} parsed, {} fully bound to the catalog ({}, {} relations)",
        c.analyzed,
        c.parsed,
        c.fully_bound,
        cat.source.replace('_', " "),
        cat.relations
    )?;
    for example in &c.examples {
        writeln!(out, "  {example}")?;
    }
    for note in cat.notes {
        writeln!(out, "note: {note}")?;
    }
    if catalog.is_none() {
        writeln!(
            out,
            "note: no catalog: unqualified columns of joined tables stay unbound (pass -d URL or --schema FILE)"
        )?;
    }
    let shown = if top == 0 { report.tables.len() } else { top };
    for t in report.tables.iter().take(shown) {
        writeln!(out)?;
        let mut facts = vec![
            format!("{} calls", t.calls),
            format!("{:.1}% of time", t.share * 100.0),
            format!(
                "{} fingerprint{}",
                t.fingerprints,
                if t.fingerprints == 1 { "" } else { "s" }
            ),
        ];
        if let Some(rows) = t.row_estimate.filter(|r| *r >= 0.0) {
            facts.push(format!("~{} rows", human_count(rows)));
        }
        if let Some(size) = t.size_bytes {
            facts.push(format!("{:.1} MB", size as f64 / 1e6));
        }
        let kinds: Vec<String> = t
            .calls_by_kind
            .iter()
            .map(|(k, n)| format!("{} {n}", format!("{k:?}").to_lowercase()))
            .collect();
        facts.push(kinds.join(", "));
        let flag = if t.guessed {
            " (guessed from unparsable statements)"
        } else if !t.known {
            " (not in the catalog)"
        } else {
            ""
        };
        writeln!(out, "{}{flag}: {}", t.table, facts.join(", "))?;
        if t.uses.is_empty() {
            continue;
        }
        let mut table = new_table();
        table.set_header(vec![
            "use",
            "column / expression",
            "how",
            "calls",
            "time",
            "share",
            "fps",
        ]);
        for u in t.uses.iter().take(USES_SHOWN) {
            let how = if u.under_or_or_not {
                format!("{} (under OR/NOT)", u.detail)
            } else {
                u.detail.clone()
            };
            table.add_row(vec![
                Cell::new(u.kind.as_str()),
                Cell::new(one_line(u.operand.text(), 48)),
                Cell::new(one_line(&how, 40)),
                Cell::new(u.calls).set_alignment(CellAlignment::Right),
                Cell::new(fmt_ms(Some(u.total_ms))).set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.1}%", u.share * 100.0)).set_alignment(CellAlignment::Right),
                Cell::new(u.fingerprints).set_alignment(CellAlignment::Right),
            ]);
        }
        writeln!(out, "{table}")?;
        if t.uses.len() > USES_SHOWN {
            writeln!(
                out,
                "  … {} more (--format json lists all)",
                t.uses.len() - USES_SHOWN
            )?;
        }
    }
    if report.tables.len() > shown {
        writeln!(
            out,
            "\n{} more tables (--top 0 shows all)",
            report.tables.len() - shown
        )?;
    }
    write_notes_and_warnings(out, &doc, verbose)
}

fn human_count(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.1}G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}
