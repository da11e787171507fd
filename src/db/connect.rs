//! Opening sessions: every connection pgadvisor makes goes through here, so
//! every session carries application_name, statement_timeout and
//! lock_timeout (safety contract, point 3).

use super::conninfo::{ConnInfo, SslMode};
use super::tls::client_config;
use anyhow::{Context, Result};
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

/// Name every session reports in pg_stat_activity.
pub const APPLICATION_NAME: &str = "pgadvisor";

/// Limits applied to every session.
#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(5),
        }
    }
}

/// The driver settings for `info` (hosts, TLS mode, timeouts,
/// application_name); the bench pool builds its connections from these too.
pub(crate) fn driver_config(info: &ConnInfo) -> Config {
    let mut config = Config::new();
    for host in &info.hosts {
        if host.starts_with('/') {
            config.host_path(host);
        } else {
            config.host(host);
        }
    }
    for port in &info.ports {
        config.port(*port);
    }
    if let Some(user) = &info.user {
        config.user(user);
    }
    if let Some(password) = &info.password {
        config.password(password);
    }
    if let Some(dbname) = &info.dbname {
        config.dbname(dbname);
    }
    if let Some(options) = &info.options {
        config.options(options);
    }
    if let Some(timeout) = info.connect_timeout() {
        config.connect_timeout(timeout);
    }
    config.application_name(APPLICATION_NAME);
    config.ssl_mode(match info.effective_sslmode() {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            tokio_postgres::config::SslMode::Require
        }
    });
    config
}

/// Connects and applies the session settings. Errors name the target
/// (without its password).
pub async fn connect(info: &ConnInfo, settings: &SessionSettings) -> Result<Client> {
    let target = info.display_url();
    let config = driver_config(info);
    let tls = client_config(info.effective_sslmode(), info.sslrootcert.as_deref())
        .with_context(|| format!("cannot connect to {target}"))?;
    let client = match tls {
        Some(tls) => {
            let (client, connection) = config
                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
                .await
                .with_context(|| format!("cannot connect to {target}"))?;
            tokio::spawn(connection);
            client
        }
        None => {
            let (client, connection) = config
                .connect(NoTls)
                .await
                .with_context(|| format!("cannot connect to {target}"))?;
            tokio::spawn(connection);
            client
        }
    };
    client
        .batch_execute(&session_setup_sql(settings))
        .await
        .with_context(|| format!("cannot set session limits on {target}"))?;
    Ok(client)
}

/// The SET statements run at the start of every session.
pub fn session_setup_sql(settings: &SessionSettings) -> String {
    format!(
        "SET statement_timeout = '{}ms'; SET lock_timeout = '{}ms'; SET application_name = '{APPLICATION_NAME}'",
        settings.statement_timeout.as_millis(),
        settings.lock_timeout.as_millis()
    )
}
