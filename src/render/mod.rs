//! Writers for reports: tables for people, JSON for scripts. They only
//! format; the data comes from the commands' pure cores.

pub mod analyze;
pub mod apply;
pub mod bench_cache;
pub mod bench_cache_plot;
pub mod bench_pool;
pub mod bench_pool_plot;
pub mod by_table;
pub mod check;
pub mod monitor;
pub mod recommend;
pub mod table;
pub mod workload_json;
pub mod workload_table;
