//! The command line itself: help texts, usage errors, exit codes, error
//! format, completions and man pages.

use crate::util::{log_fixture, pgadvisor, run, stderr, stdout};
use std::process::Stdio;

#[test]
fn help_for_every_subcommand_is_stable() {
    let top = run(&["--help"]);
    assert!(top.status.success());
    insta::assert_snapshot!("help", stdout(&top));
    for sub in [
        "workload",
        "recommend-indexes",
        "apply",
        "analyze",
        "monitor",
        "check",
        "completions",
        "man",
    ] {
        let out = run(&[sub, "--help"]);
        assert!(out.status.success(), "{sub} --help");
        insta::assert_snapshot!(format!("help_{sub}"), stdout(&out));
    }
}

#[test]
fn help_for_bench_pool_is_stable() {
    let out = run(&["bench-pool", "--help"]);
    assert!(out.status.success());
    insta::assert_snapshot!("help_bench-pool", stdout(&out));
}

#[test]
fn help_for_bench_cache_is_stable() {
    let out = run(&["bench-cache", "--help"]);
    assert!(out.status.success());
    insta::assert_snapshot!("help_bench-cache", stdout(&out));
}

#[test]
fn bench_pool_usage_errors_exit_2() {
    for args in [
        &["bench-pool", "--sizes", "0"][..],
        &["bench-pool", "--sizes", "1,two"][..],
        &["bench-pool", "--rate", "-5"][..],
        &["bench-pool", "--duration", "10ms"][..],
        &[
            "bench-pool",
            "--builtin",
            "select-only",
            "--script",
            "s.sql",
        ][..],
        &["bench-pool", "app.log", "--script", "s.sql"][..],
        &["bench-pool", "--builtin", "write-only"][..],
        &["bench-pool", "--repeats", "0"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["no-such-command"][..],
        &["workload"][..],
        &["workload", "x.log", "--sort", "sideways"][..],
        &["workload", "x.log", "--no-such-flag"][..],
        &["recommend-indexes"][..],
        &["recommend-indexes", "x.log", "--budget", "lots"][..],
        &["recommend-indexes", "x.log", "--yes"][..],
        &[
            "recommend-indexes",
            "x.log",
            "--schema",
            "s.sql",
            "-d",
            "postgres://x/y",
        ][..],
        &["apply"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn unreadable_file_is_one_error_naming_it() {
    let out = run(&["workload", "/nonexistent/postgresql.log"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: reading /nonexistent/postgresql.log"),
        "{err}"
    );
    assert!(
        err.contains("cannot open /nonexistent/postgresql.log"),
        "{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn input_with_nothing_usable_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.log");
    std::fs::write(
        &path,
        b"\xff\xfe not a log\nstill not a log\n\tcontinuation of nothing\n",
    )
    .unwrap();
    let out = run(&["workload", path.to_str().unwrap(), "--log-format", "stderr"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("nothing usable"), "{}", stderr(&out));
}

#[test]
fn completions_for_common_shells() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = stdout(&out);
        assert!(
            text.contains("workload"),
            "{shell} completions mention subcommands"
        );
    }
}

#[test]
fn man_pages_are_generated() {
    let out = run(&["man"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains(".TH pgadvisor"));
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for page in ["pgadvisor.1", "pgadvisor-workload.1", "pgadvisor-check.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).expect(page);
        assert!(text.contains(".TH"), "{page}");
    }
}

#[test]
fn closed_stdout_is_not_an_error() {
    let mut child = pgadvisor()
        .args([
            "workload",
            &log_fixture("jsonlog.json"),
            "--format",
            "json",
            "--top",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
}
