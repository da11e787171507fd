//! The `bench-cache` report: a table for people (the simulated hit-ratio
//! curves, one row per live run, the tier latencies and model check, the
//! recommendation with its reasons), JSON (schema_version 1, docs/json.md)
//! for scripts.

use super::table::{fmt_ms, new_table};
use crate::bench::cache::report::{BenchCacheReport, RunReport};
use crate::bench::stats::hist::LatencySummary;
use std::io::Write;

pub fn write_json(out: &mut impl Write, report: &BenchCacheReport) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// Nanoseconds for humans: `420 ns`, `12.3 µs`, then as milliseconds.
pub fn fmt_ns(ns: Option<f64>) -> String {
    match ns {
        None => "-".to_string(),
        Some(v) if v < 1_000.0 => format!("{v:.0} ns"),
        Some(v) if v < 1_000_000.0 => format!("{:.1} µs", v / 1_000.0),
        Some(v) => fmt_ms(Some(v / 1e6)),
    }
}

fn pick(l: &Option<LatencySummary>, f: fn(&LatencySummary) -> u64) -> String {
    fmt_ns(l.as_ref().map(|s| f(s) as f64))
}

fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn ratio(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |r| format!("{r:.3}"))
}

fn run_label(r: &RunReport) -> String {
    match r.l1_capacity {
        Some(c) => format!("{} ({c})", r.strategy.name()),
        None => r.strategy.name().to_string(),
    }
}

pub fn write_table(out: &mut impl Write, r: &BenchCacheReport) -> std::io::Result<()> {
    if r.interrupted {
        writeln!(
            out,
            "INTERRUPTED: the report covers what was measured before Ctrl-C"
        )?;
    }
    let s = &r.source;
    write!(
        out,
        "bench-cache: {} — {} accesses",
        s.description, s.accesses
    )?;
    if let Some(seed) = s.seed {
        write!(out, " (seed {seed})")?;
    }
    if !s.files.is_empty() {
        write!(out, " from {}", s.files.join(", "))?;
    }
    writeln!(out)?;

    let sim = &r.simulation;
    writeln!(
        out,
        "\nSimulation: hit ratio by capacity ({} accesses, {} keys, {} seen; unbounded {:.3})",
        sim.result.accesses,
        sim.result.distinct_keys,
        sim.keys_seen,
        sim.result.unbounded_hit_ratio
    )?;
    let mut table = new_table();
    let mut header = vec!["capacity".to_string()];
    header.extend(
        sim.result
            .policies
            .iter()
            .map(|c| c.policy.name().to_string()),
    );
    header.push("belady".to_string());
    table.set_header(header);
    for (i, &capacity) in sim.result.capacities.iter().enumerate() {
        let mut row = vec![capacity.to_string()];
        for c in &sim.result.policies {
            row.push(ratio(c.points.get(i).map(|p| p.hit_ratio)));
        }
        row.push(ratio(sim.result.belady.get(i).map(|p| p.hit_ratio)));
        table.add_row(row);
    }
    let mut speed = vec!["accesses/s".to_string()];
    speed.extend(sim.result.policies.iter().map(|c| rate(c.accesses_per_s)));
    speed.push(rate(sim.belady_accesses_per_s));
    table.add_row(speed);
    let mut knees = vec!["knee".to_string()];
    knees.extend(
        sim.result
            .policies
            .iter()
            .map(|c| c.knee_capacity.map_or("-".to_string(), |k| k.to_string())),
    );
    knees.push("-".to_string());
    table.add_row(knees);
    writeln!(out, "{table}")?;

    if let Some(l) = &r.live {
        let c = &l.config;
        write!(
            out,
            "\nLive on {} (PostgreSQL {})",
            l.database, l.server_version
        )?;
        if let Some(redis) = &l.redis {
            write!(
                out,
                ", Redis {} (keys under {})",
                redis.url, redis.key_prefix
            )?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "{} clients × {} per run, write ratio {}, TTL {}, warm-up {} keys, L1 policy {}{}",
            c.clients,
            fmt_ms(Some(c.duration_ms as f64)),
            c.write_ratio,
            fmt_ms(Some(c.ttl_ms as f64)),
            c.warm_up,
            c.l1_policy.name(),
            match &l.scratch_schema {
                Some(s) if l.scratch_dropped => format!("; scratch schema {s} (dropped)"),
                Some(s) => format!("; scratch schema {s} (NOT dropped)"),
                None => String::new(),
            }
        )?;
        let mut table = new_table();
        table.set_header(vec![
            "strategy",
            "req/s",
            "hit ratio",
            "L1 hits",
            "L2 hits",
            "read p50",
            "read p99",
            "hit p50",
            "miss p50",
            "DB queries",
            "DB saved",
            "stale",
            "max stale",
        ]);
        for run in &l.runs {
            let hit_p50 = run
                .latency_ns
                .l1_hit
                .as_ref()
                .or(run.latency_ns.l2_hit.as_ref())
                .map(|s| s.p50 as f64);
            let mut label = run_label(run);
            if run.interrupted || run.error.is_some() {
                label.push_str(" (partial)");
            }
            table.add_row(vec![
                label,
                rate(run.throughput_per_s),
                format!("{:.3}", run.hit_ratio),
                ratio(run.l1.as_ref().map(|x| x.hit_ratio)),
                ratio(run.l2.as_ref().map(|x| x.hit_ratio)),
                pick(&run.latency_ns.read, |s| s.p50),
                pick(&run.latency_ns.read, |s| s.p99),
                fmt_ns(hit_p50),
                pick(&run.latency_ns.miss, |s| s.p50),
                run.db.queries.to_string(),
                format!("{:.1} %", run.db.load_saved_pct),
                run.stale_reads.to_string(),
                if run.stale_reads > 0 {
                    fmt_ms(Some(run.max_staleness_ms))
                } else {
                    "-".to_string()
                },
            ]);
        }
        writeln!(out, "{table}")?;
        let t = &l.tiers;
        writeln!(
            out,
            "Tier latencies (means over the runs): L1 hit {}, Redis hit {}, Redis GET {}, database read {}",
            fmt_ns(t.l1_hit_ns),
            fmt_ns(t.l2_hit_ns),
            fmt_ns(t.redis_get_ns),
            fmt_ns(t.db_read_ns),
        )?;
        writeln!(
            out,
            "Each run against the simulation of its own stream, and the model E[R] = h1·t1 + (1−h1)(h2·t2 + (1−h2)·t_db):"
        )?;
        for run in &l.runs {
            let mut line = format!("  {}:", run_label(run));
            if let (Some(live), Some(sim)) = (
                run.l1.as_ref().map(|x| x.hit_ratio),
                run.simulated.l1_hit_ratio,
            ) {
                line.push_str(&format!(
                    " L1 hit ratio live {live:.3}, simulated {sim:.3} ({:+.2} points{});",
                    (live - sim) * 100.0,
                    if run.comparable_with_simulation {
                        ""
                    } else {
                        ", not comparable: writes, expiry or failed reads"
                    }
                ));
            }
            if let Some(m) = &run.model {
                line.push_str(&format!(
                    " mean read predicted {}, measured {} ({:+.0} %)",
                    fmt_ns(Some(m.predicted_mean_ns)),
                    fmt_ns(Some(m.measured_mean_ns)),
                    m.error_pct
                ));
            }
            writeln!(out, "{line}")?;
            if let Some(e) = &run.error {
                writeln!(out, "    stopped: {e}")?;
            }
            if let Some(e) = &run.first_statement_error {
                writeln!(
                    out,
                    "    {} statement error(s), e.g. {e}",
                    run.db.read_errors + run.db.write_errors
                )?;
            }
        }
    }

    writeln!(out)?;
    match &r.recommendation {
        Some(rec) => {
            writeln!(
                out,
                "Recommendation ({}): {}{}, TTL {}, invalidate by {}{}",
                rec.basis,
                rec.strategy.name(),
                rec.l1_capacity
                    .map_or(String::new(), |c| format!(" with {c} L1 entries")),
                fmt_ms(Some(rec.ttl_ms as f64)),
                rec.invalidation,
                if rec.meets_targets {
                    ""
                } else {
                    " — does NOT meet the targets"
                }
            )?;
            for line in &rec.rationale {
                writeln!(out, "  - {line}")?;
            }
        }
        None => writeln!(out, "No recommendation: nothing was measured.")?,
    }
    for w in &r.warnings {
        writeln!(out, "warning: {w}")?;
    }
    for n in &r.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::cache::keys::{Distribution, KeyStream};
    use crate::bench::cache::live::l1::L1Policy;
    use crate::bench::cache::recommend::Targets;
    use crate::bench::cache::report::{ReportInput, SourceInfo, build_report};
    use crate::bench::cache::sim::{PolicyKind, default_capacities, simulate};

    fn simulated_only() -> BenchCacheReport {
        let dist = Distribution::Zipf { s: 1.0, keys: 1000 };
        let stream = KeyStream::synthetic(&dist, 20_000, 3);
        let simulation = simulate(&stream, &default_capacities(1000), &PolicyKind::ALL);
        build_report(ReportInput {
            source: SourceInfo {
                kind: "synthetic",
                distribution: "zipf:1".into(),
                description: dist.label(),
                keys: 1000,
                accesses: 20_000,
                seed: Some(3),
                files: Vec::new(),
                trace: None,
            },
            simulation,
            simulation_seconds: 1.0,
            keys_seen: stream.keys_seen(),
            live: None,
            targets: Targets {
                hit_ratio: 0.5,
                max_stale_read_ratio: 0.001,
                p99_ms: None,
            },
            ttl_ms: 60_000,
            write_ratio: 0.0,
            l1_policy: L1Policy::Lru,
            interrupted: false,
            warnings: Vec::new(),
            notes: Vec::new(),
        })
    }

    #[test]
    fn a_simulation_only_report_renders_as_table_and_json() {
        let report = simulated_only();
        let mut table = Vec::new();
        write_table(&mut table, &report).unwrap();
        let table = String::from_utf8(table).unwrap();
        for part in [
            "capacity",
            "lru",
            "tinylfu",
            "s3-fifo",
            "belady",
            "accesses/s",
            "knee",
            "Recommendation (simulation): l1 with",
        ] {
            assert!(table.contains(part), "{part} missing:\n{table}");
        }
        assert!(!table.contains("Live on"));
        let mut json = Vec::new();
        write_json(&mut json, &report).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(doc["command"], "bench-cache");
        assert!(doc["live"].is_null());
        assert_eq!(doc["simulation"]["capacities"].as_array().unwrap().len(), 8);
        assert_eq!(doc["recommendation"]["basis"], "simulation");
        assert_eq!(doc["simulation"]["policies"][2]["policy"], "s3-fifo");
    }

    #[test]
    fn the_plot_is_an_svg_with_every_line() {
        let svg = crate::render::bench_cache_plot::plot_svg(&simulated_only()).unwrap();
        assert!(svg.starts_with("<svg"));
        for label in ["lru", "tinylfu", "s3-fifo", "Bélády", "unbounded"] {
            assert!(svg.contains(label), "{label}");
        }
    }

    #[test]
    fn nanoseconds_read_well() {
        assert_eq!(fmt_ns(None), "-");
        assert_eq!(fmt_ns(Some(420.0)), "420 ns");
        assert_eq!(fmt_ns(Some(12_345.0)), "12.3 µs");
        assert_eq!(fmt_ns(Some(2_500_000.0)), "2.5 ms");
        assert_eq!(rate(12_345_678.0), "12.3 M");
    }
}
