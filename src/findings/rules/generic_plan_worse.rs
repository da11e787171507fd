//! `generic-plan-worse`: the statement's generic plan (the one a prepared
//! statement may switch to after five executions, planned for "any value")
//! is much worse than the custom plan for the values it really ran with.
//!
//! Needs [`PlanContext::generic_plan`]. When both the generic plan and the
//! runs were executed (EXPLAIN ANALYZE), their execution times are compared
//! (generic against the runs' median); otherwise the planner's estimated
//! total costs (generic against [`PlanContext::custom_cost`]). The evidence
//! lists the indexes only the custom plan uses — a partial index whose
//! predicate names a value, or a value rare enough for an index, are the
//! usual reasons.

use crate::findings::advice::{count, ms, times};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};

pub struct GenericPlanWorse;

const ID: &str = "generic-plan-worse";

impl Rule for GenericPlanWorse {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding> {
        let (Some(generic), Some(custom)) = (ctx.generic_plan.as_ref(), ctx.plan()) else {
            return Vec::new();
        };
        let measured = generic.execution_time_ms.zip(ctx.median_execution_ms());
        let (ratio, what, mut evidence): (f64, String, Vec<(&str, f64)>) = match measured {
            Some((g, c)) => {
                let ratio = g / c.max(0.001);
                if ratio < t.generic_min_ratio || g - c < t.generic_min_extra_ms {
                    return Vec::new();
                }
                (
                    ratio,
                    format!("took {} against {} for the custom plan", ms(g), ms(c)),
                    vec![("generic_execution_ms", g), ("custom_execution_ms", c)],
                )
            }
            None => {
                let (Some(g), Some(c)) = (generic.plan.total_cost, ctx.custom_cost()) else {
                    return Vec::new();
                };
                let ratio = g / c.max(0.01);
                if ratio < t.generic_min_ratio {
                    return Vec::new();
                }
                (
                    ratio,
                    format!(
                        "is estimated to cost {} against {} for the custom plan",
                        count(g),
                        count(c)
                    ),
                    vec![("generic_cost", g), ("custom_cost", c)],
                )
            }
        };
        evidence.push(("ratio", ratio));
        let custom_indexes = custom.indexes_used();
        let generic_indexes = generic.indexes_used();
        let only_custom: Vec<String> = custom_indexes
            .into_iter()
            .filter(|i| !generic_indexes.contains(i))
            .collect();
        let because = if only_custom.is_empty() {
            String::new()
        } else {
            format!(
                "; only the custom plan can use {} (a partial index on a value, or an index worth it only for rare \
                 values)",
                only_custom.join(", ")
            )
        };
        let message = format!(
            "The generic plan {what} with the same parameters ({} worse){because}",
            times(ratio)
        );
        let advice = "A prepared statement switches to its generic plan after five executions when the generic plan's \
                      estimated cost is not above the average custom plan's, and then runs it for every value; drivers \
                      that prepare statements (JDBC past prepareThreshold, pgx, asyncpg, …) do this on their own. Keep \
                      custom plans for this statement — SET plan_cache_mode = force_custom_plan in the sessions that \
                      run it (or ALTER ROLE … SET plan_cache_mode = force_custom_plan) — or make one plan good for every \
                      value: an index all values can use instead of a partial one, or the skewed value as a literal."
            .to_owned();
        let mut f = Finding::new(ID, Severity::Warning, message, advice)
            .evidence("generic_node", generic.plan.label())
            .evidence("custom_node", custom.plan.label())
            .evidence("indexes_only_custom", only_custom)
            .fix_sql(Some("SET plan_cache_mode = force_custom_plan;".to_owned()));
        for (key, value) in evidence {
            f = f.evidence(key, value);
        }
        f.relation = generic
            .nodes()
            .iter()
            .find_map(|n| n.node.qualified_relation());
        vec![f]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{check, context};
    use crate::plan::fixtures::plan;

    fn with_generic(runs: &[&str], generic: &str) -> PlanContext {
        let mut ctx = context(runs);
        ctx.generic_plan = Some(plan(generic));
        ctx
    }

    #[test]
    fn a_slower_generic_plan_is_measured() {
        let ctx = with_generic(&["custom_plan"], "generic_plan");
        let found = GenericPlanWorse.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.evidence["ratio"].as_f64().unwrap() >= 10.0, "{f:#?}");
        assert!(f.evidence.contains_key("generic_execution_ms"));
        assert_eq!(
            f.evidence["indexes_only_custom"],
            serde_json::json!(["jobs_failed"])
        );
        assert_eq!(
            f.evidence["generic_node"],
            serde_json::json!("Seq Scan on jobs")
        );
        assert_eq!(f.relation.as_deref(), Some("jobs"));
        assert_eq!(
            f.fix_sql.as_deref(),
            Some("SET plan_cache_mode = force_custom_plan;")
        );
    }

    #[test]
    fn a_plain_generic_plan_is_compared_by_cost() {
        let ctx = with_generic(&["custom_plan"], "generic_plan_estimate");
        let f = GenericPlanWorse
            .check(&ctx, &Thresholds::default())
            .remove(0);
        assert_eq!(f.evidence["generic_cost"], serde_json::json!(3774));
        assert!(f.evidence.contains_key("custom_cost"));
        assert!(
            f.message.contains("estimated to cost 3,774"),
            "{}",
            f.message
        );
        // an explicit custom cost wins over the run's
        let ctx =
            with_generic(&["custom_plan"], "generic_plan_estimate").with_custom_plan_cost(3000.0);
        assert!(
            GenericPlanWorse
                .check(&ctx, &Thresholds::default())
                .is_empty()
        );
    }

    #[test]
    fn thresholds_apply() {
        let ctx = with_generic(&["custom_plan"], "generic_plan");
        let mut t = Thresholds::default();
        t.set("generic-plan-worse.min_ratio", "1000").unwrap();
        assert!(GenericPlanWorse.check(&ctx, &t).is_empty());
        let mut t = Thresholds::default();
        t.set("generic-plan-worse.min_extra_ms", "10000").unwrap();
        assert!(GenericPlanWorse.check(&ctx, &t).is_empty());
    }

    #[test]
    fn nothing_without_a_generic_plan_or_when_it_is_as_good() {
        assert!(check(&GenericPlanWorse, &["custom_plan"]).is_empty());
        assert!(check(&GenericPlanWorse, &["clean_index_scan"]).is_empty());
        let ctx = with_generic(&["generic_plan"], "generic_plan");
        assert!(
            GenericPlanWorse
                .check(&ctx, &Thresholds::default())
                .is_empty()
        );
    }
}
