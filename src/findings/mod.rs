//! Plan findings: one rule per file under `rules/`, named after its
//! kebab-case id, all listed in [`registry`]. A rule reads a
//! [`PlanContext`] (the EXPLAIN results of one statement) and returns
//! [`Finding`]s — plain data with evidence and concrete advice; it never
//! prints and never talks to a database. Thresholds live in one
//! [`Thresholds`] struct, documented in docs/findings.md and overridable
//! with `--threshold RULE.NAME=VALUE`.

pub mod advice;
mod context;
pub mod health;
pub mod rules;
mod thresholds;

#[cfg(test)]
pub(crate) mod testing;

pub use context::{PlanContext, ServerSettings};
pub use thresholds::{ThresholdInfo, Thresholds};

use crate::plan::PlanNode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How much a finding matters. Ordered: `Info < Warning < Critical`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; often fine.
    Info,
    /// Costs time now; fix when convenient.
    Warning,
    /// Costs a lot of time, or grows with the data.
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a plan, with the numbers behind it and what to do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's kebab-case id ("seq-scan-large-table").
    pub id: &'static str,
    pub severity: Severity,
    /// One sentence: what happened, with the key numbers.
    pub message: String,
    /// The plan node, as EXPLAIN names it ("Seq Scan on public.orders").
    pub node: Option<String>,
    /// The table the finding is about, as the plan names it
    /// (`schema.table` with VERBOSE plans, `table` otherwise).
    pub relation: Option<String>,
    /// The numbers behind the finding, by name (units in the name:
    /// `_ms`, `_kb`, `_blocks`, `_rows`, `_share` 0–1, `_ratio`).
    pub evidence: BTreeMap<String, serde_json::Value>,
    /// What to do, concretely.
    pub advice: String,
    /// SQL that applies the advice (identifiers quoted), when there is a
    /// single statement to run. Review before running.
    pub fix_sql: Option<String>,
    /// For index advice: the columns an index should lead with, in order,
    /// comma-separated, unquoted ("status, customer_id"). recommend-indexes
    /// can cost the same columns against the whole workload.
    pub index_hint: Option<String>,
}

impl Finding {
    pub fn new(id: &'static str, severity: Severity, message: String, advice: String) -> Finding {
        Finding {
            id,
            severity,
            message,
            node: None,
            relation: None,
            evidence: BTreeMap::new(),
            advice,
            fix_sql: None,
            index_hint: None,
        }
    }

    /// Names the node (and its relation, if it has one).
    pub fn at(mut self, node: &PlanNode) -> Finding {
        self.node = Some(node.label());
        if self.relation.is_none() {
            self.relation = node.qualified_relation();
        }
        self
    }

    pub fn relation(mut self, relation: Option<String>) -> Finding {
        self.relation = relation;
        self
    }

    /// Adds a number or text to the evidence (non-finite numbers become
    /// `null`; fractional numbers are rounded to 3 decimals for stable
    /// output).
    pub fn evidence(mut self, key: &str, value: impl Into<Evidence>) -> Finding {
        self.evidence.insert(key.to_owned(), value.into().0);
        self
    }

    pub fn fix_sql(mut self, sql: Option<String>) -> Finding {
        self.fix_sql = sql;
        self
    }

    pub fn index_hint(mut self, hint: Option<String>) -> Finding {
        self.index_hint = hint;
        self
    }
}

/// A value for [`Finding::evidence`].
pub struct Evidence(serde_json::Value);

impl From<f64> for Evidence {
    fn from(v: f64) -> Evidence {
        let rounded = (v * 1000.0).round() / 1000.0;
        Evidence(if rounded.fract() == 0.0 && rounded.abs() < 9.0e15 {
            serde_json::Value::from(rounded as i64)
        } else {
            serde_json::Value::from(rounded)
        })
    }
}

impl From<u64> for Evidence {
    fn from(v: u64) -> Evidence {
        Evidence(v.into())
    }
}

impl From<&str> for Evidence {
    fn from(v: &str) -> Evidence {
        Evidence(v.into())
    }
}

impl From<String> for Evidence {
    fn from(v: String) -> Evidence {
        Evidence(v.into())
    }
}

impl From<Vec<String>> for Evidence {
    fn from(v: Vec<String>) -> Evidence {
        Evidence(v.into())
    }
}

/// A finding rule.
pub trait Rule {
    /// Kebab-case; also the rule's file name (with `_`) and its prefix in
    /// threshold keys.
    fn id(&self) -> &'static str;
    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding>;
}

/// Every rule, in the order docs/findings.md lists them.
pub fn registry() -> Vec<Box<dyn Rule>> {
    use rules::*;
    vec![
        Box::new(seq_scan_large_table::SeqScanLargeTable),
        Box::new(row_misestimate::RowMisestimate),
        Box::new(sort_spill::SortSpill),
        Box::new(hash_spill::HashSpill),
        Box::new(nested_loop_unindexed_inner::NestedLoopUnindexedInner),
        Box::new(heap_fetches::HeapFetches),
        Box::new(lossy_bitmap::LossyBitmap),
        Box::new(buffers_read_share::BuffersReadShare),
        Box::new(planning_over_execution::PlanningOverExecution),
        Box::new(jit_dominating::JitDominating),
        Box::new(generic_plan_worse::GenericPlanWorse),
    ]
}

/// Runs every rule; findings sorted by severity (critical first), then id,
/// then node, so output is stable.
pub fn run_all(ctx: &PlanContext, thresholds: &Thresholds) -> Vec<Finding> {
    let mut findings: Vec<Finding> = registry()
        .iter()
        .flat_map(|rule| rule.check(ctx, thresholds))
        .collect();
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.id.cmp(b.id))
            .then_with(|| a.node.cmp(&b.node))
    });
    findings
}

#[cfg(test)]
mod tests {
    use super::testing::context;
    use super::*;

    #[test]
    fn severities_order_and_print_lowercase() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        assert_eq!(
            serde_json::to_string(&Severity::Critical).unwrap(),
            "\"critical\""
        );
        assert_eq!(Severity::Warning.to_string(), "warning");
        use clap::ValueEnum;
        assert_eq!(Severity::from_str("info", false), Ok(Severity::Info));
    }

    #[test]
    fn rule_ids_are_unique_kebab_case_and_name_their_file() {
        let mut ids: Vec<&str> = registry().iter().map(|r| r.id()).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id} is not kebab-case"
            );
            let file = format!(
                "{}/src/findings/rules/{}.rs",
                env!("CARGO_MANIFEST_DIR"),
                id.replace('-', "_")
            );
            assert!(std::path::Path::new(&file).exists(), "{id}: no {file}");
        }
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule id");
    }

    #[test]
    fn every_rule_is_documented() {
        let doc = include_str!("../../docs/findings.md");
        for rule in registry() {
            assert!(
                doc.contains(&format!("`{}`", rule.id())),
                "{} not in docs/findings.md",
                rule.id()
            );
        }
    }

    #[test]
    fn the_clean_plan_has_no_findings() {
        let ctx = context(&["clean_index_scan"]);
        assert_eq!(run_all(&ctx, &Thresholds::default()), vec![]);
    }

    #[test]
    fn each_captured_condition_is_found() {
        let cases: &[(&[&str], &str)] = &[
            (&["seq_scan_large_table"], "seq-scan-large-table"),
            (&["parallel_seq_scan"], "seq-scan-large-table"),
            (&["row_misestimate_correlated"], "row-misestimate"),
            (&["row_misestimate_stale"], "row-misestimate"),
            (&["sort_spill"], "sort-spill"),
            (&["hash_spill"], "hash-spill"),
            (&["hashagg_spill"], "hash-spill"),
            (
                &["nested_loop_unindexed_inner"],
                "nested-loop-unindexed-inner",
            ),
            (&["heap_fetches"], "heap-fetches"),
            (&["lossy_bitmap"], "lossy-bitmap"),
            (&["buffers_read_share"], "buffers-read-share"),
            (&["planning_over_execution"], "planning-over-execution"),
            (&["jit_dominating"], "jit-dominating"),
        ];
        for (fixtures, id) in cases {
            let found = run_all(&context(fixtures), &Thresholds::default());
            assert!(
                found.iter().any(|f| f.id == *id),
                "{fixtures:?}: no {id} in {:?}",
                found.iter().map(|f| f.id).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn findings_are_sorted_most_severe_first() {
        for (name, _) in crate::plan::fixtures::ALL {
            let found = run_all(&context(&[name]), &Thresholds::default());
            let keys: Vec<_> = found
                .iter()
                .map(|f| (std::cmp::Reverse(f.severity), f.id))
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "{name}");
        }
    }

    #[test]
    fn evidence_numbers_are_rounded_and_integral_when_whole() {
        let f = Finding::new("x", Severity::Info, String::new(), String::new())
            .evidence("a", 2.0)
            .evidence("b", 1.0 / 3.0)
            .evidence("c", f64::NAN);
        assert_eq!(f.evidence["a"], serde_json::json!(2));
        assert_eq!(f.evidence["b"], serde_json::json!(0.333));
        assert_eq!(f.evidence["c"], serde_json::Value::Null);
    }
}
