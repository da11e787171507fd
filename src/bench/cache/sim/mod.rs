//! Cache simulation: a key stream replayed through cache policies at a
//! range of capacities — LRU, TinyLFU (moka's policy), S3-FIFO — with
//! Bélády's optimum as the upper bound and an unbounded cache (only the
//! first access to each key misses) as the ceiling. Pure: no database, no
//! clock except to report the simulation's own speed.

mod belady;
mod list;
mod lru;
mod s3fifo;
mod sketch;
mod tinylfu;

pub use belady::belady_hits;

use super::keys::KeyStream;
use serde::Serialize;
use std::time::Instant;

/// A cache policy over dense key ids: `access` returns whether it was a
/// hit and updates the cache (a miss admits the key if the policy wants).
pub trait Policy {
    fn access(&mut self, key: u32) -> bool;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    Lru,
    Tinylfu,
    S3Fifo,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 3] = [PolicyKind::Lru, PolicyKind::Tinylfu, PolicyKind::S3Fifo];

    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Lru => "lru",
            PolicyKind::Tinylfu => "tinylfu",
            PolicyKind::S3Fifo => "s3-fifo",
        }
    }

    /// Hits of this policy at `capacity` on the stream.
    pub fn hits(self, stream: &KeyStream, capacity: u32) -> u64 {
        match self {
            PolicyKind::Lru => run(lru::Lru::new(capacity, stream.distinct), &stream.accesses),
            PolicyKind::Tinylfu => run(
                tinylfu::TinyLfu::new(capacity, stream.distinct),
                &stream.accesses,
            ),
            PolicyKind::S3Fifo => run(
                s3fifo::S3Fifo::new(capacity, stream.distinct),
                &stream.accesses,
            ),
        }
    }

    /// Hits of this policy at `capacity` on accesses given one at a time
    /// (a stream put together on the fly, such as the interleaved clients
    /// of a live run), over keys `0..distinct`.
    pub fn hits_of(self, accesses: impl Iterator<Item = u32>, distinct: u32, capacity: u32) -> u64 {
        match self {
            PolicyKind::Lru => run_iter(lru::Lru::new(capacity, distinct), accesses),
            PolicyKind::Tinylfu => run_iter(tinylfu::TinyLfu::new(capacity, distinct), accesses),
            PolicyKind::S3Fifo => run_iter(s3fifo::S3Fifo::new(capacity, distinct), accesses),
        }
    }
}

fn run_iter<P: Policy>(mut policy: P, accesses: impl Iterator<Item = u32>) -> u64 {
    accesses.map(|k| u64::from(policy.access(k))).sum()
}

/// Monomorphised per policy: the access loop is the hot path.
fn run<P: Policy>(mut policy: P, accesses: &[u32]) -> u64 {
    let mut hits = 0u64;
    for &k in accesses {
        hits += u64::from(policy.access(k));
    }
    hits
}

/// One point of a hit-ratio curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    pub capacity: u32,
    pub hit_ratio: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PolicyCurve {
    pub policy: PolicyKind,
    pub points: Vec<Point>,
    /// Simulated accesses per second over the whole sweep (this machine).
    pub accesses_per_s: f64,
    /// The capacity after which more cache buys little (Kneedle), when the
    /// curve has enough points to tell.
    pub knee_capacity: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Simulation {
    pub accesses: u64,
    pub distinct_keys: u32,
    pub capacities: Vec<u32>,
    pub policies: Vec<PolicyCurve>,
    /// Bélády's optimum at each capacity: no policy can beat it.
    pub belady: Vec<Point>,
    /// Hit ratio with unlimited room: every key misses once.
    pub unbounded_hit_ratio: f64,
}

/// Capacities to try when none are given: 0.1 % to 50 % of the distinct
/// keys, at least 1, without repeats.
pub fn default_capacities(distinct: u32) -> Vec<u32> {
    let mut out: Vec<u32> = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
        .iter()
        .map(|share| ((f64::from(distinct) * share).round() as u32).max(1))
        .collect();
    out.dedup();
    out
}

/// Replays the stream through every policy at every capacity.
pub fn simulate(stream: &KeyStream, capacities: &[u32], policies: &[PolicyKind]) -> Simulation {
    let total = stream.accesses.len() as f64;
    let ratio = |hits: u64| {
        if total > 0.0 {
            hits as f64 / total
        } else {
            0.0
        }
    };
    let curves = policies
        .iter()
        .map(|&policy| {
            let started = Instant::now();
            let points: Vec<Point> = capacities
                .iter()
                .map(|&capacity| Point {
                    capacity,
                    hit_ratio: ratio(policy.hits(stream, capacity)),
                })
                .collect();
            let secs = started.elapsed().as_secs_f64();
            PolicyCurve {
                policy,
                knee_capacity: knee(&points),
                accesses_per_s: if secs > 0.0 {
                    total * capacities.len() as f64 / secs
                } else {
                    0.0
                },
                points,
            }
        })
        .collect();
    let belady = capacities
        .iter()
        .map(|&capacity| Point {
            capacity,
            hit_ratio: ratio(belady_hits(&stream.accesses, stream.distinct, capacity)),
        })
        .collect();
    Simulation {
        accesses: stream.accesses.len() as u64,
        distinct_keys: stream.distinct,
        capacities: capacities.to_vec(),
        policies: curves,
        belady,
        unbounded_hit_ratio: ratio(stream.accesses.len() as u64 - u64::from(stream.keys_seen())),
    }
}

/// Kneedle over hit ratio against capacity, snapped to a measured capacity.
fn knee(points: &[Point]) -> Option<u32> {
    if points.len() < 4 {
        return None;
    }
    let xs: Vec<f64> = points.iter().map(|p| f64::from(p.capacity)).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.hit_ratio).collect();
    let x = crate::bench::stats::knee::kneedle(&xs, &ys, 1.0)?;
    points
        .iter()
        .min_by(|a, b| {
            (f64::from(a.capacity) - x)
                .abs()
                .total_cmp(&(f64::from(b.capacity) - x).abs())
        })
        .map(|p| p.capacity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::cache::keys::Distribution;

    fn stream(accesses: &[u32]) -> KeyStream {
        KeyStream {
            accesses: accesses.to_vec(),
            distinct: accesses.iter().max().map_or(0, |m| m + 1),
            origin: Vec::new(),
        }
    }

    #[test]
    fn lru_evicts_the_least_recent() {
        // Capacity 2: 0 1 0 2 (evicts 1) 1 (miss, evicts 0) 0 (miss).
        let s = stream(&[0, 1, 0, 2, 1, 0]);
        assert_eq!(PolicyKind::Lru.hits(&s, 2), 1);
        assert_eq!(PolicyKind::Lru.hits(&s, 3), 3);
    }

    #[test]
    fn belady_is_optimal_on_a_known_stream() {
        // The classic example: capacity 3.
        let s = stream(&[7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1]);
        // OPT has 9 misses on this string with 3 frames (with bypass, never more).
        let hits = belady_hits(&s.accesses, s.distinct, 3);
        assert!(hits >= 11, "{hits}");
        for policy in PolicyKind::ALL {
            assert!(policy.hits(&s, 3) <= hits, "{policy:?} beat Bélády");
        }
    }

    #[test]
    fn no_policy_beats_belady_or_the_unbounded_cache_on_zipf() {
        let s = KeyStream::synthetic(
            &Distribution::Zipf {
                s: 0.9,
                keys: 10_000,
            },
            200_000,
            1,
        );
        let sim = simulate(&s, &default_capacities(s.distinct), &PolicyKind::ALL);
        for curve in &sim.policies {
            for (p, b) in curve.points.iter().zip(&sim.belady) {
                assert!(
                    p.hit_ratio <= b.hit_ratio + 1e-9,
                    "{:?} at {}",
                    curve.policy,
                    p.capacity
                );
                assert!(b.hit_ratio <= sim.unbounded_hit_ratio + 1e-9);
            }
            // More room never hurts these policies much on Zipf.
            let first = curve.points.first().unwrap().hit_ratio;
            let last = curve.points.last().unwrap().hit_ratio;
            assert!(last > first, "{:?}", curve.policy);
        }
        // Frequency-aware policies beat LRU on skewed keys at small sizes.
        let at = |k: PolicyKind| {
            sim.policies.iter().find(|c| c.policy == k).unwrap().points[2].hit_ratio
        };
        assert!(at(PolicyKind::Tinylfu) > at(PolicyKind::Lru));
        assert!(at(PolicyKind::S3Fifo) > at(PolicyKind::Lru));
    }

    #[test]
    fn lru_on_uniform_keys_hits_about_its_share() {
        // Uniform over N: an LRU of C keys hits about C / N.
        let s = KeyStream::synthetic(&Distribution::Uniform { keys: 1000 }, 200_000, 3);
        let hits = PolicyKind::Lru.hits(&s, 250) as f64 / 200_000.0;
        assert!((hits - 0.25).abs() < 0.01, "{hits}");
    }

    #[test]
    fn a_loop_defeats_lru_but_not_frequency_admission() {
        // 0..100 over and over with room for 50: LRU always misses (and so
        // does S3-FIFO, whose ghosts are forgotten before a key returns);
        // TinyLFU refuses newcomers no more frequent than its victims, so
        // what it holds stays and hits every round.
        let accesses: Vec<u32> = (0..20_000).map(|i| i % 100).collect();
        let s = stream(&accesses);
        assert_eq!(PolicyKind::Lru.hits(&s, 50), 0);
        assert!(belady_hits(&s.accesses, s.distinct, 50) > 9_000);
        assert!(PolicyKind::Tinylfu.hits(&s, 50) > 8_000);
    }

    #[test]
    fn hits_of_an_iterator_match_hits_of_the_stream() {
        let s = KeyStream::synthetic(&Distribution::Zipf { s: 0.9, keys: 1000 }, 20_000, 5);
        for policy in PolicyKind::ALL {
            assert_eq!(
                policy.hits_of(s.accesses.iter().copied(), s.distinct, 50),
                policy.hits(&s, 50),
                "{policy:?}"
            );
        }
    }

    #[test]
    fn default_capacities_are_distinct_and_positive() {
        assert_eq!(default_capacities(10), vec![1, 2, 5]);
        assert_eq!(default_capacities(100_000).len(), 8);
    }
}
