//! Offline advice (a schema file, or a server without HypoPG): the same
//! candidates, ranked by the logged time of the statements that asked for
//! them, with no costing. Every recommendation says "not costed".

use super::report::{Mode, QueryImpact, Recommendation, Report, Summary};
use super::{AdviseOptions, Prepared};
use crate::catalog::Catalog;
use crate::workload::Workload;

/// Tables with fewer estimated rows are read whole faster than through an
/// index; with live statistics their proposals are left out.
const SMALL_TABLE_ROWS: f64 = 1000.0;

/// Bytes per index entry beyond its keys (tuple header, item pointer, page
/// overhead), and per key when its width is unknown.
const ENTRY_OVERHEAD: f64 = 16.0;
const KEY_WIDTH: f64 = 12.0;

pub fn advise_offline(
    prepared: &Prepared,
    workload: &Workload,
    catalog: &Catalog,
    options: &AdviseOptions,
    mut notes: Vec<String>,
) -> Report {
    let queries = &prepared.queries;
    let weight = |q: usize| {
        let query = &queries[q];
        if query.total_ms > 0.0 {
            query.total_ms
        } else {
            query.calls as f64
        }
    };
    let mut scored: Vec<(f64, usize)> = Vec::new();
    let mut small = std::collections::BTreeSet::new();
    for (i, c) in prepared.candidates.candidates.iter().enumerate() {
        if !c.whole || !c.spec.include.is_empty() {
            continue;
        }
        let rows = catalog
            .get(&c.spec.table)
            .and_then(|r| r.stats)
            .map(|s| s.row_estimate);
        if rows.is_some_and(|r| (0.0..SMALL_TABLE_ROWS).contains(&r)) {
            small.insert(c.spec.table.to_string());
            continue;
        }
        let score: f64 = c.sources.iter().map(|q| weight(*q)).sum();
        scored.push((score, i));
    }
    for table in small {
        notes.push(format!(
            "{table} has fewer than {SMALL_TABLE_ROWS} rows: a sequential scan is as good as an index there"
        ));
    }
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0).then_with(|| {
            let (ca, cb) = (
                &prepared.candidates.candidates[a.1],
                &prepared.candidates.candidates[b.1],
            );
            cb.spec.keys.len().cmp(&ca.spec.keys.len())
        })
    });
    let mut chosen: Vec<usize> = Vec::new();
    for (_, i) in scored {
        if chosen.len() >= options.max_indexes {
            break;
        }
        let spec = &prepared.candidates.candidates[i].spec;
        let covered = chosen.iter().any(|c| {
            let other = &prepared.candidates.candidates[*c].spec;
            other == spec || other.extends(spec)
        });
        if !covered {
            chosen.push(i);
        }
    }
    let total_ms: f64 = queries.iter().map(|q| q.total_ms).sum();
    let mut recommendations: Vec<Recommendation> = chosen
        .iter()
        .map(|&i| {
            let c = &prepared.candidates.candidates[i];
            let name = c.spec.name();
            let rows = catalog
                .get(&c.spec.table)
                .and_then(|r| r.stats)
                .map(|s| s.row_estimate.max(0.0));
            let size = rows.map(|r| {
                (r * (ENTRY_OVERHEAD
                    + KEY_WIDTH * (c.spec.keys.len() + c.spec.include.len()) as f64))
                    as i64
            });
            let time: f64 = c.sources.iter().map(|q| queries[*q].total_ms).sum();
            Recommendation {
                rank: 0,
                ddl: super::ddl_for(&c.spec, &name, catalog),
                name,
                table: c.spec.table.clone(),
                spec: c.spec.clone(),
                size_bytes: size,
                costed: false,
                cost_saved: None,
                share: (total_ms > 0.0).then(|| time / total_ms),
                write_penalty: super::write_penalty(
                    &c.spec,
                    prepared.writes.get(&c.spec.table),
                    options.entry_cost,
                ),
                est_time_saved_ms: None,
                reasons: super::reasons_for(&c.spec, &c.sources, queries),
                queries: c
                    .sources
                    .iter()
                    .map(|q| {
                        let query = &queries[*q];
                        QueryImpact {
                            fingerprint: query.fingerprint.to_string(),
                            query: query.text.clone(),
                            calls: query.calls,
                            mean_ms: query.mean_ms,
                            cost_before: None,
                            cost_after: None,
                            uses_index: false,
                            plan: query.variants[0].clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    for (rank, r) in recommendations.iter_mut().enumerate() {
        r.rank = rank + 1;
    }
    let drops = super::drops::drop_candidates(catalog, options.unused_min_bytes)
        .iter()
        .map(|d| {
            let mut advice = super::drop_advice(d);
            advice.check_note = "not checked: offline advice plans nothing".to_string();
            advice
        })
        .collect();
    Report {
        schema_version: super::report::SCHEMA_VERSION,
        command: "recommend-indexes".to_string(),
        mode: Mode::Offline,
        database: None,
        hypopg_version: None,
        settings: super::settings(options),
        summary: Summary {
            fingerprints: workload.fingerprints.len(),
            statements_costed: 0,
            statements_skipped: prepared.skipped.len(),
            candidates: prepared.candidates.candidates.len(),
            whatif_plans: 0,
            cost_before: None,
            cost_after: None,
            improvement_pct: None,
            workload_ms: super::logged_ms(queries),
            est_time_saved_ms: None,
        },
        recommendations,
        not_costed: super::not_costed(prepared, queries),
        drops,
        plan_disagreements: Vec::new(),
        already_served: super::already_served(prepared),
        skipped: super::skipped(prepared),
        notes,
    }
}
