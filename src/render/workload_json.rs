//! The `workload --format json` document (schema_version 1, described in
//! docs/json.md). These structs are the contract: rename nothing.

use crate::workload::Workload;
use crate::workload::fingerprint::{FingerprintId, StatementKind};
use crate::workload::model::{InputSummary, Sample};
use crate::workload::rank::SortKey;
use crate::workload::timestamp::LogTime;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct WorkloadDocument<'a> {
    pub schema_version: u32,
    pub command: &'static str,
    pub summary: Summary<'a>,
    pub notes: &'a [String],
    pub warnings: Vec<WarningEntry>,
    pub fingerprints: FingerprintList<'a>,
}

/// The ranked fingerprints, built one at a time as they are written, so a
/// workload of 100,000 fingerprints is not held twice.
pub struct FingerprintList<'a> {
    workload: &'a Workload,
    order: &'a [usize],
    total_us: u64,
}

impl<'a> FingerprintList<'a> {
    pub fn entries(&self) -> impl Iterator<Item = FingerprintEntry<'a>> + '_ {
        self.order
            .iter()
            .enumerate()
            .map(|(rank, &i)| FingerprintEntry::new(self.workload, i, rank + 1, self.total_us))
    }
}

impl Serialize for FingerprintList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.entries())
    }
}

#[derive(Serialize)]
pub struct Summary<'a> {
    pub inputs: &'a [InputSummary],
    pub executions: u64,
    pub fingerprints: usize,
    pub total_ms: f64,
    pub errors: u64,
    pub kinds: BTreeMap<&'static str, u64>,
    pub filtered_out: u64,
    pub other_entries: u64,
    pub auto_explain_plans: u64,
    pub first_seen: Option<LogTime>,
    pub last_seen: Option<LogTime>,
    pub sort: SortKey,
    pub shown: usize,
}

#[derive(Serialize)]
pub struct WarningEntry {
    pub reason: crate::workload::warnings::WarningReason,
    pub description: &'static str,
    pub count: u64,
    pub locations: Vec<WarningLocation>,
}

#[derive(Serialize)]
pub struct WarningLocation {
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Serialize)]
pub struct FingerprintEntry<'a> {
    pub rank: usize,
    pub id: FingerprintId,
    pub query: &'a str,
    pub kind: StatementKind,
    pub calls: u64,
    pub timed_calls: u64,
    pub errors: u64,
    pub total_ms: f64,
    /// Share of the total time of all fingerprints (0..1).
    pub share: f64,
    pub mean_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub parse_bind_ms: f64,
    pub databases: Vec<String>,
    pub users: Vec<String>,
    pub first_seen: Option<LogTime>,
    pub last_seen: Option<LogTime>,
    pub parse_error: Option<&'a str>,
    pub samples: Vec<SampleEntry<'a>>,
}

/// A sample as shown: the stored sample plus where it came from.
#[derive(Serialize)]
pub struct SampleEntry<'a> {
    #[serde(flatten)]
    pub sample: &'a Sample,
    /// `path:line` of the log entry.
    pub source: String,
}

impl<'a> FingerprintEntry<'a> {
    fn new(workload: &'a Workload, i: usize, rank: usize, total_us: u64) -> Self {
        let fp = &workload.fingerprints[i];
        FingerprintEntry {
            rank,
            id: fp.id,
            query: &fp.text,
            kind: fp.kind,
            calls: fp.calls,
            timed_calls: fp.timed_calls,
            errors: fp.errors,
            total_ms: ms(fp.total_ms()),
            share: if total_us > 0 {
                (fp.total_us as f64 / total_us as f64 * 1e4).round() / 1e4
            } else {
                0.0
            },
            mean_ms: fp.mean_ms().map(ms),
            min_ms: fp.min_ms().map(ms),
            max_ms: fp.max_ms().map(ms),
            p50_ms: fp.percentile_ms(0.50).map(ms),
            p95_ms: fp.percentile_ms(0.95).map(ms),
            p99_ms: fp.percentile_ms(0.99).map(ms),
            parse_bind_ms: ms(fp.parse_bind_us as f64 / 1000.0),
            databases: fp.databases.sorted(),
            users: fp.users.sorted(),
            first_seen: fp.first_seen,
            last_seen: fp.last_seen,
            parse_error: fp.parse_error.as_deref(),
            samples: fp
                .samples
                .iter()
                .map(|sample| SampleEntry {
                    sample,
                    source: workload.locate(&sample.location),
                })
                .collect(),
        }
    }
}

/// Rounds to microseconds, which is what the logs carry.
pub fn ms(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

impl<'a> WorkloadDocument<'a> {
    pub fn build(workload: &'a Workload, order: &'a [usize], sort: SortKey) -> Self {
        let total_us = workload.total_us();
        let kinds = StatementKind::ALL
            .iter()
            .map(|k| (k.as_str(), workload.kinds.get(*k)))
            .collect();
        let warnings = workload
            .warnings
            .by_reason
            .iter()
            .map(|(reason, tally)| WarningEntry {
                reason: *reason,
                description: reason.describe(),
                count: tally.count,
                locations: tally
                    .locations
                    .iter()
                    .map(|(loc, detail)| WarningLocation {
                        at: workload.locate(loc),
                        detail: detail.clone(),
                    })
                    .collect(),
            })
            .collect();
        let fingerprints = FingerprintList {
            workload,
            order,
            total_us,
        };
        Self {
            schema_version: SCHEMA_VERSION,
            command: "workload",
            summary: Summary {
                inputs: &workload.inputs,
                executions: workload.executions,
                fingerprints: workload.fingerprints.len(),
                total_ms: ms(total_us as f64 / 1000.0),
                errors: workload.errors,
                kinds,
                filtered_out: workload.filtered_out,
                other_entries: workload.other_entries,
                auto_explain_plans: workload.auto_explain_plans,
                first_seen: workload.first_seen,
                last_seen: workload.last_seen,
                sort,
                shown: order.len(),
            },
            notes: &workload.notes,
            warnings,
            fingerprints,
        }
    }
}

pub fn write_workload_json(
    out: &mut impl Write,
    workload: &Workload,
    order: &[usize],
    sort: SortKey,
) -> std::io::Result<()> {
    let doc = WorkloadDocument::build(workload, order, sort);
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
