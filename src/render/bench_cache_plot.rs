//! `bench-cache --plot FILE.svg`: simulated hit ratio against cache
//! capacity (log scale: the capacities are geometric), one line per policy,
//! Bélády's optimum as the bound and the unbounded cache as the ceiling,
//! with the live L1 runs as points and each policy's knee marked. Drawn
//! with plotters' SVG backend.

use crate::bench::cache::report::BenchCacheReport;
use anyhow::{Result, anyhow};
use plotters::prelude::*;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 600;
const POLICY_COLOURS: [RGBColor; 3] = [
    RGBColor(30, 90, 200),
    RGBColor(20, 140, 60),
    RGBColor(230, 130, 0),
];
const BELADY: RGBColor = RGBColor(200, 40, 40);
const CEILING: RGBColor = RGBColor(120, 120, 120);
const LIVE: RGBColor = RGBColor(0, 0, 0);

/// The SVG document, or why it could not be drawn.
pub fn plot_svg(report: &BenchCacheReport) -> Result<String> {
    let mut svg = String::new();
    draw(report, &mut svg).map_err(|e| anyhow!("cannot draw the plot: {e}"))?;
    Ok(svg)
}

fn draw(report: &BenchCacheReport, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let sim = &report.simulation.result;
    let max_c = sim.capacities.iter().copied().max().unwrap_or(1).max(2) as f64;
    let min_c = sim.capacities.iter().copied().min().unwrap_or(1).max(1) as f64;
    let x_range = (min_c * 0.8..max_c * 1.25).log_scale();

    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "pgadvisor bench-cache: {} ({} accesses)",
        report.source.description, sim.accesses
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, 0f64..1.02f64)?;
    chart
        .configure_mesh()
        .x_desc("cache capacity (entries)")
        .y_desc("hit ratio")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;

    for (curve, colour) in sim.policies.iter().zip(POLICY_COLOURS.iter().cycle()) {
        let points: Vec<(f64, f64)> = curve
            .points
            .iter()
            .map(|p| (f64::from(p.capacity), p.hit_ratio))
            .collect();
        let label = match curve.knee_capacity {
            Some(k) => format!("{} (knee {k})", curve.policy.name()),
            None => curve.policy.name().to_string(),
        };
        let colour = *colour;
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        if let Some(k) = curve.knee_capacity
            && let Some(p) = curve.points.iter().find(|p| p.capacity == k)
        {
            chart.draw_series(std::iter::once(Cross::new(
                (f64::from(k), p.hit_ratio),
                7,
                colour.stroke_width(2),
            )))?;
        }
    }
    let belady: Vec<(f64, f64)> = sim
        .belady
        .iter()
        .map(|p| (f64::from(p.capacity), p.hit_ratio))
        .collect();
    chart
        .draw_series(DashedLineSeries::new(belady, 6, 4, BELADY.stroke_width(2)))?
        .label("Bélády (optimal bound)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BELADY.stroke_width(2)));
    let u = sim.unbounded_hit_ratio;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(min_c * 0.8, u), (max_c * 1.25, u)],
            2,
            4,
            CEILING.stroke_width(1),
        ))?
        .label(format!("unbounded {u:.3}"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], CEILING.stroke_width(1)));
    let live: Vec<(f64, f64)> = report
        .live
        .iter()
        .flat_map(|l| l.runs.iter())
        .filter_map(|r| Some((r.l1_capacity? as f64, r.l1.as_ref()?.hit_ratio)))
        .collect();
    if !live.is_empty() {
        chart
            .draw_series(
                live.iter()
                    .map(|&p| TriangleMarker::new(p, 6, LIVE.filled())),
            )?
            .label("live L1 runs")
            .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, LIVE.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
