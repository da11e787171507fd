//! Test helpers: contexts from the captured plans, rules run in one line.

use super::{Finding, PlanContext, Rule, Thresholds};
use crate::plan::fixtures::plan;

/// A context whose runs are the captured plans `names`, in order.
pub(crate) fn context(names: &[&str]) -> PlanContext {
    PlanContext::new(names.iter().map(|n| plan(n)).collect(), None)
}

/// The rule's findings on the captured plan(s), default thresholds.
pub(crate) fn check(rule: &dyn Rule, names: &[&str]) -> Vec<Finding> {
    rule.check(&context(names), &Thresholds::default())
}

/// The same with one threshold overridden (`KEY=VALUE`).
pub(crate) fn check_with(rule: &dyn Rule, names: &[&str], assignment: &str) -> Vec<Finding> {
    let mut t = Thresholds::default();
    t.apply(assignment).unwrap();
    rule.check(&context(names), &t)
}

/// The one finding of the rule on the captured plan(s).
pub(crate) fn only(rule: &dyn Rule, names: &[&str]) -> Finding {
    let mut found = check(rule, names);
    assert_eq!(found.len(), 1, "{names:?}: {found:#?}");
    found.remove(0)
}

/// Silent on the clean plan and on a plain EXPLAIN (no run-time numbers).
pub(crate) fn assert_silent_on_clean(rule: &dyn Rule) {
    assert_eq!(check(rule, &["clean_index_scan"]), vec![], "clean plan");
    assert_eq!(check(rule, &[]), vec![], "no runs");
}
