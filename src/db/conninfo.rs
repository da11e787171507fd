//! Connection strings as libpq reads them: `postgres://` URLs and
//! `key=value` strings, completed from the `PG*` environment variables and
//! ~/.pgpass, with a display form that never shows the password.
//!
//! tokio-postgres parses both forms too, but it rejects `sslmode=verify-ca`
//! and `verify-full` and knows nothing of PG* variables or .pgpass, so the
//! string is read here and the driver's Config is built from the result.

use super::pgpass;
use anyhow::{Context, Result, anyhow, bail};
use percent_encoding::percent_decode_str;
use std::path::PathBuf;
use std::time::Duration;

/// Default seconds to wait for a connection.
pub const DEFAULT_CONNECT_TIMEOUT: u64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SslMode {
    Disable,
    Allow,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => bail!(
                "invalid sslmode {other:?} (expected disable, allow, prefer, require, verify-ca or verify-full)"
            ),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Allow => "allow",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// A resolved connection target.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnInfo {
    /// Host names, IP addresses or socket directories (starting with `/`).
    pub hosts: Vec<String>,
    /// One port for all hosts, or one per host.
    pub ports: Vec<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub dbname: Option<String>,
    pub sslmode: SslMode,
    /// Whether sslmode was given at all (libpq: `require` plus a root
    /// certificate means verify-ca).
    pub sslmode_explicit: bool,
    pub sslrootcert: Option<String>,
    pub connect_timeout: Option<u64>,
    pub options: Option<String>,
    pub passfile: Option<String>,
}

impl std::fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password, not even in debug output.
        write!(f, "ConnInfo({})", self.display_url())
    }
}

impl ConnInfo {
    /// Parses a URL or a key=value string.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            parse_url(t)
        } else {
            parse_key_values(t)
        }
    }

    /// Resolves the connection the way libpq would: the given string (or
    /// nothing), then PG* variables for what it lacks, then defaults; the
    /// password from ~/.pgpass if still missing.
    pub fn resolve(given: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let mut info = match given {
            Some(s) => Self::parse(s).context("cannot read the connection string")?,
            None => Self::default(),
        };
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        if info.hosts.is_empty()
            && let Some(h) = var("PGHOST")
        {
            info.hosts = h.split(',').map(str::to_string).collect();
        }
        if info.ports.is_empty()
            && let Some(p) = var("PGPORT")
        {
            info.ports = parse_ports(&p)?;
        }
        if info.user.is_none() {
            info.user = var("PGUSER");
        }
        if info.password.is_none() {
            info.password = var("PGPASSWORD");
        }
        if info.dbname.is_none() {
            info.dbname = var("PGDATABASE");
        }
        if !info.sslmode_explicit
            && let Some(m) = var("PGSSLMODE")
        {
            info.sslmode = SslMode::parse(&m).context("PGSSLMODE")?;
            info.sslmode_explicit = true;
        }
        if info.sslrootcert.is_none() {
            info.sslrootcert = var("PGSSLROOTCERT");
        }
        if info.connect_timeout.is_none()
            && let Some(t) = var("PGCONNECT_TIMEOUT")
        {
            info.connect_timeout = Some(
                t.parse()
                    .map_err(|_| anyhow!("PGCONNECT_TIMEOUT {t:?} is not a number"))?,
            );
        }
        if info.passfile.is_none() {
            info.passfile = var("PGPASSFILE");
        }
        if info.hosts.is_empty() {
            // libpq's default: the Unix socket directory, else localhost.
            let socket_dir = "/var/run/postgresql";
            info.hosts = vec![if std::path::Path::new(socket_dir).is_dir() {
                socket_dir.to_string()
            } else {
                "localhost".to_string()
            }];
        }
        if info.ports.is_empty() {
            info.ports = vec![5432];
        }
        if info.ports.len() != 1 && info.ports.len() != info.hosts.len() {
            bail!(
                "{} ports given for {} hosts: give one port, or one per host",
                info.ports.len(),
                info.hosts.len()
            );
        }
        if info.user.is_none() {
            info.user = var("USER").or_else(|| var("LOGNAME"));
        }
        if info.dbname.is_none() {
            info.dbname = info.user.clone();
        }
        if info.password.is_none() {
            info.password = info.password_from_passfile(env);
        }
        Ok(info)
    }

    /// The port for host `i`.
    pub fn port(&self, i: usize) -> u16 {
        *self.ports.get(i).or(self.ports.first()).unwrap_or(&5432)
    }

    pub fn connect_timeout(&self) -> Option<Duration> {
        match self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT) {
            0 => None,
            // libpq treats values below 2 as 2 seconds.
            s => Some(Duration::from_secs(s.max(2))),
        }
    }

    /// The effective TLS mode after libpq's rule that `require` with a root
    /// certificate verifies the chain.
    pub fn effective_sslmode(&self) -> SslMode {
        if self.sslmode == SslMode::Require && self.sslrootcert.is_some() {
            SslMode::VerifyCa
        } else {
            self.sslmode
        }
    }

    /// A URL for messages: user, hosts, ports, database and TLS mode, no password.
    pub fn display_url(&self) -> String {
        let mut s = String::from("postgres://");
        if let Some(u) = &self.user {
            s.push_str(u);
            s.push('@');
        }
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if h.starts_with('/') {
                    format!("[socket {h}]:{}", self.port(i))
                } else {
                    format!("{h}:{}", self.port(i))
                }
            })
            .collect();
        s.push_str(&hosts.join(","));
        if let Some(d) = &self.dbname {
            s.push('/');
            s.push_str(d);
        }
        if self.sslmode_explicit {
            s.push_str("?sslmode=");
            s.push_str(self.sslmode.as_str());
        }
        s
    }

    fn password_from_passfile(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let path = match &self.passfile {
            Some(p) => PathBuf::from(p),
            None => PathBuf::from(env("HOME")?).join(".pgpass"),
        };
        let text = std::fs::read_to_string(path).ok()?;
        pgpass::lookup(
            &text,
            self.hosts.first()?,
            self.port(0),
            self.dbname.as_deref().unwrap_or(""),
            self.user.as_deref().unwrap_or(""),
        )
    }
}

fn parse_ports(s: &str) -> Result<Vec<u16>> {
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| anyhow!("invalid port {p:?}"))
        })
        .collect()
}

fn decode(s: &str) -> Result<String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| anyhow!("invalid percent-encoding in the connection URL"))
}

fn apply_param(info: &mut ConnInfo, key: &str, value: String) -> Result<()> {
    match key {
        "host" | "hostaddr" => info.hosts = value.split(',').map(str::to_string).collect(),
        "port" => info.ports = parse_ports(&value)?,
        "user" => info.user = Some(value),
        "password" => info.password = Some(value),
        "dbname" => info.dbname = Some(value),
        "sslmode" => {
            info.sslmode = SslMode::parse(&value)?;
            info.sslmode_explicit = true;
        }
        "sslrootcert" => info.sslrootcert = Some(value),
        "connect_timeout" => {
            info.connect_timeout = Some(
                value
                    .parse()
                    .map_err(|_| anyhow!("connect_timeout {value:?} is not a number"))?,
            )
        }
        "options" => info.options = Some(value),
        "passfile" => info.passfile = Some(value),
        // pgadvisor always identifies itself as application_name=pgadvisor;
        // other libpq keys that do not change where or how we connect are accepted and ignored.
        "application_name"
        | "fallback_application_name"
        | "keepalives"
        | "keepalives_idle"
        | "target_session_attrs"
        | "gssencmode"
        | "channel_binding"
        | "sslcompression" => {}
        "sslcert" | "sslkey" | "sslpassword" => {
            bail!("{key} (client certificates) is not supported yet")
        }
        other => bail!("unknown connection parameter {other:?}"),
    }
    Ok(())
}

fn parse_url(s: &str) -> Result<ConnInfo> {
    let rest = s
        .strip_prefix("postgresql://")
        .or_else(|| s.strip_prefix("postgres://"))
        .expect("caller checked the scheme");
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match main.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (main, None),
    };
    let mut info = ConnInfo::default();
    let hostpart = match authority.rsplit_once('@') {
        Some((userinfo, hostpart)) => {
            match userinfo.split_once(':') {
                Some((u, p)) => {
                    info.user = Some(decode(u)?).filter(|u| !u.is_empty());
                    info.password = Some(decode(p)?);
                }
                None => info.user = Some(decode(userinfo)?).filter(|u| !u.is_empty()),
            }
            hostpart
        }
        None => authority,
    };
    if !hostpart.is_empty() {
        let mut ports = Vec::new();
        for spec in hostpart.split(',') {
            let (host, port) = if let Some(inner) = spec.strip_prefix('[') {
                // [IPv6]:port
                let (addr, after) = inner
                    .split_once(']')
                    .ok_or_else(|| anyhow!("unclosed [ in host {spec:?}"))?;
                (addr.to_string(), after.strip_prefix(':'))
            } else {
                match spec.rsplit_once(':') {
                    Some((h, p)) => (decode(h)?, Some(p)),
                    None => (decode(spec)?, None),
                }
            };
            if !host.is_empty() {
                info.hosts.push(host);
            }
            if let Some(p) = port.filter(|p| !p.is_empty()) {
                ports.push(
                    p.parse::<u16>()
                        .map_err(|_| anyhow!("invalid port {p:?} in the connection URL"))?,
                );
            }
        }
        info.ports = ports;
    }
    if let Some(db) = path.filter(|p| !p.is_empty()) {
        info.dbname = Some(decode(db)?);
    }
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| anyhow!("connection URL parameter {pair:?} has no value"))?;
            apply_param(&mut info, &decode(k)?, decode(v)?)?;
        }
    }
    Ok(info)
}

fn parse_key_values(s: &str) -> Result<ConnInfo> {
    let mut info = ConnInfo::default();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            bail!("expected key=value in the connection string, found {key:?}");
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                bail!("unterminated quoted value for {key:?} in the connection string");
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '\\' {
                    chars.next();
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                    continue;
                }
                value.push(c);
                chars.next();
            }
        }
        apply_param(&mut info, &key, value)?;
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn url_forms() {
        let i = ConnInfo::parse("postgres://app:s%40cret@db1:5433,[::1]:5434/shop?sslmode=verify-full&sslrootcert=/ca.pem").unwrap();
        assert_eq!(i.user.as_deref(), Some("app"));
        assert_eq!(i.password.as_deref(), Some("s@cret"));
        assert_eq!(i.hosts, vec!["db1", "::1"]);
        assert_eq!(i.ports, vec![5433, 5434]);
        assert_eq!(i.dbname.as_deref(), Some("shop"));
        assert_eq!(i.sslmode, SslMode::VerifyFull);
        assert_eq!(i.sslrootcert.as_deref(), Some("/ca.pem"));
        let i = ConnInfo::parse("postgresql:///shop?host=/var/run/postgresql").unwrap();
        assert_eq!(i.hosts, vec!["/var/run/postgresql"]);
        assert!(ConnInfo::parse("postgres://h/db?sslmode=sometimes").is_err());
        assert!(ConnInfo::parse("postgres://h:notaport/db").is_err());
    }

    #[test]
    fn key_value_forms() {
        let i = ConnInfo::parse(
            r"host=db1 port = 5433 dbname='my db' password='it\'s' sslmode=require",
        )
        .unwrap();
        assert_eq!(i.hosts, vec!["db1"]);
        assert_eq!(i.ports, vec![5433]);
        assert_eq!(i.dbname.as_deref(), Some("my db"));
        assert_eq!(i.password.as_deref(), Some("it's"));
        assert_eq!(i.sslmode, SslMode::Require);
        assert!(ConnInfo::parse("host").is_err());
        assert!(ConnInfo::parse("nonsense=1").is_err());
    }

    #[test]
    fn environment_fills_gaps_only() {
        let env = env_of(&[
            ("PGHOST", "envhost"),
            ("PGPORT", "6000"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "envpw"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "require"),
        ]);
        let i = ConnInfo::resolve(Some("postgres://me@h/db"), &env).unwrap();
        assert_eq!(i.hosts, vec!["h"]);
        assert_eq!(i.ports, vec![6000]);
        assert_eq!(i.user.as_deref(), Some("me"));
        assert_eq!(i.password.as_deref(), Some("envpw"));
        assert_eq!(i.dbname.as_deref(), Some("db"));
        assert_eq!(i.sslmode, SslMode::Require);
        let i = ConnInfo::resolve(None, &env).unwrap();
        assert_eq!(i.hosts, vec!["envhost"]);
        assert_eq!(i.user.as_deref(), Some("envuser"));
        assert_eq!(i.dbname.as_deref(), Some("envdb"));
    }

    #[test]
    fn display_hides_password() {
        let i = ConnInfo::resolve(Some("postgres://app:topsecret@db1/shop"), &env_of(&[])).unwrap();
        let shown = format!("{} {:?}", i.display_url(), i);
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(shown.contains("postgres://app@db1:5432/shop"), "{shown}");
    }

    #[test]
    fn pgpass_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let pass = dir.path().join("pgpass");
        std::fs::write(
            &pass,
            "# comment\nother:*:*:*:no\ndb1:5432:shop:app:pa\\:ss\n",
        )
        .unwrap();
        let env = env_of(&[("PGPASSFILE", pass.to_str().unwrap())]);
        let i = ConnInfo::resolve(Some("postgres://app@db1/shop"), &env).unwrap();
        assert_eq!(i.password.as_deref(), Some("pa:ss"));
    }

    #[test]
    fn require_with_root_cert_verifies_chain() {
        let i = ConnInfo::parse("host=h sslmode=require sslrootcert=/ca.pem").unwrap();
        assert_eq!(i.effective_sslmode(), SslMode::VerifyCa);
    }
}
