//! Inputs beyond the per-fixture ground truth: stdin, gzip, parameters kept
//! in samples, log_statement pairing, filters, SQL files, bad input, huge
//! statements, unknown prefixes, ranking, and the JSON/table contracts.

use crate::util::{
    fixture, log_fixture, pgadvisor, run, run_in_repo, run_json, stdout, workload_doc,
};
use serde_json::Value;
use std::io::Write;
use std::process::Stdio;

fn fingerprints(doc: &Value) -> &Vec<Value> {
    doc["fingerprints"].as_array().expect("fingerprints array")
}

fn find<'a>(doc: &'a Value, query_prefix: &str) -> &'a Value {
    fingerprints(doc)
        .iter()
        .find(|f| f["query"].as_str().unwrap().starts_with(query_prefix))
        .unwrap_or_else(|| panic!("no fingerprint starting {query_prefix:?}"))
}

fn ids_and_calls(doc: &Value) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = fingerprints(doc)
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().into(),
                f["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn stdin_reads_like_a_file() {
    let path = log_fixture("stderr-debian.log.gz");
    let bytes = std::fs::read(&path).unwrap();
    let mut child = pgadvisor()
        .args(["workload", "-", "--format", "json", "--top", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let from_stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
    let from_file = workload_doc(&path, &[]);
    assert_eq!(ids_and_calls(&from_stdin), ids_and_calls(&from_file));
    assert_eq!(from_stdin["summary"]["inputs"][0]["path"], "-");
    assert_eq!(from_stdin["summary"]["inputs"][0]["compressed"], true);
}

#[test]
fn gzip_is_detected_by_content() {
    let plain = workload_doc(&log_fixture("stderr-debian.log"), &[]);
    for name in ["stderr-debian.log.gz", "stderr-debian-gz-no-extension"] {
        let doc = workload_doc(&log_fixture(name), &[]);
        assert_eq!(ids_and_calls(&doc), ids_and_calls(&plain), "{name}");
        let input = &doc["summary"]["inputs"][0];
        assert_eq!(input["compressed"], true, "{name}");
        assert_eq!(
            input["bytes"], plain["summary"]["inputs"][0]["bytes"],
            "{name}: decompressed size"
        );
    }
}

#[test]
fn samples_keep_real_parameter_values() {
    let doc = workload_doc(&log_fixture("stderr-debian.log"), &["--samples", "50"]);
    let by_email = find(&doc, "select id, name from customers where email = $1");
    let values: Vec<Value> = by_email["samples"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["parameters"].as_array().unwrap().clone())
        .collect();
    assert!(
        values.contains(&Value::from("o'brien@example.com")),
        "{values:?}"
    );
    assert!(
        values.contains(&Value::from("two\nlines@example.com")),
        "{values:?}"
    );
    let note = find(&doc, "update customers set note = $1 where id = $2");
    let has_null = note["samples"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["parameters"][0].is_null() && s["parameters"][1] == "4");
    assert!(has_null, "{note}");
    // Every sample says where it came from.
    for f in fingerprints(&doc) {
        for s in f["samples"].as_array().unwrap() {
            assert!(
                s["source"].as_str().unwrap().contains("stderr-debian.log:"),
                "{s}"
            );
        }
    }
    // EXECUTE of a prepared statement is sampled as the prepared query with its arguments.
    let prepared = find(&doc, "select id, status from orders where customer_id = $1");
    let sample = &prepared["samples"][0];
    assert!(
        sample["statement"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .starts_with("select"),
        "{sample}"
    );
    assert_eq!(
        sample["parameters"].as_array().unwrap().len(),
        1,
        "{sample}"
    );
}

#[test]
fn default_samples_are_the_slowest() {
    let doc = workload_doc(&log_fixture("stderr-debian.log"), &[]);
    for f in fingerprints(&doc) {
        let samples = f["samples"].as_array().unwrap();
        assert!(samples.len() <= 3);
        if let Some(max) = f["max_ms"].as_f64() {
            let slowest = samples
                .iter()
                .filter_map(|s| s["duration_ms"].as_f64())
                .fold(0.0, f64::max);
            assert_eq!(
                slowest, max,
                "the slowest call is among the samples of {}",
                f["query"]
            );
        }
    }
}

#[test]
fn log_statement_durations_attach_to_their_statements() {
    let doc = workload_doc(&log_fixture("stderr-logstatement.log"), &[]);
    for f in fingerprints(&doc) {
        assert_eq!(
            f["timed_calls"], f["calls"],
            "every call got its duration: {}",
            f["query"]
        );
    }
    assert!(
        doc["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["reason"] != "duration_without_statement")
    );
}

#[test]
fn database_and_user_filters() {
    let path = log_fixture("stderr-pgbadger.log");
    let all = run_json(&["workload", &path, "--format", "json"]);
    let shop = run_json(&[
        "workload", &path, "--format", "json", "--dbname", "shop", "--user", "app",
    ]);
    assert_eq!(shop["summary"]["executions"], all["summary"]["executions"]);
    let none = run_json(&[
        "workload",
        &path,
        "--format",
        "json",
        "--dbname",
        "elsewhere",
    ]);
    assert_eq!(none["summary"]["executions"], 0);
    assert_eq!(none["summary"]["filtered_out"].as_u64().unwrap(), 608 + 8);
    let nobody = run_json(&["workload", &path, "--format", "json", "--user", "nobody"]);
    assert_eq!(nobody["summary"]["executions"], 0);
}

#[test]
fn sql_files_are_split_into_statements() {
    let doc = workload_doc(&fixture("sql/app-queries.sql"), &["-v"]);
    assert_eq!(doc["summary"]["executions"], 21);
    assert_eq!(doc["summary"]["inputs"][0]["format"], "sql");
    let meta = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["reason"] == "psql_meta_command")
        .expect("the \\timing line is reported");
    assert_eq!(meta["count"], 1);
    // SQL files carry no timings.
    assert!(fingerprints(&doc).iter().all(|f| f["timed_calls"] == 0));
}

#[test]
fn bad_input_is_counted_located_and_survived() {
    let doc = workload_doc(&log_fixture("bad-input.log"), &[]);
    assert_eq!(doc["summary"]["executions"], 608);
    assert_eq!(
        warning_lines(&doc, "unrecognized_line"),
        vec![68, 222, 1909]
    );
    assert_eq!(warning_lines(&doc, "invalid_utf8"), vec![222]);
    assert_eq!(warning_lines(&doc, "truncated_last_line"), vec![2246]);
    // The table says so too, and --verbose lists the places.
    let out = run(&["workload", &log_fixture("bad-input.log"), "--verbose"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("warning: 3 lines that are not log entries"),
        "{text}"
    );
    assert!(text.contains("bad-input.log:1909"), "{text}");
}

#[test]
fn a_ten_megabyte_statement_is_counted() {
    let doc = workload_doc(&log_fixture("huge-statement.log.gz"), &[]);
    assert_eq!(doc["summary"]["executions"], 7);
    assert!(doc["summary"]["inputs"][0]["bytes"].as_u64().unwrap() > 10_000_000);
    // Its text normalizes to something small; it is not kept as a sample.
    let huge = find(&doc, "select length($1)");
    assert_eq!(huge["calls"], 1);
    assert!(huge["samples"].as_array().unwrap().is_empty());
}

#[test]
fn auto_explain_plans_are_not_executions() {
    let doc = run_json(&[
        "workload",
        &log_fixture("auto-explain.log"),
        "--format",
        "json",
    ]);
    assert_eq!(doc["summary"]["executions"], 12);
    assert!(doc["summary"]["auto_explain_plans"].as_u64().unwrap() >= 12);
}

#[test]
fn unknown_prefix_falls_back_to_severity_matching() {
    let text = std::fs::read_to_string(log_fixture("stderr-debian.log")).unwrap();
    // Replace the prefix of each entry line with a syslog-like one no preset knows.
    let rewritten: String = text
        .lines()
        .map(|l| {
            if l.starts_with('\t') {
                format!("{l}\n")
            } else {
                let rest = l.split_once(" UTC [").map(|(_, r)| r).unwrap_or(l);
                let rest = rest.split_once("] ").map(|(_, r)| r).unwrap_or(rest);
                let rest = rest.strip_prefix("app@shop ").unwrap_or(rest);
                format!("<134>Nov 28 host postgres: {rest}\n")
            }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.log");
    std::fs::write(&path, rewritten).unwrap();
    let doc = run_json(&["workload", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(doc["summary"]["executions"], 608);
    assert!(doc["summary"]["inputs"][0]["log_line_prefix"].is_null());
    assert!(
        doc["notes"][0]
            .as_str()
            .unwrap()
            .contains("--log-line-prefix")
    );
}

#[test]
fn several_inputs_merge() {
    let doc = run_json(&[
        "workload",
        &log_fixture("stderr-debian.log"),
        &log_fixture("csvlog.csv"),
        "--format",
        "json",
        "--top",
        "0",
    ]);
    assert_eq!(doc["summary"]["executions"], 1216);
    assert_eq!(doc["summary"]["inputs"].as_array().unwrap().len(), 2);
    let single = workload_doc(&log_fixture("stderr-debian.log"), &[]);
    assert_eq!(
        doc["summary"]["fingerprints"],
        single["summary"]["fingerprints"]
    );
}

#[test]
fn sort_and_top() {
    let path = log_fixture("stderr-debian.log");
    for (key, field) in [
        ("total", "total_ms"),
        ("mean", "mean_ms"),
        ("calls", "calls"),
        ("p95", "p95_ms"),
        ("p99", "p99_ms"),
    ] {
        let doc = run_json(&[
            "workload", &path, "--format", "json", "--sort", key, "--top", "5",
        ]);
        let list = fingerprints(&doc);
        assert_eq!(list.len(), 5);
        let values: Vec<f64> = list
            .iter()
            .map(|f| f[field].as_f64().unwrap_or(0.0))
            .collect();
        assert!(values.windows(2).all(|w| w[0] >= w[1]), "{key}: {values:?}");
        assert_eq!(doc["summary"]["sort"], key);
    }
}

#[test]
fn json_document_is_stable() {
    let out = run_in_repo(&[
        "workload",
        "fixtures/logs/stderr-verbose.log",
        "--format",
        "json",
        "--top",
        "0",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!("workload_json_stderr_verbose", doc);
}

#[test]
fn table_report_is_stable() {
    let out = run_in_repo(&[
        "workload",
        "fixtures/logs/stderr-verbose.log",
        "--top",
        "0",
        "--verbose",
    ]);
    insta::assert_snapshot!("workload_table_stderr_verbose", stdout(&out));
}

/// Writes `text` with a garbage line inserted after line `after` and the
/// last line cut in half (no newline at the end).
fn damaged_copy(
    dir: &std::path::Path,
    name: &str,
    text: &str,
    after: usize,
    garbage: &str,
) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap().to_string();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        out.push_str(l);
        out.push('\n');
        if i + 1 == after {
            out.push_str(garbage);
            out.push('\n');
        }
    }
    out.push_str(&last[..last.len() / 2]);
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path.to_string_lossy().into_owned()
}

fn warning_lines(doc: &Value, reason: &str) -> Vec<u64> {
    doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["reason"] == reason)
        .flat_map(|w| w["locations"].as_array().unwrap().clone())
        .map(|l| {
            l["at"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

#[test]
fn damaged_jsonlog_and_csvlog_are_survived() {
    let dir = tempfile::tempdir().unwrap();
    // A record that cannot be decoded after line 10, and the last record
    // (a disconnection) cut in half.
    for (fixture, format, garbage) in [
        ("jsonlog.json", "json", "{\"error_severity\": \"LOG\", oops"),
        (
            "csvlog.csv",
            "csv",
            "2026-11-28 06:11:50.579 UTC,\"app\",only,four",
        ),
    ] {
        let text = std::fs::read_to_string(log_fixture(fixture)).unwrap();
        let path = damaged_copy(dir.path(), fixture, &text, 10, garbage);
        let doc = workload_doc(&path, &[]);
        assert_eq!(doc["summary"]["inputs"][0]["format"], format);
        assert_eq!(
            doc["summary"]["executions"], 608,
            "{fixture}: every execution kept"
        );
        assert_eq!(
            warning_lines(&doc, "malformed_record"),
            vec![11],
            "{fixture}"
        );
        let last_line = text.lines().count() as u64 + 1;
        assert_eq!(
            warning_lines(&doc, "truncated_last_line"),
            vec![last_line],
            "{fixture}"
        );
    }
}
