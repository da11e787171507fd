//! `seq-scan-large-table`: a sequential scan reads a large table and its
//! filter throws most of the rows away — the shape an index fixes.
//!
//! Rows read come from EXPLAIN ANALYZE (`Actual Rows` + `Rows Removed by
//! Filter`, times the loops of a parallel scan), or for a plain EXPLAIN from
//! the context's table sizes. The finding names the filter's columns
//! (equality first, then one range column) as `index_hint` and a CREATE
//! INDEX statement as `fix_sql`, for recommend-indexes to cost.

use crate::findings::advice::{count, create_index_sql, percent, quote_ident};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};
use crate::plan::{NodeRef, PlanNode, PlanWalk, condition_columns, index_columns};

pub struct SeqScanLargeTable;

const ID: &str = "seq-scan-large-table";

impl Rule for SeqScanLargeTable {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding> {
        let Some(explain) = ctx.plan() else {
            return Vec::new();
        };
        let walk = explain.nodes();
        walk.iter()
            .filter(|n| n.node.node_type == "Seq Scan" && n.node.filter.is_some())
            .filter_map(|n| assess(ctx, &walk, n, t))
            .collect()
    }
}

/// Rows read and rows kept by one execution of the scan (all workers).
fn rows_read_and_kept(
    ctx: &PlanContext,
    walk: &PlanWalk<'_>,
    n: NodeRef<'_>,
) -> Option<(f64, f64)> {
    let node = n.node;
    let parallel = node.parallel_aware == Some(true);
    if node.was_executed() {
        // Per-loop averages: a parallel scan's loops are its processes,
        // each reading a part; any other scan reads the table each loop.
        let share = if parallel { node.actual_loops? } else { 1.0 };
        return Some((
            node.rows_scanned_per_loop()? * share,
            node.actual_rows? * share,
        ));
    }
    let table = ctx.table_rows_of(node)?;
    let processes = if parallel {
        walk.ancestors(n)
            .find_map(|a| a.node.workers_planned)
            .map_or(1.0, |w| w as f64 + 1.0)
    } else {
        1.0
    };
    Some((table, node.plan_rows? * processes))
}

fn assess(
    ctx: &PlanContext,
    walk: &PlanWalk<'_>,
    n: NodeRef<'_>,
    t: &Thresholds,
) -> Option<Finding> {
    let node = n.node;
    let (read, kept) = rows_read_and_kept(ctx, walk, n)?;
    if read < t.seq_scan_min_rows || read <= 0.0 {
        return None;
    }
    let discard = (1.0 - kept / read).clamp(0.0, 1.0);
    if discard < t.seq_scan_min_discard_share {
        return None;
    }
    let filter = node.filter.as_deref()?;
    let columns = own_columns(node, filter);
    let fix_sql = create_index_sql(node, &columns);
    let table = node.qualified_relation()?;
    let message = format!(
        "{} reads {} rows and its filter discards {} of them{}",
        node.label(),
        count(read),
        percent(discard),
        loops_note(node),
    );
    let advice = match &fix_sql {
        Some(sql) => format!(
            "An index on {table} ({}) lets the planner read only the rows it keeps instead of the whole table: {sql} \
             Cost it against the whole workload first with `pgadvisor recommend-indexes`.",
            columns
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        None => format!(
            "The filter `{filter}` compares no plain column an index could lead with; an expression or \
             partial index matching it, or a rewrite of the condition, lets the planner avoid reading all of {table}."
        ),
    };
    let mut finding = Finding::new(ID, Severity::Warning, message, advice)
        .at(node)
        .evidence("rows_read", read)
        .evidence("rows_kept", kept)
        .evidence("discard_share", discard)
        .evidence("filter", filter)
        .fix_sql(fix_sql)
        .index_hint((!columns.is_empty()).then(|| columns.join(", ")));
    if let Some(loops) = node.actual_loops {
        finding = finding.evidence("loops", loops);
    }
    if !node.was_executed() {
        finding = finding.evidence("estimated", "true");
    }
    Some(finding)
}

/// Index columns from the filter that belong to this scan's table.
fn own_columns(node: &PlanNode, filter: &str) -> Vec<String> {
    let names = [node.alias.as_deref(), node.relation_name.as_deref()];
    let columns: Vec<_> = condition_columns(filter)
        .into_iter()
        .filter(|c| c.qualifier.is_none() || names.contains(&c.qualifier.as_deref()))
        .collect();
    index_columns(&columns)
}

fn loops_note(node: &PlanNode) -> String {
    match node.actual_loops {
        Some(loops) if loops > 1.0 && node.parallel_aware != Some(true) => {
            format!(", once per loop, {} loops", count(loops))
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, context, only};
    use std::collections::BTreeMap;

    #[test]
    fn large_filtered_scan_gets_an_index_suggestion() {
        let f = only(&SeqScanLargeTable, &["seq_scan_large_table"]);
        assert_eq!(f.id, "seq-scan-large-table");
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.node.as_deref(), Some("Seq Scan on orders"));
        assert_eq!(f.relation.as_deref(), Some("orders"));
        assert_eq!(f.evidence["rows_read"], serde_json::json!(200_000));
        assert!(f.evidence["discard_share"].as_f64().unwrap() > 0.99);
        assert_eq!(f.index_hint.as_deref(), Some("status, customer_id"));
        assert_eq!(
            f.fix_sql.as_deref(),
            Some("CREATE INDEX CONCURRENTLY ON \"orders\" (\"status\", \"customer_id\");")
        );
        assert!(f.message.contains("reads 200,000 rows"), "{}", f.message);
    }

    #[test]
    fn parallel_scans_count_every_process() {
        let f = only(&SeqScanLargeTable, &["parallel_seq_scan"]);
        assert_eq!(
            f.node.as_deref(),
            Some("Parallel Seq Scan on public.orders")
        );
        assert_eq!(f.evidence["rows_read"], serde_json::json!(200_000));
        assert_eq!(
            f.fix_sql.as_deref(),
            Some("CREATE INDEX CONCURRENTLY ON \"public\".\"orders\" (\"customer_id\");")
        );
    }

    #[test]
    fn plain_explain_needs_table_sizes() {
        assert!(check(&SeqScanLargeTable, &["generic_plan_estimate"]).is_empty());
        // 100,000 of 200,000 rows kept: not selective
        let rows = BTreeMap::from([("jobs".to_owned(), 200_000.0)]);
        let ctx = context(&["generic_plan_estimate"]).with_table_rows(rows);
        assert!(
            SeqScanLargeTable
                .check(&ctx, &Thresholds::default())
                .is_empty()
        );
        let rows = BTreeMap::from([("jobs".to_owned(), 5_000_000.0)]);
        let ctx = context(&["generic_plan_estimate"]).with_table_rows(rows);
        let found = SeqScanLargeTable.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].evidence["estimated"], serde_json::json!("true"));
        assert_eq!(found[0].index_hint.as_deref(), Some("state"));
    }

    #[test]
    fn thresholds_apply() {
        let none = check_with(
            &SeqScanLargeTable,
            &["seq_scan_large_table"],
            "seq-scan-large-table.min_rows=300000",
        );
        assert!(none.is_empty());
        let none = check_with(
            &SeqScanLargeTable,
            &["seq_scan_large_table"],
            "seq-scan-large-table.min_discard_share=1",
        );
        assert!(none.is_empty());
    }

    #[test]
    fn scans_that_keep_most_rows_or_have_no_filter_are_fine() {
        assert_silent_on_clean(&SeqScanLargeTable);
        assert!(check(&SeqScanLargeTable, &["row_misestimate_stale"]).is_empty());
        assert!(check(&SeqScanLargeTable, &["sort_spill"]).is_empty());
    }
}
