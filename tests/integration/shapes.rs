//! One fixture per construct (fixtures/shapes/*.sql), each with its
//! expected shape as a snapshot, bound against fixtures/shapes/schema.sql.

use crate::util::fixture;
use pgadvisor::catalog::schema_file::load_schema_file;
use pgadvisor::shape::{PredicateOp, analyze_sql};

#[test]
fn every_construct_has_its_expected_shape() {
    let catalog = load_schema_file(&fixture("shapes/schema.sql")).unwrap();
    assert!(catalog.notes.is_empty(), "{:?}", catalog.notes);
    insta::glob!("../../fixtures/shapes", "*.sql", |path| {
        if path.file_name().is_some_and(|n| n == "schema.sql") {
            return;
        }
        let sql = std::fs::read_to_string(path).unwrap();
        let shape = analyze_sql(&sql, &catalog, &[]);
        insta::assert_json_snapshot!(shape);
    });
}

#[test]
fn like_patterns_from_sample_parameters() {
    let catalog = load_schema_file(&fixture("shapes/schema.sql")).unwrap();
    let sql = "SELECT id FROM users WHERE email LIKE $1";
    let op = |params: &[Option<String>]| analyze_sql(sql, &catalog, params).tables[0].filters[0].op;
    assert_eq!(op(&[Some("adm%".into())]), PredicateOp::PrefixLike);
    assert_eq!(op(&[Some("%adm%".into())]), PredicateOp::InfixLike);
    assert_eq!(op(&[]), PredicateOp::Like);
}
