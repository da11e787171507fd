//! The second cache tier: Redis through redis-rs's multiplexed connection
//! (one socket shared and pipelined by every client task). Every key lives
//! under a prefix unique to the run, `pgadvisor:bench:<pid>:<random>:`, and
//! is removed afterwards by SCAN MATCH prefix* + UNLINK — never FLUSHDB or
//! FLUSHALL: the server may hold other people's data. Errors name the
//! server by its URL without a password.

use anyhow::{Context, Result, anyhow};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError};
use std::time::Duration;

/// Keys per SCAN step and per UNLINK.
const SCAN_COUNT: usize = 1000;
/// Keys whose MEMORY USAGE is sampled to estimate the run's footprint.
const MEMORY_SAMPLE: usize = 64;

/// `url` without its password (`redis://user:secret@host` → `redis://user@host`).
pub fn display_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|p| p + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let user = userinfo.split(':').next().unwrap_or_default();
    let mut out = url[..scheme_end].to_string();
    if !user.is_empty() {
        out.push_str(user);
        out.push('@');
    }
    out.push_str(&rest[at + 1..]);
    out
}

/// A fresh key prefix for this run.
pub fn key_prefix() -> String {
    format!(
        "pgadvisor:bench:{}:{:08x}:",
        std::process::id(),
        fastrand::u32(..)
    )
}

/// The Redis tier of a run.
#[derive(Clone)]
pub struct RedisTier {
    /// The URL without a password, for messages and the report.
    pub url: String,
    pub prefix: String,
    conn: MultiplexedConnection,
    ttl_ms: u64,
}

/// What the tier holds at the end of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RedisUsage {
    pub keys: u64,
    /// keys × the mean MEMORY USAGE of a sample of them.
    pub estimated_bytes: u64,
}

impl RedisTier {
    /// Connects and checks the server answers (PING); the error names the
    /// server.
    pub async fn connect(url: &str, prefix: String, ttl: Duration) -> Result<RedisTier> {
        let shown = display_url(url);
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL {shown}"))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(3)));
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| anyhow!("cannot connect to Redis at {shown}: {e}"))?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| anyhow!("Redis at {shown} does not answer PING: {e}"))?;
        Ok(RedisTier {
            url: shown,
            prefix,
            conn,
            ttl_ms: ttl.as_millis().max(1) as u64,
        })
    }

    /// A connection handle for one client task (a clone of the one socket).
    pub fn handle(&self) -> MultiplexedConnection {
        self.conn.clone()
    }

    /// Writes the full key of `key` into `buf`.
    #[inline]
    pub fn key_into(&self, buf: &mut Vec<u8>, key: u32) {
        use std::io::Write;
        buf.clear();
        buf.extend_from_slice(self.prefix.as_bytes());
        let _ = write!(buf, "{key}");
    }

    pub async fn get(
        &self,
        conn: &mut MultiplexedConnection,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, RedisError> {
        redis::cmd("GET").arg(key).query_async(conn).await
    }

    /// SET with the run's TTL.
    pub async fn set(
        &self,
        conn: &mut MultiplexedConnection,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), RedisError> {
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("PX")
            .arg(self.ttl_ms)
            .query_async(conn)
            .await
    }

    /// Invalidation: the key is deleted, not updated (the next read fills it).
    pub async fn delete(
        &self,
        conn: &mut MultiplexedConnection,
        key: &[u8],
    ) -> Result<(), RedisError> {
        redis::cmd("UNLINK").arg(key).query_async(conn).await
    }

    /// The error of a failed call, naming the server.
    pub fn failure(&self, what: &str, e: RedisError) -> anyhow::Error {
        anyhow!("Redis at {} failed during {what}: {e}", self.url)
    }

    /// `used_memory` from INFO memory.
    pub async fn used_memory(&self) -> Result<u64> {
        let mut conn = self.conn.clone();
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.failure("INFO memory", e))?;
        parse_used_memory(&info)
            .ok_or_else(|| anyhow!("Redis at {} reported no used_memory", self.url))
    }

    /// Every key under the prefix, one SCAN step at a time.
    async fn scan(&self, mut each: impl AsyncFnMut(Vec<Vec<u8>>) -> Result<()>) -> Result<()> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}*", self.prefix);
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.failure("SCAN", e))?;
            if !keys.is_empty() {
                each(keys).await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Keys under the prefix and their estimated memory.
    pub async fn usage(&self) -> Result<RedisUsage> {
        let mut keys = 0u64;
        let mut sample: Vec<Vec<u8>> = Vec::new();
        self.scan(async |batch| {
            keys += batch.len() as u64;
            for k in batch {
                if sample.len() < MEMORY_SAMPLE {
                    sample.push(k);
                }
            }
            Ok(())
        })
        .await?;
        let mut conn = self.conn.clone();
        let mut sampled = 0u64;
        let mut bytes = 0u64;
        for k in &sample {
            let used: Option<u64> = redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(k)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.failure("MEMORY USAGE", e))?;
            if let Some(b) = used {
                sampled += 1;
                bytes += b;
            }
        }
        let estimated_bytes = if sampled > 0 {
            (bytes as f64 / sampled as f64 * keys as f64).round() as u64
        } else {
            0
        };
        Ok(RedisUsage {
            keys,
            estimated_bytes,
        })
    }

    /// Removes every key under the prefix; returns how many there were.
    pub async fn clear(&self) -> Result<u64> {
        let mut conn = self.conn.clone();
        let mut removed = 0u64;
        self.scan(async |batch| {
            removed += batch.len() as u64;
            redis::cmd("UNLINK")
                .arg(&batch)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| self.failure("UNLINK", e))
        })
        .await?;
        Ok(removed)
    }
}

fn parse_used_memory(info: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            display_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(
            display_url("redis://:secret@db:6379/2"),
            "redis://db:6379/2"
        );
        assert_eq!(
            display_url("rediss://app:s3cr@t@db:6380/0?x=1"),
            "rediss://app@db:6380/0?x=1"
        );
        assert_eq!(display_url("not a url"), "not a url");
    }

    #[test]
    fn prefixes_are_namespaced_and_unique() {
        let a = key_prefix();
        assert!(a.starts_with(&format!("pgadvisor:bench:{}:", std::process::id())));
        assert!(a.ends_with(':'));
        assert!(
            !a.contains(['*', '?', '[', ']', '\\']),
            "glob characters in {a}"
        );
        assert_ne!(a, key_prefix());
    }

    #[test]
    fn used_memory_is_read_from_info() {
        let info = "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n";
        assert_eq!(parse_used_memory(info), Some(1_048_576));
        assert_eq!(parse_used_memory("# Memory\r\n"), None);
    }
}
