//! The `check` report: table for people, JSON (schema_version 1) for scripts.

use super::table::new_table;
use crate::commands::check::Capability;
use crate::db::check::ServerCheck;
use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct CheckDocument<'a> {
    schema_version: u32,
    command: &'static str,
    target: &'a str,
    server: &'a ServerCheck,
    capabilities: &'a [Capability],
}

pub fn write_check_json(
    out: &mut impl Write,
    target: &str,
    check: &ServerCheck,
    capabilities: &[Capability],
) -> std::io::Result<()> {
    let doc = CheckDocument {
        schema_version: 1,
        command: "check",
        target,
        server: check,
        capabilities,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn version(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".to_string())
}

pub fn write_check_table(
    out: &mut impl Write,
    target: &str,
    c: &ServerCheck,
    capabilities: &[Capability],
) -> std::io::Result<()> {
    writeln!(out, "connected to {target}")?;
    let mut t = new_table();
    t.set_header(vec!["item", "value"]);
    t.add_row(vec!["server version".to_string(), c.server_version.clone()]);
    t.add_row(vec!["database".to_string(), c.database.clone()]);
    t.add_row(vec![
        "TLS".to_string(),
        if c.ssl {
            format!("yes ({})", version(&c.ssl_version))
        } else {
            "no".to_string()
        },
    ]);
    t.add_row(vec!["role".to_string(), c.role.name.clone()]);
    t.add_row(vec![
        "superuser".to_string(),
        yes_no(c.role.superuser).to_string(),
    ]);
    t.add_row(vec![
        "pg_monitor".to_string(),
        yes_no(c.role.pg_monitor).to_string(),
    ]);
    t.add_row(vec![
        "pg_read_all_stats".to_string(),
        yes_no(c.role.pg_read_all_stats).to_string(),
    ]);
    t.add_row(vec![
        "CREATE in database".to_string(),
        yes_no(c.role.can_create_in_database).to_string(),
    ]);
    t.add_row(vec![
        "hypopg".to_string(),
        format!(
            "available {}, installed {}",
            version(&c.hypopg.available_version),
            version(&c.hypopg.installed_version)
        ),
    ]);
    let p = &c.pg_stat_statements;
    t.add_row(vec![
        "pg_stat_statements".to_string(),
        format!(
            "available {}, installed {}, preloaded {}{}",
            version(&p.extension.available_version),
            version(&p.extension.installed_version),
            yes_no(p.preloaded),
            p.statements
                .map(|n| format!(", {n} statements"))
                .unwrap_or_default()
        ),
    ]);
    t.add_row(vec![
        "session limits".to_string(),
        format!(
            "statement_timeout {}, lock_timeout {}, application_name {}",
            c.session.statement_timeout, c.session.lock_timeout, c.session.application_name
        ),
    ]);
    writeln!(out, "{t}")?;
    for cap in capabilities {
        let mark = if cap.ready { "ok  " } else { "todo" };
        match &cap.advice {
            Some(a) => writeln!(out, "{mark} {}: {a}", cap.feature)?,
            None => writeln!(out, "{mark} {}", cap.feature)?,
        }
    }
    Ok(())
}
