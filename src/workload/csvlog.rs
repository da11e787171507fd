//! csvlog: one quoted CSV record per entry (newlines stay inside quotes),
//! with DETAIL and STATEMENT in their own columns. 26 columns in
//! PostgreSQL 14–17, 24 in 13, 23 in 12 and earlier; the ones read here sit
//! at the same positions in all of them.

use super::prefix::Severity;
use super::sink::EntrySink;
use super::warnings::{Location, WarningReason};
use std::io::{self, Read};

const LOG_TIME: usize = 0;
const USER: usize = 1;
const DATABASE: usize = 2;
const PID: usize = 3;
const SEVERITY: usize = 11;
const MESSAGE: usize = 13;
const DETAIL: usize = 14;
const QUERY: usize = 19;
/// Fewer columns than this cannot be a csvlog record.
const MIN_COLUMNS: usize = 14;

/// Counts bytes and remembers the last one, to report size and a missing
/// final newline.
pub struct CountingReader<R> {
    inner: R,
    pub bytes: u64,
    pub last_byte: Option<u8>,
}

impl<R> CountingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            bytes: 0,
            last_byte: None,
        }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.bytes += n as u64;
            self.last_byte = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

/// Copies column `i` into `target`, replacing invalid UTF-8 (and noting it).
fn set_field(target: &mut String, record: &csv::ByteRecord, i: usize, bad_utf8: &mut bool) {
    let raw = record.get(i).unwrap_or_default();
    match simdutf8::basic::from_utf8(raw) {
        Ok(s) => target.push_str(s),
        Err(_) => {
            *bad_utf8 = true;
            target.push_str(&String::from_utf8_lossy(raw));
        }
    }
}

/// Reads a whole csvlog into the sink; returns (bytes, lines).
pub fn read_csvlog<R: Read>(
    reader: R,
    input: u32,
    sink: &mut impl EntrySink,
) -> io::Result<(u64, u64)> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(CountingReader::new(reader));
    let mut record = csv::ByteRecord::new();
    let mut line = 1u64;
    loop {
        let start_line = line;
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    return Err(io::Error::other(e.to_string()));
                }
                sink.warn(
                    WarningReason::MalformedRecord,
                    Location {
                        input,
                        line: start_line,
                    },
                    Some(e.to_string()),
                );
                line = csv.position().line() + 1;
                continue;
            }
        }
        line = csv.position().line();
        let location = Location {
            input,
            line: record.position().map_or(start_line, |p| p.line()),
        };
        if record.len() < MIN_COLUMNS {
            sink.warn(
                WarningReason::MalformedRecord,
                location,
                Some(format!("{} columns", record.len())),
            );
            continue;
        }
        let Some(severity) = Severity::from_word(record.get(SEVERITY).unwrap_or_default()) else {
            let text =
                String::from_utf8_lossy(record.get(SEVERITY).unwrap_or_default()).into_owned();
            sink.warn(WarningReason::NonEnglishMessages, location, Some(text));
            continue;
        };
        let entry = sink.slot();
        entry.clear();
        let mut bad_utf8 = false;
        set_field(&mut entry.time, &record, LOG_TIME, &mut bad_utf8);
        set_field(&mut entry.user, &record, USER, &mut bad_utf8);
        set_field(&mut entry.database, &record, DATABASE, &mut bad_utf8);
        set_field(&mut entry.message, &record, MESSAGE, &mut bad_utf8);
        set_field(&mut entry.detail, &record, DETAIL, &mut bad_utf8);
        set_field(&mut entry.statement, &record, QUERY, &mut bad_utf8);
        entry.pid = std::str::from_utf8(record.get(PID).unwrap_or_default())
            .ok()
            .and_then(|p| p.parse().ok());
        entry.severity = severity;
        entry.location = location.clone();
        if bad_utf8 {
            sink.warn(WarningReason::InvalidUtf8, location, None);
        }
        sink.commit();
    }
    let counting = csv.into_inner();
    if counting.last_byte.is_some_and(|b| b != b'\n') {
        sink.warn(
            WarningReason::TruncatedLastLine,
            Location { input, line },
            None,
        );
    }
    Ok((counting.bytes, line))
}
