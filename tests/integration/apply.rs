//! Building recommended indexes against the real server (`recommend-indexes
//! --apply` and `apply PLAN.json`): the safety contract. Every build ends
//! with a valid index or with nothing at all, never an invalid leftover;
//! nothing is built without --yes when nobody can be asked; a hand-edited
//! plan cannot smuggle SQL in; Ctrl-C cancels the build and cleans up; and
//! the --verify-drops check really rolls its DROP back.

use crate::util::{
    TestDb, block_on, exec, interrupt, pgadvisor, run, stderr, stdout, temp_file, try_exec,
};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::NamedTempFile;
use tokio_postgres::{Client, NoTls, Row};

/// 200k orders, 50k customers: `customer_id = k` is selective.
const ORDERS: &str = "
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, note text);
    INSERT INTO orders
        SELECT g, g % 50000, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END, md5(g::text)
        FROM generate_series(1, 200000) g;
    ANALYZE orders;";

const ORDERS_WORKLOAD: &str = "SELECT * FROM orders WHERE customer_id = 42;\n";

async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// One query with text parameters, in the test database.
fn query(db: &TestDb, sql: &str, params: &[&str]) -> Vec<Row> {
    let (url, sql) = (db.url.clone(), sql.to_string());
    let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    block_on(async move {
        let client = connect(&url).await;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        client
            .query(&sql, &refs)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

/// Every index on `table` (a regclass text such as `public.orders` or
/// `"Sales Data"."Order Items"`): name, valid, relkind, unique.
const INDEXES_SQL: &str = "
    SELECT c.relname::text AS name, i.indisvalid AS valid, c.relkind::text AS kind,
           i.indisunique AS is_unique
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = to_regclass($1)
    ORDER BY 1";

#[derive(Debug, PartialEq)]
struct IndexRow {
    name: String,
    valid: bool,
    kind: String,
    unique: bool,
}

fn indexes(db: &TestDb, table: &str) -> Vec<IndexRow> {
    query(db, INDEXES_SQL, &[table])
        .iter()
        .map(|r| IndexRow {
            name: r.get("name"),
            valid: r.get("valid"),
            kind: r.get("kind"),
            unique: r.get("is_unique"),
        })
        .collect()
}

fn index_names(db: &TestDb, table: &str) -> Vec<String> {
    indexes(db, table).into_iter().map(|i| i.name).collect()
}

fn table_exists(db: &TestDb, table: &str) -> bool {
    query(db, "SELECT to_regclass($1) IS NOT NULL AS here", &[table])[0].get("here")
}

/// Every index of the test database that is not valid (none may remain).
fn invalid_indexes(db: &TestDb) -> Vec<String> {
    query(
        db,
        "SELECT c.relname::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE NOT i.indisvalid ORDER BY 1",
        &[],
    )
    .iter()
    .map(|r| r.get("name"))
    .collect()
}

fn path(file: &NamedTempFile) -> &str {
    file.path().to_str().expect("utf-8 temp path")
}

/// `recommend-indexes WORKLOAD -d URL --enable-hypopg --format json EXTRA…`,
/// parsed, and saved as a plan file for `apply`.
fn make_plan(db: &TestDb, workload: &NamedTempFile, extra: &[&str]) -> (Value, NamedTempFile) {
    let mut args = vec![
        "recommend-indexes",
        path(workload),
        "-d",
        &db.url,
        "--enable-hypopg",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "recommend-indexes failed: {}",
        stderr(&out)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).expect("the plan is JSON");
    assert_eq!(plan["mode"], "costed", "not costed: {plan:#}");
    let file = temp_file(".json", &stdout(&out));
    (plan, file)
}

/// The plan's only recommendation.
fn only_recommendation(plan: &Value) -> &Value {
    let recs = plan["recommendations"].as_array().expect("recommendations");
    assert_eq!(recs.len(), 1, "expected one recommendation: {plan:#}");
    &recs[0]
}

fn name_of(rec: &Value) -> String {
    rec["name"].as_str().expect("a name").to_string()
}

/// `apply PLAN -d URL --yes --format json EXTRA…`: the process output and
/// its parsed JSON (whatever the exit status).
fn apply_json(db: &TestDb, plan: &Path, extra: &[&str]) -> (Output, Value) {
    let mut args = vec![
        "apply",
        plan.to_str().expect("utf-8 path"),
        "-d",
        &db.url,
        "--yes",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = pgadvisor()
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("pgadvisor runs");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "apply printed no JSON ({e}); status {:?}\nstdout: {}\nstderr: {}",
            out.status,
            stdout(&out),
            stderr(&out)
        )
    });
    assert_eq!(doc["command"], "apply");
    (out, doc)
}

fn outcomes(doc: &Value) -> &Vec<Value> {
    doc["indexes"].as_array().expect("indexes array")
}

/// Waits for a spawned pgadvisor to exit, killing it (and failing) after
/// `limit`.
fn wait_for_exit(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("child output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("child output");
            panic!(
                "pgadvisor did not exit within {limit:?}\nstdout: {}\nstderr: {}",
                stdout(&out),
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn spawn_apply(db: &TestDb, plan: &Path, extra: &[&str]) -> Child {
    pgadvisor()
        .args(["apply", plan.to_str().unwrap(), "-d", &db.url, "--yes"])
        .args(["--format", "json"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pgadvisor starts")
}

/// Polls `sql` (one row, one bool column) on `client` until it is true,
/// failing after `limit` or when `child` exits first.
async fn poll_until(client: &Client, sql: &str, child: &mut Child, limit: Duration, what: &str) {
    let started = Instant::now();
    loop {
        let row = client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        if row.get::<_, bool>(0) {
            return;
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("pgadvisor exited ({status}) before {what}");
        }
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether EXPLAIN of `statement` in the test database scans `index`.
fn planner_uses(db: &TestDb, statement: &str, index: &str) -> bool {
    let rows = query(db, &format!("EXPLAIN (FORMAT JSON) {statement}"), &[]);
    let plan: Value = rows[0].get(0);
    plan.to_string()
        .contains(&format!("\"Index Name\":\"{index}\""))
}

#[test]
fn recommend_apply_builds_a_valid_index_and_a_rerun_builds_nothing() {
    let db = TestDb::new();
    exec(&db, ORDERS);
    let workload = temp_file(".sql", ORDERS_WORKLOAD);
    let args = [
        "recommend-indexes",
        path(&workload),
        "-d",
        &db.url,
        "--enable-hypopg",
        "--apply",
        "--yes",
    ];
    let out = run(&args);
    let err = stderr(&out);
    assert!(out.status.success(), "recommend --apply failed: {err}");
    let built: Vec<IndexRow> = indexes(&db, "public.orders")
        .into_iter()
        .filter(|i| i.name != "orders_pkey")
        .collect();
    assert_eq!(built.len(), 1, "one new index: {built:?}");
    let index = &built[0];
    assert!(index.valid, "{index:?}");
    assert!(!index.unique);
    // The apply table (stderr): this index, built, and the planner now
    // uses it for the one statement it was recommended for.
    let row = err
        .lines()
        .find(|l| l.contains(&index.name) && l.contains("built"))
        .unwrap_or_else(|| panic!("no 'built' row for {}: {err}", index.name));
    assert!(row.contains("public.orders"), "{row}");
    assert!(
        err.contains("1/1 statements"),
        "planner should use it: {err}"
    );
    assert!(planner_uses(
        &db,
        "SELECT * FROM orders WHERE customer_id = 42",
        &index.name
    ));

    // The same command again: the index serves the workload, nothing new
    // is recommended or built.
    let again = run(&args);
    let err = stderr(&again);
    assert!(again.status.success(), "re-run failed: {err}");
    assert!(err.contains("nothing to build"), "{err}");
    assert!(
        stdout(&again).contains("0 index recommendation(s)"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        indexes(&db, "public.orders")
            .into_iter()
            .filter(|i| i.name != "orders_pkey")
            .collect::<Vec<_>>(),
        built,
        "a re-run must not add or change indexes"
    );
}

#[test]
fn apply_a_saved_plan_builds_and_reapplying_finds_it_there() {
    let db = TestDb::new();
    exec(&db, ORDERS);
    let workload = temp_file(".sql", ORDERS_WORKLOAD);
    let (plan, plan_file) = make_plan(&db, &workload, &[]);
    let rec = only_recommendation(&plan);
    let name = name_of(rec);
    assert_eq!(rec["table"]["name"], "orders");
    assert!(index_names(&db, "public.orders").iter().all(|n| *n != name));

    let (out, doc) = apply_json(&db, plan_file.path(), &[]);
    assert!(out.status.success(), "apply failed: {}", stderr(&out));
    let o = &outcomes(&doc)[0];
    assert_eq!(outcomes(&doc).len(), 1);
    assert_eq!(o["name"], name.as_str());
    assert_eq!(o["status"], "built", "{o:#}");
    assert_eq!(o["invalid_dropped"], false);
    assert!(o["size_bytes"].as_i64().unwrap() > 0, "{o:#}");
    let rechecks = o["rechecks"].as_array().unwrap();
    assert_eq!(rechecks.len(), 1, "{o:#}");
    assert_eq!(rechecks[0]["uses_index"], true, "{o:#}");
    assert!(rechecks[0].get("error").is_none(), "{o:#}");
    assert!(
        rechecks[0]["cost_after"].as_f64().unwrap() < rechecks[0]["cost_before"].as_f64().unwrap(),
        "{o:#}"
    );
    let built = indexes(&db, "public.orders");
    let index = built.iter().find(|i| i.name == name).expect("the index");
    assert!(index.valid);

    // Applying the same plan again builds nothing and says so.
    let (out, doc) = apply_json(&db, plan_file.path(), &[]);
    assert!(
        out.status.success(),
        "second apply failed: {}",
        stderr(&out)
    );
    let o = &outcomes(&doc)[0];
    assert_eq!(o["status"], "already_present", "{o:#}");
    assert_eq!(o["rechecks"][0]["uses_index"], true, "{o:#}");
    assert_eq!(indexes(&db, "public.orders"), built);
}

#[test]
fn without_yes_and_no_terminal_nothing_is_built() {
    let db = TestDb::new();
    exec(&db, ORDERS);
    let workload = temp_file(".sql", ORDERS_WORKLOAD);
    let (plan, plan_file) = make_plan(&db, &workload, &[]);
    only_recommendation(&plan);
    let before = indexes(&db, "public.orders");

    let out = pgadvisor()
        .args(["apply", path(&plan_file), "-d", &db.url])
        .stdin(Stdio::null())
        .output()
        .expect("pgadvisor runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(indexes(&db, "public.orders"), before);

    let out = pgadvisor()
        .args([
            "recommend-indexes",
            path(&workload),
            "-d",
            &db.url,
            "--apply",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("pgadvisor runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(indexes(&db, "public.orders"), before);
    assert!(invalid_indexes(&db).is_empty());
}

#[test]
fn an_invalid_leftover_of_the_same_name_is_dropped_and_rebuilt() {
    let db = TestDb::new();
    exec(&db, ORDERS);
    let workload = temp_file(".sql", ORDERS_WORKLOAD);
    let (plan, plan_file) = make_plan(&db, &workload, &[]);
    let name = name_of(only_recommendation(&plan));

    // A failed concurrent build leaves an invalid index behind: a UNIQUE
    // one over duplicate customer ids, under the recommended name.
    let failed = try_exec(
        &db,
        &format!("CREATE UNIQUE INDEX CONCURRENTLY \"{name}\" ON orders (customer_id)"),
    );
    let error = failed.expect_err("the unique build should fail");
    assert!(error.contains("could not create unique index"), "{error}");
    let leftover = indexes(&db, "public.orders");
    let leftover = leftover.iter().find(|i| i.name == name).expect("leftover");
    assert!(!leftover.valid && leftover.unique, "{leftover:?}");

    let (out, doc) = apply_json(&db, plan_file.path(), &[]);
    assert!(out.status.success(), "apply failed: {}", stderr(&out));
    let o = &outcomes(&doc)[0];
    assert_eq!(o["status"], "built", "{o:#}");
    assert_eq!(o["invalid_dropped"], true, "{o:#}");
    assert_eq!(o["rechecks"][0]["uses_index"], true, "{o:#}");
    let now = indexes(&db, "public.orders");
    let same_name: Vec<&IndexRow> = now.iter().filter(|i| i.name == name).collect();
    assert_eq!(same_name.len(), 1);
    assert!(same_name[0].valid && !same_name[0].unique, "{now:?}");
    assert!(invalid_indexes(&db).is_empty());
}

#[test]
fn identifiers_that_need_quotes_are_quoted_everywhere() {
    let db = TestDb::new();
    exec(
        &db,
        r#"
        CREATE SCHEMA "Sales Data";
        CREATE TABLE "Sales Data"."Order Items" (
            "Item ID" int PRIMARY KEY, "Customer ID" int NOT NULL, "Unit Price" numeric NOT NULL);
        INSERT INTO "Sales Data"."Order Items"
            SELECT g, g % 40000, g % 97 FROM generate_series(1, 200000) g;
        -- Quotes inside the names, too.
        CREATE TABLE "Sales Data"."Returns ""2024""" ("Reason ""Code""" int NOT NULL, note text);
        INSERT INTO "Sales Data"."Returns ""2024"""
            SELECT g % 30000, 'r' || g FROM generate_series(1, 150000) g;
        ANALYZE "Sales Data"."Order Items";
        ANALYZE "Sales Data"."Returns ""2024""";"#,
    );
    let workload = temp_file(
        ".sql",
        r#"SELECT "Unit Price" FROM "Sales Data"."Order Items" WHERE "Customer ID" = 7;
SELECT note FROM "Sales Data"."Returns ""2024""" WHERE "Reason ""Code""" = 11;
"#,
    );
    let (plan, plan_file) = make_plan(&db, &workload, &[]);
    let recs = plan["recommendations"].as_array().unwrap();
    assert_eq!(recs.len(), 2, "{plan:#}");
    let cases = [
        (
            "Order Items",
            r#""Sales Data"."Order Items""#,
            r#"("Customer ID""#,
        ),
        (
            "Returns \"2024\"",
            r#""Sales Data"."Returns ""2024""""#,
            r#"("Reason ""Code""""#,
        ),
    ];
    let mut names = Vec::new();
    for (table, quoted, key) in cases {
        let rec = recs
            .iter()
            .find(|r| r["table"]["name"] == table)
            .unwrap_or_else(|| panic!("no recommendation on {table}: {plan:#}"));
        assert_eq!(rec["table"]["schema"], "Sales Data");
        let name = name_of(rec);
        let ddl = rec["ddl"].as_str().unwrap();
        let quoted_name = format!("\"{}\"", name.replace('"', "\"\""));
        assert!(
            ddl.starts_with(&format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {quoted_name} ON {quoted} USING btree {key}"
            )),
            "{ddl}"
        );
        names.push((quoted, name, key));
    }

    let (out, doc) = apply_json(&db, plan_file.path(), &[]);
    assert!(out.status.success(), "apply failed: {}", stderr(&out));
    for o in outcomes(&doc) {
        assert_eq!(o["status"], "built", "{o:#}");
        assert_eq!(o["rechecks"][0]["uses_index"], true, "{o:#}");
    }
    for (quoted, name, key) in names {
        let built = indexes(&db, quoted);
        let index = built.iter().find(|i| i.name == name).expect("the index");
        assert!(index.valid, "{built:?}");
        let def: String = query(
            &db,
            "SELECT pg_get_indexdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'Sales Data' AND c.relname = $1",
            &[name.as_str()],
        )[0]
        .get(0);
        assert!(def.contains(key), "{def}");
    }
    assert!(invalid_indexes(&db).is_empty());
}

const EVENTS: &str = "
    CREATE TABLE events (id int NOT NULL, created date NOT NULL, kind int NOT NULL, note text)
        PARTITION BY RANGE (created);
    CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
    CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    INSERT INTO events
        SELECT g, date '2023-01-01' + (g % 1000), g % 20000, 'n' || g
        FROM generate_series(1, 240000) g;
    ANALYZE events;";

const EVENTS_WORKLOAD: &str = "SELECT * FROM events WHERE kind = 7;\n";

const EVENT_PARTITIONS: [&str; 3] = [
    "public.events_2023",
    "public.events_2024",
    "public.events_2025",
];

#[test]
fn a_partitioned_table_gets_an_on_only_parent_and_attached_partition_indexes() {
    let db = TestDb::new();
    exec(&db, EVENTS);
    let workload = temp_file(".sql", EVENTS_WORKLOAD);
    let (plan, plan_file) = make_plan(&db, &workload, &[]);
    let rec = only_recommendation(&plan);
    let name = name_of(rec);
    assert_eq!(rec["table"]["name"], "events");

    let (out, doc) = apply_json(&db, plan_file.path(), &[]);
    assert!(out.status.success(), "apply failed: {}", stderr(&out));
    // What it will do is said before doing it.
    assert!(
        stderr(&out).contains(
            "on each of its 3 partition(s), then attached to an index ON ONLY public.events"
        ),
        "{}",
        stderr(&out)
    );
    let o = &outcomes(&doc)[0];
    assert_eq!(o["status"], "built", "{o:#}");
    assert_eq!(o["partitions"], 3, "{o:#}");
    assert!(o["size_bytes"].as_i64().unwrap() > 0, "{o:#}");
    let children: Vec<String> = o["partition_indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(children.len(), 3, "{o:#}");
    assert_eq!(o["rechecks"][0]["uses_index"], true, "{o:#}");

    // The parent: a partitioned index, valid once every partition's index
    // is attached.
    let parent = indexes(&db, "public.events");
    assert_eq!(parent.len(), 1, "{parent:?}");
    assert_eq!(parent[0].name, name);
    assert_eq!(parent[0].kind, "I");
    assert!(parent[0].valid, "the parent index must end valid");
    // One valid index per partition, each attached to the parent.
    let attached: Vec<String> = query(
        &db,
        "SELECT c.relname::text FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
         WHERE h.inhparent = to_regclass($1) ORDER BY 1",
        &[format!("public.{name}").as_str()],
    )
    .iter()
    .map(|r| r.get(0))
    .collect();
    let mut expected = children.clone();
    expected.sort();
    assert_eq!(attached, expected);
    for partition in EVENT_PARTITIONS {
        let on_partition = indexes(&db, partition);
        assert_eq!(on_partition.len(), 1, "{partition}: {on_partition:?}");
        assert!(on_partition[0].valid && on_partition[0].kind == "i");
        assert!(children.contains(&on_partition[0].name));
    }
    assert!(invalid_indexes(&db).is_empty());
}

/// A partition's build that fails (here: a transaction holding an old
/// snapshot makes CREATE INDEX CONCURRENTLY wait past --lock-timeout) must
/// leave nothing invalid behind: neither the partition's index nor the
/// ON ONLY parent.
#[test]
fn a_failed_partition_build_leaves_no_invalid_index() {
    let db = TestDb::new();
    exec(&db, EVENTS);
    let workload = temp_file(".sql", EVENTS_WORKLOAD);
    let (plan, plan_file) = make_plan(&db, &workload, &[]);
    only_recommendation(&plan);

    let url = db.url.clone();
    let plan_path = plan_file.path().to_path_buf();
    let (out, doc) = block_on(async {
        // Holds a snapshot, so every concurrent build waits for it.
        let holder = connect(&url).await;
        holder
            .batch_execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM events_2024",
            )
            .await
            .unwrap();
        let result = tokio::task::spawn_blocking(move || {
            let db_url = url;
            let out = pgadvisor()
                .args(["apply", plan_path.to_str().unwrap(), "-d", &db_url, "--yes"])
                .args(["--format", "json", "--lock-timeout", "1s"])
                .stdin(Stdio::null())
                .output()
                .expect("pgadvisor runs");
            let doc: Option<Value> = serde_json::from_slice(&out.stdout).ok();
            (out, doc)
        })
        .await
        .unwrap();
        holder.batch_execute("ROLLBACK").await.unwrap();
        result
    });
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = doc.unwrap_or_else(|| panic!("no JSON outcome; stderr: {}", stderr(&out)));
    let o = &outcomes(&doc)[0];
    assert_eq!(o["status"], "failed", "{o:#}");
    assert!(
        o["error"].as_str().unwrap().contains("lock timeout"),
        "{o:#}"
    );
    assert_eq!(
        invalid_indexes(&db),
        Vec::<String>::new(),
        "invalid indexes left behind"
    );
    assert!(indexes(&db, "public.events").is_empty());
    for partition in EVENT_PARTITIONS {
        assert!(indexes(&db, partition).is_empty(), "{partition}");
    }

    // Nothing blocks it now: the same plan builds.
    let (out, doc) = apply_json(&db, plan_file.path(), &[]);
    assert!(out.status.success(), "apply failed: {}", stderr(&out));
    assert_eq!(outcomes(&doc)[0]["status"], "built", "{doc:#}");
    assert!(indexes(&db, "public.events")[0].valid);
}

#[test]
fn a_tampered_plan_entry_is_refused() {
    let db = TestDb::new();
    exec(&db, ORDERS);
    let workload = temp_file(".sql", ORDERS_WORKLOAD);
    let (plan, _) = make_plan(&db, &workload, &[]);
    only_recommendation(&plan);
    let before = indexes(&db, "public.orders");

    let tamper = |edit: &dyn Fn(&mut Value)| -> NamedTempFile {
        let mut plan = plan.clone();
        edit(&mut plan["recommendations"][0]);
        temp_file(".json", &plan.to_string())
    };
    let predicate = tamper(&|rec| {
        rec["spec"]["predicate"] = Value::from("true); DROP TABLE orders; --");
    });
    let key = tamper(&|rec| {
        rec["spec"]["keys"][0] = serde_json::json!({
            "text": "customer_id); DROP TABLE orders; --",
            "is_expression": true,
            "descending": false
        });
    });
    let opclass = tamper(&|rec| {
        rec["spec"]["keys"][0]["opclass"] = Value::from("int4_ops); DROP TABLE orders; --");
    });
    let method = tamper(&|rec| {
        rec["spec"]["method"] = Value::from("btree (customer_id); DROP TABLE orders; --");
    });
    // Apply looks for the index on the entry's table and under its name:
    // a spec on another table, or a name the server would cut short, could
    // leave an invalid index where apply does not look.
    let other_table = tamper(&|rec| {
        rec["spec"]["table"]["schema"] = Value::from("pg_temp");
    });
    let long_name = tamper(&|rec| {
        rec["name"] = Value::from("x".repeat(64));
    });
    for file in [
        &predicate,
        &key,
        &opclass,
        &method,
        &other_table,
        &long_name,
    ] {
        let (out, doc) = apply_json(&db, file.path(), &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let o = &outcomes(&doc)[0];
        assert_eq!(o["status"], "failed", "{o:#}");
        assert!(o["error"].as_str().unwrap().contains("malformed"), "{o:#}");
        assert!(table_exists(&db, "public.orders"), "the table was dropped");
        assert_eq!(indexes(&db, "public.orders"), before, "something was built");
        assert!(stderr(&out).contains("will refuse"), "{}", stderr(&out));
    }
    assert!(invalid_indexes(&db).is_empty());

    // A `ddl` text that says one thing and a spec that says another: what
    // is shown before building is what the spec builds.
    let swapped = tamper(&|rec| {
        rec["spec"]["keys"][0]["text"] = Value::from("status");
    });
    let (out, doc) = apply_json(&db, swapped.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("USING btree (\"status\");"), "{err}");
    assert!(err.contains("differs from its spec"), "{err}");
    assert_eq!(outcomes(&doc)[0]["status"], "built");
    let name = name_of(&plan["recommendations"][0]);
    let def: String = query(
        &db,
        "SELECT pg_get_indexdef(to_regclass($1))",
        &[format!("public.{name}").as_str()],
    )[0]
    .get(0);
    assert!(def.ends_with("USING btree (status)"), "{def}");
    exec(&db, &format!("DROP INDEX \"{name}\""));

    // A statement with a second one appended is only planned (through the
    // extended protocol, which refuses it): the index is built, the table
    // stays.
    let statement = tamper(&|rec| {
        rec["queries"][0]["plan"] = serde_json::json!({
            "mode": "literal",
            "statement": "SELECT 1; DROP TABLE orders"
        });
    });
    let (out, doc) = apply_json(&db, statement.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let o = &outcomes(&doc)[0];
    assert_eq!(o["status"], "built", "{o:#}");
    assert!(o["rechecks"][0]["error"].is_string(), "{o:#}");
    assert!(table_exists(&db, "public.orders"), "the table was dropped");
    let count: i64 = query(&db, "SELECT count(*) FROM orders", &[])[0].get(0);
    assert_eq!(count, 200_000);
}

/// Ctrl-C while CREATE INDEX CONCURRENTLY runs: the build is cancelled,
/// the invalid index it leaves is dropped, the process says so and fails.
#[test]
fn ctrl_c_during_a_build_cancels_it_and_leaves_nothing() {
    let db = TestDb::new();
    // Small sort memory and no parallel workers make the build of a
    // million text keys take a few seconds (measured on a 2-core machine:
    // 3.4 s to build, 3.3 s to fill), long enough to interrupt, while the
    // table stays quick to fill (unlogged).
    exec(
        &db,
        &format!(
            "ALTER DATABASE \"{}\" SET maintenance_work_mem = '1MB';
             ALTER DATABASE \"{}\" SET max_parallel_maintenance_workers = 0;
             CREATE UNLOGGED TABLE big (id int NOT NULL, code text NOT NULL);
             INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 1000000) g;
             ANALYZE big;",
            db.name, db.name
        ),
    );
    let workload = temp_file(
        ".sql",
        "SELECT id FROM big WHERE code = 'c4ca4238a0b923820dcc509a6f75849b';\n",
    );
    let (plan, plan_file) = make_plan(&db, &workload, &[]);
    let name = name_of(only_recommendation(&plan));

    let url = db.url.clone();
    let mut child = spawn_apply(&db, plan_file.path(), &[]);
    let started = Instant::now();
    block_on(async {
        let client = connect(&url).await;
        poll_until(
            &client,
            "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index
                            WHERE datname = current_database() AND relid = 'big'::regclass
                              AND phase LIKE 'building index%')",
            &mut child,
            Duration::from_secs(60),
            "the build started",
        )
        .await;
    });
    let building_after = started.elapsed();
    interrupt(&child);
    let interrupted = Instant::now();
    let out = wait_for_exit(child, Duration::from_secs(60));
    eprintln!(
        "ctrl_c test: build seen after {building_after:?}, exit {:?} after SIGINT",
        interrupted.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {} {}", stdout(&out), stderr(&out)));
    let o = &outcomes(&doc)[0];
    assert_eq!(o["name"], name.as_str());
    assert_eq!(o["status"], "cancelled", "{o:#}");
    assert_eq!(o["invalid_dropped"], true, "{o:#}");
    assert!(indexes(&db, "public.big").is_empty(), "an index remains");
    assert!(invalid_indexes(&db).is_empty());
    let builds: i64 = query(
        &db,
        "SELECT count(*) FROM pg_stat_progress_create_index WHERE datname = current_database()",
        &[],
    )[0]
    .get(0);
    assert_eq!(builds, 0, "a build is still running");
}

/// Ctrl-C between two builds (while the second one's statements are being
/// planned) stops before the second build: it must not be lost.
#[test]
fn ctrl_c_between_builds_stops_before_the_next_one() {
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE first_t (id int PRIMARY KEY, a int NOT NULL);
         CREATE TABLE second_t (id int PRIMARY KEY, b int NOT NULL);
         INSERT INTO first_t SELECT g, g % 30000 FROM generate_series(1, 150000) g;
         INSERT INTO second_t SELECT g, g % 30000 FROM generate_series(1, 150000) g;
         ANALYZE first_t; ANALYZE second_t;",
    );
    let workload = temp_file(
        ".sql",
        "SELECT * FROM first_t WHERE a = 5;\nSELECT * FROM second_t WHERE b = 5;\n",
    );
    let (plan, plan_file) = make_plan(&db, &workload, &[]);
    let recs = plan["recommendations"].as_array().unwrap();
    assert_eq!(recs.len(), 2, "{plan:#}");
    let first = recs[0]["table"]["name"].as_str().unwrap().to_string();
    let second = recs[1]["table"]["name"].as_str().unwrap().to_string();
    assert_ne!(first, second);

    let url = db.url.clone();
    let out = block_on(async {
        let watcher = connect(&url).await;
        // An old snapshot holds the first build in its last wait, so the
        // second table can be locked while nothing of pgadvisor reads it.
        let snapshot = connect(&url).await;
        snapshot
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1")
            .await
            .unwrap();
        let mut child = spawn_apply(&db, plan_file.path(), &["--lock-timeout", "60s"]);
        poll_until(
            &watcher,
            &format!(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index
                                WHERE datname = current_database() AND relid = '{first}'::regclass
                                  AND phase = 'waiting for old snapshots')"
            ),
            &mut child,
            Duration::from_secs(60),
            "the first build waited for old snapshots",
        )
        .await;
        let locker = connect(&url).await;
        locker
            .batch_execute(&format!(
                "BEGIN; LOCK TABLE {second} IN ACCESS EXCLUSIVE MODE"
            ))
            .await
            .unwrap();
        snapshot.batch_execute("COMMIT").await.unwrap();
        // pgadvisor finishes the first index and plans the second one's
        // statements: that waits for the lock.
        poll_until(
            &watcher,
            &format!(
                "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                                WHERE a.datname = current_database() AND NOT l.granted
                                  AND l.relation = '{second}'::regclass
                                  AND a.application_name = 'pgadvisor')"
            ),
            &mut child,
            Duration::from_secs(30),
            "pgadvisor waited for the second table",
        )
        .await;
        interrupt(&child);
        tokio::time::sleep(Duration::from_millis(300)).await;
        locker.batch_execute("ROLLBACK").await.unwrap();
        wait_for_exit(child, Duration::from_secs(60))
    });
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {} {}", stdout(&out), stderr(&out)));
    let o = outcomes(&doc);
    assert_eq!(o[0]["status"], "built", "{doc:#}");
    assert_eq!(o[1]["status"], "not_started", "{doc:#}");
    assert_eq!(
        index_names(&db, &format!("public.{second}")),
        vec![format!("{second}_pkey")],
        "the second index was built after Ctrl-C"
    );
    assert!(
        indexes(&db, &format!("public.{first}"))
            .iter()
            .all(|i| i.valid)
    );
    assert!(invalid_indexes(&db).is_empty());
}

#[test]
fn verify_drops_checks_a_duplicate_and_rolls_the_drop_back() {
    let db = TestDb::new();
    exec(&db, ORDERS);
    exec(
        &db,
        "CREATE INDEX orders_customer_a ON orders (customer_id);
         CREATE INDEX orders_customer_b ON orders (customer_id);",
    );
    let before = indexes(&db, "public.orders");
    assert_eq!(before.len(), 3);
    let workload = temp_file(".sql", ORDERS_WORKLOAD);
    let (report, _) = make_plan(&db, &workload, &["--verify-drops"]);
    let drops = report["drops"].as_array().unwrap();
    let duplicate = drops
        .iter()
        .find(|d| d["reason"] == "duplicate")
        .unwrap_or_else(|| panic!("no duplicate drop advice: {report:#}"));
    let dropped = duplicate["index"].as_str().unwrap();
    assert!(
        ["public.orders_customer_a", "public.orders_customer_b"].contains(&dropped),
        "{duplicate:#}"
    );
    // Checked by really dropping it (HypoPG 1.3 cannot hide an index), and
    // a duplicate's drop makes no statement more expensive.
    assert_eq!(duplicate["check"], "verified", "{duplicate:#}");
    assert!(duplicate["regressions"].as_array().unwrap().is_empty());
    // The check's DROP INDEX was rolled back: both indexes are still there,
    // valid, and nothing else changed.
    assert_eq!(indexes(&db, "public.orders"), before);
    // And without --verify-drops, HypoPG 1.3 cannot check it.
    let (report, _) = make_plan(&db, &workload, &[]);
    let unchecked = report["drops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["reason"] == "duplicate")
        .expect("duplicate advice");
    assert_eq!(unchecked["check"], "unverified", "{unchecked:#}");
    assert_eq!(indexes(&db, "public.orders"), before);
}
