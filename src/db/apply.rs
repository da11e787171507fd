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
use tokio::sync::watch;
use tokio_postgres::Client;

const INDEX_STATE_SQL: &str = include_str!("sql/apply_index_state.sql");
const BACKEND_PID_SQL: &str = "SELECT pg_backend_pid()";
/// The relkind of an index by schema and name: `I` for a partitioned
/// index, which cannot be dropped CONCURRENTLY.
const INDEX_KIND_SQL: &str = "SELECT c.relkind::text FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2";
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
    /// Not attempted: Ctrl-C came before its build began.
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
    /// Not built as asked: failed, cancelled, or not started after a Ctrl-C.
    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            BuildStatus::Failed { .. } | BuildStatus::Cancelled | BuildStatus::NotStarted
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

/// An existing index of that name in the schema: whether it is valid, its
/// size, and the table it is on (a name is unique per schema, not per
/// table: another table's index of that name must not be taken for ours).
async fn index_lookup(
    client: &Client,
    index: &QualifiedName,
) -> Result<Option<(bool, i64, QualifiedName)>> {
    let row = client
        .query_opt(INDEX_STATE_SQL, &[&index.schema, &index.name])
        .await
        .with_context(|| format!("cannot look up index {index}"))?;
    Ok(row.map(|r| {
        let table = QualifiedName::new(
            r.get::<_, String>("table_schema"),
            r.get::<_, String>("table_name"),
        );
        (r.get("valid"), r.get("size_bytes"), table)
    }))
}

/// `Some((valid, size))` when an index of that name exists in the schema.
async fn index_state(client: &Client, index: &QualifiedName) -> Result<Option<(bool, i64)>> {
    Ok(index_lookup(client, index)
        .await?
        .map(|(valid, size, _)| (valid, size)))
}

/// Ctrl-C for the whole run. Listening only while a build runs would lose
/// a Ctrl-C pressed between two builds (the signal handler, once installed,
/// stays for the life of the process): the first one is remembered here,
/// cancels the build in progress and keeps the next from starting; a
/// second one exits at once.
struct Interrupt {
    flag: watch::Receiver<bool>,
    listener: tokio::task::JoinHandle<()>,
}

impl Interrupt {
    async fn install() -> Self {
        let (tx, flag) = watch::channel(false);
        let mut first = Box::pin(tokio::signal::ctrl_c());
        // Polled once here, so the handler is in place before any build.
        let early = tokio::select! {
            biased;
            r = &mut first => Some(r),
            _ = std::future::ready(()) => None,
        };
        let listener = tokio::spawn(async move {
            let first = match early {
                Some(r) => r,
                None => first.await,
            };
            if first.is_err() {
                // No handler: Ctrl-C keeps its default effect.
                return;
            }
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "interrupted again: exiting now; an index being built may be left invalid (the next apply drops it)"
                );
                std::process::exit(130);
            }
        });
        Self { flag, listener }
    }

    fn is_set(&self) -> bool {
        *self.flag.borrow()
    }

    /// Resolves at the first Ctrl-C (never, without a handler).
    fn wait(&self) -> impl std::future::Future<Output = ()> + use<> {
        let mut flag = self.flag.clone();
        async move {
            if flag.wait_for(|set| *set).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.listener.abort();
    }
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
    let interrupt = Interrupt::install().await;
    // The admin session takes locks too (ON ONLY parent index, ATTACH,
    // dropping leftovers): the same limits as the builds.
    let admin = connect(info, &settings).await?;
    let mut planner = Planner::open(info, &SessionSettings::default()).await?;
    let mut out = Vec::new();
    for rec in recommendations {
        if interrupt.is_set() {
            out.push(BuildOutcome::new(rec, BuildStatus::NotStarted));
            continue;
        }
        if let Err(e) = check_entry(rec) {
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
        if interrupt.is_set() {
            out.push(BuildOutcome::new(rec, BuildStatus::NotStarted));
            continue;
        }
        let started = Instant::now();
        let mut outcome = BuildOutcome::new(rec, BuildStatus::Built);
        let found = index_lookup(&admin, &index).await?;
        if let Some((_, _, other)) = &found
            && *other != rec.table
        {
            outcome.status = BuildStatus::Failed {
                error: format!(
                    "an index named {} already exists on {other}: rename this one in the plan",
                    rec.name
                ),
            };
            out.push(outcome);
            continue;
        }
        match found.map(|(valid, size, _)| (valid, size)) {
            Some((true, size)) => {
                outcome.status = BuildStatus::AlreadyPresent;
                outcome.size_bytes = Some(size);
            }
            state => {
                let mut leftover = Ok(());
                if matches!(state, Some((false, _))) {
                    // A leftover of an earlier failed build: it blocks
                    // IF NOT EXISTS and helps nothing.
                    leftover = drop_invalid(&admin, &index).await;
                    outcome.invalid_dropped = leftover.is_ok();
                }
                if let Err(e) = leftover {
                    outcome.status = BuildStatus::Failed {
                        error: format!("{e:#}"),
                    };
                } else if let Some(existing) = served_elsewhere(&rec.spec, catalog) {
                    outcome.status = BuildStatus::ServedByExisting { index: existing };
                } else {
                    let result = build(
                        info,
                        &settings,
                        &admin,
                        &interrupt,
                        rec,
                        &index,
                        catalog,
                        &mut outcome,
                    )
                    .await;
                    match result {
                        Ok(()) => {}
                        Err(BuildError::Cancelled) => {
                            outcome.status = BuildStatus::Cancelled;
                        }
                        Err(BuildError::Failed(e)) => {
                            outcome.status = BuildStatus::Failed {
                                error: format!("{e:#}"),
                            };
                        }
                    }
                    // Whatever happened, no invalid index stays behind
                    // (for a partitioned table, dropping the parent drops
                    // the partition indexes attached to it).
                    if let Some((false, _)) = index_state(&admin, &index).await? {
                        match drop_invalid(&admin, &index).await {
                            Ok(()) => outcome.invalid_dropped = true,
                            Err(e) => {
                                let kept = format!(
                                    "the invalid index {index} is left behind: {e:#}; drop it by hand (DROP INDEX {})",
                                    quoted_table(&index)
                                );
                                outcome.status = BuildStatus::Failed {
                                    error: match &outcome.status {
                                        BuildStatus::Failed { error } => format!("{error}; {kept}"),
                                        _ => kept,
                                    },
                                };
                            }
                        }
                    }
                    if outcome.status == BuildStatus::Built {
                        admin
                            .batch_execute(&format!("ANALYZE {}", quoted_table(&rec.table)))
                            .await
                            .with_context(|| format!("ANALYZE {} failed", rec.table))?;
                        // (A partitioned table's size is its partitions'.)
                        if outcome.size_bytes.is_none() {
                            outcome.size_bytes = index_state(&admin, &index).await?.map(|s| s.1);
                        }
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

/// PostgreSQL's identifier limit (NAMEDATALEN - 1): a longer name would be
/// cut short by the server and the index not found again under it.
const MAX_NAME_BYTES: usize = 63;

/// Checks a plan entry read from a file before anything is sent: the spec
/// is well formed (see [`IndexSpec::validate`]), it is on the entry's own
/// table (the table is where apply looks for the index afterwards), and
/// the name is one the server keeps as is.
pub fn check_entry(rec: &Recommendation) -> Result<(), String> {
    rec.spec.validate()?;
    if rec.spec.table != rec.table {
        return Err(format!(
            "its spec is on {} but the entry is for {}",
            rec.spec.table, rec.table
        ));
    }
    if rec.name.is_empty() || rec.name.len() > MAX_NAME_BYTES || rec.name.contains('\0') {
        return Err(format!(
            "index name {:?} is empty, longer than {MAX_NAME_BYTES} bytes or has a NUL",
            rec.name
        ));
    }
    Ok(())
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

#[allow(clippy::too_many_arguments)]
async fn build(
    info: &ConnInfo,
    settings: &SessionSettings,
    admin: &Client,
    interrupt: &Interrupt,
    rec: &Recommendation,
    index: &QualifiedName,
    catalog: &Catalog,
    outcome: &mut BuildOutcome,
) -> Result<(), BuildError> {
    let kind = catalog.get(&rec.table).map(|r| r.kind);
    if kind != Some(RelationKind::PartitionedTable) {
        return build_concurrently(
            info,
            settings,
            admin,
            interrupt,
            &rec.spec.create_sql(&rec.name),
        )
        .await;
    }
    // CREATE INDEX CONCURRENTLY does not work on a partitioned table. Each
    // partition's index is built concurrently first, not yet attached; then
    // an index ON ONLY the parent is created and every partition's index
    // attached to it (catalog changes only), which makes it valid. A
    // failure or Ctrl-C while building thus leaves only partition indexes,
    // dropped concurrently, and never needs the ACCESS EXCLUSIVE locks on
    // every partition that dropping a partitioned index takes.
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
    let mut children = Vec::new();
    let result = build_partitions(
        info,
        settings,
        admin,
        interrupt,
        rec,
        index,
        &partitions,
        &mut children,
    )
    .await;
    let Err(error) = result else {
        let mut size = 0;
        for child in &children {
            size += index_state(admin, child).await?.map_or(0, |s| s.1);
        }
        outcome.partitions = children.len();
        outcome.partition_indexes = children.into_iter().map(|c| c.name).collect();
        // A partitioned index has no storage of its own: its partitions' total.
        outcome.size_bytes = Some(size);
        return Ok(());
    };
    // Undo: the parent (with whatever is attached to it), then the
    // partition indexes left unattached.
    let mut left = Vec::new();
    for leftover in std::iter::once(index).chain(&children) {
        if index_state(admin, leftover).await?.is_some()
            && let Err(e) = drop_invalid(admin, leftover).await
        {
            left.push(format!("{e:#}"));
        }
    }
    if left.is_empty() {
        return Err(error);
    }
    let error = match error {
        BuildError::Cancelled => anyhow::anyhow!("cancelled"),
        BuildError::Failed(e) => e,
    };
    Err(BuildError::Failed(error.context(format!(
        "cleaning up left indexes behind: {}",
        left.join("; ")
    ))))
}

/// The partitioned path's work: each partition's index built concurrently
/// (recorded in `children` as soon as it may exist), then the parent
/// index ON ONLY and the attaching.
#[allow(clippy::too_many_arguments)]
async fn build_partitions(
    info: &ConnInfo,
    settings: &SessionSettings,
    admin: &Client,
    interrupt: &Interrupt,
    rec: &Recommendation,
    index: &QualifiedName,
    partitions: &[&QualifiedName],
    children: &mut Vec<QualifiedName>,
) -> Result<(), BuildError> {
    for p in partitions {
        let child_spec = rec.spec.on_table(p);
        let child_name = child_spec.name();
        let child = QualifiedName::new(p.schema.clone(), child_name.clone());
        if let Some((false, _)) = index_state(admin, &child).await? {
            drop_invalid(admin, &child).await?;
        }
        children.push(child.clone());
        build_concurrently(
            info,
            settings,
            admin,
            interrupt,
            &child_spec.create_sql(&child_name),
        )
        .await?;
        if let Some((false, _)) = index_state(admin, &child).await? {
            return Err(BuildError::Failed(anyhow::anyhow!(
                "the index on partition {p} was left invalid"
            )));
        }
    }
    if interrupt.is_set() {
        return Err(BuildError::Cancelled);
    }
    admin
        .execute(rec.spec.create_on_only_sql(&rec.name).as_str(), &[])
        .await
        .context("creating the parent index ON ONLY the partitioned table failed")?;
    for (p, child) in partitions.iter().zip(children.iter()) {
        admin
            .execute(
                &format!(
                    "ALTER INDEX {} ATTACH PARTITION {}",
                    quoted_table(index),
                    quoted_table(child)
                ),
                &[],
            )
            .await
            .with_context(|| format!("attaching the index of partition {p} failed"))?;
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
    interrupt: &Interrupt,
    ddl: &str,
) -> Result<(), BuildError> {
    if interrupt.is_set() {
        return Err(BuildError::Cancelled);
    }
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
        () = interrupt.wait() => {
            // The server ignores a cancel that reaches the session before
            // its statement does: repeat it until the build gives the
            // session back.
            let finished = loop {
                let _ = admin.execute(CANCEL_SQL, &[&pid]).await;
                tokio::select! {
                    result = &mut build => break result,
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            };
            match finished {
                // It completed before the cancel reached it: it is valid.
                Ok(_) => Ok(()),
                Err(_) => Err(BuildError::Cancelled),
            }
        }
    }
}

/// Drops an index apply does not keep (invalid, or not attached).
/// PostgreSQL cannot drop a partitioned index CONCURRENTLY: that one is
/// dropped plainly, with the partition indexes attached to it — a catalog
/// change that holds ACCESS EXCLUSIVE locks for a moment, its wait bounded
/// by lock_timeout.
async fn drop_invalid(client: &Client, index: &QualifiedName) -> Result<()> {
    let kind: Option<String> = client
        .query_opt(INDEX_KIND_SQL, &[&index.schema, &index.name])
        .await
        .with_context(|| format!("cannot look up index {index}"))?
        .map(|r| r.get(0));
    let concurrently = if kind.as_deref() == Some("I") {
        ""
    } else {
        "CONCURRENTLY "
    };
    client
        .execute(
            &format!("DROP INDEX {concurrently}IF EXISTS {}", quoted_table(index)),
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
