//! `bench-cache`: the simulation runs on a log with no server and no
//! policy beats Bélády; live runs of every strategy against the real
//! server and the real Redis report tier hit ratios that add up as their
//! definitions say, with fewer database queries when caching; writes
//! invalidate, move the scratch rows' versions and count stale reads;
//! a workload trace runs its logged reads in READ ONLY transactions; no
//! Redis key under the run's prefix and no scratch schema is left, also
//! after Ctrl-C; an unreachable Redis is a clear error, and a database
//! that goes away mid-run an error after the partial report; --plot writes
//! an SVG; usage errors exit 2.

use crate::util::{
    TestDb, drain_into, exec, interrupt, json_of, log_fixture, poll, query_i64, read_until, run,
    spawn_capturing, stderr, temp_file, u,
};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::time::Duration;

const SCRATCH_LEFT: &str =
    "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pgadvisor\\_cache\\_%'";

fn redis_url() -> String {
    std::env::var("PGADVISOR_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Keys matching `pattern` on the test Redis (SCAN, as the tool cleans up).
fn redis_keys(pattern: &str) -> u64 {
    let url = redis_url();
    let client = redis::Client::open(url.as_str()).expect("Redis URL");
    let mut conn = client.get_connection().unwrap_or_else(|e| {
        panic!("cannot reach the test Redis at {url} (scripts/setup-services.sh starts it): {e}")
    });
    let mut cursor: u64 = 0;
    let mut n = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)
            .expect("SCAN");
        n += keys.len() as u64;
        if next == 0 {
            return n;
        }
        cursor = next;
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Every policy at every capacity is at most Bélády, which is at most the
/// unbounded cache.
fn assert_no_policy_beats_belady(doc: &Value) {
    let sim = &doc["simulation"];
    let belady: Vec<f64> = sim["belady"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| f(&p["hit_ratio"]))
        .collect();
    let unbounded = f(&sim["unbounded_hit_ratio"]);
    let policies = sim["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 3, "{sim}");
    for curve in policies {
        let points = curve["points"].as_array().unwrap();
        assert_eq!(points.len(), belady.len());
        for (p, b) in points.iter().zip(&belady) {
            assert!(
                f(&p["hit_ratio"]) <= b + 1e-9,
                "{} beat Bélády: {p} > {b}",
                curve["policy"]
            );
        }
        assert!(f(&curve["accesses_per_s"]) > 0.0);
    }
    for b in &belady {
        assert!(*b <= unbounded + 1e-9, "{b} > {unbounded}");
    }
}

#[test]
fn the_simulation_runs_on_a_log_without_any_server_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("hit-ratio.svg");
    let log = log_fixture("stderr-debian.log");
    let out = run(&[
        "bench-cache",
        &log,
        "--format",
        "json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["command"], "bench-cache");
    assert_eq!(doc["source"]["kind"], "trace");
    assert!(doc["live"].is_null());
    assert!(u(&doc["simulation"]["accesses"]) > 50);
    assert_no_policy_beats_belady(&doc);
    assert_eq!(doc["recommendation"]["basis"], "simulation");
    let svg = std::fs::read_to_string(&plot).expect("the plot is written");
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    for label in ["lru", "tinylfu", "s3-fifo", "Bélády"] {
        assert!(svg.contains(label), "{label} missing from the plot");
    }

    // A synthetic stream too, in the table format.
    let out = run(&[
        "bench-cache",
        "--dist",
        "zipf:0.9",
        "--keys",
        "2000",
        "--accesses",
        "50000",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("belady") && table.contains("Recommendation (simulation)"),
        "{table}"
    );
    let out = run(&[
        "bench-cache",
        "--dist",
        "uniform",
        "--keys",
        "500",
        "--accesses",
        "20000",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_no_policy_beats_belady(&json_of(&out));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["bench-cache", "--strategies", "l3"][..],
        &["bench-cache", "--dist", "pareto"][..],
        &["bench-cache", "--dist", "trace"][..],
        &["bench-cache", "--write-ratio", "1.5"][..],
        &["bench-cache", "--l1-capacity", "0"][..],
        &["bench-cache", "--ttl", "2000years"][..],
        &[
            "bench-cache",
            "-d",
            "postgres://x@127.0.0.1:1/x",
            "--strategies",
            "none,l2",
        ][..],
        &["bench-cache", "--redis", "redis://127.0.0.1:6379"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

/// The runs of a live bench, by strategy name.
fn runs(doc: &Value) -> Vec<&Value> {
    doc["live"]["runs"]
        .as_array()
        .expect("live runs")
        .iter()
        .collect()
}

#[test]
fn live_runs_of_every_strategy_add_up_and_clean_up() {
    let db = TestDb::new();
    exec(&db, "CREATE EXTENSION pg_stat_statements");
    let redis = redis_url();
    let out = run(&[
        "bench-cache",
        "-d",
        &db.url,
        "--redis",
        &redis,
        "--format",
        "json",
        "--keys",
        "2000",
        "--accesses",
        "100000",
        "--dist",
        "zipf:1.0",
        "--clients",
        "2",
        "--duration",
        "1s",
        "--l1-capacity",
        "200",
        "--warm-up",
        "50",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["interrupted"], false);
    let live = &doc["live"];
    assert_eq!(live["pg_stat_statements"], true);
    assert_eq!(live["scratch_dropped"], true);
    let runs = runs(&doc);
    let names: Vec<&str> = runs
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["none", "l1", "l2", "l1+l2"]);
    let db_share = |r: &Value| f(&r["db"]["reads"]) / f(&r["reads"]);
    for r in &runs {
        let reads = u(&r["reads"]);
        assert!(reads > 100, "{r}");
        assert!(r["error"].is_null(), "{r}");
        let l1_hits = r["l1"]["hits"].as_u64().unwrap_or(0);
        let l2_hits = r["l2"]["hits"].as_u64().unwrap_or(0);
        let db_reads = u(&r["db"]["reads"]);
        // Every read is answered by exactly one tier.
        assert_eq!(l1_hits + l2_hits + db_reads, reads, "{r}");
        assert!(l1_hits + l2_hits <= reads);
        assert!((f(&r["hit_ratio"]) - (l1_hits + l2_hits) as f64 / reads as f64).abs() < 1e-6);
        assert_eq!(
            u(&r["db"]["queries"]),
            db_reads,
            "no writes, no errors: {r}"
        );
        let read = &r["latency_ns"]["read"];
        assert_eq!(u(&read["count"]), reads);
        assert!(u(&read["p50"]) <= u(&read["p99"]));
        assert_eq!(r["stale_reads"], 0, "nothing is written: {r}");
        // The scratch read, as pg_stat_statements counted it.
        assert_eq!(
            u(&r["db"]["pg_stat_statements"]["read_calls"]),
            db_reads,
            "{r}"
        );
    }
    let (none, l1, l2, both) = (runs[0], runs[1], runs[2], runs[3]);
    assert_eq!(f(&none["hit_ratio"]), 0.0);
    assert!(none["l1"].is_null() && none["l2"].is_null());
    assert_eq!(u(&none["db"]["warm_up_queries"]), 0);
    assert!(l1["l2"].is_null() && l2["l1"].is_null());
    assert_eq!(u(&l1["l1_capacity"]), 200);
    assert!(u(&l1["l1"]["entries"]) <= 200, "{l1}");
    assert!(u(&l1["latency_ns"]["l1_hit"]["p50"]) > 0);
    assert!(u(&l2["l2"]["keys"]) > 0, "{l2}");
    assert!(u(&both["db"]["warm_up_queries"]) > 0);
    assert!(
        u(&both["l1"]["hits"]) > 0 && u(&both["l2"]["hits"]) > 0,
        "{both}"
    );
    for cached in [l1, l2, both] {
        assert!(db_share(cached) < db_share(none), "{cached}");
        assert!(f(&cached["db"]["load_saved_pct"]) > 10.0, "{cached}");
    }
    // The live LRU is held against the simulated LRU on the same stream.
    for r in [l1, both] {
        assert_eq!(r["comparable_with_simulation"], true);
        let diff = f(&r["l1_vs_simulated_points"]);
        assert!(
            diff.abs() < 3.0,
            "live vs simulated LRU: {diff} points; {r}"
        );
        assert!(r["model"]["predicted_mean_ns"].as_f64().is_some(), "{r}");
    }
    assert!(doc["recommendation"]["strategy"].is_string());
    assert_eq!(doc["recommendation"]["basis"], "live");
    // Nothing left behind.
    let prefix = live["redis"]["key_prefix"].as_str().unwrap();
    assert!(prefix.starts_with("pgadvisor:bench:"));
    assert_eq!(u(&live["redis"]["keys_left"]), 0);
    assert_eq!(redis_keys(&format!("{prefix}*")), 0);
    assert_eq!(query_i64(&db, SCRATCH_LEFT), 0);
}

#[test]
fn writes_invalidate_move_versions_and_count_stale_reads() {
    let db = TestDb::new();
    exec(&db, "CREATE EXTENSION pg_stat_statements");
    let redis = redis_url();
    let (mut child, reader) = spawn_capturing(&[
        "bench-cache",
        "-d",
        &db.url,
        "--redis",
        &redis,
        "--format",
        "json",
        "--keys",
        "500",
        "--accesses",
        "50000",
        "--clients",
        "4",
        "--duration",
        "1s",
        "--strategies",
        "none,l1,l1+l2",
        "--l1-capacity",
        "100",
        "--write-ratio",
        "0.2",
    ]);
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = read_until(&mut lines, "run 1/3:");
    let schema = log
        .lines()
        .find_map(|l| l.split("creating the scratch schema ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no scratch schema named: {log}"))
        .to_string();
    // Mid-run: the writes are committed in the scratch rows (three runs of
    // a second each leave time to see them on a busy machine).
    let versions = format!("SELECT max(version) FROM \"{schema}\".items");
    assert!(
        poll(|| query_i64(&db, &versions) > 1),
        "the scratch rows' versions did not move"
    );
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert!(status.success(), "{log}{}", rest.join("\n"));
    let doc: Value = serde_json::from_str(&out).expect("JSON");
    for r in runs(&doc) {
        let writes = u(&r["writes"]);
        assert!(writes > 10, "{r}");
        assert_eq!(u(&r["db"]["queries"]), u(&r["db"]["reads"]) + writes);
        assert_eq!(
            u(&r["db"]["pg_stat_statements"]["write_calls"]),
            writes,
            "{r}"
        );
        let stale = u(&r["stale_reads"]);
        let ratio = f(&r["stale_read_ratio"]);
        assert!((0.0..=1.0).contains(&ratio));
        assert!(stale <= u(&r["reads"]));
        if r["strategy"] == "none" {
            // Nothing cached: nothing to invalidate, nothing stale.
            assert_eq!(u(&r["invalidations"]), 0);
            assert_eq!(stale, 0);
        } else {
            assert_eq!(u(&r["invalidations"]), writes, "{r}");
            assert_eq!(r["comparable_with_simulation"], false);
            if stale > 0 {
                assert!(f(&r["max_staleness_ms"]) > 0.0, "{r}");
            }
        }
    }
    assert_eq!(query_i64(&db, SCRATCH_LEFT), 0);
    let prefix = doc["live"]["redis"]["key_prefix"].as_str().unwrap();
    assert_eq!(redis_keys(&format!("{prefix}*")), 0);
}

#[test]
fn a_workload_trace_runs_its_logged_reads_read_only() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE items (id int PRIMARY KEY, name text);
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g;
         CREATE SEQUENCE tick;",
    );
    // Hot keys 1..5 often, the rest once in a while, and a read that
    // would write if it could (nextval).
    let mut sql = String::new();
    for i in 0..300 {
        let id = if i % 3 == 0 { 6 + i % 40 } else { 1 + i % 5 };
        sql.push_str(&format!("SELECT name FROM items WHERE id = {id};\n"));
        if i % 50 == 0 {
            sql.push_str("SELECT nextval('tick');\n");
        }
    }
    let workload = temp_file(".sql", &sql);
    let out = run(&[
        "bench-cache",
        workload.path().to_str().unwrap(),
        "-d",
        &db.url,
        "--format",
        "json",
        "--clients",
        "2",
        "--duration",
        "1s",
        "--l1-capacity",
        "10",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["source"]["kind"], "trace");
    assert!(
        doc["live"]["scratch_schema"].is_null(),
        "no writes, no scratch schema"
    );
    let runs = runs(&doc);
    let (none, l1) = (runs[0], runs[1]);
    // nextval() is refused by the READ ONLY transaction.
    assert!(u(&none["db"]["read_errors"]) > 0, "{none}");
    let error = none["first_statement_error"].as_str().unwrap_or_default();
    assert!(error.contains("read-only transaction"), "{error}");
    assert_eq!(
        query_i64(
            &db,
            "SELECT CASE WHEN is_called THEN 1 ELSE 0 END::bigint FROM tick"
        ),
        0
    );
    assert!(u(&l1["l1"]["hits"]) > 0);
    assert!(db_reads_per_read(l1) < db_reads_per_read(none));

    // A log with bind parameters: each key runs with its logged values,
    // their types left to the server as for literals.
    let mut log = String::new();
    for (i, id) in [1, 2, 1, 3, 1, 2].iter().enumerate() {
        log.push_str(&format!(
            "2026-11-28 06:11:27.{i:03} UTC [2998] app@shop LOG:  duration: 0.092 ms  execute <unnamed>: SELECT name FROM items WHERE id = $1 AND name LIKE $2\n\
             2026-11-28 06:11:27.{i:03} UTC [2998] app@shop DETAIL:  parameters: $1 = '{id}', $2 = 'item%'\n"
        ));
    }
    let log_file = temp_file(".log", &log);
    let out = run(&[
        "bench-cache",
        log_file.path().to_str().unwrap(),
        "-d",
        &db.url,
        "--format",
        "json",
        "--strategies",
        "none",
        "--clients",
        "1",
        "--duration",
        "1s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(u(&doc["source"]["trace"]["distinct_keys"]), 3);
    assert_eq!(u(&doc["source"]["trace"]["runnable_keys"]), 3);
    let none = &doc["live"]["runs"][0];
    assert!(u(&none["reads"]) > 0, "{none}");
    assert_eq!(u(&none["db"]["read_errors"]), 0, "{none}");
}

fn db_reads_per_read(r: &Value) -> f64 {
    f(&r["db"]["reads"]) / f(&r["reads"])
}

#[test]
fn ctrl_c_mid_run_removes_the_redis_keys_and_the_schema() {
    let db = TestDb::new();
    let redis = redis_url();
    let (mut child, reader) = spawn_capturing(&[
        "bench-cache",
        "-d",
        &db.url,
        "--redis",
        &redis,
        "--format",
        "json",
        "--keys",
        "5000",
        "--accesses",
        "50000",
        "--clients",
        "2",
        "--duration",
        "20s",
        "--strategies",
        "l2",
    ]);
    let pattern = format!("pgadvisor:bench:{}:*", child.id());
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = read_until(&mut lines, "run 1/1:");
    assert!(
        poll(|| redis_keys(&pattern) > 0),
        "Redis holds the run's keys mid-run: {log}"
    );
    assert_eq!(query_i64(&db, SCRATCH_LEFT), 1, "{log}");
    interrupt(&child);
    drain_into(lines, &mut log);
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{log}\n{out}");
    let doc: Value = serde_json::from_str(&out).expect("partial JSON report");
    assert_eq!(doc["interrupted"], true);
    let runs = runs(&doc);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["interrupted"], true);
    assert!(u(&runs[0]["reads"]) > 0);
    assert_eq!(redis_keys(&pattern), 0, "keys left after Ctrl-C: {log}");
    assert_eq!(
        query_i64(&db, SCRATCH_LEFT),
        0,
        "schema left after Ctrl-C: {log}"
    );
}

#[test]
fn an_unreachable_redis_is_a_clear_error_without_its_password() {
    let db = TestDb::new();
    let out = run(&[
        "bench-cache",
        "-d",
        &db.url,
        "--redis",
        "redis://:hunter2@127.0.0.1:1/0",
        "--keys",
        "100",
        "--accesses",
        "1000",
        "--duration",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot connect to Redis at redis://127.0.0.1:1/0"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert_eq!(query_i64(&db, SCRATCH_LEFT), 0);
}

#[test]
fn a_database_that_goes_away_mid_run_is_a_clear_error_with_the_partial_results() {
    let db = TestDb::new();
    let (mut child, reader) = spawn_capturing(&[
        "bench-cache",
        "-d",
        &db.url,
        "--format",
        "json",
        "--keys",
        "5000",
        "--accesses",
        "50000",
        "--clients",
        "2",
        "--duration",
        "20s",
        "--strategies",
        "none",
    ]);
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = read_until(&mut lines, "run 1/1:");
    // Let it read for a while, then end every session it holds here.
    std::thread::sleep(Duration::from_millis(500));
    let ended = query_i64(
        &db,
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name
        ),
    );
    assert!(ended > 0, "no session of the run to end: {log}");
    drain_into(lines, &mut log);
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert_eq!(status.code(), Some(1), "{log}\n{out}");
    assert!(log.contains("error:") && log.contains(&db.name), "{log}");
    let doc: Value = serde_json::from_str(&out).expect("the partial report is printed");
    assert_eq!(runs(&doc).len(), 1, "{out}");
    assert!(u(&runs(&doc)[0]["reads"]) > 0, "{out}");
    // The database is still there: the scratch schema is dropped on a new session.
    assert!(
        poll(|| query_i64(&db, SCRATCH_LEFT) == 0),
        "schema left: {log}"
    );
}
