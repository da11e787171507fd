//! The plans captured from a real PostgreSQL 15 server by
//! `scripts/capture-plans.sh` (fixtures/plans/), compiled into the tests.

use super::{Explain, parse_explain_str};

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        /// Every captured plan: (name, JSON text).
        pub(crate) const ALL: &[(&str, &str)] = &[
            $(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plans/", $name, ".json"))),)*
        ];
    };
}

fixtures![
    "buffers_read_share",
    "clean_index_scan",
    "custom_plan",
    "generic_plan",
    "generic_plan_estimate",
    "hash_spill",
    "hashagg_spill",
    "heap_fetches",
    "insert_with_triggers",
    "jit_dominating",
    "limit_subplan_cte",
    "lossy_bitmap",
    "nested_loop_unindexed_inner",
    "parallel_seq_scan",
    "planning_over_execution",
    "row_misestimate_correlated",
    "row_misestimate_stale",
    "seq_scan_large_table",
    "sort_spill",
];

/// The captured plan `name`, parsed.
pub(crate) fn plan(name: &str) -> Explain {
    let (_, text) = ALL
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    parse_explain_str(text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

#[test]
fn every_captured_plan_is_listed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plans");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = ALL.iter().map(|(n, _)| *n).collect();
    assert_eq!(on_disk, listed);
}
