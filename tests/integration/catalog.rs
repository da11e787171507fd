//! The catalog read live from a real database and read offline from the
//! DDL that built it (and from pg_dump's rendering of it) describe the same
//! relations, columns and indexes.

use crate::util::{TestDb, block_on, fixture};
use pgadvisor::catalog::schema_file::{load_schema_file, load_schema_text};
use pgadvisor::catalog::{Catalog, RelationKind};
use std::collections::BTreeMap;

/// Everything both sources know, in a comparable form (no statistics,
/// sizes, texts of definitions).
fn structure(c: &Catalog) -> BTreeMap<String, String> {
    c.relations
        .values()
        .map(|r| {
            let cols: Vec<String> = r
                .columns
                .iter()
                .map(|c| {
                    format!(
                        "{}:{}{}",
                        c.name,
                        c.data_type,
                        if c.not_null { "!" } else { "" }
                    )
                })
                .collect();
            let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
            let mut idx: Vec<String> = r
                .indexes
                .iter()
                .map(|i| {
                    let keys: Vec<String> = i
                        .keys
                        .iter()
                        .map(|k| {
                            format!(
                                "{}{}{}{}",
                                if k.is_expression { "expr " } else { "" },
                                k.text,
                                if k.descending { " desc" } else { "" },
                                if k.nulls_first { " nulls first" } else { "" }
                            )
                        })
                        .collect();
                    format!(
                        "{} {}{}{}{} ({}) include ({}) where {:?}",
                        i.name,
                        i.method,
                        if i.unique { " unique" } else { "" },
                        if i.primary { " primary" } else { "" },
                        if i.backs_constraint {
                            " constraint"
                        } else {
                            ""
                        },
                        keys.join(", "),
                        i.include.join(", "),
                        i.predicate
                    )
                })
                .collect();
            idx.sort();
            (
                r.name.to_string(),
                format!(
                    "{:?} partition_of={:?}\n  columns: {}\n  indexes:\n    {}",
                    r.kind,
                    r.partition_of.as_ref().map(|p| p.to_string()),
                    // A view's column types are not in its DDL; compare names only.
                    if matches!(r.kind, RelationKind::View | RelationKind::MaterializedView) {
                        names.join(", ")
                    } else {
                        cols.join(", ")
                    },
                    idx.join("\n    ")
                ),
            )
        })
        .collect()
}

#[test]
fn live_catalog_and_schema_file_agree() {
    agree_on(&fixture("sql/catalog-schema.sql"), 10);
}

#[test]
fn live_catalog_and_schema_file_agree_on_the_corpus_schema() {
    agree_on(&fixture("corpus/schema.sql"), 67);
}

/// Loads `path` into a fresh database; the live catalog, the file read
/// offline and pg_dump's rendering read offline must describe the same
/// `relations` relations identically.
fn agree_on(path: &str, relations: usize) {
    let db = TestDb::new();
    let ddl = std::fs::read_to_string(path).unwrap();
    let url = db.url.clone();
    let live = block_on(async move {
        let info = pgadvisor::db::ConnInfo::parse(&url).unwrap();
        let client = pgadvisor::db::connect(&info, &Default::default())
            .await
            .unwrap();
        client.batch_execute(&ddl).await.expect("schema loads");
        client.batch_execute("ANALYZE").await.unwrap();
        pgadvisor::db::catalog::load_catalog(&client).await.unwrap()
    });
    let offline = load_schema_file(path).unwrap();
    assert!(offline.notes.is_empty(), "{:?}", offline.notes);
    let live_s = structure(&live);
    assert_eq!(live_s.len(), relations, "{:#?}", live_s.keys());
    let offline_s = structure(&offline);
    for (name, desc) in &live_s {
        assert_eq!(Some(desc), offline_s.get(name), "{name}");
    }
    assert_eq!(live_s.len(), offline_s.len());

    // The same through pg_dump --schema-only.
    let out = std::process::Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--no-privileges", &db.url])
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = String::from_utf8(out.stdout).unwrap();
    let dumped = load_schema_text(&dump, "pg_dump");
    assert!(dumped.notes.is_empty(), "{:?}", dumped.notes);
    let dumped_s = structure(&dumped);
    for (name, desc) in &live_s {
        assert_eq!(Some(desc), dumped_s.get(name), "pg_dump: {name}");
    }
    assert_eq!(live_s.len(), dumped_s.len());
}

#[test]
fn live_catalog_has_statistics() {
    let db = TestDb::new();
    let url = db.url.clone();
    let catalog = block_on(async move {
        let info = pgadvisor::db::ConnInfo::parse(&url).unwrap();
        let client = pgadvisor::db::connect(&info, &Default::default())
            .await
            .unwrap();
        client
            .batch_execute(
                "CREATE TABLE t (id int PRIMARY KEY, kind text, note text);
                 INSERT INTO t SELECT g, CASE WHEN g % 10 = 0 THEN 'rare' ELSE 'common' END, NULL FROM generate_series(1, 5000) g;
                 ANALYZE t;",
            )
            .await
            .unwrap();
        // Activity counters reach the shared statistics when a session goes
        // idle, at most once a second unless forced (PostgreSQL 15+).
        client
            .batch_execute("SELECT pg_stat_force_next_flush()")
            .await
            .unwrap();
        client.batch_execute("SELECT 1").await.unwrap();
        pgadvisor::db::catalog::load_catalog(&client).await.unwrap()
    });
    let t = catalog.resolve(None, "t").unwrap();
    let stats = t.stats.unwrap();
    assert_eq!(stats.row_estimate, 5000.0);
    assert!(stats.size_bytes > 0 && stats.total_size_bytes >= stats.size_bytes);
    assert_eq!(stats.inserts, 5000);
    let kind = t.column("kind").unwrap().stats.unwrap();
    assert_eq!(kind.n_distinct, 2.0);
    assert_eq!(kind.null_frac, 0.0);
    assert_eq!(t.column("note").unwrap().stats.unwrap().null_frac, 1.0);
    // id is unique: n_distinct = -1 (all rows distinct).
    assert_eq!(t.column("id").unwrap().stats.unwrap().n_distinct, -1.0);
    let pkey = &t.indexes[0];
    assert!(pkey.primary && pkey.valid && pkey.size_bytes.unwrap() > 0);
    assert_eq!(catalog.search_path, vec!["public".to_string()]);
}

#[test]
fn a_monitoring_role_sees_the_structure() {
    let db = TestDb::new();
    let role = format!("{}_monitor", db.name);
    let url = db.url.clone();
    let role_for_setup = role.clone();
    block_on(async move {
        let info = pgadvisor::db::ConnInfo::parse(&url).unwrap();
        let client = pgadvisor::db::connect(&info, &Default::default())
            .await
            .unwrap();
        client
            .batch_execute(&format!(
                "CREATE TABLE secret (id int PRIMARY KEY, v text);
                 INSERT INTO secret SELECT g, 'x' FROM generate_series(1, 100) g;
                 ANALYZE secret;
                 CREATE ROLE \"{role_for_setup}\" LOGIN;
                 GRANT pg_monitor TO \"{role_for_setup}\";"
            ))
            .await
            .unwrap();
    });
    let mut monitor_url = db.url.replacen("://postgres@", &format!("://{role}@"), 1);
    if !monitor_url.contains(&role) {
        monitor_url = format!("{}?user={role}", db.url);
    }
    let catalog = block_on(async move {
        let info = pgadvisor::db::ConnInfo::parse(&monitor_url).unwrap();
        let client = pgadvisor::db::connect(&info, &Default::default())
            .await
            .unwrap();
        pgadvisor::db::catalog::load_catalog(&client).await.unwrap()
    });
    let secret = catalog.resolve(None, "secret").unwrap();
    assert_eq!(secret.columns.len(), 2);
    assert!(secret.indexes[0].primary);
    assert_eq!(secret.stats.unwrap().row_estimate, 100.0);
    assert!(secret.columns.iter().all(|c| c.stats.is_none()));
    assert!(catalog.notes[0].contains("pg_stats"), "{:?}", catalog.notes);
    // The role goes with the test.
    let drop_role = format!("DROP ROLE \"{role}\"");
    drop(db);
    block_on(async move {
        crate::util::admin_client()
            .await
            .batch_execute(&drop_role)
            .await
            .unwrap();
    });
}
