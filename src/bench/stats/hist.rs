//! Latency histograms (HdrHistogram, microseconds, 3 significant digits):
//! one per client task and kind of time, merged after a step, then read out
//! as the percentiles a report shows.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Longest latency kept exactly (an hour); longer ones are recorded as this.
const MAX_US: u64 = 3_600_000_000;

/// A histogram that grows with the largest value seen, so an idle task's
/// histograms stay small.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits are valid")
}

/// Records `us` microseconds (clamped to 1 µs … 1 h: the histogram cannot
/// hold 0, and a resize failure must not stop a load run).
#[inline]
pub fn record(h: &mut Histogram<u64>, us: u64) {
    let _ = h.record(us.clamp(1, MAX_US));
}

/// Adds `from` into `into`; counts past the range are dropped rather than
/// failing the merge.
pub fn merge(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    if into.add(from).is_err() {
        for v in from.iter_recorded() {
            let _ = into.record_n(v.value_iterated_to(), v.count_at_value());
        }
    }
}

/// The percentiles a report shows, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// `None` for an empty histogram.
pub fn summarize(h: &Histogram<u64>) -> Option<LatencySummary> {
    if h.is_empty() {
        return None;
    }
    Some(LatencySummary {
        count: h.len(),
        mean: (h.mean() * 10.0).round() / 10.0,
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_histograms_give_the_percentiles_of_all_values() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in 1..=500u64 {
            record(&mut a, v * 10);
        }
        for v in 501..=1000u64 {
            record(&mut b, v * 10);
        }
        // b grew further than a: the merge must resize a.
        record(&mut b, 5_000_000);
        merge(&mut a, &b);
        let s = summarize(&a).unwrap();
        assert_eq!(s.count, 1001);
        assert!((s.p50 as f64 - 5010.0).abs() <= 6.0, "{s:?}");
        assert!((s.p99 as f64 - 9910.0).abs() <= 10.0, "{s:?}");
        assert!((s.max as f64 - 5_000_000.0).abs() <= 5_000.0, "{s:?}");
    }

    #[test]
    fn zero_and_huge_values_are_clamped() {
        let mut h = new_histogram();
        record(&mut h, 0);
        record(&mut h, u64::MAX);
        let s = summarize(&h).unwrap();
        assert_eq!(s.count, 2);
        assert_eq!(s.p50, 1);
        assert!(s.max >= MAX_US);
        assert!(summarize(&new_histogram()).is_none());
    }
}
