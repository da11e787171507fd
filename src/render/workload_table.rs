//! The `workload` terminal report: a short summary, the ranked table, then
//! warnings (with locations under --verbose).

use super::table::{fmt_ms, new_table, one_line};
use super::workload_json::{Summary, WorkloadDocument};
use crate::workload::Workload;
use crate::workload::model::LogFormat;
use crate::workload::rank::SortKey;
use comfy_table::{Cell, CellAlignment};
use std::io::Write;

/// Widest the query column gets before it is cut with an ellipsis, when the
/// output is not a terminal (on a terminal it takes the width left over).
const QUERY_WIDTH: usize = 70;
/// Width of every column but the query, borders included (roughly).
const OTHER_COLUMNS_WIDTH: usize = 95;

/// The lines above every workload report: inputs, totals, time span.
pub fn write_summary(out: &mut impl Write, s: &Summary<'_>) -> std::io::Result<()> {
    for input in s.inputs {
        if input.format == LogFormat::PgStatStatements {
            writeln!(
                out,
                "input: {} (pg_stat_statements, {} entries)",
                input.path, input.lines
            )?;
            continue;
        }
        let prefix = input
            .log_line_prefix
            .as_deref()
            .map(|p| format!(", prefix '{p}'"))
            .unwrap_or_default();
        writeln!(
            out,
            "input: {} ({}{}, {:.1} MB, {} lines{})",
            input.path,
            input.format.as_str(),
            if input.compressed { ", gzip" } else { "" },
            input.bytes as f64 / 1e6,
            input.lines,
            prefix
        )?;
    }
    let kinds: Vec<String> = s
        .kinds
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    writeln!(
        out,
        "{} executions in {} fingerprints, {} total; {} errors{}",
        s.executions,
        s.fingerprints,
        fmt_ms(Some(s.total_ms)),
        s.errors,
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        }
    )?;
    if let (Some(first), Some(last)) = (&s.first_seen, &s.last_seen) {
        writeln!(out, "from {first} to {last}")?;
    }
    if s.filtered_out > 0 {
        writeln!(out, "{} entries left out by the filters", s.filtered_out)?;
    }
    Ok(())
}

pub fn write_workload_table(
    out: &mut impl Write,
    workload: &Workload,
    order: &[usize],
    sort: SortKey,
    verbose: bool,
) -> std::io::Result<()> {
    let doc = WorkloadDocument::build(workload, order, sort);
    write_summary(out, &doc.summary)?;
    writeln!(out)?;

    let mut table = new_table();
    let query_width = table.width().map_or(QUERY_WIDTH, |w| {
        usize::from(w)
            .saturating_sub(OTHER_COLUMNS_WIDTH)
            .clamp(30, 200)
    });
    table.set_header(vec![
        "#", "id", "calls", "total", "share", "mean", "p95", "p99", "query",
    ]);
    for f in doc.fingerprints.entries() {
        let mut query = one_line(f.query, query_width);
        if f.errors > 0 {
            let noun = if f.errors == 1 { "error" } else { "errors" };
            query = format!("{query} [{} {noun}]", f.errors);
        }
        table.add_row(vec![
            Cell::new(f.rank).set_alignment(CellAlignment::Right),
            Cell::new(f.id.to_string()),
            Cell::new(f.calls).set_alignment(CellAlignment::Right),
            Cell::new(fmt_ms(f.timed_calls.gt(&0).then_some(f.total_ms)))
                .set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.1}%", f.share * 100.0)).set_alignment(CellAlignment::Right),
            Cell::new(fmt_ms(f.mean_ms)).set_alignment(CellAlignment::Right),
            Cell::new(fmt_ms(f.p95_ms)).set_alignment(CellAlignment::Right),
            Cell::new(fmt_ms(f.p99_ms)).set_alignment(CellAlignment::Right),
            Cell::new(query),
        ]);
    }
    writeln!(out, "{table}")?;
    write_notes_and_warnings(out, &doc, verbose)
}

/// Notes, then warnings by reason (with their first locations under
/// --verbose): the tail of every workload report.
pub fn write_notes_and_warnings(
    out: &mut impl Write,
    doc: &WorkloadDocument<'_>,
    verbose: bool,
) -> std::io::Result<()> {
    for note in doc.notes {
        writeln!(out, "note: {note}")?;
    }
    if !doc.warnings.is_empty() {
        writeln!(out)?;
        for w in &doc.warnings {
            let first = w
                .locations
                .first()
                .map(|l| format!(" (first at {})", l.at))
                .unwrap_or_default();
            writeln!(out, "warning: {} {}{first}", w.count, w.description)?;
            if verbose {
                for l in &w.locations {
                    match &l.detail {
                        Some(d) => writeln!(out, "  at {}: {}", l.at, one_line(d, 160))?,
                        None => writeln!(out, "  at {}", l.at)?,
                    }
                }
            }
        }
        if !verbose {
            writeln!(out, "(--verbose lists the first locations of each)")?;
        }
    }
    Ok(())
}
