//! Index advice for a whole workload: candidates from query shapes,
//! what-if costs (through a `CostOracle`, HypoPG in production), greedy
//! workload-wide selection, drop advice, and the report. Pure: the
//! database is behind the oracle; `commands::recommend` wires it up.

pub mod candidates;
pub mod drops;
pub mod offline;
pub mod queries;
pub mod report;
pub mod select;
pub mod spec;

use crate::catalog::{Catalog, QualifiedName};
use crate::workload::Workload;
use anyhow::Result;
use candidates::CandidateSet;
use queries::{SkippedQuery, TableWrites, WorkloadQuery};
use report::{
    AlreadyServedNote, DropAdvice, DropCheck, Mode, NotCosted, PlanDisagreement, QueryImpact,
    Recommendation, Report, Settings, Skipped, Summary,
};
use select::{CandidateInfo, CostCache, CostOracle, CostRequest, Limits, PlanCost, request_for};
use spec::IndexSpec;
use std::collections::BTreeMap;

/// Share of an index's upkeep a partial index pays (it skips the rows its
/// predicate leaves out; how many is not known without costing).
const PARTIAL_UPKEEP: f64 = 0.5;

/// A generic plan and the sample plans disagree when the cost fractions
/// the recommendations save differ by more than this.
const DISAGREEMENT: f64 = 0.25;

/// A drop makes a statement "more expensive" past this relative increase
/// (planner costs wobble by a hair between identical plans).
const DROP_TOLERANCE: f64 = 0.01;

#[derive(Clone, Debug)]
pub struct AdviseOptions {
    pub max_indexes: usize,
    pub max_columns: usize,
    pub budget_bytes: Option<u64>,
    pub min_improvement_pct: f64,
    /// Cost of writing one index entry, in planner cost units (the server's
    /// random_page_cost: one random page touched).
    pub entry_cost: f64,
    pub unused_min_bytes: i64,
}

/// The workload read for index advice.
pub struct Prepared {
    pub queries: Vec<WorkloadQuery>,
    pub skipped: Vec<SkippedQuery>,
    pub writes: BTreeMap<QualifiedName, TableWrites>,
    pub candidates: CandidateSet,
}

pub fn prepare(workload: &Workload, catalog: &Catalog, options: &AdviseOptions) -> Prepared {
    let (queries, skipped, writes) = queries::collect_queries(workload, catalog);
    let candidates = candidates::generate(&queries, catalog, options.max_columns);
    Prepared {
        queries,
        skipped,
        writes,
        candidates,
    }
}

/// Whether dropping an index can be checked, and the costs without it.
pub trait DropChecker {
    /// Plans `requests` as if `index` did not exist; `Err(why)` when this
    /// server or these options cannot check it.
    fn costs_without(
        &mut self,
        index: &QualifiedName,
        requests: &[CostRequest],
    ) -> Result<std::result::Result<Vec<Option<PlanCost>>, String>>;
}

/// Upkeep of an index over the workload window, in cost units.
pub fn write_penalty(spec: &IndexSpec, writes: Option<&TableWrites>, entry_cost: f64) -> f64 {
    let Some(w) = writes else {
        return 0.0;
    };
    let factor = if spec.predicate.is_some() {
        PARTIAL_UPKEEP
    } else {
        1.0
    };
    let mut penalty = w.entries_per_index() * entry_cost * factor;
    // Indexing a column the workload updates turns its HOT updates into
    // ones that write an entry in every index of the table.
    if w.updated_columns.iter().any(|c| spec.mentions_column(c)) {
        penalty +=
            w.workload_updates * w.hot_fraction * (w.existing_indexes as f64 + 1.0) * entry_cost;
    }
    penalty
}

/// Costed advice: selection over what-if plans, then the report.
#[allow(clippy::too_many_arguments)]
pub fn advise_costed(
    prepared: &Prepared,
    workload: &Workload,
    catalog: &Catalog,
    options: &AdviseOptions,
    sizes: &[std::result::Result<i64, String>],
    oracle: &mut dyn CostOracle,
    drop_checker: &mut dyn DropChecker,
    mut notes: Vec<String>,
) -> Result<Report> {
    let queries = &prepared.queries;
    let cands = &prepared.candidates.candidates;
    let mut infos: Vec<CandidateInfo> = cands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let size = sizes.get(i).cloned().unwrap_or(Err(String::new()));
            CandidateInfo {
                size_bytes: size.as_ref().map_or(0.0, |s| *s as f64),
                write_penalty: write_penalty(
                    &c.spec,
                    prepared.writes.get(&c.spec.table),
                    options.entry_cost,
                ),
                // One HypoPG refused cannot be costed: it helps nothing.
                relevant: if size.is_ok() {
                    c.relevant.clone()
                } else {
                    Vec::new()
                },
                widens: cands
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| widens_by_one(&c.spec, &o.spec))
                    .map(|(j, _)| j)
                    .collect(),
            }
        })
        .collect();
    // One note per reason HypoPG gave, not one per candidate.
    let mut refused: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, size) in sizes.iter().enumerate() {
        if let Err(e) = size {
            refused.entry(e).or_default().push(cands[i].spec.label());
        }
    }
    for (reason, labels) in refused {
        notes.push(format!(
            "HypoPG could not build {} candidate(s), left out: {reason} (e.g. {})",
            labels.len(),
            labels[0]
        ));
    }
    let weights: Vec<f64> = queries.iter().map(|q| q.calls as f64).collect();
    let mut cache = CostCache::new(oracle);
    // The threshold is a share of the workload's cost: plan the base first.
    cache.fill((0..queries.len()).map(|q| request_for(q, &[], &infos)))?;
    let base_total: f64 = (0..queries.len())
        .filter_map(|q| {
            cache
                .get(&request_for(q, &[], &infos))
                .map(|c| weights[q] * c.total)
        })
        .sum();
    // No workload statement may get much slower: an index on a column an
    // UPDATE sets makes that UPDATE write index entries it did not write
    // before (and stop being HOT). Compare that upkeep with the UPDATE's
    // own planned cost.
    let mut vetoed: BTreeMap<usize, (f64, f64, Vec<String>)> = BTreeMap::new();
    for (i, c) in cands.iter().enumerate() {
        if infos[i].relevant.is_empty() {
            continue;
        }
        if let Some((q, extra, base)) = hot_breaking_update(
            &c.spec,
            queries,
            prepared.writes.get(&c.spec.table),
            options.entry_cost,
            |q| {
                cache
                    .get(&request_for(q, &[], &infos))
                    .map(|p| (p.total, p.rows))
            },
        ) {
            infos[i].relevant.clear();
            let entry = vetoed.entry(q).or_insert((extra, base, Vec::new()));
            entry.2.push(c.spec.label());
        }
    }
    for (q, (extra, base, labels)) in vetoed {
        notes.push(format!(
            "left out {} candidate(s) indexing a column {} sets (e.g. {}): each would add about {extra:.1} to that UPDATE's cost of {base:.1}, more than {:.0} %",
            labels.len(),
            queries[q].fingerprint,
            labels[0],
            MAX_WRITE_REGRESSION * 100.0
        ));
    }
    let limits = Limits {
        max_indexes: options.max_indexes,
        budget_bytes: options.budget_bytes.map(|b| b as f64),
        min_gain: base_total * options.min_improvement_pct / 100.0,
    };
    let selection = select::select(&weights, &infos, &limits, &mut cache)?;

    // Attribution: each chosen index gets what it saves on top of the ones
    // chosen before it (in slot order), so the shares add up.
    let chosen = &selection.chosen;
    let mut prefix_costs: Vec<Vec<Option<f64>>> = Vec::new();
    for k in 0..=chosen.len() {
        let config = &chosen[..k];
        cache.fill((0..queries.len()).map(|q| request_for(q, config, &infos)))?;
        prefix_costs.push(
            (0..queries.len())
                .map(|q| cache.get(&request_for(q, config, &infos)).map(|c| c.total))
                .collect(),
        );
    }
    let final_plans: Vec<Option<PlanCost>> = (0..queries.len())
        .map(|q| cache.get(&request_for(q, chosen, &infos)).cloned())
        .collect();
    let cost_of = |costs: &Vec<Option<f64>>| -> f64 {
        costs
            .iter()
            .enumerate()
            .filter_map(|(q, c)| {
                let base = prefix_costs[0][q]?;
                Some(weights[q] * c.unwrap_or(base))
            })
            .sum()
    };
    let cost_before = cost_of(&prefix_costs[0]);
    let cost_after = cost_of(&prefix_costs[chosen.len()]);
    let total_saved = (cost_before - cost_after).max(0.0);

    let mut recommendations = Vec::new();
    for (k, &cand) in chosen.iter().enumerate() {
        let spec = &cands[cand].spec;
        let mut saved = 0.0;
        let mut time_saved = Some(0.0);
        let mut impacts = Vec::new();
        for (q, query) in queries.iter().enumerate() {
            let (Some(before), Some(after)) = (prefix_costs[k][q], prefix_costs[k + 1][q]) else {
                continue;
            };
            let uses = final_plans[q]
                .as_ref()
                .is_some_and(|p| p.uses.contains(&cand));
            if before - after <= 0.0 && !uses {
                continue;
            }
            saved += weights[q] * (before - after);
            let base = prefix_costs[0][q].unwrap_or(before);
            time_saved = match (time_saved, query.mean_ms) {
                (Some(t), Some(mean)) if base > 0.0 => {
                    Some(t + query.calls as f64 * mean * (before - after) / base)
                }
                _ => None,
            };
            impacts.push(QueryImpact {
                fingerprint: query.fingerprint.to_string(),
                query: query.text.clone(),
                calls: query.calls,
                mean_ms: query.mean_ms,
                cost_before: Some(base),
                cost_after: final_plans[q].as_ref().map(|p| p.total),
                uses_index: uses,
                plan: query.variants[0].clone(),
            });
        }
        impacts.sort_by(|a, b| {
            let gain = |i: &QueryImpact| {
                i.calls as f64 * (i.cost_before.unwrap_or(0.0) - i.cost_after.unwrap_or(0.0))
            };
            gain(b).total_cmp(&gain(a))
        });
        let name = spec.name();
        recommendations.push(Recommendation {
            rank: 0,
            ddl: ddl_for(spec, &name, catalog),
            name,
            table: spec.table.clone(),
            spec: spec.clone(),
            size_bytes: sizes.get(cand).and_then(|s| s.as_ref().ok().copied()),
            costed: true,
            cost_saved: Some(saved),
            share: (total_saved > 0.0).then(|| saved / total_saved),
            write_penalty: infos[cand].write_penalty,
            est_time_saved_ms: time_saved,
            reasons: reasons_for(spec, &cands[cand].sources, queries),
            queries: impacts,
        });
    }
    rank_recommendations(&mut recommendations);

    let plan_disagreements = disagreements(queries, chosen, &infos, &mut cache)?;
    let drops = check_drops(
        catalog,
        options,
        queries,
        chosen,
        &infos,
        &final_plans,
        drop_checker,
    )?;
    for q in &selection.unplannable {
        notes.push(format!(
            "{} could not be planned and was left out: {}",
            queries[*q].fingerprint,
            one_line(&queries[*q].text)
        ));
    }
    let whatif_plans = cache.requests_sent;
    let workload_ms = logged_ms(queries);
    // (An empty f64 sum is -0.0: say 0 when there is nothing, and null when
    // the input has no durations.)
    let est_time_saved_ms = if recommendations.is_empty() {
        workload_ms.map(|_| 0.0)
    } else {
        recommendations
            .iter()
            .map(|r| r.est_time_saved_ms)
            .sum::<Option<f64>>()
    };
    Ok(Report {
        schema_version: report::SCHEMA_VERSION,
        command: "recommend-indexes".to_string(),
        mode: Mode::Costed,
        database: None,
        hypopg_version: None,
        settings: settings(options),
        summary: Summary {
            fingerprints: workload.fingerprints.len(),
            statements_costed: queries.len() - selection.unplannable.len(),
            statements_skipped: prepared.skipped.len() + selection.unplannable.len(),
            candidates: cands.len(),
            whatif_plans,
            cost_before: Some(cost_before),
            cost_after: Some(cost_after),
            improvement_pct: (cost_before > 0.0).then(|| total_saved / cost_before * 100.0),
            workload_ms,
            est_time_saved_ms,
        },
        recommendations,
        not_costed: not_costed(prepared, queries),
        drops,
        plan_disagreements,
        already_served: already_served(prepared),
        skipped: skipped(prepared),
        notes,
    })
}

/// Largest share a new index may add to the planned cost of an UPDATE that
/// sets one of its columns (the "no statement more than 10 % slower" rule
/// applied to writes).
const MAX_WRITE_REGRESSION: f64 = 0.10;

/// The first UPDATE of the workload that sets a column `spec` indexes and
/// would get more than `MAX_WRITE_REGRESSION` more expensive: the new
/// entry, plus — for the share of its updates that were HOT — an entry in
/// every existing index. Returns (query, added cost, its cost now).
fn hot_breaking_update(
    spec: &IndexSpec,
    queries: &[WorkloadQuery],
    writes: Option<&TableWrites>,
    entry_cost: f64,
    base_plan: impl Fn(usize) -> Option<(f64, f64)>,
) -> Option<(usize, f64, f64)> {
    let hot = writes.map_or(0.0, |w| w.hot_fraction);
    let existing = writes.map_or(0, |w| w.existing_indexes) as f64;
    queries.iter().enumerate().find_map(|(q, query)| {
        let sets_indexed_column = query.shape.tables.iter().any(|a| {
            a.table == spec.table
                && a.kinds.contains(&crate::shape::AccessKind::Update)
                && a.columns_written.iter().any(|c| spec.mentions_column(c))
        });
        if !sets_indexed_column {
            return None;
        }
        let (base, rows) = base_plan(q)?;
        let extra = rows.max(1.0) * entry_cost * (1.0 + hot * existing);
        (extra > MAX_WRITE_REGRESSION * base).then_some((q, extra, base))
    })
}

/// The DDL a person runs: one concurrent build; for a partitioned table
/// (where CREATE INDEX CONCURRENTLY is refused) each partition's index
/// built concurrently, then the parent index ON ONLY the parent and each
/// partition's index attached — the parent index is valid once all are.
pub fn ddl_for(spec: &IndexSpec, name: &str, catalog: &Catalog) -> String {
    let partitioned = catalog
        .get(&spec.table)
        .is_some_and(|r| r.kind == crate::catalog::RelationKind::PartitionedTable);
    if !partitioned {
        return spec.create_sql(name);
    }
    let children: Vec<&QualifiedName> = catalog
        .relations
        .values()
        .filter(|r| r.partition_of.as_ref() == Some(&spec.table))
        .map(|r| &r.name)
        .collect();
    let parent = QualifiedName::new(spec.table.schema.clone(), name);
    let mut statements: Vec<String> = children
        .iter()
        .map(|child| {
            let child_spec = spec.on_table(child);
            child_spec.create_sql(&child_spec.name())
        })
        .collect();
    statements.push(spec.create_on_only_sql(name));
    for child in children {
        let child_index = QualifiedName::new(child.schema.clone(), spec.on_table(child).name());
        statements.push(format!(
            "ALTER INDEX {} ATTACH PARTITION {}",
            spec::quoted_table(&parent),
            spec::quoted_table(&child_index)
        ));
    }
    statements.join(
        ";
",
    )
}

/// `wide` is `narrow` plus one key, or the same keys plus INCLUDE columns.
fn widens_by_one(wide: &IndexSpec, narrow: &IndexSpec) -> bool {
    wide.extends(narrow)
        && (wide.keys.len() == narrow.keys.len() + 1 && narrow.include.is_empty()
            || wide.keys.len() == narrow.keys.len())
}

pub fn settings(options: &AdviseOptions) -> Settings {
    Settings {
        max_indexes: options.max_indexes,
        max_columns: options.max_columns,
        budget_bytes: options.budget_bytes,
        min_improvement_pct: options.min_improvement_pct,
    }
}

/// By estimated time saved when every recommendation has one (logs with
/// durations), else by cost saved.
pub fn rank_recommendations(recs: &mut [Recommendation]) {
    let by_time = recs.iter().all(|r| r.est_time_saved_ms.is_some());
    recs.sort_by(|a, b| {
        let key = |r: &Recommendation| {
            if by_time {
                r.est_time_saved_ms.unwrap_or(0.0)
            } else {
                r.cost_saved.unwrap_or(0.0)
            }
        };
        key(b).total_cmp(&key(a)).then(a.name.cmp(&b.name))
    });
    for (i, r) in recs.iter_mut().enumerate() {
        r.rank = i + 1;
    }
}

/// Why a proposal exists, in words: what its source statements do.
pub fn reasons_for(
    spec: &IndexSpec,
    sources: &std::collections::BTreeSet<usize>,
    queries: &[WorkloadQuery],
) -> Vec<String> {
    let mut out = Vec::new();
    for &q in sources.iter().take(3) {
        let Some(access) = queries[q]
            .shape
            .tables
            .iter()
            .find(|a| a.table == spec.table)
        else {
            continue;
        };
        let mut parts = Vec::new();
        for f in access
            .filters
            .iter()
            .filter(|f| !f.under_or && !f.under_not)
        {
            if spec.keys.iter().any(|k| k.text == f.operand.text()) {
                parts.push(format!(
                    "{} {}",
                    f.operand.text(),
                    crate::shape::usage::op_name(f.op)
                ));
            }
        }
        if access
            .order_by
            .iter()
            .any(|s| spec.keys.iter().any(|k| k.text == s.operand.text()))
        {
            parts.push(format!(
                "order by {}{}",
                access
                    .order_by
                    .iter()
                    .map(|s| format!(
                        "{}{}",
                        s.operand.text(),
                        if s.descending { " desc" } else { "" }
                    ))
                    .collect::<Vec<_>>()
                    .join(", "),
                if access.limit { " limit" } else { "" }
            ));
        }
        for j in &access.joins {
            if spec.keys.iter().any(|k| k.text == j.operand.text()) {
                parts.push(format!(
                    "join on {} = {}.{}",
                    j.operand.text(),
                    j.other_table,
                    j.other_operand.text()
                ));
            }
        }
        if let Some(p) = &spec.predicate {
            parts.push(format!("always {p}"));
        }
        if !spec.include.is_empty() {
            parts.push("reads only indexed columns (index-only scan)".to_string());
        }
        if !parts.is_empty() {
            out.push(format!("{}: {}", queries[q].fingerprint, parts.join("; ")));
        }
    }
    out
}

/// Statements whose generic plan and sample plans disagree about what
/// the recommendations save.
fn disagreements(
    queries: &[WorkloadQuery],
    chosen: &[usize],
    infos: &[CandidateInfo],
    cache: &mut CostCache<'_>,
) -> Result<Vec<PlanDisagreement>> {
    let with_variant = |q: usize, v: usize, config: &[usize]| {
        let mut r = request_for(q, config, infos);
        r.variant = v;
        r
    };
    let mut wanted = Vec::new();
    let mut pairs = Vec::new();
    for (q, query) in queries.iter().enumerate() {
        let Some(generic) = query
            .variants
            .iter()
            .position(|v| matches!(v, queries::PlanVariant::Generic { .. }))
        else {
            continue;
        };
        let samples: Vec<usize> = (0..query.variants.len())
            .filter(|v| *v != generic)
            .collect();
        if samples.is_empty() {
            continue;
        }
        for v in samples.iter().copied().chain([generic]) {
            wanted.push(with_variant(q, v, &[]));
            wanted.push(with_variant(q, v, chosen));
        }
        pairs.push((q, generic, samples));
    }
    cache.fill(wanted)?;
    let saving = |cache: &CostCache<'_>, q: usize, v: usize| -> Option<(f64, Vec<usize>)> {
        let before = cache.get(&with_variant(q, v, &[]))?;
        let after = cache.get(&with_variant(q, v, chosen))?;
        (before.total > 0.0).then(|| {
            (
                (before.total - after.total) / before.total,
                after.uses.clone(),
            )
        })
    };
    let mut out = Vec::new();
    for (q, generic, samples) in pairs {
        let Some((generic_saving, generic_uses)) = saving(cache, q, generic) else {
            continue;
        };
        let sample_savings: Vec<(f64, Vec<usize>)> = samples
            .iter()
            .filter_map(|v| saving(cache, q, *v))
            .collect();
        if sample_savings.is_empty() {
            continue;
        }
        let samples_saving =
            sample_savings.iter().map(|s| s.0).sum::<f64>() / sample_savings.len() as f64;
        let different_indexes = sample_savings.iter().any(|s| s.1 != generic_uses);
        if (generic_saving - samples_saving).abs() > DISAGREEMENT || different_indexes {
            let note = if generic_saving > samples_saving + DISAGREEMENT {
                "the generic plan gains more than the logged values do: the recommendation may help less than estimated for the values this statement really runs with".to_string()
            } else if samples_saving > generic_saving + DISAGREEMENT {
                "the logged values gain more than the generic plan: a prepared statement switching to its generic plan may not use the index".to_string()
            } else {
                "the generic plan and the logged values' plans use different indexes".to_string()
            };
            out.push(PlanDisagreement {
                fingerprint: queries[q].fingerprint.to_string(),
                query: queries[q].text.clone(),
                generic_saving,
                samples_saving,
                note,
            });
        }
    }
    Ok(out)
}

/// Drop advice, each checked against the workload where possible.
fn check_drops(
    catalog: &Catalog,
    options: &AdviseOptions,
    queries: &[WorkloadQuery],
    chosen: &[usize],
    infos: &[CandidateInfo],
    final_plans: &[Option<PlanCost>],
    checker: &mut dyn DropChecker,
) -> Result<Vec<DropAdvice>> {
    let mut out = Vec::new();
    for found in drops::drop_candidates(catalog, options.unused_min_bytes) {
        let touching: Vec<usize> = queries
            .iter()
            .enumerate()
            .filter(|(q, query)| {
                final_plans[*q].is_some()
                    && query.shape.tables.iter().any(|a| a.table == found.table)
            })
            .map(|(q, _)| q)
            .collect();
        let mut advice = drop_advice(&found);
        if touching.is_empty() {
            advice.check_note =
                "no workload statement reads this table, so none can get slower; the workload may not be the whole story".to_string();
            advice.check = DropCheck::Verified;
            out.push(advice);
            continue;
        }
        let requests: Vec<CostRequest> = touching
            .iter()
            .map(|q| request_for(*q, chosen, infos))
            .collect();
        match checker.costs_without(&found.index, &requests)? {
            Ok(costs) => {
                for (q, cost) in touching.iter().zip(costs) {
                    let (Some(now), Some(without)) = (final_plans[*q].as_ref(), cost) else {
                        continue;
                    };
                    if without.total > now.total * (1.0 + DROP_TOLERANCE) {
                        advice.regressions.push(format!(
                            "{}: cost {:.1} → {:.1}",
                            queries[*q].fingerprint, now.total, without.total
                        ));
                    }
                }
                if advice.regressions.is_empty() {
                    advice.check = DropCheck::Verified;
                    advice.check_note = format!(
                        "{} workload statement(s) re-planned without it (with the recommended indexes): none got more expensive",
                        touching.len()
                    );
                } else {
                    advice.check = DropCheck::Regresses;
                    advice.check_note = "some workload statements would get more expensive: keep it, or accept the cost".to_string();
                }
            }
            Err(why) => advice.check_note = why,
        }
        out.push(advice);
    }
    Ok(out)
}

pub fn drop_advice(found: &drops::DropCandidate) -> DropAdvice {
    DropAdvice {
        index: found.index.to_string(),
        table: found.table.clone(),
        reason: found.reason,
        covered_by: found.covered_by.clone(),
        size_bytes: found.size_bytes,
        scans: found.scans,
        ddl: format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            spec::quoted_table(&found.index)
        ),
        check: DropCheck::Unverified,
        check_note: String::new(),
        regressions: Vec::new(),
    }
}

pub fn not_costed(prepared: &Prepared, queries: &[WorkloadQuery]) -> Vec<NotCosted> {
    prepared
        .candidates
        .not_costed
        .iter()
        .map(|need| {
            let name = need.spec.name();
            NotCosted {
                table: need.spec.table.clone(),
                ddl: need.spec.create_sql(&name),
                reason: need.reason.clone(),
                extension: need.extension.map(str::to_string),
                fingerprints: need
                    .queries
                    .iter()
                    .map(|q| queries[*q].fingerprint.to_string())
                    .collect(),
                calls: need.queries.iter().map(|q| queries[*q].calls).sum(),
            }
        })
        .collect()
}

pub fn already_served(prepared: &Prepared) -> Vec<AlreadyServedNote> {
    prepared
        .candidates
        .already_served
        .iter()
        .map(|a| AlreadyServedNote {
            proposal: a.spec.label(),
            existing_index: a.existing_index.clone(),
        })
        .collect()
}

pub fn skipped(prepared: &Prepared) -> Vec<Skipped> {
    prepared
        .skipped
        .iter()
        .map(|s| Skipped {
            fingerprint: s.fingerprint.to_string(),
            calls: s.calls,
            reason: s.reason.clone(),
        })
        .collect()
}

/// The logged time of the statements, when the input had durations.
pub fn logged_ms(queries: &[WorkloadQuery]) -> Option<f64> {
    queries
        .iter()
        .any(|q| q.mean_ms.is_some())
        .then(|| queries.iter().map(|q| q.total_ms).sum())
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.len() > 100 {
        let mut end = 100;
        while !flat.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &flat[..end])
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::schema_file::load_schema_text;
    use crate::shape::analyze_sql;
    use crate::workload::fingerprint::{FingerprintId, StatementKind};

    fn update_query(catalog: &Catalog) -> WorkloadQuery {
        let sql = "UPDATE sessions SET expires_at = now() WHERE id = 1";
        WorkloadQuery {
            fingerprint: FingerprintId::of(sql),
            text: sql.to_string(),
            kind: StatementKind::Update,
            calls: 10,
            total_ms: 1.0,
            mean_ms: Some(0.1),
            shape: analyze_sql(sql, catalog, &[]),
            variants: vec![],
        }
    }

    #[test]
    fn an_index_on_a_column_a_cheap_update_sets_is_refused() {
        let catalog = load_schema_text(
            "CREATE TABLE sessions (id int PRIMARY KEY, user_id int, expires_at timestamptz);",
            "test",
        );
        let table = QualifiedName::new("public", "sessions");
        let on_expiry = IndexSpec::btree(table.clone(), vec![spec::KeySpec::column("expires_at")]);
        let on_user = IndexSpec::btree(table, vec![spec::KeySpec::column("user_id")]);
        let queries = vec![update_query(&catalog)];
        // A primary-key update costs ~8: one more index entry is far more
        // than 10 % of that.
        let cheap = |_| Some((8.4, 1.0));
        assert!(hot_breaking_update(&on_expiry, &queries, None, 4.0, cheap).is_some());
        // An index on a column the update does not set changes nothing.
        assert!(hot_breaking_update(&on_user, &queries, None, 4.0, cheap).is_none());
        // An expensive update (a scan) absorbs the entry.
        let costly = |_| Some((5000.0, 1.0));
        assert!(hot_breaking_update(&on_expiry, &queries, None, 4.0, costly).is_none());
    }
}
