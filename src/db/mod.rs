//! Everything pgadvisor says to PostgreSQL lives under here: connection
//! strings, TLS, session setup and each query (as .sql files in db/sql/),
//! so one directory shows exactly what the tool does to a database.

pub mod apply;
pub mod bench_cache;
pub mod bench_pool;
pub mod catalog;
pub mod check;
pub mod connect;
pub mod conninfo;
pub mod explain;
pub mod health;
pub mod monitor;
pub mod pg_stat_statements;
pub mod pgpass;
pub mod scratch;
pub mod server_host;
pub mod tls;
pub mod whatif;

pub use connect::{SessionSettings, connect};
pub use conninfo::ConnInfo;

/// Resolves the connection from `-d`/DATABASE_URL and the process
/// environment.
pub fn resolve_from_env(
    given: Option<&str>,
    connect_timeout: Option<u64>,
) -> anyhow::Result<ConnInfo> {
    let mut info = ConnInfo::resolve(given, &|name| std::env::var(name).ok())?;
    if connect_timeout.is_some() {
        info.connect_timeout = connect_timeout;
    }
    Ok(info)
}
