//! stderr logs: lines that start with the log_line_prefix and a severity,
//! TAB-indented continuation lines, and secondary lines (DETAIL, STATEMENT,
//! …) that belong to the entry before them.

use super::prefix::{
    LineMatch, LinePrefix, MatchedLine, PrefixFields, Severity, SeverityAt, severity_at,
};
use super::sink::EntrySink;
use super::source::LineReader;
use super::warnings::{Location, WarningReason};
use std::borrow::Cow;
use std::io::{self, Read};

/// How entry lines are recognised.
#[derive(Clone, Debug)]
pub enum LineMode {
    /// A known log_line_prefix.
    Prefix(LinePrefix),
    /// No prefix fits: an entry is any line with a severity after a space;
    /// there is no pid, user or database.
    SeverityOnly,
}

impl LineMode {
    pub fn match_line(&self, line: &[u8]) -> LineMatch {
        match self {
            Self::Prefix(p) => p.match_line(line),
            Self::SeverityOnly => match_severity_anywhere(line),
        }
    }
}

/// Finds `SEVERITY:  ` anywhere in the first part of a line.
fn match_severity_anywhere(line: &[u8]) -> LineMatch {
    let window = &line[..line.len().min(400)];
    let mut foreign = false;
    for p in memchr::memmem::find_iter(window, b":  ") {
        // Start of the word before the colon.
        let mut s = p;
        while s > 0 && line[s - 1].is_ascii_alphanumeric() {
            s -= 1;
        }
        if s > 0 && !matches!(line[s - 1], b' ' | b':' | b']' | b'\t') {
            continue;
        }
        match severity_at(line, s) {
            SeverityAt::Known(severity, message_start) => {
                return LineMatch::Entry(MatchedLine {
                    fields: PrefixFields::default(),
                    severity,
                    message_start,
                });
            }
            SeverityAt::Foreign => foreign = true,
            SeverityAt::None => {}
        }
    }
    if foreign {
        LineMatch::Foreign
    } else {
        LineMatch::NoMatch
    }
}

/// Which field continuation lines extend.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Message,
    Detail,
    Statement,
    Ignored,
}

/// Reads a whole stderr log into the sink.
pub fn read_stderr<R: Read>(
    reader: &mut LineReader<R>,
    mode: &LineMode,
    input: u32,
    sink: &mut impl EntrySink,
) -> io::Result<()> {
    // The entry being assembled lives in the sink (no copy on hand-over).
    let mut have_entry = false;
    let mut target = Target::Message;
    while let Some((raw, line_no)) = reader.next_line()? {
        let line: Cow<'_, str> = match simdutf8::basic::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                sink.warn(
                    WarningReason::InvalidUtf8,
                    Location {
                        input,
                        line: line_no,
                    },
                    None,
                );
                String::from_utf8_lossy(raw)
            }
        };
        if let Some(rest) = line.strip_prefix('\t') {
            if have_entry {
                let entry = sink.slot();
                let field = match target {
                    Target::Message => &mut entry.message,
                    Target::Detail => &mut entry.detail,
                    Target::Statement => &mut entry.statement,
                    Target::Ignored => continue,
                };
                field.push('\n');
                field.push_str(rest);
            } else {
                sink.warn(
                    WarningReason::UnrecognizedLine,
                    Location {
                        input,
                        line: line_no,
                    },
                    None,
                );
            }
            continue;
        }
        let m = match mode.match_line(line.as_bytes()) {
            LineMatch::Entry(m) => m,
            other => {
                let reason = if matches!(other, LineMatch::Foreign) {
                    WarningReason::NonEnglishMessages
                } else {
                    WarningReason::UnrecognizedLine
                };
                sink.warn(
                    reason,
                    Location {
                        input,
                        line: line_no,
                    },
                    None,
                );
                continue;
            }
        };
        let text = line.get(m.message_start..).unwrap_or("");
        if m.severity.is_secondary() {
            let same_process = m.fields.pid.is_none() || m.fields.pid == sink.slot().pid;
            if have_entry && same_process {
                let entry = sink.slot();
                target = match m.severity {
                    Severity::Detail => {
                        entry.detail.clear();
                        entry.detail.push_str(text);
                        Target::Detail
                    }
                    Severity::Statement => {
                        entry.statement.clear();
                        entry.statement.push_str(text);
                        Target::Statement
                    }
                    _ => Target::Ignored,
                };
            } else {
                sink.other_entry();
                target = Target::Ignored;
            }
            continue;
        }
        if have_entry {
            sink.commit();
        }
        let entry = sink.slot();
        entry.clear();
        entry.location = Location {
            input,
            line: line_no,
        };
        let f = &m.fields;
        if let Some(r) = &f.time {
            entry.time.push_str(line.get(r.clone()).unwrap_or(""));
        }
        if let Some(r) = &f.user {
            entry.user.push_str(line.get(r.clone()).unwrap_or(""));
        }
        if let Some(r) = &f.database {
            entry.database.push_str(line.get(r.clone()).unwrap_or(""));
        }
        entry.pid = f.pid;
        entry.severity = m.severity;
        entry.message.push_str(text);
        have_entry = true;
        target = Target::Message;
    }
    if have_entry {
        sink.commit();
    }
    if reader.unterminated_last_line {
        sink.warn(
            WarningReason::TruncatedLastLine,
            Location {
                input,
                line: reader.line_no,
            },
            None,
        );
    }
    Ok(())
}
