//! `bench-pool` against the real server: a sweep reports one step per size
//! and repeat with sane numbers, a fit and a recommendation, and an SVG
//! plot; the scratch schema is gone afterwards, also after Ctrl-C (which
//! prints the steps so far and exits 130); pool sizes above the connection
//! cap are clipped; scripts with \set run with bind parameters; a workload
//! replay refuses writes without --allow-writes and runs them with it; an
//! open loop counts latency from when each request was due;
//! --client-threads sets the load threads, at most one per connection; a
//! client whose thread's share of the pool is busy borrows a free one.

use crate::util::{
    TestDb, admin_client, block_on, drain_into, exec, interrupt, json_of, poll, query_i64,
    read_until, run, spawn_capturing, stderr, temp_file, u,
};
use std::io::{BufRead, BufReader};

const SCRATCH_LEFT: &str =
    "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pgadvisor\\_bench\\_%'";

fn bench(db: &TestDb, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "bench-pool",
        "-d",
        &db.url,
        "--format",
        "json",
        "--seed",
        "7",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn sweep_reports_every_step_recommends_plots_and_drops_its_schema() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("pool.svg");
    let out = bench(
        &db,
        &[
            "--sizes",
            "1,2,4",
            "--repeats",
            "2",
            "--clients",
            "8",
            "--duration",
            "1s",
            "--warmup",
            "200ms",
            "--slo-p99",
            "1s",
            "--plot",
            plot.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["command"], "bench-pool");
    assert_eq!(doc["interrupted"], false);
    assert_eq!(doc["workload"]["kind"], "builtin");
    assert_eq!(doc["workload"]["name"], "select-only");
    let schema = doc["workload"]["scratch_schema"].as_str().unwrap();
    assert!(schema.starts_with("pgadvisor_bench_"), "{schema}");

    assert!(doc["config"]["client_threads"].is_null());
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 6, "one step per size × repeat");
    let mut pairs: Vec<(u64, u64)> = steps
        .iter()
        .map(|s| (u(&s["pool_size"]), u(&s["repeat"])))
        .collect();
    pairs.sort();
    assert_eq!(pairs, vec![(1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (4, 2)]);
    let mut orders: Vec<u64> = steps.iter().map(|s| u(&s["order"])).collect();
    orders.sort();
    assert_eq!(orders, (1..=6).collect::<Vec<_>>());
    for s in steps {
        let tps = s["tps"].as_f64().unwrap();
        assert!(tps > 50.0, "{s}");
        assert_eq!(u(&s["errors"]), 0, "{s}");
        assert_eq!(u(&s["timeouts"]), 0, "{s}");
        assert_eq!(u(&s["clients"]), 8);
        // By default a pool of fewer than 4 connections per core gets one
        // load thread per connection, a larger one a thread per core.
        let (size, cores) = (u(&s["pool_size"]), u(&doc["config"]["client_cores"]));
        let threads = if size < 4 * cores { size } else { cores };
        assert_eq!(u(&s["threads"]), threads, "{s}");
        let l = &s["latency_us"];
        assert!(u(&l["p50"]) <= u(&l["p90"]) && u(&l["p90"]) <= u(&l["p99"]));
        assert!(u(&l["p99"]) <= u(&l["p999"]) && u(&l["p999"]) <= u(&l["max"]));
        assert!(u(&l["p50"]) > 0);
        // End to end covers both parts.
        assert!(u(&l["max"]) >= u(&s["query_us"]["p50"]));
        assert!(s["pool_wait_us"]["p50"].is_u64());
        let ci = &s["tps_ci95"];
        assert!(ci["low"].as_f64().unwrap() <= tps && tps <= ci["high"].as_f64().unwrap() + 1.0);
        assert_eq!(u(&ci["batches"]), 10);
        // The server saw the transactions (commits include the sampler's).
        assert!(
            s["db"]["commits"].as_i64().unwrap() as f64 >= 0.8 * u(&s["transactions"]) as f64,
            "{s}"
        );
        assert!(u(&s["db"]["samples"]) >= 5, "{s}");
        assert!(
            !s["db"]["wait_events"].as_array().unwrap().is_empty(),
            "{s}"
        );
        assert!(s["client_cpu"]["cores_used"].as_f64().unwrap() > 0.0);
        assert!(s["littles_law_ratio"].as_f64().unwrap() > 0.5, "{s}");
    }
    let sizes = doc["sizes"].as_array().unwrap();
    assert_eq!(sizes.len(), 3);
    assert!(
        sizes
            .iter()
            .all(|s| u(&s["repeats"]) == 2 && s["meets_slo"] == true)
    );
    let usl = &doc["model"]["usl"];
    assert!(
        usl["sigma"].as_f64().unwrap() >= 0.0 && usl["kappa"].as_f64().unwrap() >= 0.0,
        "{usl}"
    );
    assert!(usl["lambda"].as_f64().unwrap() > 0.0);
    assert_eq!(u(&usl["points"]), 6);
    let rec = &doc["recommendation"];
    assert!([1, 2, 4].contains(&u(&rec["pool_size"])), "{rec}");
    assert!(["high", "medium", "low"].contains(&rec["confidence"].as_str().unwrap()));
    assert!(!rec["rationale"].as_array().unwrap().is_empty());
    let rule = &doc["heuristics"]["rule_of_thumb"];
    assert_eq!(rule["cores_source"], "local");
    assert_eq!(u(&rule["pool_size"]), 2 * u(&rule["cores"]));
    assert!(u(&doc["target"]["connection_cap"]) >= 4);

    let svg = std::fs::read_to_string(&plot).expect("the plot was written");
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg:.200}"
    );
    assert!(svg.contains("recommended"));

    assert_eq!(
        query_i64(&db, SCRATCH_LEFT),
        0,
        "the scratch schema is dropped"
    );
}

#[test]
fn ctrl_c_prints_the_steps_so_far_exits_130_and_drops_the_schema() {
    let db = TestDb::new();
    let (mut child, reader) = spawn_capturing(&[
        "bench-pool",
        "-d",
        &db.url,
        "--sizes",
        "1,2,3,4",
        "--duration",
        "1s",
        "--warmup",
        "0s",
        "--clients",
        "4",
    ]);
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // After the first step, during the second one: the schema exists.
    let mut log = read_until(&mut lines, "step 2/4:");
    assert!(log.contains("step 1/4 done"), "{log}");
    assert_eq!(query_i64(&db, SCRATCH_LEFT), 1, "{log}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    interrupt(&child);
    drain_into(lines, &mut log);
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{log}\n{out}");
    assert!(out.contains("INTERRUPTED"), "{out}");
    assert!(
        out.contains("interrupted by Ctrl-C after 1 of 4 steps"),
        "{out}"
    );
    assert!(out.contains("recommended pool size"), "{out}");
    assert_eq!(
        query_i64(&db, SCRATCH_LEFT),
        0,
        "dropped after Ctrl-C: {log}"
    );
}

/// A role that exists for one test, dropped afterwards.
struct TestRole(String);

impl TestRole {
    fn new(options: &str) -> Self {
        let name = format!(
            "pgadvisor_t_role_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let sql = format!("CREATE ROLE \"{name}\" LOGIN {options}");
        block_on(async { admin_client().await.batch_execute(&sql).await.unwrap() });
        Self(name)
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        let sql = format!("DROP ROLE IF EXISTS \"{}\"", self.0);
        let _ = std::thread::spawn(move || {
            block_on(async {
                let _ = admin_client().await.batch_execute(&sql).await;
            })
        })
        .join();
    }
}

#[test]
fn sizes_above_the_connection_cap_are_clipped() {
    let db = TestDb::new();
    // Four connections for this role: the control session and the sampler
    // take two, so the pool may have two.
    let role = TestRole::new("CONNECTION LIMIT 4");
    let url = db
        .url
        .replacen("://postgres@", &format!("://{}@", role.0), 1);
    assert_ne!(url, db.url, "the test URL names the postgres user");
    let script = temp_file(".sql", "SELECT 1;\n");
    let out = run(&[
        "bench-pool",
        "-d",
        &url,
        "--script",
        script.path().to_str().unwrap(),
        "--sizes",
        "1,50",
        "--duration",
        "300ms",
        "--warmup",
        "0s",
        "--clients",
        "8",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("pool size 50 exceeds"), "{err}");
    assert!(err.contains("role's CONNECTION LIMIT 4"), "{err}");
    assert!(err.contains("clipped to 2"), "{err}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("connection cap: 2"), "{table}");
    assert!(table.contains("recommended pool size"), "{table}");
    let sizes: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("│ "))
        .map(|l| l.split('┆').next().unwrap().trim_matches(['│', ' ']))
        .filter(|cell| cell.parse::<u32>().is_ok())
        .collect();
    assert_eq!(sizes, vec!["1", "2"], "{table}");
    // Nothing is left at all: every pool session has ended. A backend
    // leaves pg_stat_activity a moment after its client's Terminate, so
    // this waits (up to 10 s) rather than asking once.
    assert!(poll(|| query_i64(
        &db,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = '{}'",
            role.0
        )
    ) == 0));
}

#[test]
fn scripts_bind_their_set_variables_and_writes_need_the_flag() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
         INSERT INTO t (id) SELECT g FROM generate_series(1, 100) g;",
    );
    let reads = temp_file(
        ".sql",
        "-- a read-only script\n\\set id random(1, 100)\n\\set lo greatest(:id - 5, 1)\nSELECT v\n  FROM t\n WHERE id BETWEEN :lo AND :id;\n",
    );
    let out = bench(
        &db,
        &[
            "--script",
            reads.path().to_str().unwrap(),
            "--sizes",
            "2",
            "--duration",
            "500ms",
            "--warmup",
            "0s",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["workload"]["kind"], "script");
    assert_eq!(doc["workload"]["writes"], false);
    let step = &doc["steps"][0];
    assert!(u(&step["transactions"]) > 10, "{step}");
    assert_eq!(u(&step["errors"]), 0, "{step}");

    let writes = temp_file(
        ".sql",
        "\\set id random(1, 10)\n\\set delta 2 * 3 - 5\nUPDATE t SET v = v + :delta WHERE id = :id;\n",
    );
    let refused = bench(
        &db,
        &[
            "--script",
            writes.path().to_str().unwrap(),
            "--sizes",
            "2",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("--allow-writes"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(query_i64(&db, "SELECT sum(v)::bigint FROM t"), 0);

    let out = bench(
        &db,
        &[
            "--script",
            writes.path().to_str().unwrap(),
            "--sizes",
            "2",
            "--duration",
            "500ms",
            "--warmup",
            "0s",
            "--allow-writes",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    let step = &doc["steps"][0];
    assert_eq!(u(&step["errors"]), 0, "{step}");
    let done = u(&step["transactions"]) as i64;
    let total = query_i64(&db, "SELECT sum(v)::bigint FROM t");
    // Each transaction added :delta = 1 to one row with id in 1..10 (a few
    // more may have finished just after the window closed).
    assert!(total >= done && done > 10, "{total} vs {done}");
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM t WHERE id > 10 AND v <> 0"),
        0
    );
    assert!(
        query_i64(&db, "SELECT count(*) FROM t WHERE v > 0") >= 5,
        "random ids"
    );
}

#[test]
fn a_workload_replay_refuses_writes_without_the_flag_and_runs_them_with_it() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL);
         INSERT INTO counter VALUES (1, 0), (2, 0);",
    );
    let updates = temp_file(".sql", "UPDATE counter SET n = n + 1 WHERE id = 1;\n");
    let path = updates.path().to_str().unwrap().to_string();
    let refused = bench(
        &db,
        &[
            &path,
            "--sizes",
            "1",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
        ],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--allow-writes"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        query_i64(&db, "SELECT n::bigint FROM counter WHERE id = 1"),
        0
    );

    let out = bench(
        &db,
        &[
            &path,
            "--sizes",
            "1",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
            "--allow-writes",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["workload"]["kind"], "replay");
    assert_eq!(doc["workload"]["writes"], true);
    assert_eq!(u(&doc["steps"][0]["errors"]), 0, "{}", doc["steps"][0]);
    assert!(
        query_i64(&db, "SELECT n::bigint FROM counter WHERE id = 1")
            >= u(&doc["steps"][0]["transactions"]) as i64
    );

    // A log with extended-protocol parameters: reads replay with their
    // logged values as bind parameters; the write is left out and named.
    let log = temp_file(
        ".log",
        "2026-11-28 06:11:27.762 UTC [29981] app@shop LOG:  duration: 0.092 ms  execute <unnamed>: SELECT n FROM counter WHERE id = $1\n\
         2026-11-28 06:11:27.762 UTC [29981] app@shop DETAIL:  parameters: $1 = '2'\n\
         2026-11-28 06:11:27.763 UTC [29981] app@shop LOG:  duration: 0.080 ms  execute <unnamed>: SELECT n FROM counter WHERE id = $1\n\
         2026-11-28 06:11:27.763 UTC [29981] app@shop DETAIL:  parameters: $1 = '1'\n\
         2026-11-28 06:11:27.764 UTC [29981] app@shop LOG:  duration: 0.300 ms  statement: UPDATE counter SET n = n + 1 WHERE id = 2\n",
    );
    let out = bench(
        &db,
        &[
            log.path().to_str().unwrap(),
            "--sizes",
            "1",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("left out of the replay"),
        "{}",
        stderr(&out)
    );
    let doc = json_of(&out);
    let replay = &doc["workload"]["replay"];
    assert_eq!(u(&replay["fingerprints"]), 1, "{replay}");
    assert_eq!(u(&replay["samples"]), 2, "{replay}");
    assert!(
        replay["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("--allow-writes")
    );
    assert_eq!(doc["workload"]["writes"], false);
    let step = &doc["steps"][0];
    assert_eq!(u(&step["errors"]), 0, "{step}");
    assert!(u(&step["transactions"]) > 10);
    assert_eq!(
        query_i64(&db, "SELECT n::bigint FROM counter WHERE id = 2"),
        0
    );
}

#[test]
fn an_open_loop_counts_latency_from_the_scheduled_start() {
    let db = TestDb::new();
    // 10 ms per request on one connection: about 95 per second at most,
    // against 400 due per second.
    let script = temp_file(".sql", "SELECT pg_sleep(0.01);\n");
    let out = bench(
        &db,
        &[
            "--script",
            script.path().to_str().unwrap(),
            "--sizes",
            "1",
            "--clients",
            "8",
            "--rate",
            "400",
            "--duration",
            "1s",
            "--warmup",
            "0s",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["config"]["mode"], "open");
    let step = &doc["steps"][0];
    let query_p50 = u(&step["query_us"]["p50"]);
    let latency_p50 = u(&step["latency_us"]["p50"]);
    let latency_max = u(&step["latency_us"]["max"]);
    assert!((9_000..60_000).contains(&query_p50), "{step}");
    // The queue shows: requests wait far longer than they run.
    assert!(latency_p50 > 5 * query_p50, "{step}");
    assert!(latency_max > 300_000, "{step}");
    assert!(u(&step["schedule_lag_us"]["p99"]) > 100_000, "{step}");
    assert!(u(&step["unsent"]) > 100, "{step}");
    assert!(step["tps"].as_f64().unwrap() < 150.0, "{step}");
    assert!(step["littles_law_ratio"].is_null());
}

#[test]
fn client_threads_caps_the_load_threads_at_one_per_connection() {
    let db = TestDb::new();
    let out = bench(
        &db,
        &[
            "--sizes",
            "1,3",
            "--clients",
            "6",
            "--client-threads",
            "2",
            "--duration",
            "1s",
            "--warmup",
            "0s",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(u(&doc["config"]["client_threads"]), 2);
    for s in doc["steps"].as_array().unwrap() {
        let expected = if u(&s["pool_size"]) == 1 { 1 } else { 2 };
        assert_eq!(u(&s["threads"]), expected, "{s}");
        assert_eq!(u(&s["errors"]) + u(&s["timeouts"]), 0, "{s}");
        assert!(s["tps"].as_f64().unwrap() > 50.0, "{s}");
    }
}

#[test]
fn a_client_whose_share_of_the_pool_is_busy_borrows_a_free_connection() {
    let db = TestDb::new();
    // Two load threads with one connection and four clients each; 20 ms
    // requests due 40 times a second keep about one connection busy, so a
    // request often finds its own thread's connection taken while the
    // other thread's is free — one shared pool would hand it that one.
    let script = temp_file(".sql", "SELECT pg_sleep(0.02);\n");
    let open = bench(
        &db,
        &[
            "--script",
            script.path().to_str().unwrap(),
            "--sizes",
            "2",
            "--clients",
            "8",
            "--client-threads",
            "2",
            "--rate",
            "40",
            "--duration",
            "2s",
            "--warmup",
            "0s",
        ],
    );
    assert!(open.status.success(), "{}", stderr(&open));
    let step = &json_of(&open)["steps"][0];
    assert_eq!(u(&step["threads"]), 2, "{step}");
    assert!(u(&step["borrowed"]) > 0, "{step}");
    assert_eq!(u(&step["errors"]) + u(&step["timeouts"]), 0, "{step}");

    // One client per connection: each always finds its own free.
    let closed = bench(
        &db,
        &[
            "--sizes",
            "2",
            "--clients",
            "2",
            "--duration",
            "1s",
            "--warmup",
            "0s",
        ],
    );
    assert!(closed.status.success(), "{}", stderr(&closed));
    let step = &json_of(&closed)["steps"][0];
    assert_eq!(u(&step["threads"]), 2, "{step}");
    assert_eq!(u(&step["borrowed"]), 0, "{step}");
    assert!(step["tps"].as_f64().unwrap() > 50.0, "{step}");
}
