//! What the rules look at: the EXPLAIN results of one statement, plus the
//! few server facts that turn a finding into a number (work_mem,
//! shared_buffers, table sizes) when the caller knows them.

use crate::plan::{Explain, PlanNode};
use std::collections::BTreeMap;

/// Server settings, in bytes, when known.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServerSettings {
    pub work_mem_bytes: Option<u64>,
    pub shared_buffers_bytes: Option<u64>,
    /// `hash_mem_multiplier`; 2.0 (the default since PostgreSQL 15) when
    /// unknown.
    pub hash_mem_multiplier: Option<f64>,
}

/// The analyzed plans of one statement.
///
/// - `runs`: its EXPLAIN results in the order they ran — normally
///   `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` with the statement's real
///   parameters, i.e. custom plans. Plain EXPLAINs are accepted: rules
///   that need run-time numbers then find nothing. Rules about one plan
///   read the last run (the warmest cache, so cold-start reads do not
///   count); rules about times use the median over the runs.
/// - `generic_plan`: the generic plan of the same statement (PREPARE, then
///   EXPLAIN EXECUTE with `plan_cache_mode = force_generic_plan`), plain or
///   ANALYZE. Only generic-plan-worse reads it.
/// - `custom_plan_cost`: the custom plan's total cost for the same
///   parameters; when `None`, the last run's root total cost.
/// - `table_rows`: row counts (pg_class.reltuples) by `schema.table` or
///   bare `table` name (unquoted). Used by seq-scan-large-table when the
///   runs are plain EXPLAINs.
#[derive(Clone, Debug, Default)]
pub struct PlanContext {
    pub runs: Vec<Explain>,
    pub generic_plan: Option<Explain>,
    pub custom_plan_cost: Option<f64>,
    pub settings: ServerSettings,
    pub table_rows: BTreeMap<String, f64>,
}

impl PlanContext {
    pub fn new(runs: Vec<Explain>, generic_plan: Option<Explain>) -> PlanContext {
        PlanContext {
            runs,
            generic_plan,
            ..PlanContext::default()
        }
    }

    pub fn with_custom_plan_cost(mut self, cost: f64) -> PlanContext {
        self.custom_plan_cost = Some(cost);
        self
    }

    pub fn with_settings(mut self, settings: ServerSettings) -> PlanContext {
        self.settings = settings;
        self
    }

    pub fn with_table_rows(mut self, table_rows: BTreeMap<String, f64>) -> PlanContext {
        self.table_rows = table_rows;
        self
    }

    /// The plan single-plan rules read: the last run.
    pub fn plan(&self) -> Option<&Explain> {
        self.runs.last()
    }

    /// Median execution time over the runs that have one.
    pub fn median_execution_ms(&self) -> Option<f64> {
        median(self.runs.iter().filter_map(|r| r.execution_time_ms))
    }

    /// Median planning time over the runs that have one.
    pub fn median_planning_ms(&self) -> Option<f64> {
        median(self.runs.iter().filter_map(|r| r.planning_time_ms))
    }

    /// The custom plan's cost: given, or the last run's root total cost.
    pub fn custom_cost(&self) -> Option<f64> {
        self.custom_plan_cost
            .or_else(|| self.plan().and_then(|p| p.plan.total_cost))
    }

    pub fn hash_mem_multiplier(&self) -> f64 {
        self.settings
            .hash_mem_multiplier
            .filter(|m| m.is_finite() && *m >= 1.0)
            .unwrap_or(2.0)
    }

    /// The known row count of the node's relation.
    pub fn table_rows_of(&self, node: &PlanNode) -> Option<f64> {
        let relation = node.relation_name.as_deref()?;
        if let Some(schema) = node.schema.as_deref()
            && let Some(rows) = self.table_rows.get(&format!("{schema}.{relation}"))
        {
            return Some(*rows);
        }
        self.table_rows.get(relation).copied()
    }
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::context;

    #[test]
    fn medians_and_the_representative_plan() {
        let ctx = context(&["sort_spill", "clean_index_scan", "seq_scan_large_table"]);
        assert_eq!(
            ctx.plan().unwrap().plan.relation_name.as_deref(),
            Some("orders")
        );
        let mut times: Vec<f64> = ctx
            .runs
            .iter()
            .map(|r| r.execution_time_ms.unwrap())
            .collect();
        times.sort_by(f64::total_cmp);
        assert_eq!(ctx.median_execution_ms(), Some(times[1]));
        assert_eq!(median([1.0, 3.0].into_iter()), Some(2.0));
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn table_rows_by_qualified_or_bare_name() {
        let rows = BTreeMap::from([
            ("public.orders".to_owned(), 5.0),
            ("orders".to_owned(), 7.0),
        ]);
        let ctx = PlanContext::default().with_table_rows(rows);
        let plain = context(&["seq_scan_large_table"]).runs.remove(0).plan;
        assert_eq!(ctx.table_rows_of(&plain), Some(7.0));
        let verbose = context(&["parallel_seq_scan"])
            .runs
            .remove(0)
            .plan
            .plans
            .remove(0);
        assert_eq!(ctx.table_rows_of(&verbose), Some(5.0));
    }

    #[test]
    fn custom_cost_defaults_to_the_last_run() {
        let ctx = context(&["custom_plan"]);
        assert_eq!(ctx.custom_cost(), ctx.runs[0].plan.total_cost);
        assert_eq!(ctx.with_custom_plan_cost(3.0).custom_cost(), Some(3.0));
        assert_eq!(PlanContext::default().hash_mem_multiplier(), 2.0);
    }
}
