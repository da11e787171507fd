//! The Universal Scalability Law, X(N) = λN / (1 + σ(N−1) + κN(N−1)),
//! fitted to (pool size, throughput) points by non-linear least squares
//! with σ, κ ≥ 0.
//!
//! For fixed (σ, κ) the model is linear in λ, so λ is solved in closed form
//! and the search runs over (σ, κ) only (variable projection). That search
//! is a projected Levenberg–Marquardt with a numeric Jacobian, started from
//! a small grid of (σ, κ) so that a flat or retrograde curve cannot trap it
//! in a poor local minimum; the best end point wins. Excel's quadratic
//! trick is avoided on purpose: it can return a negative κ (Gunther).

use serde::Serialize;

/// A fitted model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct UslFit {
    /// Contention: the serial share of the work.
    pub sigma: f64,
    /// Coherency: the cost of keeping N workers consistent; > 0 makes
    /// throughput fall after a peak.
    pub kappa: f64,
    /// Throughput of one worker (requests per second at N = 1).
    pub lambda: f64,
    /// Coefficient of determination of the fit over the points.
    pub r2: f64,
    /// N* = sqrt((1 − σ) / κ), where the model peaks; `None` when κ is 0
    /// (throughput keeps rising towards λ/σ) or σ ≥ 1.
    pub n_peak: Option<f64>,
    /// The model's throughput at `n_peak`.
    pub x_peak: Option<f64>,
    /// Points fitted.
    pub points: usize,
}

impl UslFit {
    pub fn predict(&self, n: f64) -> f64 {
        model(self.lambda, self.sigma, self.kappa, n)
    }
}

fn model(lambda: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
    lambda * shape(sigma, kappa, n)
}

/// X(N) / λ.
fn shape(sigma: f64, kappa: f64, n: f64) -> f64 {
    n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

/// The best λ for fixed (σ, κ), and the residual sum of squares with it.
fn profile(points: &[(f64, f64)], sigma: f64, kappa: f64) -> (f64, f64) {
    let (mut gx, mut gg) = (0.0, 0.0);
    for &(n, x) in points {
        let g = shape(sigma, kappa, n);
        gx += g * x;
        gg += g * g;
    }
    let lambda = if gg > 0.0 { (gx / gg).max(0.0) } else { 0.0 };
    let ssr = points
        .iter()
        .map(|&(n, x)| (x - model(lambda, sigma, kappa, n)).powi(2))
        .sum();
    (lambda, ssr)
}

fn residuals(points: &[(f64, f64)], p: [f64; 2]) -> Vec<f64> {
    let (lambda, _) = profile(points, p[0], p[1]);
    points
        .iter()
        .map(|&(n, x)| x - model(lambda, p[0], p[1], n))
        .collect()
}

fn ssr_of(points: &[(f64, f64)], p: [f64; 2]) -> f64 {
    profile(points, p[0], p[1]).1
}

/// Projected Levenberg–Marquardt over (σ, κ) from `start`.
fn levenberg_marquardt(points: &[(f64, f64)], start: [f64; 2]) -> ([f64; 2], f64) {
    let mut p = start;
    let mut ssr = ssr_of(points, p);
    let mut mu = 1e-3;
    for _ in 0..300 {
        let r = residuals(points, p);
        // Forward differences keep the probe inside σ, κ ≥ 0.
        let mut jac = vec![[0.0f64; 2]; points.len()];
        for k in 0..2 {
            let h = 1e-7 * p[k].abs().max(1e-4);
            let mut q = p;
            q[k] += h;
            let rq = residuals(points, q);
            for i in 0..points.len() {
                jac[i][k] = (rq[i] - r[i]) / h;
            }
        }
        let (mut a, mut g) = ([[0.0f64; 2]; 2], [0.0f64; 2]);
        for i in 0..points.len() {
            for k in 0..2 {
                g[k] += jac[i][k] * r[i];
                for l in 0..2 {
                    a[k][l] += jac[i][k] * jac[i][l];
                }
            }
        }
        let mut improved = false;
        for _ in 0..30 {
            let m = [
                [a[0][0] * (1.0 + mu) + 1e-30, a[0][1]],
                [a[1][0], a[1][1] * (1.0 + mu) + 1e-30],
            ];
            let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
            if det.abs() < 1e-300 || !det.is_finite() {
                mu *= 10.0;
                continue;
            }
            // Solve m δ = −g.
            let d0 = (-g[0] * m[1][1] + g[1] * m[0][1]) / det;
            let d1 = (-g[1] * m[0][0] + g[0] * m[1][0]) / det;
            let candidate = [(p[0] + d0).max(0.0), (p[1] + d1).max(0.0)];
            let c_ssr = ssr_of(points, candidate);
            if c_ssr.is_finite() && c_ssr < ssr {
                let gain = (ssr - c_ssr) / ssr.max(1e-300);
                p = candidate;
                ssr = c_ssr;
                mu = (mu / 3.0).max(1e-12);
                improved = gain > 1e-12;
                break;
            }
            mu *= 4.0;
            if mu > 1e16 {
                break;
            }
        }
        if !improved {
            break;
        }
    }
    (p, ssr)
}

/// Fits the model; `None` with fewer than three distinct N (two points fit
/// any curve) or no positive throughput.
pub fn fit(points: &[(f64, f64)]) -> Option<UslFit> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(n, x)| n.is_finite() && x.is_finite() && *n >= 1.0 && *x >= 0.0)
        .collect();
    let mut distinct: Vec<f64> = points.iter().map(|p| p.0).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() < 3 || points.iter().all(|p| p.1 <= 0.0) {
        return None;
    }
    let mut best: Option<([f64; 2], f64)> = None;
    for sigma in [0.0, 0.01, 0.05, 0.2, 0.5, 0.9] {
        for kappa in [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1] {
            let (p, ssr) = levenberg_marquardt(&points, [sigma, kappa]);
            if best.is_none_or(|(_, b)| ssr < b) {
                best = Some((p, ssr));
            }
        }
    }
    let ([sigma, kappa], ssr) = best?;
    let (lambda, _) = profile(&points, sigma, kappa);
    let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let sst: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let r2 = if sst > 0.0 {
        1.0 - ssr / sst
    } else if ssr <= 1e-9 {
        1.0
    } else {
        0.0
    };
    // A κ this small puts the peak beyond any pool anyone would configure:
    // treat it as no peak rather than report N* in the millions.
    let n_peak = (kappa > 1e-9 && sigma < 1.0).then(|| ((1.0 - sigma) / kappa).sqrt());
    Some(UslFit {
        sigma,
        kappa,
        lambda,
        r2,
        n_peak,
        x_peak: n_peak.map(|n| model(lambda, sigma, kappa, n)),
        points: points.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(
        lambda: f64,
        sigma: f64,
        kappa: f64,
        ns: &[f64],
        noise: &[f64],
    ) -> Vec<(f64, f64)> {
        ns.iter()
            .enumerate()
            .map(|(i, &n)| {
                let e = noise.get(i % noise.len().max(1)).copied().unwrap_or(0.0);
                (n, model(lambda, sigma, kappa, n) * (1.0 + e))
            })
            .collect()
    }

    const NS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 48.0, 64.0];

    #[test]
    fn recovers_exact_parameters() {
        let pts = synthetic(1000.0, 0.05, 0.002, &NS, &[0.0]);
        let f = fit(&pts).unwrap();
        assert!((f.lambda - 1000.0).abs() < 1.0, "{f:?}");
        assert!((f.sigma - 0.05).abs() < 1e-3, "{f:?}");
        assert!((f.kappa - 0.002).abs() < 1e-4, "{f:?}");
        assert!(f.r2 > 0.9999, "{f:?}");
        let expected_peak = ((1.0 - 0.05) / 0.002f64).sqrt();
        assert!((f.n_peak.unwrap() - expected_peak).abs() < 0.5, "{f:?}");
        assert!((f.x_peak.unwrap() - model(1000.0, 0.05, 0.002, expected_peak)).abs() < 5.0);
    }

    #[test]
    fn recovers_parameters_through_noise() {
        // ±3 % multiplicative noise, two repeats per size as a sweep gives.
        let noise = [0.03, -0.02, 0.01, -0.03, 0.02, -0.01, 0.025, -0.015];
        let mut pts = synthetic(30_000.0, 0.1, 0.01, &NS, &noise);
        let noise2 = [-0.02, 0.03, -0.01, 0.02, -0.025, 0.015, -0.03, 0.01];
        pts.extend(synthetic(30_000.0, 0.1, 0.01, &NS, &noise2));
        let f = fit(&pts).unwrap();
        assert!((f.lambda - 30_000.0).abs() / 30_000.0 < 0.05, "{f:?}");
        assert!((f.sigma - 0.1).abs() < 0.04, "{f:?}");
        assert!((f.kappa - 0.01).abs() < 0.003, "{f:?}");
        assert!(f.r2 > 0.95, "{f:?}");
        let peak = f.n_peak.unwrap();
        assert!((7.0..12.0).contains(&peak), "{f:?}");
    }

    #[test]
    fn linear_contention_only_has_no_peak() {
        let pts = synthetic(500.0, 0.2, 0.0, &NS, &[0.0]);
        let f = fit(&pts).unwrap();
        assert!(f.kappa < 1e-7, "{f:?}");
        assert!((f.sigma - 0.2).abs() < 1e-3, "{f:?}");
        assert!((f.lambda - 500.0).abs() < 1.0, "{f:?}");
        assert!(f.n_peak.is_none(), "{f:?}");
        assert!(f.x_peak.is_none());
    }

    #[test]
    fn perfectly_linear_scaling_fits_with_zero_sigma_and_kappa() {
        let pts: Vec<(f64, f64)> = NS.iter().map(|&n| (n, 100.0 * n)).collect();
        let f = fit(&pts).unwrap();
        assert!(f.sigma < 1e-6 && f.kappa < 1e-9, "{f:?}");
        assert!((f.lambda - 100.0).abs() < 1e-6);
        assert!(f.n_peak.is_none());
    }

    #[test]
    fn parameters_are_never_negative() {
        // Superlinear data would want σ < 0: it is held at 0.
        let pts = [(1.0, 100.0), (2.0, 230.0), (4.0, 520.0), (8.0, 1100.0)];
        let f = fit(&pts).unwrap();
        assert!(f.sigma >= 0.0 && f.kappa >= 0.0, "{f:?}");
    }

    #[test]
    fn too_few_sizes_are_not_fitted() {
        assert!(fit(&[(1.0, 10.0), (2.0, 19.0)]).is_none());
        assert!(fit(&[(1.0, 10.0), (1.0, 11.0), (2.0, 19.0), (2.0, 18.0)]).is_none());
        assert!(fit(&[(1.0, 0.0), (2.0, 0.0), (4.0, 0.0)]).is_none());
        assert!(fit(&[]).is_none());
    }
}
