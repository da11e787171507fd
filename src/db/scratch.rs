//! Scratch schemas the benchmarks create and always drop: creating and
//! filling one in a transaction that Ctrl-C can cancel, and dropping it
//! (on a new session when the old one is gone). bench-pool and
//! bench-cache bring their own SQL; the lifecycle is the same.

use super::bench_pool::cancel;
use super::{ConnInfo, SessionSettings, connect};
use crate::advisor::spec::quote_always;
use anyhow::{Context, Result};
use std::time::Duration;
use tokio_postgres::Client;

const ROLLBACK_SQL: &str = "ROLLBACK";

/// `template` with `{schema}` replaced by the quoted schema name and
/// `{timeout_ms}` by the statement timeout for the load.
pub fn render(template: &str, schema: &str, timeout_ms: u64) -> String {
    template
        .replace("{schema}", &quote_always(schema))
        .replace("{timeout_ms}", &timeout_ms.to_string())
        .trim()
        .to_string()
}

/// Runs `create` (one transaction creating and filling the schema), then
/// `vacuum`. `interrupted` resolving (Ctrl-C) cancels the statement in
/// flight; the caller drops whatever is left. `needs` says what the role
/// needs, for the error.
pub async fn create(
    client: &Client,
    info: &ConnInfo,
    schema: &str,
    create: &str,
    vacuum: &str,
    needs: &str,
    interrupted: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let target = info.display_url();
    let work = async {
        if let Err(e) = client.batch_execute(create).await {
            // A failed multi-statement transaction leaves the session in an
            // aborted block until it is rolled back.
            let _ = client.batch_execute(ROLLBACK_SQL).await;
            return Err(anyhow::Error::new(e).context(format!(
                "cannot create the scratch schema {schema} on {target} ({needs})"
            )));
        }
        client
            .batch_execute(vacuum)
            .await
            .with_context(|| format!("cannot vacuum the scratch schema {schema} on {target}"))
    };
    tokio::pin!(work);
    tokio::pin!(interrupted);
    tokio::select! {
        r = &mut work => r,
        () = &mut interrupted => {
            cancel(client, info).await;
            // The statement ends with an error now; wait for it so that the
            // session is free for the drop that follows.
            let _ = tokio::time::timeout(Duration::from_secs(10), work).await;
            anyhow::bail!("interrupted while creating the scratch schema")
        }
    }
}

/// Runs `drop_sql` (DROP SCHEMA IF EXISTS … CASCADE).
pub async fn drop(client: &Client, info: &ConnInfo, schema: &str, drop_sql: &str) -> Result<()> {
    client.batch_execute(drop_sql).await.with_context(|| {
        format!(
            "cannot drop the scratch schema {schema} on {}: drop it by hand with DROP SCHEMA {} CASCADE",
            info.display_url(),
            quote_always(schema)
        )
    })
}

/// Drops on `client`, or on a new session when that one is gone (the
/// server restarted, the session was terminated).
pub async fn drop_anyway(
    client: &Client,
    info: &ConnInfo,
    schema: &str,
    drop_sql: &str,
) -> Result<()> {
    if !client.is_closed() && drop(client, info, schema, drop_sql).await.is_ok() {
        return Ok(());
    }
    let fresh = connect(info, &SessionSettings::default()).await?;
    drop(&fresh, info, schema, drop_sql).await
}
