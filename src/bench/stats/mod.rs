//! Pure statistics for load runs — data in, data out, no database, no
//! printing: batch-means confidence intervals, latency histograms, the
//! Universal Scalability Law fit, Kneedle, and the pool-size rule.

pub mod batch;
pub mod hist;
pub mod knee;
pub mod recommend;
pub mod usl;
