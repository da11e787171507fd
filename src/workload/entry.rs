//! One log entry, whatever the format it came from, and what its message
//! means for the workload (`duration: … statement: …`, `execute …`, errors).

use super::collector::{Collector, EntryMeta, Params};
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

/// Reads what an entry means and tells the collector.
pub fn interpret(entry: &LogEntry, collector: &mut Collector) {
    if entry.severity.is_error() {
        if entry.statement.is_empty() {
            collector.other_entry();
        } else {
            collector.failed(&entry.statement, &entry.meta());
        }
        return;
    }
    if entry.severity != Severity::Log {
        collector.other_entry();
        return;
    }
    let msg = entry.message.as_str();
    if let Some(rest) = msg.strip_prefix("duration: ") {
        let Some((micros, after)) = parse_duration(rest) else {
            collector.other_entry();
            return;
        };
        if after.trim().is_empty() {
            collector.bare_duration(micros, &entry.meta());
            return;
        }
        let Some(what) = after.strip_prefix("  ") else {
            collector.other_entry();
            return;
        };
        if let Some(sql) = what.strip_prefix("statement: ") {
            collector.execution(sql, Some(micros), detail_params(entry), &entry.meta());
        } else if let Some(step) = what.strip_prefix("execute ") {
            match split_named(step) {
                Some((name, sql)) if name.starts_with("fetch from ") => {
                    collector.fetch(sql, micros, &entry.meta())
                }
                Some((_, sql)) => {
                    collector.execution(sql, Some(micros), detail_params(entry), &entry.meta())
                }
                None => collector.other_entry(),
            }
        } else if let Some(step) = what
            .strip_prefix("parse ")
            .or_else(|| what.strip_prefix("bind "))
        {
            match split_named(step) {
                Some((_, sql)) => collector.parse_or_bind(sql, micros, &entry.meta()),
                None => collector.other_entry(),
            }
        } else if what.starts_with("plan:") {
            collector.auto_explain_plan();
        } else {
            collector.other_entry();
        }
    } else if let Some(sql) = msg.strip_prefix("statement: ") {
        collector.logged_statement(sql, &entry.detail, &entry.meta());
    } else if let Some(step) = msg.strip_prefix("execute ") {
        match split_named(step) {
            Some((name, _)) if name.starts_with("fetch from ") => collector.other_entry(),
            Some((_, sql)) => collector.logged_statement(sql, &entry.detail, &entry.meta()),
            None => collector.other_entry(),
        }
    } else {
        collector.other_entry();
    }
}

fn detail_params(entry: &LogEntry) -> Params<'_> {
    if entry.detail.is_empty() {
        Params::None
    } else {
        Params::Detail(&entry.detail)
    }
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
