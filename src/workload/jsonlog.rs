//! jsonlog (PostgreSQL 15+): one JSON object per line; absent fields are
//! simply missing; newlines are escaped.

use super::prefix::Severity;
use super::sink::EntrySink;
use super::source::LineReader;
use super::warnings::{Location, WarningReason};
use serde::Deserialize;
use std::borrow::Cow;
use std::io::{self, Read};

#[derive(Deserialize)]
struct JsonLogLine<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dbname: Option<Cow<'a, str>>,
    #[serde(default)]
    pid: Option<u32>,
    #[serde(borrow, default)]
    error_severity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    detail: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    statement: Option<Cow<'a, str>>,
}

fn set(target: &mut String, value: Option<Cow<'_, str>>) {
    if let Some(v) = value {
        target.push_str(&v);
    }
}

/// Reads a whole jsonlog into the sink.
pub fn read_jsonlog<R: Read>(
    reader: &mut LineReader<R>,
    input: u32,
    sink: &mut impl EntrySink,
) -> io::Result<()> {
    let mut truncated_at = None;
    while let Some((raw, line_no)) = reader.next_line()? {
        let location = Location {
            input,
            line: line_no,
        };
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let owned;
        let text: &[u8] = match simdutf8::basic::from_utf8(raw) {
            Ok(_) => raw,
            Err(_) => {
                sink.warn(WarningReason::InvalidUtf8, location.clone(), None);
                owned = String::from_utf8_lossy(raw).into_owned();
                owned.as_bytes()
            }
        };
        let parsed: JsonLogLine<'_> = match serde_json::from_slice(text) {
            Ok(p) => p,
            Err(e) => {
                if e.is_eof() {
                    // Possibly the cut last line; decided once the input ends.
                    if let Some((earlier, message)) =
                        truncated_at.replace((location, e.to_string()))
                    {
                        sink.warn(WarningReason::MalformedRecord, earlier, Some(message));
                    }
                } else {
                    sink.warn(
                        WarningReason::MalformedRecord,
                        location,
                        Some(e.to_string()),
                    );
                }
                continue;
            }
        };
        let severity_text = parsed.error_severity.as_deref().unwrap_or("");
        let Some(severity) = Severity::from_word(severity_text.as_bytes()) else {
            sink.warn(
                WarningReason::NonEnglishMessages,
                location,
                Some(severity_text.to_string()),
            );
            continue;
        };
        let entry = sink.slot();
        entry.clear();
        entry.location = location;
        entry.severity = severity;
        entry.pid = parsed.pid;
        set(&mut entry.time, parsed.timestamp);
        set(&mut entry.user, parsed.user);
        set(&mut entry.database, parsed.dbname);
        set(&mut entry.message, parsed.message);
        set(&mut entry.detail, parsed.detail);
        set(&mut entry.statement, parsed.statement);
        sink.commit();
    }
    if let Some((location, message)) = truncated_at {
        let reason = if reader.unterminated_last_line && location.line == reader.line_no {
            WarningReason::TruncatedLastLine
        } else {
            WarningReason::MalformedRecord
        };
        sink.warn(reason, location, Some(message));
    }
    Ok(())
}
