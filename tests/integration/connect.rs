//! Connecting to the real server: `check`, session limits, environment
//! fallbacks, and passwords kept out of every message.

use crate::util::{TestDb, block_on, pgadvisor, run, run_json, stderr, stdout};

#[test]
fn check_reports_what_it_can_reach() {
    let db = TestDb::new();
    let doc = run_json(&["check", "-d", &db.url, "--format", "json"]);
    assert_eq!(doc["command"], "check");
    let server = &doc["server"];
    assert!(server["server_version_num"].as_i64().unwrap() >= 130000);
    assert_eq!(server["database"], db.name.as_str());
    assert_eq!(server["role"]["name"], "postgres");
    // The package is installed by scripts/setup-services.sh; not yet in this database.
    assert!(
        server["hypopg"]["available_version"].is_string(),
        "{server}"
    );
    assert!(server["hypopg"]["installed_version"].is_null());
    assert_eq!(server["pg_stat_statements"]["preloaded"], true, "{server}");
    assert_eq!(server["session"]["application_name"], "pgadvisor");
    assert_eq!(server["session"]["statement_timeout"], "30s");
    assert_eq!(server["session"]["lock_timeout"], "5s");
    assert!(doc["capabilities"].as_array().unwrap().len() >= 3);
    // The table form says the same in words.
    let out = run(&["check", "-d", &db.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("hypopg"));
}

#[test]
fn sessions_carry_application_name_and_timeouts() {
    let db = TestDb::new();
    let info = pgadvisor::db::ConnInfo::parse(&db.url).unwrap();
    block_on(async {
        let settings = pgadvisor::db::SessionSettings {
            statement_timeout: std::time::Duration::from_millis(1500),
            lock_timeout: std::time::Duration::from_millis(700),
        };
        let client = pgadvisor::db::connect(&info, &settings).await.unwrap();
        let row = client
            .query_one(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), \
                 (SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid())",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "1500ms");
        assert_eq!(row.get::<_, String>(1), "700ms");
        assert_eq!(row.get::<_, String>(2), "pgadvisor");
        // The timeout is real: a longer statement is cancelled.
        let err = client.simple_query("SELECT pg_sleep(5)").await.unwrap_err();
        let message = err
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_default();
        assert!(message.contains("statement timeout"), "{err:?}");
    });
}

#[test]
fn environment_fallbacks() {
    let db = TestDb::new();
    let info = pgadvisor::db::ConnInfo::parse(&db.url).unwrap();
    // DATABASE_URL when -d is absent.
    let out = pgadvisor()
        .args(["check", "--format", "json"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["server"]["database"], db.name.as_str());
    // libpq's PG* variables when neither is given.
    let out = pgadvisor()
        .args(["check", "--format", "json"])
        .env("PGHOST", &info.hosts[0])
        .env("PGPORT", info.port(0).to_string())
        .env("PGUSER", info.user.as_deref().unwrap_or("postgres"))
        .env("PGDATABASE", &db.name)
        .env("PGSSLMODE", "disable")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["server"]["database"], db.name.as_str());
    assert_eq!(doc["server"]["ssl"], false);
    // A key=value string works as well.
    let kv = format!(
        "host={} port={} user={} dbname={}",
        info.hosts[0],
        info.port(0),
        info.user.as_deref().unwrap_or("postgres"),
        db.name
    );
    let doc = run_json(&["check", "-d", &kv, "--format", "json"]);
    assert_eq!(doc["server"]["database"], db.name.as_str());
}

#[test]
fn passwords_never_appear() {
    let db = TestDb::new();
    let secret = "pw-Zq81-never-print";
    // Trust authentication accepts the password; it must not be echoed.
    let with_pw = db
        .url
        .replacen("://postgres@", &format!("://postgres:{secret}@"), 1);
    assert!(with_pw.contains(secret));
    let out = run(&["check", "-d", &with_pw]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains(secret) && !stderr(&out).contains(secret));
    let out = run(&["check", "-d", &with_pw, "--format", "json"]);
    assert!(!stdout(&out).contains(secret));
    // Nor in errors: a port nobody listens on.
    let bad = format!("postgres://postgres:{secret}@127.0.0.1:1/x?connect_timeout=2");
    let out = run(&["check", "-d", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: cannot connect to postgres://postgres@127.0.0.1:1/x"),
        "{err}"
    );
    assert!(!err.contains(secret), "{err}");
    // Nor from the environment.
    let out = pgadvisor()
        .args([
            "check",
            "-d",
            "postgres://postgres@127.0.0.1:1/x?connect_timeout=2",
        ])
        .env("PGPASSWORD", secret)
        .output()
        .unwrap();
    assert!(!stderr(&out).contains(secret));
}

#[test]
fn bad_connection_strings_are_usage_errors_with_a_reason() {
    let out = run(&["check", "-d", "postgres://h/db?sslmode=sometimes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid sslmode"), "{}", stderr(&out));
    let out = run(&["check", "-d", "host=h nonsense=1"]);
    assert!(
        stderr(&out).contains("unknown connection parameter"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn connect_timeout_is_honoured() {
    // A non-routable address: the connect attempt hangs until the timeout.
    let started = std::time::Instant::now();
    let out = run(&[
        "check",
        "-d",
        "postgres://postgres@10.255.255.1:5432/x",
        "--connect-timeout",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(
        stderr(&out).contains("cannot connect to postgres://postgres@10.255.255.1:5432/x"),
        "{}",
        stderr(&out)
    );
}
