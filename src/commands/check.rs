//! `pgadvisor check`: connect and say what pgadvisor can do with this
//! database, and what to change where it cannot.

use crate::cli::{CheckArgs, TableOrJson};
use crate::db::check::{ServerCheck, check_server};
use crate::db::{SessionSettings, connect, resolve_from_env};
use crate::render::check::{write_check_json, write_check_table};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// One thing pgadvisor may want to do, and whether it can.
#[derive(Clone, Debug, Serialize)]
pub struct Capability {
    pub feature: &'static str,
    pub ready: bool,
    pub advice: Option<String>,
}

pub async fn run(args: CheckArgs) -> Result<ExitCode> {
    let info = resolve_from_env(
        args.connect.database.as_deref(),
        args.connect.connect_timeout,
    )?;
    let client = connect(&info, &SessionSettings::default()).await?;
    let check = check_server(&client).await?;
    let capabilities = capabilities(&check);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        TableOrJson::Json => {
            write_check_json(&mut out, &info.display_url(), &check, &capabilities)?
        }
        TableOrJson::Table => {
            write_check_table(&mut out, &info.display_url(), &check, &capabilities)?
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// What the server and role allow, feature by feature.
pub fn capabilities(c: &ServerCheck) -> Vec<Capability> {
    let mut caps = Vec::new();
    let hypopg = match (&c.hypopg.installed_version, &c.hypopg.available_version) {
        (Some(_), _) => (true, None),
        (None, Some(_)) if c.role.superuser => (
            true,
            Some("hypopg is available; pgadvisor runs CREATE EXTENSION hypopg when it needs it".to_string()),
        ),
        (None, Some(_)) => (
            false,
            Some("hypopg is available but not installed: a superuser must run CREATE EXTENSION hypopg in this database".to_string()),
        ),
        (None, None) => (
            false,
            Some(format!(
                "install the hypopg package on the server (Debian/Ubuntu: apt-get install postgresql-{}-hypopg), then CREATE EXTENSION hypopg",
                c.server_version_num / 10000
            )),
        ),
    };
    caps.push(Capability {
        feature: "what-if index costing (recommend-indexes)",
        ready: hypopg.0,
        advice: hypopg.1,
    });
    let pgss = &c.pg_stat_statements;
    let pgss_cap = if !pgss.preloaded {
        (
            false,
            Some(
                "add pg_stat_statements to shared_preload_libraries and restart the server"
                    .to_string(),
            ),
        )
    } else if pgss.extension.installed_version.is_none() {
        (
            false,
            Some("run CREATE EXTENSION pg_stat_statements in this database".to_string()),
        )
    } else if let Some(e) = &pgss.error {
        (
            false,
            Some(format!("pg_stat_statements cannot be read: {e}")),
        )
    } else if pgss.hidden_texts.unwrap_or(0) > 0 {
        (
            true,
            Some(
                "some statement texts are hidden: grant pg_read_all_stats to this role to see all"
                    .to_string(),
            ),
        )
    } else {
        (true, None)
    };
    caps.push(Capability {
        feature: "workload from pg_stat_statements",
        ready: pgss_cap.0,
        advice: pgss_cap.1,
    });
    let stats_ok = c.role.superuser || c.role.pg_monitor || c.role.pg_read_all_stats;
    caps.push(Capability {
        feature: "health checks over all sessions and statistics",
        ready: stats_ok,
        advice: (!stats_ok).then(|| format!("GRANT pg_monitor TO {}", quote_ident(&c.role.name))),
    });
    caps
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
