//! `recommend-indexes` against the real server: candidates costed with
//! HypoPG, workload-wide selection, the four output formats, the CI exit
//! code, offline mode, and the what-if safety contract (nothing a workload
//! statement says is ever executed).

use crate::util::{TestDb, exec, query_i64, run, run_json, stderr, stdout, temp_file};
use serde_json::Value;

/// An events table with a selective tenant filter, a rare open state, a
/// mixed-case email lookup and a duplicate index.
const SCHEMA: &str = "
CREATE EXTENSION hypopg;
CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
INSERT INTO accounts SELECT g, 'User' || g || '@Example.com', (ARRAY['free','pro'])[1 + g % 2]
  FROM generate_series(1, 50000) g;
CREATE TABLE events (
    id bigint PRIMARY KEY,
    tenant_id int NOT NULL,
    kind text NOT NULL,
    created_at timestamptz NOT NULL,
    closed_at timestamptz,
    payload text);
INSERT INTO events
  SELECT g, g % 2000, (ARRAY['view','click','buy'])[1 + g % 3],
         timestamptz '2026-01-01' + g * interval '1 second',
         CASE WHEN g % 1000 = 0 THEN NULL ELSE timestamptz '2026-06-01' END,
         repeat('x', 40)
  FROM generate_series(1, 200000) g;
CREATE INDEX events_kind_idx ON events (kind);
CREATE INDEX events_kind_idx2 ON events (kind);
ANALYZE;
";

const WORKLOAD: &str = "
SELECT * FROM events WHERE tenant_id = 42 ORDER BY created_at DESC LIMIT 20;
SELECT * FROM events WHERE tenant_id = 7 ORDER BY created_at DESC LIMIT 20;
SELECT id FROM events WHERE closed_at IS NULL ORDER BY created_at LIMIT 50;
SELECT * FROM accounts WHERE lower(email) = 'user17@example.com';
SELECT count(*) FROM events WHERE kind = 'buy';
";

/// Runs a migration file the way a person would: `psql -f`, stopping at
/// the first error.
fn run_with_psql(db: &TestDb, sql: &str) {
    let file = temp_file(".sql", sql);
    let psql = std::process::Command::new("psql")
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-q", "-d", &db.url, "-f"])
        .arg(file.path())
        .output()
        .expect("psql runs");
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
}

fn recommend_json(db: &TestDb, file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["recommend-indexes", file, "-d", &db.url, "--format", "json"];
    args.extend_from_slice(extra);
    run_json(&args)
}

fn labels(doc: &Value) -> Vec<String> {
    doc["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let spec = &r["spec"];
            let keys: Vec<String> = spec["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| {
                    let mut t = k["text"].as_str().unwrap().to_string();
                    if k["descending"] == true {
                        t.push_str(" desc");
                    }
                    t
                })
                .collect();
            let mut label = format!(
                "{}({})",
                spec["table"]["name"].as_str().unwrap(),
                keys.join(", ")
            );
            if let Some(p) = spec["predicate"].as_str() {
                label.push_str(&format!(" where {p}"));
            }
            label
        })
        .collect()
}

#[test]
fn costed_set_covers_the_workload_with_multicolumn_partial_and_expression_indexes() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let w = temp_file(".sql", WORKLOAD);
    let doc = recommend_json(
        &db,
        w.path().to_str().unwrap(),
        &["--min-improvement", "0.1"],
    );
    assert_eq!(doc["mode"], "costed");
    assert_eq!(doc["hypopg_version"], "1.3.1");
    let got = labels(&doc);
    // Equality then the ORDER BY in its direction: no sort of a tenant's rows.
    assert!(
        got.contains(&"events(tenant_id, created_at desc)".to_string()),
        "{got:?}"
    );
    // The rare open state: a small partial index on the sort column.
    assert!(
        got.iter().any(|l| l.contains("where closed_at IS NULL")),
        "{got:?}"
    );
    // Mixed-case email lookups: an expression index.
    assert!(
        got.contains(&"accounts(lower(email))".to_string()),
        "{got:?}"
    );
    // The kind filter is served already (events_kind_idx): never proposed.
    assert!(!got.iter().any(|l| l.starts_with("events(kind")), "{got:?}");
    let summary = &doc["summary"];
    let (before, after) = (
        summary["cost_before"].as_f64().unwrap(),
        summary["cost_after"].as_f64().unwrap(),
    );
    assert!(after < before * 0.5, "{before} → {after}");
    // Every recommendation names the statements it helps, with costs, and
    // every DDL quotes its identifiers and builds concurrently.
    for r in doc["recommendations"].as_array().unwrap() {
        let ddl = r["ddl"].as_str().unwrap();
        assert!(
            ddl.starts_with("CREATE INDEX CONCURRENTLY IF NOT EXISTS \""),
            "{ddl}"
        );
        assert!(ddl.contains("ON \"public\"."), "{ddl}");
        assert!(r["size_bytes"].as_i64().unwrap() > 0);
        let q = &r["queries"][0];
        assert!(q["cost_after"].as_f64().unwrap() < q["cost_before"].as_f64().unwrap());
    }
    let shares: f64 = doc["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-6, "shares add up: {shares}");
    // The duplicate is drop advice, unverified on HypoPG 1.3.1.
    let drops = doc["drops"].as_array().unwrap();
    let dup = drops
        .iter()
        .find(|d| d["index"] == "public.events_kind_idx2")
        .expect("duplicate index advised");
    assert_eq!(dup["reason"], "duplicate");
    assert_eq!(dup["check"], "unverified");
    assert!(
        dup["check_note"]
            .as_str()
            .unwrap()
            .contains("--verify-drops")
    );
}

#[test]
fn max_indexes_and_budget_limit_the_set() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let w = temp_file(".sql", WORKLOAD);
    let path = w.path().to_str().unwrap();
    let one = recommend_json(
        &db,
        path,
        &["--min-improvement", "0.1", "--max-indexes", "1"],
    );
    assert_eq!(one["recommendations"].as_array().unwrap().len(), 1);
    let tiny = recommend_json(&db, path, &["--min-improvement", "0.1", "--budget", "1kB"]);
    assert_eq!(tiny["recommendations"].as_array().unwrap().len(), 0);
    assert_eq!(tiny["settings"]["budget_bytes"], 1024);
}

#[test]
fn formats_and_the_ci_gate() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let w = temp_file(".sql", WORKLOAD);
    let path = w.path().to_str().unwrap();
    let base = [
        "recommend-indexes",
        path,
        "-d",
        &db.url,
        "--min-improvement",
        "0.1",
    ];

    let gated = run(&[&base[..], &["--fail-on-recommendation"]].concat());
    assert_eq!(gated.status.code(), Some(3), "{}", stderr(&gated));

    let sql = run(&[&base[..], &["--format", "sql"]].concat());
    assert!(sql.status.success());
    let text = stdout(&sql);
    assert!(
        text.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS"),
        "{text}"
    );
    assert!(text.contains("-- DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"events_kind_idx2\";"));

    let md = run(&[&base[..], &["--format", "markdown"]].concat());
    let text = stdout(&md);
    assert!(text.starts_with("### pgadvisor: "), "{text}");
    assert!(text.contains("```sql"), "{text}");

    let table = run(&base);
    let text = stdout(&table);
    assert!(text.contains("costed with HypoPG 1.3.1"), "{text}");
    assert!(text.contains("workload cost"), "{text}");

    // The migration file runs as is: every index is then built and valid,
    // and a second run of the advisor has nothing left to add.
    run_with_psql(&db, &stdout(&sql));
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid"
        ),
        0
    );
    let again = run(&[&base[..], &["--fail-on-recommendation", "--format", "json"]].concat());
    let doc: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        doc["recommendations"].as_array().unwrap().len(),
        0,
        "after applying, nothing new: {doc}"
    );
}

#[test]
fn offline_from_a_schema_file_is_marked_not_costed() {
    let schema = temp_file(
        ".sql",
        "CREATE TABLE events (id bigint PRIMARY KEY, tenant_id int NOT NULL, created_at timestamptz NOT NULL);",
    );
    let w = temp_file(
        ".sql",
        "SELECT * FROM events WHERE tenant_id = 1 ORDER BY created_at DESC LIMIT 20;\n",
    );
    let doc = run_json(&[
        "recommend-indexes",
        w.path().to_str().unwrap(),
        "--schema",
        schema.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(doc["mode"], "offline");
    let recs = doc["recommendations"].as_array().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["costed"], false);
    assert!(recs[0]["cost_saved"].is_null());
    assert_eq!(labels(&doc), vec!["events(tenant_id, created_at desc)"]);
    let table = run(&[
        "recommend-indexes",
        w.path().to_str().unwrap(),
        "--schema",
        schema.path().to_str().unwrap(),
    ]);
    assert!(stdout(&table).contains("NOT COSTED"));
}

#[test]
fn without_hypopg_it_says_how_to_get_it_and_falls_back() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t SELECT g, g % 1000 FROM generate_series(1, 50000) g; ANALYZE t;",
    );
    let w = temp_file(".sql", "SELECT * FROM t WHERE a = 5;\n");
    let path = w.path().to_str().unwrap();
    let doc = recommend_json(&db, path, &[]);
    assert_eq!(doc["mode"], "offline");
    let notes = doc["notes"].to_string();
    assert!(notes.contains("CREATE EXTENSION hypopg"), "{notes}");
    assert!(notes.contains("--enable-hypopg"), "{notes}");
    assert_eq!(labels(&doc), vec!["t(a)"]);
    // --enable-hypopg installs it and the advice is costed.
    let doc = recommend_json(&db, path, &["--enable-hypopg"]);
    assert_eq!(doc["mode"], "costed");
    assert_eq!(labels(&doc), vec!["t(a)"]);
}

#[test]
fn log_samples_are_costed_and_generic_plans_compared() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    // An extended-protocol log: $n with logged parameter values.
    let log = "\
2026-11-28 10:00:00.000 UTC [100] app@db LOG:  duration: 12.500 ms  execute <unnamed>: SELECT * FROM events WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2
2026-11-28 10:00:00.000 UTC [100] app@db DETAIL:  parameters: $1 = '42', $2 = '20'
2026-11-28 10:00:01.000 UTC [100] app@db LOG:  duration: 11.000 ms  execute <unnamed>: SELECT * FROM events WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2
2026-11-28 10:00:01.000 UTC [100] app@db DETAIL:  parameters: $1 = '7', $2 = '20'
";
    let f = temp_file(".log", log);
    let doc = recommend_json(&db, f.path().to_str().unwrap(), &[]);
    assert_eq!(doc["summary"]["statements_costed"], 1);
    let rec = &doc["recommendations"][0];
    assert_eq!(rec["queries"][0]["plan"]["mode"], "bound");
    assert_eq!(rec["queries"][0]["calls"], 2);
    // Logged durations: the time saved is estimated.
    assert!(rec["est_time_saved_ms"].as_f64().unwrap() > 0.0);
    assert!(
        doc["notes"].as_array().unwrap().is_empty(),
        "{}",
        doc["notes"]
    );
}

#[test]
fn workload_statements_are_planned_never_executed() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE EXTENSION hypopg;
         CREATE TABLE t (id int PRIMARY KEY, a int, b text);
         INSERT INTO t SELECT g, g % 100, 'x' FROM generate_series(1, 20000) g;
         CREATE TABLE audit (n int);
         CREATE FUNCTION noisy(x int) RETURNS int LANGUAGE plpgsql VOLATILE AS
           $$ BEGIN INSERT INTO audit VALUES (x); RETURN x; END $$;
         CREATE SEQUENCE s;
         ANALYZE;",
    );
    let w = temp_file(
        ".sql",
        "DELETE FROM t WHERE a = 1;
         UPDATE t SET b = 'changed' WHERE a = 2;
         SELECT noisy(a) FROM t WHERE a = 3;
         SELECT nextval('s') FROM t WHERE a = 4;
         INSERT INTO t SELECT id + 100000, a, b FROM t WHERE a = 5;
         SELECT * FROM t WHERE a = 6; DROP TABLE audit;
         TRUNCATE t;
         SELECT pg_sleep(5) FROM t WHERE a = 7;",
    );
    let started = std::time::Instant::now();
    let doc = recommend_json(&db, w.path().to_str().unwrap(), &[]);
    assert!(started.elapsed().as_secs() < 5, "pg_sleep was not run");
    assert_eq!(doc["mode"], "costed");
    assert_eq!(query_i64(&db, "SELECT count(*) FROM t"), 20000);
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM t WHERE b = 'changed'"),
        0
    );
    assert_eq!(query_i64(&db, "SELECT count(*) FROM audit"), 0);
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_sequences WHERE sequencename = 's' AND last_value IS NULL"
        ),
        1,
        "the sequence never advanced"
    );
    // And the index on a is still recommended from those statements.
    assert!(
        labels(&doc).contains(&"t(a)".to_string()),
        "{:?}",
        labels(&doc)
    );
}

#[test]
fn verify_drops_checks_inside_a_rolled_back_transaction() {
    let db = TestDb::new();
    exec(&db, SCHEMA);
    let w = temp_file(".sql", WORKLOAD);
    let doc = recommend_json(
        &db,
        w.path().to_str().unwrap(),
        &["--verify-drops", "--min-improvement", "0.1"],
    );
    let dup = doc["drops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["index"] == "public.events_kind_idx2")
        .expect("duplicate advised");
    assert_eq!(dup["check"], "verified", "{dup}");
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'events_kind_idx2'"
        ),
        1,
        "the check's DROP INDEX was rolled back"
    );
}

#[test]
fn foreign_temporary_and_system_tables_are_skipped_cleanly() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE EXTENSION hypopg;
         CREATE EXTENSION file_fdw;
         CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
         CREATE FOREIGN TABLE ft (a int) SERVER files OPTIONS (filename '/dev/null');
         CREATE TABLE t (id int PRIMARY KEY, a int);
         INSERT INTO t SELECT g, g % 1000 FROM generate_series(1, 50000) g;
         ANALYZE t;",
    );
    let w = temp_file(
        ".sql",
        "SELECT * FROM ft WHERE a = 1;
         SELECT * FROM pg_class WHERE relname = 'x';
         CREATE TEMP TABLE tmp (a int);
         SELECT * FROM tmp WHERE a = 1;
         SELECT * FROM t WHERE a = 5;",
    );
    let doc = recommend_json(&db, w.path().to_str().unwrap(), &[]);
    assert_eq!(labels(&doc), vec!["t(a)"]);
    let reasons: Vec<&str> = doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("public.ft is a foreign table")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("a system catalog")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("tmp is not in the catalog")),
        "{reasons:?}"
    );
    assert!(
        doc["notes"].as_array().unwrap().is_empty(),
        "{}",
        doc["notes"]
    );
}

#[test]
fn partitioned_tables_get_a_migration_that_builds_concurrently_per_partition() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE EXTENSION hypopg;
         CREATE TABLE ev (id int, kind int, at date) PARTITION BY RANGE (at);
         CREATE TABLE ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         INSERT INTO ev SELECT g, g % 5000, date '2024-01-01' + (g % 700) FROM generate_series(1, 100000) g;
         ANALYZE;",
    );
    let w = temp_file(".sql", "SELECT * FROM ev WHERE kind = 7;\n");
    let out = run(&[
        "recommend-indexes",
        w.path().to_str().unwrap(),
        "-d",
        &db.url,
        "--format",
        "sql",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sql = stdout(&out);
    assert!(sql.contains("ON ONLY \"public\".\"ev\""), "{sql}");
    assert!(sql.contains("ATTACH PARTITION"), "{sql}");
    assert!(
        !sql.contains("CONCURRENTLY IF NOT EXISTS \"ev_kind_idx\" ON \"public\".\"ev\" "),
        "{sql}"
    );
    // Twice: re-running the migration is harmless.
    run_with_psql(&db, &sql);
    run_with_psql(&db, &sql);
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relname LIKE 'ev%kind%' AND i.indisvalid"
        ),
        3,
        "the parent index and one per partition, all valid"
    );
}

#[test]
fn from_pg_stat_statements_plans_generic_plans() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE EXTENSION hypopg;
         CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
         CREATE TABLE t (id int PRIMARY KEY, a int, b text);
         INSERT INTO t SELECT g, g % 1000, 'x' FROM generate_series(1, 50000) g;
         ANALYZE t;",
    );
    for a in 0..20 {
        exec(&db, &format!("SELECT * FROM t WHERE a = {a}"));
    }
    let doc = run_json(&[
        "recommend-indexes",
        "--from-pg-stat-statements",
        "-d",
        &db.url,
        "--format",
        "json",
    ]);
    assert_eq!(doc["mode"], "costed");
    assert_eq!(labels(&doc), vec!["t(a)"]);
    let q = &doc["recommendations"][0]["queries"][0];
    assert_eq!(q["plan"]["mode"], "generic", "{q}");
    assert!(q["calls"].as_u64().unwrap() >= 20, "{q}");
}

#[test]
fn write_heavy_tables_pay_for_their_indexes() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE EXTENSION hypopg;
         CREATE TABLE hot (id int PRIMARY KEY, counter int NOT NULL, note text);
         INSERT INTO hot SELECT g, g % 5000, 'x' FROM generate_series(1, 100000) g;
         ANALYZE hot;",
    );
    let read = "SELECT id FROM hot WHERE counter = 5;\n";
    let quiet = temp_file(".sql", read);
    let doc = recommend_json(&db, quiet.path().to_str().unwrap(), &[]);
    assert_eq!(labels(&doc), vec!["hot(counter)"], "read alone: worth it");
    // The same read among thousands of updates of that column: each would
    // write an entry in the new index (and stop being HOT).
    let mut busy = String::from(read);
    for i in 0..3000 {
        busy.push_str(&format!(
            "UPDATE hot SET counter = counter + 1 WHERE id = {i};\n"
        ));
    }
    let busy = temp_file(".sql", &busy);
    // (No threshold: only the upkeep can keep it out.)
    let doc = recommend_json(
        &db,
        busy.path().to_str().unwrap(),
        &["--min-improvement", "0"],
    );
    assert!(labels(&doc).is_empty(), "{:?}", labels(&doc));
}

#[test]
fn a_generic_plan_that_disagrees_with_the_logged_values_is_reported() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE EXTENSION hypopg;
         CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL, payload text);
         INSERT INTO jobs SELECT g, CASE WHEN g % 200 = 0 THEN 'open' ELSE 'done' END, 'x'
           FROM generate_series(1, 200000) g;
         ANALYZE jobs;",
    );
    // Logged with the rare value: its custom plan gains from an index on
    // state; a generic plan (a prepared statement after five executions)
    // expects half the table and keeps its sequential scan.
    let log = "\
2026-11-28 10:00:00.000 UTC [100] app@db LOG:  duration: 20.000 ms  execute <unnamed>: SELECT id FROM jobs WHERE state = $1
2026-11-28 10:00:00.000 UTC [100] app@db DETAIL:  parameters: $1 = 'open'
";
    let f = temp_file(".log", log);
    let doc = recommend_json(&db, f.path().to_str().unwrap(), &[]);
    assert_eq!(labels(&doc)[0], "jobs(state)", "{doc}");
    let d = &doc["plan_disagreements"][0];
    assert_eq!(d["query"], "select id from jobs where state = $1", "{doc}");
    assert!(d["samples_saving"].as_f64().unwrap() > 0.5, "{d}");
    assert!(d["generic_saving"].as_f64().unwrap() < 0.25, "{d}");
    assert!(d["note"].as_str().unwrap().contains("generic plan"), "{d}");
}
