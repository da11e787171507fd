//! `pgadvisor monitor` against the live server: known load in, the rates
//! and activity it reports checked against what was generated; Ctrl-C,
//! --count, and roles with and without pg_monitor.
//!
//! pg_stat_database is per database and each test has its own, so only the
//! test's own load (and the monitor's one or two queries per sample)
//! moves the counters read.

use crate::util::{
    TestDb, admin_client, block_on, exec, interrupt, pgadvisor, stderr, stdout, url_with_db,
};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A monitor run in the background, its stdout read line by line as it
/// comes.
struct Running {
    child: Child,
    lines: Receiver<String>,
    reader: JoinHandle<Vec<String>>,
}

fn spawn_monitor(url: &str, extra: &[&str]) -> Running {
    let mut child = pgadvisor()
        .args(["monitor", "-d", url])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pgadvisor monitor starts");
    let out = child.stdout.take().expect("stdout piped");
    let (tx, lines) = channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    Running {
        child,
        lines,
        reader,
    }
}

impl Running {
    /// The next line of output, failing the test after `limit`.
    fn next_line(&mut self, limit: Duration) -> String {
        match self.lines.recv_timeout(limit) {
            Ok(line) => line,
            Err(e) => {
                let _ = self.child.kill();
                panic!("no line from pgadvisor monitor within {limit:?} ({e})");
            }
        }
    }

    /// Waits for the exit (failing the test after `limit`): status, every
    /// line of stdout, stderr.
    fn finish(mut self, limit: Duration) -> (std::process::ExitStatus, Vec<String>, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("pgadvisor monitor did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let lines = self.reader.join().expect("reader thread");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, lines, err)
    }
}

fn run_monitor(url: &str, extra: &[&str]) -> Output {
    pgadvisor()
        .args(["monitor", "-d", url])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("pgadvisor monitor runs")
}

/// The JSON samples of a finished jsonl run, which must have succeeded.
fn samples(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "monitor failed: {}", stderr(out));
    parse_lines(&stdout(out).lines().map(str::to_string).collect::<Vec<_>>())
}

fn parse_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

/// Seconds since the epoch of `2026-11-28T10:53:33.520Z`.
fn epoch_of(rfc3339: &str) -> f64 {
    let num = |r: std::ops::Range<usize>| -> i64 {
        rfc3339[r]
            .parse()
            .unwrap_or_else(|_| panic!("bad timestamp {rfc3339}"))
    };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let (hh, mm, ss, ms) = (num(11..13), num(14..16), num(17..19), num(20..23));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + hh * 3600 + mm * 60 + ss) as f64 + ms as f64 / 1000.0
}

fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A session of its own on a thread, running `setup` and then holding the
/// session open until released; returns its pid once `setup` was sent
/// (a `setup` that blocks, such as pg_sleep, is sent without waiting).
struct HeldSession {
    pid: i32,
    release: std::sync::mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl HeldSession {
    fn start(url: &str, setup: &'static str, wait_for_setup: bool) -> Self {
        let url = url.to_string();
        let (pid_tx, pid_rx) = channel();
        let (release, release_rx) = channel::<()>();
        let thread = std::thread::spawn(move || {
            block_on(async move {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(conn);
                let pid: i32 = client
                    .query_one("SELECT pg_backend_pid()", &[])
                    .await
                    .expect("pid")
                    .get(0);
                if wait_for_setup {
                    client.batch_execute(setup).await.expect("setup runs");
                    pid_tx.send(pid).expect("send pid");
                } else {
                    pid_tx.send(pid).expect("send pid");
                    // Ends with an error when cancelled: expected.
                    let _ = client.batch_execute(setup).await;
                }
                // Holding the session (and its open transaction, if any):
                // the server needs nothing from this side meanwhile.
                let _ = release_rx.recv();
                drop(client);
            })
        });
        let pid = pid_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("held session started");
        Self {
            pid,
            release,
            thread,
        }
    }

    fn end(self) {
        let pid = self.pid;
        block_on(async move {
            let _ = admin_client()
                .await
                .execute("SELECT pg_cancel_backend($1)", &[&pid])
                .await;
        });
        let _ = self.release.send(());
        let _ = self.thread.join();
    }
}

/// Waits until `pid` shows as sleeping in pg_stat_activity.
fn wait_until_sleeping(pid: i32) {
    let started = Instant::now();
    loop {
        let sleeping = block_on(async move {
            admin_client()
                .await
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND wait_event = 'PgSleep'",
                    &[&pid],
                )
                .await
                .expect("pg_stat_activity")
                .get::<_, i64>(0)
        });
        if sleeping == 1 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "pid {pid} never showed as sleeping"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the load generator did: completion times (epoch seconds, the
/// same clock as the server's on this machine) of its commits and
/// rollbacks.
#[derive(Default)]
struct LoadRecord {
    commits: Vec<f64>,
    rollbacks: Vec<f64>,
}

impl LoadRecord {
    fn in_window(times: &[f64], from: f64, to: f64) -> f64 {
        times.iter().filter(|t| **t > from && **t <= to).count() as f64
    }
}

/// Commits `commits_per_s` transactions a second (each inserting 2 rows)
/// and rolls back `rollbacks_per_s` (each only reading), paced on an
/// absolute schedule so a stall is caught up, until `stop`. Every
/// transaction asks for its statistics to be published at once
/// (pg_stat_force_next_flush, PostgreSQL 15): otherwise a busy backend
/// publishes them only once a second and each sample would see whole
/// seconds of them, or none.
fn spawn_load(
    url: String,
    commits_per_s: u32,
    rollbacks_per_s: u32,
    stop: Arc<AtomicBool>,
) -> JoinHandle<LoadRecord> {
    std::thread::spawn(move || {
        block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("load connects");
            tokio::spawn(conn);
            let mut record = LoadRecord::default();
            let per_s = commits_per_s + rollbacks_per_s;
            let every = commits_per_s.div_ceil(rollbacks_per_s.max(1)) + 1;
            let start = tokio::time::Instant::now();
            let mut i: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let due = start + Duration::from_secs_f64(i as f64 / per_s as f64);
                tokio::time::sleep_until(due).await;
                if i % u64::from(every) == every as u64 - 1 {
                    client
                        .batch_execute("BEGIN; SELECT pg_stat_force_next_flush(); ROLLBACK")
                        .await
                        .expect("rollback");
                    record.rollbacks.push(now_epoch());
                } else {
                    client
                        .batch_execute(
                            "BEGIN; INSERT INTO load_t VALUES (1), (2); SELECT pg_stat_force_next_flush(); COMMIT",
                        )
                        .await
                        .expect("commit");
                    record.commits.push(now_epoch());
                }
                i += 1;
            }
            record
        })
    })
}

/// Within `rel` of `expected`, or `abs` when that is wider.
fn assert_near(what: &str, got: f64, expected: f64, rel: f64, abs: f64, sample: &Value) {
    let tolerance = (expected.abs() * rel).max(abs);
    assert!(
        (got - expected).abs() <= tolerance,
        "{what}: got {got}, expected {expected} ± {tolerance}\nsample: {sample}"
    );
}

#[test]
fn rates_match_the_load_generated() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE load_t (id int); ALTER TABLE load_t SET (autovacuum_enabled = off)",
    );
    let stop = Arc::new(AtomicBool::new(false));
    // 200 commits and 50 rollbacks a second: every fifth transaction.
    let load = spawn_load(db.url.clone(), 200, 50, stop.clone());
    std::thread::sleep(Duration::from_millis(300));
    // 1.5 s, so that a rate not divided by the elapsed time (or divided by
    // milliseconds) is off by half or more, far outside the tolerance.
    let out = run_monitor(
        &db.url,
        &["--interval", "1500ms", "--count", "3", "--format", "jsonl"],
    );
    stop.store(true, Ordering::Relaxed);
    let record = load.join().expect("load thread");
    let samples = samples(&out);
    assert_eq!(samples.len(), 3, "{}", stdout(&out));
    let mut commit_rates = Vec::new();
    let mut rollback_rates = Vec::new();
    for s in &samples {
        assert_eq!(s["command"], "monitor");
        assert_eq!(s["database"], db.name.as_str());
        // Only the note that pg_stat_statements is not installed here.
        assert_eq!(s["notes"].as_array().map(Vec::len), Some(1), "{s}");
        assert!(s["top_statements"].is_null(), "{s}");
        let secs = f(s, "interval_ms") / 1000.0;
        assert!((1.3..3.0).contains(&secs), "interval {secs} s: {s}");
        let end = epoch_of(s["sampled_at"].as_str().expect("sampled_at"));
        let begin = end - secs;
        let commits = LoadRecord::in_window(&record.commits, begin, end);
        let rollbacks = LoadRecord::in_window(&record.rollbacks, begin, end);
        // Counted within 10%, or 6 transactions: the window edges (a
        // transaction published just before a sample is recorded by the
        // load just after it) and the monitor's own one query per sample
        // (two the first time: its start-up queries).
        let got_commits = f(s, "commits_per_s") * secs;
        assert_near("commits", got_commits, commits, 0.10, 6.0, s);
        let got_rollbacks = f(s, "rollbacks_per_s") * secs;
        assert_near("rollbacks", got_rollbacks, rollbacks, 0.10, 6.0, s);
        // Two rows per commit, none per rollback.
        let written = f(s, "rows_written_per_s") * secs;
        assert_near("rows written", written, 2.0 * commits, 0.10, 12.0, s);
        assert_eq!(s["rows_written_per_s"], s["rows_inserted_per_s"], "{s}");
        assert_near(
            "transactions",
            f(s, "transactions_per_s"),
            f(s, "commits_per_s") + f(s, "rollbacks_per_s"),
            0.0,
            0.01,
            s,
        );
        assert_near("rollback ratio", f(s, "rollback_ratio"), 0.2, 0.0, 0.05, s);
        let hit = f(s, "cache_hit_ratio");
        assert!((0.0..=1.0).contains(&hit), "{s}");
        commit_rates.push(f(s, "commits_per_s"));
        rollback_rates.push(f(s, "rollbacks_per_s"));
    }
    // And against the pace asked for: loose, as a loaded machine may slow
    // the load itself, but a factor of the interval off is far outside.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let commits = mean(&commit_rates);
    let rollbacks = mean(&rollback_rates);
    assert!(
        (140.0..=260.0).contains(&commits),
        "mean commits/s {commits}"
    );
    assert!(
        (35.0..=65.0).contains(&rollbacks),
        "mean rollbacks/s {rollbacks}"
    );
}

#[test]
fn sessions_by_state_longest_query_and_waits() {
    let db = TestDb::new();
    let sleeper = HeldSession::start(&db.url, "SELECT pg_sleep(30)", false);
    wait_until_sleeping(sleeper.pid);
    // Opened after the sleeper began, so its last statement is younger.
    let idle_in_tx = HeldSession::start(&db.url, "BEGIN; SELECT 1", true);
    let seen_sleeping = Instant::now();
    let out = run_monitor(
        &db.url,
        &["--interval", "300ms", "--count", "2", "--format", "jsonl"],
    );
    let elapsed_ms = seen_sleeping.elapsed().as_secs_f64() * 1000.0;
    let (sleeper_pid, idle_pid) = (sleeper.pid, idle_in_tx.pid);
    idle_in_tx.end();
    sleeper.end();
    let samples = samples(&out);
    assert_eq!(samples.len(), 2);
    for s in &samples {
        let c = &s["connections"];
        // The monitor's own session is active while it samples: excluded.
        assert_eq!(c["active"], 1, "{s}");
        assert_eq!(c["idle_in_transaction"], 1, "{s}");
        assert_eq!(c["hidden"], 0, "{s}");
        let longest = &s["longest_query"];
        assert_eq!(longest["pid"], sleeper_pid, "{s}");
        assert_ne!(longest["pid"], idle_pid, "{s}");
        assert_eq!(longest["state"], "active", "{s}");
        assert_eq!(longest["wait_event"], "Timeout:PgSleep", "{s}");
        assert!(
            longest["query"]
                .as_str()
                .is_some_and(|q| q.contains("pg_sleep(30)")),
            "{s}"
        );
        assert_eq!(
            s["wait_events"],
            serde_json::json!([{ "wait_event": "Timeout:PgSleep", "sessions": 1 }]),
            "{s}"
        );
    }
    // It had slept at least as long as the monitor ran.
    let last = &samples[1];
    let duration = f(&last["longest_query"], "duration_ms");
    assert!(
        duration >= 300.0 && duration <= elapsed_ms + 30_000.0,
        "duration {duration} ms: {last}"
    );
}

#[test]
fn temp_bytes_of_a_sort_that_spills() {
    let db = TestDb::new();
    let mut run = spawn_monitor(
        &db.url,
        &["--interval", "1s", "--count", "3", "--format", "jsonl"],
    );
    // The first line means the baseline is behind us.
    let first = run.next_line(Duration::from_secs(15));
    // A new session that ends at once: a backend publishes its statistics
    // when it exits.
    exec(
        &db,
        "SET work_mem = '64kB'; SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) AS g ORDER BY g DESC) AS s",
    );
    let (status, lines, err) = run.finish(Duration::from_secs(20));
    assert!(status.success(), "{err}");
    let samples = parse_lines(&lines);
    assert_eq!(samples.len(), 3, "{lines:?}");
    assert_eq!(lines[0], first);
    let bytes: i64 = samples
        .iter()
        .map(|s| s["temp_bytes"].as_i64().unwrap())
        .sum();
    let files: i64 = samples
        .iter()
        .map(|s| s["temp_files"].as_i64().unwrap())
        .sum();
    // The sort and the function scan's tuplestore write about 5 MB.
    assert!(
        (2_000_000..100_000_000).contains(&bytes),
        "temp bytes {bytes}: {lines:?}"
    );
    assert!(files >= 1, "{lines:?}");
    for s in &samples {
        let secs = f(s, "interval_ms") / 1000.0;
        let per_s = f(s, "temp_bytes_per_s");
        assert_near(
            "temp bytes per second",
            per_s * secs,
            f(s, "temp_bytes"),
            0.001,
            1.0,
            s,
        );
    }
}

#[test]
fn top_statements_count_the_calls_of_the_interval() {
    let db = TestDb::new();
    exec(&db, "CREATE EXTENSION pg_stat_statements");
    // Calls before the baseline must not be counted.
    exec(
        &db,
        "SELECT count(*) AS monitor_marker FROM generate_series(1, 5000) AS g WHERE g % 7 = 3",
    );
    let mut run = spawn_monitor(
        &db.url,
        &["--interval", "1s", "--count", "3", "--format", "jsonl"],
    );
    run.next_line(Duration::from_secs(15));
    const N: i64 = 25;
    let url = db.url.clone();
    block_on(async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        for i in 0..N {
            client
                .batch_execute(&format!(
                    "SELECT count(*) AS monitor_marker FROM generate_series(1, 5000) AS g WHERE g % 7 = {}",
                    i % 7
                ))
                .await
                .expect("marker runs");
        }
    });
    let (status, lines, err) = run.finish(Duration::from_secs(20));
    assert!(status.success(), "{err}");
    let samples = parse_lines(&lines);
    assert_eq!(samples.len(), 3, "{lines:?}");
    let mut calls = 0;
    for s in &samples {
        let top = s["top_statements"]
            .as_array()
            .unwrap_or_else(|| panic!("pg_stat_statements is installed: {s}"));
        for st in top {
            let query = st["query"].as_str().unwrap_or("");
            assert!(
                !query.starts_with("-- pgadvisor"),
                "own statement listed: {s}"
            );
            if query.contains("monitor_marker") {
                calls += st["calls"].as_i64().unwrap();
                let mean = f(st, "mean_exec_ms");
                assert!(mean > 0.0, "{st}");
                assert_near(
                    "total = calls × mean",
                    f(st, "total_exec_ms"),
                    mean * st["calls"].as_f64().unwrap(),
                    0.01,
                    0.01,
                    st,
                );
            }
        }
    }
    // pg_stat_statements counts exactly: every call made after the
    // baseline, none of the one before.
    assert_eq!(calls, N, "{lines:?}");
}

#[test]
fn ctrl_c_ends_cleanly_after_complete_lines() {
    let db = TestDb::new();
    let mut run = spawn_monitor(&db.url, &["--interval", "200ms", "--format", "jsonl"]);
    run.next_line(Duration::from_secs(15));
    run.next_line(Duration::from_secs(15));
    interrupt(&run.child);
    let (status, lines, err) = run.finish(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(lines.len() >= 2, "{lines:?}");
    let samples = parse_lines(&lines);
    for (i, s) in samples.iter().enumerate() {
        assert_eq!(s["sample"], i as u64 + 1);
    }
    assert!(err.is_empty(), "{err}");
}

#[test]
fn count_ends_the_run_and_plain_output_has_no_escapes() {
    let db = TestDb::new();
    let out = run_monitor(
        &db.url,
        &["--interval", "100ms", "--count", "2", "--format", "jsonl"],
    );
    let samples = samples(&out);
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0]["sample"], 1);
    assert_eq!(samples[1]["sample"], 2);
    // No pg_stat_statements in this database: said, not an empty list.
    assert!(samples[0]["top_statements"].is_null());
    assert!(
        samples[0]["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("CREATE EXTENSION pg_stat_statements")),
        "{}",
        samples[0]
    );
    // Not a terminal: blocks one after the other, no screen clearing.
    let out = run_monitor(&db.url, &["--interval", "100ms", "--count", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("sample 1 at"), "{text}");
    assert!(text.contains("sample 2 at"), "{text}");
    assert!(text.contains("transactions"), "{text}");
    for bad in [&["--interval", "50ms"][..], &["--count", "0"][..]] {
        let out = run_monitor(&db.url, bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
}

/// Login roles for one test, dropped when it ends (after the database,
/// which is declared later and so dropped first).
struct TestRoles {
    names: Vec<String>,
}

impl TestRoles {
    fn new(sql_per_role: &[&str]) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let names: Vec<String> = (0..sql_per_role.len())
            .map(|i| format!("pgadvisor_mon_{}_{nanos}_{i}", std::process::id()))
            .collect();
        let mut sql = String::new();
        for (name, extra) in names.iter().zip(sql_per_role) {
            sql.push_str(&format!("CREATE ROLE \"{name}\" LOGIN; "));
            sql.push_str(&extra.replace("{role}", &format!("\"{name}\"")));
            sql.push_str("; ");
        }
        let created = Arc::new(Mutex::new(None));
        let result = created.clone();
        std::thread::spawn(move || {
            let r = block_on(async { admin_client().await.batch_execute(&sql).await });
            *result.lock().unwrap() = Some(r.map_err(|e| format!("{e:?}")));
        })
        .join()
        .expect("create roles");
        let outcome = created.lock().unwrap().take();
        assert!(matches!(outcome, Some(Ok(()))), "create roles: {outcome:?}");
        Self { names }
    }
}

impl Drop for TestRoles {
    fn drop(&mut self) {
        let sql: String = self
            .names
            .iter()
            .map(|n| format!("DROP ROLE IF EXISTS \"{n}\"; "))
            .collect();
        let _ = std::thread::spawn(move || {
            block_on(async {
                let _ = admin_client().await.batch_execute(&sql).await;
            })
        })
        .join();
    }
}

/// `url` for `db`, connecting as `user`.
fn url_as(url: &str, user: &str, db: &str) -> String {
    let with_db = url_with_db(url, db);
    let (scheme, rest) = with_db.split_once("://").expect("a URL");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

#[test]
fn a_pg_monitor_role_sees_everything_and_a_plain_role_sees_hidden_sessions() {
    let roles = TestRoles::new(&["GRANT pg_monitor TO {role}", "SELECT 1"]);
    let db = TestDb::new();
    exec(&db, "CREATE EXTENSION pg_stat_statements");
    // A superuser's session: a plain role may not see what it does.
    let sleeper = HeldSession::start(&db.url, "SELECT pg_sleep(30)", false);
    wait_until_sleeping(sleeper.pid);
    let args = ["--interval", "100ms", "--count", "1", "--format", "jsonl"];
    let as_monitor = run_monitor(&url_as(&db.url, &roles.names[0], &db.name), &args);
    let as_plain = run_monitor(&url_as(&db.url, &roles.names[1], &db.name), &args);
    let sleeper_pid = sleeper.pid;
    sleeper.end();

    let s = &samples(&as_monitor)[0];
    assert_eq!(s["connections"]["hidden"], 0, "{s}");
    assert_eq!(s["connections"]["active"], 1, "{s}");
    assert_eq!(s["longest_query"]["pid"], sleeper_pid, "{s}");
    assert!(s["top_statements"].is_array(), "{s}");
    assert!(s["commits_per_s"].is_number(), "{s}");

    let s = &samples(&as_plain)[0];
    assert_eq!(s["connections"]["hidden"], 1, "{s}");
    assert_eq!(s["connections"]["active"], 0, "{s}");
    assert!(s["longest_query"].is_null(), "{s}");
    assert_eq!(s["wait_events"], serde_json::json!([]), "{s}");
    // The database's counters need no privilege.
    assert!(s["commits_per_s"].is_number(), "{s}");
}
