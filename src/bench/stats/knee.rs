//! Kneedle (Satopää, Albrecht, Irwin, Raghavan, "Finding a 'Kneedle' in a
//! Haystack", 2011) for a concave, increasing curve such as throughput
//! against pool size: normalise both axes to the unit square, take the
//! difference curve d = y − x, and accept a local maximum of d as the knee
//! once d drops below that maximum minus S times the mean x step before
//! the next local maximum. Offline (all points known) with S = 1, as the
//! paper and `kneed` suggest. No smoothing: a sweep has few points.
//!
//! A throughput curve may fall after its peak (USL κ > 0). Those points
//! stay in: the normalised difference curve only falls further there, and
//! cutting them would leave too few points for the threshold test when a
//! sweep peaks early (three points up to the peak can never pass it).

/// The x of the knee, or `None` when the curve has none (it is straight,
/// falls from the start, or has fewer than three points). `xs` must be
/// increasing.
pub fn kneedle(xs: &[f64], ys: &[f64], sensitivity: f64) -> Option<f64> {
    if xs.len() != ys.len() || xs.windows(2).any(|w| w[1] <= w[0]) {
        return None;
    }
    let n = xs.len();
    if n < 3 {
        return None;
    }
    let (x0, x1) = (xs[0], xs[n - 1]);
    let (y0, y1) = (
        ys.iter().copied().fold(f64::INFINITY, f64::min),
        ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let xn: Vec<f64> = xs.iter().map(|x| (x - x0) / (x1 - x0)).collect();
    let d: Vec<f64> = ys
        .iter()
        .zip(&xn)
        .map(|(y, x)| (y - y0) / (y1 - y0) - x)
        .collect();
    let mean_step = (xn[n - 1] - xn[0]) / (n - 1) as f64;
    let mut candidate: Option<(usize, f64)> = None;
    for i in 1..n {
        let is_local_max = i + 1 < n && d[i] >= d[i - 1] && d[i] > d[i + 1];
        if is_local_max {
            candidate = Some((i, d[i] - sensitivity * mean_step));
            continue;
        }
        if let Some((knee, threshold)) = candidate
            && d[i] < threshold
        {
            return Some(xs[knee]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_corner_of_a_saturating_curve() {
        let xs: Vec<f64> = (1..=12).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|&x| 1000.0 * x.min(4.0) + x).collect();
        assert_eq!(kneedle(&xs, &ys, 1.0), Some(4.0));
    }

    #[test]
    fn finds_the_knee_of_a_smooth_curve() {
        // y = 1 − e^(−x/2) over 0..10: the normalised difference curve peaks
        // where the slope is (y1 − y0)/(x1 − x0) in data units, x = 2 ln(5) ≈ 3.2.
        let xs: Vec<f64> = (0..=20).map(|i| i as f64 * 0.5).collect();
        let ys: Vec<f64> = xs.iter().map(|&x| 1.0 - (-x / 2.0).exp()).collect();
        let k = kneedle(&xs, &ys, 1.0).unwrap();
        assert!((2.5..=3.5).contains(&k), "{k}");
    }

    #[test]
    fn a_retrograde_curve_has_its_knee_before_the_peak() {
        let xs = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
        let ys = [
            10_000.0, 19_000.0, 34_000.0, 40_000.0, 41_000.0, 36_000.0, 25_000.0,
        ];
        assert_eq!(kneedle(&xs, &ys, 1.0), Some(8.0));
        // A sweep that peaks early, as on a 2-core machine: three points up
        // to the peak, a gentle fall after it.
        let xs = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
        let ys = [20_489.0, 30_527.0, 33_704.0, 33_438.0, 32_089.0, 32_133.0];
        assert_eq!(kneedle(&xs, &ys, 1.0), Some(4.0));
    }

    #[test]
    fn straight_or_falling_curves_have_no_knee() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(kneedle(&xs, &[1.0, 2.0, 3.0, 4.0, 5.0], 1.0), None);
        assert_eq!(kneedle(&xs, &[5.0, 4.0, 3.0, 2.0, 1.0], 1.0), None);
        assert_eq!(kneedle(&[1.0, 2.0], &[1.0, 2.0], 1.0), None);
        assert_eq!(kneedle(&[2.0, 1.0, 3.0], &[1.0, 2.0, 3.0], 1.0), None);
    }
}
