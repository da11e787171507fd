//! What `monitor` reads each interval: the database's cumulative counters
//! and client sessions (one statement), and pg_stat_statements counters
//! when the extension is installed and readable, plus the texts of the
//! statements it shows. Read-only; the snapshots are plain data for
//! `crate::monitor`.

use super::check::db_message;
use super::pg_stat_statements::probe;
use crate::monitor::{DatabaseCounters, SessionActivity, Snapshot, StatementCounters};
use anyhow::{Context, Result, anyhow};
use rustc_hash::FxHashMap;
use tokio_postgres::{Client, Row};

const SAMPLE_SQL: &str = include_str!("sql/monitor_sample.sql");
const STATEMENTS_SQL: &str = include_str!("sql/monitor_statements.sql");
const TEXTS_SQL: &str = include_str!("sql/monitor_texts.sql");

/// The monitor's session and what it found it can read.
pub struct MonitorSession {
    client: Client,
    target: String,
    /// The counters and texts queries, when pg_stat_statements is readable.
    statements_sql: Option<(String, String)>,
    /// Why pg_stat_statements is not read, when it is not.
    statements_note: Option<String>,
}

impl MonitorSession {
    /// Takes an open session (see `db::connect`) and checks whether
    /// pg_stat_statements can be read in its database; `target` names the
    /// server in errors (never with a password).
    pub async fn open(client: Client, target: &str) -> Result<Self> {
        let mut session = Self {
            client,
            target: target.to_string(),
            statements_sql: None,
            statements_note: None,
        };
        // The probe's own reasons (not installed here, not preloaded, too
        // old…) carry the step that fixes each; monitor only reports them.
        match probe(&session.client).await {
            Err(e) => session.statements_note = Some(format!("{e:#}")),
            Ok(p) => match (p.read_sql(), &p.view_name) {
                (Err(e), _) => session.statements_note = Some(e.to_string()),
                (Ok(_), None) => {
                    session.statements_note =
                        Some("pg_stat_statements is not installed in this database".to_string())
                }
                (Ok(_), Some(view)) => {
                    let toplevel = if p.view_columns.iter().any(|c| c == "toplevel") {
                        "s.toplevel"
                    } else {
                        "true"
                    };
                    // The view last: a schema name may hold anything, braces included.
                    let counters = STATEMENTS_SQL
                        .replace("{toplevel}", toplevel)
                        .replace("{view}", view);
                    let texts = TEXTS_SQL.replace("{view}", view);
                    session.statements_sql = Some((counters, texts));
                }
            },
        }
        Ok(session)
    }

    /// Reads one snapshot. A failure to read the database's counters ends
    /// the run (the session is gone, most likely); a failure to read
    /// pg_stat_statements only leaves its part out, with the reason.
    pub async fn snapshot(&self) -> Result<Snapshot> {
        let row = self
            .client
            .query_one(SAMPLE_SQL, &[])
            .await
            .map_err(|e| anyhow!(db_message(&e)))
            .with_context(|| format!("cannot read statistics from {}", self.target))?;
        let mut snapshot = snapshot_from_row(&row)
            .with_context(|| format!("unexpected statistics row from {}", self.target))?;
        match &self.statements_sql {
            None => snapshot.statements_note = self.statements_note.clone(),
            Some((sql, _)) => match self.client.query(sql.as_str(), &[]).await {
                Ok(rows) => {
                    let read: Result<Vec<StatementCounters>> =
                        rows.iter().map(statement_from_row).collect();
                    match read {
                        Ok(statements) => snapshot.statements = Some(statements),
                        Err(e) => {
                            snapshot.statements_note =
                                Some(format!("unexpected row from pg_stat_statements: {e}"))
                        }
                    }
                }
                Err(e) => {
                    snapshot.statements_note = Some(format!(
                        "cannot read pg_stat_statements: {}",
                        db_message(&e)
                    ))
                }
            },
        }
        Ok(snapshot)
    }

    /// The texts (first 200 characters) of these statements, as far as
    /// pg_stat_statements still has them. Empty when it is not read.
    pub async fn statement_texts(&self, queryids: &[i64]) -> Result<FxHashMap<i64, String>> {
        let mut texts = FxHashMap::default();
        let Some((_, sql)) = &self.statements_sql else {
            return Ok(texts);
        };
        if queryids.is_empty() {
            return Ok(texts);
        }
        let rows = self
            .client
            .query(sql.as_str(), &[&queryids])
            .await
            .map_err(|e| anyhow!(db_message(&e)))
            .with_context(|| {
                format!(
                    "cannot read statement texts from pg_stat_statements on {}",
                    self.target
                )
            })?;
        for row in rows {
            let id: Option<i64> = row.try_get(0)?;
            let text: Option<String> = row.try_get(1)?;
            if let (Some(id), Some(text)) = (id, text) {
                texts.insert(id, text);
            }
        }
        Ok(texts)
    }
}

fn snapshot_from_row(row: &Row) -> Result<Snapshot> {
    // Counters are never NULL for the connected database's row; 0 keeps a
    // strange server from stopping the run, and a later non-NULL value is
    // then simply an increase.
    let n = |name: &str| -> Result<i64> { Ok(row.try_get::<_, Option<i64>>(name)?.unwrap_or(0)) };
    let sessions: Option<serde_json::Value> = row.try_get("sessions")?;
    let sessions: Vec<SessionActivity> = match sessions {
        Some(v) => serde_json::from_value(v).context("cannot read the sessions")?,
        None => Vec::new(),
    };
    Ok(Snapshot {
        database: row
            .try_get::<_, Option<String>>("database_name")?
            .unwrap_or_default(),
        clock_s: row.try_get::<_, Option<f64>>("clock_s")?.unwrap_or(0.0),
        sampled_at: row
            .try_get::<_, Option<String>>("sampled_at")?
            .unwrap_or_default(),
        counters: DatabaseCounters {
            stats_reset_s: row.try_get("stats_reset_s")?,
            xact_commit: n("xact_commit")?,
            xact_rollback: n("xact_rollback")?,
            blks_read: n("blks_read")?,
            blks_hit: n("blks_hit")?,
            tup_returned: n("tup_returned")?,
            tup_fetched: n("tup_fetched")?,
            tup_inserted: n("tup_inserted")?,
            tup_updated: n("tup_updated")?,
            tup_deleted: n("tup_deleted")?,
            temp_files: n("temp_files")?,
            temp_bytes: n("temp_bytes")?,
            deadlocks: n("deadlocks")?,
        },
        sessions,
        statements: None,
        statements_note: None,
    })
}

fn statement_from_row(row: &Row) -> Result<StatementCounters> {
    Ok(StatementCounters {
        userid: row.try_get::<_, Option<u32>>("userid")?.unwrap_or(0),
        queryid: row.try_get::<_, Option<i64>>("queryid")?.unwrap_or(0),
        calls: row.try_get::<_, Option<i64>>("calls")?.unwrap_or(0),
        total_exec_ms: row
            .try_get::<_, Option<f64>>("total_exec_time")?
            .unwrap_or(0.0),
        rows: row.try_get::<_, Option<i64>>("rows")?.unwrap_or(0),
    })
}
