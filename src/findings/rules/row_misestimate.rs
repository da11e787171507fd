//! `row-misestimate`: the planner's row estimate for a node is off by at
//! least `min_factor` either way. Every later choice (join method, join
//! order, memory) rests on these numbers.
//!
//! Only the node where an error starts is reported: a node whose own child
//! is already misestimated inherits the error and is skipped. Per loop, both
//! sides count as at least one row (`Actual Rows` is a rounded average);
//! loops count for `min_rows`. Overestimates below a Limit, inside a
//! semi/anti join, a Merge Join or a subplan are expected (those stop
//! reading early) and are not reported.
//!
//! Advice by node: a scan's own condition on two or more columns of its
//! table → CREATE STATISTICS (ndistinct, dependencies) on them and ANALYZE;
//! one column or none → ANALYZE, then a higher statistics target; a join
//! or aggregate → ANALYZE the tables below it.

use crate::findings::advice::{count, quote_ident, relation_sql, times};
use crate::findings::{Finding, PlanContext, Rule, Severity, Thresholds};
use crate::plan::{Misestimate, NodeRef, PlanNode, PlanWalk, condition_columns};

pub struct RowMisestimate;

const ID: &str = "row-misestimate";

/// PostgreSQL's identifier length limit (NAMEDATALEN - 1).
const MAX_NAME_BYTES: usize = 63;

impl Rule for RowMisestimate {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &PlanContext, t: &Thresholds) -> Vec<Finding> {
        let Some(explain) = ctx.plan() else {
            return Vec::new();
        };
        let walk = explain.nodes();
        let mut found: Vec<(f64, Finding)> = walk
            .iter()
            .filter_map(|n| {
                let m = qualifying(&walk, n, t)?;
                let inherited = walk.children(n).any(|c| qualifying(&walk, c, t).is_some());
                (!inherited).then(|| (m.factor, finding(&walk, n, m)))
            })
            .collect();
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        found.into_iter().map(|(_, f)| f).collect()
    }
}

fn qualifying(walk: &PlanWalk<'_>, n: NodeRef<'_>, t: &Thresholds) -> Option<Misestimate> {
    let m = n.node.misestimate()?;
    if m.factor < t.misestimate_min_factor || m.rows_involved() < t.misestimate_min_rows {
        return None;
    }
    if !m.underestimated && stops_early(walk, n) {
        return None;
    }
    Some(m)
}

/// Below a node that may stop pulling rows before its input ends.
fn stops_early(walk: &PlanWalk<'_>, n: NodeRef<'_>) -> bool {
    let in_subplan = |node: &PlanNode| {
        matches!(
            node.parent_relationship.as_deref(),
            Some("SubPlan" | "InitPlan")
        )
    };
    in_subplan(n.node)
        || walk.ancestors(n).any(|a| {
            let node = a.node;
            node.node_type == "Limit"
                || node.node_type == "Merge Join"
                || matches!(node.join_type.as_deref(), Some("Semi" | "Anti"))
                || in_subplan(node)
        })
}

fn finding(walk: &PlanWalk<'_>, n: NodeRef<'_>, m: Misestimate) -> Finding {
    let node = n.node;
    let direction = if m.underestimated {
        "underestimated"
    } else {
        "overestimated"
    };
    let loops = if m.loops > 1.0 {
        format!(" per loop over {} loops", count(m.loops))
    } else {
        String::new()
    };
    let message = format!(
        "{} {direction} rows {}: {} estimated, {} actual{loops}",
        node.label(),
        times(m.factor),
        count(m.estimated_rows),
        count(m.actual_rows),
    );
    let (advice, fix_sql, relation) = match walk.relation_of(n) {
        Some(scan) => scan_advice(node, scan),
        None => subtree_advice(walk, n),
    };
    Finding::new(ID, Severity::Warning, message, advice)
        .at(node)
        .relation(relation)
        .evidence("estimated_rows", m.estimated_rows)
        .evidence("actual_rows", m.actual_rows)
        .evidence("loops", m.loops)
        .evidence("factor", m.factor)
        .evidence("direction", if m.underestimated { "under" } else { "over" })
        .fix_sql(fix_sql)
}

/// The node's own conditions (a Bitmap Index Scan has only its Index Cond).
fn conditions(node: &PlanNode) -> Vec<&str> {
    [&node.filter, &node.index_cond, &node.recheck_cond]
        .into_iter()
        .filter_map(|c| c.as_deref())
        .collect()
}

fn scan_advice(node: &PlanNode, scan: &PlanNode) -> (String, Option<String>, Option<String>) {
    let table_sql = relation_sql(scan).unwrap_or_default();
    let table = scan.qualified_relation();
    let names = [scan.alias.as_deref(), scan.relation_name.as_deref()];
    let mut columns: Vec<String> = Vec::new();
    for condition in conditions(node) {
        for c in condition_columns(condition) {
            if (c.qualifier.is_none() || names.contains(&c.qualifier.as_deref()))
                && !columns.contains(&c.column)
            {
                columns.push(c.column);
            }
        }
    }
    let analyze = format!("ANALYZE {table_sql};");
    if columns.len() >= 2 {
        let quoted: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        let name = statistics_name(scan.relation_name.as_deref().unwrap_or("t"), &columns);
        let create = format!(
            "CREATE STATISTICS {} (ndistinct, dependencies) ON {} FROM {table_sql};",
            quote_ident(&name),
            quoted.join(", ")
        );
        let advice = format!(
            "The planner multiplies the selectivities of {} as if they were independent. When the columns are \
             correlated, extended statistics tell it so: {create} {analyze} (If the statistics were merely stale, \
             the ANALYZE alone fixes it.)",
            quoted.join(" and ")
        );
        (advice, Some(format!("{create}\n{analyze}")), table)
    } else {
        let target = columns.first().map_or(String::new(), |c| {
            format!(
                " If it stays off, sample more of the column: ALTER TABLE {table_sql} ALTER COLUMN {} SET STATISTICS 1000; {analyze}",
                quote_ident(c)
            )
        });
        let advice = format!(
            "The statistics of {} do not describe its rows (stale after bulk changes, or autovacuum has not analyzed \
             it yet): {analyze}{target}",
            table.as_deref().unwrap_or("the table"),
        );
        (advice, Some(analyze), table)
    }
}

fn subtree_advice(walk: &PlanWalk<'_>, n: NodeRef<'_>) -> (String, Option<String>, Option<String>) {
    let mut tables: Vec<String> = Vec::new();
    for d in walk.descendants(n) {
        if let Some(sql) = relation_sql(d.node)
            && !tables.contains(&sql)
        {
            tables.push(sql);
        }
    }
    if tables.is_empty() {
        let advice = "The estimate comes from a function, VALUES list or subquery the planner cannot see into; \
                      for a set-returning function, declare its ROWS estimate (ALTER FUNCTION … ROWS n)."
            .to_owned();
        return (advice, None, None);
    }
    let analyze: Vec<String> = tables.iter().map(|t| format!("ANALYZE {t};")).collect();
    let what = if n.node.group_key.is_some() {
        "the number of groups"
    } else if n.node.node_type.contains("Join") || n.node.node_type == "Nested Loop" {
        "the join's selectivity"
    } else {
        "the rows"
    };
    let advice = format!(
        "Its inputs are estimated well but {what} is not. Refresh the statistics of the tables below it \
         ({}); if that does not help, raise the statistics target of the join or grouping columns \
         (ALTER TABLE … ALTER COLUMN … SET STATISTICS 1000) or create ndistinct statistics on grouping \
         columns of one table.",
        analyze.join(" ")
    );
    (advice, Some(analyze.join("\n")), None)
}

/// `<table>_<col>_<col>_stats`, cut to PostgreSQL's 63-byte limit.
fn statistics_name(table: &str, columns: &[String]) -> String {
    let mut name = format!("{table}_{}_stats", columns.join("_"));
    if name.len() > MAX_NAME_BYTES {
        let mut cut = MAX_NAME_BYTES;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{assert_silent_on_clean, check, check_with, only};

    #[test]
    fn correlated_columns_get_extended_statistics() {
        let f = only(&RowMisestimate, &["row_misestimate_correlated"]);
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.node.as_deref(), Some("Seq Scan on addresses"));
        assert_eq!(f.evidence["direction"], serde_json::json!("under"));
        assert!(f.evidence["factor"].as_f64().unwrap() >= 10.0);
        assert_eq!(
            f.fix_sql.as_deref(),
            Some(
                "CREATE STATISTICS \"addresses_city_zip_stats\" (ndistinct, dependencies) ON \"city\", \"zip\" FROM \"addresses\";\nANALYZE \"addresses\";"
            )
        );
    }

    #[test]
    fn stale_statistics_get_analyze() {
        let f = only(&RowMisestimate, &["row_misestimate_stale"]);
        assert_eq!(f.node.as_deref(), Some("Seq Scan on events"));
        assert_eq!(f.relation.as_deref(), Some("events"));
        assert_eq!(f.evidence["actual_rows"], serde_json::json!(200_000));
        assert_eq!(f.fix_sql.as_deref(), Some("ANALYZE \"events\";"));
        assert!(f.advice.contains("SET STATISTICS 1000"), "{}", f.advice);
        // the Aggregate above inherits the error and is not reported
        assert!(f.message.contains("underestimated"), "{}", f.message);
    }

    #[test]
    fn thresholds_apply() {
        assert!(
            check_with(
                &RowMisestimate,
                &["row_misestimate_correlated"],
                "row-misestimate.min_factor=1000"
            )
            .is_empty()
        );
        assert!(
            check_with(
                &RowMisestimate,
                &["row_misestimate_correlated"],
                "row-misestimate.min_rows=1000000"
            )
            .is_empty()
        );
    }

    #[test]
    fn early_stopping_overestimates_are_expected() {
        // the Limit's input sorts and stops early; the subplan's index
        // scans run once per row
        for f in check(&RowMisestimate, &["limit_subplan_cte"]) {
            assert_eq!(
                f.evidence["direction"],
                serde_json::json!("under"),
                "{f:#?}"
            );
        }
    }

    #[test]
    fn well_estimated_plans_are_fine() {
        assert_silent_on_clean(&RowMisestimate);
        assert!(check(&RowMisestimate, &["sort_spill"]).is_empty());
        assert!(check(&RowMisestimate, &["generic_plan_estimate"]).is_empty());
    }

    #[test]
    fn statistics_names_fit_the_identifier_limit() {
        let long: Vec<String> = (0..20).map(|i| format!("column_{i}")).collect();
        assert_eq!(statistics_name("t", &long).len(), 63);
        assert_eq!(
            statistics_name("t", &["a".into(), "b".into()]),
            "t_a_b_stats"
        );
    }
}
