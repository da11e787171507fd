//! The analyze report as a terminal table, JSON (docs/json.md) and
//! Markdown.

use super::table::{fmt_ms, new_table, one_line};
use crate::analysis::{AnalyzeReport, AnalyzedStatement, HealthSection, Status};
use std::io::Write;

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Analyzed => "analyzed",
        Status::ExplainedGenerically => "generic plan only",
        Status::Skipped => "skipped",
        Status::TimedOut => "timed out",
        Status::Failed => "failed",
    }
}

fn severity_word(f: &crate::findings::Finding) -> String {
    format!("{:?}", f.severity).to_lowercase()
}

fn counts_text(counts: &std::collections::BTreeMap<crate::findings::Severity, usize>) -> String {
    let parts: Vec<String> = counts
        .iter()
        .rev()
        .map(|(sev, n)| format!("{n} {sev}"))
        .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

fn summary_line(r: &AnalyzeReport) -> String {
    let health = r.health.as_ref().map_or(String::new(), |h| {
        format!("; health findings: {}", counts_text(&h.counts))
    });
    if r.source == "none" {
        return format!("no workload analyzed{health}");
    }
    let s = &r.summary;
    format!(
        "{} statement(s) from {}: {} analyzed ({} run(s) each, rolled back), {} generic plan only, {} skipped, {} timed out, {} failed; findings: {}{health}",
        s.statements,
        r.source,
        s.analyzed,
        r.settings.runs,
        s.explained_generically,
        s.skipped,
        s.timed_out,
        s.failed,
        counts_text(&s.findings),
    )
}

pub fn write_table(out: &mut impl Write, r: &AnalyzeReport) -> std::io::Result<()> {
    writeln!(out, "analyze {}", r.database)?;
    writeln!(out, "{}\n", summary_line(r))?;
    if r.source != "none" {
        write_statements_table(out, r)?;
    }
    if let Some(h) = &r.health {
        write_health(out, h)?;
    }
    if !r.notes.is_empty() {
        writeln!(out, "Notes:")?;
        for n in &r.notes {
            writeln!(out, "  - {n}")?;
        }
    }
    Ok(())
}

fn write_statements_table(out: &mut impl Write, r: &AnalyzeReport) -> std::io::Result<()> {
    let mut table = new_table();
    table.set_header(vec![
        "#",
        "fingerprint",
        "calls",
        "total",
        "status",
        "p50",
        "p95",
        "p99",
        "cost",
        "worst estimate",
        "findings",
    ]);
    for s in &r.statements {
        table.add_row(vec![
            s.rank.to_string(),
            s.fingerprint.clone(),
            s.calls.to_string(),
            fmt_ms(s.total_ms),
            status_word(s.status).to_string(),
            fmt_ms(s.execution_ms.as_ref().map(|p| p.p50)),
            fmt_ms(s.execution_ms.as_ref().map(|p| p.p95)),
            fmt_ms(s.execution_ms.as_ref().map(|p| p.p99)),
            s.plan_cost.map_or("-".into(), |c| format!("{c:.0}")),
            s.worst_estimate.as_ref().map_or("-".into(), |w| {
                format!("{:.0}× {}", w.factor, one_line(&w.node, 30))
            }),
            s.findings.len().to_string(),
        ]);
    }
    writeln!(out, "{table}")?;
    for s in &r.statements {
        write_detail(out, s)?;
    }
    Ok(())
}

fn write_health(out: &mut impl Write, h: &HealthSection) -> std::io::Result<()> {
    writeln!(
        out,
        "Database health (as role {}): {}",
        h.role,
        counts_text(&h.counts)
    )?;
    for f in &h.findings {
        writeln!(out, "  [{}] {}: {}", severity_word(f), f.id, f.message)?;
        writeln!(out, "      advice: {}", f.advice)?;
        // Most advice ends with its SQL already; print it apart otherwise.
        if let Some(sql) = f
            .fix_sql
            .as_ref()
            .filter(|s| !f.advice.contains(s.as_str()))
        {
            writeln!(out, "      fix: {sql}")?;
        }
    }
    for n in &h.notes {
        writeln!(out, "  note: {n}")?;
    }
    writeln!(out)
}

fn write_detail(out: &mut impl Write, s: &AnalyzedStatement) -> std::io::Result<()> {
    if s.findings.is_empty() && s.reason.is_none() {
        return Ok(());
    }
    writeln!(
        out,
        "{}. {} {}",
        s.rank,
        s.fingerprint,
        one_line(&s.query, 90)
    )?;
    if let Some(reason) = &s.reason {
        writeln!(out, "   {}: {reason}", status_word(s.status))?;
    }
    if !s.indexes_used.is_empty() {
        writeln!(out, "   indexes used: {}", s.indexes_used.join(", "))?;
    }
    for f in &s.findings {
        writeln!(out, "   [{}] {}: {}", severity_word(f), f.id, f.message)?;
        if let Some(node) = &f.node {
            writeln!(out, "      at {node}")?;
        }
        writeln!(out, "      advice: {}", f.advice)?;
        if let Some(sql) = &f.fix_sql {
            writeln!(out, "      {sql}")?;
        }
    }
    writeln!(out)
}

pub fn write_json(out: &mut impl Write, r: &AnalyzeReport) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, r)?;
    writeln!(out)
}

pub fn write_markdown(out: &mut impl Write, r: &AnalyzeReport) -> std::io::Result<()> {
    writeln!(out, "### pgadvisor analyze\n")?;
    writeln!(out, "{}\n", summary_line(r))?;
    if r.source != "none" {
        write_statements_markdown(out, r)?;
    }
    if let Some(h) = &r.health {
        writeln!(out, "\n#### Database health (as role {})\n", h.role)?;
        if h.findings.is_empty() {
            writeln!(out, "No findings.")?;
        } else {
            writeln!(out, "| severity | check | finding | fix |")?;
            writeln!(out, "|---|---|---|---|")?;
        }
        for f in &h.findings {
            writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                severity_word(f),
                f.id,
                f.message.replace('|', "\\|"),
                f.fix_sql
                    .as_deref()
                    .map_or("-".to_string(), |s| format!("`{}`", s.replace('|', "\\|")))
            )?;
        }
        for n in &h.notes {
            writeln!(out, "\n> {n}")?;
        }
    }
    for n in &r.notes {
        writeln!(out, "\n> {n}")?;
    }
    Ok(())
}

fn write_statements_markdown(out: &mut impl Write, r: &AnalyzeReport) -> std::io::Result<()> {
    writeln!(
        out,
        "| # | fingerprint | calls | status | p50 | p95 | p99 | findings |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for s in &r.statements {
        writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
            s.rank,
            s.fingerprint,
            s.calls,
            status_word(s.status),
            fmt_ms(s.execution_ms.as_ref().map(|p| p.p50)),
            fmt_ms(s.execution_ms.as_ref().map(|p| p.p95)),
            fmt_ms(s.execution_ms.as_ref().map(|p| p.p99)),
            s.findings.len()
        )?;
    }
    writeln!(out)?;
    for s in &r.statements {
        for f in &s.findings {
            writeln!(
                out,
                "- **{}** `{}` ({}): {} — {}",
                severity_word(f),
                f.id,
                s.fingerprint,
                f.message.replace('|', "\\|"),
                f.advice.replace('|', "\\|")
            )?;
        }
    }
    Ok(())
}
