//! Gathering the health snapshot: read-only queries over pg_catalog and
//! the statistics views (db/sql/health_*.sql), usable by a role granted
//! pg_monitor. What the role cannot read is counted and returned as notes
//! rather than guessed.

use crate::catalog::QualifiedName;
use crate::findings::health::{
    Checkpoints, DatabaseAge, HealthContext, IndexHealth, Machine, NotValidConstraint, RoleInfo,
    SequenceHealth, SequenceOwner, Session, Settings, TableHealth,
};
use anyhow::{Context, Result};
use tokio_postgres::{Client, Row};

const ROLE_SQL: &str = include_str!("sql/health_role.sql");
const SETTINGS_SQL: &str = include_str!("sql/health_settings.sql");
const TABLES_SQL: &str = include_str!("sql/health_tables.sql");
const INDEXES_SQL: &str = include_str!("sql/health_indexes.sql");
const CONSTRAINTS_SQL: &str = include_str!("sql/health_constraints.sql");
const SEQUENCES_SQL: &str = include_str!("sql/health_sequences.sql");
const DATABASES_SQL: &str = include_str!("sql/health_databases.sql");
const SESSIONS_SQL: &str = include_str!("sql/health_sessions.sql");
const CHECKPOINTS_SQL: &str = include_str!("sql/health_checkpoints.sql");

/// The snapshot, and notes on what could not be read.
pub struct Gathered {
    pub context: HealthContext,
    pub notes: Vec<String>,
}

/// Reads everything the health rules need from the connected database.
pub async fn gather(client: &Client, machine: Machine) -> Result<Gathered> {
    let mut notes = Vec::new();
    let role_row = client
        .query_one(ROLE_SQL, &[])
        .await
        .context("cannot read the role's memberships")?;
    let role = RoleInfo {
        name: role_row.get("role_name"),
        superuser: role_row.get("is_superuser"),
        read_all_stats: role_row.get::<_, bool>("is_superuser")
            || role_row.get::<_, bool>("read_all_stats"),
        database: role_row.get("database_name"),
    };
    let stats_reset_age_s: Option<f64> = role_row.get("stats_reset_age_s");

    let mut settings = Settings::default();
    for row in client
        .query(SETTINGS_SQL, &[])
        .await
        .context("cannot read pg_settings")?
    {
        let name: String = row.get(0);
        let setting: String = row.get(1);
        let unit: Option<String> = row.get(2);
        settings.insert(&name, &setting, unit.as_deref());
    }

    let catalog = crate::db::catalog::load_catalog(client).await?;

    let tables: Vec<TableHealth> = client
        .query(TABLES_SQL, &[])
        .await
        .context("cannot read table statistics")?
        .iter()
        .map(table_from_row)
        .collect();
    let unmeasured = tables
        .iter()
        .filter(|t| t.data_width.is_none() && t.reltuples > 0.0)
        .count();
    if unmeasured > 0 {
        notes.push(format!(
            "table-bloat: {unmeasured} table(s) without column statistics readable by role \"{}\" were not estimated (pg_stats shows a column only to a role that may SELECT it; ANALYZE, or grant SELECT)",
            role.name
        ));
    }

    let indexes: Vec<IndexHealth> = client
        .query(INDEXES_SQL, &[])
        .await
        .context("cannot read index statistics")?
        .iter()
        .map(index_from_row)
        .collect();

    let not_valid_constraints = client
        .query(CONSTRAINTS_SQL, &[])
        .await
        .context("cannot read pg_constraint")?
        .iter()
        .map(|r| NotValidConstraint {
            table: QualifiedName::new(r.get::<_, String>(0), r.get::<_, String>(1)),
            name: r.get(2),
            kind: r.get(3),
            definition: r.get::<_, Option<String>>(4).unwrap_or_default(),
        })
        .collect();

    let sequences: Vec<SequenceHealth> = client
        .query(SEQUENCES_SQL, &[])
        .await
        .context("cannot read pg_sequences")?
        .iter()
        .map(sequence_from_row)
        .collect();
    let hidden = sequences.iter().filter(|s| !s.readable).count();
    if hidden > 0 {
        notes.push(format!(
            "sequence-exhaustion: {hidden} sequence(s) not checked: role \"{}\" lacks SELECT or USAGE on them",
            role.name
        ));
    }

    let databases = client
        .query(DATABASES_SQL, &[])
        .await
        .context("cannot read pg_database")?
        .iter()
        .map(|r| DatabaseAge {
            name: r.get(0),
            xid_age: r.get(1),
            mxid_age: r.get(2),
        })
        .collect();

    let sessions = client
        .query(SESSIONS_SQL, &[])
        .await
        .context("cannot read pg_stat_activity")?
        .iter()
        .map(session_from_row)
        .collect();

    // pg_stat_bgwriter lost its checkpoint columns in PostgreSQL 17.
    let checkpoints = match client.query_one(CHECKPOINTS_SQL, &[]).await {
        Ok(r) => Some(Checkpoints {
            timed: r.get(0),
            requested: r.get(1),
            stats_age_s: r.get(2),
        }),
        Err(_) => {
            notes.push(
                "settings-checkpoints: checkpoint counters not read (pg_stat_bgwriter has none on this server version)"
                    .to_string(),
            );
            None
        }
    };
    if machine.memory_bytes.is_none() {
        notes.push(
            "settings-memory: the server's memory is unknown (it is not on this machine): pass --server-memory SIZE for memory advice"
                .to_string(),
        );
    }

    Ok(Gathered {
        context: HealthContext {
            role,
            catalog,
            tables,
            indexes,
            not_valid_constraints,
            sequences,
            databases,
            sessions,
            settings,
            checkpoints,
            machine,
            stats_reset_age_s,
        },
        notes,
    })
}

fn counter(row: &Row, name: &str) -> i64 {
    row.get::<_, Option<i64>>(name).unwrap_or(0)
}

fn table_from_row(row: &Row) -> TableHealth {
    let columns: i32 = row.get("columns");
    let stat_columns: i32 = row.get("stat_columns");
    TableHealth {
        name: QualifiedName::new(
            row.get::<_, String>("schema_name"),
            row.get::<_, String>("table_name"),
        ),
        relpages: row.get("relpages"),
        reltuples: row.get("reltuples"),
        fillfactor: row.get("fillfactor"),
        autovacuum_enabled: row.get("autovacuum_enabled"),
        xid_age: row.get("xid_age"),
        heap_blks_read: counter(row, "heap_blks_read"),
        heap_blks_hit: counter(row, "heap_blks_hit"),
        idx_blks_read: counter(row, "idx_blks_read"),
        idx_blks_hit: counter(row, "idx_blks_hit"),
        seq_scan: counter(row, "seq_scan"),
        seq_tup_read: counter(row, "seq_tup_read"),
        idx_scan: counter(row, "idx_scan"),
        live_tuples: counter(row, "n_live_tup"),
        dead_tuples: counter(row, "n_dead_tup"),
        mod_since_analyze: counter(row, "n_mod_since_analyze"),
        ins_since_vacuum: counter(row, "n_ins_since_vacuum"),
        vacuum_age_s: row.get("vacuum_age_s"),
        analyze_age_s: row.get("analyze_age_s"),
        // Every column needs statistics for the width to mean anything.
        data_width: if columns > 0 && stat_columns >= columns {
            row.get("data_width")
        } else {
            None
        },
        columns,
        has_nulls: row.get::<_, Option<bool>>("has_nulls").unwrap_or(false),
    }
}

fn index_from_row(row: &Row) -> IndexHealth {
    let key_columns: i32 = row.get("key_columns");
    let stat_columns: i32 = row.get("stat_columns");
    IndexHealth {
        table: QualifiedName::new(
            row.get::<_, String>("schema_name"),
            row.get::<_, String>("table_name"),
        ),
        name: row.get("index_name"),
        method: row.get("method"),
        relpages: row.get("relpages"),
        reltuples: row.get("reltuples"),
        fillfactor: row.get("fillfactor"),
        // Expression keys have no column statistics: then unknown.
        key_width: if key_columns > 0 && stat_columns >= key_columns {
            row.get("key_width")
        } else {
            None
        },
        being_built: row.get("being_built"),
    }
}

fn sequence_from_row(row: &Row) -> SequenceHealth {
    let big = |name: &str| -> Option<i128> {
        row.get::<_, Option<String>>(name)
            .and_then(|v| v.parse().ok())
    };
    let owner = match (
        row.get::<_, Option<String>>("owner_schema"),
        row.get::<_, Option<String>>("owner_table"),
        row.get::<_, Option<String>>("owner_column"),
        row.get::<_, Option<String>>("owner_type"),
    ) {
        (Some(schema), Some(table), Some(column), Some(data_type)) => Some(SequenceOwner {
            table: QualifiedName::new(schema, table),
            column,
            data_type,
        }),
        _ => None,
    };
    SequenceHealth {
        name: QualifiedName::new(
            row.get::<_, String>("schema_name"),
            row.get::<_, String>("sequence_name"),
        ),
        data_type: row.get("data_type"),
        last_value: big("last_value"),
        min_value: big("min_value").unwrap_or(1),
        max_value: big("max_value").unwrap_or(i64::MAX.into()),
        increment_by: row.get("increment_by"),
        cycles: row.get("cycles"),
        readable: row.get("readable"),
        owner,
    }
}

fn session_from_row(row: &Row) -> Session {
    Session {
        pid: row.get("pid"),
        user: row.get("user_name"),
        application_name: row.get("application_name"),
        backend_type: row.get("backend_type"),
        in_this_database: row.get("in_this_database"),
        state: row.get("state"),
        wait_event_type: row.get("wait_event_type"),
        wait_event: row.get("wait_event"),
        xact_age_s: row.get("xact_age_s"),
        query_age_s: row.get("query_age_s"),
        state_age_s: row.get("state_age_s"),
        query: row.get("query"),
        blocked_by: row
            .get::<_, Option<Vec<i32>>>("blocked_by")
            .unwrap_or_default(),
    }
}
