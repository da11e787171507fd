//! Throughput with a 95 % confidence interval by the method of batch means:
//! completions are counted per short batch, and the batch rates are treated
//! as roughly independent samples (a batch of a second or less is long
//! against the autocorrelation of single requests), so a Student t interval
//! over them is honest where one over single requests would be far too
//! narrow.

use serde::Serialize;

/// A mean with its two-sided 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    /// Half the interval's width (mean ± this).
    pub half_width: f64,
    /// Batches the interval is computed over.
    pub batches: usize,
}

/// Batch length for a step of `duration_s`: about ten batches, at most one
/// second each (the usual choice), at least 50 ms so that a batch holds many
/// requests even at low rates.
pub fn batch_seconds(duration_s: f64) -> f64 {
    (duration_s / 10.0).clamp(0.05, 1.0)
}

/// The 95 % interval of the per-batch rates, where `counts[i]` requests
/// completed in batch `i` of `batch_s` seconds. `None` with fewer than two
/// batches (no spread to estimate).
pub fn batch_means(counts: &[u64], batch_s: f64) -> Option<Interval> {
    if counts.len() < 2 || batch_s <= 0.0 {
        return None;
    }
    let rates: Vec<f64> = counts.iter().map(|&c| c as f64 / batch_s).collect();
    let k = rates.len() as f64;
    let mean = rates.iter().sum::<f64>() / k;
    let var = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (k - 1.0);
    let half = t_975(rates.len() - 1) * (var / k).sqrt();
    Some(Interval {
        mean,
        low: mean - half,
        high: mean + half,
        half_width: half,
        batches: rates.len(),
    })
}

/// The 97.5th percentile of Student's t with `dof` degrees of freedom (the
/// factor of a two-sided 95 % interval): exact table to 30, then the
/// Cornish–Fisher expansion around the normal quantile (error < 1e-4).
pub fn t_975(dof: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match dof {
        0 => f64::INFINITY,
        1..=30 => TABLE[dof - 1],
        _ => {
            let z: f64 = 1.959_963_985;
            let v = dof as f64;
            z + (z.powi(3) + z) / (4.0 * v)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z)
                    / (384.0 * v.powi(3))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(9), 2.262);
        // Published values for larger dof.
        assert!((t_975(40) - 2.021).abs() < 1e-3, "{}", t_975(40));
        assert!((t_975(120) - 1.980).abs() < 1e-3, "{}", t_975(120));
        assert!((t_975(100_000) - 1.960).abs() < 1e-3);
        assert!(t_975(0).is_infinite());
    }

    #[test]
    fn constant_batches_give_a_zero_width_interval() {
        let ci = batch_means(&[100, 100, 100, 100], 0.5).unwrap();
        assert_eq!(ci.mean, 200.0);
        assert_eq!(ci.half_width, 0.0);
        assert_eq!(ci.batches, 4);
    }

    #[test]
    fn interval_follows_the_t_formula() {
        // Rates 10, 20, 30 per second: mean 20, sd 10, se 10/sqrt(3).
        let ci = batch_means(&[10, 20, 30], 1.0).unwrap();
        assert!((ci.mean - 20.0).abs() < 1e-12);
        let expected = 4.303 * 10.0 / 3f64.sqrt();
        assert!((ci.half_width - expected).abs() < 1e-9);
        assert!((ci.low - (20.0 - expected)).abs() < 1e-9);
    }

    #[test]
    fn too_few_batches_have_no_interval() {
        assert!(batch_means(&[5], 1.0).is_none());
        assert!(batch_means(&[], 1.0).is_none());
    }

    #[test]
    fn batch_length_is_bounded() {
        assert_eq!(batch_seconds(10.0), 1.0);
        assert_eq!(batch_seconds(60.0), 1.0);
        assert!((batch_seconds(1.0) - 0.1).abs() < 1e-12);
        assert_eq!(batch_seconds(0.2), 0.05);
    }
}
