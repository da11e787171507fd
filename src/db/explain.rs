//! The safe runner behind `analyze`: EXPLAIN (ANALYZE, BUFFERS) of a
//! workload statement inside a transaction that is always rolled back —
//! READ ONLY for queries, read-write only for INSERT/UPDATE/DELETE/MERGE
//! with --allow-writes — and nothing else ever (DDL, utility and
//! transaction control are refused before any SQL is sent). Statements go
//! through the extended protocol, which runs exactly one statement, so a
//! `; DROP TABLE …` appended to a logged text is refused by the server.

use super::{ConnInfo, SessionSettings, connect};
use crate::advisor::queries::placeholder_count;
use anyhow::Result;
use serde::Serialize;
use serde_json::Value;
use sqlparser::ast::{SetExpr, Statement};
use std::time::Duration;
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

/// What the runner may do with a statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// A query: run in a READ ONLY transaction, rolled back.
    ReadOnly,
    /// INSERT / UPDATE / DELETE / MERGE (or a query with a data-modifying
    /// WITH): only with --allow-writes, rolled back.
    Write,
    /// Never executed.
    Never { reason: String },
}

/// Decides from the statement's own text; a text that does not parse as
/// exactly one statement is never run.
pub fn classify(sql: &str) -> Decision {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    let parsed = std::panic::catch_unwind(|| Parser::parse_sql(&PostgreSqlDialect {}, sql));
    let statements = match parsed {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Decision::Never {
                reason: format!("does not parse, so it cannot be checked: {e}"),
            };
        }
        Err(_) => {
            return Decision::Never {
                reason: "the SQL parser failed on it".to_string(),
            };
        }
    };
    if statements.len() != 1 {
        return Decision::Never {
            reason: format!("{} statements in one text", statements.len()),
        };
    }
    match &statements[0] {
        Statement::Query(q) => {
            let writes_in_with = q.with.as_ref().is_some_and(|w| {
                w.cte_tables.iter().any(|cte| {
                    !matches!(
                        *cte.query.body,
                        SetExpr::Select(_)
                            | SetExpr::Query(_)
                            | SetExpr::SetOperation { .. }
                            | SetExpr::Values(_)
                    )
                })
            });
            if writes_in_with {
                Decision::Write
            } else {
                Decision::ReadOnly
            }
        }
        Statement::Insert(_)
        | Statement::Update { .. }
        | Statement::Delete(_)
        | Statement::Merge { .. } => Decision::Write,
        other => Decision::Never {
            reason: format!(
                "{} is not a query or a DML statement",
                statement_word(other)
            ),
        },
    }
}

/// The leading keyword(s) of a statement, for messages.
fn statement_word(s: &Statement) -> String {
    let text = s.to_string().to_uppercase();
    let words: Vec<&str> = text.split_whitespace().collect();
    // CREATE/ALTER/DROP name their object kind in the next word.
    let take = match words.first() {
        Some(&("CREATE" | "ALTER" | "DROP")) => 2,
        _ => 1,
    };
    words.into_iter().take(take).collect::<Vec<_>>().join(" ")
}

/// How one EXPLAIN ANALYZE went.
#[derive(Clone, Debug)]
pub enum RunOutcome {
    /// The plan (EXPLAIN FORMAT JSON output) and the wall time of the call.
    Plan { plan: Value, wall: Duration },
    /// statement_timeout cancelled it.
    Timeout,
    /// The server refused or failed it (read-only violation, bad SQL…).
    Error(String),
    /// The session died (the statement killed its own backend, the server
    /// went away); the next run reconnects.
    SessionLost(String),
}

/// One session for analyze, reopened when a statement kills it.
pub struct SafeRunner {
    info: ConnInfo,
    settings: SessionSettings,
    client: Option<Client>,
    /// Sessions opened so far (1 + reconnects).
    pub sessions_opened: usize,
}

const PREPARED: &str = "pgadvisor_analyze";
const SETTINGS_SQL: &str = include_str!("sql/analyze_settings.sql");

/// work_mem, shared_buffers and hash_mem_multiplier of the server.
pub async fn server_settings(client: &Client) -> Result<crate::findings::ServerSettings> {
    let row = client.query_one(SETTINGS_SQL, &[]).await?;
    Ok(crate::findings::ServerSettings {
        work_mem_bytes: row.get::<_, Option<i64>>(0).map(|v| v as u64),
        shared_buffers_bytes: row.get::<_, Option<i64>>(1).map(|v| v as u64),
        hash_mem_multiplier: row.get(2),
    })
}

impl SafeRunner {
    pub async fn open(info: &ConnInfo, settings: SessionSettings) -> Result<Self> {
        let client = connect(info, &settings).await?;
        Ok(Self {
            info: info.clone(),
            settings,
            client: Some(client),
            sessions_opened: 1,
        })
    }

    async fn client(&mut self) -> Result<&Client> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.client = Some(connect(&self.info, &self.settings).await?);
            self.sessions_opened += 1;
        }
        Ok(self.client.as_ref().expect("just connected"))
    }

    /// Runs `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` of one statement with
    /// its logged parameters (if it has `$n`), inside a transaction that is
    /// rolled back. The caller has checked `classify`; `decision` says
    /// which kind of transaction.
    pub async fn explain_analyze(
        &mut self,
        statement: &str,
        parameters: &[Option<String>],
        decision: &Decision,
    ) -> Result<RunOutcome> {
        let begin = match decision {
            Decision::ReadOnly => "BEGIN READ ONLY",
            Decision::Write => "BEGIN READ WRITE",
            Decision::Never { reason } => {
                anyhow::bail!("refusing to run a statement that may never run: {reason}")
            }
        };
        // A session that cannot be reopened means the database is gone:
        // the caller stops and reports what it has.
        let client = self.client().await?;
        let started = std::time::Instant::now();
        let result = run_in_rollback(client, begin, statement, parameters).await;
        let wall = started.elapsed();
        // Always end the transaction, whatever happened inside it.
        let rolled_back = client.batch_execute("ROLLBACK").await;
        if placeholder_count(statement) > 0 {
            let _ = client
                .batch_execute(&format!("DEALLOCATE {PREPARED}"))
                .await;
        }
        let outcome = match result {
            Ok(plan) => RunOutcome::Plan { plan, wall },
            Err(e) if e.code() == Some(&SqlState::QUERY_CANCELED) => RunOutcome::Timeout,
            Err(e)
                if e.is_closed()
                    || client.is_closed()
                    || e.code() == Some(&SqlState::ADMIN_SHUTDOWN) =>
            {
                RunOutcome::SessionLost(describe(&e))
            }
            Err(e) if e.as_db_error().is_some() => RunOutcome::Error(describe(&e)),
            Err(e) => RunOutcome::SessionLost(describe(&e)),
        };
        if let (Err(e), RunOutcome::Plan { .. }) = (&rolled_back, &outcome) {
            return Ok(RunOutcome::SessionLost(format!(
                "ROLLBACK failed: {}",
                describe(e)
            )));
        }
        Ok(outcome)
    }
}

async fn run_in_rollback(
    client: &Client,
    begin: &str,
    statement: &str,
    parameters: &[Option<String>],
) -> Result<Value, tokio_postgres::Error> {
    client.batch_execute(begin).await?;
    let count = placeholder_count(statement);
    let sql = if count == 0 {
        format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}")
    } else {
        client
            .execute(&format!("PREPARE {PREPARED} AS {statement}"), &[])
            .await?;
        let args = super::whatif::execute_arguments(statement, parameters);
        format!(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE {PREPARED}({})",
            args.join(", ")
        )
    };
    let row = client.query_one(&sql, &[]).await?;
    row.try_get::<_, Value>(0)
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_queries_and_dml_may_run() {
        assert_eq!(classify("SELECT * FROM t WHERE a = $1"), Decision::ReadOnly);
        assert_eq!(classify("select 1"), Decision::ReadOnly);
        for write in [
            "DELETE FROM t",
            "UPDATE t SET a = 1",
            "INSERT INTO t VALUES (1)",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        ] {
            assert_eq!(classify(write), Decision::Write, "{write}");
        }
        for never in [
            "DROP TABLE t",
            "TRUNCATE t",
            "GRANT SELECT ON t TO public",
            "COPY t TO PROGRAM 'rm -rf /'",
            "BEGIN",
            "COMMIT",
            "VACUUM t",
            "SET work_mem = '1GB'",
            "SELECT 1; DROP TABLE t",
            "CREATE TABLE x (a int)",
            "not sql at all",
        ] {
            assert!(
                matches!(classify(never), Decision::Never { .. }),
                "{never}: {:?}",
                classify(never)
            );
        }
    }
}
