//! `monitor` samples: one JSON object per line (schema_version 1) for
//! tools, or a compact block per sample for people, redrawn in place on a
//! terminal.

use super::table::{fmt_ms, new_table, one_line};
use crate::monitor::Sample;
use serde::Serialize;
use std::io::Write;

/// Query text width in the terminal view.
const QUERY_WIDTH: usize = 80;

/// ANSI: cursor home, clear the screen.
const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

#[derive(Serialize)]
struct SampleLine<'a> {
    schema_version: u32,
    command: &'static str,
    target: &'a str,
    #[serde(flatten)]
    sample: &'a Sample,
}

/// One line of JSON for one sample.
pub fn write_sample_jsonl(
    out: &mut impl Write,
    target: &str,
    sample: &Sample,
) -> std::io::Result<()> {
    let line = SampleLine {
        schema_version: 1,
        command: "monitor",
        target,
        sample,
    };
    serde_json::to_writer(&mut *out, &line)?;
    writeln!(out)
}

fn per_s(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}/s"))
}

/// Bytes the way PostgreSQL writes sizes (1024 based).
fn fmt_bytes(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = v;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{:.2}%", v * 100.0))
}

/// One sample as a block of text; `redraw` clears the terminal first, so
/// the block replaces the previous one (only when stdout is a terminal:
/// in a file or pipe the blocks follow one another).
pub fn write_sample_table(
    out: &mut impl Write,
    target: &str,
    s: &Sample,
    redraw: bool,
) -> std::io::Result<()> {
    if redraw {
        write!(out, "{CLEAR_SCREEN}")?;
    } else if s.sample > 1 {
        writeln!(out)?;
    }
    let interval = s
        .interval_ms
        .map_or_else(|| "-".to_string(), |ms| fmt_ms(Some(ms)));
    writeln!(
        out,
        "{} on {target} — sample {} at {}, over {interval}",
        s.database, s.sample, s.sampled_at
    )?;
    let mut t = new_table();
    t.add_row(vec![
        "transactions".to_string(),
        format!(
            "{} ({} commits, {} rollbacks, {} rolled back)",
            per_s(s.transactions_per_s),
            per_s(s.commits_per_s),
            per_s(s.rollbacks_per_s),
            percent(s.rollback_ratio)
        ),
    ]);
    t.add_row(vec![
        "rows".to_string(),
        format!(
            "{} written, {} fetched, {} returned",
            per_s(s.rows_written_per_s),
            per_s(s.rows_fetched_per_s),
            per_s(s.rows_returned_per_s)
        ),
    ]);
    t.add_row(vec![
        "cache hit".to_string(),
        format!(
            "{} ({} blocks read)",
            percent(s.cache_hit_ratio),
            per_s(s.blocks_read_per_s)
        ),
    ]);
    t.add_row(vec![
        "temp files".to_string(),
        match (s.temp_files, s.temp_bytes, s.temp_bytes_per_s) {
            (Some(files), Some(bytes), Some(rate)) => format!(
                "{files} files, {} ({}/s)",
                fmt_bytes(bytes as f64),
                fmt_bytes(rate)
            ),
            _ => "-".to_string(),
        },
    ]);
    t.add_row(vec![
        "deadlocks".to_string(),
        s.deadlocks
            .map_or_else(|| "-".to_string(), |d| d.to_string()),
    ]);
    let c = &s.connections;
    let mut states = vec![
        format!("{} active", c.active),
        format!("{} idle", c.idle),
        format!("{} idle in transaction", c.idle_in_transaction),
    ];
    for (n, label) in [
        (
            c.idle_in_transaction_aborted,
            "idle in transaction (aborted)",
        ),
        (c.other, "other"),
        (c.hidden, "hidden from this role"),
    ] {
        if n > 0 {
            states.push(format!("{n} {label}"));
        }
    }
    t.add_row(vec![
        "connections".to_string(),
        format!("{} ({})", c.total, states.join(", ")),
    ]);
    t.add_row(vec![
        "longest".to_string(),
        match &s.longest_query {
            None => "-".to_string(),
            Some(q) => format!(
                "pid {}, {} for {}{}: {}",
                q.pid,
                q.state,
                fmt_ms(Some(q.duration_ms)),
                q.wait_event
                    .as_ref()
                    .map(|w| format!(", waiting on {w}"))
                    .unwrap_or_default(),
                q.query
                    .as_deref()
                    .map_or_else(|| "-".to_string(), |text| one_line(text, QUERY_WIDTH))
            ),
        },
    ]);
    t.add_row(vec![
        "waiting on".to_string(),
        if s.wait_events.is_empty() {
            "-".to_string()
        } else {
            s.wait_events
                .iter()
                .map(|w| format!("{} {}", w.wait_event, w.sessions))
                .collect::<Vec<_>>()
                .join(", ")
        },
    ]);
    writeln!(out, "{t}")?;
    if let Some(top) = &s.top_statements {
        if top.is_empty() {
            writeln!(out, "top statements: none ran in this interval")?;
        } else {
            writeln!(out, "top statements in this interval (pg_stat_statements)")?;
            let mut t = new_table();
            t.set_header(vec!["time", "calls", "mean", "query"]);
            for st in top {
                t.add_row(vec![
                    fmt_ms(Some(st.total_exec_ms)),
                    st.calls.to_string(),
                    fmt_ms(st.mean_exec_ms),
                    st.query.as_deref().map_or_else(
                        || format!("queryid {}", st.queryid),
                        |q| one_line(q, QUERY_WIDTH),
                    ),
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    for note in &s.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::{Connections, LongestQuery, TopStatement, WaitEventCount};

    fn sample() -> Sample {
        Sample {
            database: "shop".into(),
            sample: 2,
            sampled_at: "2026-11-28T10:00:01.000Z".into(),
            interval_ms: Some(1000.0),
            transactions_per_s: Some(250.0),
            commits_per_s: Some(200.0),
            rollbacks_per_s: Some(50.0),
            rollback_ratio: Some(0.2),
            rows_returned_per_s: Some(10.0),
            rows_fetched_per_s: Some(1.0),
            rows_inserted_per_s: Some(400.0),
            rows_updated_per_s: Some(0.0),
            rows_deleted_per_s: Some(0.0),
            rows_written_per_s: Some(400.0),
            blocks_hit_per_s: Some(999.0),
            blocks_read_per_s: Some(1.0),
            cache_hit_ratio: Some(0.999),
            temp_files: Some(1),
            temp_bytes: Some(3 << 20),
            temp_bytes_per_s: Some((3 << 20) as f64),
            deadlocks: Some(0),
            connections: Connections {
                total: 3,
                active: 1,
                idle: 1,
                idle_in_transaction: 1,
                ..Default::default()
            },
            longest_query: Some(LongestQuery {
                pid: 42,
                state: "active".into(),
                duration_ms: 4200.0,
                wait_event: Some("Timeout:PgSleep".into()),
                query: Some("select pg_sleep(10)".into()),
            }),
            wait_events: vec![WaitEventCount {
                wait_event: "Timeout:PgSleep".into(),
                sessions: 1,
            }],
            top_statements: Some(vec![TopStatement {
                queryid: 7,
                query: Some("SELECT * FROM t WHERE id = $1".into()),
                calls: 10,
                total_exec_ms: 5.0,
                mean_exec_ms: Some(0.5),
                rows: 10,
            }]),
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn jsonl_is_one_line_with_the_document_header() {
        let mut out = Vec::new();
        write_sample_jsonl(&mut out, "postgres://u@h/shop", &sample()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["command"], "monitor");
        assert_eq!(v["target"], "postgres://u@h/shop");
        assert_eq!(v["commits_per_s"], 200.0);
        assert_eq!(v["connections"]["idle_in_transaction"], 1);
        assert_eq!(v["top_statements"][0]["calls"], 10);
    }

    #[test]
    fn table_redraws_only_when_asked() {
        let mut plain = Vec::new();
        write_sample_table(&mut plain, "postgres://u@h/shop", &sample(), false).unwrap();
        let plain = String::from_utf8(plain).unwrap();
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(plain.contains("250.0/s (200.0/s commits"), "{plain}");
        assert!(plain.contains("3.0 MB"), "{plain}");
        assert!(
            plain.contains("pid 42, active for 4.20 s, waiting on Timeout:PgSleep"),
            "{plain}"
        );
        assert!(plain.contains("SELECT * FROM t WHERE id = $1"), "{plain}");
        assert!(plain.contains("note: a note"), "{plain}");
        let mut tty = Vec::new();
        write_sample_table(&mut tty, "postgres://u@h/shop", &sample(), true).unwrap();
        assert!(String::from_utf8(tty).unwrap().starts_with(CLEAR_SCREEN));
    }

    #[test]
    fn unknown_rates_print_as_dashes() {
        let mut s = sample();
        s.transactions_per_s = None;
        s.commits_per_s = None;
        s.rollbacks_per_s = None;
        s.rollback_ratio = None;
        s.temp_bytes = None;
        s.top_statements = None;
        s.longest_query = None;
        let mut out = Vec::new();
        write_sample_table(&mut out, "t", &s, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("- (- commits, - rollbacks, - rolled back)"),
            "{text}"
        );
        assert!(!text.contains("top statements"), "{text}");
    }

    #[test]
    fn bytes() {
        assert_eq!(fmt_bytes(0.0), "0 B");
        assert_eq!(fmt_bytes(1536.0), "1.5 kB");
        assert_eq!(fmt_bytes((5u64 << 30) as f64), "5.0 GB");
    }
}
