//! The recommend-indexes report: plain data, serialized as the documented
//! JSON (docs/json.md) and read back by `pgadvisor apply`.

use super::queries::PlanVariant;
use super::spec::IndexSpec;
use crate::catalog::QualifiedName;
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

/// How the recommendations were reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Costed with HypoPG on the server.
    Costed,
    /// From shapes and heuristics only: nothing was costed.
    Offline,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub command: String,
    pub mode: Mode,
    /// The database costed against (no password), when there was one.
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default)]
    pub hypopg_version: Option<String>,
    pub settings: Settings,
    pub summary: Summary,
    pub recommendations: Vec<Recommendation>,
    /// Needs only a GIN or trigram index serves: DDL given, not costed.
    #[serde(default)]
    pub not_costed: Vec<NotCosted>,
    #[serde(default)]
    pub drops: Vec<DropAdvice>,
    /// Statements whose generic plan and sample plans tell different stories.
    #[serde(default)]
    pub plan_disagreements: Vec<PlanDisagreement>,
    /// Proposals an existing index already serves.
    #[serde(default)]
    pub already_served: Vec<AlreadyServedNote>,
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub max_indexes: usize,
    pub max_columns: usize,
    pub budget_bytes: Option<u64>,
    pub min_improvement_pct: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Fingerprints in the workload.
    pub fingerprints: usize,
    /// Statements costed (SELECT/UPDATE/DELETE on indexable tables).
    pub statements_costed: usize,
    pub statements_skipped: usize,
    pub candidates: usize,
    /// Plans asked of the server (what-if EXPLAINs).
    pub whatif_plans: usize,
    /// Σ calls × planner cost, without and with the recommendations.
    pub cost_before: Option<f64>,
    pub cost_after: Option<f64>,
    pub improvement_pct: Option<f64>,
    /// Logged time of the costed statements (null for inputs without
    /// durations, such as SQL files).
    pub workload_ms: Option<f64>,
    pub est_time_saved_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recommendation {
    pub rank: usize,
    pub name: String,
    pub table: QualifiedName,
    /// `CREATE INDEX CONCURRENTLY IF NOT EXISTS …`, every identifier quoted.
    pub ddl: String,
    pub spec: IndexSpec,
    /// `hypopg_relation_size` (costed) or a width estimate (offline).
    pub size_bytes: Option<i64>,
    pub costed: bool,
    /// Σ calls × cost saved by this index, in the order chosen.
    pub cost_saved: Option<f64>,
    /// Its part of the whole improvement (0–1).
    pub share: Option<f64>,
    /// Upkeep charged for the writes of its table (cost units × calls).
    pub write_penalty: f64,
    /// Σ calls × mean time × the cost fraction saved.
    pub est_time_saved_ms: Option<f64>,
    pub queries: Vec<QueryImpact>,
    pub reasons: Vec<String>,
}

/// One statement an index helps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueryImpact {
    pub fingerprint: String,
    pub query: String,
    pub calls: u64,
    pub mean_ms: Option<f64>,
    /// Its planner cost with no new index and with the whole set.
    pub cost_before: Option<f64>,
    pub cost_after: Option<f64>,
    /// The final plan uses this index.
    pub uses_index: bool,
    /// How to plan it again (apply re-EXPLAINs it after building).
    pub plan: PlanVariant,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NotCosted {
    pub table: QualifiedName,
    pub ddl: String,
    pub reason: String,
    #[serde(default)]
    pub extension: Option<String>,
    pub fingerprints: Vec<String>,
    pub calls: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Same definition as another index.
    Duplicate,
    /// Its keys are a leading prefix of another index's.
    PrefixCovered,
    /// No scans since statistics were reset.
    Unused,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropCheck {
    /// Every workload statement on the table was re-planned without it and
    /// none got more expensive.
    Verified,
    /// Some statement would get more expensive.
    Regresses,
    /// Not checked (see `check_note`).
    Unverified,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DropAdvice {
    pub index: String,
    pub table: QualifiedName,
    pub reason: DropReason,
    /// The index that covers it (duplicate / prefix).
    #[serde(default)]
    pub covered_by: Option<String>,
    pub size_bytes: Option<i64>,
    pub scans: Option<i64>,
    /// `DROP INDEX CONCURRENTLY IF EXISTS …`
    pub ddl: String,
    pub check: DropCheck,
    pub check_note: String,
    /// Statements that would get more expensive, with cost before → after.
    #[serde(default)]
    pub regressions: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanDisagreement {
    pub fingerprint: String,
    pub query: String,
    /// Cost fraction the recommendations save on the generic plan…
    pub generic_saving: f64,
    /// …and on the logged samples' custom plans (their mean).
    pub samples_saving: f64,
    pub note: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AlreadyServedNote {
    pub proposal: String,
    pub existing_index: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Skipped {
    pub fingerprint: String,
    pub calls: u64,
    pub reason: String,
}
