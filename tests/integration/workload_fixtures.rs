//! Every captured log fixture against its ground truth (fixtures/logs/
//! expected.json, written from what the capture script sent, not from
//! parsing the logs): executions per kind, errors, and calls per fingerprint.

use crate::util::{log_fixture, run_json, workload_doc};
use pgadvisor::workload::fingerprint::FingerprintId;
use pgadvisor::workload::normalize::normalize_to_string;
use pgadvisor::workload::params::{parse_execute_arguments, prepared_body};
use serde_json::Value;
use std::collections::BTreeMap;

fn expected() -> Value {
    let text = std::fs::read_to_string(log_fixture("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn id_of(sql: &str) -> String {
    FingerprintId::of(&normalize_to_string(sql)).to_string()
}

/// pgbench's script texts use `:var`; an instance with a literal stands in.
fn instance_of(template: &str) -> String {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic()) {
            while chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_')
            {
                chars.next();
            }
            out.push('1');
        } else {
            out.push(c);
        }
    }
    out
}

/// Extra arguments a fixture needs (a prefix no detector could guess).
fn extra_args(name: &str, spec: &Value) -> Vec<String> {
    if name == "stderr-custom.log" {
        let prefix = spec["log_line_prefix"]
            .as_str()
            .expect("custom prefix recorded");
        vec!["--log-line-prefix".into(), prefix.into()]
    } else {
        Vec::new()
    }
}

#[test]
fn every_fixture_matches_its_ground_truth() {
    let expected = expected();
    let fixtures = expected["fixtures"].as_object().expect("fixtures");
    assert!(fixtures.len() >= 14, "all fixtures are covered");
    for (name, spec) in fixtures {
        let path = log_fixture(name);
        let mut args = vec![
            "workload".to_string(),
            path,
            "--format".into(),
            "json".into(),
            "--top".into(),
            "0".into(),
        ];
        args.extend(extra_args(name, spec));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let doc = run_json(&args);
        let summary = &doc["summary"];

        // Totals per kind and errors.
        for (kind, n) in spec["executions_by_kind"].as_object().unwrap() {
            assert_eq!(
                summary["kinds"][kind], *n,
                "{name}: executions of kind {kind}"
            );
        }
        assert_eq!(
            summary["executions"], spec["executions_total"],
            "{name}: executions"
        );
        assert_eq!(summary["errors"], spec["errors"], "{name}: errors");

        // Calls per fingerprint: every variant of a shape must land on one
        // fingerprint, and the calls of all shapes on it must add up.
        // SQL-level EXECUTE counts as the query its PREPARE named.
        let prepared: BTreeMap<String, String> = spec["queries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|q| {
                let text = q["text"].as_str()?;
                let body = prepared_body(text)?;
                let name = text.split_whitespace().nth(1)?.to_lowercase();
                Some((name, body.to_string()))
            })
            .collect();
        let resolve = |text: &str| -> String {
            match parse_execute_arguments(text) {
                Some((name, _)) => prepared
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| text.to_string()),
                None => text.to_string(),
            }
        };
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        let mut shapes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for shape in spec["queries"].as_array().unwrap() {
            let mut ids: Vec<String> = shape["variants"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| !v["text_is_template"].as_bool().unwrap_or(false))
                .map(|v| id_of(&resolve(v["text"].as_str().unwrap())))
                .collect();
            if ids.is_empty() {
                let template = shape["variants"][0]["text"].as_str().unwrap();
                if template.contains("bytes elided") {
                    continue;
                }
                ids.push(id_of(&instance_of(template)));
            }
            ids.dedup();
            assert_eq!(
                ids.len(),
                1,
                "{name}: literal and parameter forms of {} share a fingerprint",
                shape["shape"]
            );
            *want.entry(ids[0].clone()).or_default() += shape["calls"].as_u64().unwrap();
            shapes
                .entry(ids[0].clone())
                .or_default()
                .push(shape["shape"].as_str().unwrap_or("?").to_string());
        }
        let got: BTreeMap<String, u64> = doc["fingerprints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_string(),
                    f["calls"].as_u64().unwrap(),
                )
            })
            .collect();
        for (id, calls) in &want {
            let query = doc["fingerprints"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["id"] == id.as_str())
                .map(|f| f["query"].to_string())
                .unwrap_or_default();
            assert_eq!(
                got.get(id).copied(),
                Some(*calls),
                "{name}: calls of {id} {query} (shapes {:?})",
                shapes[id]
            );
        }
    }
}

#[test]
fn all_formats_of_one_workload_agree() {
    // The same workload captured as stderr (four prefixes), csvlog and
    // jsonlog gives identical fingerprints, calls and errors.
    let strip = |doc: &Value| -> BTreeMap<String, (u64, u64, String)> {
        doc["fingerprints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_string(),
                    (
                        f["calls"].as_u64().unwrap(),
                        f["errors"].as_u64().unwrap(),
                        f["kind"].as_str().unwrap().to_string(),
                    ),
                )
            })
            .collect()
    };
    let reference = strip(&workload_doc(&log_fixture("stderr-debian.log"), &[]));
    for name in [
        "stderr-pgbadger.log",
        "stderr-rds.log",
        "stderr-logstatement.log",
        "csvlog.csv",
        "jsonlog.json",
    ] {
        let doc = workload_doc(&log_fixture(name), &[]);
        assert_eq!(
            strip(&doc),
            reference,
            "{name} agrees with stderr-debian.log"
        );
    }
}
