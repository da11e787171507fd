//! What `bench-pool` says to PostgreSQL: the preflight (server and
//! connection limits), the scratch schema of the built-in workloads
//! (created in one transaction, always dropped), the pool of benchmark
//! sessions (deadpool-postgres over the same connection settings as every
//! other session, with their own application_name so the sampler can find
//! them), the commit counter and the wait-event sample. The SQL the
//! workload itself runs comes from the user (script or log) or from the
//! built-in scripts in sql/.

use super::connect::driver_config;
use super::tls::client_config;
use super::{ConnInfo, scratch};
use crate::advisor::spec::quote_always;
use crate::bench::pool::cap::Slots;
use anyhow::{Context, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use std::time::{Duration, Instant};
use tokio_postgres::types::private::BytesMut;
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls};

const PREFLIGHT_SQL: &str = include_str!("sql/bench_pool_preflight.sql");
const SCRATCH_CREATE_SQL: &str = include_str!("sql/bench_pool_scratch_create.sql");
const SCRATCH_VACUUM_SQL: &str = include_str!("sql/bench_pool_scratch_vacuum.sql");
const SCRATCH_DROP_SQL: &str = include_str!("sql/bench_pool_scratch_drop.sql");
const COMMITS_SQL: &str = include_str!("sql/bench_pool_commits.sql");
const SESSIONS_SQL: &str = include_str!("sql/bench_pool_sessions.sql");
const ROUND_TRIP_SQL: &str = "SELECT 1";
/// Sent after a failed script transaction, so the connection goes back to
/// the pool outside any transaction.
pub const ROLLBACK_SQL: &str = "ROLLBACK";

/// pgbench's built-in `-S` script (pgbench script syntax).
pub const SELECT_ONLY_SCRIPT: &str = include_str!("sql/bench_pool_select_only.sql");
/// pgbench's built-in TPC-B-like script (pgbench script syntax).
pub const READ_WRITE_SCRIPT: &str = include_str!("sql/bench_pool_read_write.sql");

/// The application_name of this run's pool sessions: `pgadvisor-bench-<pid>`,
/// so two runs on one server never count each other's sessions.
pub fn bench_application_name() -> String {
    format!("pgadvisor-bench-{}", std::process::id())
}

/// A fresh scratch schema name: `pgadvisor_bench_<pid>_<random>`.
pub fn scratch_schema_name() -> String {
    format!(
        "pgadvisor_bench_{}_{:08x}",
        std::process::id(),
        fastrand::u32(..)
    )
}

/// The server and the connection limits that apply to this role here.
#[derive(Clone, Debug)]
pub struct Preflight {
    pub server_version: String,
    pub server_version_num: i32,
    pub database: String,
    pub role: String,
    pub ssl: bool,
    pub can_create: bool,
    pub slots: Slots,
}

pub async fn preflight(client: &Client) -> Result<Preflight> {
    let row = client
        .query_one(PREFLIGHT_SQL, &[])
        .await
        .context("cannot read the server's connection limits")?;
    Ok(Preflight {
        server_version: row.get("server_version"),
        server_version_num: row.get("server_version_num"),
        database: row.get("database_name"),
        role: row.get("role_name"),
        ssl: row.get("ssl"),
        can_create: row.get("can_create"),
        slots: Slots {
            max_connections: row.get("max_connections"),
            superuser_reserved: row.get("superuser_reserved"),
            reserved: row.get("reserved"),
            in_use: row.get("in_use"),
            superuser: row.get("superuser"),
            role_limit: row.get("role_limit"),
            role_in_use: row.get("role_in_use"),
            database_limit: row.get("database_limit"),
            database_in_use: row.get("database_in_use"),
        },
    })
}

/// Median round trip of a trivial query, in microseconds (the floor under
/// every latency the run will measure).
pub async fn round_trip_us(client: &Client) -> Result<u64> {
    let statement = client.prepare(ROUND_TRIP_SQL).await?;
    let mut times = Vec::with_capacity(21);
    for _ in 0..21 {
        let t = Instant::now();
        client.query_one(&statement, &[]).await?;
        times.push(t.elapsed().as_micros() as u64);
    }
    times.sort_unstable();
    Ok(times[times.len() / 2])
}

fn scratch_sql(template: &str, schema: &str, scale: u32) -> String {
    // Loading 100,000 rows takes well under a second; allow a minute plus
    // twenty seconds per unit of scale before the server gives up.
    let timeout_ms = 60_000u64 + 20_000 * u64::from(scale);
    scratch::render(
        &template.replace("{scale}", &scale.to_string()),
        schema,
        timeout_ms,
    )
}

/// Creates and fills the scratch schema in one transaction, then vacuums it.
/// `interrupted` resolving cancels the statement in flight (Ctrl-C): the
/// transaction rolls back and the caller drops whatever is left.
pub async fn create_scratch(
    client: &Client,
    info: &ConnInfo,
    schema: &str,
    scale: u32,
    interrupted: impl std::future::Future<Output = ()>,
) -> Result<()> {
    scratch::create(
        client,
        info,
        schema,
        &scratch_sql(SCRATCH_CREATE_SQL, schema, scale),
        &scratch_sql(SCRATCH_VACUUM_SQL, schema, scale),
        "the built-in workloads need CREATE on the database; a --script or a workload file needs none",
        interrupted,
    )
    .await
}

/// Sends a cancel request for whatever `client` is running.
pub async fn cancel(client: &Client, info: &ConnInfo) {
    let token = client.cancel_token();
    let tls = client_config(info.effective_sslmode(), info.sslrootcert.as_deref());
    let _ = match tls {
        Ok(Some(tls)) => {
            token
                .cancel_query(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
                .await
        }
        _ => token.cancel_query(NoTls).await,
    };
}

/// Drops the scratch schema (and everything in it) if it exists, on a new
/// session when `client` is gone.
pub async fn drop_scratch(client: &Client, info: &ConnInfo, schema: &str) -> Result<()> {
    scratch::drop_anyway(
        client,
        info,
        schema,
        &scratch_sql(SCRATCH_DROP_SQL, schema, 1),
    )
    .await
}

/// Committed and rolled-back transactions of this database so far.
pub async fn commits(client: &Client) -> Result<(i64, i64)> {
    let row = client
        .query_one(COMMITS_SQL, &[])
        .await
        .context("cannot read pg_stat_database")?;
    Ok((row.get(0), row.get(1)))
}

/// One sample of the benchmark's sessions: (state, wait event type, wait
/// event, sessions).
pub struct SessionSample {
    pub state: Option<String>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    pub sessions: i64,
}

pub async fn sample_sessions(
    client: &Client,
    application_name: &str,
) -> Result<Vec<SessionSample>> {
    let rows = client.query(SESSIONS_SQL, &[&application_name]).await?;
    Ok(rows
        .iter()
        .map(|r| SessionSample {
            state: r.get(0),
            wait_event_type: r.get(1),
            wait_event: r.get(2),
            sessions: r.get(3),
        })
        .collect())
}

/// How many of the benchmark's sessions the server still has.
pub async fn sessions_open(client: &Client, application_name: &str) -> Result<i64> {
    Ok(sample_sessions(client, application_name)
        .await?
        .iter()
        .map(|s| s.sessions)
        .sum())
}

/// How the benchmark's pool sessions are set up.
#[derive(Clone, Debug)]
pub struct BenchSession {
    pub application_name: String,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    /// The scratch schema, for the built-in scripts' unqualified names.
    pub search_path: Option<String>,
    /// `default_transaction_read_only = on`: the server itself refuses a
    /// write that got past the classifier (a function with side effects).
    pub read_only: bool,
}

impl BenchSession {
    /// The SET statements each new pool session runs once.
    pub fn setup_sql(&self) -> String {
        let mut sql = format!(
            "SET statement_timeout = '{}ms'; SET lock_timeout = '{}ms'",
            self.statement_timeout.as_millis(),
            self.lock_timeout.as_millis()
        );
        if let Some(schema) = &self.search_path {
            sql.push_str(&format!("; SET search_path = {}", quote_always(schema)));
        }
        if self.read_only {
            sql.push_str("; SET default_transaction_read_only = on");
        }
        sql
    }
}

/// The driver tasks of a pool's connections, to await once the pool is
/// dropped so that every session ends with a Terminate message.
#[derive(Clone, Default)]
pub struct Drivers(std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl Drivers {
    /// Waits (at most `limit`) for every driver task to finish; the pool and
    /// its connections must be dropped first.
    pub async fn finish(&self, limit: Duration) {
        let handles: Vec<_> =
            std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        let _ = tokio::time::timeout(limit, async {
            for h in handles {
                let _ = h.await;
            }
        })
        .await;
    }
}

/// A pool of at most `size` benchmark sessions, driven by the runtime that
/// first uses it. Checkout does no round trip (`RecyclingMethod::Fast`: a
/// closed connection is still noticed and replaced); waiting for a free
/// connection gives up after `wait_timeout`.
pub fn build_pool(
    info: &ConnInfo,
    session: &BenchSession,
    size: usize,
    wait_timeout: Duration,
) -> Result<(Pool, Drivers)> {
    let target = info.display_url();
    let mut config = driver_config(info);
    config.application_name(&session.application_name);
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let tls = client_config(info.effective_sslmode(), info.sslrootcert.as_deref())
        .with_context(|| format!("cannot connect to {target}"))?
        .map(tokio_postgres_rustls::MakeRustlsConnect::new);
    let drivers = Drivers::default();
    let connect = GracefulConnect {
        tls,
        drivers: drivers.clone(),
    };
    let manager = Manager::from_connect(config, connect, manager_config);
    let setup = session.setup_sql();
    let create_timeout = info.connect_timeout().unwrap_or(Duration::from_secs(30));
    let pool = Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(wait_timeout),
            create: Some(create_timeout),
            recycle: Some(wait_timeout),
        })
        .post_create(deadpool_postgres::Hook::async_fn(move |client, _| {
            let setup = setup.clone();
            Box::pin(async move {
                client
                    .batch_execute(&setup)
                    .await
                    .map_err(deadpool_postgres::HookError::Backend)
            })
        }))
        .build()
        .with_context(|| format!("cannot build a connection pool for {target}"))?;
    Ok((pool, drivers))
}

/// Opens pool connections whose driver task ends by itself. deadpool aborts
/// the task it is handed when it drops a connection, which cuts the socket
/// without a goodbye (the server logs "could not receive data from client"
/// for every session of every step); here it is handed an empty task
/// instead, and dropping the client lets the real driver send Terminate
/// (and TLS close_notify) and finish.
struct GracefulConnect {
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    drivers: Drivers,
}

type ConnectFuture<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<(Client, tokio::task::JoinHandle<()>), tokio_postgres::Error>,
            > + Send
            + 'a,
    >,
>;

impl deadpool_postgres::Connect for GracefulConnect {
    fn connect(&self, pg_config: &tokio_postgres::Config) -> ConnectFuture<'_> {
        let config = pg_config.clone();
        let tls = self.tls.clone();
        let drivers = self.drivers.clone();
        Box::pin(async move {
            let (client, driver) = match tls {
                Some(tls) => {
                    let (client, connection) = config.connect(tls).await?;
                    (
                        client,
                        tokio::spawn(async move {
                            let _ = connection.await;
                        }),
                    )
                }
                None => {
                    let (client, connection) = config.connect(NoTls).await?;
                    (
                        client,
                        tokio::spawn(async move {
                            let _ = connection.await;
                        }),
                    )
                }
            };
            drivers
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(driver);
            Ok((client, tokio::spawn(async {})))
        })
    }
}

/// Whether the connection goes to this machine: a Unix socket or a loopback
/// address (then the server's cores are this machine's cores).
pub fn is_local(info: &ConnInfo) -> bool {
    let host = info
        .hosts
        .first()
        .map(String::as_str)
        .unwrap_or("localhost");
    host.starts_with('/')
        || host == "localhost"
        || host == "::1"
        || host == "[::1]"
        || host.starts_with("127.")
}

/// `tcp`, `tls` or `unix`, as the run reached the server.
pub fn transport(info: &ConnInfo, ssl: bool) -> &'static str {
    if info.hosts.first().is_some_and(|h| h.starts_with('/')) {
        "unix"
    } else if ssl {
        "tls"
    } else {
        "tcp"
    }
}

/// A bind parameter sent in text format, whatever the parameter's type: the
/// server parses it as it would a literal (as pgbench and libpq do), so a
/// script's integer or a logged value fits an int4, a numeric, a date or a
/// text alike. Integers are written without allocating.
#[derive(Debug, Clone, Copy)]
pub enum BindValue<'a> {
    Int(i64),
    Text(Option<&'a str>),
}

impl ToSql for BindValue<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Self::Int(v) => {
                let mut buf = [0u8; 24];
                let text = format_i64(*v, &mut buf);
                out.extend_from_slice(text);
                Ok(IsNull::No)
            }
            Self::Text(Some(s)) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            Self::Text(None) => Ok(IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// Decimal digits of `v` in `buf`.
fn format_i64(v: i64, buf: &mut [u8; 24]) -> &[u8] {
    let mut i = buf.len();
    let negative = v < 0;
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_format_like_display() {
        for v in [0i64, 7, -7, 42, 100_000, i64::MAX, i64::MIN] {
            let mut buf = [0u8; 24];
            assert_eq!(format_i64(v, &mut buf), v.to_string().as_bytes());
        }
    }

    #[test]
    fn scratch_sql_quotes_the_schema() {
        let sql = scratch_sql(SCRATCH_DROP_SQL, "pgadvisor_bench_1_ab", 1);
        assert!(sql.contains("DROP SCHEMA IF EXISTS \"pgadvisor_bench_1_ab\" CASCADE"));
        let create = scratch_sql(SCRATCH_CREATE_SQL, "s", 3);
        assert!(create.contains("generate_series(1, 100000 * 3)"));
        assert!(create.contains("CREATE TABLE \"s\".pgbench_accounts"));
        assert!(!create.contains("{schema}") && !create.contains("{scale}"));
    }

    #[test]
    fn session_setup_is_quoted_and_complete() {
        let s = BenchSession {
            application_name: "pgadvisor-bench-1".into(),
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_millis(1500),
            search_path: Some("we\"ird".into()),
            read_only: true,
        };
        assert_eq!(
            s.setup_sql(),
            "SET statement_timeout = '5000ms'; SET lock_timeout = '1500ms'; SET search_path = \"we\"\"ird\"; SET default_transaction_read_only = on"
        );
    }

    #[test]
    fn names_are_unique_and_safe() {
        let a = scratch_schema_name();
        assert!(a.starts_with(&format!("pgadvisor_bench_{}_", std::process::id())));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert!(bench_application_name().starts_with("pgadvisor-bench-"));
    }
}
