//! One log entry, whatever the format it came from, and what its message
//! means for the workload (`duration: … statement: …`, `execute …`, errors).

use super::collector::{Collector, EntryMeta};
use super::normalize::Normalizer;
use super::prefix::Severity;
use super::warnings::Location;

/// A log entry with its secondary fields. Buffers are reused from entry to
/// entry; an empty string means the field was absent.
#[derive(Debug)]
pub struct LogEntry {
    pub location: Location,
    pub time: String,
    pub pid: Option<u32>,
    pub user: String,
    pub database: String,
    pub severity: Severity,
    pub message: String,
    pub detail: String,
    /// The STATEMENT of an error (csvlog `query`, jsonlog `statement`).
    pub statement: String,
    /// The statement's normalized form, when the reader thread made it.
    pub normalized: Vec<u8>,
    pub normalized_state: Prenormalized,
}

/// Whether (and how) an entry was normalized ahead of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Prenormalized {
    #[default]
    No,
    WithConstants,
    WithoutConstants,
}

/// A normalized key made ahead of time, and whether the text had constants.
#[derive(Clone, Copy, Debug)]
pub struct PreKey<'a> {
    pub key: &'a [u8],
    pub had_constants: bool,
}

impl Default for LogEntry {
    fn default() -> Self {
        Self {
            location: Location { input: 0, line: 0 },
            time: String::new(),
            pid: None,
            user: String::new(),
            database: String::new(),
            severity: Severity::Log,
            message: String::new(),
            detail: String::new(),
            statement: String::new(),
            normalized: Vec::new(),
            normalized_state: Prenormalized::No,
        }
    }
}

impl LogEntry {
    pub fn clear(&mut self) {
        self.time.clear();
        self.pid = None;
        self.user.clear();
        self.database.clear();
        self.message.clear();
        self.detail.clear();
        self.statement.clear();
        self.normalized_state = Prenormalized::No;
    }

    /// The key made by [`prenormalize`], if any.
    pub fn prenormalized(&self) -> Option<PreKey<'_>> {
        match self.normalized_state {
            Prenormalized::No => None,
            state => Some(PreKey {
                key: &self.normalized,
                had_constants: state == Prenormalized::WithConstants,
            }),
        }
    }

    fn meta(&self) -> EntryMeta<'_> {
        EntryMeta {
            location: self.location.clone(),
            time: &self.time,
            pid: self.pid,
            user: &self.user,
            database: &self.database,
        }
    }
}

/// What an entry's message means for the workload.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// A completed statement: `duration: … statement:` or `… execute NAME:`.
    Execution { sql: &'a str, micros: u64 },
    /// More rows from an open portal (`execute fetch from`): not a new call.
    Fetch { sql: &'a str, micros: u64 },
    /// An extended-protocol parse or bind step: not a call.
    ParseOrBind { sql: &'a str, micros: u64 },
    /// A `duration:` line without text (log_statement logged the text).
    BareDuration(u64),
    /// `statement:` / `execute NAME:` logged before running (log_statement).
    Logged { sql: &'a str },
    /// An auto_explain plan.
    Plan,
    /// An error with the statement that caused it.
    Failed { sql: &'a str },
    /// Anything else: connections, checkpoints, …
    Other,
}

impl Message<'_> {
    /// The statement text to fingerprint right away, if any (log_statement
    /// texts wait for their duration; EXECUTE of a PREPARE is resolved by
    /// the collector).
    pub fn fingerprinted_text(&self, detail: &str) -> Option<&str> {
        match self {
            Self::Execution { .. } if detail.starts_with("prepare: ") => None,
            Self::Execution { sql, .. }
            | Self::Fetch { sql, .. }
            | Self::ParseOrBind { sql, .. }
            | Self::Failed { sql } => Some(sql),
            _ => None,
        }
    }
}

/// Reads an entry's message. Pure, so the reader thread can use it too.
pub fn classify(entry: &LogEntry) -> Message<'_> {
    if entry.severity.is_error() {
        return if entry.statement.is_empty() {
            Message::Other
        } else {
            Message::Failed {
                sql: &entry.statement,
            }
        };
    }
    if entry.severity != Severity::Log {
        return Message::Other;
    }
    let msg = entry.message.as_str();
    if let Some(rest) = msg.strip_prefix("duration: ") {
        let Some((micros, after)) = parse_duration(rest) else {
            return Message::Other;
        };
        if after.trim().is_empty() {
            return Message::BareDuration(micros);
        }
        let Some(what) = after.strip_prefix("  ") else {
            return Message::Other;
        };
        if let Some(sql) = what.strip_prefix("statement: ") {
            Message::Execution { sql, micros }
        } else if let Some(step) = what.strip_prefix("execute ") {
            match split_named(step) {
                Some((name, sql)) if name.starts_with("fetch from ") => {
                    Message::Fetch { sql, micros }
                }
                Some((_, sql)) => Message::Execution { sql, micros },
                None => Message::Other,
            }
        } else if let Some(step) = what
            .strip_prefix("parse ")
            .or_else(|| what.strip_prefix("bind "))
        {
            match split_named(step) {
                Some((_, sql)) => Message::ParseOrBind { sql, micros },
                None => Message::Other,
            }
        } else if what.starts_with("plan:") {
            Message::Plan
        } else {
            Message::Other
        }
    } else if let Some(sql) = msg.strip_prefix("statement: ") {
        Message::Logged { sql }
    } else if let Some(step) = msg.strip_prefix("execute ") {
        match split_named(step) {
            Some((name, _)) if name.starts_with("fetch from ") => Message::Other,
            Some((_, sql)) => Message::Logged { sql },
            None => Message::Other,
        }
    } else {
        Message::Other
    }
}

/// Tells the collector what an entry means.
pub fn interpret(entry: &LogEntry, collector: &mut Collector) {
    let meta = || entry.meta();
    let pre = entry.prenormalized();
    match classify(entry) {
        Message::Execution { sql, micros } => {
            collector.execution(sql, Some(micros), &entry.detail, &meta(), pre)
        }
        Message::Fetch { sql, micros } => collector.fetch(sql, micros, &meta(), pre),
        Message::ParseOrBind { sql, micros } => collector.parse_or_bind(sql, micros, &meta(), pre),
        Message::BareDuration(micros) => collector.bare_duration(micros, &meta()),
        Message::Logged { sql } => collector.logged_statement(sql, &entry.detail, &meta()),
        Message::Plan => collector.auto_explain_plan(),
        Message::Failed { sql } => collector.failed(sql, &meta(), pre),
        Message::Other => collector.other_entry(),
    }
}

/// Normalizes the entry's statement ahead of time (on the reader thread,
/// when the aggregating thread is behind), so the collector can skip it.
pub fn prenormalize(entry: &mut LogEntry, normalizer: &mut Normalizer) {
    let (key, had_constants) = match classify(entry).fingerprinted_text(&entry.detail) {
        Some(sql) => normalizer.normalize_with_flag(sql.as_bytes()),
        None => return,
    };
    entry.normalized.clear();
    entry.normalized.extend_from_slice(key);
    entry.normalized_state = if had_constants {
        Prenormalized::WithConstants
    } else {
        Prenormalized::WithoutConstants
    };
}

/// Splits `NAME: SQL` (statement or portal name, then the text).
fn split_named(s: &str) -> Option<(&str, &str)> {
    let p = s.find(": ")?;
    Some((&s[..p], &s[p + 2..]))
}

/// Reads `12.345 ms` into microseconds; returns the rest of the text.
pub fn parse_duration(s: &str) -> Option<(u64, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut whole: u64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        whole = whole.checked_mul(10)?.checked_add(u64::from(b[i] - b'0'))?;
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut micros = whole.checked_mul(1000)?;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100;
        while i < b.len() && b[i].is_ascii_digit() {
            micros += u64::from(b[i] - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let rest = s[i..].strip_prefix(" ms")?;
    Some((micros, rest))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("12.345 ms  statement: x"),
            Some((12_345, "  statement: x"))
        );
        assert_eq!(parse_duration("0.001 ms"), Some((1, "")));
        assert_eq!(parse_duration("1500 ms"), Some((1_500_000, "")));
        assert_eq!(parse_duration("1.23456 ms"), Some((1_234, "")));
        assert_eq!(parse_duration("x ms"), None);
        assert_eq!(parse_duration("12.3 s"), None);
    }
}
