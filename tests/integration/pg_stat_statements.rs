//! `workload --from-pg-stat-statements` against the real server: the test
//! database's statements (pg_stat_statements is server-wide; the default
//! filter to the connected database keeps other tests out), folded into the
//! fingerprints a SQL file of the same statements gets, with nothing made
//! up; and each way it cannot work says what to do.

use crate::util::{TestDb, admin_client, block_on, run, run_json, stderr, stdout, url_with_db};
use serde_json::Value;

/// Calls of the statement the tests count.
const N: u64 = 25;

/// Runs `statements` in order, each as its own simple-protocol query (so
/// pg_stat_statements sees constants, as from an application that inlines
/// them).
fn execute(url: &str, statements: &[String]) {
    let url = url.to_string();
    let statements = statements.to_vec();
    block_on(async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
        tokio::spawn(conn);
        for sql in &statements {
            client
                .batch_execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    });
}

fn setup(url: &str) {
    execute(
        url,
        &[
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements".to_string(),
            "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric NOT NULL)"
                .to_string(),
            "INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 100) g"
                .to_string(),
        ],
    );
}

/// The known statement, with its constants.
fn known_statement(i: u64) -> String {
    format!("SELECT name, price FROM items WHERE id = {i} AND price > {i}.5")
}

fn fingerprints(doc: &Value) -> &Vec<Value> {
    doc["fingerprints"].as_array().expect("fingerprints array")
}

fn by_query<'a>(doc: &'a Value, query: &str) -> &'a Value {
    fingerprints(doc)
        .iter()
        .find(|f| f["query"] == query)
        .unwrap_or_else(|| panic!("no fingerprint {query:?} in {doc:#}"))
}

/// The fingerprint id and text pgadvisor gives `sql` read from a SQL file.
fn id_from_sql_file(sql: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.sql");
    std::fs::write(&path, format!("{sql};\n")).unwrap();
    let doc = run_json(&["workload", path.to_str().unwrap(), "--format", "json"]);
    let f = &fingerprints(&doc)[0];
    (
        f["id"].as_str().unwrap().to_string(),
        f["query"].as_str().unwrap().to_string(),
    )
}

fn pgss_doc(url: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "workload",
        "--from-pg-stat-statements",
        "-d",
        url,
        "--format",
        "json",
        "--top",
        "0",
    ];
    args.extend_from_slice(extra);
    run_json(&args)
}

#[test]
fn reads_the_connected_databases_statements() {
    let db = TestDb::new();
    setup(&db.url);
    let mut statements: Vec<String> = (1..=N).map(known_statement).collect();
    // Two IN lists of different lengths: two entries in the view, one fingerprint.
    statements.push("SELECT count(*) FROM items WHERE id IN (1, 2, 3)".to_string());
    statements.push("SELECT count(*) FROM items WHERE id IN (4, 5, 6, 7, 8)".to_string());
    execute(&db.url, &statements);

    // Twice: the second run would see the first run's own queries.
    pgss_doc(&db.url, &[]);
    let doc = pgss_doc(&db.url, &[]);

    let input = &doc["summary"]["inputs"][0];
    assert_eq!(input["format"], "pg_stat_statements", "{input}");
    assert!(
        input["path"].as_str().unwrap().ends_with(&db.name),
        "{input}"
    );
    assert!(input["lines"].as_u64().unwrap() >= 3, "{input}");

    // The same id a SQL file (or a log) of the statement gets.
    let (id, text) = id_from_sql_file(&known_statement(7));
    let f = by_query(&doc, &text);
    assert_eq!(f["id"], id.as_str(), "{f}");
    assert_eq!(f["kind"], "select");
    let calls = f["calls"].as_u64().unwrap();
    assert!(calls >= N, "{calls} calls of {N}: {f}");
    assert_eq!(f["timed_calls"], f["calls"]);
    for p in ["p50_ms", "p95_ms", "p99_ms"] {
        assert!(f[p].is_null(), "{p} is made up: {f}");
    }
    let (min, mean, max) = (
        f["min_ms"].as_f64().unwrap(),
        f["mean_ms"].as_f64().unwrap(),
        f["max_ms"].as_f64().unwrap(),
    );
    assert!(min <= mean && mean <= max, "{f}");
    assert!(f["total_ms"].as_f64().unwrap() > 0.0, "{f}");
    assert_eq!(f["samples"].as_array().unwrap().len(), 0);
    assert_eq!(f["databases"], serde_json::json!([db.name]));
    assert_eq!(f["users"], serde_json::json!(["postgres"]));

    let in_list = by_query(&doc, "select count(*) from items where id in ($1)");
    assert_eq!(in_list["calls"], 2, "{in_list}");

    // pgadvisor's own queries (the probe and the read) are not the workload.
    // (Its session SETs are left out too where the view keeps their
    // constants, up to PostgreSQL 15; the unit tests cover that.)
    for f in fingerprints(&doc) {
        let q = f["query"].as_str().unwrap();
        assert!(
            !q.contains("shared_preload_libraries") && !q.contains("total_exec_time"),
            "pgadvisor's own query in the workload: {q}"
        );
    }
    assert!(
        doc["notes"][0].as_str().unwrap().contains("no percentiles"),
        "{}",
        doc["notes"]
    );
    assert_eq!(
        doc["summary"]["executions"].as_u64().unwrap(),
        fingerprints(&doc)
            .iter()
            .map(|f| f["calls"].as_u64().unwrap())
            .sum::<u64>()
    );

    // The table says where the numbers came from.
    let out = run(&["workload", "--from-pg-stat-statements", "-d", &db.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("(pg_stat_statements, "), "{table}");
    assert!(table.contains(&id), "{table}");

    // --by-table binds through the same database.
    let by_table = pgss_doc(&db.url, &["--by-table"]);
    assert_eq!(by_table["catalog"]["source"], "live_database");
    let items = by_table["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == "items")
        .unwrap_or_else(|| panic!("no items table: {by_table:#}"));
    assert!(items["calls"].as_u64().unwrap() >= N, "{items}");
}

#[test]
fn dbname_reads_other_databases() {
    let connected = TestDb::new();
    let other = TestDb::new();
    setup(&connected.url);
    setup(&other.url);
    execute(&other.url, &[known_statement(3), known_statement(4)]);
    let doc = pgss_doc(&connected.url, &["--dbname", &other.name]);
    let (_, text) = id_from_sql_file(&known_statement(3));
    let f = by_query(&doc, &text);
    assert_eq!(f["calls"], 2, "{f}");
    assert_eq!(f["databases"], serde_json::json!([other.name]));
    // Nothing of the connected database (its CREATE TABLE, say) is counted.
    for f in fingerprints(&doc) {
        assert_eq!(f["databases"], serde_json::json!([other.name]), "{f}");
    }
}

#[test]
fn without_the_extension_the_error_says_create_extension() {
    let db = TestDb::new();
    let out = run(&["workload", "--from-pg-stat-statements", "-d", &db.url]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("CREATE EXTENSION pg_stat_statements"), "{err}");
    assert!(err.contains(&db.name), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(stdout(&out).is_empty());
}

/// A login role without pg_read_all_stats, dropped when the test ends
/// (after the databases it used, which are declared later).
struct TestRole {
    name: String,
}

impl TestRole {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("pgadvisor_r_{}_{nanos}", std::process::id());
        let create = format!("CREATE ROLE \"{name}\" LOGIN");
        std::thread::spawn(move || {
            block_on(async { admin_client().await.batch_execute(&create).await })
        })
        .join()
        .expect("create role thread")
        .expect("create role");
        Self { name }
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        let drop_sql = format!("DROP ROLE IF EXISTS \"{}\"", self.name);
        let _ = std::thread::spawn(move || {
            block_on(async {
                let _ = admin_client().await.batch_execute(&drop_sql).await;
            })
        })
        .join();
    }
}

/// `url` connecting as `user` instead.
fn url_as(url: &str, user: &str, db: &str) -> String {
    let with_db = url_with_db(url, db);
    let (scheme, rest) = with_db.split_once("://").unwrap();
    let rest = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{rest}")
}

#[test]
fn texts_hidden_from_the_role_are_counted_and_name_pg_read_all_stats() {
    let role = TestRole::new();
    let db = TestDb::new();
    setup(&db.url);
    execute(&db.url, &[known_statement(1), known_statement(2)]);
    let as_role = url_as(&db.url, &role.name, &db.name);
    execute(&as_role, &["SELECT 42 AS mine".to_string()]);

    let doc = pgss_doc(&as_role, &[]);
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("hide their text") && notes.contains("pg_read_all_stats"),
        "{notes}"
    );
    let (_, theirs) = id_from_sql_file(&known_statement(1));
    assert!(
        fingerprints(&doc)
            .iter()
            .all(|f| f["query"] != theirs.as_str()),
        "{doc:#}"
    );
    let mine = by_query(&doc, "select $1 as mine");
    assert_eq!(mine["users"], serde_json::json!([role.name]));
}

#[test]
fn percentile_sorts_and_file_inputs_are_refused() {
    let db = TestDb::new();
    setup(&db.url);
    let out = run(&[
        "workload",
        "--from-pg-stat-statements",
        "-d",
        &db.url,
        "--sort",
        "p99",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("percentiles"), "{}", stderr(&out));
    let out = run(&["workload", "--from-pg-stat-statements", "x.log"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(&[
        "workload",
        "--from-pg-stat-statements",
        "--log-format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
