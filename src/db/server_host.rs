//! What can be known of the machine the server runs on, for the memory
//! settings advice: given on the command line, or — when the server is
//! reached through a Unix socket or a loopback address — read from this
//! machine (/proc/meminfo). A remote server's machine
//! cannot be seen from SQL without superuser file access, so it stays
//! unknown unless given.

use super::ConnInfo;
use crate::findings::health::{Machine, Storage};

/// Facts given as flags win; the rest is read locally when the server is
/// local.
pub fn machine(info: &ConnInfo, memory_bytes: Option<u64>, storage: Option<Storage>) -> Machine {
    let local = is_local(info);
    let mut m = Machine {
        memory_bytes,
        storage,
        source: None,
    };
    let mut sources = Vec::new();
    if memory_bytes.is_some() {
        sources.push("flags");
    }
    if local {
        if m.memory_bytes.is_none() {
            m.memory_bytes = local_memory_bytes();
        }
        sources.push("this host (the server is local)");
    }
    if !sources.is_empty() {
        m.source = Some(sources.join(", "));
    }
    m
}

fn is_local(info: &ConnInfo) -> bool {
    // No host at all means libpq's default: the local Unix socket.
    info.hosts.iter().all(|h| {
        h.starts_with('/')
            || h == "localhost"
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

fn local_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&text)
}

/// `MemTotal:  24563828 kB` → bytes.
fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read() {
        assert_eq!(
            parse_meminfo("MemTotal:       24563828 kB\nMemFree: 1 kB\n"),
            Some(24_563_828 * 1024)
        );
        assert_eq!(parse_meminfo("nothing"), None);
    }

    #[test]
    fn flags_win_and_remote_servers_stay_unknown() {
        let remote =
            ConnInfo::resolve(Some("postgres://db.example.internal/app"), &|_| None).unwrap();
        let m = machine(&remote, None, None);
        assert_eq!(m.memory_bytes, None);
        assert_eq!(m.source, None);
        let m = machine(&remote, Some(64 << 30), Some(Storage::Ssd));
        assert_eq!(m.memory_bytes, Some(64 << 30));
        assert_eq!(m.source.as_deref(), Some("flags"));
        let local = ConnInfo::resolve(Some("postgres://127.0.0.1/app"), &|_| None).unwrap();
        assert!(machine(&local, None, None).memory_bytes.is_some());
    }
}
