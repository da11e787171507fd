//! What a database offers pgadvisor: version, role privileges, extensions,
//! TLS. Read-only catalog queries; the report is plain data.

use anyhow::{Context, Result};
use serde::Serialize;
use tokio_postgres::Client;

const SERVER_SQL: &str = include_str!("sql/check_server.sql");
const EXTENSIONS_SQL: &str = include_str!("sql/check_extensions.sql");
const PG_STAT_STATEMENTS_SQL: &str = include_str!("sql/check_pg_stat_statements.sql");

#[derive(Clone, Debug, Serialize)]
pub struct ServerCheck {
    pub server_version: String,
    pub server_version_num: i32,
    pub role: RoleCheck,
    pub database: String,
    pub ssl: bool,
    pub ssl_version: Option<String>,
    pub session: SessionCheck,
    pub hypopg: ExtensionCheck,
    pub pg_stat_statements: StatStatementsCheck,
}

#[derive(Clone, Debug, Serialize)]
pub struct RoleCheck {
    pub name: String,
    pub superuser: bool,
    pub pg_monitor: bool,
    pub pg_read_all_stats: bool,
    pub can_create_in_database: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SessionCheck {
    pub application_name: String,
    pub statement_timeout: String,
    pub lock_timeout: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ExtensionCheck {
    /// Version the server could install (package present), if any.
    pub available_version: Option<String>,
    /// Version installed in this database, if any.
    pub installed_version: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatStatementsCheck {
    #[serde(flatten)]
    pub extension: ExtensionCheck,
    /// Listed in shared_preload_libraries (needed for it to collect).
    pub preloaded: bool,
    /// Statements the view holds, when it could be read.
    pub statements: Option<i64>,
    /// Rows whose text this role may not see.
    pub hidden_texts: Option<i64>,
    /// Why the view could not be read.
    pub error: Option<String>,
}

pub async fn check_server(client: &Client) -> Result<ServerCheck> {
    let row = client
        .query_one(SERVER_SQL, &[])
        .await
        .context("cannot read server settings")?;
    // NULL when the role may not see the setting: then it reads as "not
    // preloaded", and the pg_stat_statements read below tells the truth.
    let preload: String = row
        .get::<_, Option<String>>("shared_preload_libraries")
        .unwrap_or_default();
    let mut hypopg = ExtensionCheck::default();
    let mut pgss = ExtensionCheck::default();
    for ext in client
        .query(EXTENSIONS_SQL, &[])
        .await
        .context("cannot list extensions")?
    {
        let name: String = ext.get(0);
        let check = ExtensionCheck {
            available_version: ext.get(1),
            installed_version: ext.get(2),
        };
        match name.as_str() {
            "hypopg" => hypopg = check,
            _ => pgss = check,
        }
    }
    let preloaded = preload
        .split(',')
        .any(|lib| lib.trim().trim_matches('"') == "pg_stat_statements");
    let (statements, hidden_texts, error) = if pgss.installed_version.is_some() {
        match client.query_one(PG_STAT_STATEMENTS_SQL, &[]).await {
            Ok(r) => (Some(r.get(0)), Some(r.get(1)), None),
            Err(e) => (None, None, Some(db_message(&e))),
        }
    } else {
        (None, None, None)
    };
    Ok(ServerCheck {
        server_version: row.get("server_version"),
        server_version_num: row.get("server_version_num"),
        role: RoleCheck {
            name: row.get("role_name"),
            superuser: row.get("superuser"),
            pg_monitor: row.get("pg_monitor"),
            pg_read_all_stats: row.get("pg_read_all_stats"),
            can_create_in_database: row.get("can_create_in_database"),
        },
        database: row.get("database_name"),
        ssl: row.get("ssl"),
        ssl_version: row.get("ssl_version"),
        session: SessionCheck {
            application_name: row.get("application_name"),
            statement_timeout: row.get("statement_timeout"),
            lock_timeout: row.get("lock_timeout"),
        },
        hypopg,
        pg_stat_statements: StatStatementsCheck {
            extension: pgss,
            preloaded,
            statements,
            hidden_texts,
            error,
        },
    })
}

/// The server's own message for a database error, else the driver's.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}
