//! The recommend-indexes report as a terminal table, JSON (docs/json.md),
//! an SQL migration file a person can run as is, and Markdown for a
//! pull-request comment.

use super::table::{fmt_ms, new_table, one_line};
use crate::advisor::report::{DropCheck, DropReason, Mode, Recommendation, Report};
use std::io::Write;

/// `12.3 MB`.
pub fn fmt_bytes(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= (1u64 << 30) as f64 {
        format!("{:.1} GB", b / (1u64 << 30) as f64)
    } else if b >= (1 << 20) as f64 {
        format!("{:.1} MB", b / (1 << 20) as f64)
    } else if b >= 1024.0 {
        format!("{:.0} kB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn fmt_cost(c: Option<f64>) -> String {
    match c {
        Some(c) if c >= 1e6 => format!("{:.2}M", c / 1e6),
        Some(c) if c >= 1e4 => format!("{:.0}k", c / 1e3),
        Some(c) => format!("{c:.1}"),
        None => "-".to_string(),
    }
}

fn fmt_pct(share: Option<f64>) -> String {
    share.map_or("-".to_string(), |s| format!("{:.0}%", s * 100.0))
}

fn headline(report: &Report) -> String {
    let n = report.recommendations.len();
    let mode = match report.mode {
        Mode::Costed => format!(
            "costed with HypoPG {}",
            report.hypopg_version.as_deref().unwrap_or("")
        ),
        Mode::Offline => "offline: NOT COSTED".to_string(),
    };
    let target = report
        .database
        .as_deref()
        .map(|d| format!(" for {d}"))
        .unwrap_or_default();
    format!("{n} index recommendation(s){target} ({mode})")
}

fn cost_line(report: &Report) -> Option<String> {
    let s = &report.summary;
    let (before, after) = (s.cost_before?, s.cost_after?);
    let mut line = format!(
        "workload cost {} → {} ({:.1}% less)",
        fmt_cost(Some(before)),
        fmt_cost(Some(after)),
        s.improvement_pct.unwrap_or(0.0)
    );
    if let (Some(saved), Some(logged)) = (s.est_time_saved_ms, s.workload_ms) {
        line.push_str(&format!(
            "; est. time saved {} of {} logged",
            fmt_ms(Some(saved)),
            fmt_ms(Some(logged))
        ));
    }
    Some(line)
}

fn workload_line(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "{} fingerprint(s): {} statement(s) costed, {} skipped; {} candidate index(es); {} what-if plan(s)",
        s.fingerprints, s.statements_costed, s.statements_skipped, s.candidates, s.whatif_plans
    )
}

fn drop_reason(reason: DropReason, covered_by: Option<&str>) -> String {
    match reason {
        DropReason::Duplicate => format!("duplicate of {}", covered_by.unwrap_or("?")),
        DropReason::PrefixCovered => format!("prefix of {}", covered_by.unwrap_or("?")),
        DropReason::Unused => "no scans since stats reset".to_string(),
    }
}

fn check_word(check: DropCheck) -> &'static str {
    match check {
        DropCheck::Verified => "verified",
        DropCheck::Regresses => "REGRESSES",
        DropCheck::Unverified => "unverified",
    }
}

pub fn write_table(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    writeln!(out, "{}", headline(report))?;
    writeln!(out, "{}", workload_line(report))?;
    if let Some(line) = cost_line(report) {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    if !report.recommendations.is_empty() {
        let mut table = new_table();
        table.set_header(vec![
            "#",
            "index",
            "size",
            "time saved",
            "share",
            "cost saved",
            "statements",
        ]);
        for r in &report.recommendations {
            table.add_row(vec![
                r.rank.to_string(),
                r.spec.label(),
                r.size_bytes.map(fmt_bytes).unwrap_or_else(|| "-".into()),
                fmt_ms(r.est_time_saved_ms),
                fmt_pct(r.share),
                fmt_cost(r.cost_saved),
                r.queries.len().to_string(),
            ]);
        }
        writeln!(out, "{table}")?;
        for r in &report.recommendations {
            write_detail(out, r)?;
        }
    } else {
        writeln!(out, "No new index pays off for this workload.")?;
    }
    if !report.already_served.is_empty() {
        writeln!(out, "\nAlready served by existing indexes:")?;
        for a in report.already_served.iter().take(10) {
            writeln!(out, "  {} by {}", a.proposal, a.existing_index)?;
        }
        if report.already_served.len() > 10 {
            writeln!(
                out,
                "  … and {} more (see --format json)",
                report.already_served.len() - 10
            )?;
        }
    }
    if !report.not_costed.is_empty() {
        writeln!(
            out,
            "\nNeeds only a GIN or trigram index serves (HypoPG cannot cost these):"
        )?;
        for n in &report.not_costed {
            let ext = n
                .extension
                .as_deref()
                .map(|e| format!(" (needs CREATE EXTENSION {e})"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {}: {} in {} statement(s), {} calls{ext}\n    {};",
                n.table,
                n.reason,
                n.fingerprints.len(),
                n.calls,
                n.ddl
            )?;
        }
    }
    if !report.drops.is_empty() {
        writeln!(out, "\nIndexes to consider dropping:")?;
        for d in &report.drops {
            writeln!(
                out,
                "  {} ({}, {}): {}: {}\n    {};",
                d.index,
                drop_reason(d.reason, d.covered_by.as_deref()),
                d.size_bytes
                    .map(fmt_bytes)
                    .unwrap_or_else(|| "size ?".into()),
                check_word(d.check),
                d.check_note,
                d.ddl
            )?;
            for r in &d.regressions {
                writeln!(out, "    gets slower: {r}")?;
            }
        }
    }
    if !report.plan_disagreements.is_empty() {
        writeln!(out, "\nGeneric plan and logged values disagree:")?;
        for d in &report.plan_disagreements {
            writeln!(
                out,
                "  {} (generic saves {:.0}%, samples save {:.0}%): {}\n    {}",
                d.fingerprint,
                d.generic_saving * 100.0,
                d.samples_saving * 100.0,
                d.note,
                one_line(&d.query, 100)
            )?;
        }
    }
    if !report.notes.is_empty() {
        writeln!(out, "\nNotes:")?;
        for n in &report.notes {
            writeln!(out, "  - {n}")?;
        }
    }
    Ok(())
}

fn write_detail(out: &mut impl Write, r: &Recommendation) -> std::io::Result<()> {
    writeln!(out, "{}. {};", r.rank, r.ddl)?;
    for q in &r.queries {
        let costs = if r.costed {
            format!(
                " cost {} → {}{}",
                fmt_cost(q.cost_before),
                fmt_cost(q.cost_after),
                if q.uses_index {
                    ""
                } else {
                    " (plan does not use it directly)"
                }
            )
        } else {
            String::new()
        };
        writeln!(
            out,
            "   {} {} calls{costs}: {}",
            q.fingerprint,
            q.calls,
            one_line(&q.query, 80)
        )?;
    }
    for reason in &r.reasons {
        writeln!(out, "   why: {reason}")?;
    }
    if r.write_penalty > 0.0 {
        writeln!(
            out,
            "   write upkeep charged: {} (cost units over the workload)",
            fmt_cost(Some(r.write_penalty))
        )?;
    }
    writeln!(out)
}

pub fn write_json(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// A migration file: the CREATE INDEX statements, each with its reasons
/// in comments; uncosted and drop advice commented out for review.
pub fn write_sql(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    writeln!(out, "-- pgadvisor recommend-indexes: {}", headline(report))?;
    writeln!(out, "-- {}", workload_line(report))?;
    if let Some(line) = cost_line(report) {
        writeln!(out, "-- {line}")?;
    }
    writeln!(
        out,
        "-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block: run this file\n-- as is (psql -f), not wrapped in BEGIN/COMMIT. Re-running it is harmless.\n"
    )?;
    if !report.recommendations.is_empty() {
        writeln!(out, "SET lock_timeout = '5s';\n")?;
    }
    for r in &report.recommendations {
        let mut what = vec![r.spec.label()];
        if let Some(t) = r.est_time_saved_ms {
            what.push(format!("est. {} saved", fmt_ms(Some(t))));
        }
        if let Some(s) = r.share {
            what.push(format!("{:.0}% of the improvement", s * 100.0));
        }
        if let Some(b) = r.size_bytes {
            what.push(fmt_bytes(b));
        }
        writeln!(out, "-- {}. {}", r.rank, what.join(", "))?;
        for q in &r.queries {
            writeln!(
                out,
                "--    {} ({} calls){}",
                q.fingerprint,
                q.calls,
                match (q.cost_before, q.cost_after) {
                    (Some(b), Some(a)) =>
                        format!(": cost {} → {}", fmt_cost(Some(b)), fmt_cost(Some(a))),
                    _ => String::new(),
                }
            )?;
        }
        writeln!(out, "{};\n", r.ddl)?;
    }
    if !report.not_costed.is_empty() {
        writeln!(
            out,
            "-- Not costed (HypoPG cannot simulate GIN indexes): review, then uncomment."
        )?;
        for n in &report.not_costed {
            writeln!(out, "-- {}: {} ({} calls)", n.table, n.reason, n.calls)?;
            if let Some(e) = &n.extension {
                writeln!(out, "-- CREATE EXTENSION IF NOT EXISTS {e};")?;
            }
            writeln!(out, "-- {};", n.ddl)?;
        }
        writeln!(out)?;
    }
    if !report.drops.is_empty() {
        writeln!(out, "-- Drop advice: review, then uncomment.")?;
        for d in &report.drops {
            writeln!(
                out,
                "-- {} ({}; {}: {})",
                d.index,
                drop_reason(d.reason, d.covered_by.as_deref()),
                check_word(d.check),
                d.check_note
            )?;
            writeln!(out, "-- {};", d.ddl)?;
        }
    }
    Ok(())
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace('`', "'")
}

pub fn write_markdown(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    writeln!(out, "### pgadvisor: {}\n", headline(report))?;
    writeln!(out, "{}  ", workload_line(report))?;
    if let Some(line) = cost_line(report) {
        writeln!(out, "**{line}**")?;
    }
    writeln!(out)?;
    if report.recommendations.is_empty() {
        writeln!(out, "No new index pays off for this workload.\n")?;
    } else {
        writeln!(
            out,
            "| # | index | size | time saved | share | statements |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for r in &report.recommendations {
            writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} |",
                r.rank,
                md_escape(&r.spec.label()),
                r.size_bytes.map(fmt_bytes).unwrap_or_else(|| "-".into()),
                fmt_ms(r.est_time_saved_ms),
                fmt_pct(r.share),
                r.queries.len()
            )?;
        }
        writeln!(out, "\n```sql")?;
        for r in &report.recommendations {
            writeln!(out, "{};", r.ddl)?;
        }
        writeln!(out, "```\n")?;
        writeln!(
            out,
            "<details><summary>Statements each index helps</summary>\n"
        )?;
        for r in &report.recommendations {
            writeln!(out, "**{}. {}**\n", r.rank, md_escape(&r.spec.label()))?;
            writeln!(
                out,
                "| fingerprint | calls | cost before → after | statement |"
            )?;
            writeln!(out, "|---|---|---|---|")?;
            for q in &r.queries {
                writeln!(
                    out,
                    "| `{}` | {} | {} → {} | `{}` |",
                    q.fingerprint,
                    q.calls,
                    fmt_cost(q.cost_before),
                    fmt_cost(q.cost_after),
                    md_escape(&one_line(&q.query, 90))
                )?;
            }
            writeln!(out)?;
        }
        writeln!(out, "</details>\n")?;
    }
    if !report.not_costed.is_empty() {
        writeln!(
            out,
            "**Not costed** (GIN / trigram; HypoPG cannot simulate them):\n"
        )?;
        for n in &report.not_costed {
            writeln!(
                out,
                "- {} — {} calls: `{}`",
                md_escape(&n.reason),
                n.calls,
                md_escape(&n.ddl)
            )?;
        }
        writeln!(out)?;
    }
    if !report.drops.is_empty() {
        writeln!(out, "**Indexes to consider dropping:**\n")?;
        for d in &report.drops {
            writeln!(
                out,
                "- `{}` — {} ({}: {})",
                md_escape(&d.index),
                drop_reason(d.reason, d.covered_by.as_deref()),
                check_word(d.check),
                md_escape(&d.check_note)
            )?;
        }
        writeln!(out)?;
    }
    for d in &report.plan_disagreements {
        writeln!(out, "> ⚠️ `{}`: {}", d.fingerprint, md_escape(&d.note))?;
    }
    if !report.notes.is_empty() {
        writeln!(out, "\nNotes:\n")?;
        for n in &report.notes {
            writeln!(out, "- {}", md_escape(n))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisor::queries::PlanVariant;
    use crate::advisor::report::*;
    use crate::advisor::spec::{IndexSpec, KeySpec};
    use crate::catalog::QualifiedName;

    fn sample() -> Report {
        let table = QualifiedName::new("public", "events");
        let spec = IndexSpec::btree(
            table.clone(),
            vec![
                KeySpec::column("tenant_id"),
                KeySpec {
                    descending: true,
                    ..KeySpec::column("created_at")
                },
            ],
        );
        let name = spec.name();
        Report {
            schema_version: SCHEMA_VERSION,
            command: "recommend-indexes".into(),
            mode: Mode::Costed,
            database: Some("postgres://app@db1:5432/shop".into()),
            hypopg_version: Some("1.3.1".into()),
            settings: Settings {
                max_indexes: 10,
                max_columns: 3,
                budget_bytes: None,
                min_improvement_pct: 5.0,
            },
            summary: Summary {
                fingerprints: 3,
                statements_costed: 2,
                statements_skipped: 1,
                candidates: 4,
                whatif_plans: 17,
                cost_before: Some(20000.0),
                cost_after: Some(5000.0),
                improvement_pct: Some(75.0),
                workload_ms: Some(1200.0),
                est_time_saved_ms: Some(900.0),
            },
            recommendations: vec![Recommendation {
                rank: 1,
                ddl: spec.create_sql(&name),
                name,
                table: table.clone(),
                spec,
                size_bytes: Some(9 << 20),
                costed: true,
                cost_saved: Some(15000.0),
                share: Some(1.0),
                write_penalty: 16.0,
                est_time_saved_ms: Some(900.0),
                queries: vec![QueryImpact {
                    fingerprint: "34dd5da7722974b4".into(),
                    query: "select * from events where tenant_id = $1 order by created_at desc limit $2".into(),
                    calls: 120,
                    mean_ms: Some(10.0),
                    cost_before: Some(5252.4),
                    cost_after: Some(80.4),
                    uses_index: true,
                    plan: PlanVariant::Generic {
                        statement: "select 1".into(),
                    },
                }],
                reasons: vec!["34dd5da7722974b4: tenant_id =; order by created_at desc limit".into()],
            }],
            not_costed: vec![NotCosted {
                table: table.clone(),
                ddl: "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"events_payload_gin_idx\" ON \"public\".\"events\" USING gin (\"payload\")".into(),
                reason: "jsonb @> filter".into(),
                extension: None,
                fingerprints: vec!["aa00aa00aa00aa00".into()],
                calls: 7,
            }],
            drops: vec![DropAdvice {
                index: "public.events_kind_idx2".into(),
                table,
                reason: DropReason::Duplicate,
                covered_by: Some("events_kind_idx".into()),
                size_bytes: Some(1 << 20),
                scans: Some(0),
                ddl: "DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"events_kind_idx2\"".into(),
                check: DropCheck::Verified,
                check_note: "2 workload statement(s) re-planned without it: none got more expensive".into(),
                regressions: vec![],
            }],
            plan_disagreements: vec![],
            already_served: vec![],
            skipped: vec![],
            notes: vec!["a note".into()],
        }
    }

    fn render(f: fn(&mut Vec<u8>, &Report) -> std::io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out, &sample()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sql_migration() {
        insta::assert_snapshot!(render(write_sql));
    }

    #[test]
    fn markdown_comment() {
        insta::assert_snapshot!(render(write_markdown));
    }

    #[test]
    fn terminal_table() {
        insta::assert_snapshot!(render(write_table));
    }

    #[test]
    fn json_round_trips_for_apply() {
        let text = render(write_json);
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back.recommendations[0].spec,
            sample().recommendations[0].spec
        );
    }
}
