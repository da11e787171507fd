//! `log_line_prefix`: compiled once into pieces, then matched against every
//! stderr line to find where the prefix ends and what it says (time, pid,
//! user, database, application).
//!
//! Free-text escapes (`%u`, `%d`, `%a`, …) can hold any character, so a value
//! runs to the next occurrence of the literal that follows it, and the match
//! backtracks to a later occurrence when the rest of the line does not fit.
//! The end of the prefix must be followed by a severity (`LOG:  `), which is
//! what makes the match trustworthy.

pub use super::severity::{Severity, SeverityAt, severity_at};
use std::ops::Range;

/// Well-known prefixes tried, in order, when `--log-line-prefix` is absent.
pub const KNOWN_PREFIXES: &[&str] = &[
    "%m [%p] %q%u@%d ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t:%r:%u@%d:[%p]:",
    "%m [%p] ",
    "%t [%p] ",
    "%t [%p]: [%l-1] ",
    "%m [%p]: [%l-1] ",
    "%t [%p]: [%l-1] user=%u,db=%d ",
    "%m %u@%d [%p] ",
    "%m [%p] %u@%d ",
    "%t [%p] %u@%d ",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Application,
    User,
    Database,
    RemoteHostPort,
    RemoteHost,
    BackendType,
    Pid,
    LeaderPid,
    Timestamp,
    Epoch,
    CommandTag,
    SqlState,
    SessionId,
    LineNumber,
    Vxid,
    Xid,
    QueryId,
}

impl Field {
    fn from_escape(c: u8) -> Option<Self> {
        Some(match c {
            b'a' => Self::Application,
            b'u' => Self::User,
            b'd' => Self::Database,
            b'r' => Self::RemoteHostPort,
            b'h' => Self::RemoteHost,
            b'b' => Self::BackendType,
            b'p' => Self::Pid,
            b'P' => Self::LeaderPid,
            b't' | b'm' | b's' => Self::Timestamp,
            b'n' => Self::Epoch,
            b'i' => Self::CommandTag,
            b'e' => Self::SqlState,
            b'c' => Self::SessionId,
            b'l' => Self::LineNumber,
            b'v' => Self::Vxid,
            b'x' => Self::Xid,
            b'Q' => Self::QueryId,
            _ => return None,
        })
    }

    /// Fields with a fixed grammar are read greedily; the others run to the
    /// next literal.
    fn is_free_text(self) -> bool {
        matches!(
            self,
            Self::Application
                | Self::User
                | Self::Database
                | Self::RemoteHostPort
                | Self::RemoteHost
                | Self::BackendType
                | Self::CommandTag
                | Self::SqlState
                | Self::SessionId
                | Self::Vxid
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(Vec<u8>),
    /// A field; `session_start` marks `%s` so it is not taken as the entry time.
    Field {
        field: Field,
        session_start: bool,
    },
    /// `%q`: non-session processes stop the prefix here.
    SessionOnly,
}

/// A compiled `log_line_prefix`.
#[derive(Clone, Debug)]
pub struct LinePrefix {
    text: String,
    pieces: Vec<Piece>,
}

/// What a matched prefix said, as byte ranges of the line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrefixFields {
    pub time: Option<Range<usize>>,
    pub pid: Option<u32>,
    pub user: Option<Range<usize>>,
    pub database: Option<Range<usize>>,
    pub application: Option<Range<usize>>,
    pub query_id: Option<i64>,
}

/// A line split into prefix fields, severity and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedLine {
    pub fields: PrefixFields,
    pub severity: Severity,
    /// Offset of the message (after `SEVERITY:  ` and any SQLSTATE).
    pub message_start: usize,
}

impl LinePrefix {
    /// Compiles a `log_line_prefix` setting (escapes as in postgresql.conf).
    pub fn compile(text: &str) -> anyhow::Result<Self> {
        let b = text.as_bytes();
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                literal.push(b[i]);
                i += 1;
                continue;
            }
            i += 1;
            // Padding: %-10u or %10u.
            if i < b.len() && b[i] == b'-' {
                i += 1;
            }
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let Some(&c) = b.get(i) else {
                anyhow::bail!("log_line_prefix {text:?} ends in the middle of an escape");
            };
            i += 1;
            match c {
                b'%' => literal.push(b'%'),
                b'q' => {
                    flush(&mut literal, &mut pieces);
                    pieces.push(Piece::SessionOnly);
                }
                // PostgreSQL prints nothing for unknown escapes.
                c => {
                    if let Some(field) = Field::from_escape(c) {
                        flush(&mut literal, &mut pieces);
                        if let Some(Piece::Field { field: prev, .. }) = pieces.last()
                            && prev.is_free_text()
                            && field.is_free_text()
                        {
                            anyhow::bail!(
                                "log_line_prefix {text:?}: two free-text escapes with nothing between them cannot be told apart"
                            );
                        }
                        pieces.push(Piece::Field {
                            field,
                            session_start: c == b's',
                        });
                    }
                }
            }
        }
        flush(&mut literal, &mut pieces);
        Ok(Self {
            text: text.to_string(),
            pieces,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Matches the prefix and severity at the start of `line`.
    pub fn match_line(&self, line: &[u8]) -> LineMatch {
        let mut fields = PrefixFields::default();
        let mut foreign = false;
        match self.match_from(0, line, 0, &mut fields, &mut foreign) {
            Some((severity, message_start)) => LineMatch::Entry(MatchedLine {
                fields,
                severity,
                message_start,
            }),
            None if foreign => LineMatch::Foreign,
            None => LineMatch::NoMatch,
        }
    }

    fn match_from(
        &self,
        k: usize,
        line: &[u8],
        pos: usize,
        fields: &mut PrefixFields,
        foreign: &mut bool,
    ) -> Option<(Severity, usize)> {
        let Some(piece) = self.pieces.get(k) else {
            return match severity_at(line, pos) {
                SeverityAt::Known(s, m) => Some((s, m)),
                SeverityAt::Foreign => {
                    *foreign = true;
                    None
                }
                SeverityAt::None => None,
            };
        };
        match piece {
            Piece::Literal(lit) => {
                if line[pos..].starts_with(lit) {
                    self.match_from(k + 1, line, pos + lit.len(), fields, foreign)
                } else {
                    None
                }
            }
            Piece::SessionOnly => {
                let saved = fields.clone();
                if let Some(found) = self.match_from(k + 1, line, pos, fields, foreign) {
                    return Some(found);
                }
                *fields = saved;
                // A process without a session stops the prefix at %q.
                match severity_at(line, pos) {
                    SeverityAt::Known(s, m) => Some((s, m)),
                    _ => None,
                }
            }
            Piece::Field {
                field,
                session_start,
            } => {
                if field.is_free_text() {
                    self.match_free_text(k, *field, line, pos, fields, foreign)
                } else {
                    // No snapshot needed: the pieces form a line, so any
                    // retry stores this field again (only %q branches).
                    let end = scan_fixed(*field, line, pos)?;
                    store_fixed(*field, *session_start, line, pos..end, fields);
                    self.match_from(k + 1, line, end, fields, foreign)
                }
            }
        }
    }

    fn match_free_text(
        &self,
        k: usize,
        field: Field,
        line: &[u8],
        pos: usize,
        fields: &mut PrefixFields,
        foreign: &mut bool,
    ) -> Option<(Severity, usize)> {
        // What follows the value: a literal to search for, or (at the end of
        // the prefix, or before %q) the severity.
        let next_literal = match self.pieces.get(k + 1) {
            Some(Piece::Literal(lit)) => Some(lit.as_slice()),
            _ => None,
        };
        let mut from = pos;
        // Values are short; do not scan a long message for a literal.
        let limit = line.len().min(pos + 512);
        loop {
            let end = match next_literal {
                Some(lit) => from + find_literal(&line[from..limit], lit)?,
                None => {
                    // Free text at the very end: it runs to the severity.
                    let mut p = from;
                    loop {
                        if p >= limit {
                            return None;
                        }
                        if matches!(severity_at(line, p), SeverityAt::Known(..))
                            && (p == pos || matches!(line[p - 1], b' ' | b':' | b']'))
                        {
                            break p;
                        }
                        p += 1;
                    }
                }
            };
            store_free_text(field, trim_range(line, pos..end), fields);
            if let Some(found) = self.match_from(k + 1, line, end, fields, foreign) {
                return Some(found);
            }
            // At the end of the prefix there is no later occurrence to try.
            next_literal?;
            from = end + 1;
            if from > limit {
                return None;
            }
        }
    }
}

/// Outcome of matching one line.
#[derive(Debug)]
pub enum LineMatch {
    Entry(MatchedLine),
    /// The prefix fits but the severity is not English.
    Foreign,
    NoMatch,
}

/// Finds a literal; most are one byte (`@`, ` `), where memchr is fastest.
fn find_literal(haystack: &[u8], lit: &[u8]) -> Option<usize> {
    match lit {
        [b] => memchr::memchr(*b, haystack),
        _ => memchr::memmem::find(haystack, lit),
    }
}

fn flush(literal: &mut Vec<u8>, pieces: &mut Vec<Piece>) {
    if !literal.is_empty() {
        pieces.push(Piece::Literal(std::mem::take(literal)));
    }
}

fn trim_range(line: &[u8], r: Range<usize>) -> Range<usize> {
    let mut s = r.start;
    let mut e = r.end;
    while s < e && line[s] == b' ' {
        s += 1;
    }
    while e > s && line[e - 1] == b' ' {
        e -= 1;
    }
    s..e
}

/// Length of a fixed-grammar field at `pos`, or `None` if it is not there.
fn scan_fixed(field: Field, line: &[u8], pos: usize) -> Option<usize> {
    let rest = &line[pos..];
    let digits = |from: usize| {
        let mut i = from;
        while i < rest.len() && rest[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    match field {
        Field::Pid | Field::LineNumber | Field::Xid => {
            let n = digits(0);
            (n > 0).then_some(pos + n)
        }
        // Empty for processes that are not parallel workers.
        Field::LeaderPid => Some(pos + digits(0)),
        Field::QueryId => {
            let start = usize::from(rest.first() == Some(&b'-'));
            let n = digits(start);
            (n > start).then_some(pos + n)
        }
        Field::Epoch => {
            let n = digits(0);
            if n == 0 {
                return None;
            }
            if rest.get(n) == Some(&b'.') {
                Some(pos + digits(n + 1))
            } else {
                Some(pos + n)
            }
        }
        Field::Timestamp => {
            // YYYY-MM-DD HH:MM:SS[.fff] ZONE
            if !is_datetime_shape(rest) {
                return None;
            }
            let mut i = 19;
            if rest.get(i) == Some(&b'.') {
                i = digits(i + 1);
            }
            if rest.get(i) == Some(&b' ') {
                let zone_start = i + 1;
                let mut j = zone_start;
                while j < rest.len() && !matches!(rest[j], b' ' | b']' | b':' | b',' | b'|' | b'[')
                {
                    j += 1;
                }
                // A zone may itself hold a colon: +05:30.
                if rest.get(j) == Some(&b':')
                    && matches!(rest.get(zone_start), Some(b'+' | b'-'))
                    && rest.get(j + 1).is_some_and(u8::is_ascii_digit)
                {
                    j += 3;
                }
                if j > zone_start {
                    i = j.min(rest.len());
                }
            }
            Some(pos + i)
        }
        _ => None,
    }
}

/// `YYYY-MM-DD HH:MM:SS` at the start of `b`.
fn is_datetime_shape(b: &[u8]) -> bool {
    let Some(b) = b.get(..19) else {
        return false;
    };
    b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}

fn store_fixed(
    field: Field,
    session_start: bool,
    line: &[u8],
    r: Range<usize>,
    fields: &mut PrefixFields,
) {
    match field {
        Field::Pid => fields.pid = parse_num(&line[r]).map(|v| v as u32),
        Field::Timestamp | Field::Epoch if !session_start => fields.time = Some(r),
        Field::QueryId => {
            fields.query_id = std::str::from_utf8(&line[r])
                .ok()
                .and_then(|s| s.parse().ok())
        }
        _ => {}
    }
}

fn store_free_text(field: Field, r: Range<usize>, fields: &mut PrefixFields) {
    match field {
        Field::User => fields.user = Some(r),
        Field::Database => fields.database = Some(r),
        Field::Application => fields.application = Some(r),
        _ => {}
    }
}

fn parse_num(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(
        prefix: &str,
        line: &str,
    ) -> Option<(String, Option<u32>, String, String, Severity, String)> {
        let p = LinePrefix::compile(prefix).unwrap();
        let b = line.as_bytes();
        match p.match_line(b) {
            LineMatch::Entry(m) => {
                let text = |r: &Option<Range<usize>>| {
                    r.clone()
                        .map(|r| String::from_utf8_lossy(&b[r]).into_owned())
                        .unwrap_or_default()
                };
                Some((
                    text(&m.fields.time),
                    m.fields.pid,
                    text(&m.fields.user),
                    text(&m.fields.database),
                    m.severity,
                    String::from_utf8_lossy(&b[m.message_start..]).into_owned(),
                ))
            }
            _ => None,
        }
    }

    #[test]
    fn debian_prefix() {
        let f = fields_of(
            "%m [%p] %q%u@%d ",
            "2025-03-01 10:00:00.123 UTC [4242] app@shop LOG:  duration: 1.000 ms  statement: SELECT 1",
        )
        .unwrap();
        assert_eq!(f.0, "2025-03-01 10:00:00.123 UTC");
        assert_eq!(f.1, Some(4242));
        assert_eq!(f.2, "app");
        assert_eq!(f.3, "shop");
        assert_eq!(f.4, Severity::Log);
        assert_eq!(f.5, "duration: 1.000 ms  statement: SELECT 1");
        // Background process: %q stops the prefix.
        let f = fields_of(
            "%m [%p] %q%u@%d ",
            "2025-03-01 10:00:00.123 UTC [77] LOG:  checkpoint starting: time",
        )
        .unwrap();
        assert_eq!(f.1, Some(77));
        assert_eq!(f.2, "");
        assert_eq!(f.5, "checkpoint starting: time");
    }

    #[test]
    fn names_with_separators_backtrack() {
        let f = fields_of(
            "%m [%p] %q%u@%d ",
            "2025-03-01 10:00:00.123 UTC [1] a@b@my db LOG:  statement: x",
        )
        .unwrap();
        assert_eq!((f.2.as_str(), f.3.as_str()), ("a", "b@my db"));
    }

    #[test]
    fn pgbadger_and_rds_prefixes() {
        let f = fields_of(
            "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
            "2025-03-01 10:00:00 UTC [4242]: [7-1] user=app,db=shop,app=psql,client=10.0.0.5 LOG:  duration: 0.211 ms  statement: BEGIN",
        )
        .unwrap();
        assert_eq!(
            (f.1, f.2.as_str(), f.3.as_str()),
            (Some(4242), "app", "shop")
        );
        let f = fields_of(
            "%t:%r:%u@%d:[%p]:",
            "2025-03-01 10:00:00 UTC:10.0.0.5(53120):app@shop:[4242]:LOG:  duration: 0.860 ms  statement: SELECT version();",
        )
        .unwrap();
        assert_eq!(
            (f.1, f.2.as_str(), f.3.as_str()),
            (Some(4242), "app", "shop")
        );
        assert_eq!(f.5, "duration: 0.860 ms  statement: SELECT version();");
    }

    #[test]
    fn verbose_sqlstate_and_foreign() {
        let f = fields_of(
            "%m [%p] ",
            "2025-03-01 10:00:00.1 UTC [9] LOG:  00000: duration: 2 ms",
        )
        .unwrap();
        assert_eq!(f.5, "duration: 2 ms");
        let p = LinePrefix::compile("%m [%p] ").unwrap();
        assert!(matches!(
            p.match_line("2025-03-01 10:00:00.1 UTC [9] FEHLER:  x".as_bytes()),
            LineMatch::Foreign
        ));
        assert!(matches!(p.match_line(b"garbage"), LineMatch::NoMatch));
    }

    #[test]
    fn padding_and_epoch() {
        let f = fields_of("%n %-8u|", "1740823200.123 app     |LOG:  x").unwrap();
        assert_eq!(f.0, "1740823200.123");
        assert_eq!(f.2, "app");
    }

    #[test]
    fn adjacent_free_text_is_rejected() {
        assert!(LinePrefix::compile("%u%d").is_err());
    }
}
