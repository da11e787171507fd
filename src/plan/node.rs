//! One node of the plan tree, with typed fields for what the finding rules
//! read; every other key the server printed is kept in `extra`.
//!
//! Units are the server's: costs in planner units, times in milliseconds,
//! rows and loops as counts (`Actual Rows`, `Rows Removed by …` are per-loop
//! averages), blocks in pages of `block_size` (8 kB by default), memory and
//! disk sizes (`Sort Space Used`, `Peak Memory Usage`, `Disk Usage`) in kB.

use super::json::{Object, json_record, take_records};
use serde::Serialize;

json_record! {
    /// A node of an EXPLAIN (FORMAT JSON) plan.
    pub struct PlanNode {
        "Parent Relationship" => parent_relationship: String,
        "Subplan Name" => subplan_name: String,
        "Relation Name" => relation_name: String,
        /// Printed with VERBOSE only.
        "Schema" => schema: String,
        "Alias" => alias: String,
        "Index Name" => index_name: String,
        "CTE Name" => cte_name: String,
        "Function Name" => function_name: String,
        "Join Type" => join_type: String,
        /// Aggregate strategy: Plain, Sorted, Hashed, Mixed.
        "Strategy" => strategy: String,
        "Partial Mode" => partial_mode: String,
        "Parallel Aware" => parallel_aware: bool,
        "Async Capable" => async_capable: bool,
        "Inner Unique" => inner_unique: bool,
        "Scan Direction" => scan_direction: String,
        "Startup Cost" => startup_cost: f64,
        "Total Cost" => total_cost: f64,
        /// Estimated rows per loop.
        "Plan Rows" => plan_rows: f64,
        "Plan Width" => plan_width: u64,
        "Actual Startup Time" => actual_startup_time: f64,
        "Actual Total Time" => actual_total_time: f64,
        /// Rows per loop (an average over the loops).
        "Actual Rows" => actual_rows: f64,
        "Actual Loops" => actual_loops: f64,
        "Filter" => filter: String,
        "Index Cond" => index_cond: String,
        "Recheck Cond" => recheck_cond: String,
        "Hash Cond" => hash_cond: String,
        "Merge Cond" => merge_cond: String,
        "Join Filter" => join_filter: String,
        "Rows Removed by Filter" => rows_removed_by_filter: f64,
        "Rows Removed by Join Filter" => rows_removed_by_join_filter: f64,
        "Rows Removed by Index Recheck" => rows_removed_by_index_recheck: f64,
        "Heap Fetches" => heap_fetches: f64,
        "Exact Heap Blocks" => exact_heap_blocks: u64,
        "Lossy Heap Blocks" => lossy_heap_blocks: u64,
        "Sort Key" => sort_key: Vec<String>,
        "Group Key" => group_key: Vec<String>,
        "Sort Method" => sort_method: String,
        /// kB, in memory or on disk as `sort_space_type` says.
        "Sort Space Used" => sort_space_used: u64,
        /// "Memory" or "Disk".
        "Sort Space Type" => sort_space_type: String,
        "Hash Buckets" => hash_buckets: u64,
        "Original Hash Buckets" => original_hash_buckets: u64,
        "Hash Batches" => hash_batches: u64,
        "Original Hash Batches" => original_hash_batches: u64,
        /// kB (Hash: per batch; HashAggregate: the whole table).
        "Peak Memory Usage" => peak_memory_usage: u64,
        "HashAgg Batches" => hashagg_batches: u64,
        "Planned Partitions" => planned_partitions: u64,
        /// kB written to disk by a HashAggregate.
        "Disk Usage" => disk_usage: u64,
        "Shared Hit Blocks" => shared_hit_blocks: u64,
        "Shared Read Blocks" => shared_read_blocks: u64,
        "Shared Dirtied Blocks" => shared_dirtied_blocks: u64,
        "Shared Written Blocks" => shared_written_blocks: u64,
        "Local Hit Blocks" => local_hit_blocks: u64,
        "Local Read Blocks" => local_read_blocks: u64,
        "Temp Read Blocks" => temp_read_blocks: u64,
        "Temp Written Blocks" => temp_written_blocks: u64,
        "I/O Read Time" => io_read_time: f64,
        "I/O Write Time" => io_write_time: f64,
        "Workers Planned" => workers_planned: u64,
        "Workers Launched" => workers_launched: u64,
        ;
        #[serde(rename = "Node Type")]
        pub node_type: String,
        /// Per-worker details of a parallel node ("Workers").
        #[serde(rename = "Workers", skip_serializing_if = "Vec::is_empty")]
        pub workers: Vec<Worker>,
        #[serde(rename = "Plans", skip_serializing_if = "Vec::is_empty")]
        pub plans: Vec<PlanNode>,
        /// Every key without a typed field above (or whose value did not have
        /// the expected type), as the server printed it.
        #[serde(flatten)]
        pub extra: Object,
    }
}

json_record! {
    /// One worker's share of a parallel node.
    pub struct Worker {
        "Worker Number" => worker_number: u64,
        "Actual Startup Time" => actual_startup_time: f64,
        "Actual Total Time" => actual_total_time: f64,
        "Actual Rows" => actual_rows: f64,
        "Actual Loops" => actual_loops: f64,
        "Sort Method" => sort_method: String,
        "Sort Space Used" => sort_space_used: u64,
        "Sort Space Type" => sort_space_type: String,
        "Peak Memory Usage" => peak_memory_usage: u64,
        "HashAgg Batches" => hashagg_batches: u64,
        "Disk Usage" => disk_usage: u64,
        "Shared Hit Blocks" => shared_hit_blocks: u64,
        "Shared Read Blocks" => shared_read_blocks: u64,
        "Temp Read Blocks" => temp_read_blocks: u64,
        "Temp Written Blocks" => temp_written_blocks: u64,
        ;
        #[serde(flatten)]
        pub extra: Object,
    }
}

impl Worker {
    pub(crate) fn from_object(mut object: Object) -> Worker {
        let mut worker = Worker::default();
        worker.fill_known(&mut object);
        worker.extra = object;
        worker
    }
}

impl PlanNode {
    /// Fills the typed fields and `extra` from a node object; `node_type`
    /// and `plans` are the caller's (they decide whether the node is valid).
    pub(crate) fn from_fields(node_type: String, mut object: Object) -> PlanNode {
        let mut node = PlanNode {
            node_type,
            ..PlanNode::default()
        };
        node.fill_known(&mut object);
        node.workers = take_records(&mut object, "Workers", Worker::from_object);
        node.extra = object;
        node
    }

    /// Whether the node has run-time numbers (EXPLAIN ANALYZE) and ran at
    /// least once.
    pub fn was_executed(&self) -> bool {
        self.actual_loops.is_some_and(|loops| loops > 0.0)
    }

    /// Rows produced over all loops: `actual_rows * actual_loops`.
    pub fn total_actual_rows(&self) -> Option<f64> {
        Some(self.actual_rows? * self.actual_loops?)
    }

    /// Rows read per loop before the filter discarded some:
    /// `actual_rows + rows_removed_by_filter`.
    pub fn rows_scanned_per_loop(&self) -> Option<f64> {
        Some(self.actual_rows? + self.rows_removed_by_filter.unwrap_or(0.0))
    }

    /// The relation as the plan names it: `schema.relation` with VERBOSE,
    /// the bare relation name otherwise. Unquoted, for display.
    pub fn qualified_relation(&self) -> Option<String> {
        let relation = self.relation_name.as_deref()?;
        Some(match self.schema.as_deref() {
            Some(schema) => format!("{schema}.{relation}"),
            None => relation.to_owned(),
        })
    }

    /// An index scan of any kind (Index Scan, Index Only Scan, Bitmap Index
    /// Scan), i.e. the node reads through an index.
    pub fn is_index_access(&self) -> bool {
        self.node_type.contains("Index")
    }

    /// kB a sort wrote to disk, by the node itself or by any of its workers
    /// (the largest); `None` when it sorted in memory or is not a sort.
    pub fn sort_disk_kb(&self) -> Option<u64> {
        let own = (self.sort_space_type.as_deref() == Some("Disk"))
            .then_some(self.sort_space_used)
            .flatten();
        let workers = self
            .workers
            .iter()
            .filter(|w| w.sort_space_type.as_deref() == Some("Disk"))
            .filter_map(|w| w.sort_space_used);
        own.into_iter().chain(workers).max()
    }

    /// A one-line name for the node, close to EXPLAIN's text format:
    /// "Seq Scan on public.orders o", "Index Scan using orders_pkey on
    /// orders", "Hash Left Join", "HashAggregate".
    pub fn label(&self) -> String {
        let mut name = String::new();
        if self.parallel_aware == Some(true) {
            name.push_str("Parallel ");
        }
        match (self.node_type.as_str(), self.strategy.as_deref()) {
            ("Aggregate", Some("Sorted")) => name.push_str("GroupAggregate"),
            ("Aggregate", Some("Hashed")) => name.push_str("HashAggregate"),
            ("Aggregate", Some("Mixed")) => name.push_str("MixedAggregate"),
            (node_type, _) => name.push_str(node_type),
        }
        if let Some(join) = self.join_type.as_deref().filter(|j| *j != "Inner") {
            if let Some(stem) = name.strip_suffix(" Join") {
                name = format!("{stem} {join} Join");
            } else {
                name = format!("{name} {join} Join");
            }
        }
        if let Some(index) = &self.index_name {
            name.push_str(if self.node_type == "Bitmap Index Scan" {
                " on "
            } else {
                " using "
            });
            name.push_str(index);
        }
        let target = self
            .qualified_relation()
            .or_else(|| self.cte_name.clone())
            .or_else(|| self.function_name.clone());
        if let Some(target) = target {
            name.push_str(" on ");
            name.push_str(&target);
            let own_name = self.relation_name.as_ref().or(self.cte_name.as_ref());
            if let Some(alias) = self.alias.as_ref().filter(|a| Some(*a) != own_name) {
                name.push(' ');
                name.push_str(alias);
            }
        }
        name
    }
}

/// How far a node's row estimate is from what it produced.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Misestimate {
    /// Estimated rows per loop.
    pub estimated_rows: f64,
    /// Actual rows per loop.
    pub actual_rows: f64,
    pub loops: f64,
    /// `max(actual, estimated) / min(actual, estimated)`, each side at least
    /// one row (so a rounded-down 0 never makes an infinite factor): ≥ 1.
    pub factor: f64,
    /// The planner expected fewer rows than came.
    pub underestimated: bool,
}

impl Misestimate {
    /// The larger of estimated and actual rows, over all loops.
    pub fn rows_involved(&self) -> f64 {
        self.estimated_rows.max(self.actual_rows) * self.loops
    }
}

impl PlanNode {
    /// The row misestimate of an executed node. Per loop, both sides floored
    /// at one row: `Actual Rows` is a rounded per-loop average, and 0 means
    /// "less than half a row", not "none".
    pub fn misestimate(&self) -> Option<Misestimate> {
        if !self.was_executed() {
            return None;
        }
        let estimated = self.plan_rows?;
        let actual = self.actual_rows?;
        let loops = self.actual_loops?;
        let (e, a) = (estimated.max(1.0), actual.max(1.0));
        Some(Misestimate {
            estimated_rows: estimated,
            actual_rows: actual,
            loops,
            factor: e.max(a) / e.min(a),
            underestimated: a > e,
        })
    }
}
