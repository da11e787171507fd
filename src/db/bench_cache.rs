//! What `bench-cache` says to PostgreSQL: the scratch schema (a table of
//! keyed rows for synthetic distributions, or of key versions for a
//! workload trace with writes; created in one transaction, always
//! dropped), the cache-aside read and the write of one key, the logged
//! statements of a trace run in a READ ONLY transaction, and the
//! pg_stat_statements counters of the scratch queries. Each benchmark
//! client owns one session opened through `connect` (application_name,
//! statement_timeout, lock_timeout).

use super::bench_pool::BindValue;
use super::{ConnInfo, SessionSettings, connect, scratch};
use crate::advisor::spec::quote_always;
use anyhow::{Context, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, Statement};

const SCRATCH_CREATE_SQL: &str = include_str!("sql/bench_cache_scratch_create.sql");
const VERSIONS_CREATE_SQL: &str = include_str!("sql/bench_cache_versions_create.sql");
const SCRATCH_VACUUM_SQL: &str = include_str!("sql/bench_cache_scratch_vacuum.sql");
const SCRATCH_DROP_SQL: &str = include_str!("sql/bench_cache_scratch_drop.sql");
const READ_SQL: &str = include_str!("sql/bench_cache_read.sql");
const WRITE_SQL: &str = include_str!("sql/bench_cache_write.sql");
const VERSION_READ_SQL: &str = include_str!("sql/bench_cache_version_read.sql");
const VERSION_WRITE_SQL: &str = include_str!("sql/bench_cache_version_write.sql");
const PGSS_SQL: &str = include_str!("sql/bench_cache_pgss.sql");
/// A trace read: the logged statement alone sees one snapshot anyway; with
/// a version to read beside it, both must see the same one.
const BEGIN_READ_ONLY_SQL: &str = "BEGIN READ ONLY";
const BEGIN_SNAPSHOT_SQL: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
const COMMIT_SQL: &str = "COMMIT";

/// A fresh scratch schema name: `pgadvisor_cache_<pid>_<random>`.
pub fn scratch_schema_name() -> String {
    format!(
        "pgadvisor_cache_{}_{:08x}",
        std::process::id(),
        fastrand::u32(..)
    )
}

/// What the scratch schema holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScratchKind {
    /// `items(id, payload, version)`: the rows a synthetic run caches.
    Items,
    /// `versions(id, version)`: the versions a trace run's writes bump.
    Versions,
}

impl ScratchKind {
    fn table(self) -> &'static str {
        match self {
            ScratchKind::Items => "items",
            ScratchKind::Versions => "versions",
        }
    }
}

fn render(template: &str, schema: &str, keys: u32) -> String {
    // A million rows load in a few seconds; allow a minute plus one second
    // per 10,000 keys before the server gives up.
    let timeout_ms = 60_000u64 + u64::from(keys) / 10;
    scratch::render(
        &template.replace("{keys}", &keys.to_string()),
        schema,
        timeout_ms,
    )
}

/// Creates and fills the scratch schema in one transaction, then vacuums
/// it. `interrupted` resolving (Ctrl-C) cancels the statement in flight;
/// the caller drops whatever is left.
pub async fn create_scratch(
    client: &Client,
    info: &ConnInfo,
    schema: &str,
    kind: ScratchKind,
    keys: u32,
    interrupted: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let create = match kind {
        ScratchKind::Items => render(SCRATCH_CREATE_SQL, schema, keys),
        ScratchKind::Versions => render(VERSIONS_CREATE_SQL, schema, keys),
    };
    let vacuum = render(SCRATCH_VACUUM_SQL, schema, keys).replace("{table}", kind.table());
    scratch::create(
        client,
        info,
        schema,
        &create,
        &vacuum,
        "bench-cache needs CREATE on the database for it",
        interrupted,
    )
    .await
}

/// Drops the scratch schema (and everything in it) if it exists, on a new
/// session when `client` is gone (the server restarted, the session was
/// terminated).
pub async fn drop_scratch_anyway(client: &Client, info: &ConnInfo, schema: &str) -> Result<()> {
    scratch::drop_anyway(client, info, schema, &render(SCRATCH_DROP_SQL, schema, 0)).await
}

/// A logged statement with its logged parameter values, as a trace key
/// runs it on a miss.
#[derive(Clone, Debug)]
pub struct TraceStatement {
    pub sql: String,
    pub params: Vec<Option<String>>,
}

/// Where a benchmark session reads a key from.
#[derive(Clone, Debug)]
pub enum ReadPlan {
    /// `items` of the scratch schema: key k is row id k.
    Items { schema: String },
    /// The workload's own statements, in the user's database; with a
    /// versions table when the run writes.
    Trace { versions: Option<String> },
}

/// Why a database call failed: the statement (counted, the run goes on)
/// or the session (the run stops).
#[derive(Debug)]
pub enum DbFailure {
    Statement(String),
    Connection(tokio_postgres::Error),
}

impl DbFailure {
    fn from(e: tokio_postgres::Error, client: &Client) -> DbFailure {
        let lost = client.is_closed()
            || e.is_closed()
            || e.as_db_error().is_none()
            || e.code().is_some_and(|c| {
                let class = &c.code()[..2];
                // 57: the server is shutting down or the session was
                // terminated; 08: connection exceptions.
                class == "57" && *c != SqlState::QUERY_CANCELED || class == "08"
            });
        if lost {
            DbFailure::Connection(e)
        } else {
            DbFailure::Statement(super::check::db_message(&e))
        }
    }
}

/// Any column value, as the bytes the server sent: a trace read caches the
/// result as it came, whatever the types.
struct RawValue(Vec<u8>);

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue(raw.to_vec()))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue(Vec::new()))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// One benchmark client's session with its prepared statements.
pub struct BenchCacheSession {
    client: Client,
    plan: ReadPlan,
    read: Option<Statement>,
    write: Option<Statement>,
    version_read: Option<Statement>,
}

/// A scratch statement with the schema filled in.
fn scratch_statement(template: &str, schema: &str) -> String {
    render(template, schema, 0)
}

/// The scratch statements of a plan, as sent: (read, write, version read).
fn plan_statements(plan: &ReadPlan) -> (Option<String>, Option<String>, Option<String>) {
    match plan {
        ReadPlan::Items { schema } => (
            Some(scratch_statement(READ_SQL, schema)),
            Some(scratch_statement(WRITE_SQL, schema)),
            None,
        ),
        ReadPlan::Trace {
            versions: Some(schema),
        } => (
            None,
            Some(scratch_statement(VERSION_WRITE_SQL, schema)),
            Some(scratch_statement(VERSION_READ_SQL, schema)),
        ),
        ReadPlan::Trace { versions: None } => (None, None, None),
    }
}

impl BenchCacheSession {
    /// Opens a session through `connect` and prepares the scratch
    /// statements the plan needs.
    pub async fn open(
        info: &ConnInfo,
        settings: &SessionSettings,
        plan: &ReadPlan,
    ) -> Result<BenchCacheSession> {
        let target = info.display_url();
        let client = connect(info, settings).await?;
        let (read, write, version_read) = plan_statements(plan);
        let mut prepared = Vec::with_capacity(3);
        for sql in [read, write, version_read] {
            prepared.push(match sql {
                Some(sql) => Some(client.prepare(&sql).await.with_context(|| {
                    format!("cannot prepare the bench-cache statements on {target}")
                })?),
                None => None,
            });
        }
        let version_read = prepared.pop().flatten();
        let write = prepared.pop().flatten();
        let read = prepared.pop().flatten();
        Ok(BenchCacheSession {
            client,
            plan: plan.clone(),
            read,
            write,
            version_read,
        })
    }

    /// Reads one key as the plan says: its cached form and its version.
    pub async fn read(
        &self,
        key: u32,
        trace: Option<&TraceStatement>,
    ) -> Result<(Vec<u8>, i64), DbFailure> {
        match (&self.plan, &self.read, trace) {
            (ReadPlan::Items { .. }, Some(read), _) => self.read_item(read, key).await,
            (ReadPlan::Trace { .. }, _, Some(statement)) => self.read_trace(key, statement).await,
            _ => Err(DbFailure::Statement(format!(
                "key {key} has no statement to run"
            ))),
        }
    }

    async fn read_item(&self, read: &Statement, key: u32) -> Result<(Vec<u8>, i64), DbFailure> {
        let id = key as i32;
        match self.client.query_opt(read, &[&id]).await {
            Ok(Some(row)) => {
                let payload: String = row.get(0);
                Ok((payload.into_bytes(), row.get(1)))
            }
            Ok(None) => Err(DbFailure::Statement(format!("scratch row {id} is missing"))),
            Err(e) => Err(DbFailure::from(e, &self.client)),
        }
    }

    /// Runs a logged statement with its logged parameters in a READ ONLY
    /// transaction (beside the key's version, from the same snapshot, when
    /// the run writes). BEGIN, the statements and COMMIT are pipelined —
    /// one round trip — and the statement goes unnamed with its parameter
    /// types left to the server (`unknown`, as for literals), so no
    /// prepared statement piles up per logged text. The result is cached
    /// as the bytes of every value.
    async fn read_trace(
        &self,
        key: u32,
        statement: &TraceStatement,
    ) -> Result<(Vec<u8>, i64), DbFailure> {
        let values: Vec<BindValue<'_>> = statement
            .params
            .iter()
            .map(|p| BindValue::Text(p.as_deref()))
            .collect();
        let params: Vec<(&(dyn ToSql + Sync), Type)> = values
            .iter()
            .map(|v| (v as &(dyn ToSql + Sync), Type::UNKNOWN))
            .collect();
        let id = key as i32;
        let begin = match self.version_read {
            Some(_) => BEGIN_SNAPSHOT_SQL,
            None => BEGIN_READ_ONLY_SQL,
        };
        let version = async {
            match &self.version_read {
                Some(v) => self
                    .client
                    .query_one(v, &[&id])
                    .await
                    .map(|r| r.get::<_, i64>(0)),
                None => Ok(0),
            }
        };
        // join! polls in order, so the messages go out in this order.
        let (begun, version, rows, committed) = tokio::join!(
            self.client.batch_execute(begin),
            version,
            self.client.query_typed(&statement.sql, &params),
            self.client.batch_execute(COMMIT_SQL),
        );
        let result = (|| {
            begun?;
            let version = version?;
            let rows = rows?;
            committed?;
            let mut bytes = Vec::new();
            for row in &rows {
                for i in 0..row.len() {
                    let RawValue(v) = row.try_get(i)?;
                    bytes.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    bytes.extend_from_slice(&v);
                }
            }
            Ok::<_, tokio_postgres::Error>((bytes, version))
        })();
        result.map_err(|e| DbFailure::from(e, &self.client))
    }

    /// A committed write to `key`: its new version.
    pub async fn write(&self, key: u32) -> Result<i64, DbFailure> {
        let Some(write) = &self.write else {
            return Err(DbFailure::Statement(
                "this run has nowhere to write".to_string(),
            ));
        };
        let id = key as i32;
        match self.client.query_opt(write, &[&id]).await {
            Ok(Some(row)) => Ok(row.get(0)),
            Ok(None) => Err(DbFailure::Statement(format!("scratch row {id} is missing"))),
            Err(e) => Err(DbFailure::from(e, &self.client)),
        }
    }
}

/// Calls and execution time of the scratch statements so far, from
/// pg_stat_statements (reads, writes).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScratchCounters {
    pub read_calls: i64,
    pub read_exec_ms: f64,
    pub write_calls: i64,
    pub write_exec_ms: f64,
}

/// The pg_stat_statements view to read the scratch counters from, when
/// the extension is installed in this database (and preloaded).
pub async fn pgss_view(client: &Client) -> Option<String> {
    let probe = super::pg_stat_statements::probe(client).await.ok()?;
    if probe.installed_version.is_none() || probe.preloaded == Some(false) {
        return None;
    }
    probe.view_name
}

/// The counters of the run's scratch statements (`plan`'s read and write).
pub async fn scratch_counters(
    client: &Client,
    view: &str,
    plan: &ReadPlan,
) -> Result<ScratchCounters> {
    let schema = match plan {
        ReadPlan::Items { schema } => schema,
        ReadPlan::Trace {
            versions: Some(schema),
        } => schema,
        ReadPlan::Trace { versions: None } => return Ok(ScratchCounters::default()),
    };
    let sql = PGSS_SQL.trim().replace("{view}", view);
    let rows = client
        .query(&sql, &[&quote_always(schema)])
        .await
        .context("cannot read pg_stat_statements")?;
    let mut out = ScratchCounters::default();
    for row in rows {
        let query: Option<String> = row.get(0);
        let (calls, ms): (i64, f64) = (row.get(1), row.get(2));
        match scratch_statement_kind(query.as_deref().unwrap_or_default()) {
            Some(true) => {
                out.read_calls += calls;
                out.read_exec_ms += ms;
            }
            Some(false) => {
                out.write_calls += calls;
                out.write_exec_ms += ms;
            }
            None => {}
        }
    }
    Ok(out)
}

/// Whether a pg_stat_statements text naming the scratch schema is its read
/// (`Some(true)`), its write (`Some(false)`) or the setup. The view keeps
/// the text as sent but with constants replaced by `$n`, so only the
/// leading keyword is compared, after the comment lines.
fn scratch_statement_kind(query: &str) -> Option<bool> {
    let statement = query
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))?;
    let word = statement.split_whitespace().next()?.to_ascii_uppercase();
    match word.as_str() {
        "SELECT" => Some(true),
        "UPDATE" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_quote_the_schema_and_leave_nothing_unfilled() {
        let create = render(SCRATCH_CREATE_SQL, "pgadvisor_cache_1_ab", 500);
        assert!(create.contains("CREATE SCHEMA \"pgadvisor_cache_1_ab\";"));
        assert!(create.contains("generate_series(0, 500 - 1)"));
        assert!(!create.contains('{'), "{create}");
        let versions = render(VERSIONS_CREATE_SQL, "s", 3);
        assert!(versions.contains("CREATE TABLE \"s\".versions"));
        let drop = render(SCRATCH_DROP_SQL, "we\"ird", 0);
        assert!(drop.ends_with("DROP SCHEMA IF EXISTS \"we\"\"ird\" CASCADE"));
        let (read, write, _) = plan_statements(&ReadPlan::Items { schema: "s".into() });
        assert!(read.unwrap().ends_with("FROM \"s\".items WHERE id = $1"));
        assert!(write.unwrap().contains("RETURNING version"));
    }

    #[test]
    fn pg_stat_statements_texts_are_recognised_with_or_without_comments() {
        let (read, write, _) = plan_statements(&ReadPlan::Items { schema: "s".into() });
        let (read, write) = (read.unwrap(), write.unwrap());
        assert_eq!(scratch_statement_kind(&read), Some(true));
        assert_eq!(scratch_statement_kind(&write), Some(false));
        // As the view shows them: constants normalised, maybe no comment.
        assert_eq!(
            scratch_statement_kind(
                "UPDATE \"s\".items SET version = version + $2 WHERE id = $1 RETURNING version"
            ),
            Some(false)
        );
        let create = render(SCRATCH_CREATE_SQL, "s", 10);
        assert_eq!(scratch_statement_kind(&create), None);
        assert_eq!(scratch_statement_kind("CREATE SCHEMA \"s\""), None);
    }

    #[test]
    fn names_are_unique_and_safe() {
        let a = scratch_schema_name();
        assert!(a.starts_with(&format!("pgadvisor_cache_{}_", std::process::id())));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert_ne!(a, scratch_schema_name());
    }
}
