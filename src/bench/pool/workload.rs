//! What the client tasks run, one pick per request: a script (built-in or
//! from --script), or the workload's own fingerprints replayed with their
//! logged parameter samples, picked in proportion to their calls. Reads
//! only, unless --allow-writes: a write is left out (and named), and
//! anything that is not a query or DML never runs at all.

use super::script::{Script, SqlKind, statement_kind};
use crate::advisor::queries::placeholder_count;
use crate::workload::model::Workload;
use serde::Serialize;

/// One replayed statement: a logged text with one logged set of values.
#[derive(Clone, Debug)]
pub struct Replayed {
    pub sql: String,
    pub params: Vec<Option<String>>,
    pub kind: SqlKind,
}

#[derive(Clone, Debug)]
pub enum Item {
    Script(Script),
    Statement(Replayed),
}

/// The items and their pick weights.
#[derive(Clone, Debug)]
pub struct LoadWorkload {
    pub items: Vec<Item>,
    /// Running sums of the weights, for a binary-search pick.
    cumulative: Vec<f64>,
}

impl LoadWorkload {
    pub fn new(items: Vec<(Item, f64)>) -> Self {
        let mut total = 0.0;
        let mut cumulative = Vec::with_capacity(items.len());
        let mut kept = Vec::with_capacity(items.len());
        for (item, w) in items {
            total += w.max(f64::MIN_POSITIVE);
            cumulative.push(total);
            kept.push(item);
        }
        Self {
            items: kept,
            cumulative,
        }
    }

    /// The index of one item, with probability proportional to its weight.
    #[inline]
    pub fn pick(&self, rng: &mut fastrand::Rng) -> usize {
        if self.items.len() <= 1 {
            return 0;
        }
        let total = self.cumulative[self.cumulative.len() - 1];
        let r = rng.f64() * total;
        self.cumulative
            .partition_point(|&c| c <= r)
            .min(self.items.len() - 1)
    }

    /// Every distinct SQL text, to prepare on each connection up front.
    pub fn sql_texts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for item in &self.items {
            match item {
                Item::Script(s) => {
                    for c in s.statements() {
                        if !out.contains(&c.text.as_str()) {
                            out.push(&c.text);
                        }
                    }
                }
                Item::Statement(r) => {
                    if !out.contains(&r.sql.as_str()) {
                        out.push(&r.sql);
                    }
                }
            }
        }
        out
    }

    /// Some item writes.
    pub fn writes(&self) -> bool {
        self.items.iter().any(|i| match i {
            Item::Script(s) => s.writes,
            Item::Statement(r) => r.kind == SqlKind::Write,
        })
    }

    /// Statements per pick (1 for a replayed statement).
    pub fn statements(&self) -> usize {
        self.sql_texts().len()
    }
}

/// A fingerprint the replay leaves out, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub fingerprint: String,
    pub query: String,
    pub calls: u64,
    pub reason: String,
}

/// What became of the workload file's fingerprints.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReplaySummary {
    /// Fingerprints replayed.
    pub fingerprints: usize,
    /// Statement samples they are replayed with.
    pub samples: usize,
    /// Share of the workload's calls the replayed fingerprints account for.
    pub calls_covered: f64,
    pub skipped: Vec<Skipped>,
    /// Fingerprints beyond `max_fingerprints` (the least called).
    pub beyond_limit: usize,
}

/// Builds the replay from an ingested workload: the most-called
/// `max_fingerprints` fingerprints, each with its samples (the slowest kept
/// by ingestion) whose parameter count matches the text. A fingerprint with
/// no usable sample runs its normalized text when that has no `$n`.
pub fn replay(
    workload: &Workload,
    allow_writes: bool,
    max_fingerprints: usize,
) -> (Option<LoadWorkload>, ReplaySummary) {
    let mut order: Vec<usize> = (0..workload.fingerprints.len())
        .filter(|&i| workload.fingerprints[i].calls > 0)
        .collect();
    order.sort_by(|&a, &b| {
        workload.fingerprints[b]
            .calls
            .cmp(&workload.fingerprints[a].calls)
    });
    let total_calls: u64 = order.iter().map(|&i| workload.fingerprints[i].calls).sum();
    let mut summary = ReplaySummary {
        beyond_limit: order.len().saturating_sub(max_fingerprints),
        ..ReplaySummary::default()
    };
    order.truncate(max_fingerprints);
    let mut items = Vec::new();
    let mut covered = 0u64;
    for &i in &order {
        let fp = &workload.fingerprints[i];
        let skip = |reason: String| Skipped {
            fingerprint: fp.id.to_string(),
            query: fp.text.clone(),
            calls: fp.calls,
            reason,
        };
        let mut candidates: Vec<(String, Vec<Option<String>>)> = fp
            .samples
            .iter()
            .filter(|s| s.parameters.len() == placeholder_count(&s.statement))
            .map(|s| (s.statement.clone(), s.parameters.clone()))
            .collect();
        if candidates.is_empty() {
            if placeholder_count(&fp.text) == 0 {
                candidates.push((fp.text.clone(), Vec::new()));
            } else {
                summary.skipped.push(skip(
                    "no logged parameter values to replay it with".to_string(),
                ));
                continue;
            }
        }
        let kind = match statement_kind(&candidates[0].0) {
            Ok(SqlKind::Transaction) => {
                summary.skipped.push(skip(
                    "transaction control is never replayed on its own".to_string(),
                ));
                continue;
            }
            Ok(kind) => kind,
            Err(reason) => {
                summary.skipped.push(skip(format!("never run: {reason}")));
                continue;
            }
        };
        if kind == SqlKind::Write && !allow_writes {
            summary.skipped.push(skip(
                "a write: pass --allow-writes to replay it (its changes are committed)".to_string(),
            ));
            continue;
        }
        // Samples of one fingerprint may differ in literals; each must pass
        // the same checks as the first.
        candidates.retain(|(sql, _)| matches!(statement_kind(sql), Ok(k) if k == kind));
        let weight = fp.calls as f64 / candidates.len().max(1) as f64;
        summary.fingerprints += 1;
        summary.samples += candidates.len();
        covered += fp.calls;
        for (sql, params) in candidates {
            items.push((Item::Statement(Replayed { sql, params, kind }), weight));
        }
    }
    summary.calls_covered = if total_calls > 0 {
        covered as f64 / total_calls as f64
    } else {
        0.0
    };
    let load = (!items.is_empty()).then(|| LoadWorkload::new(items));
    (load, summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{CollectOptions, IngestOptions, ingest};
    use std::io::Write;

    fn ingest_sql(text: &str) -> Workload {
        let mut f = tempfile::Builder::new().suffix(".sql").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let options = IngestOptions {
            format: None,
            log_line_prefix: None,
            collect: CollectOptions {
                samples: 4,
                ..CollectOptions::default()
            },
        };
        ingest(&[f.path().to_string_lossy().into_owned()], &options, None).unwrap()
    }

    #[test]
    fn reads_are_replayed_and_writes_need_the_flag() {
        let w = ingest_sql(
            "SELECT * FROM t WHERE id = 1;\nSELECT * FROM t WHERE id = 2;\nSELECT * FROM t WHERE id = 3;\nUPDATE t SET n = n + 1 WHERE id = 1;\nDROP TABLE t;\n",
        );
        let (load, summary) = replay(&w, false, 100);
        let load = load.unwrap();
        assert_eq!(summary.fingerprints, 1);
        assert!(!load.writes());
        assert!(
            summary
                .skipped
                .iter()
                .any(|s| s.reason.contains("--allow-writes"))
        );
        assert!(
            summary
                .skipped
                .iter()
                .any(|s| s.reason.starts_with("never run"))
        );
        assert!((summary.calls_covered - 0.6).abs() < 1e-9, "{summary:?}");

        let (load, summary) = replay(&w, true, 100);
        assert!(load.unwrap().writes());
        assert_eq!(summary.fingerprints, 2);
    }

    #[test]
    fn only_writes_and_no_flag_gives_nothing() {
        let w = ingest_sql("DELETE FROM t WHERE id = 1;\n");
        let (load, summary) = replay(&w, false, 100);
        assert!(load.is_none());
        assert_eq!(summary.skipped.len(), 1);
    }

    #[test]
    fn picks_follow_the_weights() {
        let a = Replayed {
            sql: "SELECT 1".into(),
            params: vec![],
            kind: SqlKind::Read,
        };
        let b = Replayed {
            sql: "SELECT 2".into(),
            params: vec![],
            kind: SqlKind::Read,
        };
        let load = LoadWorkload::new(vec![(Item::Statement(a), 9.0), (Item::Statement(b), 1.0)]);
        let mut rng = fastrand::Rng::with_seed(7);
        let mut first = 0;
        for _ in 0..10_000 {
            if let Item::Statement(r) = &load.items[load.pick(&mut rng)]
                && r.sql == "SELECT 1"
            {
                first += 1;
            }
        }
        assert!((8_700..9_300).contains(&first), "{first}");
        assert_eq!(load.sql_texts(), vec!["SELECT 1", "SELECT 2"]);
    }
}
