//! Bad input is never fatal: each problem is counted by reason, and the first
//! few places it happened are kept so a user can go and look.

use serde::Serialize;
use std::collections::BTreeMap;

/// How many locations are kept per reason; the rest are only counted.
pub const LOCATIONS_KEPT: usize = 5;

/// Why a piece of input was skipped or only partly used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningReason {
    /// A line that is neither a log entry for the prefix in use nor a
    /// continuation line.
    UnrecognizedLine,
    /// Bytes that are not UTF-8; the text was kept with U+FFFD in their place.
    InvalidUtf8,
    /// The input ended in the middle of a line or a quoted field.
    TruncatedLastLine,
    /// A CSV or JSON log record that could not be decoded.
    MalformedRecord,
    /// A statement sqlparser could not parse (it is still counted).
    UnparsableStatement,
    /// A statement too large to parse (still counted, not parsed).
    OversizedStatement,
    /// A `duration:` line with no statement to attach it to.
    DurationWithoutStatement,
    /// A `DETAIL: parameters:` line that could not be read.
    MalformedParameters,
    /// A log entry severity that is not English: messages cannot be read.
    NonEnglishMessages,
    /// A psql meta-command (`\timing`) in a SQL file, skipped.
    PsqlMetaCommand,
}

impl WarningReason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::UnrecognizedLine => "lines that are not log entries",
            Self::InvalidUtf8 => "lines with invalid UTF-8 (kept with replacement characters)",
            Self::TruncatedLastLine => "input ending in the middle of a line",
            Self::MalformedRecord => "csv/json records that could not be decoded",
            Self::UnparsableStatement => "statements sqlparser cannot parse (still counted)",
            Self::OversizedStatement => "statements too large to parse (still counted)",
            Self::DurationWithoutStatement => "duration lines with no statement to attach to",
            Self::MalformedParameters => "parameter lists that could not be read",
            Self::NonEnglishMessages => "entries with a non-English severity",
            Self::PsqlMetaCommand => "psql meta-commands skipped in SQL files",
        }
    }
}

/// A place in the input: file (as given on the command line) and 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub input: u32,
    pub line: u64,
}

/// One reason's tally.
#[derive(Clone, Debug, Default)]
pub struct WarningTally {
    pub count: u64,
    /// Up to [`LOCATIONS_KEPT`] locations, each with an optional detail
    /// (such as the parser's message).
    pub locations: Vec<(Location, Option<String>)>,
}

#[derive(Clone, Debug, Default)]
pub struct Warnings {
    pub by_reason: BTreeMap<WarningReason, WarningTally>,
}

impl Warnings {
    pub fn add(&mut self, reason: WarningReason, location: Location, detail: Option<String>) {
        let tally = self.by_reason.entry(reason).or_default();
        tally.count += 1;
        if tally.locations.len() < LOCATIONS_KEPT {
            tally.locations.push((location, detail));
        }
    }

    pub fn total(&self) -> u64 {
        self.by_reason.values().map(|t| t.count).sum()
    }
}
