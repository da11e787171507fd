//! The workload seen per table: which columns and expressions its
//! statements filter, join, sort and group on, weighted by calls and time.
//! This is the seed of every index recommendation.

use super::{AccessKind, Operand, PredicateOp, StatementShape, analyze_sql};
use crate::catalog::{Catalog, QualifiedName};
use crate::workload::Workload;
use crate::workload::fingerprint::{FingerprintId, StatementKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How many fingerprint ids an entry lists (the heaviest).
const IDS_KEPT: usize = 5;

/// What a column or expression is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UseKind {
    Filter,
    Join,
    Sort,
    Group,
    DistinctOn,
}

impl UseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Filter => "filter",
            Self::Join => "join",
            Self::Sort => "sort",
            Self::Group => "group",
            Self::DistinctOn => "distinct on",
        }
    }
}

/// One use of a column or expression, totalled over the fingerprints that
/// make it.
#[derive(Clone, Debug, Serialize)]
pub struct ColumnUse {
    pub kind: UseKind,
    pub operand: Operand,
    /// The operator for filters (`eq`, `gt`, `prefix_like`…), the other side
    /// for joins (`public.users.id`), `asc`/`desc` for sorts.
    pub detail: String,
    /// Part of the uses sit under OR or NOT (an index alone cannot serve them).
    pub under_or_or_not: bool,
    pub calls: u64,
    pub total_ms: f64,
    /// Share of the whole workload's time (0–1).
    pub share: f64,
    pub fingerprints: usize,
    /// The heaviest fingerprints making this use.
    pub fingerprint_ids: Vec<FingerprintId>,
}

/// A table's part in the workload.
#[derive(Clone, Debug, Serialize)]
pub struct TableUsage {
    pub table: QualifiedName,
    /// In the catalog.
    pub known: bool,
    /// Seen only in statements that do not parse.
    pub guessed: bool,
    pub calls: u64,
    pub total_ms: f64,
    pub share: f64,
    pub fingerprints: usize,
    /// Calls per access kind.
    pub calls_by_kind: BTreeMap<AccessKind, u64>,
    /// The planner's row estimate and the table's size, from a live catalog.
    pub row_estimate: Option<f64>,
    pub size_bytes: Option<i64>,
    pub uses: Vec<ColumnUse>,
}

/// How well the workload's statements could be read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ShapeCoverage {
    /// DML fingerprints analyzed (SELECT, INSERT, UPDATE, DELETE).
    pub analyzed: usize,
    pub parsed: usize,
    /// Parsed, every table known and every column bound.
    pub fully_bound: usize,
    /// Problems by kind (unknown column, ambiguous column, unknown table…).
    pub problems: BTreeMap<String, usize>,
    /// The first few problems, for the report.
    pub examples: Vec<String>,
}

/// The per-table view of a workload.
#[derive(Clone, Debug, Serialize)]
pub struct UsageReport {
    pub tables: Vec<TableUsage>,
    pub coverage: ShapeCoverage,
}

#[derive(Default)]
struct UseTotals {
    under: bool,
    calls: u64,
    total_us: u64,
    ids: Vec<(u64, FingerprintId)>,
}

#[derive(Default)]
struct TableTotals {
    known: bool,
    guessed: bool,
    calls: u64,
    total_us: u64,
    fingerprints: usize,
    by_kind: BTreeMap<AccessKind, u64>,
    uses: BTreeMap<(UseKind, Operand, String), UseTotals>,
}

/// Analyzes every DML fingerprint (its slowest sample when there is one, for
/// real LIKE patterns; else its normalized text) and totals uses per table.
pub fn usage_by_table(workload: &Workload, catalog: &Catalog) -> UsageReport {
    let workload_us = workload.total_us().max(1);
    let mut tables: BTreeMap<QualifiedName, TableTotals> = BTreeMap::new();
    let mut coverage = ShapeCoverage::default();
    for fp in &workload.fingerprints {
        if !matches!(
            fp.kind,
            StatementKind::Select
                | StatementKind::Insert
                | StatementKind::Update
                | StatementKind::Delete
        ) {
            continue;
        }
        let shape = match fp.samples.first() {
            Some(sample) => analyze_sql(&sample.statement, catalog, &sample.parameters),
            None => analyze_sql(&fp.text, catalog, &[]),
        };
        coverage.analyzed += 1;
        if shape.parse_error.is_none() {
            coverage.parsed += 1;
        }
        if shape.fully_bound() {
            coverage.fully_bound += 1;
        }
        for problem in &shape.problems {
            *coverage
                .problems
                .entry(problem.kind().to_string())
                .or_default() += 1;
            if coverage.examples.len() < 10 {
                coverage
                    .examples
                    .push(format!("{}: {}", fp.id, describe_problem(problem)));
            }
        }
        add_shape(&mut tables, &shape, fp.calls, fp.total_us, fp.id);
    }
    let mut out: Vec<TableUsage> = tables
        .into_iter()
        .map(|(name, t)| {
            let rel = catalog.get(&name);
            let mut uses: Vec<ColumnUse> = t
                .uses
                .into_iter()
                .map(|((kind, operand, detail), u)| {
                    let mut ids = u.ids;
                    ids.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                    ColumnUse {
                        kind,
                        operand,
                        detail,
                        under_or_or_not: u.under,
                        calls: u.calls,
                        total_ms: u.total_us as f64 / 1000.0,
                        share: share(u.total_us, workload_us),
                        fingerprints: ids.len(),
                        fingerprint_ids: ids.into_iter().take(IDS_KEPT).map(|(_, id)| id).collect(),
                    }
                })
                .collect();
            uses.sort_by(|a, b| {
                b.total_ms
                    .partial_cmp(&a.total_ms)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.calls.cmp(&a.calls))
                    .then(a.kind.cmp(&b.kind))
                    .then(a.operand.cmp(&b.operand))
                    .then(a.detail.cmp(&b.detail))
            });
            TableUsage {
                known: t.known,
                guessed: t.guessed,
                calls: t.calls,
                total_ms: t.total_us as f64 / 1000.0,
                share: share(t.total_us, workload_us),
                fingerprints: t.fingerprints,
                calls_by_kind: t.by_kind,
                row_estimate: rel.and_then(|r| r.stats).map(|s| s.row_estimate),
                size_bytes: rel.and_then(|r| r.stats).map(|s| s.size_bytes),
                table: name,
                uses,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.total_ms
            .partial_cmp(&a.total_ms)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.calls.cmp(&a.calls))
            .then(a.table.cmp(&b.table))
    });
    UsageReport {
        tables: out,
        coverage,
    }
}

fn add_shape(
    tables: &mut BTreeMap<QualifiedName, TableTotals>,
    shape: &StatementShape,
    calls: u64,
    total_us: u64,
    id: FingerprintId,
) {
    for access in shape.tables.iter().filter(|a| !a.system) {
        let t = tables.entry(access.table.clone()).or_default();
        t.known = access.known;
        t.guessed |= access.guessed;
        t.calls += calls;
        t.total_us += total_us;
        t.fingerprints += 1;
        for kind in &access.kinds {
            *t.by_kind.entry(*kind).or_default() += calls;
        }
        // Each use counts once per fingerprint, however often it is written.
        let mut seen: BTreeSet<(UseKind, Operand, String)> = BTreeSet::new();
        let mut add = |key: (UseKind, Operand, String), under: bool| {
            if seen.insert(key.clone()) {
                let u = t.uses.entry(key).or_default();
                u.calls += calls;
                u.total_us += total_us;
                u.ids.push((total_us, id));
                u.under |= under;
            } else if under {
                t.uses.entry(key).or_default().under = true;
            }
        };
        for f in &access.filters {
            add(
                (
                    UseKind::Filter,
                    f.operand.clone(),
                    op_name(f.op).to_string(),
                ),
                f.under_or || f.under_not,
            );
        }
        for j in &access.joins {
            add(
                (
                    UseKind::Join,
                    j.operand.clone(),
                    format!("{}.{}", j.other_table, j.other_operand.text()),
                ),
                false,
            );
        }
        for s in &access.order_by {
            add(
                (
                    UseKind::Sort,
                    s.operand.clone(),
                    if s.descending { "desc" } else { "asc" }.to_string(),
                ),
                false,
            );
        }
        for g in &access.group_by {
            add((UseKind::Group, g.clone(), String::new()), false);
        }
        for d in &access.distinct_on {
            add((UseKind::DistinctOn, d.clone(), String::new()), false);
        }
    }
}

/// A share of the workload's time, to four decimals (as in the workload JSON).
fn share(part_us: u64, whole_us: u64) -> f64 {
    (part_us as f64 / whole_us as f64 * 1e4).round() / 1e4
}

/// Short names of predicate operators, as shown and in JSON.
pub fn op_name(op: PredicateOp) -> &'static str {
    match op {
        PredicateOp::Eq => "=",
        PredicateOp::In => "in",
        PredicateOp::AnyEq => "= any",
        PredicateOp::Lt => "<",
        PredicateOp::Le => "<=",
        PredicateOp::Gt => ">",
        PredicateOp::Ge => ">=",
        PredicateOp::Between => "between",
        PredicateOp::IsNull => "is null",
        PredicateOp::IsNotNull => "is not null",
        PredicateOp::IsTrue => "is true",
        PredicateOp::IsFalse => "is false",
        PredicateOp::PrefixLike => "like 'prefix%'",
        PredicateOp::InfixLike => "like '%infix%'",
        PredicateOp::Like => "like",
        PredicateOp::Regex => "regex",
        PredicateOp::Contains => "@>",
        PredicateOp::ContainedBy => "<@",
        PredicateOp::Overlaps => "&&",
        PredicateOp::HasKey => "? key",
        PredicateOp::TextSearch => "@@",
        PredicateOp::DistinctFrom => "is distinct from",
        PredicateOp::NotEq => "<>",
        PredicateOp::RowCompare => "row comparison",
        PredicateOp::Other => "other",
    }
}

fn describe_problem(p: &super::BindingProblem) -> String {
    use super::BindingProblem as B;
    match p {
        B::UnknownColumn { column } => format!("unknown column {column}"),
        B::AmbiguousColumn { column, tables } => {
            format!("ambiguous column {column} (in {})", tables.join(", "))
        }
        B::UnknownTable { table } => format!("table {table} is not in the catalog"),
        B::UnknownQualifier { qualifier } => format!("unknown table alias {qualifier}"),
    }
}
