//! The pool-size recommendation from a measured sweep: the smallest size
//! whose throughput is within 5 % of the best, whose p99 meets the SLO, and
//! that is not beyond the fitted USL peak — with the confidence it deserves
//! and the reasons in words — plus the rule of thumb beside it.

use super::usl::UslFit;
use serde::Serialize;

/// Throughput within this share of the best counts as "as good".
pub const BAND: f64 = 0.05;

/// One pool size, aggregated over its repeats.
#[derive(Clone, Debug, PartialEq)]
pub struct SizePoint {
    pub pool_size: u32,
    pub tps: f64,
    /// p99 of the end-to-end latency, µs.
    pub p99_us: Option<u64>,
    /// Failed or timed-out requests over all requests.
    pub error_rate: f64,
}

/// What weighs on the confidence besides the points themselves.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub slo_p99_us: Option<u64>,
    /// Application instances sharing the database.
    pub instances: u32,
    /// The client was the bottleneck somewhere (CPU or Little's law).
    pub client_limited: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    pub pool_size: u32,
    /// ⌈pool_size / instances⌉: the size to configure in each instance.
    pub per_instance: u32,
    pub instances: u32,
    /// Measured sizes that are as good (within the band, SLO met, not past
    /// the peak): [smallest, largest].
    pub range: [u32; 2],
    pub confidence: Confidence,
    /// Why, in order: the facts, the rule applied, what lowered confidence.
    pub rationale: Vec<String>,
}

/// 2 × cores + effective spindles (HikariCP's "About Pool Sizing", after the
/// PostgreSQL wiki), with where the core count came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleOfThumb {
    pub pool_size: u32,
    pub cores: u32,
    /// `local` (the server runs on this machine), `given` (--server-cores)
    /// or `client` (unknown server: this machine's cores as a stand-in).
    pub cores_source: &'static str,
    /// Taken as 0: the data is assumed to be cached (SSD or RAM).
    pub spindles: u32,
    pub formula: String,
}

pub fn rule_of_thumb(cores: u32, cores_source: &'static str) -> RuleOfThumb {
    RuleOfThumb {
        pool_size: 2 * cores,
        cores,
        cores_source,
        spindles: 0,
        formula: format!("2 × {cores} cores + 0 spindles"),
    }
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

/// Pool sizes as "1, 2, 4" for messages.
pub fn list(sizes: &[u32]) -> String {
    sizes
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `points` one per pool size (any order). `None` when nothing was measured
/// or no size completed a request.
pub fn recommend(
    points: &[SizePoint],
    usl: Option<&UslFit>,
    knee: Option<f64>,
    ctx: &Context,
) -> Option<Recommendation> {
    let mut pts: Vec<&SizePoint> = points.iter().filter(|p| p.tps > 0.0).collect();
    pts.sort_by_key(|p| p.pool_size);
    let best = pts.iter().copied().max_by(|a, b| a.tps.total_cmp(&b.tps))?;
    let mut rationale = vec![format!(
        "best throughput {:.0} tps at pool size {}",
        best.tps, best.pool_size
    )];
    let in_band: Vec<&SizePoint> = pts
        .iter()
        .copied()
        .filter(|p| p.tps >= (1.0 - BAND) * best.tps)
        .collect();
    rationale.push(format!(
        "within {:.0} % of it: pool size {}",
        BAND * 100.0,
        list(&in_band.iter().map(|p| p.pool_size).collect::<Vec<_>>())
    ));
    let meets_slo = |p: &SizePoint| match (ctx.slo_p99_us, p.p99_us) {
        (None, _) => true,
        (Some(slo), Some(p99)) => p99 <= slo,
        (Some(_), None) => false,
    };
    let peak_cap = usl.and_then(|f| f.n_peak).map(f64::ceil);
    let under_peak = |p: &SizePoint| peak_cap.is_none_or(|cap| f64::from(p.pool_size) <= cap);
    if let Some(f) = usl {
        rationale.push(match f.n_peak {
            Some(n) => format!(
                "USL fit σ = {:.4}, κ = {:.6}, λ = {:.0} tps (R² = {:.3}): throughput peaks at N* ≈ {:.1}",
                f.sigma, f.kappa, f.lambda, f.r2, n
            ),
            None => format!(
                "USL fit σ = {:.4}, κ = 0, λ = {:.0} tps (R² = {:.3}): no peak within reach, throughput levels off",
                f.sigma, f.lambda, f.r2
            ),
        });
    }
    if let Some(k) = knee {
        rationale.push(format!(
            "the throughput curve's knee (Kneedle) is at {k:.0}"
        ));
    }
    let mut minor: Vec<String> = Vec::new();
    let mut major: Vec<String> = Vec::new();
    let qualified: Vec<&SizePoint> = in_band
        .iter()
        .copied()
        .filter(|p| meets_slo(p) && under_peak(p))
        .collect();
    let chosen: &SizePoint = if let Some(first) = qualified.first() {
        let mut why = format!("smallest size within {:.0} % of the best", BAND * 100.0);
        if let Some(slo) = ctx.slo_p99_us {
            why.push_str(&format!(" with p99 ≤ {}", ms(slo)));
        }
        if let Some(cap) = peak_cap {
            why.push_str(&format!(" and not beyond the fitted peak ({cap:.0})"));
        }
        rationale.push(format!("{why}: {}", first.pool_size));
        first
    } else if let Some(first) = in_band.iter().copied().find(|p| meets_slo(p)) {
        minor.push(format!(
            "every size within {:.0} % of the best lies beyond the fitted peak ({:.0}); the model and the measurements disagree",
            BAND * 100.0,
            peak_cap.unwrap_or(0.0)
        ));
        rationale.push(format!(
            "smallest size within {:.0} % of the best that meets the SLO: {}",
            BAND * 100.0,
            first.pool_size
        ));
        first
    } else if let Some(first) = pts
        .iter()
        .copied()
        .filter(|p| meets_slo(p))
        .max_by(|a, b| a.tps.total_cmp(&b.tps))
    {
        rationale.push(format!(
            "no size within {:.0} % of the best throughput meets the SLO: the fastest that does is {} ({:.0} tps)",
            BAND * 100.0,
            first.pool_size,
            first.tps
        ));
        minor.push("the SLO costs throughput: the best sizes miss it".to_string());
        first
    } else {
        let lowest = pts
            .iter()
            .copied()
            .filter(|p| p.p99_us.is_some())
            .min_by_key(|p| p.p99_us)
            .unwrap_or(best);
        major.push(format!(
            "no pool size meets the p99 SLO of {}; pool size {} has the lowest p99 ({})",
            ms(ctx.slo_p99_us.unwrap_or(0)),
            lowest.pool_size,
            lowest.p99_us.map(ms).unwrap_or_else(|| "-".to_string())
        ));
        lowest
    };
    let range_top = qualified
        .last()
        .map_or(chosen.pool_size, |p| p.pool_size.max(chosen.pool_size));

    // Confidence: each doubt is minor or major; high needs none, medium at
    // most one minor, anything more is low.
    match usl {
        None => major.push("no USL fit (fewer than three sizes measured)".to_string()),
        Some(f) if f.r2 < 0.8 => major.push(format!(
            "the USL fits the measurements poorly (R² = {:.2})",
            f.r2
        )),
        Some(f) if f.r2 < 0.95 => {
            minor.push(format!("the USL fit is loose (R² = {:.2} < 0.95)", f.r2))
        }
        Some(_) => {}
    }
    if pts.len() < 5 {
        minor.push(format!(
            "only {} pool sizes measured (6 or more make the fit trustworthy)",
            pts.len()
        ));
    }
    // The knee marks where more connections stop paying; the choice should
    // sit near it (within a factor of two).
    let chosen_n = f64::from(chosen.pool_size);
    match knee {
        Some(k) if k > 2.0 * chosen_n || k < chosen_n / 2.0 => minor.push(format!(
            "the knee ({k:.0}) is far from the chosen size ({})",
            chosen.pool_size
        )),
        Some(_) => {}
        None => minor.push("the throughput curve has no clear knee".to_string()),
    }
    if ctx.client_limited {
        major.push(
            "the load generator itself was a bottleneck (see warnings): the server may do better"
                .to_string(),
        );
    }
    if chosen.error_rate > 0.01 {
        major.push(format!(
            "{:.1} % of requests failed at pool size {}",
            chosen.error_rate * 100.0,
            chosen.pool_size
        ));
    }
    let confidence = match (major.len(), minor.len()) {
        (0, 0) => Confidence::High,
        (0, 1) => Confidence::Medium,
        _ => Confidence::Low,
    };
    for doubt in major.into_iter().chain(minor) {
        rationale.push(format!("lowers confidence: {doubt}"));
    }
    let instances = ctx.instances.max(1);
    Some(Recommendation {
        pool_size: chosen.pool_size,
        per_instance: chosen.pool_size.div_ceil(instances),
        instances,
        range: [chosen.pool_size, range_top],
        confidence,
        rationale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(rows: &[(u32, f64, u64)]) -> Vec<SizePoint> {
        rows.iter()
            .map(|&(n, tps, p99)| SizePoint {
                pool_size: n,
                tps,
                p99_us: Some(p99),
                error_rate: 0.0,
            })
            .collect()
    }

    fn usl_with_peak(n_peak: f64) -> UslFit {
        UslFit {
            sigma: 0.05,
            kappa: 0.01,
            lambda: 10_000.0,
            r2: 0.99,
            n_peak: Some(n_peak),
            x_peak: Some(40_000.0),
            points: 6,
        }
    }

    fn ctx(slo: Option<u64>) -> Context {
        Context {
            slo_p99_us: slo,
            instances: 1,
            client_limited: false,
        }
    }

    const SWEEP: [(u32, f64, u64); 6] = [
        (1, 10_000.0, 400),
        (2, 19_000.0, 500),
        (4, 38_500.0, 900),
        (8, 40_000.0, 2_000),
        (16, 39_000.0, 4_000),
        (32, 30_000.0, 9_000),
    ];

    #[test]
    fn smallest_size_within_five_percent_of_the_best() {
        let r = recommend(
            &pts(&SWEEP),
            Some(&usl_with_peak(9.5)),
            Some(4.0),
            &ctx(None),
        )
        .unwrap();
        assert_eq!(r.pool_size, 4);
        assert_eq!(r.range, [4, 8]);
        assert_eq!(r.confidence, Confidence::High, "{:?}", r.rationale);
    }

    #[test]
    fn the_slo_excludes_sizes_with_a_high_p99() {
        // p99 ≤ 0.8 ms: 4 (0.9 ms) and 8 (2 ms) miss it; nothing within 5 %
        // meets it, so the fastest size that does wins.
        let r = recommend(
            &pts(&SWEEP),
            Some(&usl_with_peak(9.5)),
            Some(4.0),
            &ctx(Some(800)),
        )
        .unwrap();
        assert_eq!(r.pool_size, 2);
        assert!(
            r.rationale.iter().any(|s| s.contains("meets the SLO")),
            "{:?}",
            r.rationale
        );
        // With a looser SLO, 4 qualifies again.
        let r = recommend(
            &pts(&SWEEP),
            Some(&usl_with_peak(9.5)),
            Some(4.0),
            &ctx(Some(1_000)),
        )
        .unwrap();
        assert_eq!(r.pool_size, 4);
    }

    #[test]
    fn no_size_meeting_the_slo_gives_the_lowest_p99_with_low_confidence() {
        let r = recommend(
            &pts(&SWEEP),
            Some(&usl_with_peak(9.5)),
            Some(4.0),
            &ctx(Some(100)),
        )
        .unwrap();
        assert_eq!(r.pool_size, 1);
        assert_eq!(r.confidence, Confidence::Low);
    }

    #[test]
    fn never_beyond_the_fitted_peak() {
        // 16 and 32 are within 5 % of the best (32), but the peak is at 12.
        let rows = [
            (1, 5_000.0, 100),
            (2, 9_000.0, 100),
            (4, 15_000.0, 100),
            (8, 18_000.0, 100),
            (16, 19_500.0, 100),
            (32, 20_000.0, 100),
        ];
        let r = recommend(
            &pts(&rows),
            Some(&usl_with_peak(20.0)),
            Some(8.0),
            &ctx(None),
        )
        .unwrap();
        assert_eq!(r.pool_size, 16);
        let r = recommend(
            &pts(&rows),
            Some(&usl_with_peak(12.0)),
            Some(8.0),
            &ctx(None),
        )
        .unwrap();
        // Nothing in the band is ≤ 12: the band's smallest is kept, with the
        // disagreement stated.
        assert_eq!(r.pool_size, 16);
        assert_ne!(r.confidence, Confidence::High);
        assert!(
            r.rationale
                .iter()
                .any(|s| s.contains("beyond the fitted peak")),
            "{:?}",
            r.rationale
        );
    }

    #[test]
    fn the_band_is_five_percent() {
        let rows = [(1, 100.0, 1), (2, 94.9, 1), (3, 95.0, 1), (4, 50.0, 1)];
        let r = recommend(&pts(&rows), None, None, &ctx(None)).unwrap();
        assert_eq!(r.pool_size, 1);
        assert_eq!(r.range, [1, 3]);
        // No fit at all: low confidence.
        assert_eq!(r.confidence, Confidence::Low);
    }

    #[test]
    fn per_instance_share_and_doubts() {
        let c = Context {
            slo_p99_us: None,
            instances: 3,
            client_limited: true,
        };
        let r = recommend(&pts(&SWEEP), Some(&usl_with_peak(9.5)), Some(4.0), &c).unwrap();
        assert_eq!(r.per_instance, 2);
        assert_eq!(r.confidence, Confidence::Low);
        assert!(r.rationale.iter().any(|s| s.contains("load generator")));
    }

    #[test]
    fn nothing_measured_gives_nothing() {
        assert!(recommend(&[], None, None, &ctx(None)).is_none());
        assert!(recommend(&pts(&[(1, 0.0, 1)]), None, None, &ctx(None)).is_none());
    }

    #[test]
    fn rule_of_thumb_is_twice_the_cores() {
        let r = rule_of_thumb(8, "local");
        assert_eq!(r.pool_size, 16);
        assert_eq!(r.formula, "2 × 8 cores + 0 spindles");
    }
}
