//! The workload's statements that an index can speed up, each with its
//! shape and the ways it can be planned: a logged sample with its real
//! parameters, a sample with literals inline, or the normalized text as a
//! generic plan. Also the write volume per table, which indexes slow down.

use crate::catalog::{Catalog, QualifiedName};
use crate::shape::{AccessKind, StatementShape, analyze_sql};
use crate::workload::Workload;
use crate::workload::fingerprint::{FingerprintId, StatementKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One way to plan a statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum PlanVariant {
    /// The statement as logged with literals inline: plain EXPLAIN.
    Literal { statement: String },
    /// A logged statement with `$n` and the values it ran with: a custom
    /// plan for those values.
    Bound {
        statement: String,
        parameters: Vec<Option<String>>,
    },
    /// The normalized text planned for any parameter values.
    Generic { statement: String },
}

impl PlanVariant {
    pub fn statement(&self) -> &str {
        match self {
            Self::Literal { statement }
            | Self::Bound { statement, .. }
            | Self::Generic { statement } => statement,
        }
    }

    pub fn mode(&self) -> &'static str {
        match self {
            Self::Literal { .. } => "literal",
            Self::Bound { .. } => "bound",
            Self::Generic { .. } => "generic",
        }
    }
}

/// A workload statement pgadvisor will cost.
#[derive(Clone, Debug)]
pub struct WorkloadQuery {
    pub fingerprint: FingerprintId,
    pub text: String,
    pub kind: StatementKind,
    pub calls: u64,
    pub total_ms: f64,
    pub mean_ms: Option<f64>,
    pub shape: StatementShape,
    /// Samples first (the slowest first), the generic plan last when the
    /// text has parameters. The first one is what selection costs.
    pub variants: Vec<PlanVariant>,
}

impl WorkloadQuery {
    /// Tables the statement touches that can carry an index.
    pub fn indexable_tables<'a>(
        &'a self,
        catalog: &'a Catalog,
    ) -> impl Iterator<Item = &'a QualifiedName> + 'a {
        self.shape
            .tables
            .iter()
            .filter(|a| a.known && !a.system)
            .filter(move |a| catalog.get(&a.table).is_some_and(|r| r.kind.indexable()))
            .map(|a| &a.table)
    }

    /// The generic variant, when the text has parameters.
    pub fn generic(&self) -> Option<&PlanVariant> {
        self.variants
            .iter()
            .find(|v| matches!(v, PlanVariant::Generic { .. }))
    }
}

/// A fingerprint left out of costing, and why.
#[derive(Clone, Debug, Serialize)]
pub struct SkippedQuery {
    pub fingerprint: FingerprintId,
    pub calls: u64,
    pub reason: String,
}

/// Rows written to one table during the workload.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TableWrites {
    /// Row writes seen in the workload (one row per INSERT/UPDATE/DELETE
    /// call, since logs do not say how many rows a statement wrote).
    pub workload_inserts: f64,
    pub workload_updates: f64,
    pub workload_deletes: f64,
    /// Statements of the workload that read the table.
    pub workload_reads: f64,
    /// The same volume estimated from pg_stat_user_tables: its row writes
    /// per scan since statistics were reset, times the workload's reads of
    /// the table. Catches writes a log left out (log_min_duration_statement
    /// skips fast ones).
    pub stats_estimate: f64,
    /// Share of updates that were HOT (no index entries written).
    pub hot_fraction: f64,
    /// Columns the workload's UPDATEs set.
    pub updated_columns: BTreeSet<String>,
    /// Indexes the table has now.
    pub existing_indexes: usize,
}

impl TableWrites {
    /// Index entries written per index, over the workload window: what
    /// the workload shows, or the statistics' estimate when that is more —
    /// but the statistics may count at most one write per workload read:
    /// they include bulk loads (a table loaded with a million rows and read
    /// a hundred times is not write-heavy), which no counter tells apart.
    pub fn entries_per_index(&self) -> f64 {
        let seen = self.workload_inserts
            + self.workload_deletes
            + self.workload_updates * (1.0 - self.hot_fraction);
        seen.max(self.stats_estimate.min(self.workload_reads))
    }
}

/// How many samples per fingerprint are costed at the end (the first is
/// costed throughout).
pub const SAMPLES_COSTED: usize = 3;

/// Picks the statements to cost and the write volume of every table.
pub fn collect_queries(
    workload: &Workload,
    catalog: &Catalog,
) -> (
    Vec<WorkloadQuery>,
    Vec<SkippedQuery>,
    BTreeMap<QualifiedName, TableWrites>,
) {
    let mut queries = Vec::new();
    let mut skipped = Vec::new();
    let mut writes: BTreeMap<QualifiedName, TableWrites> = BTreeMap::new();
    let mut reads: BTreeMap<QualifiedName, f64> = BTreeMap::new();
    let mut skip = |fp: &crate::workload::model::Fingerprint, reason: String| {
        skipped.push(SkippedQuery {
            fingerprint: fp.id,
            calls: fp.calls,
            reason,
        })
    };
    for fp in &workload.fingerprints {
        if fp.calls == 0 {
            continue;
        }
        if !matches!(
            fp.kind,
            StatementKind::Select
                | StatementKind::Insert
                | StatementKind::Update
                | StatementKind::Delete
        ) {
            continue;
        }
        let shape = match fp.samples.first() {
            Some(sample) => analyze_sql(&sample.statement, catalog, &sample.parameters),
            None => analyze_sql(&fp.text, catalog, &[]),
        };
        if let Some(error) = &shape.parse_error {
            skip(fp, format!("does not parse: {error}"));
            continue;
        }
        for access in shape.tables.iter().filter(|a| a.known && !a.system) {
            let w = writes.entry(access.table.clone()).or_default();
            let calls = fp.calls as f64;
            if access.kinds.contains(&AccessKind::Insert) {
                w.workload_inserts += calls;
            }
            if access.kinds.contains(&AccessKind::Update) {
                w.workload_updates += calls;
                w.updated_columns
                    .extend(access.columns_written.iter().cloned());
            }
            if access.kinds.contains(&AccessKind::Delete) {
                w.workload_deletes += calls;
            }
            if access.kinds.contains(&AccessKind::Read) {
                *reads.entry(access.table.clone()).or_default() += calls;
            }
        }
        let reads_a_table = shape
            .tables
            .iter()
            .any(|a| a.kinds.contains(&AccessKind::Read));
        if fp.kind == StatementKind::Insert && !reads_a_table {
            // INSERT … VALUES reads nothing an index could find faster.
            continue;
        }
        let touches_indexable = shape.tables.iter().any(|a| {
            a.known && !a.system && catalog.get(&a.table).is_some_and(|r| r.kind.indexable())
        });
        if !touches_indexable {
            let why = describe_unindexable(&shape, catalog);
            skip(fp, why);
            continue;
        }
        queries.push(WorkloadQuery {
            fingerprint: fp.id,
            text: fp.text.clone(),
            kind: fp.kind,
            calls: fp.calls,
            total_ms: fp.total_ms(),
            mean_ms: fp.mean_ms(),
            variants: variants_of(fp),
            shape,
        });
    }
    for (name, w) in writes.iter_mut() {
        let Some(rel) = catalog.get(name) else {
            continue;
        };
        w.existing_indexes = rel.indexes.iter().filter(|i| i.valid).count();
        if let Some(stats) = rel.stats {
            if stats.updates > 0 {
                w.hot_fraction = stats.hot_updates as f64 / stats.updates as f64;
            }
            let scans = (stats.seq_scans + stats.index_scans).max(1) as f64;
            let row_writes =
                (stats.inserts + stats.deletes + (stats.updates - stats.hot_updates).max(0)) as f64;
            w.workload_reads = reads.get(name).copied().unwrap_or(0.0);
            w.stats_estimate = row_writes / scans * w.workload_reads;
        }
    }
    (queries, skipped, writes)
}

/// Samples first (at most `SAMPLES_COSTED`), then the generic plan when
/// the normalized text has parameters.
fn variants_of(fp: &crate::workload::model::Fingerprint) -> Vec<PlanVariant> {
    let mut out = Vec::new();
    for sample in fp.samples.iter().take(SAMPLES_COSTED) {
        let variant = if sample.parameters.is_empty() {
            if has_placeholder(&sample.statement) {
                continue;
            }
            PlanVariant::Literal {
                statement: sample.statement.clone(),
            }
        } else {
            PlanVariant::Bound {
                statement: sample.statement.clone(),
                parameters: sample.parameters.clone(),
            }
        };
        if !out.contains(&variant) {
            out.push(variant);
        }
    }
    if has_placeholder(&fp.text) {
        out.push(PlanVariant::Generic {
            statement: fp.text.clone(),
        });
    } else if out.is_empty() {
        out.push(PlanVariant::Literal {
            statement: fp.text.clone(),
        });
    }
    out
}

/// The highest `$n` in a statement (outside quotes), 0 when there is none.
pub fn placeholder_count(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut max = 0usize;
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'$' => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                let before_ok =
                    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                if end > start && before_ok {
                    if let Ok(n) = sql[start..end].parse::<usize>() {
                        max = max.max(n);
                    }
                    i = end;
                    continue;
                }
            }
            None => {}
        }
        i += 1;
    }
    max
}

fn has_placeholder(sql: &str) -> bool {
    placeholder_count(sql) > 0
}

fn describe_unindexable(shape: &StatementShape, catalog: &Catalog) -> String {
    let mut parts = Vec::new();
    for a in &shape.tables {
        let what = if a.system {
            "a system catalog".to_string()
        } else if !a.known {
            "not in the catalog".to_string()
        } else {
            match catalog.get(&a.table).map(|r| r.kind) {
                Some(crate::catalog::RelationKind::View) => "a view".to_string(),
                Some(crate::catalog::RelationKind::ForeignTable) => "a foreign table".to_string(),
                _ => "not indexable".to_string(),
            }
        };
        parts.push(format!("{} is {what}", a.table));
    }
    if parts.is_empty() {
        "reads no table".to_string()
    } else {
        format!("no table an index can be built on ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::placeholder_count;

    #[test]
    fn counts_placeholders_outside_quotes() {
        assert_eq!(placeholder_count("select $1, $12 from t where a = $3"), 12);
        assert_eq!(placeholder_count("select '$5' from t"), 0);
        assert_eq!(placeholder_count("select a$1 from t"), 0);
        assert_eq!(placeholder_count("select 1"), 0);
    }
}
