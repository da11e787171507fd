//! Parser tests on the captured plans and on hand-made edge cases.

use super::fixtures::{ALL, plan};
use super::*;
use serde_json::json;

#[test]
fn every_fixture_parses_and_round_trips() {
    for (name, text) in ALL {
        let explain = parse_explain_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = serde_json::to_value(&explain).unwrap();
        assert_eq!(parse_explain(&again).as_ref(), Ok(&explain), "{name}");
    }
}

#[test]
fn nothing_the_server_printed_is_lost() {
    // Every key of every node ends up in a typed field or in `extra`:
    // the serialized plan holds the same keys with equal numbers.
    for (name, text) in ALL {
        let original: Value = serde_json::from_str(text).unwrap();
        let written = serde_json::to_value(parse_explain(&original).unwrap()).unwrap();
        assert_same_content(&original[0], &written, name);
    }
}

/// Same keys and values, numbers compared as f64, empty arrays equal to
/// absent keys (the model skips empty "Plans", "Workers", "Triggers").
fn assert_same_content(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let non_empty = |m: &Object| {
                m.iter()
                    .filter(|(_, v)| v.as_array().is_none_or(|a| !a.is_empty()))
                    .map(|(k, _)| k.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(non_empty(x), non_empty(y), "{at}");
            for key in non_empty(x) {
                assert_same_content(&x[&key], &y[&key], &format!("{at}.{key}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                assert_same_content(u, v, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) => assert_eq!(x.as_f64(), y.as_f64(), "{at}"),
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn analyze_fields_are_read() {
    let e = plan("seq_scan_large_table");
    let scan = &e.plan;
    assert_eq!(scan.node_type, "Seq Scan");
    assert_eq!(scan.relation_name.as_deref(), Some("orders"));
    assert_eq!(scan.alias.as_deref(), Some("orders"));
    assert!(
        scan.filter
            .as_deref()
            .unwrap()
            .contains("customer_id >= 4200")
    );
    assert!(scan.rows_removed_by_filter.unwrap() > 190_000.0);
    assert_eq!(scan.actual_loops, Some(1.0));
    assert!(scan.shared_hit_blocks.unwrap() + scan.shared_read_blocks.unwrap() > 1000);
    assert!(e.planning_time_ms.is_some() && e.execution_time_ms.is_some());
    assert!(e.is_analyzed());
    assert!(e.extra.contains_key("Planning"), "planning buffers kept");
    assert_eq!(scan.label(), "Seq Scan on orders");
}

#[test]
fn plain_explain_has_no_run_time_fields() {
    let e = plan("generic_plan_estimate");
    assert!(!e.is_analyzed());
    assert_eq!(e.execution_time_ms, None);
    assert_eq!(e.planning_time_ms, None);
    let scan = &e.plan;
    assert_eq!(scan.actual_rows, None);
    assert_eq!(scan.actual_loops, None);
    assert!(!scan.was_executed());
    assert_eq!(scan.total_actual_rows(), None);
    assert_eq!(scan.misestimate(), None);
    assert_eq!(scan.plan_rows, Some(100_000.0));
    assert_eq!(scan.filter.as_deref(), Some("(state = $1)"));
}

#[test]
fn verbose_plans_name_the_schema_and_workers() {
    let e = plan("parallel_seq_scan");
    let walk = e.nodes();
    let gather = walk.get(0).unwrap().node;
    assert_eq!(gather.node_type, "Gather");
    assert!(gather.workers_planned.unwrap() >= 1);
    assert!(gather.workers_launched.is_some());
    let scan = walk.get(1).unwrap().node;
    assert_eq!(scan.parallel_aware, Some(true));
    assert_eq!(scan.schema.as_deref(), Some("public"));
    assert_eq!(scan.label(), "Parallel Seq Scan on public.orders");
    assert!(!scan.workers.is_empty(), "VERBOSE prints per-worker rows");
    assert!(scan.extra.contains_key("Output"));
}

#[test]
fn jit_triggers_and_spills_are_typed() {
    let jit = plan("jit_dominating").jit.unwrap();
    assert!(jit.functions.unwrap() > 0);
    assert_eq!(jit.options.as_ref().unwrap().inlining, Some(true));
    assert!(jit.total_ms().unwrap() > 0.0);

    let writes = plan("insert_with_triggers");
    assert_eq!(writes.triggers.len(), 1);
    assert_eq!(writes.triggers[0].calls, Some(500.0));
    assert!(
        writes.triggers[0]
            .trigger_name
            .as_deref()
            .unwrap()
            .starts_with("RI_")
    );

    let sort = plan("sort_spill");
    assert_eq!(sort.plan.sort_space_type.as_deref(), Some("Disk"));
    assert!(sort.plan.sort_disk_kb().unwrap() > 1000);
    assert!(sort.extra.contains_key("Settings"));

    let hash = plan("hash_spill");
    let walk = hash.nodes();
    let h = walk
        .iter()
        .find(|n| n.node.node_type == "Hash")
        .unwrap()
        .node;
    assert!(h.hash_batches.unwrap() > 1 && h.peak_memory_usage.unwrap() > 0);
    assert_eq!(h.parent_relationship.as_deref(), Some("Inner"));
}

#[test]
fn walk_is_depth_first_with_parents() {
    let e = plan("limit_subplan_cte");
    let walk = e.nodes();
    assert_eq!(walk.get(0).unwrap().node.node_type, "Limit");
    assert_eq!(walk.get(0).unwrap().depth, 0);
    for n in walk.iter().skip(1) {
        let parent = walk.parent(n).unwrap();
        assert_eq!(parent.depth + 1, n.depth);
        assert!(parent.index < n.index);
        assert!(
            parent.node.plans.iter().any(|c| std::ptr::eq(c, n.node)),
            "parent holds the node"
        );
    }
    let deepest = walk.iter().max_by_key(|n| n.depth).unwrap();
    assert_eq!(walk.ancestors(deepest).count(), deepest.depth);
    assert_eq!(
        e.indexes_used(),
        vec!["countries_pkey", "customers_pkey", "orders_pkey"]
    );
}

#[test]
fn worst_estimate_and_loop_totals() {
    let e = plan("row_misestimate_correlated");
    let walk = e.nodes();
    let (node, m) = walk.worst_estimate().unwrap();
    assert_eq!(node.node.relation_name.as_deref(), Some("addresses"));
    assert!(m.underestimated && m.factor >= 10.0);
    let worst = e.worst_estimate().unwrap();
    assert_eq!(worst.node, "Seq Scan on addresses");
    assert_eq!((worst.index, worst.factor), (0, m.factor));
    assert_eq!(plan("generic_plan_estimate").worst_estimate(), None);

    let nl = plan("nested_loop_unindexed_inner");
    let walk = nl.nodes();
    let inner = walk
        .iter()
        .find(|n| n.node.node_type == "Materialize")
        .unwrap();
    assert_eq!(inner.node.actual_loops, Some(1000.0));
    assert_eq!(inner.node.total_actual_rows(), Some(10_000.0 * 1000.0));
}

#[test]
fn bitmap_index_scans_belong_to_their_heap_scan() {
    let e = plan("lossy_bitmap");
    let walk = e.nodes();
    let index = walk
        .iter()
        .find(|n| n.node.node_type == "Bitmap Index Scan")
        .unwrap();
    assert_eq!(
        walk.relation_of(index).unwrap().relation_name.as_deref(),
        Some("readings")
    );
}

#[test]
fn unexpected_types_are_kept_not_lost() {
    let v = json!([{
        "Plan": {"Node Type": "Seq Scan", "Plan Rows": "many", "Actual Loops": 2,
                 "Workers": 3, "Brand New Key": {"x": 1}},
        "Execution Time": "slow",
        "JIT": {"Functions": 2, "Timing": {"Generation": {"Deform": 1.0, "Total": 2.0}, "Total": 9.5}}
    }]);
    let e = parse_explain(&v).unwrap();
    assert_eq!(e.plan.plan_rows, None);
    assert_eq!(e.plan.extra["Plan Rows"], json!("many"));
    assert_eq!(e.plan.actual_loops, Some(2.0));
    assert_eq!(e.plan.extra["Workers"], json!(3));
    assert_eq!(e.plan.extra["Brand New Key"], json!({"x": 1}));
    assert_eq!(e.execution_time_ms, None);
    assert_eq!(e.extra["Execution Time"], json!("slow"));
    let timing = e.jit.unwrap().timing.unwrap();
    assert_eq!(timing.total, Some(9.5));
    assert_eq!(timing.generation, None);
    assert_eq!(timing.extra["Generation"]["Total"], json!(2.0));
}

#[test]
fn structural_errors_are_errors() {
    let err = |v: Value| parse_explain(&v).unwrap_err().to_string();
    assert!(err(json!([])).contains("0 items"));
    assert!(err(json!(3)).contains("a number"));
    assert!(err(json!([{"Plans": []}])).contains("no \"Plan\""));
    assert!(err(json!({"Plan": []})).contains("not an object"));
    assert!(err(json!({"Plan": {"Node Type": 1}})).contains("\"Node Type\" is a number"));
    assert!(
        err(json!({"Plan": {"Node Type": "Sort", "Plans": [{"Node Type": "A"}, 5]}}))
            .contains("Plan.Plans[1]")
    );
    assert!(err(json!({"Plan": {"Node Type": "Sort", "Plans": {}}})).contains("not an array"));
    assert!(
        parse_explain_str("[{")
            .unwrap_err()
            .to_string()
            .contains("invalid JSON")
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let mut v = json!({"Node Type": "Result"});
    for _ in 0..MAX_DEPTH + 5 {
        v = json!({"Node Type": "Materialize", "Plans": [v]});
    }
    let e = parse_explain(&json!({"Plan": v}));
    assert!(matches!(e, Err(PlanError::TooDeep { .. })));
}

#[test]
fn auto_explain_objects_are_accepted() {
    let v = json!({"Query Text": "select 1", "Plan": {"Node Type": "Result"}});
    let e = parse_explain(&v).unwrap();
    assert_eq!(e.query_text.as_deref(), Some("select 1"));
    let back: Explain = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
    assert_eq!(back, e);
}
