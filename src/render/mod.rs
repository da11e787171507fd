//! Writers for reports: tables for people, JSON for scripts. They only
//! format; the data comes from the commands' pure cores.

pub mod analyze;
pub mod apply;
pub mod by_table;
pub mod check;
pub mod recommend;
pub mod table;
pub mod workload_json;
pub mod workload_table;
