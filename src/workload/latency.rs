//! Latency distribution of one fingerprint: exact while small, an HDR
//! histogram once it grows, so memory follows distinct fingerprints and
//! stays small for the long tail of rarely-run statements.

use hdrhistogram::Histogram;

/// Exact values are kept up to this many calls, then moved to a histogram.
const EXACT_LIMIT: usize = 64;
/// Histogram range: 1 µs to 1 hour; longer durations are clamped for the
/// percentiles (the exact maximum is kept separately by the caller).
const HIGHEST_US: u64 = 3_600_000_000;
/// Two significant digits: percentiles within 1 %, ~13 KB per histogram.
const SIGFIGS: u8 = 2;

#[derive(Clone, Debug)]
pub enum LatencyRecorder {
    Exact(Vec<u32>),
    Histogram(Box<Histogram<u32>>),
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::Exact(Vec::new())
    }
}

impl LatencyRecorder {
    /// Records one duration in microseconds.
    pub fn record(&mut self, micros: u64) {
        let clamped = micros.clamp(1, HIGHEST_US);
        match self {
            Self::Exact(values) => {
                if values.len() < EXACT_LIMIT {
                    values.push(clamped as u32);
                    return;
                }
                let mut histogram = new_histogram();
                for &v in values.iter() {
                    histogram.saturating_record(u64::from(v));
                }
                histogram.saturating_record(clamped);
                *self = Self::Histogram(Box::new(histogram));
            }
            Self::Histogram(histogram) => histogram.saturating_record(clamped),
        }
    }

    /// The value at quantile `q` (0..=1) in microseconds, by nearest rank;
    /// `None` when nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        match self {
            Self::Exact(values) => {
                if values.is_empty() {
                    return None;
                }
                let mut sorted = values.clone();
                sorted.sort_unstable();
                let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
                Some(u64::from(sorted[rank - 1]))
            }
            Self::Histogram(h) => (!h.is_empty()).then(|| h.value_at_quantile(q)),
        }
    }
}

fn new_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, HIGHEST_US, SIGFIGS).expect("static histogram bounds are valid")
}

#[cfg(test)]
mod tests {
    use super::LatencyRecorder;

    #[test]
    fn exact_then_histogram_agree() {
        let mut r = LatencyRecorder::default();
        assert_eq!(r.quantile(0.5), None);
        for v in 1..=50u64 {
            r.record(v * 1000);
        }
        assert!(matches!(r, LatencyRecorder::Exact(_)));
        assert_eq!(r.quantile(0.5), Some(25_000));
        assert_eq!(r.quantile(0.99), Some(50_000));
        for v in 51..=1000u64 {
            r.record(v * 1000);
        }
        assert!(matches!(r, LatencyRecorder::Histogram(_)));
        let p50 = r.quantile(0.5).unwrap() as f64;
        let p99 = r.quantile(0.99).unwrap() as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.01, "{p50}");
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.01, "{p99}");
    }
}
