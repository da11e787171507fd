//! `nested-loop-unindexed-inner`: a Nested Loop reruns an inner side that
//! reads a table without any index, once per outer row — work that grows
//! with the product of the two sides.
//!
//! Loops are the inner child's `Actual Loops` (or, in a plain EXPLAIN, the
//! outer side's estimated rows); rows examined are the inner child's rows
//! per loop × loops (a Materialize above the scan saves the rereads but
//! not the comparisons). The index to suggest is on the inner table's
//! columns named by the join condition.

use crate::findings::advice::{count, create_index_sql, quote_ident};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};
use crate::plan::{NodeRef, PlanNode, PlanWalk, condition_columns, index_columns};

pub struct NestedLoopUnindexedInner;

const ID: &str = "nested-loop-unindexed-inner";

impl Rule for NestedLoopUnindexedInner {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding> {
        let Some(explain) = ctx.plan() else {
            return Vec::new();
        };
        let walk = explain.nodes();
        walk.iter()
            .filter(|n| n.node.node_type == "Nested Loop")
            .filter_map(|n| assess(&walk, n, t))
            .collect()
    }
}

fn assess(walk: &PlanWalk<'_>, n: NodeRef<'_>, t: &Thresholds) -> Option<Finding> {
    let mut children = walk.children(n);
    let outer = children.next()?;
    let inner = children.next()?;
    let inner_nodes: Vec<NodeRef<'_>> = std::iter::once(inner)
        .chain(walk.descendants(inner))
        .collect();
    if inner_nodes.iter().any(|d| d.node.is_index_access()) {
        return None;
    }
    let scan = inner_nodes
        .iter()
        .find(|d| d.node.node_type == "Seq Scan" && d.node.relation_name.is_some())?
        .node;
    let (loops, rows_per_loop, estimated) = if inner.node.was_executed() {
        (
            inner.node.actual_loops?,
            inner.node.actual_rows? + inner.node.rows_removed_by_filter.unwrap_or(0.0),
            false,
        )
    } else {
        (outer.node.plan_rows?, inner.node.plan_rows?, true)
    };
    let examined = loops * rows_per_loop;
    if loops < t.nested_loop_min_loops || examined < t.nested_loop_min_rows_examined {
        return None;
    }
    let columns = join_columns(n.node, scan);
    let fix_sql = create_index_sql(scan, &columns);
    let table = scan.qualified_relation()?;
    let message = format!(
        "{} runs its inner side ({}) {} times with no index to search it: {} inner rows examined",
        n.node.label(),
        scan.label(),
        count(loops),
        count(examined),
    );
    let advice = match &fix_sql {
        Some(sql) => format!(
            "An index on {table} ({}) turns each loop into an index lookup: {sql} Also check the outer side's row \
             estimate — the planner picks a nested loop when it expects few outer rows.",
            columns
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!(
            "Index the columns of {table} that the join condition compares, so each loop becomes an index lookup; \
             also check the outer side's row estimate — the planner picks a nested loop when it expects few outer rows."
        ),
    };
    let mut f = Finding::new(ID, Severity::Critical, message, advice)
        .at(n.node)
        .relation(Some(table))
        .evidence("loops", loops)
        .evidence("inner_rows_per_loop", rows_per_loop)
        .evidence("inner_rows_examined", examined)
        .evidence("inner_node", scan.label())
        .fix_sql(fix_sql)
        .index_hint((!columns.is_empty()).then(|| columns.join(", ")));
    if let Some(removed) = n.node.rows_removed_by_join_filter {
        f = f.evidence("rows_removed_by_join_filter", removed);
    }
    if estimated {
        f = f.evidence("estimated", "true");
    }
    Some(f)
}

/// Columns of the inner table the join condition compares: from the Nested
/// Loop's Join Filter, or the inner scan's own filter.
fn join_columns(nested_loop: &PlanNode, scan: &PlanNode) -> Vec<String> {
    let names = [scan.alias.as_deref(), scan.relation_name.as_deref()];
    let mut columns = Vec::new();
    for condition in [&nested_loop.join_filter, &scan.filter]
        .into_iter()
        .flatten()
    {
        columns.extend(
            condition_columns(condition)
                .into_iter()
                .filter(|c| c.qualifier.is_some() && names.contains(&c.qualifier.as_deref())),
        );
    }
    index_columns(&columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, only};

    #[test]
    fn an_unindexed_inner_side_gets_an_index() {
        let f = only(&NestedLoopUnindexedInner, &["nested_loop_unindexed_inner"]);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.node.as_deref(), Some("Nested Loop Left Join"));
        assert_eq!(f.relation.as_deref(), Some("public.payments"));
        assert_eq!(f.evidence["loops"], serde_json::json!(1000));
        assert_eq!(
            f.evidence["inner_rows_examined"],
            serde_json::json!(10_000_000)
        );
        assert_eq!(
            f.evidence["inner_node"],
            serde_json::json!("Seq Scan on public.payments p")
        );
        assert_eq!(f.index_hint.as_deref(), Some("customer_id"));
        assert_eq!(
            f.fix_sql.as_deref(),
            Some("CREATE INDEX CONCURRENTLY ON \"public\".\"payments\" (\"customer_id\");")
        );
    }

    #[test]
    fn thresholds_apply() {
        let fx = &["nested_loop_unindexed_inner"];
        assert!(
            check_with(
                &NestedLoopUnindexedInner,
                fx,
                "nested-loop-unindexed-inner.min_loops=5000"
            )
            .is_empty()
        );
        assert!(
            check_with(
                &NestedLoopUnindexedInner,
                fx,
                "nested-loop-unindexed-inner.min_rows_examined=1e9"
            )
            .is_empty()
        );
    }

    #[test]
    fn indexed_inner_sides_are_fine() {
        assert_silent_on_clean(&NestedLoopUnindexedInner);
        // hash joins, and subplans probing an index once per row
        assert!(check(&NestedLoopUnindexedInner, &["limit_subplan_cte"]).is_empty());
        assert!(check(&NestedLoopUnindexedInner, &["hash_spill"]).is_empty());
    }
}
