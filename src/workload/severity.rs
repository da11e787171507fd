//! Severities of log entries (`LOG`, `ERROR`, `DETAIL`, …) and reading
//! `SEVERITY:  [SQLSTATE: ]message` where a line prefix ends.

/// Message severities, including the secondary lines that belong to the
/// primary entry before them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Debug,
    Info,
    Notice,
    Warning,
    Log,
    Error,
    Fatal,
    Panic,
    Detail,
    Hint,
    Query,
    Context,
    Statement,
    Location,
}

impl Severity {
    pub fn from_word(w: &[u8]) -> Option<Self> {
        Some(match w {
            b"LOG" => Self::Log,
            b"ERROR" => Self::Error,
            b"DETAIL" => Self::Detail,
            b"STATEMENT" => Self::Statement,
            b"FATAL" => Self::Fatal,
            b"PANIC" => Self::Panic,
            b"WARNING" => Self::Warning,
            b"NOTICE" => Self::Notice,
            b"INFO" => Self::Info,
            b"HINT" => Self::Hint,
            b"QUERY" => Self::Query,
            b"CONTEXT" => Self::Context,
            b"LOCATION" => Self::Location,
            b"DEBUG" | b"DEBUG1" | b"DEBUG2" | b"DEBUG3" | b"DEBUG4" | b"DEBUG5" => Self::Debug,
            _ => return None,
        })
    }

    /// Secondary lines (DETAIL, HINT, …) continue the entry before them.
    pub fn is_secondary(self) -> bool {
        matches!(
            self,
            Self::Detail
                | Self::Hint
                | Self::Query
                | Self::Context
                | Self::Statement
                | Self::Location
        )
    }

    pub fn is_error(self) -> bool {
        matches!(self, Self::Error | Self::Fatal | Self::Panic)
    }
}

/// Result of reading the severity at some offset.
pub enum SeverityAt {
    Known(Severity, usize),
    /// Looks like `WORD:  ` but the word is not an English severity.
    Foreign,
    None,
}

/// Reads `SEVERITY:  [SQLSTATE: ]` at `pos`; returns the severity and the
/// offset of the message.
pub fn severity_at(line: &[u8], pos: usize) -> SeverityAt {
    let rest = &line[pos.min(line.len())..];
    let Some(colon) = memchr::memchr(b':', &rest[..rest.len().min(24)]) else {
        return SeverityAt::None;
    };
    if rest.get(colon + 1) != Some(&b' ') || rest.get(colon + 2) != Some(&b' ') || colon == 0 {
        return SeverityAt::None;
    }
    let word = &rest[..colon];
    let Some(severity) = Severity::from_word(word) else {
        if !word.contains(&b' ') && word.iter().all(|c| !c.is_ascii_lowercase()) {
            return SeverityAt::Foreign;
        }
        return SeverityAt::None;
    };
    let mut msg = pos + colon + 3;
    // log_error_verbosity = verbose puts the SQLSTATE first: `LOG:  00000: …`.
    if let Some(code) = line.get(msg..msg + 7)
        && code[..5]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && &code[5..] == b": "
    {
        msg += 7;
    }
    SeverityAt::Known(severity, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities() {
        assert!(matches!(
            severity_at(b"x LOG:  hi", 2),
            SeverityAt::Known(Severity::Log, 8)
        ));
        assert!(matches!(
            severity_at(b"ERROR:  23505: duplicate key", 0),
            SeverityAt::Known(Severity::Error, 15)
        ));
        assert!(matches!(severity_at(b"FEHLER:  x", 0), SeverityAt::Foreign));
        assert!(matches!(severity_at(b"note: x", 0), SeverityAt::None));
        assert!(Severity::Detail.is_secondary() && !Severity::Log.is_secondary());
        assert!(Severity::Fatal.is_error() && !Severity::Warning.is_error());
    }
}
