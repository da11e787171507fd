//! What the health rules look at: one snapshot of the database's catalog,
//! statistics views, sessions and settings, gathered by `db::health`. Plain
//! data, so every rule is tested from hand-made snapshots.

use crate::catalog::{Catalog, QualifiedName};
use std::collections::BTreeMap;

/// Everything the health rules read.
#[derive(Clone, Debug)]
pub struct HealthContext {
    pub role: RoleInfo,
    /// Relations and indexes with their sizes and scan counts (the same
    /// model recommend-indexes uses).
    pub catalog: Catalog,
    pub tables: Vec<TableHealth>,
    pub indexes: Vec<IndexHealth>,
    pub not_valid_constraints: Vec<NotValidConstraint>,
    pub sequences: Vec<SequenceHealth>,
    /// Every database of the cluster that accepts connections.
    pub databases: Vec<DatabaseAge>,
    /// Other sessions (not pgadvisor's own).
    pub sessions: Vec<Session>,
    pub settings: Settings,
    pub checkpoints: Option<Checkpoints>,
    pub machine: Machine,
    /// Seconds since this database's statistics were reset; `None` when
    /// they never were (they then cover the database's whole life).
    pub stats_reset_age_s: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub struct RoleInfo {
    pub name: String,
    pub superuser: bool,
    /// Member of pg_read_all_stats (pg_monitor is): sees every session.
    pub read_all_stats: bool,
    pub database: String,
}

/// One table or materialized view.
#[derive(Clone, Debug, Default)]
pub struct TableHealth {
    pub name: QualifiedName,
    pub relpages: i64,
    /// pg_class.reltuples; -1 when never vacuumed or analyzed.
    pub reltuples: f64,
    /// Percent (10–100).
    pub fillfactor: i32,
    pub autovacuum_enabled: bool,
    /// age(relfrozenxid).
    pub xid_age: i64,
    pub heap_blks_read: i64,
    pub heap_blks_hit: i64,
    pub idx_blks_read: i64,
    pub idx_blks_hit: i64,
    pub seq_scan: i64,
    pub seq_tup_read: i64,
    pub idx_scan: i64,
    pub live_tuples: i64,
    pub dead_tuples: i64,
    pub mod_since_analyze: i64,
    pub ins_since_vacuum: i64,
    /// Seconds since the last vacuum (manual or auto); `None`: never.
    pub vacuum_age_s: Option<f64>,
    /// Seconds since the last analyze (manual or auto); `None`: never.
    pub analyze_age_s: Option<f64>,
    /// Estimated bytes of column data per row, from pg_stats; `None` when
    /// some column has no statistics this role can read.
    pub data_width: Option<f64>,
    pub columns: i32,
    pub has_nulls: bool,
}

/// One index, for bloat and cache checks.
#[derive(Clone, Debug, Default)]
pub struct IndexHealth {
    pub table: QualifiedName,
    pub name: String,
    pub method: String,
    pub relpages: i64,
    pub reltuples: f64,
    /// Percent (btree default 90).
    pub fillfactor: i32,
    /// Estimated bytes of key data per entry; `None` for expression keys
    /// or when statistics are missing or unreadable.
    pub key_width: Option<f64>,
    /// A CREATE INDEX (CONCURRENTLY) is running on it right now.
    pub being_built: bool,
}

#[derive(Clone, Debug, Default)]
pub struct NotValidConstraint {
    pub table: QualifiedName,
    pub name: String,
    /// `c` (check) or `f` (foreign key).
    pub kind: String,
    pub definition: String,
}

#[derive(Clone, Debug, Default)]
pub struct SequenceHealth {
    pub name: QualifiedName,
    pub data_type: String,
    /// `None`: never used, or not readable by this role (see `readable`).
    pub last_value: Option<i128>,
    pub min_value: i128,
    pub max_value: i128,
    pub increment_by: i64,
    pub cycles: bool,
    pub readable: bool,
    /// The column it feeds (serial / identity / OWNED BY), if any.
    pub owner: Option<SequenceOwner>,
}

#[derive(Clone, Debug, Default)]
pub struct SequenceOwner {
    pub table: QualifiedName,
    pub column: String,
    /// `format_type` of the column: `integer`, `bigint`, `smallint`, …
    pub data_type: String,
}

#[derive(Clone, Debug, Default)]
pub struct DatabaseAge {
    pub name: String,
    pub xid_age: i64,
    pub mxid_age: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Session {
    pub pid: i32,
    pub user: Option<String>,
    pub application_name: Option<String>,
    pub backend_type: Option<String>,
    /// Connected to the database being checked (the session rules look
    /// only at these; connection counts take the whole cluster).
    pub in_this_database: bool,
    /// `active`, `idle`, `idle in transaction`, …; `None` when hidden.
    pub state: Option<String>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    pub xact_age_s: Option<f64>,
    pub query_age_s: Option<f64>,
    pub state_age_s: Option<f64>,
    pub query: Option<String>,
    pub blocked_by: Vec<i32>,
}

impl Session {
    pub fn is_client(&self) -> bool {
        self.backend_type.as_deref() == Some("client backend")
    }
}

/// Settings as the server reports them (`setting` and `unit`).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub values: BTreeMap<String, (String, Option<String>)>,
}

impl Settings {
    pub fn insert(&mut self, name: &str, setting: &str, unit: Option<&str>) {
        self.values.insert(
            name.to_string(),
            (setting.to_string(), unit.map(str::to_string)),
        );
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|(s, _)| s.as_str())
    }

    pub fn number(&self, name: &str) -> Option<f64> {
        self.text(name)?.parse().ok()
    }

    /// `on`/`off` settings.
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.text(name)? {
            "on" | "true" => Some(true),
            "off" | "false" => Some(false),
            _ => None,
        }
    }

    /// A memory setting in bytes (`setting` × its unit: 8kB, kB, MB…);
    /// -1 (unset) is `None`.
    pub fn bytes(&self, name: &str) -> Option<f64> {
        let (setting, unit) = self.values.get(name)?;
        let value: f64 = setting.parse().ok()?;
        if value < 0.0 {
            return None;
        }
        let unit_bytes = match unit.as_deref() {
            None | Some("B") => 1.0,
            Some("kB") => 1024.0,
            Some("8kB") => 8192.0,
            Some("16kB") => 16384.0,
            Some("MB") => 1024.0 * 1024.0,
            Some("GB") => 1024.0 * 1024.0 * 1024.0,
            Some(_) => return None,
        };
        Some(value * unit_bytes)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Checkpoints {
    pub timed: i64,
    pub requested: i64,
    /// Seconds the counters cover.
    pub stats_age_s: Option<f64>,
}

/// What is known of the server's machine: from flags, or read from this
/// machine when the server is local. `None` where unknown.
#[derive(Clone, Debug, Default)]
pub struct Machine {
    pub memory_bytes: Option<u64>,
    pub storage: Option<Storage>,
    /// Where the facts came from, for the evidence ("flags", "this host").
    pub source: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    Ssd,
    Hdd,
}

impl HealthContext {
    /// An empty snapshot (no tables, no sessions), for tests and as a
    /// starting point.
    pub fn empty() -> HealthContext {
        HealthContext {
            role: RoleInfo::default(),
            catalog: Catalog::new(crate::catalog::CatalogSource::LiveDatabase),
            tables: Vec::new(),
            indexes: Vec::new(),
            not_valid_constraints: Vec::new(),
            sequences: Vec::new(),
            databases: Vec::new(),
            sessions: Vec::new(),
            settings: Settings::default(),
            checkpoints: None,
            machine: Machine::default(),
            stats_reset_age_s: None,
        }
    }
}
