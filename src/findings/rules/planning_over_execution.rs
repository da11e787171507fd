//! `planning-over-execution`: planning the statement takes longer than
//! running it (medians over the runs). Each execution pays the planning
//! again unless the plan is kept in a prepared statement.

use crate::findings::advice::{count, ms, times};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};

pub struct PlanningOverExecution;

const ID: &str = "planning-over-execution";

impl Rule for PlanningOverExecution {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding> {
        let (Some(planning), Some(execution)) =
            (ctx.median_planning_ms(), ctx.median_execution_ms())
        else {
            return Vec::new();
        };
        if planning < t.planning_min_planning_ms || planning < t.planning_min_ratio * execution {
            return Vec::new();
        }
        let ratio = planning / execution.max(0.001);
        let Some(plan) = ctx.plan() else {
            return Vec::new();
        };
        let walk = plan.nodes();
        let relations = walk
            .iter()
            .filter(|n| n.node.relation_name.is_some())
            .count();
        let message = format!(
            "Planning takes {}, {} the {} execution, over {} plan nodes reading {} relations",
            ms(planning),
            times(ratio),
            ms(execution),
            count(walk.len() as f64),
            count(relations as f64),
        );
        let advice = "Plan once and execute many times: run it as a prepared statement (PREPARE/EXECUTE, or the \
                      driver's server-side prepared statements — JDBC prepareThreshold, pgx and asyncpg by default, \
                      psycopg prepare=True) so the plan is cached per session. With many joined tables, a lower \
                      join_collapse_limit / from_collapse_limit (default 8) trades plan search for planning time; on \
                      partitioned tables, make sure partitions are pruned at plan time (a constant, not an expression, \
                      on the partition key)."
            .to_owned();
        vec![
            Finding::new(ID, Severity::Info, message, advice)
                .evidence("planning_ms", planning)
                .evidence("execution_ms", execution)
                .evidence("ratio", ratio)
                .evidence("relations", relations as u64)
                .evidence("plan_nodes", walk.len() as u64),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, only};

    #[test]
    fn a_twelve_way_join_plans_longer_than_it_runs() {
        let f = only(&PlanningOverExecution, &["planning_over_execution"]);
        assert_eq!(f.severity, Severity::Info);
        assert!(f.evidence["ratio"].as_f64().unwrap() > 2.0);
        assert_eq!(f.evidence["relations"], serde_json::json!(12));
        assert!(f.advice.contains("prepared statement"));
        assert_eq!(f.node, None);
    }

    #[test]
    fn thresholds_apply() {
        let fx = &["planning_over_execution"];
        assert!(
            check_with(
                &PlanningOverExecution,
                fx,
                "planning-over-execution.min_ratio=1000"
            )
            .is_empty()
        );
        assert!(
            check_with(
                &PlanningOverExecution,
                fx,
                "planning-over-execution.min_planning_ms=1000"
            )
            .is_empty()
        );
    }

    #[test]
    fn execution_heavy_plans_are_fine() {
        assert_silent_on_clean(&PlanningOverExecution);
        assert!(check(&PlanningOverExecution, &["sort_spill"]).is_empty());
        assert!(check(&PlanningOverExecution, &["generic_plan_estimate"]).is_empty());
    }
}
