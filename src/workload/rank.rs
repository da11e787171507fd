//! Ranking fingerprints for display: by total time, mean, calls or a
//! percentile, heaviest first, with a stable tie-break on the id.

use super::model::Fingerprint;
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    /// Total time spent (calls × mean).
    Total,
    /// Mean time per call.
    Mean,
    /// Number of calls.
    Calls,
    /// 95th percentile latency.
    P95,
    /// 99th percentile latency.
    P99,
}

impl SortKey {
    fn value(self, fp: &Fingerprint) -> f64 {
        match self {
            Self::Total => fp.total_us as f64,
            Self::Mean => fp.mean_ms().unwrap_or(0.0),
            Self::Calls => fp.calls as f64,
            Self::P95 => fp.percentile_ms(0.95).unwrap_or(0.0),
            Self::P99 => fp.percentile_ms(0.99).unwrap_or(0.0),
        }
    }
}

/// Indexes of `fingerprints` in rank order, at most `top` (0 = all).
pub fn rank(fingerprints: &[Fingerprint], key: SortKey, top: usize) -> Vec<usize> {
    let values: Vec<f64> = fingerprints.iter().map(|f| key.value(f)).collect();
    let mut order: Vec<usize> = (0..fingerprints.len()).collect();
    order.sort_by(|&a, &b| {
        values[b]
            .partial_cmp(&values[a])
            .unwrap_or(Ordering::Equal)
            // Busier first on equal keys (e.g. untimed SQL files), then by id.
            .then(fingerprints[b].calls.cmp(&fingerprints[a].calls))
            .then(fingerprints[a].id.cmp(&fingerprints[b].id))
    });
    if top > 0 {
        order.truncate(top);
    }
    order
}
