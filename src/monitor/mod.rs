//! The monitor's pure core: two snapshots of a database's cumulative
//! counters and current activity in, one sample of per-second rates and
//! "what is happening now" out. No database, no printing: `db::monitor`
//! takes the snapshots, `render::monitor` writes the samples.

use crate::workload::pgss::is_pgadvisor_statement;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Statements listed per sample, by time spent in the interval.
pub const TOP_STATEMENTS: usize = 5;
/// Wait events listed per sample, by sessions waiting on them.
pub const TOP_WAIT_EVENTS: usize = 5;
/// Characters of query text kept (the SQL cuts too; this is the contract).
pub const QUERY_CHARS: usize = 200;

/// The cumulative counters of one database (pg_stat_database).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatabaseCounters {
    /// When the counters were last reset, as epoch seconds; `None` if never.
    pub stats_reset_s: Option<f64>,
    pub xact_commit: i64,
    pub xact_rollback: i64,
    pub blks_read: i64,
    pub blks_hit: i64,
    pub tup_returned: i64,
    pub tup_fetched: i64,
    pub tup_inserted: i64,
    pub tup_updated: i64,
    pub tup_deleted: i64,
    pub temp_files: i64,
    pub temp_bytes: i64,
    pub deadlocks: i64,
}

/// One client session as pg_stat_activity shows it to this role. Every
/// field but the pid may be NULL: sessions of other roles are hidden from
/// a role without pg_read_all_stats (pg_monitor includes it).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct SessionActivity {
    pub pid: i32,
    /// `active`, `idle`, `idle in transaction`…; `None` when hidden.
    pub state: Option<String>,
    /// The role may not see this session's details.
    #[serde(default)]
    pub hidden: bool,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    /// Time since its current (or, when not active, last) statement began.
    pub query_ms: Option<f64>,
    /// The first characters of that statement; absent for idle sessions.
    pub query: Option<String>,
}

/// One pg_stat_statements entry's counters (top-level statements of this
/// database); times in milliseconds, as the view has them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatementCounters {
    pub userid: u32,
    pub queryid: i64,
    pub calls: i64,
    pub total_exec_ms: f64,
    pub rows: i64,
}

/// Everything read at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub database: String,
    /// The server's clock_timestamp() when the counters were read, as epoch
    /// seconds: rates divide by the difference of two of these.
    pub clock_s: f64,
    /// The same moment, RFC 3339 in UTC with milliseconds.
    pub sampled_at: String,
    pub counters: DatabaseCounters,
    pub sessions: Vec<SessionActivity>,
    /// `None` when pg_stat_statements could not be read (see the note).
    pub statements: Option<Vec<StatementCounters>>,
    /// Why `statements` is `None`.
    pub statements_note: Option<String>,
}

/// Client sessions of the database by state (the monitor's own excluded).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Connections {
    pub total: u32,
    pub active: u32,
    pub idle: u32,
    pub idle_in_transaction: u32,
    pub idle_in_transaction_aborted: u32,
    /// `fastpath function call`, `disabled`, or a state added later.
    pub other: u32,
    /// Sessions this role may not see the state of.
    pub hidden: u32,
}

/// The non-idle session whose statement started longest ago.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LongestQuery {
    pub pid: i32,
    pub state: String,
    pub duration_ms: f64,
    /// `Type:Event` when it is waiting.
    pub wait_event: Option<String>,
    /// The first [`QUERY_CHARS`] characters; `None` when the server shows none.
    pub query: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitEventCount {
    /// `wait_event_type:wait_event`, e.g. `Lock:transactionid`.
    pub wait_event: String,
    pub sessions: u32,
}

/// A statement's share of the interval, from pg_stat_statements deltas.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopStatement {
    pub queryid: i64,
    /// The first [`QUERY_CHARS`] characters of its normalised text, when read.
    pub query: Option<String>,
    /// Calls completed in the interval.
    pub calls: i64,
    /// Execution time spent in the interval.
    pub total_exec_ms: f64,
    /// `total_exec_ms / calls`; `None` without calls.
    pub mean_exec_ms: Option<f64>,
    /// Rows returned or affected in the interval.
    pub rows: i64,
}

/// One interval: rates per second over it, and the activity at its end.
/// A rate is `None` when it cannot be known (a counter reset, a clock that
/// did not advance); `notes` says why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    pub database: String,
    /// 1 for the first interval after the baseline.
    pub sample: u64,
    pub sampled_at: String,
    pub interval_ms: Option<f64>,
    pub transactions_per_s: Option<f64>,
    pub commits_per_s: Option<f64>,
    pub rollbacks_per_s: Option<f64>,
    /// Rollbacks / (commits + rollbacks); `None` without transactions.
    pub rollback_ratio: Option<f64>,
    pub rows_returned_per_s: Option<f64>,
    pub rows_fetched_per_s: Option<f64>,
    pub rows_inserted_per_s: Option<f64>,
    pub rows_updated_per_s: Option<f64>,
    pub rows_deleted_per_s: Option<f64>,
    pub rows_written_per_s: Option<f64>,
    pub blocks_hit_per_s: Option<f64>,
    pub blocks_read_per_s: Option<f64>,
    /// hit / (hit + read) over the interval; `None` when no block was touched.
    pub cache_hit_ratio: Option<f64>,
    pub temp_files: Option<i64>,
    pub temp_bytes: Option<i64>,
    pub temp_bytes_per_s: Option<f64>,
    pub deadlocks: Option<i64>,
    pub connections: Connections,
    pub longest_query: Option<LongestQuery>,
    pub wait_events: Vec<WaitEventCount>,
    pub top_statements: Option<Vec<TopStatement>>,
    pub notes: Vec<String>,
}

/// Counter increases over an interval, all known to be ≥ 0.
#[derive(Clone, Copy, Debug, Default)]
struct CounterDelta {
    commits: i64,
    rollbacks: i64,
    blks_read: i64,
    blks_hit: i64,
    returned: i64,
    fetched: i64,
    inserted: i64,
    updated: i64,
    deleted: i64,
    temp_files: i64,
    temp_bytes: i64,
    deadlocks: i64,
}

/// The increases from `prev` to `cur`, or why they cannot be trusted: a
/// reset makes the counters restart from zero, and a difference across it
/// would be negative or too small.
fn counter_delta(prev: &DatabaseCounters, cur: &DatabaseCounters) -> Result<CounterDelta, String> {
    if prev.stats_reset_s != cur.stats_reset_s {
        return Err(
            "the statistics of this database were reset during this interval (stats_reset changed): rates are unknown for this sample"
                .to_string(),
        );
    }
    let d = CounterDelta {
        commits: cur.xact_commit - prev.xact_commit,
        rollbacks: cur.xact_rollback - prev.xact_rollback,
        blks_read: cur.blks_read - prev.blks_read,
        blks_hit: cur.blks_hit - prev.blks_hit,
        returned: cur.tup_returned - prev.tup_returned,
        fetched: cur.tup_fetched - prev.tup_fetched,
        inserted: cur.tup_inserted - prev.tup_inserted,
        updated: cur.tup_updated - prev.tup_updated,
        deleted: cur.tup_deleted - prev.tup_deleted,
        temp_files: cur.temp_files - prev.temp_files,
        temp_bytes: cur.temp_bytes - prev.temp_bytes,
        deadlocks: cur.deadlocks - prev.deadlocks,
    };
    let all = [
        d.commits,
        d.rollbacks,
        d.blks_read,
        d.blks_hit,
        d.returned,
        d.fetched,
        d.inserted,
        d.updated,
        d.deleted,
        d.temp_files,
        d.temp_bytes,
        d.deadlocks,
    ];
    if all.iter().any(|v| *v < 0) {
        return Err(
            "a cumulative counter went backwards during this interval (statistics reset or server restart): rates are unknown for this sample"
                .to_string(),
        );
    }
    Ok(d)
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Per second, to the thousandth.
fn rate(count: i64, seconds: f64) -> f64 {
    round_to(count as f64 / seconds, 3)
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| round_to(part as f64 / whole as f64, 6))
}

/// The first `n` characters of `text`.
fn cut(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

/// The pg_stat_statements increases over an interval, summed per queryid
/// (over roles), heaviest first.
#[derive(Clone, Debug, PartialEq)]
pub struct StatementDelta {
    pub queryid: i64,
    pub calls: i64,
    pub total_exec_ms: f64,
    pub rows: i64,
}

/// What each statement did between two reads of pg_stat_statements. An
/// entry new in `cur`, or whose counters went down (evicted and created
/// again, or pg_stat_statements_reset()), began within the interval, so
/// all of its counts belong to it. Entries that did nothing are left out.
pub fn statement_deltas(
    prev: &[StatementCounters],
    cur: &[StatementCounters],
) -> Vec<StatementDelta> {
    let before: FxHashMap<(u32, i64), &StatementCounters> =
        prev.iter().map(|s| ((s.userid, s.queryid), s)).collect();
    let mut by_query: FxHashMap<i64, StatementDelta> = FxHashMap::default();
    for s in cur {
        let (calls, ms, rows) = match before.get(&(s.userid, s.queryid)) {
            Some(p)
                if s.calls >= p.calls && s.total_exec_ms >= p.total_exec_ms && s.rows >= p.rows =>
            {
                (
                    s.calls - p.calls,
                    s.total_exec_ms - p.total_exec_ms,
                    s.rows - p.rows,
                )
            }
            _ => (s.calls, s.total_exec_ms, s.rows),
        };
        if calls == 0 && ms <= 0.0 {
            continue;
        }
        let d = by_query.entry(s.queryid).or_insert(StatementDelta {
            queryid: s.queryid,
            calls: 0,
            total_exec_ms: 0.0,
            rows: 0,
        });
        d.calls += calls;
        d.total_exec_ms += ms;
        d.rows += rows;
    }
    let mut out: Vec<StatementDelta> = by_query.into_values().collect();
    out.sort_by(|a, b| {
        b.total_exec_ms
            .total_cmp(&a.total_exec_ms)
            .then(b.calls.cmp(&a.calls))
            .then(a.queryid.cmp(&b.queryid))
    });
    out
}

/// The queryids whose texts must be read before the top list can be
/// decided: the heaviest statements not yet in `texts`, up to as many as
/// could still make the list (pgadvisor's own statements, recognised by
/// their text, do not count).
pub fn texts_needed(
    deltas: &[StatementDelta],
    texts: &FxHashMap<i64, String>,
    limit: usize,
) -> Vec<i64> {
    let mut needed = Vec::new();
    let mut places = 0;
    for d in deltas {
        if places >= limit {
            break;
        }
        match texts.get(&d.queryid) {
            Some(text) if is_pgadvisor_statement(text) => {}
            Some(_) => places += 1,
            None => {
                needed.push(d.queryid);
                places += 1;
            }
        }
    }
    needed
}

/// The sample for the interval from `prev` to `cur`. `texts` maps
/// queryids to statement texts read so far (see [`texts_needed`]).
pub fn compute(
    prev: &Snapshot,
    cur: &Snapshot,
    number: u64,
    texts: &FxHashMap<i64, String>,
) -> Sample {
    let mut notes = Vec::new();
    let elapsed_s = cur.clock_s - prev.clock_s;
    let clock_ok = elapsed_s.is_finite() && elapsed_s > 0.0;
    let delta = if !clock_ok {
        notes.push(
            "the server's clock did not advance between two samples: rates are unknown for this sample"
                .to_string(),
        );
        None
    } else {
        match counter_delta(&prev.counters, &cur.counters) {
            Ok(d) => Some(d),
            Err(note) => {
                notes.push(note);
                None
            }
        }
    };
    let per_s = |f: fn(&CounterDelta) -> i64| delta.as_ref().map(|d| rate(f(d), elapsed_s));
    let count = |f: fn(&CounterDelta) -> i64| delta.as_ref().map(f);
    let top_statements = top_statements(prev, cur, texts, &mut notes);
    Sample {
        database: cur.database.clone(),
        sample: number,
        sampled_at: cur.sampled_at.clone(),
        interval_ms: clock_ok.then(|| round_to(elapsed_s * 1000.0, 3)),
        transactions_per_s: per_s(|d| d.commits + d.rollbacks),
        commits_per_s: per_s(|d| d.commits),
        rollbacks_per_s: per_s(|d| d.rollbacks),
        rollback_ratio: delta.and_then(|d| ratio(d.rollbacks, d.commits + d.rollbacks)),
        rows_returned_per_s: per_s(|d| d.returned),
        rows_fetched_per_s: per_s(|d| d.fetched),
        rows_inserted_per_s: per_s(|d| d.inserted),
        rows_updated_per_s: per_s(|d| d.updated),
        rows_deleted_per_s: per_s(|d| d.deleted),
        rows_written_per_s: per_s(|d| d.inserted + d.updated + d.deleted),
        blocks_hit_per_s: per_s(|d| d.blks_hit),
        blocks_read_per_s: per_s(|d| d.blks_read),
        cache_hit_ratio: delta.and_then(|d| ratio(d.blks_hit, d.blks_hit + d.blks_read)),
        temp_files: count(|d| d.temp_files),
        temp_bytes: count(|d| d.temp_bytes),
        temp_bytes_per_s: per_s(|d| d.temp_bytes),
        deadlocks: count(|d| d.deadlocks),
        connections: connections(&cur.sessions),
        longest_query: longest_query(&cur.sessions),
        wait_events: wait_events(&cur.sessions),
        top_statements,
        notes,
    }
}

fn top_statements(
    prev: &Snapshot,
    cur: &Snapshot,
    texts: &FxHashMap<i64, String>,
    notes: &mut Vec<String>,
) -> Option<Vec<TopStatement>> {
    let (before, now) = match (&prev.statements, &cur.statements) {
        (Some(before), Some(now)) => (before, now),
        (_, None) => {
            let why = cur
                .statements_note
                .clone()
                .unwrap_or_else(|| "pg_stat_statements could not be read".to_string());
            notes.push(format!("no top statements: {why}"));
            return None;
        }
        (None, Some(_)) => {
            notes.push(
                "no top statements: pg_stat_statements became readable during this interval; they start with the next sample"
                    .to_string(),
            );
            return None;
        }
    };
    let top = statement_deltas(before, now)
        .into_iter()
        .filter(|d| {
            texts
                .get(&d.queryid)
                .is_none_or(|text| !is_pgadvisor_statement(text))
        })
        .take(TOP_STATEMENTS)
        .map(|d| TopStatement {
            queryid: d.queryid,
            query: texts.get(&d.queryid).map(|t| cut(t, QUERY_CHARS)),
            calls: d.calls,
            total_exec_ms: round_to(d.total_exec_ms, 3),
            mean_exec_ms: (d.calls > 0).then(|| round_to(d.total_exec_ms / d.calls as f64, 3)),
            rows: d.rows,
        })
        .collect();
    Some(top)
}

fn connections(sessions: &[SessionActivity]) -> Connections {
    let mut c = Connections::default();
    for s in sessions {
        c.total += 1;
        let state = match (&s.state, s.hidden) {
            (Some(state), false) => state.as_str(),
            _ => {
                c.hidden += 1;
                continue;
            }
        };
        match state {
            "active" => c.active += 1,
            "idle" => c.idle += 1,
            "idle in transaction" => c.idle_in_transaction += 1,
            "idle in transaction (aborted)" => c.idle_in_transaction_aborted += 1,
            _ => c.other += 1,
        }
    }
    c
}

fn wait_event_name(s: &SessionActivity) -> Option<String> {
    match (&s.wait_event_type, &s.wait_event) {
        (Some(t), Some(e)) => Some(format!("{t}:{e}")),
        (Some(t), None) => Some(t.clone()),
        (None, Some(e)) => Some(e.clone()),
        (None, None) => None,
    }
}

/// The visible, non-idle session whose statement began earliest: an
/// active query, or a transaction left open (idle in transaction), which
/// holds its locks and snapshot as long.
fn longest_query(sessions: &[SessionActivity]) -> Option<LongestQuery> {
    sessions
        .iter()
        .filter(|s| !s.hidden)
        .filter_map(|s| {
            let state = s.state.as_deref()?;
            let ms = s.query_ms?;
            (state != "idle" && ms.is_finite()).then_some((s, state, ms))
        })
        .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.pid.cmp(&a.0.pid)))
        .map(|(s, state, ms)| LongestQuery {
            pid: s.pid,
            state: state.to_string(),
            duration_ms: round_to(ms.max(0.0), 3),
            wait_event: wait_event_name(s),
            query: s.query.as_deref().map(|q| cut(q, QUERY_CHARS)),
        })
}

/// What active sessions are waiting on, most common first.
fn wait_events(sessions: &[SessionActivity]) -> Vec<WaitEventCount> {
    let mut counts: FxHashMap<String, u32> = FxHashMap::default();
    for s in sessions {
        if s.hidden || s.state.as_deref() != Some("active") {
            continue;
        }
        if let Some(name) = wait_event_name(s) {
            *counts.entry(name).or_insert(0) += 1;
        }
    }
    let mut out: Vec<WaitEventCount> = counts
        .into_iter()
        .map(|(wait_event, sessions)| WaitEventCount {
            wait_event,
            sessions,
        })
        .collect();
    out.sort_by(|a, b| {
        b.sessions
            .cmp(&a.sessions)
            .then_with(|| a.wait_event.cmp(&b.wait_event))
    });
    out.truncate(TOP_WAIT_EVENTS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(commits: i64, rollbacks: i64) -> DatabaseCounters {
        DatabaseCounters {
            stats_reset_s: Some(1_000.0),
            xact_commit: commits,
            xact_rollback: rollbacks,
            ..Default::default()
        }
    }

    fn snap(clock_s: f64, c: DatabaseCounters) -> Snapshot {
        Snapshot {
            database: "shop".into(),
            clock_s,
            sampled_at: "2026-11-28T10:00:00.000Z".into(),
            counters: c,
            statements: Some(Vec::new()),
            ..Default::default()
        }
    }

    fn no_texts() -> FxHashMap<i64, String> {
        FxHashMap::default()
    }

    #[test]
    fn rates_divide_by_the_real_elapsed_time() {
        let mut a = counters(1_000, 10);
        a.tup_inserted = 50;
        a.tup_updated = 5;
        a.tup_deleted = 1;
        a.tup_returned = 100;
        a.tup_fetched = 7;
        a.temp_files = 1;
        a.temp_bytes = 8192;
        let mut b = counters(1_500, 35);
        b.tup_inserted = 1_050;
        b.tup_updated = 105;
        b.tup_deleted = 1;
        b.tup_returned = 2_600;
        b.tup_fetched = 7;
        b.temp_files = 3;
        b.temp_bytes = 8192 + 2_500_000;
        b.deadlocks = 1;
        // 2.5 s apart: every count is divided by 2.5, not by the nominal interval.
        let s = compute(&snap(100.0, a), &snap(102.5, b), 4, &no_texts());
        assert_eq!(s.sample, 4);
        assert_eq!(s.interval_ms, Some(2500.0));
        assert_eq!(s.commits_per_s, Some(200.0));
        assert_eq!(s.rollbacks_per_s, Some(10.0));
        assert_eq!(s.transactions_per_s, Some(210.0));
        assert_eq!(s.rollback_ratio, Some(0.047619));
        assert_eq!(s.rows_inserted_per_s, Some(400.0));
        assert_eq!(s.rows_updated_per_s, Some(40.0));
        assert_eq!(s.rows_deleted_per_s, Some(0.0));
        assert_eq!(s.rows_written_per_s, Some(440.0));
        assert_eq!(s.rows_returned_per_s, Some(1000.0));
        assert_eq!(s.rows_fetched_per_s, Some(0.0));
        assert_eq!(s.temp_files, Some(2));
        assert_eq!(s.temp_bytes, Some(2_500_000));
        assert_eq!(s.temp_bytes_per_s, Some(1_000_000.0));
        assert_eq!(s.deadlocks, Some(1));
        assert!(s.notes.is_empty(), "{:?}", s.notes);
    }

    #[test]
    fn hit_ratio_over_the_interval_and_null_without_blocks() {
        let mut a = counters(0, 0);
        a.blks_hit = 1_000_000;
        a.blks_read = 10;
        let mut b = a.clone();
        b.blks_hit += 90;
        b.blks_read += 10;
        let s = compute(&snap(0.0, a.clone()), &snap(1.0, b), 1, &no_texts());
        // 90 / 100 in the interval, not the lifetime 0.99998.
        assert_eq!(s.cache_hit_ratio, Some(0.9));
        assert_eq!(s.blocks_hit_per_s, Some(90.0));
        let idle = compute(&snap(0.0, a.clone()), &snap(1.0, a), 2, &no_texts());
        assert_eq!(idle.cache_hit_ratio, None);
        assert_eq!(idle.rollback_ratio, None);
        assert_eq!(idle.transactions_per_s, Some(0.0));
    }

    #[test]
    fn a_reset_gives_null_rates_and_a_note_never_negative_ones() {
        let a = counters(5_000, 100);
        let mut b = counters(20, 1);
        b.stats_reset_s = Some(2_000.0);
        let s = compute(&snap(0.0, a.clone()), &snap(1.0, b.clone()), 1, &no_texts());
        assert_eq!(s.transactions_per_s, None);
        assert_eq!(s.commits_per_s, None);
        assert_eq!(s.temp_bytes, None);
        assert_eq!(s.cache_hit_ratio, None);
        assert_eq!(s.interval_ms, Some(1000.0));
        assert!(s.notes[0].contains("stats_reset changed"), "{:?}", s.notes);
        // A counter going down without stats_reset moving (a restart, a
        // reset this role cannot see) is caught too.
        let mut lower = a.clone();
        lower.xact_commit = 4_000;
        let s = compute(&snap(0.0, a.clone()), &snap(1.0, lower), 1, &no_texts());
        assert_eq!(s.commits_per_s, None);
        assert!(s.notes[0].contains("went backwards"), "{:?}", s.notes);
        // The next interval, from the reset counters on, has rates again.
        let mut after = b.clone();
        after.xact_commit += 30;
        let s = compute(&snap(1.0, b), &snap(2.0, after), 2, &no_texts());
        assert_eq!(s.commits_per_s, Some(30.0));
        assert!(s.notes.is_empty());
    }

    #[test]
    fn a_clock_that_does_not_advance_gives_null_rates() {
        let a = counters(1, 0);
        let s = compute(&snap(10.0, a.clone()), &snap(10.0, a), 1, &no_texts());
        assert_eq!(s.interval_ms, None);
        assert_eq!(s.commits_per_s, None);
        assert_eq!(s.notes.len(), 1);
    }

    fn stmt(userid: u32, queryid: i64, calls: i64, ms: f64) -> StatementCounters {
        StatementCounters {
            userid,
            queryid,
            calls,
            total_exec_ms: ms,
            rows: calls,
        }
    }

    #[test]
    fn top_statements_are_interval_deltas() {
        let before = vec![
            stmt(10, 1, 100, 1000.0),
            stmt(10, 2, 5, 50.0),
            stmt(11, 2, 1, 1.0),
        ];
        let after = vec![
            // 1: 10 more calls, 20 ms more.
            stmt(10, 1, 110, 1020.0),
            // 2: two roles, summed: 5 + 2 calls, 500 + 9 ms.
            stmt(10, 2, 10, 550.0),
            stmt(11, 2, 3, 10.0),
            // 3: new in the interval: all of it counts.
            stmt(10, 3, 4, 100.0),
            // 4: unchanged: left out.
            stmt(10, 4, 0, 0.0),
        ];
        let d = statement_deltas(&before, &after);
        assert_eq!(
            d.iter().map(|d| d.queryid).collect::<Vec<_>>(),
            vec![2, 3, 1]
        );
        assert_eq!(d[0].calls, 7);
        assert_eq!(d[0].total_exec_ms, 509.0);
        let mut prev = snap(0.0, counters(0, 0));
        prev.statements = Some(before);
        let mut cur = snap(2.0, counters(0, 0));
        cur.statements = Some(after);
        let mut texts = no_texts();
        texts.insert(2, "SELECT * FROM orders WHERE id = $1".into());
        let s = compute(&prev, &cur, 1, &texts);
        let top = s.top_statements.expect("pg_stat_statements was read");
        assert_eq!(top.len(), 3);
        assert_eq!(
            top[0].query.as_deref(),
            Some("SELECT * FROM orders WHERE id = $1")
        );
        assert_eq!(top[0].calls, 7);
        assert_eq!(top[0].mean_exec_ms, Some(72.714));
        assert_eq!(top[2].calls, 10);
        assert_eq!(top[2].mean_exec_ms, Some(2.0));
        assert_eq!(top[1].query, None);
    }

    #[test]
    fn evicted_or_reset_statements_count_from_zero() {
        let before = vec![stmt(10, 1, 1_000, 5_000.0)];
        let after = vec![stmt(10, 1, 3, 6.0)];
        let d = statement_deltas(&before, &after);
        assert_eq!(d[0].calls, 3);
        assert_eq!(d[0].total_exec_ms, 6.0);
    }

    #[test]
    fn own_statements_are_left_out_once_their_text_is_known() {
        let after = vec![
            stmt(10, 1, 1, 900.0),
            stmt(10, 2, 1, 800.0),
            stmt(10, 3, 1, 700.0),
        ];
        let d = statement_deltas(&[], &after);
        let mut texts = no_texts();
        assert_eq!(texts_needed(&d, &texts, 2), vec![1, 2]);
        texts.insert(1, "-- pgadvisor monitor: counters\nSELECT 1".into());
        texts.insert(2, "SELECT 2".into());
        // 1 is ours: 3 may now make the list, so its text is wanted.
        assert_eq!(texts_needed(&d, &texts, 2), vec![3]);
        texts.insert(3, "SELECT 3".into());
        assert!(texts_needed(&d, &texts, 2).is_empty());
        let mut prev = snap(0.0, counters(0, 0));
        prev.statements = Some(Vec::new());
        let mut cur = snap(1.0, counters(0, 0));
        cur.statements = Some(after);
        let top = compute(&prev, &cur, 1, &texts).top_statements.unwrap();
        assert_eq!(
            top.iter().map(|t| t.queryid).collect::<Vec<_>>(),
            vec![2, 3]
        );
    }

    #[test]
    fn unreadable_pg_stat_statements_is_a_note_not_an_empty_list() {
        let prev = snap(0.0, counters(0, 0));
        let mut cur = snap(1.0, counters(0, 0));
        cur.statements = None;
        cur.statements_note = Some("pg_stat_statements is not installed".into());
        let s = compute(&prev, &cur, 1, &no_texts());
        assert_eq!(s.top_statements, None);
        assert_eq!(s.commits_per_s, Some(0.0));
        assert!(s.notes[0].contains("not installed"), "{:?}", s.notes);
        let mut back = snap(2.0, counters(0, 0));
        back.statements = Some(Vec::new());
        let s = compute(&cur, &back, 2, &no_texts());
        assert_eq!(s.top_statements, None);
        assert!(s.notes[0].contains("next sample"));
    }

    fn session(pid: i32, state: Option<&str>, ms: Option<f64>) -> SessionActivity {
        SessionActivity {
            pid,
            state: state.map(str::to_string),
            hidden: state.is_none(),
            query_ms: ms,
            query: state
                .filter(|s| *s != "idle")
                .map(|_| format!("select {pid}")),
            ..Default::default()
        }
    }

    #[test]
    fn activity_by_state_longest_and_waits() {
        let mut sleeping = session(7, Some("active"), Some(4_000.0));
        sleeping.wait_event_type = Some("Timeout".into());
        sleeping.wait_event = Some("PgSleep".into());
        let mut locked = session(8, Some("active"), Some(100.0));
        locked.wait_event_type = Some("Lock".into());
        locked.wait_event = Some("transactionid".into());
        let mut locked2 = locked.clone();
        locked2.pid = 9;
        let sessions = vec![
            session(1, Some("idle"), Some(99_000.0)),
            session(2, Some("idle in transaction"), Some(1_000.0)),
            session(3, None, None),
            session(4, Some("idle in transaction (aborted)"), None),
            session(5, Some("fastpath function call"), Some(1.0)),
            sleeping,
            locked,
            locked2,
        ];
        let mut cur = snap(1.0, counters(0, 0));
        cur.sessions = sessions;
        let s = compute(&snap(0.0, counters(0, 0)), &cur, 1, &no_texts());
        assert_eq!(
            s.connections,
            Connections {
                total: 8,
                active: 3,
                idle: 1,
                idle_in_transaction: 1,
                idle_in_transaction_aborted: 1,
                other: 1,
                hidden: 1,
            }
        );
        // The idle session's old query does not count; the sleeper does.
        let longest = s.longest_query.unwrap();
        assert_eq!(longest.pid, 7);
        assert_eq!(longest.state, "active");
        assert_eq!(longest.wait_event.as_deref(), Some("Timeout:PgSleep"));
        assert_eq!(longest.query.as_deref(), Some("select 7"));
        assert_eq!(
            s.wait_events,
            vec![
                WaitEventCount {
                    wait_event: "Lock:transactionid".into(),
                    sessions: 2
                },
                WaitEventCount {
                    wait_event: "Timeout:PgSleep".into(),
                    sessions: 1
                },
            ]
        );
    }

    #[test]
    fn hidden_sessions_never_panic_and_queries_are_cut() {
        let mut long = session(1, Some("active"), Some(5.0));
        long.query = Some("é".repeat(500));
        let cur_sessions = vec![session(2, None, Some(1e9)), long];
        let mut cur = snap(1.0, counters(0, 0));
        cur.sessions = cur_sessions;
        let s = compute(&snap(0.0, counters(0, 0)), &cur, 1, &no_texts());
        let longest = s.longest_query.unwrap();
        assert_eq!(longest.pid, 1);
        assert_eq!(longest.query.unwrap().chars().count(), QUERY_CHARS);
        assert!(s.wait_events.is_empty());
    }

    #[test]
    fn sample_serialises_with_stable_snake_case_fields() {
        let s = compute(
            &snap(0.0, counters(0, 0)),
            &snap(1.0, counters(3, 1)),
            1,
            &no_texts(),
        );
        let v = serde_json::to_value(&s).unwrap();
        for key in [
            "transactions_per_s",
            "rollbacks_per_s",
            "cache_hit_ratio",
            "temp_bytes_per_s",
            "connections",
            "longest_query",
            "wait_events",
            "top_statements",
            "notes",
        ] {
            assert!(v.get(key).is_some(), "{key} missing");
        }
        assert!(v["longest_query"].is_null());
        assert!(v["cache_hit_ratio"].is_null());
        assert_eq!(v["transactions_per_s"], 4.0);
    }
}
