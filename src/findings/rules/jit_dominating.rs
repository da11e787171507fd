//! `jit-dominating`: JIT compilation takes most of the execution time
//! (the JIT section's "Total" against "Execution Time", which includes
//! it). JIT starts when the plan's cost passes jit_above_cost (inlining
//! and optimization at their own, higher thresholds); a plan that costs
//! that much but runs quickly loses more to compiling than it gains.
//!
//! The suggested jit_above_cost is the next power of ten above the plan's
//! cost, and never below the default (100000).

use crate::findings::advice::{count, ms, percent};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};

pub struct JitDominating;

const ID: &str = "jit-dominating";

/// PostgreSQL's default jit_above_cost.
const DEFAULT_JIT_ABOVE_COST: f64 = 100_000.0;

impl Rule for JitDominating {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding> {
        let Some(explain) = ctx.plan() else {
            return Vec::new();
        };
        let (Some(jit), Some(execution)) = (explain.jit.as_ref(), explain.execution_time_ms) else {
            return Vec::new();
        };
        let Some(jit_ms) = jit.total_ms() else {
            return Vec::new();
        };
        let share = jit_ms / execution.max(0.001);
        if jit_ms < t.jit_min_jit_ms || share < t.jit_min_share {
            return Vec::new();
        }
        let cost = explain.plan.total_cost.unwrap_or(0.0);
        let above = suggested_jit_above_cost(cost);
        let fix = format!("SET jit_above_cost = {above};");
        let options = jit.options.as_ref();
        let mut stages = Vec::new();
        if options.and_then(|o| o.inlining) == Some(true) {
            stages.push("inlining (jit_inline_above_cost)");
        }
        if options.and_then(|o| o.optimization) == Some(true) {
            stages.push("optimization (jit_optimize_above_cost)");
        }
        let stages = if stages.is_empty() {
            String::new()
        } else {
            format!(
                " It also ran {}, the most expensive stages; their thresholds must stay above this cost too.",
                stages.join(" and ")
            )
        };
        let message = format!(
            "JIT compilation took {} of the {} execution ({}), compiling {} functions",
            ms(jit_ms),
            ms(execution),
            percent(share.min(1.0)),
            count(jit.functions.unwrap_or(0) as f64),
        );
        let advice = format!(
            "The plan's cost ({}) is above jit_above_cost, but it runs too quickly for compiled code to pay off. Raise \
             the threshold above this cost for the sessions that run it — `{fix}` — or turn JIT off for them (SET jit = \
             off).{stages}",
            count(cost),
        );
        let mut f = Finding::new(ID, Severity::Warning, message, advice)
            .evidence("jit_ms", jit_ms)
            .evidence("execution_ms", execution)
            .evidence("jit_share", share)
            .evidence("plan_cost", cost)
            .fix_sql(Some(fix));
        if let Some(functions) = jit.functions {
            f = f.evidence("functions", functions);
        }
        vec![f]
    }
}

fn suggested_jit_above_cost(cost: f64) -> u64 {
    let mut above = DEFAULT_JIT_ABOVE_COST;
    while above <= cost && above < 1e15 {
        above *= 10.0;
    }
    above as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, only};

    #[test]
    fn compilation_longer_than_the_work_is_reported() {
        let f = only(&JitDominating, &["jit_dominating"]);
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.evidence["jit_share"].as_f64().unwrap() > 0.5);
        assert!(f.evidence["functions"].as_f64().unwrap() > 0.0);
        // captured with jit_above_cost = 0 on a plan costing ~11
        assert_eq!(f.fix_sql.as_deref(), Some("SET jit_above_cost = 100000;"));
        assert!(f.advice.contains("jit_inline_above_cost"));
    }

    #[test]
    fn the_threshold_goes_above_the_plan_cost() {
        assert_eq!(suggested_jit_above_cost(11.2), 100_000);
        assert_eq!(suggested_jit_above_cost(100_000.0), 1_000_000);
        assert_eq!(suggested_jit_above_cost(2_345_678.0), 10_000_000);
    }

    #[test]
    fn thresholds_apply() {
        assert!(
            check_with(
                &JitDominating,
                &["jit_dominating"],
                "jit-dominating.min_share=1"
            )
            .is_empty()
        );
        assert!(
            check_with(
                &JitDominating,
                &["jit_dominating"],
                "jit-dominating.min_jit_ms=100000"
            )
            .is_empty()
        );
    }

    #[test]
    fn plans_without_jit_are_fine() {
        assert_silent_on_clean(&JitDominating);
        assert!(check(&JitDominating, &["sort_spill"]).is_empty());
    }
}
