//! Integration tests: the pgadvisor binary against fixtures captured from a
//! real PostgreSQL 15 server, and against the live server itself.

mod analyze;
mod apply;
mod bench_cache;
mod bench_pool;
mod by_table;
mod catalog;
mod cli;
mod connect;
mod health;
mod monitor;
mod pg_stat_statements;
mod recommend;
mod shapes;
mod tls;
mod util;
mod workload_fixtures;
mod workload_inputs;
