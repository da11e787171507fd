//! The workload as data: what ran, how often, how long — the result of
//! ingestion and the input of every later analysis.

use super::fingerprint::{FingerprintId, StatementKind};
use super::latency::LatencyRecorder;
use super::timestamp::LogTime;
use super::warnings::{Location, Warnings};
use serde::Serialize;

/// How many distinct databases / users are remembered per fingerprint.
pub const NAMES_KEPT: usize = 16;

/// The format an input was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Stderr,
    Csv,
    Json,
    Sql,
    /// The pg_stat_statements view of a live database (totals per
    /// statement, not a log; never detected or forced).
    #[serde(rename = "pg_stat_statements")]
    #[value(skip)]
    PgStatStatements,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stderr => "stderr",
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Sql => "sql",
            Self::PgStatStatements => "pg_stat_statements",
        }
    }
}

/// One input as read.
#[derive(Clone, Debug, Serialize)]
pub struct InputSummary {
    /// The path as given, or `-` for stdin; for pg_stat_statements the
    /// database it was read from (a URL without the password).
    pub path: String,
    pub format: LogFormat,
    pub compressed: bool,
    /// Bytes read (after decompression); 0 for pg_stat_statements.
    pub bytes: u64,
    /// Lines read; for pg_stat_statements, the entries (rows) read.
    pub lines: u64,
    /// The log_line_prefix used for a stderr log (given or detected);
    /// `None` when no known prefix fitted and entries were found by their
    /// severity alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_line_prefix: Option<String>,
}

/// A statement as it was really sent, kept so later commands can EXPLAIN it.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// The text as logged (literals inline, or `$n` with `parameters`).
    pub statement: String,
    /// Values of `$1`, `$2`, … (NULL as `None`), from `DETAIL: parameters:`
    /// or the arguments of `EXECUTE name(…)`.
    pub parameters: Vec<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Where the entry is (rendered as `path:line`).
    #[serde(skip)]
    pub location: Location,
}

/// A small, ordered set of names with an overflow count.
#[derive(Clone, Debug, Default)]
pub struct NameSet {
    pub names: Vec<Box<str>>,
    pub more: bool,
}

impl NameSet {
    pub fn insert(&mut self, name: &str) {
        if name.is_empty() || self.names.iter().any(|n| &**n == name) {
            return;
        }
        if self.names.len() < NAMES_KEPT {
            self.names.push(name.into());
        } else {
            self.more = true;
        }
    }

    pub fn sorted(&self) -> Vec<String> {
        let mut v: Vec<String> = self.names.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }
}

/// Everything known about one fingerprint.
#[derive(Clone, Debug)]
pub struct Fingerprint {
    pub id: FingerprintId,
    /// Normalized text with `$n` placeholders.
    pub text: String,
    pub kind: StatementKind,
    /// Successful executions (an extended-protocol execution counts once,
    /// from its execute line).
    pub calls: u64,
    /// Calls whose duration is known.
    pub timed_calls: u64,
    pub total_us: u64,
    pub min_us: u64,
    pub max_us: u64,
    pub latency: LatencyRecorder,
    /// Executions that ended in an error.
    pub errors: u64,
    /// Time spent in parse and bind steps of the extended protocol.
    pub parse_bind_us: u64,
    /// Time of `execute fetch from` steps (more rows from an open portal).
    pub fetch_us: u64,
    pub databases: NameSet,
    pub users: NameSet,
    pub first_seen: Option<LogTime>,
    pub last_seen: Option<LogTime>,
    pub samples: Vec<Sample>,
    /// Why sqlparser could not parse the normalized text, if it could not.
    pub parse_error: Option<String>,
    /// Where the fingerprint was first seen.
    pub first_location: Location,
}

impl Fingerprint {
    pub fn new(
        id: FingerprintId,
        text: String,
        kind: StatementKind,
        first_location: Location,
    ) -> Self {
        Self {
            id,
            text,
            kind,
            calls: 0,
            timed_calls: 0,
            total_us: 0,
            min_us: u64::MAX,
            max_us: 0,
            latency: LatencyRecorder::default(),
            errors: 0,
            parse_bind_us: 0,
            fetch_us: 0,
            databases: NameSet::default(),
            users: NameSet::default(),
            first_seen: None,
            last_seen: None,
            samples: Vec::new(),
            parse_error: None,
            first_location,
        }
    }

    pub fn total_ms(&self) -> f64 {
        self.total_us as f64 / 1000.0
    }

    pub fn mean_ms(&self) -> Option<f64> {
        (self.timed_calls > 0).then(|| self.total_ms() / self.timed_calls as f64)
    }

    pub fn min_ms(&self) -> Option<f64> {
        (self.timed_calls > 0).then(|| self.min_us as f64 / 1000.0)
    }

    pub fn max_ms(&self) -> Option<f64> {
        (self.timed_calls > 0).then(|| self.max_us as f64 / 1000.0)
    }

    /// Percentile in milliseconds; the maximum is exact even past the
    /// histogram's range.
    pub fn percentile_ms(&self, q: f64) -> Option<f64> {
        self.latency
            .quantile(q)
            .map(|us| us.min(self.max_us) as f64 / 1000.0)
    }

    pub fn observe_time(&mut self, time: Option<LogTime>) {
        if let Some(t) = time {
            if self.first_seen.is_none_or(|f| t < f) {
                self.first_seen = Some(t);
            }
            if self.last_seen.is_none_or(|l| t > l) {
                self.last_seen = Some(t);
            }
        }
    }
}

/// Executions counted per statement kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindCounts(pub [u64; 7]);

impl KindCounts {
    pub fn add(&mut self, kind: StatementKind, n: u64) {
        self.0[kind.index()] += n;
    }

    pub fn get(&self, kind: StatementKind) -> u64 {
        self.0[kind.index()]
    }
}

/// The ingested workload.
#[derive(Clone, Debug, Default)]
pub struct Workload {
    pub inputs: Vec<InputSummary>,
    pub fingerprints: Vec<Fingerprint>,
    pub kinds: KindCounts,
    /// Successful executions, all fingerprints.
    pub executions: u64,
    /// Statements that ended in an error (ERROR entries with a STATEMENT).
    pub errors: u64,
    /// Entries left out by the --dbname / --user filters.
    pub filtered_out: u64,
    /// Log entries that are not statements (checkpoints, connections, …).
    pub other_entries: u64,
    /// auto_explain plans seen (not counted as executions).
    pub auto_explain_plans: u64,
    pub first_seen: Option<LogTime>,
    pub last_seen: Option<LogTime>,
    pub warnings: Warnings,
    /// Notes about the input that are not errors (e.g. a prefix without %p).
    pub notes: Vec<String>,
    /// Every execution in logged order, when `CollectOptions::trace` asked
    /// for it (bench-cache replays it); empty otherwise.
    pub trace: Vec<TraceEvent>,
    /// The first execution of each trace key with its parameter values, so
    /// a key can be run again.
    pub trace_samples: rustc_hash::FxHashMap<u64, Sample>,
}

/// One execution: its fingerprint (an index into `fingerprints`) and a key
/// naming the statement together with its parameter values — two
/// executions share a key exactly when they asked the same question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    pub fingerprint: u32,
    pub key: u64,
}

impl Workload {
    pub fn total_us(&self) -> u64 {
        self.fingerprints.iter().map(|f| f.total_us).sum()
    }

    /// `path:line` of a location, for messages.
    pub fn locate(&self, location: &Location) -> String {
        let path = self
            .inputs
            .get(location.input as usize)
            .map_or("?", |i| i.path.as_str());
        format!("{path}:{}", location.line)
    }
}
