//! Workload-wide selection: a greedy search in the spirit of Extend. Each
//! round adds the candidate (or widens a chosen index by one column or its
//! INCLUDE list) with the best net benefit per byte, where benefit is
//! Σ calls × (cost without − cost with) over the queries it can change,
//! re-costed with the indexes already chosen (indexes interact), minus the
//! upkeep the writes of its table will pay. Stops at the index or size
//! budget, or when the best step gains less than the threshold.
//!
//! Pure: costs come from a `CostOracle` (HypoPG on a live server in
//! production, a formula in tests).

use anyhow::Result;
use std::collections::HashMap;

/// The planner's view of one query under one set of indexes.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanCost {
    pub total: f64,
    /// Rows the plan expects to return — for an UPDATE or DELETE, the rows
    /// it changes.
    pub rows: f64,
    /// Candidates (by index) the chosen plan uses.
    pub uses: Vec<usize>,
}

/// A question for the oracle: the cost of `query` when exactly the
/// candidates `indexes` exist (sorted, each relevant to the query).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CostRequest {
    pub query: usize,
    /// Which of the query's plan variants (0, the first sample or the
    /// generic plan, is the one selection uses).
    pub variant: usize,
    pub indexes: Vec<usize>,
}

pub trait CostOracle {
    /// Answers every request; `None` when the query could not be planned.
    fn costs(&mut self, requests: &[CostRequest]) -> Result<Vec<Option<PlanCost>>>;
}

/// What selection knows about one candidate.
#[derive(Clone, Debug)]
pub struct CandidateInfo {
    pub size_bytes: f64,
    /// Upkeep over the workload window, in planner cost units.
    pub write_penalty: f64,
    /// Queries whose plans it can change.
    pub relevant: Vec<usize>,
    /// Candidates this one extends by one key or by INCLUDE columns (it can
    /// replace them).
    pub widens: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub max_indexes: usize,
    pub budget_bytes: Option<f64>,
    /// The least net gain a step must bring, in cost units × calls.
    pub min_gain: f64,
}

/// One accepted step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub added: usize,
    /// The chosen index this step widened (and so replaced).
    pub replaced: Option<usize>,
    pub net_gain: f64,
}

#[derive(Clone, Debug)]
pub struct Selection {
    /// Chosen candidates, in the order their slot was first filled (a
    /// widened index keeps its slot).
    pub chosen: Vec<usize>,
    pub steps: Vec<Step>,
    /// Queries that could not be planned at all (left out of every sum).
    pub unplannable: Vec<usize>,
    /// Cost per query with no new index.
    pub base: Vec<Option<PlanCost>>,
}

/// Memoized costs: the same (query, relevant indexes) is asked once.
pub struct CostCache<'a> {
    oracle: &'a mut dyn CostOracle,
    known: HashMap<CostRequest, Option<PlanCost>>,
    pub requests_sent: usize,
}

impl<'a> CostCache<'a> {
    pub fn new(oracle: &'a mut dyn CostOracle) -> Self {
        Self {
            oracle,
            known: HashMap::new(),
            requests_sent: 0,
        }
    }

    /// Makes sure every request is known, asking the oracle once for all
    /// the missing ones (it plans them in parallel).
    pub fn fill(&mut self, requests: impl IntoIterator<Item = CostRequest>) -> Result<()> {
        let mut missing: Vec<CostRequest> = Vec::new();
        for r in requests {
            if !self.known.contains_key(&r) && !missing.contains(&r) {
                missing.push(r);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        self.requests_sent += missing.len();
        let answers = self.oracle.costs(&missing)?;
        for (r, a) in missing.into_iter().zip(answers) {
            self.known.insert(r, a);
        }
        Ok(())
    }

    pub fn get(&self, request: &CostRequest) -> Option<&PlanCost> {
        self.known.get(request).and_then(|c| c.as_ref())
    }
}

/// The indexes of `config` relevant to `query`, as a request.
pub fn request_for(query: usize, config: &[usize], infos: &[CandidateInfo]) -> CostRequest {
    let mut indexes: Vec<usize> = config
        .iter()
        .copied()
        .filter(|c| infos[*c].relevant.binary_search(&query).is_ok())
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    CostRequest {
        query,
        variant: 0,
        indexes,
    }
}

/// Runs the greedy selection.
pub fn select(
    weights: &[f64],
    infos: &[CandidateInfo],
    limits: &Limits,
    cache: &mut CostCache<'_>,
) -> Result<Selection> {
    let queries = weights.len();
    cache.fill((0..queries).map(|q| request_for(q, &[], infos)))?;
    let base: Vec<Option<PlanCost>> = (0..queries)
        .map(|q| cache.get(&request_for(q, &[], infos)).cloned())
        .collect();
    let unplannable: Vec<usize> = (0..queries).filter(|q| base[*q].is_none()).collect();
    let mut chosen: Vec<usize> = Vec::new();
    let mut steps = Vec::new();
    let mut used_bytes = 0.0;
    // Widening never narrows, so the number of rounds is bounded; the cap
    // is a guard against an oracle that answers inconsistently.
    let max_rounds = limits.max_indexes * 8 + 8;
    for _ in 0..max_rounds {
        let options = options(&chosen, infos, limits, used_bytes);
        if options.is_empty() {
            break;
        }
        // Ask for everything this round needs in one batch.
        let mut wanted = Vec::new();
        for (cand, replaced) in &options {
            let trial = trial_config(&chosen, *cand, *replaced);
            for q in affected(*cand, *replaced, infos) {
                if base[q].is_none() {
                    continue;
                }
                wanted.push(request_for(q, &chosen, infos));
                wanted.push(request_for(q, &trial, infos));
            }
        }
        cache.fill(wanted)?;
        let mut best: Option<(f64, usize, Option<usize>, f64)> = None;
        for (cand, replaced) in options {
            let trial = trial_config(&chosen, cand, replaced);
            let mut gain = 0.0;
            for q in affected(cand, replaced, infos) {
                let (Some(now), Some(then)) = (
                    cache.get(&request_for(q, &chosen, infos)),
                    cache.get(&request_for(q, &trial, infos)),
                ) else {
                    continue;
                };
                gain += weights[q] * (now.total - then.total);
            }
            let penalty =
                infos[cand].write_penalty - replaced.map_or(0.0, |r| infos[r].write_penalty);
            let net = gain - penalty;
            if net < limits.min_gain || net <= 0.0 {
                continue;
            }
            let extra = infos[cand].size_bytes - replaced.map_or(0.0, |r| infos[r].size_bytes);
            let ratio = net / extra.max(8192.0);
            if best.is_none_or(|(r, ..)| ratio > r) {
                best = Some((ratio, cand, replaced, net));
            }
        }
        let Some((_, cand, replaced, net)) = best else {
            break;
        };
        used_bytes += infos[cand].size_bytes - replaced.map_or(0.0, |r| infos[r].size_bytes);
        match replaced {
            Some(r) => {
                let slot = chosen
                    .iter()
                    .position(|c| *c == r)
                    .expect("replaced is chosen");
                chosen[slot] = cand;
            }
            None => chosen.push(cand),
        }
        steps.push(Step {
            added: cand,
            replaced,
            net_gain: net,
        });
    }
    Ok(Selection {
        chosen,
        steps,
        unplannable,
        base,
    })
}

/// Candidates worth trying this round: new ones while there is room, and
/// widenings of chosen ones (which keep the count).
fn options(
    chosen: &[usize],
    infos: &[CandidateInfo],
    limits: &Limits,
    used_bytes: f64,
) -> Vec<(usize, Option<usize>)> {
    let fits = |extra: f64| limits.budget_bytes.is_none_or(|b| used_bytes + extra <= b);
    let mut out = Vec::new();
    for (c, info) in infos.iter().enumerate() {
        if chosen.contains(&c) || info.relevant.is_empty() {
            continue;
        }
        if let Some(&r) = info.widens.iter().find(|w| chosen.contains(w)) {
            if fits(info.size_bytes - infos[r].size_bytes) {
                out.push((c, Some(r)));
            }
            continue;
        }
        // A narrower form of a chosen index adds nothing.
        if chosen.iter().any(|x| narrower(c, *x, infos)) {
            continue;
        }
        if chosen.len() < limits.max_indexes && fits(info.size_bytes) {
            out.push((c, None));
        }
    }
    out
}

/// Whether `c` is a narrower form of `x` (x widens c, directly or not).
fn narrower(c: usize, x: usize, infos: &[CandidateInfo]) -> bool {
    let mut stack = vec![x];
    let mut seen = Vec::new();
    while let Some(y) = stack.pop() {
        if y == c {
            return true;
        }
        if seen.contains(&y) {
            continue;
        }
        seen.push(y);
        stack.extend(infos[y].widens.iter().copied());
    }
    false
}

fn trial_config(chosen: &[usize], cand: usize, replaced: Option<usize>) -> Vec<usize> {
    let mut trial: Vec<usize> = chosen
        .iter()
        .copied()
        .filter(|c| Some(*c) != replaced)
        .collect();
    trial.push(cand);
    trial
}

/// Queries whose cost a step can change.
fn affected(cand: usize, replaced: Option<usize>, infos: &[CandidateInfo]) -> Vec<usize> {
    let mut qs = infos[cand].relevant.clone();
    if let Some(r) = replaced {
        qs.extend(infos[r].relevant.iter().copied());
        qs.sort_unstable();
        qs.dedup();
    }
    qs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A planner stand-in: each query has a base cost; an index set gives
    /// the best of the per-index costs listed for that query (indexes do
    /// not add up, as with a real planner picking one path).
    struct Table {
        base: Vec<f64>,
        with: HashMap<(usize, usize), f64>,
        calls: usize,
    }

    impl CostOracle for Table {
        fn costs(&mut self, requests: &[CostRequest]) -> Result<Vec<Option<PlanCost>>> {
            self.calls += requests.len();
            Ok(requests
                .iter()
                .map(|r| {
                    let mut best = self.base[r.query];
                    let mut uses = Vec::new();
                    for i in &r.indexes {
                        if let Some(c) = self.with.get(&(r.query, *i))
                            && *c < best
                        {
                            best = *c;
                            uses = vec![*i];
                        }
                    }
                    Some(PlanCost {
                        total: best,
                        rows: 1.0,
                        uses,
                    })
                })
                .collect())
        }
    }

    fn info(size: f64, relevant: Vec<usize>, widens: Vec<usize>) -> CandidateInfo {
        CandidateInfo {
            size_bytes: size,
            write_penalty: 0.0,
            relevant,
            widens,
        }
    }

    fn limits(max: usize) -> Limits {
        Limits {
            max_indexes: max,
            budget_bytes: None,
            min_gain: 1.0,
        }
    }

    #[test]
    fn picks_the_index_that_helps_the_weighted_workload() {
        // Query 0 runs 100×, query 1 once; index 0 helps q0, index 1 helps q1.
        let mut oracle = Table {
            base: vec![1000.0, 1000.0],
            with: HashMap::from([((0, 0), 10.0), ((1, 1), 10.0)]),
            calls: 0,
        };
        let infos = vec![info(1e6, vec![0], vec![]), info(1e6, vec![1], vec![])];
        let mut cache = CostCache::new(&mut oracle);
        let sel = select(&[100.0, 1.0], &infos, &limits(1), &mut cache).unwrap();
        assert_eq!(sel.chosen, vec![0]);
    }

    #[test]
    fn one_index_serving_two_queries_beats_two_partial_ones_at_one_slot() {
        let mut oracle = Table {
            base: vec![1000.0, 1000.0],
            with: HashMap::from([
                ((0, 0), 100.0),
                ((1, 1), 100.0),
                ((0, 2), 200.0),
                ((1, 2), 200.0),
            ]),
            calls: 0,
        };
        let infos = vec![
            info(1e6, vec![0], vec![]),
            info(1e6, vec![1], vec![]),
            info(1e6, vec![0, 1], vec![]),
        ];
        let mut cache = CostCache::new(&mut oracle);
        let sel = select(&[1.0, 1.0], &infos, &limits(1), &mut cache).unwrap();
        assert_eq!(sel.chosen, vec![2]);
    }

    #[test]
    fn widens_a_chosen_index_when_that_pays_and_keeps_the_count() {
        // Candidate 1 is candidate 0 plus a column; it helps more.
        let mut oracle = Table {
            base: vec![1000.0],
            with: HashMap::from([((0, 0), 500.0), ((0, 1), 50.0)]),
            calls: 0,
        };
        let infos = vec![info(1e6, vec![0], vec![]), info(3e6, vec![0], vec![0])];
        let mut cache = CostCache::new(&mut oracle);
        let sel = select(&[1.0], &infos, &limits(1), &mut cache).unwrap();
        assert_eq!(sel.chosen, vec![1]);
        assert_eq!(sel.steps.len(), 2);
        assert_eq!(sel.steps[1].replaced, Some(0));
    }

    #[test]
    fn write_penalty_can_veto_an_index() {
        let mut oracle = Table {
            base: vec![1000.0],
            with: HashMap::from([((0, 0), 900.0)]),
            calls: 0,
        };
        let mut infos = vec![info(1e6, vec![0], vec![])];
        infos[0].write_penalty = 150.0;
        let mut cache = CostCache::new(&mut oracle);
        let sel = select(&[1.0], &infos, &limits(5), &mut cache).unwrap();
        assert!(sel.chosen.is_empty());
    }

    #[test]
    fn stops_below_the_minimum_gain_and_respects_the_budget() {
        let mut oracle = Table {
            base: vec![1000.0, 1000.0],
            with: HashMap::from([((0, 0), 10.0), ((1, 1), 995.0)]),
            calls: 0,
        };
        let infos = vec![info(1e6, vec![0], vec![]), info(1e3, vec![1], vec![])];
        let mut cache = CostCache::new(&mut oracle);
        let mut l = limits(5);
        l.min_gain = 50.0;
        let sel = select(&[1.0, 1.0], &infos, &l, &mut cache).unwrap();
        assert_eq!(sel.chosen, vec![0]);
        let mut oracle2 = Table {
            base: vec![1000.0],
            with: HashMap::from([((0, 0), 10.0)]),
            calls: 0,
        };
        let mut cache2 = CostCache::new(&mut oracle2);
        let mut tight = limits(5);
        tight.budget_bytes = Some(1e5);
        let sel = select(&[1.0], &infos[..1], &tight, &mut cache2).unwrap();
        assert!(sel.chosen.is_empty());
    }

    #[test]
    fn costs_are_asked_once() {
        let mut oracle = Table {
            base: vec![1000.0, 1000.0],
            with: HashMap::from([((0, 0), 10.0), ((1, 1), 10.0)]),
            calls: 0,
        };
        let infos = vec![info(1e6, vec![0], vec![]), info(1e6, vec![1], vec![])];
        let mut cache = CostCache::new(&mut oracle);
        let sel = select(&[1.0, 1.0], &infos, &limits(5), &mut cache).unwrap();
        assert_eq!(sel.chosen.len(), 2);
        let sent = cache.requests_sent;
        drop(cache);
        assert_eq!(oracle.calls, sent);
        // 2 base + 2 trials in round one; round two re-asks nothing for the
        // query the first index does not touch.
        assert!(sent <= 5, "{sent}");
    }
}
