//! The `bench-pool` report: a table for people (one row per step, sorted by
//! pool size, then the model, the recommendation beside the rule of thumb,
//! warnings), JSON (schema_version 1, docs/json.md) for scripts.

use super::table::{fmt_ms, new_table};
use crate::bench::pool::report::{BenchPoolReport, StepReport};
use crate::bench::stats::hist::LatencySummary;
use std::io::Write;

pub fn write_json(out: &mut impl Write, report: &BenchPoolReport) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

fn us(v: Option<u64>) -> String {
    fmt_ms(v.map(|us| us as f64 / 1000.0))
}

fn pick(l: &Option<LatencySummary>, f: fn(&LatencySummary) -> u64) -> String {
    us(l.as_ref().map(f))
}

fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn tps_cell(tps: f64, ci: Option<f64>) -> String {
    match ci {
        Some(h) => format!("{} ± {}", thousands(tps), thousands(h)),
        None => thousands(tps),
    }
}

/// The two most sampled states of the pool's sessions (`idle`: waiting
/// for the client; `CPU`: running).
fn top_wait(s: &StepReport) -> String {
    let top: Vec<String> =
        s.db.wait_events
            .iter()
            .take(2)
            .map(|w| format!("{} {:.0} %", w.event, w.share * 100.0))
            .collect();
    if top.is_empty() {
        "-".to_string()
    } else {
        top.join(", ")
    }
}

pub fn write_table(out: &mut impl Write, r: &BenchPoolReport) -> std::io::Result<()> {
    let t = &r.target;
    writeln!(
        out,
        "bench-pool on {} — PostgreSQL {}, {}{}, round trip {}",
        t.database,
        t.server_version,
        t.transport,
        if t.local { " (same machine)" } else { "" },
        us(Some(t.rtt_us))
    )?;
    let w = &r.workload;
    let mut what = format!("workload: {} {}", w.kind, w.name);
    if let Some(scale) = w.scale {
        what.push_str(&format!(", scale {scale}"));
    }
    if let Some(schema) = &w.scratch_schema {
        what.push_str(&format!(" (scratch schema {schema}, dropped)"));
    }
    what.push_str(&format!(
        ", {} statement(s){}",
        w.statements,
        if w.writes { ", writes" } else { ", read-only" }
    ));
    writeln!(out, "{what}")?;
    if let Some(rs) = &w.replay {
        writeln!(
            out,
            "replay: {} fingerprint(s), {} sample(s), {:.0} % of the calls; {} left out",
            rs.fingerprints,
            rs.samples,
            rs.calls_covered * 100.0,
            rs.skipped.len() + rs.beyond_limit
        )?;
    }
    let c = &r.config;
    let mut how = format!(
        "load: {} loop, {} client tasks, {} per step, {} repeat(s), warm-up {}",
        c.mode,
        c.clients,
        fmt_ms(Some(c.duration_ms as f64)),
        c.repeats,
        fmt_ms(Some(c.warmup_ms as f64)),
    );
    if let Some(rate) = c.rate {
        how.push_str(&format!(", {} requests/s due", thousands(rate)));
    }
    if let Some(slo) = c.slo_p99_ms {
        how.push_str(&format!(", SLO p99 ≤ {}", fmt_ms(Some(slo))));
    }
    writeln!(out, "{how}")?;
    writeln!(
        out,
        "connection cap: {} ({})",
        t.connection_cap, t.connection_cap_reason
    )?;
    if r.interrupted {
        writeln!(out, "INTERRUPTED: only the steps below were measured")?;
    }
    writeln!(out)?;
    if r.steps.is_empty() {
        writeln!(out, "no step was measured")?;
    } else {
        let open = c.mode == "open";
        let mut table = new_table();
        let mut header = vec![
            "size",
            "rep",
            "tps ± 95 %",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "wait p99",
            "query p99",
        ];
        if open {
            header.push("lag p99");
            header.push("unsent");
        }
        header.extend([
            "err",
            "t/o",
            "commits/s",
            "sessions (sampled)",
            "client CPU",
        ]);
        table.set_header(header);
        for s in &r.steps {
            let mut row = vec![
                s.pool_size.to_string(),
                s.repeat.to_string(),
                tps_cell(s.tps, s.tps_ci95.map(|c| c.half_width)),
                pick(&s.latency_us, |l| l.p50),
                pick(&s.latency_us, |l| l.p90),
                pick(&s.latency_us, |l| l.p99),
                pick(&s.latency_us, |l| l.p999),
                pick(&s.latency_us, |l| l.max),
                pick(&s.pool_wait_us, |l| l.p99),
                pick(&s.query_us, |l| l.p99),
            ];
            if open {
                row.push(pick(&s.schedule_lag_us, |l| l.p99));
                row.push(s.unsent.to_string());
            }
            row.extend([
                s.errors.to_string(),
                s.timeouts.to_string(),
                thousands(s.db.commits_per_s),
                top_wait(s),
                format!("{:.2} cores", s.client_cpu.cores_used),
            ]);
            table.add_row(row);
        }
        writeln!(out, "{table}")?;
        if c.repeats > 1 {
            let mut sizes = new_table();
            sizes.set_header(vec![
                "size",
                "repeats",
                "tps ± 95 %",
                "p50",
                "p99",
                "p99.9",
                "err rate",
            ]);
            for s in &r.sizes {
                sizes.add_row(vec![
                    s.pool_size.to_string(),
                    s.repeats.to_string(),
                    tps_cell(s.tps, s.tps_ci95.map(|c| c.half_width)),
                    pick(&s.latency_us, |l| l.p50),
                    pick(&s.latency_us, |l| l.p99),
                    pick(&s.latency_us, |l| l.p999),
                    format!("{:.2} %", s.error_rate * 100.0),
                ]);
            }
            writeln!(out, "per size, all repeats:\n{sizes}")?;
        }
        for s in r.steps.iter().filter(|s| !s.error_samples.is_empty()) {
            writeln!(
                out,
                "errors at pool size {} (repeat {}): {}",
                s.pool_size,
                s.repeat,
                s.error_samples.join(" | ")
            )?;
        }
    }
    writeln!(out)?;
    match &r.model.usl {
        Some(f) => {
            write!(
                out,
                "USL fit: σ = {:.4}, κ = {:.6}, λ = {} tps, R² = {:.3}",
                f.sigma,
                f.kappa,
                thousands(f.lambda),
                f.r2
            )?;
            match (f.n_peak, f.x_peak) {
                (Some(n), Some(x)) => writeln!(out, ", peak N* ≈ {n:.1} ({} tps)", thousands(x))?,
                _ => writeln!(out, ", no peak (κ = 0)")?,
            }
        }
        None => writeln!(out, "USL fit: none (fewer than three pool sizes)")?,
    }
    match &r.model.knee {
        Some(k) => writeln!(
            out,
            "knee (Kneedle, S = {}): pool size {}",
            k.sensitivity, k.n
        )?,
        None => writeln!(out, "knee (Kneedle): none found")?,
    }
    writeln!(out)?;
    match &r.recommendation {
        Some(rec) => {
            write!(
                out,
                "recommended pool size: {} (as good: {}–{}), confidence {}",
                rec.pool_size,
                rec.range[0],
                rec.range[1],
                rec.confidence.as_str()
            )?;
            if rec.instances > 1 {
                write!(
                    out,
                    "; {} per instance for {} instances",
                    rec.per_instance, rec.instances
                )?;
            }
            writeln!(out)?;
            for line in &rec.rationale {
                writeln!(out, "  - {line}")?;
            }
        }
        None => writeln!(out, "no recommendation: nothing completed")?,
    }
    let h = &r.heuristics;
    writeln!(
        out,
        "rule of thumb: {} = {} ({})",
        h.rule_of_thumb.formula,
        h.rule_of_thumb.pool_size,
        match h.rule_of_thumb.cores_source {
            "local" => "the server's cores: it runs on this machine",
            "given" => "the server's cores as given by --server-cores",
            _ => "this machine's cores: the server's are unknown",
        }
    )?;
    writeln!(
        out,
        "library defaults: {}",
        h.library_defaults
            .iter()
            .map(|d| format!("{} {}", d.library, d.pool_size))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if !r.warnings.is_empty() {
        writeln!(out, "\nwarnings:")?;
        for w in &r.warnings {
            writeln!(out, "  - {w}")?;
        }
    }
    if !r.notes.is_empty() {
        writeln!(out, "\nnotes:")?;
        for n in &r.notes {
            writeln!(out, "  - {n}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1234.0), "1,234");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(-4321.0), "-4,321");
    }
}
