//! The first cache tier: an in-process moka cache (sync flavour: a hit is
//! a hash-map read, no await) of at most `capacity` entries, with its LRU
//! eviction policy by default so it can be held against the simulated LRU
//! (or TinyLFU, moka's default, on request).
//!
//! moka keeps its eviction order off the hot path: reads and writes are
//! logged to bounded channels and applied later, in batches, by whichever
//! caller gets the housekeeping lock. Between two batches the cache may
//! hold more than its capacity, and reads logged past a full channel are
//! dropped from the recency order — both make it differ from a textbook
//! LRU. Every insert here is therefore followed by `run_pending_tasks`, so
//! the cache is back at its capacity, with the reads before the insert
//! applied in order, before the next request. That costs a lock and the
//! batch per miss — small beside the miss itself (a Redis or database
//! round trip) — and leaves hits untouched.

use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use rustc_hash::FxBuildHasher;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum L1Policy {
    Lru,
    Tinylfu,
}

impl L1Policy {
    pub fn name(self) -> &'static str {
        match self {
            L1Policy::Lru => "lru",
            L1Policy::Tinylfu => "tinylfu",
        }
    }

    /// The simulated policy to compare this one with.
    pub fn simulated(self) -> crate::bench::cache::sim::PolicyKind {
        match self {
            L1Policy::Lru => crate::bench::cache::sim::PolicyKind::Lru,
            L1Policy::Tinylfu => crate::bench::cache::sim::PolicyKind::Tinylfu,
        }
    }
}

/// A cached value: what the database returned, and the version it had.
#[derive(Clone, Debug)]
pub struct Cached {
    pub version: i64,
    pub payload: Arc<[u8]>,
}

impl Cached {
    /// The form stored in Redis: the version (8 bytes, little endian), then
    /// the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.payload.len());
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Cached> {
        let (version, payload) = bytes.split_first_chunk::<8>()?;
        Some(Cached {
            version: i64::from_le_bytes(*version),
            payload: payload.into(),
        })
    }
}

#[derive(Clone)]
pub struct L1 {
    cache: Cache<u32, Cached, FxBuildHasher>,
}

impl L1 {
    pub fn new(capacity: u64, policy: L1Policy, ttl: Duration) -> L1 {
        let cache = Cache::builder()
            .max_capacity(capacity)
            .eviction_policy(match policy {
                L1Policy::Lru => EvictionPolicy::lru(),
                L1Policy::Tinylfu => EvictionPolicy::tiny_lfu(),
            })
            .time_to_live(ttl)
            .build_with_hasher(FxBuildHasher);
        L1 { cache }
    }

    #[inline]
    pub fn get(&self, key: u32) -> Option<Cached> {
        self.cache.get(&key)
    }

    /// Inserts and settles the eviction order at once (see the module
    /// comment).
    pub fn insert(&self, key: u32, value: Cached) {
        self.cache.insert(key, value);
        self.cache.run_pending_tasks();
    }

    pub fn invalidate(&self, key: u32) {
        self.cache.invalidate(&key);
    }

    /// Entries held and the bytes of their payloads, after pending
    /// evictions.
    pub fn usage(&self) -> (u64, u64) {
        self.cache.run_pending_tasks();
        let bytes = self
            .cache
            .iter()
            .map(|(_, v)| 8 + v.payload.len() as u64)
            .sum();
        (self.cache.entry_count(), bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_their_redis_form() {
        let v = Cached {
            version: 42,
            payload: Arc::from(&b"row bytes"[..]),
        };
        let back = Cached::decode(&v.encode()).unwrap();
        assert_eq!(back.version, 42);
        assert_eq!(&*back.payload, b"row bytes");
        assert!(Cached::decode(b"short").is_none());
    }

    #[test]
    fn the_lru_tier_holds_its_capacity_and_evicts_the_least_recent() {
        let l1 = L1::new(2, L1Policy::Lru, Duration::from_secs(60));
        let v = |n| Cached {
            version: n,
            payload: Arc::from(&b""[..]),
        };
        l1.insert(0, v(0));
        l1.insert(1, v(1));
        assert!(l1.get(0).is_some()); // 0 is now the most recent
        l1.insert(2, v(2)); // evicts 1
        assert_eq!(l1.usage().0, 2);
        assert!(l1.get(1).is_none());
        assert!(l1.get(0).is_some() && l1.get(2).is_some());
        l1.invalidate(0);
        assert!(l1.get(0).is_none());
    }
}
