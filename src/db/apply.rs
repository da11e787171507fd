//! Building recommended indexes safely: one at a time with
//! `CREATE INDEX CONCURRENTLY`, under lock and statement timeouts; an
//! invalid leftover (failed or cancelled build) is dropped; the table is
//! analyzed; the statements the index serves are planned again. A
//! partitioned table gets an `ON ONLY` parent index, one concurrent build
//! per partition, each attached.

use super::whatif::Planner;
use super::{ConnInfo, SessionSettings, connect};
use crate::advisor::report::Recommendation;
use crate::advisor::spec::{IndexSpec, quoted_table};
use crate::catalog::{Catalog, QualifiedName, RelationKind};
use anyhow::{Context, Result};
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

const INDEX_STATE_SQL: &str = include_str!("sql/apply_index_state.sql");
const BACKEND_PID_SQL: &str = "SELECT pg_backend_pid()";
const CANCEL_SQL: &str = include_str!("sql/apply_cancel.sql");

#[derive(Clone, Copy, Debug)]
pub struct BuildLimits {
    pub lock_timeout: Duration,
    pub build_timeout: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BuildStatus {
    Built,
    /// A valid index of that name was there already (a re-run).
    AlreadyPresent,
    /// Another valid index already serves the same keys.
    ServedByExisting {
        index: String,
    },
    Failed {
        error: String,
    },
    /// Ctrl-C during the build.
    Cancelled,
    /// Not attempted: an earlier build was cancelled.
    NotStarted,
}

/// A statement planned again after the build.
#[derive(Clone, Debug, Serialize)]
pub struct Recheck {
    pub fingerprint: String,
    pub cost_before: Option<f64>,
    pub cost_after: Option<f64>,
    pub uses_index: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BuildOutcome {
    pub name: String,
    pub table: QualifiedName,
    #[serde(flatten)]
    pub status: BuildStatus,
    pub seconds: f64,
    /// An invalid index of this name was found after the build and dropped.
    pub invalid_dropped: bool,
    pub partitions: usize,
    /// Names of the per-partition indexes (partitioned tables).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partition_indexes: Vec<String>,
    pub size_bytes: Option<i64>,
    pub rechecks: Vec<Recheck>,
}

impl BuildOutcome {
    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            BuildStatus::Failed { .. } | BuildStatus::Cancelled
        )
    }

    fn new(rec: &Recommendation, status: BuildStatus) -> Self {
        Self {
            name: rec.name.clone(),
            table: rec.table.clone(),
            status,
            seconds: 0.0,
            invalid_dropped: false,
            partitions: 0,
            partition_indexes: Vec::new(),
            size_bytes: None,
            rechecks: Vec::new(),
        }
    }
}

/// `Some(valid)` when an index of that name exists in the schema.
async fn index_state(client: &Client, index: &QualifiedName) -> Result<Option<(bool, i64)>> {
    let row = client
        .query_opt(INDEX_STATE_SQL, &[&index.schema, &index.name])
        .await
        .with_context(|| format!("cannot look up index {index}"))?;
    Ok(row.map(|r| (r.get("valid"), r.get("size_bytes"))))
}

/// Builds every recommendation in order, stopping after a Ctrl-C.
pub async fn build_all(
    info: &ConnInfo,
    limits: BuildLimits,
    recommendations: &[Recommendation],
    catalog: &Catalog,
) -> Result<Vec<BuildOutcome>> {
    let settings = SessionSettings {
        statement_timeout: limits.build_timeout,
        lock_timeout: limits.lock_timeout,
    };
    let admin = connect(info, &SessionSettings::default()).await?;
    let mut planner = Planner::open(info, &SessionSettings::default()).await?;
    let mut out = Vec::new();
    let mut cancelled = false;
    for rec in recommendations {
        if cancelled {
            out.push(BuildOutcome::new(rec, BuildStatus::NotStarted));
            continue;
        }
        if let Err(e) = rec.spec.validate() {
            out.push(BuildOutcome::new(
                rec,
                BuildStatus::Failed {
                    error: format!("refusing a malformed plan entry: {e}"),
                },
            ));
            continue;
        }
        let index = QualifiedName::new(rec.table.schema.clone(), rec.name.clone());
        // Plans before, with the index not there yet.
        let mut before = Vec::new();
        for q in &rec.queries {
            before.push(planner.plan(&q.plan).await?);
        }
        let started = Instant::now();
        let mut outcome = BuildOutcome::new(rec, BuildStatus::Built);
        match index_state(&admin, &index).await? {
            Some((true, size)) => {
                outcome.status = BuildStatus::AlreadyPresent;
                outcome.size_bytes = Some(size);
            }
            state => {
                if matches!(state, Some((false, _))) {
                    // A leftover of an earlier failed build: it blocks
                    // IF NOT EXISTS and helps nothing.
                    drop_invalid(&admin, &index).await?;
                    outcome.invalid_dropped = true;
                }
                if let Some(existing) = served_elsewhere(&rec.spec, catalog) {
                    outcome.status = BuildStatus::ServedByExisting { index: existing };
                } else {
                    let result =
                        build(info, &settings, &admin, rec, &index, catalog, &mut outcome).await;
                    match result {
                        Ok(()) => {}
                        Err(BuildError::Cancelled) => {
                            outcome.status = BuildStatus::Cancelled;
                            cancelled = true;
                        }
                        Err(BuildError::Failed(e)) => {
                            outcome.status = BuildStatus::Failed {
                                error: format!("{e:#}"),
                            };
                        }
                    }
                    // Whatever happened, no invalid index stays behind.
                    if let Some((false, _)) = index_state(&admin, &index).await? {
                        drop_invalid(&admin, &index).await?;
                        outcome.invalid_dropped = true;
                    }
                    if outcome.status == BuildStatus::Built {
                        admin
                            .batch_execute(&format!("ANALYZE {}", quoted_table(&rec.table)))
                            .await
                            .with_context(|| format!("ANALYZE {} failed", rec.table))?;
                        outcome.size_bytes = index_state(&admin, &index).await?.map(|s| s.1);
                    }
                }
            }
        }
        outcome.seconds = started.elapsed().as_secs_f64();
        if matches!(
            outcome.status,
            BuildStatus::Built | BuildStatus::AlreadyPresent
        ) {
            for (q, before) in rec.queries.iter().zip(before) {
                let after = planner.plan(&q.plan).await?;
                outcome.rechecks.push(Recheck {
                    fingerprint: q.fingerprint.clone(),
                    cost_before: before.as_ref().ok().map(|p| p.total_cost),
                    cost_after: after.as_ref().ok().map(|p| p.total_cost),
                    uses_index: after.as_ref().is_ok_and(|p| {
                        p.index_names
                            .iter()
                            .any(|n| *n == rec.name || outcome.partition_indexes.contains(n))
                    }),
                    error: after.err().or(before.err()),
                });
            }
        }
        out.push(outcome);
    }
    Ok(out)
}

fn served_elsewhere(spec: &IndexSpec, catalog: &Catalog) -> Option<String> {
    catalog
        .get(&spec.table)?
        .indexes
        .iter()
        .find(|i| spec.served_by(i))
        .map(|i| i.name.clone())
}

enum BuildError {
    Cancelled,
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for BuildError {
    fn from(e: anyhow::Error) -> Self {
        Self::Failed(e)
    }
}

async fn build(
    info: &ConnInfo,
    settings: &SessionSettings,
    admin: &Client,
    rec: &Recommendation,
    index: &QualifiedName,
    catalog: &Catalog,
    outcome: &mut BuildOutcome,
) -> Result<(), BuildError> {
    let kind = catalog.get(&rec.table).map(|r| r.kind);
    if kind != Some(RelationKind::PartitionedTable) {
        return build_concurrently(info, settings, admin, &rec.spec.create_sql(&rec.name)).await;
    }
    // CREATE INDEX CONCURRENTLY does not work on a partitioned table: an
    // invalid parent index ON ONLY the parent, then each partition's index
    // built concurrently and attached; the parent becomes valid when all
    // are attached.
    let partitions: Vec<&QualifiedName> = catalog
        .relations
        .values()
        .filter(|r| r.partition_of.as_ref() == Some(&rec.table))
        .map(|r| &r.name)
        .collect();
    for p in &partitions {
        if catalog.get(p).map(|r| r.kind) == Some(RelationKind::PartitionedTable) {
            return Err(BuildError::Failed(anyhow::anyhow!(
                "{p} is itself partitioned: build this index by hand (multi-level partitioning is not handled)"
            )));
        }
    }
    admin
        .execute(rec.spec.create_on_only_sql(&rec.name).as_str(), &[])
        .await
        .context("creating the parent index ON ONLY the partitioned table failed")?;
    for p in partitions {
        let child_spec = rec.spec.on_table(p);
        let child_name = child_spec.name();
        let child = QualifiedName::new(p.schema.clone(), child_name.clone());
        if let Some((false, _)) = index_state(admin, &child).await? {
            drop_invalid(admin, &child).await?;
        }
        build_concurrently(info, settings, admin, &child_spec.create_sql(&child_name)).await?;
        if let Some((false, _)) = index_state(admin, &child).await? {
            drop_invalid(admin, &child).await?;
            return Err(BuildError::Failed(anyhow::anyhow!(
                "the index on partition {p} was left invalid and dropped"
            )));
        }
        admin
            .execute(
                &format!(
                    "ALTER INDEX {} ATTACH PARTITION {}",
                    quoted_table(index),
                    quoted_table(&child)
                ),
                &[],
            )
            .await
            .with_context(|| format!("attaching the index of partition {p} failed"))?;
        outcome.partitions += 1;
        outcome.partition_indexes.push(child_name);
    }
    Ok(())
}

/// Runs one CREATE INDEX CONCURRENTLY on its own session, racing Ctrl-C:
/// on Ctrl-C the build is cancelled from the admin session and the
/// caller drops the invalid index it leaves.
async fn build_concurrently(
    info: &ConnInfo,
    settings: &SessionSettings,
    admin: &Client,
    ddl: &str,
) -> Result<(), BuildError> {
    let builder = connect(info, settings).await?;
    let pid: i32 = builder
        .query_one(BACKEND_PID_SQL, &[])
        .await
        .context("cannot read the build session's pid")?
        .get(0);
    let build = builder.execute(ddl, &[]);
    tokio::pin!(build);
    tokio::select! {
        result = &mut build => {
            result.map(|_| ()).map_err(|e| BuildError::Failed(anyhow::Error::new(e).context(ddl.to_string())))
        }
        _ = tokio::signal::ctrl_c() => {
            let _ = admin.execute(CANCEL_SQL, &[&pid]).await;
            // Wait for the cancelled build to give its session back.
            let _ = build.await;
            Err(BuildError::Cancelled)
        }
    }
}

async fn drop_invalid(client: &Client, index: &QualifiedName) -> Result<()> {
    client
        .execute(
            &format!("DROP INDEX CONCURRENTLY IF EXISTS {}", quoted_table(index)),
            &[],
        )
        .await
        .with_context(|| format!("cannot drop the invalid index {index}"))?;
    Ok(())
}

/// A warning when a plan made on one database is applied to another (a
/// plan made on staging and applied to production is a normal workflow,
/// but worth a line).
pub fn target_warning(planned_for: Option<&str>, target: &str) -> Option<String> {
    match planned_for {
        Some(planned) if planned != target => Some(format!(
            "this plan was made on {planned}; applying it to {target}"
        )),
        _ => None,
    }
}
