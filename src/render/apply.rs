//! What `apply` did, per index: built or why not, time, size, and whether
//! the planner now uses it for the statements it was meant for.

use super::table::{fmt_ms, new_table};
use crate::db::apply::{BuildOutcome, BuildStatus};
use std::io::Write;

pub fn write_apply_table(out: &mut impl Write, outcomes: &[BuildOutcome]) -> std::io::Result<()> {
    let mut table = new_table();
    table.set_header(vec![
        "index",
        "table",
        "result",
        "time",
        "size",
        "planner uses it",
    ]);
    for o in outcomes {
        let result = match &o.status {
            BuildStatus::Built if o.partitions > 0 => {
                format!("built ({} partitions)", o.partitions)
            }
            BuildStatus::Built => "built".to_string(),
            BuildStatus::AlreadyPresent => "already there".to_string(),
            BuildStatus::ServedByExisting { index } => format!("served by {index}"),
            BuildStatus::Failed { error } => format!("FAILED: {error}"),
            BuildStatus::Cancelled => "cancelled (nothing left behind)".to_string(),
            BuildStatus::NotStarted => "not started".to_string(),
        };
        let result = if o.invalid_dropped {
            format!("{result}; invalid leftover dropped")
        } else {
            result
        };
        let used = o.rechecks.iter().filter(|r| r.uses_index).count();
        let uses = if o.rechecks.is_empty() {
            "-".to_string()
        } else {
            let costs: Vec<String> = o
                .rechecks
                .iter()
                .map(|r| match (r.cost_before, r.cost_after) {
                    (Some(b), Some(a)) => format!("{}: {b:.0} → {a:.0}", r.fingerprint),
                    _ => format!("{}: not planned", r.fingerprint),
                })
                .collect();
            format!(
                "{used}/{} statements\n{}",
                o.rechecks.len(),
                costs.join("\n")
            )
        };
        table.add_row(vec![
            o.name.clone(),
            o.table.to_string(),
            result,
            fmt_ms(Some(o.seconds * 1000.0)),
            o.size_bytes
                .map(super::recommend::fmt_bytes)
                .unwrap_or_else(|| "-".into()),
            uses,
        ]);
    }
    writeln!(out, "{table}")
}

pub fn write_apply_json(out: &mut impl Write, outcomes: &[BuildOutcome]) -> std::io::Result<()> {
    let doc = serde_json::json!({
        "schema_version": 1,
        "command": "apply",
        "indexes": outcomes,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
