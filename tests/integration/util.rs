//! Test harness: a command builder for the binary, fixture paths, and a
//! fresh database per test on the real server (PGADVISOR_TEST_URL), dropped
//! afterwards. A test that cannot reach the server fails; it never skips.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn admin_url() -> String {
    std::env::var("PGADVISOR_TEST_URL").unwrap_or_else(|_| DEFAULT_TEST_URL.to_string())
}

/// The pgadvisor binary with a clean environment for connection variables,
/// so the developer's own PG* settings cannot leak into a test.
pub fn pgadvisor() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgadvisor"));
    for var in [
        "DATABASE_URL",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGPASSFILE",
        "PGCONNECT_TIMEOUT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

pub fn run(args: &[&str]) -> Output {
    pgadvisor().args(args).output().expect("pgadvisor runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and parses stdout as JSON, failing the test with stderr if the
/// command failed.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "pgadvisor {args:?} failed: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// `pgadvisor workload INPUT --format json --top 0 EXTRA…`, parsed.
pub fn workload_doc(input: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["workload", input, "--format", "json", "--top", "0"];
    args.extend_from_slice(extra);
    run_json(&args)
}

/// Runs from the repository root, so relative fixture paths (and the paths
/// in the output) are stable for snapshots.
pub fn run_in_repo(args: &[&str]) -> Output {
    let out = pgadvisor()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("pgadvisor runs");
    assert!(out.status.success(), "pgadvisor {args:?}: {}", stderr(&out));
    out
}

pub fn fixture(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "fixtures", name]
        .iter()
        .collect();
    p.to_string_lossy().into_owned()
}

pub fn log_fixture(name: &str) -> String {
    fixture(&format!("logs/{name}"))
}

/// `url` with its database name replaced.
pub fn url_with_db(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let scheme_end = main.find("://").map_or(0, |p| p + 3);
    let base = match main[scheme_end..].find('/') {
        Some(p) => &main[..scheme_end + p],
        None => main,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A database created for one test and dropped when it ends.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Runs a future to completion on a private runtime (usable from Drop and
/// from sync tests).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

pub async fn admin_client() -> tokio_postgres::Client {
    let url = admin_url();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("cannot reach the test server at {url} (set PGADVISOR_TEST_URL; scripts/setup-services.sh starts it): {e}")
        });
    tokio::spawn(conn);
    client
}

impl TestDb {
    pub fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("pgadvisor_t_{}_{n}_{nanos}", std::process::id());
        let url = url_with_db(&admin_url(), &name);
        let create = format!("CREATE DATABASE \"{name}\"");
        std::thread::spawn(move || {
            block_on(async {
                admin_client()
                    .await
                    .batch_execute(&create)
                    .await
                    .expect("create test database")
            })
        })
        .join()
        .expect("create test database");
        Self { name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let drop_sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let _ = std::thread::spawn(move || {
            block_on(async {
                let _ = admin_client().await.batch_execute(&drop_sql).await;
            })
        })
        .join();
    }
}

/// Runs SQL (several statements allowed) in `db`.
pub fn try_exec(db: &TestDb, sql: &str) -> Result<(), String> {
    let (url, sql) = (db.url.clone(), sql.to_string());
    block_on(async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
        tokio::spawn(conn);
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| format!("{sql}: {e:?}"))
    })
}

/// Runs SQL in `db`, failing the test if it fails.
pub fn exec(db: &TestDb, sql: &str) {
    try_exec(db, sql).unwrap_or_else(|e| panic!("{e}"))
}

/// The first column of the one row `sql` returns in `db`, as i64.
pub fn query_i64(db: &TestDb, sql: &str) -> i64 {
    let (url, sql) = (db.url.clone(), sql.to_string());
    block_on(async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .query_one(&sql, &[])
            .await
            .expect("query runs")
            .get(0)
    })
}

/// A temporary file holding `text`, named with `suffix` (.sql, .log…).
pub fn temp_file(suffix: &str, text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .prefix("pgadvisor-test-")
        .suffix(suffix)
        .tempfile()
        .expect("temp file");
    std::io::Write::write_all(&mut file, text.as_bytes()).expect("write temp file");
    file
}

/// stdout parsed as JSON, failing the test with stderr when it is not.
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {}", stderr(out)))
}

/// A JSON number that must be a non-negative integer.
pub fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// SIGINT to one process (what Ctrl-C sends), through kill(1).
pub fn interrupt(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -INT {} failed", child.id());
}

/// pgadvisor started with stdout and stderr piped; stdout is read to its
/// end on a thread (joined for the text), stderr is left to the caller.
pub fn spawn_capturing(args: &[&str]) -> (std::process::Child, std::thread::JoinHandle<String>) {
    let mut child = pgadvisor()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pgadvisor starts");
    let mut out = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).expect("stdout reads");
        s
    });
    (child, reader)
}

/// Reads lines until one contains `marker`, returning them all.
pub fn read_until(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    marker: &str,
) -> String {
    let mut log = String::new();
    for line in lines.by_ref() {
        let line = line.expect("line reads");
        log.push_str(&line);
        log.push('\n');
        if line.contains(marker) {
            return log;
        }
    }
    panic!("{marker:?} never came: {log}");
}

/// Appends the remaining lines to `log`.
pub fn drain_into(lines: impl Iterator<Item = std::io::Result<String>>, log: &mut String) {
    for line in lines {
        log.push_str(&line.expect("line reads"));
        log.push('\n');
    }
}

/// Whether `check` turns true within 10 s (asked every 100 ms).
pub fn poll(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}
