//! One module per rule, named after the rule's id; [`super::registry`]
//! lists them.

pub mod buffers_read_share;
pub mod generic_plan_worse;
pub mod hash_spill;
pub mod heap_fetches;
pub mod jit_dominating;
pub mod lossy_bitmap;
pub mod nested_loop_unindexed_inner;
pub mod planning_over_execution;
pub mod row_misestimate;
pub mod seq_scan_large_table;
pub mod sort_spill;
