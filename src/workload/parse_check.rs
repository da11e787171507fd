//! Parsing each distinct normalized text once with sqlparser, after
//! ingestion, so its cost follows distinct statements rather than log size;
//! on several cores when there are many.

use super::model::{Fingerprint, Workload};
use super::warnings::{Location, WarningReason};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Normalized texts longer than this are not given to sqlparser.
const MAX_PARSE_BYTES: usize = 1 << 20;
/// Below this many fingerprints a second thread is not worth starting.
const PARALLEL_FROM: usize = 512;

type Problem = (WarningReason, Location, Option<String>);

/// Sets `parse_error` on every fingerprint sqlparser rejects and records a
/// warning for each, in fingerprint order.
pub fn check_parse(workload: &mut Workload) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = workload.fingerprints.len();
    let problems: Vec<Problem> = if threads < 2 || n < PARALLEL_FROM {
        check_slice(&mut workload.fingerprints)
    } else {
        let chunk = n.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = workload
                .fingerprints
                .chunks_mut(chunk)
                .map(|part| scope.spawn(move || check_slice(part)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    };
    for (reason, location, detail) in problems {
        workload.warnings.add(reason, location, detail);
    }
}

fn check_slice(fingerprints: &mut [Fingerprint]) -> Vec<Problem> {
    let dialect = PostgreSqlDialect {};
    let mut problems = Vec::new();
    for fp in fingerprints {
        let location = fp.first_location.clone();
        if fp.text.len() > MAX_PARSE_BYTES {
            fp.parse_error = Some(format!(
                "not parsed: {} bytes after normalization",
                fp.text.len()
            ));
            problems.push((WarningReason::OversizedStatement, location, None));
            continue;
        }
        // sqlparser reports errors as values; a panic would be its bug, and
        // must not lose the rest of the run.
        let text = fp.text.as_str();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Parser::parse_sql(&dialect, text).map_err(|e| e.to_string())
        }));
        let error = match result {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some("the SQL parser failed on this statement".to_string()),
        };
        if let Some(e) = error {
            problems.push((
                WarningReason::UnparsableStatement,
                location,
                Some(format!("{}: {e}", fp.id)),
            ));
            fp.parse_error = Some(e);
        }
    }
    problems
}
