//! Reading pg_stat_statements as a workload: a probe first (is the
//! extension installed here and preloaded, where is its view, which
//! columns has it), so each way of failing gets its own message and the
//! step that fixes it, then one read of the view.

use super::check::db_message;
use crate::workload::pgss::{StatStatement, is_pgadvisor_statement};
use anyhow::{Context, Result, anyhow, bail};
use tokio_postgres::{Client, Row};

const PROBE_SQL: &str = include_str!("sql/pg_stat_statements_probe.sql");
const READ_SQL: &str = include_str!("sql/pg_stat_statements_read.sql");

/// The oldest server whose pg_stat_statements has the columns read here
/// (`total_exec_time` and friends arrived in 13).
const MIN_SERVER_VERSION_NUM: i32 = 130_000;

/// Columns the read query needs from the view.
const REQUIRED_COLUMNS: [&str; 14] = [
    "queryid",
    "query",
    "dbid",
    "userid",
    "calls",
    "total_exec_time",
    "min_exec_time",
    "max_exec_time",
    "mean_exec_time",
    "stddev_exec_time",
    "rows",
    "total_plan_time",
    "shared_blks_hit",
    "shared_blks_read",
];

/// What the probe found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Probe {
    pub server_version_num: i32,
    pub server_version: String,
    pub database: String,
    /// `None` when this role may not see shared_preload_libraries.
    pub preloaded: Option<bool>,
    /// The version the server could install, if the package is there.
    pub available_version: Option<String>,
    /// The version installed in this database, if any.
    pub installed_version: Option<String>,
    /// `schema.pg_stat_statements`, the schema quoted by the server.
    pub view_name: Option<String>,
    pub view_columns: Vec<String>,
}

impl Probe {
    fn from_row(row: &Row) -> Result<Self> {
        let preload: Option<String> = row.try_get("shared_preload_libraries")?;
        Ok(Self {
            server_version_num: row.try_get("server_version_num")?,
            server_version: row.try_get("server_version")?,
            database: row.try_get("database_name")?,
            preloaded: preload.map(|list| {
                list.split(',')
                    .any(|lib| lib.trim().trim_matches('"') == "pg_stat_statements")
            }),
            available_version: row.try_get("available_version")?,
            installed_version: row.try_get("installed_version")?,
            view_name: row.try_get("view_name")?,
            view_columns: row.try_get("view_columns")?,
        })
    }

    fn has_column(&self, name: &str) -> bool {
        self.view_columns.iter().any(|c| c == name)
    }

    /// The read query for this view, or why the view cannot be read, with
    /// the step that fixes it.
    pub fn read_sql(&self) -> Result<String> {
        let db = &self.database;
        if self.server_version_num < MIN_SERVER_VERSION_NUM {
            bail!(
                "reading pg_stat_statements needs PostgreSQL 13 or newer; this server is {}",
                self.server_version
            );
        }
        let (Some(version), Some(view)) = (&self.installed_version, &self.view_name) else {
            let preload = match self.preloaded {
                Some(true) => "",
                Some(false) => {
                    "; it must also be added to shared_preload_libraries (then restart the server), or it collects nothing"
                }
                None => {
                    "; it must also be listed in shared_preload_libraries (this role cannot see that setting)"
                }
            };
            if self.available_version.is_none() {
                bail!(
                    "pg_stat_statements is not available on this server: install PostgreSQL's contrib package (Debian/Ubuntu: postgresql-contrib), add pg_stat_statements to shared_preload_libraries, restart the server, then run CREATE EXTENSION pg_stat_statements in database \"{db}\""
                );
            }
            bail!(
                "pg_stat_statements is not installed in database \"{db}\": run CREATE EXTENSION pg_stat_statements there{preload}"
            );
        };
        if self.preloaded == Some(false) {
            bail!(
                "pg_stat_statements is installed in database \"{db}\" but not loaded: add it to shared_preload_libraries and restart the server"
            );
        }
        let missing: Vec<&str> = REQUIRED_COLUMNS
            .iter()
            .copied()
            .filter(|c| !self.has_column(c))
            .collect();
        if !missing.is_empty() {
            bail!(
                "pg_stat_statements {version} in database \"{db}\" lacks {} (installed for an older server?): run ALTER EXTENSION pg_stat_statements UPDATE there",
                missing.join(", ")
            );
        }
        let toplevel = if self.has_column("toplevel") {
            "s.toplevel"
        } else {
            "true"
        };
        // The view last: a schema name may hold anything, braces included.
        Ok(READ_SQL
            .replace("{toplevel}", toplevel)
            .replace("{view}", view))
    }
}

/// Checks that pg_stat_statements can be read in the connected database.
pub async fn probe(client: &Client) -> Result<Probe> {
    let row = client
        .query_one(PROBE_SQL, &[])
        .await
        .map_err(|e| anyhow!(db_message(&e)))
        .context("cannot check for pg_stat_statements")?;
    Probe::from_row(&row).context("cannot check for pg_stat_statements")
}

/// The statements pg_stat_statements holds for the connected database
/// (every database with `all_databases`), top-level only where the view
/// can tell, heaviest first, without pgadvisor's own. Texts hidden from
/// this role come back as [`crate::workload::pgss::HIDDEN_TEXT`], to be
/// counted by the caller.
pub async fn read_statements(client: &Client, all_databases: bool) -> Result<Vec<StatStatement>> {
    let probe = probe(client).await?;
    let sql = probe.read_sql()?;
    let rows = client.query(&sql, &[&all_databases]).await.map_err(|e| {
        let mut message = db_message(&e);
        if message.contains("shared_preload_libraries") {
            message.push_str(
                ": add pg_stat_statements to shared_preload_libraries and restart the server",
            );
        }
        anyhow!(message).context(format!(
            "cannot read pg_stat_statements in database \"{}\"",
            probe.database
        ))
    })?;
    let mut statements = Vec::with_capacity(rows.len());
    for row in &rows {
        let statement =
            statement_from_row(row).context("unexpected row from pg_stat_statements")?;
        if !is_pgadvisor_statement(&statement.query) {
            statements.push(statement);
        }
    }
    Ok(statements)
}

fn statement_from_row(row: &Row) -> Result<StatStatement> {
    let count = |name: &str| -> Result<u64> {
        Ok(row.try_get::<_, Option<i64>>(name)?.unwrap_or(0).max(0) as u64)
    };
    let ms =
        |name: &str| -> Result<f64> { Ok(row.try_get::<_, Option<f64>>(name)?.unwrap_or(0.0)) };
    Ok(StatStatement {
        queryid: row.try_get("queryid")?,
        query: row
            .try_get::<_, Option<String>>("query")?
            .unwrap_or_default(),
        database: row.try_get("database_name")?,
        user: row.try_get("role_name")?,
        calls: count("calls")?,
        total_exec_ms: ms("total_exec_time")?,
        min_exec_ms: ms("min_exec_time")?,
        max_exec_ms: ms("max_exec_time")?,
        mean_exec_ms: ms("mean_exec_time")?,
        stddev_exec_ms: ms("stddev_exec_time")?,
        rows: count("rows")?,
        total_plan_ms: ms("total_plan_time")?,
        shared_blks_hit: count("shared_blks_hit")?,
        shared_blks_read: count("shared_blks_read")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Probe {
        Probe {
            server_version_num: 150_020,
            server_version: "15.20".into(),
            database: "shop".into(),
            preloaded: Some(true),
            available_version: Some("1.10".into()),
            installed_version: Some("1.10".into()),
            view_name: Some("\"My Schema\".pg_stat_statements".into()),
            view_columns: REQUIRED_COLUMNS
                .iter()
                .chain(&["toplevel", "plans"])
                .map(|c| c.to_string())
                .collect(),
        }
    }

    fn error(p: &Probe) -> String {
        format!("{:#}", p.read_sql().unwrap_err())
    }

    #[test]
    fn read_sql_fills_the_view_and_toplevel() {
        let sql = ready().read_sql().unwrap();
        assert!(
            sql.contains("FROM \"My Schema\".pg_stat_statements AS s"),
            "{sql}"
        );
        assert!(sql.contains("AND s.toplevel"), "{sql}");
        assert!(!sql.contains('{'), "{sql}");
        assert!(sql.starts_with("-- pgadvisor"));
        // PostgreSQL 13: no toplevel column.
        let mut pg13 = ready();
        pg13.view_columns.retain(|c| c != "toplevel");
        let sql = pg13.read_sql().unwrap();
        assert!(sql.contains("AND true"), "{sql}");
    }

    #[test]
    fn each_failure_says_what_to_do() {
        let mut absent = ready();
        absent.installed_version = None;
        absent.view_name = None;
        absent.view_columns.clear();
        let e = error(&absent);
        assert!(e.contains("not installed in database \"shop\""), "{e}");
        assert!(e.contains("CREATE EXTENSION pg_stat_statements"), "{e}");
        assert!(!e.contains("shared_preload_libraries"), "{e}");

        absent.preloaded = Some(false);
        let e = error(&absent);
        assert!(
            e.contains("CREATE EXTENSION") && e.contains("shared_preload_libraries"),
            "{e}"
        );

        absent.available_version = None;
        let e = error(&absent);
        assert!(
            e.contains("postgresql-contrib") && e.contains("CREATE EXTENSION"),
            "{e}"
        );

        let mut not_loaded = ready();
        not_loaded.preloaded = Some(false);
        assert!(error(&not_loaded).contains("restart"));

        let mut old = ready();
        old.view_columns.retain(|c| c != "total_exec_time");
        let e = error(&old);
        assert!(
            e.contains("total_exec_time") && e.contains("ALTER EXTENSION"),
            "{e}"
        );

        let mut pg12 = ready();
        pg12.server_version_num = 120_000;
        assert!(error(&pg12).contains("PostgreSQL 13"));
    }
}
