//! bench-cache: would a cache in front of these queries pay off? `keys`
//! turns a workload (its read executions in logged order) or a synthetic
//! distribution into a stream of cache keys; `sim` replays that stream
//! through cache policies at a range of capacities, with no database;
//! `live` runs the strategies against the real database and Redis;
//! `report` gathers both into the report and `recommend` (pure) picks the
//! simplest strategy that meets the targets.

pub mod keys;
pub mod live;
pub mod recommend;
pub mod report;
pub mod sim;
