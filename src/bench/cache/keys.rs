//! Key streams: what a cache in front of the database would be asked, in
//! order. From a workload, each read execution (a SELECT's fingerprint plus
//! its parameter values) is one key; or synthetic, from a Zipf or uniform
//! distribution over N keys. Keys are renumbered densely (0..distinct) so
//! the policies can keep their state in plain arrays — that is what makes
//! the simulation run at tens of millions of accesses per second.

use crate::workload::Workload;
use crate::workload::fingerprint::StatementKind;
use rustc_hash::FxHashMap;

/// A stream of accesses to dense key ids.
#[derive(Clone, Debug, Default)]
pub struct KeyStream {
    /// Key id of each access, in order.
    pub accesses: Vec<u32>,
    /// Number of distinct keys (ids are `0..distinct`).
    pub distinct: u32,
    /// For streams from a workload: the trace key behind each dense id
    /// (`Workload::trace_samples` holds its statement and parameters).
    pub origin: Vec<u64>,
}

/// Where a stream came from, for reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// Zipf with exponent `s` over `keys` keys (key 0 the most popular).
    Zipf {
        s: f64,
        keys: u32,
    },
    Uniform {
        keys: u32,
    },
    /// The workload's own read executions in logged order.
    Trace,
}

impl Distribution {
    /// `zipf:S`, `uniform` or `trace`; `keys` sizes the synthetic ones.
    pub fn parse(text: &str, keys: u32) -> Result<Distribution, String> {
        match text.split_once(':') {
            Some(("zipf", s)) => {
                let s: f64 = s
                    .parse()
                    .map_err(|_| format!("zipf:{s}: the exponent is not a number"))?;
                if !(s.is_finite() && s > 0.0 && s <= 5.0) {
                    return Err(format!("zipf:{s}: the exponent must be in (0, 5]"));
                }
                Ok(Distribution::Zipf { s, keys })
            }
            None if text == "zipf" => Ok(Distribution::Zipf { s: 1.0, keys }),
            None if text == "uniform" => Ok(Distribution::Uniform { keys }),
            None if text == "trace" => Ok(Distribution::Trace),
            _ => Err(format!("{text}: expected zipf:S, uniform or trace")),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Distribution::Zipf { s, keys } => format!("zipf:{s} over {keys} keys"),
            Distribution::Uniform { keys } => format!("uniform over {keys} keys"),
            Distribution::Trace => "the workload's read executions in logged order".to_string(),
        }
    }
}

impl KeyStream {
    /// The read executions of a workload ingested with
    /// `CollectOptions::trace`: SELECTs only (a cache answers reads).
    pub fn from_workload(workload: &Workload) -> KeyStream {
        let mut ids: FxHashMap<u64, u32> = FxHashMap::default();
        let mut stream = KeyStream::default();
        for event in &workload.trace {
            let Some(fp) = workload.fingerprints.get(event.fingerprint as usize) else {
                continue;
            };
            if fp.kind != StatementKind::Select {
                continue;
            }
            let next = ids.len() as u32;
            let id = *ids.entry(event.key).or_insert_with(|| {
                stream.origin.push(event.key);
                next
            });
            stream.accesses.push(id);
        }
        stream.distinct = ids.len() as u32;
        stream
    }

    /// `length` accesses drawn from a synthetic distribution with a fixed
    /// seed (the same stream every run, so results can be compared).
    pub fn synthetic(dist: &Distribution, length: usize, seed: u64) -> KeyStream {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (accesses, distinct) = match *dist {
            Distribution::Zipf { s, keys } => {
                let zipf = Zipf::new(keys.max(1), s);
                (
                    (0..length).map(|_| zipf.sample(&mut rng)).collect(),
                    keys.max(1),
                )
            }
            Distribution::Uniform { keys } => {
                let keys = keys.max(1);
                ((0..length).map(|_| rng.u32(0..keys)).collect(), keys)
            }
            Distribution::Trace => (Vec::new(), 0),
        };
        KeyStream {
            accesses,
            distinct,
            origin: Vec::new(),
        }
    }

    /// Keys seen at least once (a synthetic stream may miss some of its
    /// key space).
    pub fn keys_seen(&self) -> u32 {
        let mut seen = vec![false; self.distinct as usize];
        let mut n = 0;
        for &k in &self.accesses {
            if !std::mem::replace(&mut seen[k as usize], true) {
                n += 1;
            }
        }
        n
    }
}

/// Zipf sampling by inverting the exact CDF (binary search): key `k` (0-based)
/// has probability ∝ 1 / (k + 1)^s.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(keys: u32, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(keys as usize);
        let mut total = 0.0;
        for k in 0..keys {
            total += 1.0 / f64::from(k + 1).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Zipf { cdf }
    }

    pub fn sample(&self, rng: &mut fastrand::Rng) -> u32 {
        let u = rng.f64();
        (self.cdf.partition_point(|&c| c < u) as u32).min(self.cdf.len() as u32 - 1)
    }

    /// Probability of key `k`.
    pub fn probability(&self, k: u32) -> f64 {
        let k = k as usize;
        self.cdf[k] - if k == 0 { 0.0 } else { self.cdf[k - 1] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_parse() {
        assert_eq!(
            Distribution::parse("zipf:0.9", 10),
            Ok(Distribution::Zipf { s: 0.9, keys: 10 })
        );
        assert_eq!(
            Distribution::parse("uniform", 5),
            Ok(Distribution::Uniform { keys: 5 })
        );
        assert_eq!(Distribution::parse("trace", 5), Ok(Distribution::Trace));
        assert!(Distribution::parse("zipf:-1", 5).is_err());
        assert!(Distribution::parse("pareto", 5).is_err());
    }

    #[test]
    fn zipf_frequencies_follow_the_law() {
        let dist = Distribution::Zipf { s: 1.0, keys: 1000 };
        let stream = KeyStream::synthetic(&dist, 200_000, 7);
        let zipf = Zipf::new(1000, 1.0);
        let mut counts = vec![0u32; 1000];
        for &k in &stream.accesses {
            counts[k as usize] += 1;
        }
        for k in [0u32, 1, 9] {
            let expected = zipf.probability(k) * 200_000.0;
            let got = f64::from(counts[k as usize]);
            assert!(
                (got - expected).abs() / expected < 0.05,
                "key {k}: {got} vs {expected}"
            );
        }
        // Same seed, same stream.
        assert_eq!(
            stream.accesses,
            KeyStream::synthetic(&dist, 200_000, 7).accesses
        );
    }

    #[test]
    fn a_workload_trace_keeps_reads_in_order_with_their_parameters() {
        use crate::workload::{CollectOptions, IngestOptions, ingest};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.sql");
        std::fs::write(
            &path,
            "SELECT * FROM t WHERE id = 1;\nSELECT * FROM t WHERE id = 2;\n\
             UPDATE t SET a = 1 WHERE id = 1;\nSELECT * FROM t WHERE id = 1;\n",
        )
        .unwrap();
        let options = IngestOptions {
            collect: CollectOptions {
                trace: true,
                ..CollectOptions::default()
            },
            ..IngestOptions::default()
        };
        let workload = ingest(&[path.to_string_lossy().into_owned()], &options, None).unwrap();
        let stream = KeyStream::from_workload(&workload);
        assert_eq!(stream.accesses, vec![0, 1, 0]);
        assert_eq!(stream.distinct, 2);
        let first = &workload.trace_samples[&stream.origin[0]];
        assert!(first.statement.contains("id = 1"), "{}", first.statement);
    }
}
