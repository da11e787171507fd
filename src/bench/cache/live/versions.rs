//! Staleness bookkeeping, in process: the latest committed version of each
//! key (written after the write's COMMIT returned) and when recent
//! versions were committed. A cache hit whose value carries an older
//! version than the latest is a stale read; how stale is the time since
//! the first version newer than the cached one was committed.

use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// Commit times kept per written key: a stale value is almost always one
/// version behind (the cache-aside race), rarely more.
const COMMITS_KEPT: usize = 16;

pub struct VersionBook {
    latest: Vec<AtomicI64>,
    /// Only keys that were written have an entry: writes are the rare
    /// path, so one lock is enough.
    commits: Mutex<FxHashMap<u32, VecDeque<(i64, Instant)>>>,
}

impl VersionBook {
    /// Every key starts at version 0: older than any version the database
    /// hands out, so nothing is stale before the first write.
    pub fn new(keys: u32) -> VersionBook {
        VersionBook {
            latest: (0..keys).map(|_| AtomicI64::new(0)).collect(),
            commits: Mutex::new(FxHashMap::default()),
        }
    }

    /// Records that `version` of `key` was committed at `at`.
    pub fn committed(&self, key: u32, version: i64, at: Instant) {
        let Some(latest) = self.latest.get(key as usize) else {
            return;
        };
        latest.fetch_max(version, Ordering::AcqRel);
        let mut commits = self.commits.lock().unwrap_or_else(|p| p.into_inner());
        let log = commits.entry(key).or_default();
        // Two writers may report out of order; keep the log sorted.
        let at_pos = log.partition_point(|&(v, _)| v < version);
        log.insert(at_pos, (version, at));
        if log.len() > COMMITS_KEPT {
            log.pop_front();
        }
    }

    /// How long a value of `key` at `cached` version has been out of date
    /// at `now`, or `None` when it is current.
    #[inline]
    pub fn staleness(&self, key: u32, cached: i64, now: Instant) -> Option<Duration> {
        let latest = self.latest.get(key as usize)?.load(Ordering::Acquire);
        if cached >= latest {
            return None;
        }
        let commits = self.commits.lock().unwrap_or_else(|p| p.into_inner());
        let since = commits.get(&key).and_then(|log| {
            // The first newer version made the cached one stale; when it
            // has left the log, the oldest kept is the best lower bound.
            log.iter()
                .find(|&&(v, _)| v > cached)
                .or_else(|| log.front())
                .map(|&(_, t)| t)
        })?;
        Some(now.saturating_duration_since(since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_older_than_the_latest_commit_is_stale_since_the_next_version() {
        let book = VersionBook::new(4);
        let t0 = Instant::now();
        assert_eq!(book.staleness(1, 1, t0), None);
        book.committed(1, 2, t0);
        book.committed(1, 3, t0 + Duration::from_millis(5));
        let now = t0 + Duration::from_millis(10);
        assert_eq!(book.staleness(1, 3, now), None);
        assert_eq!(book.staleness(1, 2, now), Some(Duration::from_millis(5)));
        assert_eq!(book.staleness(1, 1, now), Some(Duration::from_millis(10)));
        // Other keys and keys out of range are never stale.
        assert_eq!(book.staleness(0, 1, now), None);
        assert_eq!(book.staleness(99, 1, now), None);
        book.committed(99, 5, now);
    }

    #[test]
    fn out_of_order_reports_keep_the_latest() {
        let book = VersionBook::new(1);
        let t0 = Instant::now();
        book.committed(0, 3, t0 + Duration::from_millis(2));
        book.committed(0, 2, t0);
        assert_eq!(
            book.staleness(0, 2, t0 + Duration::from_millis(3)),
            Some(Duration::from_millis(1))
        );
        assert_eq!(
            book.staleness(0, 1, t0 + Duration::from_millis(3)),
            Some(Duration::from_millis(3))
        );
    }
}
