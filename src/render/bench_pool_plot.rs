//! `bench-pool --plot FILE.svg`: throughput (each step, and the USL fit
//! through them) above p99 latency (each step, and the SLO), both against
//! pool size on a log scale (the sweep's sizes are geometric), with the
//! recommendation and the knee marked. Drawn with plotters' SVG backend.

use crate::bench::pool::report::BenchPoolReport;
use anyhow::{Result, anyhow};
use plotters::prelude::*;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 760;
const FIT: RGBColor = RGBColor(200, 40, 40);
const POINTS: RGBColor = RGBColor(30, 90, 200);
const RECOMMENDED: RGBColor = RGBColor(20, 140, 60);
const KNEE: RGBColor = RGBColor(120, 120, 120);
const SLO: RGBColor = RGBColor(230, 130, 0);

/// The SVG document, or why it could not be drawn.
pub fn plot_svg(report: &BenchPoolReport) -> Result<String> {
    let mut svg = String::new();
    draw(report, &mut svg).map_err(|e| anyhow!("cannot draw the plot: {e}"))?;
    Ok(svg)
}

fn draw(report: &BenchPoolReport, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let steps = &report.steps;
    let max_n = steps.iter().map(|s| s.pool_size).max().unwrap_or(1).max(2) as f64;
    let x_range = (0.8f64..max_n * 1.25).log_scale();
    let rec = report
        .recommendation
        .as_ref()
        .map(|r| f64::from(r.pool_size));
    let knee = report.model.knee.as_ref().map(|k| k.n);
    let usl = report.model.usl;

    // The fit drawn on 200 log-spaced sizes.
    let curve: Vec<(f64, f64)> = usl
        .map(|f| {
            let (lo, hi) = (0.8f64.ln(), (max_n * 1.25).ln());
            (0..=200)
                .map(|i| {
                    let n = (lo + (hi - lo) * f64::from(i) / 200.0).exp();
                    (n, f.predict(n))
                })
                .collect()
        })
        .unwrap_or_default();
    let max_tps = steps
        .iter()
        .map(|s| s.tps)
        .chain(curve.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.15;
    let p99: Vec<(f64, f64)> = steps
        .iter()
        .filter_map(|s| {
            s.latency_us
                .map(|l| (f64::from(s.pool_size), l.p99 as f64 / 1000.0))
        })
        .collect();
    let slo = report.config.slo_p99_ms;
    // Headroom for the legend above the highest point.
    let max_ms = p99.iter().map(|p| p.1).chain(slo).fold(0.1, f64::max) * 1.35;

    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(HEIGHT / 2 + 20);
    let x_labels = |v: &f64| format!("{v:.0}");

    let title = format!(
        "pgadvisor bench-pool: {} {} ({} loop)",
        report.workload.kind, report.workload.name, report.config.mode
    );
    let mut chart = ChartBuilder::on(&top)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range.clone(), 0f64..max_tps)?;
    chart
        .configure_mesh()
        .x_desc("pool size")
        .y_desc("throughput (tps)")
        .x_label_formatter(&x_labels)
        // The log axis' minor lines crowd together into a grey band.
        .light_line_style(TRANSPARENT)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    chart
        .draw_series(
            steps
                .iter()
                .map(|s| Circle::new((f64::from(s.pool_size), s.tps), 4, POINTS.filled())),
        )?
        .label("measured (each step)")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, POINTS.filled()));
    if let Some(f) = usl {
        let label = match f.n_peak {
            Some(n) => format!(
                "USL fit σ={:.3} κ={:.5} R²={:.3}, peak N*≈{n:.1}",
                f.sigma, f.kappa, f.r2
            ),
            None => format!("USL fit σ={:.3} κ=0 R²={:.3}", f.sigma, f.r2),
        };
        chart
            .draw_series(LineSeries::new(curve, FIT.stroke_width(2)))?
            .label(label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], FIT.stroke_width(2)));
    }
    if let Some(n) = rec {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(n, 0.0), (n, max_tps)],
                6,
                4,
                RECOMMENDED.stroke_width(2),
            ))?
            .label(format!("recommended: {n:.0}"))
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], RECOMMENDED.stroke_width(2))
            });
    }
    if let Some(k) = knee {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(k, 0.0), (k, max_tps)],
                2,
                4,
                KNEE.stroke_width(1),
            ))?
            .label(format!("knee (Kneedle): {k:.0}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], KNEE.stroke_width(1)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;

    let mut chart = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, 0f64..max_ms)?;
    chart
        .configure_mesh()
        .x_desc("pool size")
        .y_desc("p99 latency (ms)")
        .x_label_formatter(&x_labels)
        // The log axis' minor lines crowd together into a grey band.
        .light_line_style(TRANSPARENT)
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;
    chart
        .draw_series(
            p99.iter()
                .map(|&(n, ms)| TriangleMarker::new((n, ms), 6, POINTS.filled())),
        )?
        .label("p99, end to end (each step)")
        .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, POINTS.filled()));
    if let Some(ms) = slo {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.8, ms), (max_n * 1.25, ms)],
                6,
                4,
                SLO.stroke_width(2),
            ))?
            .label(format!("SLO p99 ≤ {ms:.1} ms"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], SLO.stroke_width(2)));
    }
    if let Some(n) = rec {
        chart.draw_series(DashedLineSeries::new(
            vec![(n, 0.0), (n, max_ms)],
            6,
            4,
            RECOMMENDED.stroke_width(2),
        ))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
