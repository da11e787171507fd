//! Load runs against a live database and what is learned from them:
//! `pool` is bench-pool's (pools, client tasks, scripts, replay, sweep, and
//! the report its measurements become), `stats` is pure (confidence
//! intervals, histograms, USL fit, knee, recommendation); `cache` is
//! bench-cache's.

pub mod cache;
pub mod pool;
pub mod stats;
