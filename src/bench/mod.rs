//! Load runs against a live database and what is learned from them:
//! `pool` drives the load (pool, client tasks, scripts, replay, sweep),
//! `stats` is pure (confidence intervals, histograms, USL fit, knee,
//! recommendation), `report` turns measurements into the report data.

pub mod cache;
pub mod pool;
pub mod report;
pub mod stats;
