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

/// The real-world corpus (fixtures/corpus, validated on PostgreSQL 15):
/// every statement sqlparser parses is fully bound; the ones it cannot
/// parse are exactly the known sqlparser gaps (docs/performance.md).
#[test]
fn corpus_statements_parse_and_bind() {
    let catalog = load_schema_file(&fixture("corpus/schema.sql")).unwrap();
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("corpus/corpus.json")).unwrap())
            .unwrap();
    assert_eq!(entries.len(), 350);
    let mut unparsed = Vec::new();
    let mut unbound = Vec::new();
    for e in &entries {
        let at = format!("{} #{}", e["file"].as_str().unwrap(), e["index"]);
        let shape = analyze_sql(e["sql"].as_str().unwrap(), &catalog, &[]);
        if shape.parse_error.is_some() {
            // Its tables still come from the token scan.
            assert!(!shape.tables.is_empty(), "{at}");
            unparsed.push(at);
        } else if !shape.fully_bound() {
            unbound.push(format!("{at}: {:?}", shape.problems));
        }
    }
    assert!(unbound.is_empty(), "{unbound:#?}");
    assert_eq!(
        unparsed,
        [
            "analytics.sql #10",    // WITH RECURSIVE … SEARCH DEPTH FIRST BY
            "django.sql #38",       // FOR NO KEY UPDATE
            "hand-written.sql #21", // BETWEEN SYMMETRIC
            "hand-written.sql #70", // GROUP BY DISTINCT
            "hand-written.sql #71", // ROWS FROM (…)
            "hand-written.sql #72", // FOR KEY SHARE OF
            "hand-written.sql #73", // TABLE x
        ]
    );
}

/// Corpus statements with words dropped or repeated still never panic the
/// analyzer (whatever parses, however odd, is walked).
#[test]
fn mutated_corpus_statements_never_panic() {
    let catalog = load_schema_file(&fixture("corpus/schema.sql")).unwrap();
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("corpus/corpus.json")).unwrap())
            .unwrap();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut parsed_variants = 0;
    for e in &entries {
        let words: Vec<&str> = e["sql"].as_str().unwrap().split(' ').collect();
        for _ in 0..20 {
            let i = (next() % words.len() as u64) as usize;
            let mut variant: Vec<&str> = words.clone();
            if next() % 2 == 0 {
                variant.remove(i);
            } else {
                variant.insert(i, words[i]);
            }
            let shape = analyze_sql(&variant.join(" "), &catalog, &[]);
            if shape.parse_error.is_none() {
                parsed_variants += 1;
            }
        }
    }
    // Enough variants parse for this to exercise the walker, not just the parser.
    assert!(parsed_variants > 1000, "{parsed_variants}");
}
