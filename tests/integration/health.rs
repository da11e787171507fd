//! `analyze` health findings on the real server: each condition provoked
//! in a fresh database (duplicate, unused and invalid indexes, a NOT VALID
//! constraint, a table bloated by mass updates, dead rows, a sequence near
//! its limit, a session idle in a transaction, a blocked lock; a long
//! statement, a table read by sequential scans, statistics gone stale, a
//! table never vacuumed; an index left mostly empty by a mass delete;
//! table reads that missed shared_buffers; maintenance switches turned
//! off for the database; connection slots in use),
//! found by the CLI; none of the first set on a clean database; a
//! pg_monitor role.

use crate::util::{TestDb, exec, poll, query_i64, run, stderr, try_exec, url_with_db};
use serde_json::Value;
use std::time::Duration;

fn health(db_url: &str, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "-d", db_url, "--health-only", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(out.status.success(), "analyze failed: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn assert_no_finding(doc: &Value, id: &str) {
    assert!(findings(doc, id).is_empty(), "{id}: {}", doc["health"]);
}

fn findings<'a>(doc: &'a Value, id: &str) -> Vec<&'a Value> {
    doc["health"]["findings"]
        .as_array()
        .expect("health.findings")
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

/// Every id the provoked conditions produce; none may appear on a clean
/// database.
const PROVOKED: &[&str] = &[
    "duplicate-index",
    "unused-index",
    "invalid-index",
    "not-valid-constraint",
    "table-bloat",
    "dead-tuples",
    "sequence-exhaustion",
    "idle-in-transaction",
    "blocked-query",
];

/// Thresholds low enough for test-sized tables; the same for both runs.
const SMALL: &[&str] = &[
    "--threshold",
    "unused-index.min_size_mb=0",
    "--threshold",
    "table-bloat.min_wasted_mb=1",
    "--threshold",
    "dead-tuples.min_dead=1000",
    "--threshold",
    "idle-in-transaction.min_seconds=0.5",
    "--threshold",
    "blocked-query.min_wait_seconds=0.5",
];

#[test]
fn a_clean_database_has_none_of_them_and_without_a_workload_only_health_runs() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE clean (id bigserial PRIMARY KEY, a int, note text);
         CREATE INDEX clean_a_idx ON clean (a);
         INSERT INTO clean (a, note) SELECT g, 'n' || g FROM generate_series(1, 20000) g;",
    );
    exec(&db, "VACUUM ANALYZE clean");
    exec(&db, "SELECT * FROM clean WHERE a = 5");
    // No file and no pg_stat_statements in this database: health only.
    let mut args = vec!["analyze", "-d", &db.url, "--format", "json"];
    args.extend_from_slice(SMALL);
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["source"], "none");
    assert!(
        doc["notes"].to_string().contains("no workload"),
        "{}",
        doc["notes"]
    );
    for id in PROVOKED {
        assert!(
            findings(&doc, id).is_empty(),
            "{id} on a clean database: {}",
            doc["health"]
        );
    }
    // The server's own settings are advice about the server, present or not.
    assert_eq!(doc["settings"]["health"], true);
}

#[test]
fn indexes_constraints_bloat_dead_rows_and_sequences_are_found() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE items (id int PRIMARY KEY, a int, b int, u int UNIQUE, pad text)
           WITH (autovacuum_enabled = off);
         INSERT INTO items SELECT g, g % 100, g % 7, g, repeat('x', 50) FROM generate_series(1, 20000) g;
         CREATE INDEX items_a_idx ON items (a);
         CREATE INDEX items_b_idx ON items (b);
         CREATE INDEX items_b_idx2 ON items (b);
         ALTER TABLE items ADD CONSTRAINT items_a_nonneg CHECK (a >= 0) NOT VALID;
         CREATE TABLE churn (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off);
         INSERT INTO churn SELECT g, 0, repeat('y', 100) FROM generate_series(1, 50000) g;
         ANALYZE churn;
         UPDATE churn SET v = v + 1;
         UPDATE churn SET v = v + 1;
         UPDATE churn SET v = v + 1;
         CREATE TABLE graveyard (id int, pad text) WITH (autovacuum_enabled = off);
         INSERT INTO graveyard SELECT g, 'z' FROM generate_series(1, 20000) g;
         ANALYZE graveyard;
         DELETE FROM graveyard WHERE id % 4 = 0;
         CREATE TABLE tickets (id serial PRIMARY KEY);
         SELECT setval('tickets_id_seq', 2000000000);
         ANALYZE items;",
    );
    exec(&db, "VACUUM ANALYZE churn");
    // A unique index built concurrently over duplicate values fails and
    // leaves an invalid index behind.
    let failed = try_exec(
        &db,
        "CREATE UNIQUE INDEX CONCURRENTLY items_b_unique ON items (b)",
    );
    assert!(
        failed.is_err(),
        "the concurrent build should fail on duplicates"
    );

    let doc = health(&db.url, SMALL);

    let dups = findings(&doc, "duplicate-index");
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!(dups[0]["relation"], "public.items_b_idx2");
    assert_eq!(dups[0]["evidence"]["covered_by"], "items_b_idx");
    assert_eq!(
        dups[0]["fix_sql"],
        "DROP INDEX CONCURRENTLY \"public\".\"items_b_idx2\";"
    );

    let unused: Vec<&str> = findings(&doc, "unused-index")
        .iter()
        .map(|f| f["relation"].as_str().unwrap())
        .collect();
    assert!(unused.contains(&"public.items_a_idx"), "{unused:?}");
    // Constraint-backing indexes are never unused advice, scans or not.
    assert!(
        !unused
            .iter()
            .any(|u| u.contains("pkey") || u.contains("_u_key")),
        "{unused:?}"
    );

    let invalid = findings(&doc, "invalid-index");
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    assert_eq!(invalid[0]["relation"], "public.items_b_unique");
    assert!(
        invalid[0]["advice"]
            .as_str()
            .unwrap()
            .contains("CREATE UNIQUE INDEX CONCURRENTLY")
    );

    let nv = findings(&doc, "not-valid-constraint");
    assert_eq!(nv.len(), 1);
    assert_eq!(
        nv[0]["fix_sql"],
        "ALTER TABLE \"public\".\"items\" VALIDATE CONSTRAINT \"items_a_nonneg\";"
    );

    let bloat = findings(&doc, "table-bloat");
    assert_eq!(bloat.len(), 1, "{}", doc["health"]);
    assert_eq!(bloat[0]["relation"], "public.churn");
    let share = bloat[0]["evidence"]["wasted_share"].as_f64().unwrap();
    assert!(
        share > 0.5,
        "three full-table updates should leave over half the table empty: {share}"
    );
    assert_eq!(
        bloat[0]["fix_sql"],
        "VACUUM (FULL, ANALYZE) \"public\".\"churn\";"
    );

    let dead = findings(&doc, "dead-tuples");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["relation"], "public.graveyard");
    assert_eq!(dead[0]["evidence"]["dead_rows"], 5000);

    let seq = findings(&doc, "sequence-exhaustion");
    assert_eq!(seq.len(), 1, "{seq:?}");
    assert_eq!(seq[0]["severity"], "critical");
    assert_eq!(seq[0]["evidence"]["limited_by"], "sequence_type");
    assert_eq!(
        seq[0]["fix_sql"],
        "ALTER SEQUENCE \"public\".\"tickets_id_seq\" AS bigint;"
    );

    // The same database with default thresholds: the test-sized tables
    // are below them.
    let defaults = health(&db.url, &[]);
    assert!(findings(&defaults, "table-bloat").is_empty());
    assert!(findings(&defaults, "dead-tuples").is_empty());

    // Nothing was fixed by pgadvisor: the findings are still there.
    let again = health(&db.url, SMALL);
    assert_eq!(findings(&again, "invalid-index").len(), 1);
    assert_eq!(findings(&again, "duplicate-index").len(), 1);

    // The gate counts health findings.
    let gated = run(&[
        "analyze",
        "-d",
        &db.url,
        "--health-only",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(gated.status.code(), Some(3), "{}", stderr(&gated));
}

#[test]
fn an_idle_transaction_and_a_blocked_lock_are_found_with_who_blocks_whom() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE accounts (id int PRIMARY KEY, balance int); INSERT INTO accounts VALUES (1, 0);",
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = db.url.clone();
    let (holder_pid, waiter_pid) = runtime.block_on(async {
        let connect = || async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
        };
        let holder = connect().await;
        let holder_pid: i32 = holder
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        holder
            .batch_execute("BEGIN; UPDATE accounts SET balance = 1 WHERE id = 1;")
            .await
            .unwrap();
        let waiter = connect().await;
        let waiter_pid: i32 = waiter
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        tokio::spawn(async move {
            // Blocks until the holder rolls back (or is terminated).
            let _ = waiter
                .batch_execute("UPDATE accounts SET balance = 2 WHERE id = 1")
                .await;
        });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // Keep the holder's session open while the CLI looks.
        std::mem::forget(holder);
        (holder_pid, waiter_pid)
    });

    let doc = health(&db.url, SMALL);
    let idle = findings(&doc, "idle-in-transaction");
    assert_eq!(idle.len(), 1, "{}", doc["health"]);
    assert_eq!(idle[0]["evidence"]["pid"], holder_pid);
    assert!(
        idle[0]["evidence"]["query"]
            .as_str()
            .unwrap()
            .contains("UPDATE accounts")
    );
    assert_eq!(
        idle[0]["fix_sql"],
        format!("SELECT pg_terminate_backend({holder_pid});")
    );

    let blocked = findings(&doc, "blocked-query");
    assert_eq!(blocked.len(), 1, "{}", doc["health"]);
    assert_eq!(blocked[0]["evidence"]["pid"], waiter_pid);
    assert_eq!(
        blocked[0]["evidence"]["blocked_by"],
        serde_json::json!([holder_pid.to_string()])
    );
    let message = blocked[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("pid {holder_pid}")) && message.contains("idle in transaction"),
        "{message}"
    );
    assert_eq!(
        blocked[0]["fix_sql"],
        format!("SELECT pg_terminate_backend({holder_pid});")
    );

    // pgadvisor ran none of its fixes: the holder still holds the lock.
    let still = crate::util::query_i64(
        &db,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = {holder_pid} AND state = 'idle in transaction'"
        ),
    );
    assert_eq!(still, 1);
    drop(runtime);
}

#[test]
fn a_pg_monitor_role_runs_every_check_and_is_told_what_it_cannot_see() {
    let db = TestDb::new();
    let role = format!("{}_mon", db.name);
    exec(
        &db,
        &format!(
            "DROP ROLE IF EXISTS \"{role}\";
             CREATE ROLE \"{role}\" LOGIN IN ROLE pg_monitor;
             CREATE TABLE t (id int PRIMARY KEY, a int);
             INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;
             CREATE INDEX t_a ON t (a);
             CREATE INDEX t_a2 ON t (a);
             CREATE TABLE s (id serial PRIMARY KEY);
             SELECT setval('s_id_seq', 2100000000);
             ANALYZE t;"
        ),
    );
    let url = url_with_db(&crate::util::admin_url(), &db.name).replacen(
        "postgres@",
        &format!("{role}@"),
        1,
    );
    let out = run(&["analyze", "-d", &url, "--health-only", "--format", "json"]);
    let dropped = try_exec(&db, &format!("DROP ROLE IF EXISTS \"{role}\""));
    assert!(out.status.success(), "{}", stderr(&out));
    dropped.unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["health"]["role"], role.as_str());
    assert_eq!(doc["health"]["superuser"], false);
    assert_eq!(doc["health"]["read_all_stats"], true);
    // The catalog is readable: the duplicate is found.
    assert_eq!(findings(&doc, "duplicate-index").len(), 1);
    // Column statistics and sequence positions are not: counted, not guessed.
    let notes = doc["health"]["notes"].to_string();
    assert!(notes.contains("table-bloat: 1 table(s)"), "{notes}");
    assert!(
        notes.contains("sequence-exhaustion: 1 sequence(s) not checked"),
        "{notes}"
    );
    assert!(findings(&doc, "sequence-exhaustion").is_empty());
}

#[test]
fn a_long_statement_seq_scans_stale_statistics_and_a_missed_vacuum_are_found() {
    let db = TestDb::new();
    // Autovacuum off for these tables, so that nothing tidies them up
    // between the provocation and the look.
    exec(
        &db,
        "CREATE TABLE scanned (id int, v int) WITH (autovacuum_enabled = false);
         INSERT INTO scanned SELECT g, g FROM generate_series(1, 2000) g;
         CREATE TABLE drifted (id int, v int) WITH (autovacuum_enabled = false);
         INSERT INTO drifted SELECT g, g FROM generate_series(1, 2000) g;",
    );
    exec(&db, "VACUUM scanned");
    exec(&db, "ANALYZE drifted");
    exec(&db, &"SELECT count(*) FROM scanned;".repeat(120));
    exec(&db, "UPDATE drifted SET v = v + 1");
    // A backend reports its table counters when it ends: wait for them.
    assert!(poll(|| {
        query_i64(
        &db,
        "SELECT ((SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'scanned') >= 120
             AND (SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'drifted') >= 2000
             AND (SELECT n_ins_since_vacuum FROM pg_stat_user_tables WHERE relname = 'drifted') >= 2000
           )::int::int8"
    ) == 1
    }));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = db.url.clone();
    let sleeper_pid: i32 = runtime.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        tokio::spawn(async move {
            // Cancelled below; the error is expected.
            let _ = client.batch_execute("SELECT pg_sleep(60)").await;
        });
        pid
    });
    assert!(poll(|| query_i64(
        &db,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = {sleeper_pid} AND state = 'active'
               AND now() - query_start > interval '1 second'"
        )
    ) == 1));

    let doc = health(
        &db.url,
        &[
            "--threshold",
            "long-running-query.min_seconds=1",
            "--threshold",
            "seq-scan-heavy-table.min_rows=1000",
            "--threshold",
            "vacuum-overdue.min_changes=1000",
        ],
    );
    exec(&db, &format!("SELECT pg_cancel_backend({sleeper_pid})"));

    let long = findings(&doc, "long-running-query");
    assert_eq!(long.len(), 1, "{}", doc["health"]);
    assert_eq!(long[0]["evidence"]["pid"], sleeper_pid);
    assert!(long[0]["evidence"]["running_s"].as_f64().unwrap() >= 1.0);
    assert_eq!(
        long[0]["fix_sql"],
        format!("SELECT pg_cancel_backend({sleeper_pid});")
    );

    let seq = findings(&doc, "seq-scan-heavy-table");
    assert_eq!(seq.len(), 1, "{}", doc["health"]);
    assert_eq!(seq[0]["relation"], "public.scanned");
    assert!(seq[0]["evidence"]["seq_scans"].as_f64().unwrap() >= 120.0);

    let stale: Vec<_> = findings(&doc, "stale-statistics")
        .into_iter()
        .filter(|f| f["relation"] == "public.drifted")
        .collect();
    assert_eq!(stale.len(), 1, "{}", doc["health"]);
    assert_eq!(stale[0]["fix_sql"], "ANALYZE \"public\".\"drifted\";");
    assert!(stale[0]["evidence"]["changed_share"].as_f64().unwrap() >= 0.99);

    // drifted was never vacuumed; scanned was, just now.
    let overdue: Vec<_> = findings(&doc, "vacuum-overdue")
        .iter()
        .map(|f| f["relation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        overdue,
        vec!["public.drifted".to_string()],
        "{}",
        doc["health"]
    );
}

#[test]
fn an_index_left_mostly_empty_by_a_mass_delete_is_bloated_and_a_fresh_one_is_not() {
    let db = TestDb::new();
    // 200,000 int keys fill ~550 leaf pages; deleting nine keys in ten
    // and vacuuming leaves every leaf page a tenth full (VACUUM only frees
    // pages that are wholly empty), so the index keeps its size while its
    // entries need ~60 pages. `fresh` holds the survivors' count, indexed
    // after loading: nothing wasted.
    exec(
        &db,
        "CREATE TABLE shrunk (k int) WITH (autovacuum_enabled = false);
         INSERT INTO shrunk SELECT g FROM generate_series(1, 200000) g;
         CREATE INDEX shrunk_k_idx ON shrunk (k);
         DELETE FROM shrunk WHERE k % 10 <> 0;
         CREATE TABLE fresh (k int) WITH (autovacuum_enabled = false);
         INSERT INTO fresh SELECT g FROM generate_series(1, 20000) g;
         CREATE INDEX fresh_k_idx ON fresh (k);",
    );
    exec(&db, "VACUUM ANALYZE shrunk");
    exec(&db, "VACUUM ANALYZE fresh");

    let doc = health(&db.url, &["--threshold", "index-bloat.min_wasted_mb=1"]);
    let bloated = findings(&doc, "index-bloat");
    assert_eq!(bloated.len(), 1, "{}", doc["health"]);
    let f = bloated[0];
    assert_eq!(f["relation"], "public.shrunk_k_idx");
    assert_eq!(f["evidence"]["table"], "public.shrunk");
    let share = f["evidence"]["wasted_share"].as_f64().unwrap();
    assert!(share > 0.8, "nine entries in ten are gone: {share}");
    let size = f["evidence"]["size_bytes"].as_f64().unwrap();
    let expected = f["evidence"]["expected_bytes"].as_f64().unwrap();
    assert!(size > 4_000_000.0 && expected < 800_000.0, "{f}");
    assert_eq!(
        f["fix_sql"],
        "REINDEX INDEX CONCURRENTLY \"public\".\"shrunk_k_idx\";"
    );

    // After the fix it suggests, nothing is found.
    exec(&db, "REINDEX INDEX CONCURRENTLY shrunk_k_idx");
    exec(&db, "ANALYZE shrunk");
    let doc = health(&db.url, &["--threshold", "index-bloat.min_wasted_mb=1"]);
    assert_no_finding(&doc, "index-bloat");
}

#[test]
fn table_reads_that_missed_shared_buffers_are_found_until_hits_outweigh_them() {
    let db = TestDb::new();
    // CREATE TABLE AS writes through a bulk-insert buffer: pg_statio
    // counts each of the ~1,700 pages it adds as a block read and almost
    // no hits, so the database's table hit ratio starts near zero.
    exec(
        &db,
        "CREATE TABLE cold WITH (autovacuum_enabled = false) AS
           SELECT g AS id, repeat('c', 100) AS pad FROM generate_series(1, 100000) g",
    );
    let pages = query_i64(&db, "SELECT pg_relation_size('cold') / 8192");
    assert!(poll(|| query_i64(
        &db,
        "SELECT coalesce(heap_blks_read, 0) FROM pg_statio_user_tables WHERE relname = 'cold'"
    ) >= pages));
    let small = ["--threshold", "cache-hit-ratio.min_blocks=1000"];

    let doc = health(&db.url, &small);
    let found = findings(&doc, "cache-hit-ratio");
    assert_eq!(found.len(), 1, "{}", doc["health"]);
    let e = &found[0]["evidence"];
    assert_eq!(e["kind"], "table");
    assert!(e["hit_ratio"].as_f64().unwrap() < 0.5, "{e}");
    assert!(e["blocks_read"].as_f64().unwrap() >= pages as f64, "{e}");
    assert!(
        e["most_read"][0]
            .as_str()
            .unwrap()
            .starts_with("public.cold ("),
        "{e}"
    );
    assert!(e["shared_buffers_bytes"].as_f64().unwrap() > 0.0, "{e}");

    // Scanned again and again from shared_buffers (the table is far
    // smaller than them), the hits outweigh the reads — even if the first
    // scan read every page again — and the ratio passes 0.99: no finding.
    exec(&db, &"SELECT count(*) FROM cold;".repeat(600));
    assert!(poll(|| query_i64(
        &db,
        "SELECT (heap_blks_hit >= 100 * heap_blks_read)::int::int8
           FROM pg_statio_user_tables WHERE relname = 'cold'"
    ) == 1));
    let doc = health(&db.url, &small);
    assert_no_finding(&doc, "cache-hit-ratio");
}

#[test]
fn maintenance_switches_are_read_from_the_server_as_the_database_sees_them() {
    let db = TestDb::new();
    // track_io_timing and track_counts can be set per database (the
    // sessions analyze opens pick them up); autovacuum only server-wide,
    // so it is checked against whatever this server runs with.
    exec(
        &db,
        &format!(
            "ALTER DATABASE \"{0}\" SET track_io_timing = off;
             ALTER DATABASE \"{0}\" SET track_counts = off",
            db.name
        ),
    );
    let setting = |doc: &Value, name: &str| -> Vec<Value> {
        findings(doc, "settings-maintenance")
            .into_iter()
            .filter(|f| f["evidence"]["setting"] == name)
            .cloned()
            .collect()
    };
    let autovacuum_off = query_i64(
        &db,
        "SELECT (current_setting('autovacuum') = 'off')::int::int8",
    ) == 1;

    let doc = health(&db.url, &[]);
    let io = setting(&doc, "track_io_timing");
    assert_eq!(io.len(), 1, "{}", doc["health"]);
    assert_eq!(io[0]["severity"], "info");
    assert_eq!(
        io[0]["fix_sql"],
        "ALTER SYSTEM SET track_io_timing = on; SELECT pg_reload_conf();"
    );
    let counts = setting(&doc, "track_counts");
    assert_eq!(counts.len(), 1, "{}", doc["health"]);
    assert_eq!(counts[0]["severity"], "critical");
    assert_eq!(
        setting(&doc, "autovacuum").len(),
        usize::from(autovacuum_off),
        "{}",
        doc["health"]
    );

    exec(
        &db,
        &format!(
            "ALTER DATABASE \"{0}\" SET track_io_timing = on;
             ALTER DATABASE \"{0}\" SET track_counts = on",
            db.name
        ),
    );
    let doc = health(&db.url, &[]);
    assert!(
        setting(&doc, "track_io_timing").is_empty(),
        "{}",
        doc["health"]
    );
    assert!(
        setting(&doc, "track_counts").is_empty(),
        "{}",
        doc["health"]
    );
}

#[test]
fn connection_slots_in_use_are_counted_from_the_live_server() {
    let db = TestDb::new();
    // Three idle sessions held open while analyze looks; the parallel tests
    // add their own, so the counts are lower bounds.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = db.url.clone();
    let held: Vec<tokio_postgres::Client> = runtime.block_on(async {
        let mut held = Vec::new();
        for _ in 0..3 {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client.batch_execute("SELECT 1").await.unwrap();
            held.push(client);
        }
        held
    });
    let slots = query_i64(
        &db,
        "SELECT current_setting('max_connections')::int8
              - current_setting('superuser_reserved_connections')::int8",
    );

    // Any use at all is over a 1 % warning share; nothing reaches 100 %.
    let doc = health(
        &db.url,
        &[
            "--threshold",
            "connections-near-limit.warning_share=0.01",
            "--threshold",
            "connections-near-limit.critical_share=1",
        ],
    );
    let found = findings(&doc, "connections-near-limit");
    assert_eq!(found.len(), 1, "{}", doc["health"]);
    assert_eq!(found[0]["severity"], "warning");
    let e = &found[0]["evidence"];
    // The three held sessions and analyze's own.
    assert!(e["connections"].as_f64().unwrap() >= 4.0, "{e}");
    assert!(e["state_idle"].as_f64().unwrap() >= 3.0, "{e}");
    assert_eq!(e["slots"].as_f64().unwrap(), slots as f64, "{e}");
    // used_share is printed to three places.
    let share = e["used_share"].as_f64().unwrap();
    assert!(
        (share - e["connections"].as_f64().unwrap() / slots as f64).abs() < 0.001,
        "{e}"
    );

    // At a 100 % warning share a few sessions are nowhere near it.
    let doc = health(
        &db.url,
        &["--threshold", "connections-near-limit.warning_share=1"],
    );
    assert_no_finding(&doc, "connections-near-limit");
    drop(held);
}
