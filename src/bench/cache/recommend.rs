//! The cache recommendation (pure): among the options measured live (or,
//! without a database, the simulated L1 capacities), the simplest that
//! meets the targets — fewer tiers first (none, l1, l2, l1+l2), then the
//! smaller L1 — with the numbers behind the choice and what the other
//! options would add. When nothing meets the targets, the option closest
//! to them, said so.

use super::live::Strategy;
use serde::Serialize;

/// What the user wants from a cache.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Targets {
    /// Share of reads the caches answer.
    pub hit_ratio: f64,
    /// Share of reads allowed to return a stale value.
    pub max_stale_read_ratio: f64,
    /// p99 read latency, when given.
    pub p99_ms: Option<f64>,
}

/// One option weighed: a live run, or a simulated L1 capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub strategy: Strategy,
    pub l1_capacity: Option<u64>,
    pub hit_ratio: f64,
    /// Unknown for a simulated option.
    pub stale_read_ratio: Option<f64>,
    pub p99_ns: Option<u64>,
    pub mean_ns: Option<f64>,
    /// Share of reads that did not reach the database, in percent.
    pub db_load_saved_pct: f64,
    /// Measured live (else simulated).
    pub measured: bool,
}

impl Candidate {
    pub fn label(&self) -> String {
        match self.l1_capacity {
            Some(c) => format!("{} with {c} L1 entries", self.strategy.name()),
            None => self.strategy.name().to_string(),
        }
    }

    /// Fewer tiers first, then the smaller L1.
    fn simplicity(&self) -> (Strategy, u64) {
        (self.strategy, self.l1_capacity.unwrap_or(0))
    }

    /// The targets this option misses, in words; empty when it meets them.
    fn shortfalls(&self, t: &Targets) -> Vec<String> {
        let mut out = Vec::new();
        if self.hit_ratio + 1e-12 < t.hit_ratio {
            out.push(format!(
                "hit ratio {:.3} < {:.3}",
                self.hit_ratio, t.hit_ratio
            ));
        }
        if let Some(s) = self.stale_read_ratio
            && s > t.max_stale_read_ratio + 1e-12
        {
            out.push(format!(
                "stale reads {} > {}",
                percent(s),
                percent(t.max_stale_read_ratio)
            ));
        }
        if let (Some(limit), Some(p99)) = (t.p99_ms, self.p99_ns)
            && p99 as f64 / 1e6 > limit
        {
            out.push(format!("p99 {} > {limit} ms", ms(p99 as f64)));
        }
        out
    }
}

fn percent(r: f64) -> String {
    format!("{:.2} %", r * 100.0)
}

fn ms(ns: f64) -> String {
    if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// What the recommended option is expected to give.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expected {
    pub hit_ratio: f64,
    pub mean_latency_ns: Option<f64>,
    pub p99_latency_ns: Option<u64>,
    pub db_load_saved_pct: f64,
    pub stale_read_ratio: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    pub strategy: Strategy,
    pub l1_capacity: Option<u64>,
    pub ttl_ms: u64,
    /// How writes reach the caches: the key is deleted from every tier.
    pub invalidation: &'static str,
    /// `live` (measured) or `simulation` (no database was given).
    pub basis: &'static str,
    pub meets_targets: bool,
    pub expected: Expected,
    pub rationale: Vec<String>,
}

/// The facts around the options that shape the advice.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub ttl_ms: u64,
    pub write_ratio: f64,
    /// Mean read latency without a cache, when measured.
    pub none_mean_ns: Option<f64>,
    /// Said after the choice (model check, simulation hints).
    pub notes: Vec<String>,
}

/// The recommendation, or `None` when there is no option at all.
pub fn recommend(
    candidates: &[Candidate],
    targets: &Targets,
    ctx: &Context,
) -> Option<Recommendation> {
    let mut options: Vec<&Candidate> = candidates.iter().collect();
    options.sort_by_key(|c| c.simplicity());
    let meeting: Vec<&Candidate> = options
        .iter()
        .copied()
        .filter(|c| c.shortfalls(targets).is_empty())
        .collect();
    let mut rationale = Vec::new();
    let (chosen, meets) = match meeting.first() {
        Some(&c) => {
            let mut why = format!(
                "{} is the simplest option that meets the targets: hit ratio {:.3} ≥ {:.3}",
                c.label(),
                c.hit_ratio,
                targets.hit_ratio
            );
            if let Some(s) = c.stale_read_ratio {
                why.push_str(&format!(
                    ", stale reads {} ≤ {}",
                    percent(s),
                    percent(targets.max_stale_read_ratio)
                ));
            }
            if let (Some(limit), Some(p99)) = (targets.p99_ms, c.p99_ns) {
                why.push_str(&format!(", p99 {} ≤ {limit} ms", ms(p99 as f64)));
            }
            rationale.push(why);
            // A more complex option that is much faster is worth naming.
            if let (Some(mean), Some(faster)) = (
                c.mean_ns,
                meeting
                    .iter()
                    .skip(1)
                    .filter(|o| {
                        o.mean_ns
                            .is_some_and(|m| m < c.mean_ns.unwrap_or(0.0) * 0.8)
                    })
                    .min_by(|a, b| {
                        a.mean_ns
                            .unwrap_or(0.0)
                            .total_cmp(&b.mean_ns.unwrap_or(0.0))
                    }),
            ) {
                rationale.push(format!(
                    "{} also meets them with a mean read of {} instead of {}, at the cost of another tier or more memory",
                    faster.label(),
                    ms(faster.mean_ns.unwrap_or(0.0)),
                    ms(mean)
                ));
            }
            (c, true)
        }
        None => {
            let within_stale: Vec<&Candidate> = options
                .iter()
                .copied()
                .filter(|c| {
                    c.stale_read_ratio
                        .is_none_or(|s| s <= targets.max_stale_read_ratio + 1e-12)
                })
                .collect();
            let pool = if within_stale.is_empty() {
                &options
            } else {
                &within_stale
            };
            // The highest hit ratio; among equals, the simplest.
            let best = pool.iter().copied().reduce(|a, b| {
                if b.hit_ratio > a.hit_ratio + 1e-12 {
                    b
                } else {
                    a
                }
            })?;
            rationale.push(format!(
                "no option meets the targets; {} comes closest ({})",
                best.label(),
                best.shortfalls(targets).join(", ")
            ));
            for o in options
                .iter()
                .filter(|o| o.hit_ratio > best.hit_ratio && !pool.contains(o))
            {
                rationale.push(format!(
                    "{} answers more reads from cache ({:.3}) but returns too many stale values ({})",
                    o.label(),
                    o.hit_ratio,
                    o.shortfalls(targets).join(", ")
                ));
            }
            (best, false)
        }
    };
    if let (Some(none), Some(mean)) = (ctx.none_mean_ns, chosen.mean_ns)
        && chosen.strategy != Strategy::None
    {
        if mean < none {
            rationale.push(format!(
                "mean read {} against {} without a cache ({:.1}× faster); {:.0} % of reads no longer reach the database",
                ms(mean),
                ms(none),
                none / mean.max(1.0),
                chosen.db_load_saved_pct
            ));
        } else {
            rationale.push(format!(
                "reads are not faster with it here (mean {} against {} without a cache): it only takes {:.0} % of the reads off the database",
                ms(mean),
                ms(none),
                chosen.db_load_saved_pct
            ));
        }
    }
    if ctx.write_ratio > 0.0 && chosen.strategy.has_l1() {
        rationale.push(
            "with writes and several application instances, an in-process L1 is invalidated only in the instance that wrote: keep its TTL short, or use l2 alone".to_string(),
        );
    }
    if !chosen.measured {
        rationale.push(
            "from the simulation only: run with -d (and --redis) to measure latency, database load and staleness".to_string(),
        );
    }
    rationale.extend(ctx.notes.iter().cloned());
    Some(Recommendation {
        strategy: chosen.strategy,
        l1_capacity: chosen.l1_capacity,
        ttl_ms: ctx.ttl_ms,
        invalidation: "delete",
        basis: if chosen.measured {
            "live"
        } else {
            "simulation"
        },
        meets_targets: meets,
        expected: Expected {
            hit_ratio: chosen.hit_ratio,
            mean_latency_ns: chosen.mean_ns,
            p99_latency_ns: chosen.p99_ns,
            db_load_saved_pct: chosen.db_load_saved_pct,
            stale_read_ratio: chosen.stale_read_ratio,
        },
        rationale,
    })
}

/// E[R] = h1·t1 + (1−h1)·(h2·t2 + (1−h2)·t_db): the mean read latency of a
/// two-tier cache-aside from the tiers' hit ratios (h2 among L1 misses)
/// and latencies. A strategy without a tier has its h = 0.
pub fn predicted_mean(h1: f64, t1: f64, h2: f64, t2: f64, t_db: f64) -> f64 {
    h1 * t1 + (1.0 - h1) * (h2 * t2 + (1.0 - h2) * t_db)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(strategy: Strategy, cap: Option<u64>, hit: f64, mean: f64) -> Candidate {
        Candidate {
            strategy,
            l1_capacity: cap,
            hit_ratio: hit,
            stale_read_ratio: Some(0.0),
            p99_ns: Some((mean * 3.0) as u64),
            mean_ns: Some(mean),
            db_load_saved_pct: hit * 100.0,
            measured: true,
        }
    }

    fn targets() -> Targets {
        Targets {
            hit_ratio: 0.8,
            max_stale_read_ratio: 0.001,
            p99_ms: None,
        }
    }

    fn ctx() -> Context {
        Context {
            ttl_ms: 300_000,
            none_mean_ns: Some(80_000.0),
            ..Context::default()
        }
    }

    #[test]
    fn the_simplest_option_meeting_the_targets_wins() {
        let options = [
            live(Strategy::L1L2, Some(1000), 0.95, 5_000.0),
            live(Strategy::None, None, 0.0, 80_000.0),
            live(Strategy::L2, None, 0.97, 30_000.0),
            live(Strategy::L1, Some(10_000), 0.9, 8_000.0),
            live(Strategy::L1, Some(1000), 0.85, 12_000.0),
        ];
        let r = recommend(&options, &targets(), &ctx()).unwrap();
        assert!(r.meets_targets);
        assert_eq!((r.strategy, r.l1_capacity), (Strategy::L1, Some(1000)));
        assert_eq!(r.basis, "live");
        assert!(r.rationale[0].contains("simplest"), "{:?}", r.rationale);
        // l1+l2 is much faster and is named.
        assert!(
            r.rationale.iter().any(|l| l.starts_with("l1+l2")),
            "{:?}",
            r.rationale
        );
    }

    #[test]
    fn stale_reads_and_p99_limits_rule_options_out() {
        let mut stale = live(Strategy::L1, Some(1000), 0.9, 8_000.0);
        stale.stale_read_ratio = Some(0.01);
        let slow = live(Strategy::L2, None, 0.9, 2_000_000.0);
        let ok = live(Strategy::L1L2, Some(1000), 0.9, 9_000.0);
        let t = Targets {
            p99_ms: Some(1.0),
            ..targets()
        };
        let r = recommend(&[stale, slow, ok], &t, &ctx()).unwrap();
        assert_eq!(r.strategy, Strategy::L1L2);
    }

    #[test]
    fn when_nothing_meets_the_targets_the_closest_is_named_as_such() {
        let options = [
            live(Strategy::None, None, 0.0, 80_000.0),
            live(Strategy::L1, Some(100), 0.5, 40_000.0),
            live(Strategy::L2, None, 0.6, 60_000.0),
        ];
        let r = recommend(&options, &targets(), &ctx()).unwrap();
        assert!(!r.meets_targets);
        assert_eq!(r.strategy, Strategy::L2);
        assert!(
            r.rationale[0].contains("no option meets"),
            "{:?}",
            r.rationale
        );
        assert!(recommend(&[], &targets(), &ctx()).is_none());
    }

    #[test]
    fn a_simulated_option_says_so() {
        let sim = Candidate {
            strategy: Strategy::L1,
            l1_capacity: Some(500),
            hit_ratio: 0.82,
            stale_read_ratio: None,
            p99_ns: None,
            mean_ns: None,
            db_load_saved_pct: 82.0,
            measured: false,
        };
        let r = recommend(&[sim], &targets(), &Context::default()).unwrap();
        assert_eq!(r.basis, "simulation");
        assert!(r.rationale.iter().any(|l| l.contains("-d")));
    }

    #[test]
    fn the_latency_model_weights_each_tier() {
        // No cache: every read costs t_db.
        assert_eq!(predicted_mean(0.0, 1.0, 0.0, 10.0, 100.0), 100.0);
        // L1 only, 90 % hits: 0.9·1 + 0.1·100.
        assert!((predicted_mean(0.9, 1.0, 0.0, 10.0, 100.0) - 10.9).abs() < 1e-9);
        // Both tiers: 0.5·1 + 0.5·(0.5·10 + 0.5·100).
        assert!((predicted_mean(0.5, 1.0, 0.5, 10.0, 100.0) - 28.0).abs() < 1e-9);
    }
}
