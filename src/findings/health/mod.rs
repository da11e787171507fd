//! Database-wide health findings: one rule per file, named after its
//! kebab-case id, all listed in [`registry`]. A rule reads one
//! [`HealthContext`] snapshot (catalog, statistics views, sessions,
//! settings) and returns [`Finding`]s with evidence and, where one
//! statement fixes it, the SQL — which pgadvisor itself never runs.
//! Thresholds share the plan rules' [`Thresholds`] (`--threshold`).

mod context;

pub mod blocked_query;
pub mod cache_hit_ratio;
pub mod connections_near_limit;
pub mod dead_tuples;
pub mod duplicate_index;
pub mod idle_in_transaction;
pub mod index_bloat;
pub mod invalid_index;
pub mod long_running_query;
pub mod not_valid_constraint;
pub mod seq_scan_heavy_table;
pub mod sequence_exhaustion;
pub mod settings_checkpoints;
pub mod settings_maintenance;
pub mod settings_memory;
pub mod settings_storage;
pub mod stale_statistics;
pub mod table_bloat;
pub mod unused_index;
pub mod vacuum_overdue;
pub mod xid_wraparound;

pub use context::{
    Checkpoints, DatabaseAge, HealthContext, IndexHealth, Machine, NotValidConstraint, RoleInfo,
    SequenceHealth, SequenceOwner, Session, Settings, Storage, TableHealth,
};

use super::{Finding, Thresholds};

/// What a rule needs beyond what any role may read. When the role lacks
/// it the rule is skipped with a note (see [`run_all`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// pg_catalog and the statistics views: any role.
    Nothing,
    /// Other roles' sessions (state, query): pg_read_all_stats, which
    /// pg_monitor includes.
    ReadAllStats,
}

/// A health rule.
pub trait HealthRule {
    /// Kebab-case; also the rule's file name (with `_`) and its prefix in
    /// threshold keys.
    fn id(&self) -> &'static str;
    fn needs(&self) -> Needs {
        Needs::Nothing
    }
    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding>;
}

/// Every health rule, in the order docs/findings.md lists them.
pub fn registry() -> Vec<Box<dyn HealthRule>> {
    vec![
        Box::new(cache_hit_ratio::CacheHitRatio),
        Box::new(unused_index::UnusedIndex),
        Box::new(duplicate_index::DuplicateIndex),
        Box::new(invalid_index::InvalidIndex),
        Box::new(not_valid_constraint::NotValidConstraintRule),
        Box::new(seq_scan_heavy_table::SeqScanHeavyTable),
        Box::new(table_bloat::TableBloat),
        Box::new(index_bloat::IndexBloat),
        Box::new(dead_tuples::DeadTuples),
        Box::new(vacuum_overdue::VacuumOverdue),
        Box::new(stale_statistics::StaleStatistics),
        Box::new(xid_wraparound::XidWraparound),
        Box::new(sequence_exhaustion::SequenceExhaustion),
        Box::new(connections_near_limit::ConnectionsNearLimit),
        Box::new(idle_in_transaction::IdleInTransaction),
        Box::new(long_running_query::LongRunningQuery),
        Box::new(blocked_query::BlockedQuery),
        Box::new(settings_memory::SettingsMemory),
        Box::new(settings_storage::SettingsStorage),
        Box::new(settings_checkpoints::SettingsCheckpoints),
        Box::new(settings_maintenance::SettingsMaintenance),
    ]
}

/// The outcome of the health rules: findings sorted by severity (critical
/// first), then id, then relation; and notes on rules run partially or
/// not at all.
#[derive(Clone, Debug, Default)]
pub struct HealthOutcome {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

/// Runs every rule the role can run; the others become notes.
pub fn run_all(ctx: &HealthContext, thresholds: &Thresholds) -> HealthOutcome {
    let mut out = HealthOutcome::default();
    let mut limited = Vec::new();
    for rule in registry() {
        if rule.needs() == Needs::ReadAllStats && !ctx.role.read_all_stats {
            limited.push(rule.id());
        }
        out.findings.extend(rule.check(ctx, thresholds));
    }
    if !limited.is_empty() {
        out.notes.push(format!(
            "{}: only sessions of role \"{}\" were visible (other roles' state and query text need pg_read_all_stats, which pg_monitor includes)",
            limited.join(", "),
            ctx.role.name
        ));
    }
    out.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.id.cmp(b.id))
            .then_with(|| a.relation.cmp(&b.relation))
            .then_with(|| a.message.cmp(&b.message))
    });
    out
}

/// `"schema"."name"`, always quoted (safety contract, point 4).
pub(crate) fn sql_name(name: &crate::catalog::QualifiedName) -> String {
    crate::advisor::spec::quoted_table(name)
}

/// `schema.name` for the `relation` field (unquoted, as plan findings
/// name relations).
pub(crate) fn plain_name(name: &crate::catalog::QualifiedName) -> String {
    format!("{}.{}", name.schema, name.name)
}

/// Seconds for a sentence: `45 s`, `12 min`, `3.5 h`, `9 days`.
pub(crate) fn duration(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{seconds:.0} s")
    } else if seconds < 7200.0 {
        format!("{:.0} min", seconds / 60.0)
    } else if seconds < 172_800.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.0} days", seconds / 86_400.0)
    }
}

/// Bytes for a sentence: `512 kB`, `48 MB`, `2.1 GB`.
pub(crate) fn bytes(v: f64) -> String {
    const KB: f64 = 1024.0;
    if v < KB * KB {
        format!("{:.0} kB", v / KB)
    } else if v < KB * KB * KB {
        format!("{:.0} MB", v / (KB * KB))
    } else {
        format!("{:.1} GB", v / (KB * KB * KB))
    }
}

/// The first `max` characters of a query on one line, for messages.
pub(crate) fn short_query(q: Option<&str>, max: usize) -> String {
    let q = q.unwrap_or("?");
    let flat: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case_name_their_file_and_are_documented() {
        let doc = include_str!("../../../docs/findings.md");
        let mut ids: Vec<&str> = registry().iter().map(|r| r.id()).collect();
        let plan_ids: Vec<&str> = super::super::registry().iter().map(|r| r.id()).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id} is not kebab-case"
            );
            let file = format!(
                "{}/src/findings/health/{}.rs",
                env!("CARGO_MANIFEST_DIR"),
                id.replace('-', "_")
            );
            assert!(std::path::Path::new(&file).exists(), "{id}: no {file}");
            assert!(
                doc.contains(&format!("`{id}`")),
                "{id} not in docs/findings.md"
            );
            assert!(!plan_ids.contains(id), "{id} is also a plan rule");
        }
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule id");
    }

    #[test]
    fn an_empty_database_is_healthy() {
        let out = run_all(&HealthContext::empty(), &Thresholds::default());
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn formats_read_well() {
        assert_eq!(duration(45.2), "45 s");
        assert_eq!(duration(720.0), "12 min");
        assert_eq!(duration(3.0 * 86_400.0), "3 days");
        assert_eq!(bytes(48.0 * 1024.0 * 1024.0), "48 MB");
        assert_eq!(short_query(Some("SELECT  1\n FROM t"), 8), "SELECT 1…");
    }
}
