//! The analyze report: per statement, how it was run (or why not), its
//! execution-time percentiles over the runs, the plan's cost, the node the
//! planner misjudged most, the indexes it used and its findings. Plain
//! data, assembled here from runs; `commands::analyze` gathers them and
//! `render::analyze` formats them.

use crate::findings::{Finding, Severity};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct AnalyzeReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub database: String,
    /// `logs` (files) or `pg_stat_statements`.
    pub source: String,
    pub settings: AnalyzeSettings,
    pub summary: AnalyzeSummary,
    pub statements: Vec<AnalyzedStatement>,
    /// Database-wide checks; `null` with --no-health.
    pub health: Option<HealthSection>,
    pub notes: Vec<String>,
}

/// The database-wide health findings (src/findings/health/).
#[derive(Clone, Debug, Serialize)]
pub struct HealthSection {
    /// The role the checks ran as, and what it may see.
    pub role: String,
    pub superuser: bool,
    pub read_all_stats: bool,
    /// Server memory used for settings advice, and where it came from.
    pub server_memory_bytes: Option<u64>,
    pub server_memory_source: Option<String>,
    pub storage: Option<crate::findings::health::Storage>,
    pub findings: Vec<Finding>,
    /// Finding counts by severity.
    pub counts: BTreeMap<Severity, usize>,
    /// Checks run partially or skipped, and why.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AnalyzeSettings {
    pub top: usize,
    pub runs: u32,
    /// Whether the database-wide health checks ran.
    pub health: bool,
    pub allow_writes: bool,
    pub statement_timeout_ms: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AnalyzeSummary {
    pub statements: usize,
    pub analyzed: usize,
    pub explained_generically: usize,
    pub skipped: usize,
    pub timed_out: usize,
    pub failed: usize,
    /// Sessions reopened after a statement ended its own (or the server
    /// dropped it).
    pub reconnects: usize,
    pub findings: BTreeMap<Severity, usize>,
    /// With --allow-writes: sequences are not transactional, so writes
    /// that drew from one advanced it even though they were rolled back.
    pub sequences_may_have_advanced: bool,
}

/// How a statement fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// EXPLAIN ANALYZE ran (rolled back).
    Analyzed,
    /// No logged values for its `$n`: plain EXPLAIN of the generic plan,
    /// nothing executed.
    ExplainedGenerically,
    /// Not run (a write without --allow-writes, DDL, utility…).
    Skipped,
    /// statement_timeout cancelled it.
    TimedOut,
    /// The server refused or failed it.
    Failed,
}

#[derive(Clone, Debug, Serialize)]
pub struct AnalyzedStatement {
    pub rank: usize,
    pub fingerprint: String,
    pub query: String,
    pub calls: u64,
    pub total_ms: Option<f64>,
    pub status: Status,
    /// Why it was skipped or failed, or what was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub runs: usize,
    pub execution_ms: Option<Percentiles>,
    pub planning_ms: Option<f64>,
    pub plan_cost: Option<f64>,
    /// The node whose row estimate was furthest off (loops included).
    pub worst_estimate: Option<WorstEstimate>,
    pub indexes_used: Vec<String>,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub min: f64,
    pub max: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorstEstimate {
    pub node: String,
    pub estimated_rows: f64,
    pub actual_rows: f64,
    /// max(actual/estimated, estimated/actual).
    pub factor: f64,
}

/// p50/p95/p99 of execution times (milliseconds) through an HDR histogram
/// (microsecond resolution, three significant digits).
pub fn percentiles(times_ms: &[f64]) -> Option<Percentiles> {
    if times_ms.is_empty() {
        return None;
    }
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).ok()?;
    for t in times_ms {
        h.saturating_record(((t * 1000.0).round() as u64).max(1));
    }
    let min = times_ms.iter().copied().fold(f64::INFINITY, f64::min);
    let max = times_ms.iter().copied().fold(0.0, f64::max);
    // The histogram reports a bucket's upper edge: never above the maximum.
    let at = |q: f64| (h.value_at_quantile(q) as f64 / 1000.0).min(max);
    Some(Percentiles {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        min,
        max,
    })
}

/// Whether `--fail-on` trips: a plan or a health finding at or above the
/// severity.
pub fn gate_tripped(report: &AnalyzeReport, at_least: Severity) -> bool {
    report
        .statements
        .iter()
        .flat_map(|s| &s.findings)
        .chain(report.health.iter().flat_map(|h| &h.findings))
        .any(|f| f.severity >= at_least)
}

#[cfg(test)]
mod tests {
    use super::percentiles;

    #[test]
    fn percentiles_of_runs() {
        let p = percentiles(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
        assert!((p.p50 - 3.0).abs() < 0.01, "{p:?}");
        assert!((p.p99 - 100.0).abs() < 0.1, "{p:?}");
        assert_eq!(p.min, 1.0);
        assert_eq!(p.max, 100.0);
        assert!(percentiles(&[]).is_none());
    }
}
