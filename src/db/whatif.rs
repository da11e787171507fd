//! What-if planning with HypoPG: a few read-only sessions, each holding a
//! set of hypothetical indexes, plan workload statements with plain EXPLAIN
//! (never ANALYZE: nothing runs). Statements go through the extended
//! protocol, which refuses a second statement smuggled in with `;`.

use super::{ConnInfo, SessionSettings, connect};
use crate::advisor::DropChecker;
use crate::advisor::queries::{PlanVariant, placeholder_count};
use crate::advisor::select::{CostOracle, CostRequest, PlanCost};
use crate::advisor::spec::{quote_always, quoted_table};
use crate::catalog::QualifiedName;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::Mutex;
use tokio_postgres::Client;

const HYPOPG_SQL: &str = include_str!("sql/whatif_hypopg.sql");
const SESSION_SQL: &str = include_str!("sql/whatif_session.sql");
const CREATE_EXTENSION_SQL: &str = include_str!("sql/whatif_create_extension.sql");

/// The name of the one statement each session prepares at a time.
const PREPARED_NAME: &str = "pgadvisor_whatif";

/// Hypothetical indexes created before a session resets HypoPG: it hands
/// out a limited range of fake OIDs (about 2,500) per session.
const RESET_AFTER_CREATES: usize = 1000;

/// Jobs with one index set handed to a session at a time (small, so that a
/// large group of queries under one set is still planned in parallel).
const JOBS_PER_CHUNK: usize = 8;

/// What the server offers for what-if planning.
#[derive(Clone, Debug)]
pub struct HypoStatus {
    pub available_version: Option<String>,
    pub installed_version: Option<String>,
    pub schema: Option<String>,
    pub can_hide: bool,
    pub server_version_num: i32,
    pub random_page_cost: f64,
}

pub async fn hypopg_status(client: &Client) -> Result<HypoStatus> {
    let row = client
        .query_one(HYPOPG_SQL, &[])
        .await
        .context("cannot check for the hypopg extension")?;
    Ok(HypoStatus {
        available_version: row.get("available_version"),
        installed_version: row.get("installed_version"),
        schema: row.get("schema_name"),
        can_hide: row.get::<_, Option<bool>>("can_hide").unwrap_or(false),
        server_version_num: row.get("server_version_num"),
        random_page_cost: row.get("random_page_cost"),
    })
}

/// `CREATE EXTENSION IF NOT EXISTS hypopg` (only with --enable-hypopg).
pub async fn create_hypopg(client: &Client) -> Result<()> {
    client
        .batch_execute(CREATE_EXTENSION_SQL)
        .await
        .context("CREATE EXTENSION hypopg failed (it needs the CREATE privilege on the database)")
}

/// One plan of one statement.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanOutcome {
    pub total_cost: f64,
    /// Rows returned — for a ModifyTable, the rows its input feeds it (the
    /// rows written).
    pub rows: f64,
    /// Indexes the plan scans, by name (hypothetical ones as HypoPG names
    /// them: `<oid>btree_…`).
    pub index_names: Vec<String>,
    /// Candidates (by number) among them.
    pub candidates_used: Vec<usize>,
}

/// One planning job: a statement under exactly these hypothetical indexes.
#[derive(Clone, Debug)]
pub struct PlanJob {
    pub indexes: Vec<usize>,
    pub variant: PlanVariant,
    /// A real index to hide (HypoPG 1.4+), for drop checks.
    pub hide: Option<QualifiedName>,
}

struct Session {
    client: Client,
    /// Candidate → OID of its hypothetical index in this session.
    present: HashMap<usize, u32>,
    created_since_reset: usize,
    cache_mode: Option<&'static str>,
}

/// Plain EXPLAIN of workload statements on a read-only session, without
/// HypoPG (apply re-plans with the real index).
pub struct Planner {
    client: Client,
    cache_mode: Option<&'static str>,
    generic_option: bool,
}

impl Planner {
    pub async fn open(info: &ConnInfo, settings: &SessionSettings) -> Result<Self> {
        let client = connect(info, settings).await?;
        client
            .batch_execute(SESSION_SQL)
            .await
            .context("cannot make the planning session read-only")?;
        let version: i32 = client
            .query_one("SELECT current_setting('server_version_num')::int4", &[])
            .await?
            .get(0);
        Ok(Self {
            client,
            cache_mode: None,
            generic_option: version >= 160000,
        })
    }

    pub async fn plan(&mut self, variant: &PlanVariant) -> Result<Result<PlanOutcome, String>> {
        plan_variant(
            &self.client,
            &mut self.cache_mode,
            variant,
            self.generic_option,
        )
        .await
    }

    /// The plan as EXPLAIN (FORMAT JSON) gave it.
    pub async fn plan_json(&mut self, variant: &PlanVariant) -> Result<Result<Value, String>> {
        plan_variant_json(
            &self.client,
            &mut self.cache_mode,
            variant,
            self.generic_option,
        )
        .await
    }
}

/// A pool of what-if sessions over one candidate list.
pub struct WhatIf {
    sessions: Vec<Arc<Mutex<Session>>>,
    /// `hypopg_create_index` input per candidate.
    ddl: Arc<Vec<String>>,
    schema: String,
    generic_plan_option: bool,
    pub status: HypoStatus,
}

impl WhatIf {
    /// Opens `jobs` sessions. HypoPG must be installed.
    pub async fn open(
        info: &ConnInfo,
        settings: &SessionSettings,
        jobs: usize,
        status: HypoStatus,
        ddl: Vec<String>,
    ) -> Result<Self> {
        let Some(schema) = status.schema.clone() else {
            bail!("hypopg is not installed in this database");
        };
        let mut sessions = Vec::new();
        for _ in 0..jobs.max(1) {
            let client = connect(info, settings).await?;
            client
                .batch_execute(SESSION_SQL)
                .await
                .context("cannot make the what-if session read-only")?;
            let session = Session {
                client,
                present: HashMap::new(),
                created_since_reset: 0,
                cache_mode: None,
            };
            sessions.push(Arc::new(Mutex::new(session)));
        }
        let whatif = Self {
            sessions,
            ddl: Arc::new(ddl),
            generic_plan_option: status.server_version_num >= 160000,
            schema,
            status,
        };
        for s in &whatif.sessions {
            let session = s.lock().await;
            session
                .client
                .execute(&HypoCalls::new(&whatif.schema).reset, &[])
                .await
                .context("hypopg_reset() failed")?;
        }
        Ok(whatif)
    }

    /// The estimated size of each candidate (`hypopg_relation_size`), or
    /// why HypoPG refused it (a non-immutable expression, an unknown
    /// operator class…).
    pub async fn sizes(&self) -> Result<Vec<Result<i64, String>>> {
        let n = self.ddl.len();
        let results = Arc::new(std::sync::Mutex::new(vec![None; n]));
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for s in &self.sessions {
            let (s, ddl, results, next) =
                (s.clone(), self.ddl.clone(), results.clone(), next.clone());
            let HypoCalls {
                create, drop, size, ..
            } = HypoCalls::new(&self.schema);
            tasks.spawn(async move {
                let session = s.lock().await;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= ddl.len() {
                        return Ok::<(), anyhow::Error>(());
                    }
                    let outcome = match session.client.query_one(&create, &[&ddl[i]]).await {
                        Ok(row) => {
                            let oid: u32 = row.try_get(0)?;
                            let bytes = session.client.query_one(&size, &[&oid]).await;
                            session.client.execute(&drop, &[&oid]).await?;
                            bytes
                                .and_then(|r| r.try_get::<_, i64>(0))
                                .map_err(error_text)
                        }
                        Err(e) if e.as_db_error().is_some() => Err(error_text(e)),
                        Err(e) => return Err(e.into()),
                    };
                    results.lock().expect("not poisoned")[i] = Some(outcome);
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.context("a what-if session task failed")??;
        }
        let results = std::mem::take(&mut *results.lock().expect("not poisoned"));
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("not planned".to_string())))
            .collect())
    }

    /// Plans every job, in parallel over the sessions, grouped by index
    /// set so each session changes its hypothetical indexes as little as
    /// possible. A statement that cannot be planned gives `Err(message)`;
    /// a lost connection fails the whole batch.
    pub async fn plan(&self, jobs: Vec<PlanJob>) -> Result<Vec<Result<PlanOutcome, String>>> {
        let n = jobs.len();
        let jobs = Arc::new(jobs);
        let mut groups: BTreeMap<(Vec<usize>, Option<QualifiedName>), Vec<usize>> = BTreeMap::new();
        for (i, job) in jobs.iter().enumerate() {
            groups
                .entry((job.indexes.clone(), job.hide.clone()))
                .or_default()
                .push(i);
        }
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        for (_, members) in groups {
            chunks.extend(members.chunks(JOBS_PER_CHUNK).map(|c| c.to_vec()));
        }
        // Pop from the back: reverse so the first group goes first.
        chunks.reverse();
        let queue = Arc::new(std::sync::Mutex::new(chunks));
        let results = Arc::new(std::sync::Mutex::new(vec![None; n]));
        let mut tasks = tokio::task::JoinSet::new();
        for s in &self.sessions {
            let (s, jobs, queue, results, ddl) = (
                s.clone(),
                jobs.clone(),
                queue.clone(),
                results.clone(),
                self.ddl.clone(),
            );
            let calls = HypoCalls::new(&self.schema);
            let generic_option = self.generic_plan_option;
            tasks.spawn(async move {
                let mut session = s.lock().await;
                loop {
                    let Some(chunk) = queue.lock().expect("not poisoned").pop() else {
                        return Ok::<(), anyhow::Error>(());
                    };
                    let first = &jobs[chunk[0]];
                    session.sync(&first.indexes, &ddl, &calls).await?;
                    let hidden = match &first.hide {
                        Some(index) => Some(session.hide(index, &calls).await?),
                        None => None,
                    };
                    for j in chunk {
                        let outcome = session.plan_one(&jobs[j].variant, generic_option).await?;
                        let outcome = outcome.map(|mut o| {
                            o.candidates_used = session.candidates_named(&o.index_names);
                            o
                        });
                        results.lock().expect("not poisoned")[j] = Some(outcome);
                    }
                    if let Some(oid) = hidden {
                        session.client.execute(&calls.unhide, &[&oid]).await?;
                    }
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.context("a what-if session task failed")??;
        }
        let results = std::mem::take(&mut *results.lock().expect("not poisoned"));
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("not planned".to_string())))
            .collect())
    }

    /// Plans statements with `index` really dropped, inside a transaction
    /// that is always rolled back (for HypoPG without hypopg_hide_index).
    /// `lock_timeout` bounds the wait for the table's lock; the lock is
    /// held only while these few statements are planned.
    pub async fn plan_with_index_dropped(
        &self,
        index: &QualifiedName,
        indexes: &[usize],
        variants: &[PlanVariant],
        lock_timeout_ms: u64,
    ) -> Result<Vec<Result<PlanOutcome, String>>> {
        let calls = HypoCalls::new(&self.schema);
        let mut session = self.sessions[0].lock().await;
        session.sync(indexes, &self.ddl, &calls).await?;
        let client = &session.client;
        client
            .batch_execute(&format!(
                "BEGIN READ WRITE; SET LOCAL lock_timeout = '{lock_timeout_ms}ms'"
            ))
            .await
            .context("cannot open the drop-check transaction")?;
        let dropped = client
            .batch_execute(&format!("DROP INDEX {}", quoted_table(index)))
            .await;
        let mut out = Vec::new();
        if let Err(e) = &dropped {
            let message = error_text_ref(e);
            client.batch_execute("ROLLBACK").await?;
            bail!("could not drop {index} inside the check transaction: {message}");
        }
        for v in variants {
            let r = session.plan_one(v, self.generic_plan_option).await;
            match r {
                Ok(o) => out.push(o.map(|mut o| {
                    o.candidates_used = session.candidates_named(&o.index_names);
                    o
                })),
                Err(e) => {
                    let _ = session.client.batch_execute("ROLLBACK").await;
                    return Err(e);
                }
            }
        }
        session
            .client
            .batch_execute("ROLLBACK")
            .await
            .context("ROLLBACK of the drop check failed")?;
        Ok(out)
    }
}

/// The what-if pool as selection's cost oracle. Selection is synchronous
/// (pure code); it runs on a blocking thread and this waits on the runtime.
pub struct HypoOracle {
    whatif: Arc<WhatIf>,
    handle: tokio::runtime::Handle,
    /// Plan variants per query, as the advisor numbered them.
    variants: Arc<Vec<Vec<PlanVariant>>>,
    /// The first planning error per (query, variant), for the report.
    pub errors: BTreeMap<(usize, usize), String>,
}

impl HypoOracle {
    pub fn new(
        whatif: Arc<WhatIf>,
        handle: tokio::runtime::Handle,
        variants: Arc<Vec<Vec<PlanVariant>>>,
    ) -> Self {
        Self {
            whatif,
            handle,
            variants,
            errors: BTreeMap::new(),
        }
    }

    fn run(
        &mut self,
        requests: &[CostRequest],
        hide: Option<&QualifiedName>,
    ) -> Result<Vec<Option<PlanCost>>> {
        let jobs: Vec<PlanJob> = requests
            .iter()
            .map(|r| PlanJob {
                indexes: r.indexes.clone(),
                variant: self.variants[r.query][r.variant].clone(),
                hide: hide.cloned(),
            })
            .collect();
        let whatif = self.whatif.clone();
        let outcomes = self
            .handle
            .block_on(async move { whatif.plan(jobs).await })?;
        Ok(requests
            .iter()
            .zip(outcomes)
            .map(|(r, o)| match o {
                Ok(o) => Some(PlanCost {
                    total: o.total_cost,
                    rows: o.rows,
                    uses: o.candidates_used,
                }),
                Err(e) => {
                    self.errors.entry((r.query, r.variant)).or_insert(e);
                    None
                }
            })
            .collect())
    }
}

impl CostOracle for HypoOracle {
    fn costs(&mut self, requests: &[CostRequest]) -> Result<Vec<Option<PlanCost>>> {
        self.run(requests, None)
    }
}

/// Drop checks: HypoPG 1.4+ hides the index; older ones need
/// `--verify-drops` (a real DROP INDEX inside a rolled-back transaction).
pub struct HypoDropChecker {
    pub oracle: HypoOracle,
    pub verify_by_rollback: bool,
}

/// How long a rolled-back drop check waits for its table's lock.
const DROP_CHECK_LOCK_TIMEOUT_MS: u64 = 1000;

impl DropChecker for HypoDropChecker {
    fn costs_without(
        &mut self,
        index: &QualifiedName,
        requests: &[CostRequest],
    ) -> Result<std::result::Result<Vec<Option<PlanCost>>, String>> {
        if self.oracle.whatif.status.can_hide {
            return self.oracle.run(requests, Some(index)).map(Ok);
        }
        if !self.verify_by_rollback {
            return Ok(Err(format!(
                "HypoPG {} cannot hide an index (hypopg_hide_index needs 1.4 or later); pass --verify-drops to re-plan the workload with the index dropped inside a transaction that is rolled back",
                self.oracle
                    .whatif
                    .status
                    .installed_version
                    .as_deref()
                    .unwrap_or("?")
            )));
        }
        let mut out = vec![None; requests.len()];
        let mut groups: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
        for (i, r) in requests.iter().enumerate() {
            groups.entry(r.indexes.clone()).or_default().push(i);
        }
        for (indexes, members) in groups {
            let variants: Vec<PlanVariant> = members
                .iter()
                .map(|i| self.oracle.variants[requests[*i].query][requests[*i].variant].clone())
                .collect();
            let whatif = self.oracle.whatif.clone();
            let index = index.clone();
            let result = self.oracle.handle.block_on(async move {
                whatif
                    .plan_with_index_dropped(
                        &index,
                        &indexes,
                        &variants,
                        DROP_CHECK_LOCK_TIMEOUT_MS,
                    )
                    .await
            });
            let outcomes = match result {
                Ok(o) => o,
                Err(e) => return Ok(Err(format!("{e:#}"))),
            };
            for (i, o) in members.into_iter().zip(outcomes) {
                out[i] = o.ok().map(|o| PlanCost {
                    total: o.total_cost,
                    rows: o.rows,
                    uses: o.candidates_used,
                });
            }
        }
        Ok(Ok(out))
    }
}

/// The HypoPG calls, schema-qualified.
struct HypoCalls {
    create: String,
    drop: String,
    reset: String,
    size: String,
    hide: String,
    unhide: String,
}

impl HypoCalls {
    fn new(schema: &str) -> Self {
        let s = quote_always(schema);
        Self {
            create: format!("SELECT indexrelid FROM {s}.hypopg_create_index($1)"),
            drop: format!("SELECT {s}.hypopg_drop_index($1)"),
            reset: format!("SELECT {s}.hypopg_reset()"),
            size: format!("SELECT {s}.hypopg_relation_size($1)::int8"),
            hide: format!("SELECT {s}.hypopg_hide_index(to_regclass($1)::oid)"),
            unhide: format!("SELECT {s}.hypopg_unhide_index($1)"),
        }
    }
}

impl Session {
    /// Makes the session's hypothetical indexes exactly `wanted`.
    async fn sync(&mut self, wanted: &[usize], ddl: &[String], calls: &HypoCalls) -> Result<()> {
        if self.created_since_reset + wanted.len() > RESET_AFTER_CREATES {
            self.client.execute(&calls.reset, &[]).await?;
            self.present.clear();
            self.created_since_reset = 0;
        }
        let extra: Vec<usize> = self
            .present
            .keys()
            .copied()
            .filter(|c| !wanted.contains(c))
            .collect();
        for c in extra {
            let oid = self.present.remove(&c).expect("present");
            self.client.execute(&calls.drop, &[&oid]).await?;
        }
        for &c in wanted {
            if self.present.contains_key(&c) {
                continue;
            }
            let row = self
                .client
                .query_one(&calls.create, &[&ddl[c]])
                .await
                .with_context(|| format!("hypopg could not create {}", ddl[c]))?;
            self.present.insert(c, row.try_get(0)?);
            self.created_since_reset += 1;
        }
        Ok(())
    }

    async fn hide(&mut self, index: &QualifiedName, calls: &HypoCalls) -> Result<u32> {
        let name = quoted_table(index);
        self.client
            .execute(&calls.hide, &[&name])
            .await
            .with_context(|| format!("hypopg_hide_index({name}) failed"))?;
        let row = self
            .client
            .query_one("SELECT to_regclass($1)::oid", &[&name])
            .await?;
        Ok(row.get(0))
    }

    fn candidates_named(&self, names: &[String]) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .present
            .iter()
            .filter(|(_, oid)| {
                let prefix = format!("<{oid}>");
                names.iter().any(|n| n.starts_with(&prefix))
            })
            .map(|(c, _)| *c)
            .collect();
        out.sort_unstable();
        out
    }

    async fn plan_one(
        &mut self,
        variant: &PlanVariant,
        generic_option: bool,
    ) -> Result<Result<PlanOutcome, String>> {
        plan_variant(&self.client, &mut self.cache_mode, variant, generic_option).await
    }
}

/// Plans one statement. The outer error is a lost session; the inner one
/// the server's refusal to plan this statement.
async fn plan_variant(
    client: &Client,
    cache_mode: &mut Option<&'static str>,
    variant: &PlanVariant,
    generic_option: bool,
) -> Result<Result<PlanOutcome, String>> {
    Ok(
        plan_variant_json(client, cache_mode, variant, generic_option)
            .await?
            .and_then(|plan| parse_plan(&plan)),
    )
}

/// The EXPLAIN (FORMAT JSON) output for one variant.
async fn plan_variant_json(
    client: &Client,
    cache_mode: &mut Option<&'static str>,
    variant: &PlanVariant,
    generic_option: bool,
) -> Result<Result<Value, String>> {
    let result = match variant {
        PlanVariant::Literal { statement } => {
            explain(client, &format!("EXPLAIN (FORMAT JSON) {statement}")).await
        }
        PlanVariant::Generic { statement } if generic_option => {
            explain(
                client,
                &format!("EXPLAIN (GENERIC_PLAN, FORMAT JSON) {statement}"),
            )
            .await
        }
        PlanVariant::Generic { statement } => {
            set_cache_mode(client, cache_mode, "force_generic_plan").await?;
            let nulls = vec!["NULL".to_string(); placeholder_count(statement)];
            explain_prepared(client, statement, &nulls).await
        }
        PlanVariant::Bound {
            statement,
            parameters,
        } => {
            set_cache_mode(client, cache_mode, "force_custom_plan").await?;
            explain_prepared(client, statement, &execute_arguments(statement, parameters)).await
        }
    };
    match result {
        Ok(plan) => Ok(Ok(plan)),
        Err(e) if e.as_db_error().is_some() => Ok(Err(error_text(e))),
        Err(e) => Err(anyhow::Error::new(e).context("the planning session was lost")),
    }
}

async fn set_cache_mode(
    client: &Client,
    current: &mut Option<&'static str>,
    mode: &'static str,
) -> Result<()> {
    if *current != Some(mode) {
        client
            .batch_execute(&format!("SET plan_cache_mode = {mode}"))
            .await?;
        *current = Some(mode);
    }
    Ok(())
}

async fn explain(client: &Client, sql: &str) -> Result<Value, tokio_postgres::Error> {
    let row = client.query_one(sql, &[]).await?;
    row.try_get::<_, Value>(0)
}

/// PREPARE, EXPLAIN EXECUTE, DEALLOCATE. Prepared afresh every time: a
/// cached plan would not see hypothetical indexes created after it.
async fn explain_prepared(
    client: &Client,
    statement: &str,
    args: &[String],
) -> Result<Value, tokio_postgres::Error> {
    client
        .execute(&format!("PREPARE {PREPARED_NAME} AS {statement}"), &[])
        .await?;
    let execute = if args.is_empty() {
        format!("EXPLAIN (FORMAT JSON) EXECUTE {PREPARED_NAME}")
    } else {
        format!(
            "EXPLAIN (FORMAT JSON) EXECUTE {PREPARED_NAME}({})",
            args.join(", ")
        )
    };
    let plan = explain(client, &execute).await;
    let deallocated = client
        .execute(&format!("DEALLOCATE {PREPARED_NAME}"), &[])
        .await;
    let plan = plan?;
    deallocated?;
    Ok(plan)
}

/// The argument list of `EXECUTE name(…)` for a statement's `$n`: the
/// logged values as literals, NULL where a value is missing.
pub fn execute_arguments(statement: &str, parameters: &[Option<String>]) -> Vec<String> {
    let count = placeholder_count(statement).max(parameters.len());
    (0..count)
        .map(|i| match parameters.get(i) {
            Some(Some(v)) => quote_literal(v),
            _ => "NULL".to_string(),
        })
        .collect()
}

/// A parameter value as a string literal (standard_conforming_strings is
/// on in what-if sessions, so only quotes need doubling).
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn error_text(e: tokio_postgres::Error) -> String {
    error_text_ref(&e)
}

fn error_text_ref(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// Total cost and the indexes used, from `EXPLAIN (FORMAT JSON)`.
fn parse_plan(plan: &Value) -> Result<PlanOutcome, String> {
    let root = plan
        .get(0)
        .and_then(|p| p.get("Plan"))
        .ok_or_else(|| "EXPLAIN returned no plan".to_string())?;
    let total_cost = root
        .get("Total Cost")
        .and_then(Value::as_f64)
        .ok_or_else(|| "the plan has no total cost".to_string())?;
    let rows_of = |node: &Value| node.get("Plan Rows").and_then(Value::as_f64);
    let rows = if root.get("Node Type").and_then(Value::as_str) == Some("ModifyTable") {
        root.get("Plans").and_then(|p| p.get(0)).and_then(rows_of)
    } else {
        rows_of(root)
    }
    .unwrap_or(1.0);
    let mut index_names = Vec::new();
    collect_index_names(root, &mut index_names);
    index_names.sort();
    index_names.dedup();
    Ok(PlanOutcome {
        total_cost,
        rows,
        index_names,
        candidates_used: Vec::new(),
    })
}

fn collect_index_names(node: &Value, out: &mut Vec<String>) {
    if let Some(name) = node.get("Index Name").and_then(Value::as_str) {
        out.push(name.to_string());
    }
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for child in children {
            collect_index_names(child, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_cost_and_nested_index_names() {
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Nested Loop", "Total Cost": 42.5, "Plans": [
                {"Node Type": "Index Scan", "Index Name": "<13556>btree_t_a", "Total Cost": 1.0},
                {"Node Type": "Bitmap Heap Scan", "Total Cost": 3.0, "Plans": [
                    {"Node Type": "Bitmap Index Scan", "Index Name": "t_pkey"}]}]}}]"#,
        )
        .unwrap();
        let outcome = parse_plan(&plan).unwrap();
        assert_eq!(outcome.total_cost, 42.5);
        assert_eq!(outcome.index_names, vec!["<13556>btree_t_a", "t_pkey"]);
        assert!(parse_plan(&Value::Null).is_err());
    }

    #[test]
    fn literals_double_quotes_only() {
        assert_eq!(quote_literal("o'neil"), "'o''neil'");
        assert_eq!(quote_literal(r"a\b"), r"'a\b'");
    }
}
