//! `workload --by-table`: the workload per table, bound offline through a
//! schema file or live through a database.

use crate::util::{TestDb, block_on, fixture, log_fixture, run, run_in_repo, run_json};
use serde_json::Value;

fn table<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

fn use_of<'a>(t: &'a Value, kind: &str, operand: &str, detail: &str) -> &'a Value {
    t["uses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            u["kind"] == kind
                && (u["operand"]["name"] == operand || u["operand"]["text"] == operand)
                && u["detail"] == detail
        })
        .unwrap_or_else(|| panic!("no {kind} use of {operand} {detail} in {t}"))
}

#[test]
fn offline_with_a_schema_file() {
    let doc = run_json(&[
        "workload",
        &log_fixture("stderr-debian.log"),
        "--by-table",
        "--schema",
        &fixture("sql/shop-schema.sql"),
        "--format",
        "json",
    ]);
    assert_eq!(doc["view"], "by_table");
    assert_eq!(doc["catalog"]["source"], "schema_file");
    let orders = table(&doc, "orders");
    assert_eq!(orders["known"], true);
    // 23 calls of the ORDER BY id LIMIT query (3 literal + 20 extended) and
    // 3 EXECUTE q1(5) of the prepared one (ground truth, expected.json).
    let by_customer = use_of(orders, "filter", "customer_id", "=");
    assert_eq!(by_customer["calls"], 26);
    assert_eq!(by_customer["fingerprints"], 2);
    let join = use_of(orders, "join", "customer_id", "public.customers.id");
    assert!(join["calls"].as_u64().unwrap() >= 10);
    // pgbench's tables are not in the shop schema: kept, flagged unknown.
    let accounts = table(&doc, "pgbench_accounts");
    assert_eq!(accounts["known"], false);
    assert_eq!(use_of(accounts, "filter", "aid", "=")["calls"], 140);
    // System catalogs are left out.
    assert!(
        doc["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["table"]["schema"] != "pg_catalog")
    );
    let coverage = &doc["coverage"];
    assert!(coverage["parsed"].as_u64().unwrap() <= coverage["analyzed"].as_u64().unwrap());
    assert!(coverage["fully_bound"].as_u64().unwrap() > 0);
}

#[test]
fn live_catalog_binds_the_same_way_and_adds_sizes() {
    let db = TestDb::new();
    let schema = std::fs::read_to_string(fixture("sql/shop-schema.sql")).unwrap();
    let url = db.url.clone();
    block_on(async move {
        let info = pgadvisor::db::ConnInfo::parse(&url).unwrap();
        let client = pgadvisor::db::connect(&info, &Default::default())
            .await
            .unwrap();
        client.batch_execute(&schema).await.unwrap();
        client
            .batch_execute(
                "INSERT INTO customers SELECT g, 'c' || g || '@x', 'n' FROM generate_series(1, 500) g;
                 ANALYZE customers;",
            )
            .await
            .unwrap();
    });
    let args = |extra: &[&str]| -> Value {
        let mut a = vec![
            "workload",
            "fixtures/logs/stderr-debian.log",
            "--by-table",
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        serde_json::from_slice(&run_in_repo(&a).stdout).unwrap()
    };
    let live = args(&["-d", &db.url]);
    let offline = args(&["--schema", "fixtures/sql/shop-schema.sql"]);
    assert_eq!(live["catalog"]["source"], "live_database");
    assert_eq!(live["coverage"], offline["coverage"]);
    let uses = |doc: &Value| -> Vec<(String, String, String, u64)> {
        let mut v: Vec<_> = doc["tables"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| {
                let name = t["table"]["name"].as_str().unwrap().to_string();
                t["uses"].as_array().unwrap().iter().map(move |u| {
                    (
                        name.clone(),
                        u["operand"].to_string(),
                        u["detail"].as_str().unwrap().to_string(),
                        u["calls"].as_u64().unwrap(),
                    )
                })
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(uses(&live), uses(&offline));
    let customers = table(&live, "customers");
    assert_eq!(customers["row_estimate"], 500.0);
    assert!(customers["size_bytes"].as_i64().unwrap() > 0);
}

#[test]
fn schema_needs_by_table_and_excludes_database() {
    let out = run(&[
        "workload",
        &log_fixture("stderr-debian.log"),
        "--schema",
        "x.sql",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[
        "workload",
        &log_fixture("stderr-debian.log"),
        "--by-table",
        "--schema",
        "x.sql",
        "-d",
        "postgres://h/db",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn by_table_report_is_stable() {
    let out = run_in_repo(&[
        "workload",
        "fixtures/logs/stderr-verbose.log",
        "--by-table",
        "--schema",
        "fixtures/sql/shop-schema.sql",
    ]);
    insta::assert_snapshot!(
        "by_table_stderr_verbose",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run_in_repo(&[
        "workload",
        "fixtures/logs/stderr-verbose.log",
        "--by-table",
        "--schema",
        "fixtures/sql/shop-schema.sql",
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!("by_table_json_stderr_verbose", doc);
}
