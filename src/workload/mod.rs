//! Workload ingestion: logs (stderr, csvlog, jsonlog, any of them gzipped),
//! SQL files and stdin, read in one streaming pass into per-fingerprint
//! statistics. Pure: no printing, no database.

pub mod collector;
pub mod csvlog;
pub mod detect;
pub mod entry;
pub mod fingerprint;
pub mod jsonlog;
pub mod latency;
pub mod lexis;
pub mod model;
pub mod normalize;
pub mod params;
pub mod parse_check;
pub mod pgss;
pub mod pipeline;
pub mod prefix;
pub mod rank;
pub mod severity;
pub mod sink;
pub mod source;
pub mod sqlfile;
pub mod stderr;
pub mod timestamp;
pub mod warnings;

use anyhow::{Context, Result};
pub use collector::CollectOptions;
use collector::Collector;
pub use model::Workload;
use model::{InputSummary, LogFormat};
use prefix::LinePrefix;
use source::{LineReader, open_input};
use std::io::Read;
use stderr::LineMode;

/// How inputs are to be read.
#[derive(Clone, Debug, Default)]
pub struct IngestOptions {
    /// Force a format instead of detecting it per input.
    pub format: Option<LogFormat>,
    /// The server's log_line_prefix, when known.
    pub log_line_prefix: Option<String>,
    pub collect: CollectOptions,
}

/// Receives progress while inputs are read (the command shows a bar; tests
/// pass nothing).
pub trait Progress: Sync {
    fn start_input(&self, path: &str, size: Option<u64>);
    fn advance(&self, bytes: u64);
}

/// Reads every input into one workload. An input that cannot be opened or
/// read is an error naming it; bad content inside an input is counted in the
/// workload's warnings instead.
pub fn ingest(
    paths: &[String],
    options: &IngestOptions,
    progress: Option<&dyn Progress>,
) -> Result<Workload> {
    let prefix = options
        .log_line_prefix
        .as_deref()
        .map(LinePrefix::compile)
        .transpose()?;
    let mut collector = Collector::new(options.collect.clone());
    for (index, path) in paths.iter().enumerate() {
        let summary = ingest_one(
            path,
            index as u32,
            options,
            prefix.as_ref(),
            &mut collector,
            progress,
        )
        .with_context(|| format!("reading {path}"))?;
        collector.workload_mut().inputs.push(summary);
    }
    let mut workload = collector.finish();
    add_notes(&mut workload);
    Ok(workload)
}

fn ingest_one(
    path: &str,
    index: u32,
    options: &IngestOptions,
    prefix: Option<&LinePrefix>,
    collector: &mut Collector,
    progress: Option<&dyn Progress>,
) -> Result<InputSummary> {
    let size = if path == "-" {
        None
    } else {
        std::fs::metadata(path).ok().map(|m| m.len())
    };
    let opened = open_input(path)?;
    let compressed = opened.compressed;
    if let Some(p) = progress {
        // Decompressed bytes cannot be compared with the file size.
        p.start_input(path, if compressed { None } else { size });
    }
    let detected = detect::detect(&opened.head, path, options.format, prefix);
    let reader = ProgressReader {
        inner: opened.into_reader(),
        progress,
        pending: 0,
    };
    let mut summary = InputSummary {
        path: path.to_string(),
        format: detected.format,
        compressed,
        bytes: 0,
        lines: 0,
        log_line_prefix: None,
    };
    let mode = detected.mode.unwrap_or(LineMode::SeverityOnly);
    if let (LogFormat::Stderr, LineMode::Prefix(p)) = (detected.format, &mode) {
        summary.log_line_prefix = Some(p.as_str().to_string());
    }
    let format = detected.format;
    let (bytes, lines) =
        pipeline::run_pipelined(collector, move |sink| -> std::io::Result<(u64, u64)> {
            if format == LogFormat::Csv {
                return csvlog::read_csvlog(reader, index, sink);
            }
            let mut lines = LineReader::new(reader);
            match format {
                LogFormat::Stderr => stderr::read_stderr(&mut lines, &mode, index, sink)?,
                LogFormat::Json => jsonlog::read_jsonlog(&mut lines, index, sink)?,
                _ => sqlfile::read_sql(&mut lines, index, sink)?,
            }
            Ok((lines.bytes, lines.line_no))
        })?;
    summary.bytes = bytes;
    summary.lines = lines;
    Ok(summary)
}

/// Passes byte counts to the progress sink in coarse steps.
struct ProgressReader<'a, R> {
    inner: R,
    progress: Option<&'a dyn Progress>,
    pending: u64,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            self.pending += n as u64;
            if self.pending >= 1 << 20 || n == 0 {
                p.advance(self.pending);
                self.pending = 0;
            }
        }
        Ok(n)
    }
}

/// Notes that help a user read the numbers.
fn add_notes(workload: &mut Workload) {
    let notes: Vec<String> = workload
        .inputs
        .iter()
        .filter(|i| i.format == LogFormat::Stderr && i.log_line_prefix.is_none())
        .map(|i| {
            format!(
                "{}: no known log_line_prefix fits; entries were found by their severity, without pid, user or database (pass --log-line-prefix)",
                i.path
            )
        })
        .collect();
    workload.notes.extend(notes);
    if workload.executions == 0 && workload.errors == 0 && workload.other_entries > 0 {
        workload.notes.push(
            "log entries were found but no statements: set log_min_duration_statement = 0 (or log_statement = 'all') to log them".to_string(),
        );
    }
}

#[cfg(test)]
mod robustness {
    //! Random input through every byte-level reader (and the shape
    //! analyzer): nothing may panic.

    use super::normalize::Normalizer;
    use super::params::{parse_execute_arguments, parse_parameters_detail, prepared_body};
    use super::prefix::{KNOWN_PREFIXES, LinePrefix};
    use super::sqlfile::StatementSplitter;
    use super::timestamp::LogTime;

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Bytes biased towards what makes SQL and log lines interesting.
    const ALPHABET: &[u8] = b"'\"$$()[],;:.-+*/<>=!@#%^&|?`\\ \t\n0123456789eExXbBuU&_selectINfromwhereVALUESarray LOG:  DETAIL: parameters: [1] @ %\xc3\xa9\xff";

    fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
        let len = (rng.next() % max as u64) as usize;
        (0..len)
            .map(|_| {
                let r = rng.next();
                if r.is_multiple_of(7) {
                    (r >> 8) as u8
                } else {
                    ALPHABET[(r >> 8) as usize % ALPHABET.len()]
                }
            })
            .collect()
    }

    #[test]
    fn random_input_never_panics() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut normalizer = Normalizer::new();
        let catalog = crate::catalog::schema_file::load_schema_text(
            "CREATE TABLE t (id int PRIMARY KEY, a text, b jsonb); CREATE VIEW v AS SELECT id, lower(a) AS la FROM t;",
            "test",
        );
        let prefixes: Vec<LinePrefix> = KNOWN_PREFIXES
            .iter()
            .chain(["%m|%c|%l|%u|%d|%a|%e| ", "%n %-8u|%q%d:"].iter())
            .map(|p| LinePrefix::compile(p).unwrap())
            .collect();
        let rounds: usize = std::env::var("PGADVISOR_FUZZ_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        for _ in 0..rounds {
            let bytes = random_bytes(&mut rng, 160);
            let key = normalizer.normalize(&bytes).to_vec();
            let _ = super::normalize::render(&key);
            let _ = super::fingerprint::StatementKind::classify(&key);
            for p in &prefixes {
                let _ = p.match_line(&bytes);
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_parameters_detail(&text);
            let _ = parse_parameters_detail(&format!("parameters: {text}"));
            let _ = parse_execute_arguments(&text);
            let _ = prepared_body(&text);
            let _ = LogTime::parse(&text);
            let _ = super::entry::parse_duration(&text);
            let mut splitter = StatementSplitter::default();
            for (i, line) in text.split('\n').enumerate() {
                let _ = splitter.feed_line(line, i as u64);
            }
            let _ = splitter.finish();
            let _ = LinePrefix::compile(&text);
            let _ = crate::shape::analyze_sql(&text, &catalog, &[]);
        }
    }
}
