//! pg_stat_statements as a workload source: its rows (running totals per
//! statement, role and database) folded into the same fingerprints a log
//! produces. Pure: the rows are read by `db::pg_stat_statements`.
//!
//! What the view cannot give is left unknown rather than made up: it keeps
//! no individual executions, so there are no percentiles (the latency
//! recorder stays empty and p50/p95/p99 are `None`), no samples (its texts
//! carry `$n`, not values), no errors and no first/last seen times.

use super::fingerprint::{FingerprintId, StatementKind};
use super::model::{Fingerprint, InputSummary, LogFormat, Workload};
use super::normalize::{Normalizer, render};
use super::parse_check::check_parse;
use super::warnings::Location;
use rustc_hash::FxHashMap;

/// The text pg_stat_statements shows for statements of other roles when
/// this role lacks pg_read_all_stats.
pub const HIDDEN_TEXT: &str = "<insufficient privilege>";

/// One row of the pg_stat_statements view (PostgreSQL 13+ column names;
/// times in milliseconds, as the view has them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatStatement {
    /// `None` when the text is hidden from this role.
    pub queryid: Option<i64>,
    /// The text as pg_stat_statements keeps it (constants as `$n`);
    /// [`HIDDEN_TEXT`] when hidden, empty when the view has no text.
    pub query: String,
    pub database: Option<String>,
    pub user: Option<String>,
    pub calls: u64,
    pub total_exec_ms: f64,
    pub min_exec_ms: f64,
    pub max_exec_ms: f64,
    pub mean_exec_ms: f64,
    pub stddev_exec_ms: f64,
    pub rows: u64,
    /// Time spent planning (non-zero only with
    /// pg_stat_statements.track_planning).
    pub total_plan_ms: f64,
    pub shared_blks_hit: u64,
    pub shared_blks_read: u64,
}

/// Whether `query` is one pgadvisor itself sends, which must not be
/// mistaken for the application's workload: every query of `db/sql/` (they
/// start with a `-- pgadvisor` comment, which pg_stat_statements keeps),
/// EXPLAINs, hypopg calls, its own prepared statements, and the settings
/// its sessions start with.
pub fn is_pgadvisor_statement(query: &str) -> bool {
    let trimmed = query.trim_start();
    if trimmed.starts_with("-- pgadvisor") {
        return true;
    }
    let lower = query.to_ascii_lowercase();
    if lower.contains("hypopg_") {
        return true;
    }
    let body = skip_comments(&lower);
    let first_word = body
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    if first_word == "explain" {
        return true;
    }
    for verb in ["prepare", "deallocate", "execute"] {
        if let Some(rest) = body.strip_prefix(verb)
            && rest.trim_start().starts_with("pgadvisor")
        {
            return true;
        }
    }
    let words: Vec<&str> = body.split_whitespace().collect();
    let statement = words.join(" ");
    let statement = statement.trim_end_matches(';');
    if statement == "set application_name = 'pgadvisor'" {
        return true;
    }
    // The session limits every pgadvisor session sets (db::connect), in the
    // exact form it writes them: `SET statement_timeout = '30000ms'`.
    ["set statement_timeout = '", "set lock_timeout = '"]
        .iter()
        .filter_map(|prefix| statement.strip_prefix(prefix))
        .filter_map(|rest| rest.strip_suffix("ms'"))
        .any(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `text` past its leading whitespace and comments.
fn skip_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("--") {
            text = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return text;
        }
    }
}

/// Keeps the rows run in one of `databases` by one of `users` (an empty
/// list lets everything through); returns the calls left out.
pub fn retain_matching(
    rows: &mut Vec<StatStatement>,
    databases: &[String],
    users: &[String],
) -> u64 {
    let matches = |name: &Option<String>, wanted: &[String]| {
        wanted.is_empty() || name.as_ref().is_some_and(|n| wanted.contains(n))
    };
    let mut left_out = 0;
    rows.retain(|r| {
        let keep = matches(&r.database, databases) && matches(&r.user, users);
        if !keep {
            left_out += r.calls;
        }
        keep
    });
    left_out
}

/// Rows that could not be used, for the notes.
#[derive(Default)]
struct LeftOut {
    entries: u64,
    calls: u64,
    total_ms: f64,
}

impl LeftOut {
    fn add(&mut self, row: &StatStatement) {
        self.entries += 1;
        self.calls += row.calls;
        self.total_ms += row.total_exec_ms;
    }

    fn describe(&self) -> String {
        let noun = if self.entries == 1 {
            "entry"
        } else {
            "entries"
        };
        format!(
            "{} pg_stat_statements {noun} ({} calls, {:.1} ms)",
            self.entries, self.calls, self.total_ms
        )
    }
}

/// Milliseconds as whole microseconds (the unit of the workload model).
fn micros(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        (ms * 1000.0).round() as u64
    } else {
        0
    }
}

/// Builds a workload from pg_stat_statements rows. Each text goes through
/// the same normalizer and fingerprinting as log statements, so ids match
/// those of the same statement found in a log; entries that normalize
/// alike (other roles, other query ids, IN lists of other lengths) fold
/// into one fingerprint: calls and times are summed, min and max kept.
/// `source_label` names where the rows came from (the database URL).
pub fn workload_from_statements(rows: Vec<StatStatement>, source_label: &str) -> Workload {
    let mut workload = Workload::default();
    let mut normalizer = Normalizer::new();
    let mut index: FxHashMap<Box<[u8]>, usize> = FxHashMap::default();
    let mut hidden = LeftOut::default();
    let mut missing = LeftOut::default();
    let entries = rows.len() as u64;
    for (n, row) in rows.into_iter().enumerate() {
        if row.query == HIDDEN_TEXT {
            hidden.add(&row);
            continue;
        }
        if row.query.trim().is_empty() {
            missing.add(&row);
            continue;
        }
        if row.calls == 0 {
            // Planned but never executed (track_planning): nothing ran.
            continue;
        }
        let key = normalizer.normalize(row.query.as_bytes());
        let i = match index.get(key) {
            Some(&i) => i,
            None => {
                let text = render(key);
                let kind = StatementKind::classify(key);
                let id = FingerprintId::of(&text);
                let location = Location {
                    input: 0,
                    line: n as u64 + 1,
                };
                index.insert(key.into(), workload.fingerprints.len());
                workload
                    .fingerprints
                    .push(Fingerprint::new(id, text, kind, location));
                workload.fingerprints.len() - 1
            }
        };
        let fp = &mut workload.fingerprints[i];
        fp.calls += row.calls;
        fp.timed_calls += row.calls;
        fp.total_us += micros(row.total_exec_ms);
        fp.min_us = fp.min_us.min(micros(row.min_exec_ms));
        fp.max_us = fp.max_us.max(micros(row.max_exec_ms));
        fp.parse_bind_us += micros(row.total_plan_ms);
        if let Some(d) = &row.database {
            fp.databases.insert(d);
        }
        if let Some(u) = &row.user {
            fp.users.insert(u);
        }
        let kind = fp.kind;
        workload.kinds.add(kind, row.calls);
        workload.executions += row.calls;
    }
    workload.inputs.push(InputSummary {
        path: source_label.to_string(),
        format: LogFormat::PgStatStatements,
        compressed: false,
        bytes: 0,
        lines: entries,
        log_line_prefix: None,
    });
    check_parse(&mut workload);
    workload.notes.push(
        "pg_stat_statements keeps running totals, not executions: no percentiles (p50/p95/p99 are null), no samples with parameter values, and failed statements are not counted".to_string(),
    );
    if entries == 0 {
        workload.notes.push(
            "pg_stat_statements holds no statements here yet (nothing ran since it was installed or reset)".to_string(),
        );
    }
    if hidden.entries > 0 {
        workload.notes.push(format!(
            "{} run by other roles hide their text from this role and are left out: grant pg_read_all_stats to it to include them",
            hidden.describe()
        ));
    }
    if missing.entries > 0 {
        workload.notes.push(format!(
            "{} have no query text (pg_stat_statements could not read its text file) and are left out",
            missing.describe()
        ));
    }
    workload
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::normalize::normalize_to_string;

    fn row(query: &str, user: &str, calls: u64, total: f64, min: f64, max: f64) -> StatStatement {
        StatStatement {
            queryid: Some(calls as i64),
            query: query.to_string(),
            database: Some("shop".to_string()),
            user: Some(user.to_string()),
            calls,
            total_exec_ms: total,
            min_exec_ms: min,
            max_exec_ms: max,
            mean_exec_ms: total / calls.max(1) as f64,
            ..StatStatement::default()
        }
    }

    #[test]
    fn entries_fold_into_log_fingerprints() {
        let rows = vec![
            row(
                "SELECT * FROM orders WHERE id = $1",
                "app",
                10,
                20.0,
                0.5,
                9.0,
            ),
            // Another role, and an IN list of another length: same fingerprint.
            row(
                "select *   from orders where id = $1",
                "report",
                5,
                5.0,
                0.2,
                3.0,
            ),
            row(
                "SELECT * FROM orders WHERE id IN ($1, $2, $3)",
                "app",
                2,
                1.0,
                0.4,
                0.6,
            ),
            row(
                "UPDATE orders SET status = $1 WHERE id = $2",
                "app",
                4,
                8.0,
                1.0,
                4.0,
            ),
        ];
        let w = workload_from_statements(rows, "postgres://db1/shop");
        assert_eq!(w.fingerprints.len(), 3);
        let by_id = &w.fingerprints[0];
        // The id is the one a log line with literals gets.
        let from_log = normalize_to_string("SELECT * FROM orders WHERE id = 42");
        assert_eq!(by_id.text, from_log);
        assert_eq!(by_id.id, FingerprintId::of(&from_log));
        assert_eq!(by_id.kind, StatementKind::Select);
        assert_eq!((by_id.calls, by_id.timed_calls), (15, 15));
        assert_eq!(by_id.total_us, 25_000);
        assert_eq!((by_id.min_us, by_id.max_us), (200, 9_000));
        assert_eq!(by_id.mean_ms(), Some(25.0 / 15.0));
        assert_eq!(by_id.users.sorted(), vec!["app", "report"]);
        assert_eq!(by_id.databases.sorted(), vec!["shop"]);
        let in_list = &w.fingerprints[1];
        assert_eq!(
            in_list.text,
            normalize_to_string("select * from orders where id in (1, 2)")
        );
        assert_eq!(w.executions, 21);
        assert_eq!(w.kinds.get(StatementKind::Select), 17);
        assert_eq!(w.kinds.get(StatementKind::Update), 4);
        assert_eq!(w.total_us(), 34_000);
        let input = &w.inputs[0];
        assert_eq!(input.format, LogFormat::PgStatStatements);
        assert_eq!(
            (input.path.as_str(), input.lines),
            ("postgres://db1/shop", 4)
        );
        assert!(w.warnings.by_reason.is_empty());
    }

    #[test]
    fn nothing_is_made_up() {
        let w = workload_from_statements(vec![row("SELECT 1", "app", 100, 50.0, 0.1, 2.0)], "db");
        let fp = &w.fingerprints[0];
        for q in [0.5, 0.95, 0.99] {
            assert_eq!(fp.percentile_ms(q), None, "p{q}");
        }
        assert!(fp.samples.is_empty());
        assert_eq!(fp.errors, 0);
        assert_eq!((fp.first_seen, fp.last_seen), (None, None));
        assert_eq!((w.first_seen, w.last_seen), (None, None));
        assert_eq!(fp.min_ms(), Some(0.1));
        assert_eq!(fp.max_ms(), Some(2.0));
        assert!(w.notes[0].contains("no percentiles"), "{:?}", w.notes);
    }

    #[test]
    fn an_empty_view_is_an_empty_workload_with_a_note() {
        let w = workload_from_statements(Vec::new(), "db");
        assert!(w.fingerprints.is_empty());
        assert_eq!((w.executions, w.inputs[0].lines), (0, 0));
        assert!(
            w.notes.iter().any(|n| n.contains("no statements")),
            "{:?}",
            w.notes
        );
    }

    #[test]
    fn hidden_and_missing_texts_are_left_out_and_noted() {
        let mut hidden = row(HIDDEN_TEXT, "other", 7, 3.0, 0.1, 1.0);
        hidden.queryid = None;
        let rows = vec![
            hidden.clone(),
            hidden,
            row("", "app", 1, 1.0, 1.0, 1.0),
            row("SELECT 1", "app", 3, 1.0, 0.1, 0.5),
            // Planned only (track_planning), never executed.
            row("SELECT 2", "app", 0, 0.0, 0.0, 0.0),
        ];
        let w = workload_from_statements(rows, "db");
        assert_eq!(w.fingerprints.len(), 1);
        assert_eq!(w.executions, 3);
        assert_eq!(w.inputs[0].lines, 5);
        let notes = w.notes.join("\n");
        assert!(
            notes.contains("2 pg_stat_statements entries (14 calls, 6.0 ms)")
                && notes.contains("pg_read_all_stats"),
            "{notes}"
        );
        assert!(
            notes.contains("1 pg_stat_statements entry (1 calls, 1.0 ms) have no query text"),
            "{notes}"
        );
    }

    #[test]
    fn unparsable_texts_are_warned_at_their_entry() {
        let rows = vec![
            row("SELECT 1", "app", 1, 1.0, 1.0, 1.0),
            row("SELEC oops $1", "app", 1, 1.0, 1.0, 1.0),
        ];
        let w = workload_from_statements(rows, "db");
        assert!(w.fingerprints[1].parse_error.is_some());
        let tally = w.warnings.by_reason.values().next().unwrap();
        assert_eq!(w.locate(&tally.locations[0].0), "db:2");
    }

    #[test]
    fn filters_count_the_calls_left_out() {
        let mut rows = vec![
            row("SELECT 1", "app", 3, 1.0, 0.1, 0.5),
            row("SELECT 2", "report", 4, 1.0, 0.1, 0.5),
        ];
        rows[1].database = Some("other".into());
        let mut all = rows.clone();
        assert_eq!(retain_matching(&mut all, &[], &[]), 0);
        assert_eq!(all.len(), 2);
        let mut by_db = rows.clone();
        assert_eq!(retain_matching(&mut by_db, &["shop".into()], &[]), 4);
        assert_eq!(by_db[0].query, "SELECT 1");
        let mut by_user = rows;
        assert_eq!(retain_matching(&mut by_user, &[], &["nobody".into()]), 7);
        assert!(by_user.is_empty());
    }

    #[test]
    fn own_statements_are_recognised() {
        for own in [
            "-- pgadvisor check: who we are\nSELECT 1",
            "EXPLAIN (FORMAT JSON) SELECT * FROM t WHERE id = $1",
            "  /* x */ explain analyze select 1",
            "SELECT * FROM hypopg_create_index($1)",
            "select hypopg_reset()",
            "PREPARE pgadvisor_1 AS SELECT * FROM t WHERE id = $1",
            "deallocate pgadvisor_1",
            "SET application_name = 'pgadvisor'",
            "SET statement_timeout = '30000ms'",
            "SET lock_timeout = '5000ms'",
        ] {
            assert!(is_pgadvisor_statement(own), "{own}");
        }
        for theirs in [
            "SELECT * FROM explain_log WHERE id = $1",
            "-- app: orders\nSELECT * FROM t",
            "PREPARE q AS SELECT 1",
            "SET application_name = 'shop'",
            "SELECT $1 AS pgadvisor",
            "SET statement_timeout = '5s'",
            "SET statement_timeout = $1",
            "SET lock_timeout = 'ms'",
            "",
        ] {
            assert!(!is_pgadvisor_statement(theirs), "{theirs}");
        }
    }
}
