//! Load runs against a live database and what is learned from them:
//! `pool` drives bench-pool's load (pools, client tasks, scripts, replay,
//! sweep), `stats` is pure (confidence intervals, histograms, USL fit,
//! knee, recommendation), `report` turns its measurements into the report
//! data; `cache` is bench-cache's.

pub mod cache;
pub mod pool;
pub mod report;
pub mod stats;
