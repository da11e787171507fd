//! `analyze` safety contract, against the real server: a hostile workload
//! leaves every table, object, privilege, large object and sequence as it
//! was (with and without --allow-writes); statements that kill their own
//! session or outlive the timeout are reported and the run goes on.

use crate::util::{TestDb, block_on, exec, run, stderr, stdout, temp_file};
use serde_json::Value;

/// Runs `f` with a fresh connection to the test database.
fn with_client<T>(db: &TestDb, f: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
    let url = db.url.clone();
    block_on(async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        f(&client).await
    })
}

/// Everything the workload might touch, as one comparable text: each
/// table's contents (md5 of its rows in order), the objects of the schema,
/// the privileges, large objects and sequence positions.
fn fingerprint_of_database(db: &TestDb) -> String {
    with_client(db, async |c| {
        let mut parts = Vec::new();
        for table in ["accounts", "audit", "secrets"] {
            let row = c
                .query_one(
                    &format!(
                        "SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), 'empty') FROM {table} x"
                    ),
                    &[],
                )
                .await
                .expect("table still readable");
            parts.push(format!("{table}={}", row.get::<_, String>(0)));
        }
        for (what, sql) in [
            (
                "objects",
                "SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
            ),
            (
                "functions",
                "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
            ),
            (
                "acl",
                "SELECT string_agg(relname || '=' || coalesce(relacl::text, 'default'), ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
            ),
            (
                "large_objects",
                "SELECT count(*)::text FROM pg_largeobject_metadata",
            ),
            (
                "sequence",
                "SELECT coalesce(last_value::text, 'never used') FROM pg_sequences WHERE sequencename = 'accounts_id_seq'",
            ),
        ] {
            let row = c.query_one(sql, &[]).await.expect(what);
            parts.push(format!(
                "{what}={}",
                row.get::<_, Option<String>>(0).unwrap_or_default()
            ));
        }
        parts.join("\n")
    })
}

const SCHEMA: &str = "
CREATE TABLE accounts (id serial PRIMARY KEY, owner text NOT NULL, balance int NOT NULL);
INSERT INTO accounts (owner, balance) SELECT 'o' || g, g FROM generate_series(1, 5000) g;
CREATE TABLE audit (n int);
CREATE TABLE secrets (s text);
INSERT INTO secrets VALUES ('keep me');
CREATE FUNCTION noisy() RETURNS int LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN INSERT INTO audit VALUES (1); RETURN 1; END $$;
ANALYZE;
";

/// Statements a log could hold, each a way to change something.
fn hostile_log() -> tempfile::NamedTempFile {
    let statements = [
        "DELETE FROM accounts WHERE balance > 10",
        "UPDATE accounts SET balance = 0",
        "INSERT INTO accounts (owner, balance) VALUES ('intruder', 1)",
        "TRUNCATE secrets",
        "DROP TABLE secrets",
        "SELECT noisy() FROM accounts WHERE id = 1",
        "SELECT nextval('accounts_id_seq')",
        "SELECT setval('accounts_id_seq', 999999)",
        "COPY accounts TO PROGRAM 'touch /tmp/pgadvisor-pwned'",
        "SELECT lo_import('/etc/hostname')",
        "GRANT ALL ON secrets TO PUBLIC",
        "SELECT 1; DROP TABLE accounts",
        "SELECT * FROM accounts WHERE owner = 'o7'",
    ];
    let mut log = String::new();
    for (i, s) in statements.iter().enumerate() {
        log.push_str(&format!(
            "2026-11-28 10:00:{i:02}.000 UTC [{}] app@db LOG:  duration: {}.000 ms  statement: {s}\n",
            200 + i,
            100 + i
        ));
    }
    temp_file(".log", &log)
}

fn analyze_json(db: &TestDb, file: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "analyze", "-d", &db.url, file, "--format", "json", "--top", "50",
    ];
    if !extra.contains(&"--runs") {
        args.extend_from_slice(&["--runs", "2"]);
    }
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(out.status.success(), "analyze failed: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn statement<'a>(doc: &'a Value, text_start: &str) -> &'a Value {
    doc["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["query"].as_str().unwrap().starts_with(text_start))
        .unwrap_or_else(|| panic!("no statement starting {text_start:?} in {doc}"))
}

#[test]
fn a_hostile_workload_changes_nothing_without_allow_writes() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let before = fingerprint_of_database(&db);
    let log = hostile_log();
    let doc = analyze_json(&db, log.path().to_str().unwrap(), &[]);
    assert_eq!(fingerprint_of_database(&db), before);
    assert!(!std::path::Path::new("/tmp/pgadvisor-pwned").exists());
    assert_eq!(statement(&doc, "delete from accounts")["status"], "skipped");
    assert_eq!(statement(&doc, "truncate")["status"], "skipped");
    assert_eq!(statement(&doc, "drop table")["status"], "skipped");
    assert_eq!(statement(&doc, "grant")["status"], "skipped");
    assert_eq!(statement(&doc, "copy")["status"], "skipped");
    assert_eq!(
        statement(&doc, "select $1; drop table")["status"],
        "skipped"
    );
    // The writing function and the sequence calls are stopped by READ ONLY.
    assert_eq!(statement(&doc, "select noisy()")["status"], "failed");
    assert_eq!(statement(&doc, "select nextval")["status"], "failed");
    // The harmless query was analyzed.
    let ok = statement(&doc, "select * from accounts where owner");
    assert_eq!(ok["status"], "analyzed", "{ok}");
    assert_eq!(ok["runs"], 2);
    assert!(ok["execution_ms"]["p50"].as_f64().is_some());
    assert_eq!(doc["summary"]["sequences_may_have_advanced"], false);
}

#[test]
fn with_allow_writes_writes_are_rolled_back_and_sequences_flagged() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let log = hostile_log();
    let before = fingerprint_of_database(&db);
    let doc = analyze_json(&db, log.path().to_str().unwrap(), &["--allow-writes"]);
    let after = fingerprint_of_database(&db);
    // Everything but the sequence is as it was.
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("sequence="))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&after), strip(&before));
    assert_eq!(
        statement(&doc, "delete from accounts")["status"],
        "analyzed"
    );
    assert_eq!(statement(&doc, "update accounts")["status"], "analyzed");
    assert_eq!(
        statement(&doc, "insert into accounts")["status"],
        "analyzed"
    );
    assert_eq!(statement(&doc, "truncate")["status"], "skipped");
    assert_eq!(statement(&doc, "drop table")["status"], "skipped");
    assert_eq!(doc["summary"]["sequences_may_have_advanced"], true);
    assert!(doc["notes"].to_string().contains("sequences"));
}

#[test]
fn a_statement_that_kills_its_session_or_times_out_is_reported_and_the_run_goes_on() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let log = "\
2026-11-28 10:00:00.000 UTC [300] app@db LOG:  duration: 900.000 ms  statement: SELECT pg_terminate_backend(pg_backend_pid())
2026-11-28 10:00:01.000 UTC [300] app@db LOG:  duration: 800.000 ms  statement: SELECT pg_sleep(5)
2026-11-28 10:00:02.000 UTC [300] app@db LOG:  duration: 700.000 ms  statement: SELECT count(*) FROM accounts
";
    let f = temp_file(".log", log);
    let started = std::time::Instant::now();
    let doc = analyze_json(
        &db,
        f.path().to_str().unwrap(),
        &["--statement-timeout", "1s", "--runs", "1"],
    );
    assert!(started.elapsed().as_secs() < 5, "the sleep was cut short");
    assert_eq!(
        statement(&doc, "select pg_terminate_backend")["status"],
        "failed"
    );
    assert_eq!(statement(&doc, "select pg_sleep")["status"], "timed_out");
    assert_eq!(statement(&doc, "select count(*)")["status"], "analyzed");
    assert!(doc["summary"]["reconnects"].as_u64().unwrap() >= 1, "{doc}");
}

#[test]
fn table_and_markdown_formats_and_the_gate() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let log = hostile_log();
    let path = log.path().to_str().unwrap();
    let table = run(&["analyze", "-d", &db.url, path, "--runs", "1"]);
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(stdout(&table).contains("analyzed"), "{}", stdout(&table));
    let md = run(&[
        "analyze", "-d", &db.url, path, "--runs", "1", "--format", "markdown",
    ]);
    assert!(stdout(&md).starts_with("### pgadvisor analyze"));
}

#[test]
fn findings_are_provoked_for_real_and_gate_the_exit_code() {
    let db = TestDb::new();
    // A low work_mem for every session of this database: sorts spill.
    exec(
        &db,
        &format!(
            "ALTER DATABASE \"{}\" SET work_mem = '64kB';
             CREATE TABLE big (id int PRIMARY KEY, tenant int NOT NULL, note text NOT NULL);
             INSERT INTO big SELECT g, g % 5000, md5(g::text) FROM generate_series(1, 200000) g;
             ANALYZE big;",
            db.name
        ),
    );
    let f = temp_file(
        ".sql",
        "SELECT * FROM big WHERE tenant = 42;\nSELECT note FROM big ORDER BY note;\n",
    );
    let path = f.path().to_str().unwrap();
    let doc = analyze_json(&db, path, &["--runs", "1"]);
    let ids = |prefix: &str| -> Vec<String> {
        statement(&doc, prefix)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    let scan = ids("select * from big where tenant");
    assert!(
        scan.contains(&"seq-scan-large-table".to_string()),
        "{scan:?}"
    );
    let finding = &statement(&doc, "select * from big where tenant")["findings"][0];
    assert!(
        finding["index_hint"].as_str().unwrap().contains("tenant"),
        "{finding}"
    );
    let sort = ids("select note from big order by note");
    assert!(sort.contains(&"sort-spill".to_string()), "{sort:?}");
    // The gate: a warning trips --fail-on warning, not --fail-on critical.
    let gated = run(&[
        "analyze",
        "-d",
        &db.url,
        path,
        "--runs",
        "1",
        "--fail-on",
        "warning",
        "--no-health",
    ]);
    assert_eq!(gated.status.code(), Some(3), "{}", stderr(&gated));
    let not_gated = run(&[
        "analyze",
        "-d",
        &db.url,
        path,
        "--runs",
        "1",
        "--fail-on",
        "critical",
        "--no-health",
    ]);
    assert_eq!(not_gated.status.code(), Some(0), "{}", stderr(&not_gated));
    // A threshold override silences the scan finding.
    let quiet = analyze_json(
        &db,
        path,
        &[
            "--runs",
            "1",
            "--threshold",
            "seq-scan-large-table.min_rows=10000000",
        ],
    );
    assert!(
        !quiet["statements"]
            .to_string()
            .contains("seq-scan-large-table"),
        "{quiet}"
    );
}

#[test]
fn a_database_that_goes_away_gives_an_error_and_the_results_so_far() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let log = "\
2026-11-28 10:00:00.000 UTC [300] app@db LOG:  duration: 900.000 ms  statement: SELECT count(*) FROM accounts
2026-11-28 10:00:01.000 UTC [300] app@db LOG:  duration: 800.000 ms  statement: SELECT pg_sleep(3)
2026-11-28 10:00:02.000 UTC [300] app@db LOG:  duration: 700.000 ms  statement: SELECT max(balance) FROM accounts
";
    let f = temp_file(".log", log);
    let child = crate::util::pgadvisor()
        .args(["analyze", "-d", &db.url, f.path().to_str().unwrap()])
        .args(["--format", "json", "--runs", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pgadvisor starts");
    // Once it sleeps in the second statement, close the database to new
    // sessions and end pgadvisor's.
    let name = db.name.clone();
    block_on(async move {
        let admin = crate::util::admin_client().await;
        for _ in 0..100 {
            let sleeping: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep%' AND application_name = 'pgadvisor'",
                    &[&name],
                )
                .await
                .unwrap()
                .get(0);
            if sleeping > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        admin
            .batch_execute(&format!(
                "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"
            ))
            .await
            .unwrap();
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgadvisor'",
                &[&name],
            )
            .await
            .unwrap();
    });
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("went away"), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("the partial report is JSON");
    assert_eq!(statement(&doc, "select count(*)")["status"], "analyzed");
    assert_eq!(statement(&doc, "select pg_sleep")["status"], "failed");
    assert!(
        doc["notes"]
            .to_string()
            .contains("stopped after 2 statement(s)"),
        "{doc}"
    );
}

#[test]
fn without_files_the_workload_comes_from_pg_stat_statements() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    exec(&db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    for i in 0..5 {
        exec(&db, &format!("SELECT * FROM accounts WHERE owner = 'o{i}'"));
    }
    let out = run(&[
        "analyze", "-d", &db.url, "--format", "json", "--runs", "1", "--top", "50",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["source"], "pg_stat_statements");
    // pg_stat_statements keeps no parameter values: the generic plan is
    // explained, nothing executed.
    let s = statement(&doc, "select * from accounts where owner");
    assert_eq!(s["status"], "explained_generically", "{s}");
    assert!(s["calls"].as_u64().unwrap() >= 5);
}

#[test]
fn misestimates_and_generic_plans_are_found_through_the_cli() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE addresses (id int PRIMARY KEY, city int NOT NULL, zip int NOT NULL);
         INSERT INTO addresses SELECT g, (g % 200) / 2, g % 200 FROM generate_series(1, 400000) g;
         CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL, note text NOT NULL);
         INSERT INTO jobs SELECT g, CASE WHEN g % 1000 = 0 THEN 'failed' ELSE 'done' END, 'job ' || g
           FROM generate_series(1, 200000) g;
         CREATE INDEX jobs_failed ON jobs (id) WHERE state = 'failed';
         ANALYZE;",
    );
    // Correlated columns (zip decides city): the planner multiplies their
    // selectivities. A prepared statement logged with 'failed': its custom
    // plan uses the partial index, its generic plan cannot.
    let log = "\
2026-11-28 10:00:00.000 UTC [300] app@db LOG:  duration: 900.000 ms  statement: SELECT * FROM addresses WHERE city = 42 AND zip = 85
2026-11-28 10:00:01.000 UTC [300] app@db LOG:  duration: 800.000 ms  execute <unnamed>: SELECT id, note FROM jobs WHERE state = $1
2026-11-28 10:00:01.000 UTC [300] app@db DETAIL:  parameters: $1 = 'failed'
";
    let f = temp_file(".log", log);
    let doc = analyze_json(&db, f.path().to_str().unwrap(), &[]);
    let ids = |prefix: &str| -> Vec<String> {
        statement(&doc, prefix)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    let addresses = ids("select * from addresses");
    assert!(
        addresses.contains(&"row-misestimate".to_string()),
        "{addresses:?}"
    );
    let jobs = ids("select id, note from jobs");
    assert!(jobs.contains(&"generic-plan-worse".to_string()), "{jobs:?}");
}
