//! `cache-hit-ratio`: too many of the database's table or index block
//! reads missed shared_buffers. Tables and indexes are judged apart (an
//! index that misses is the costlier problem); the tables with the most
//! misses are named in the evidence. Reads counted as misses may still
//! have come from the OS page cache, so this is a hint to look, not proof
//! of disk I/O.

use super::{HealthContext, HealthRule, TableHealth, bytes, plain_name};
use crate::findings::advice::{count, percent};
use crate::findings::{Finding, Severity, Thresholds};

pub struct CacheHitRatio;

/// Blocks (hit, read) of one kind from a table's counters.
type Counters = fn(&TableHealth) -> (i64, i64);

const ID: &str = "cache-hit-ratio";

impl HealthRule for CacheHitRatio {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let mut out = Vec::new();
        let kinds: [(&str, Counters); 2] = [
            ("table", |t| (t.heap_blks_hit, t.heap_blks_read)),
            ("index", |t| (t.idx_blks_hit, t.idx_blks_read)),
        ];
        for (kind, counters) in kinds {
            let (hit, read) = ctx
                .tables
                .iter()
                .map(counters)
                .fold((0i64, 0i64), |acc, (h, r)| {
                    (acc.0 + h.max(0), acc.1 + r.max(0))
                });
            let total = (hit + read) as f64;
            if total < t.cache_hit_min_blocks.max(1.0) {
                continue;
            }
            let ratio = hit as f64 / total;
            if ratio >= t.cache_hit_min_ratio {
                continue;
            }
            let mut worst: Vec<&TableHealth> =
                ctx.tables.iter().filter(|t| counters(t).1 > 0).collect();
            worst.sort_by_key(|t| std::cmp::Reverse(counters(t).1));
            let top: Vec<String> = worst
                .iter()
                .take(3)
                .map(|t| {
                    format!(
                        "{} ({} blocks read)",
                        plain_name(&t.name),
                        count(counters(t).1 as f64)
                    )
                })
                .collect();
            let shared_buffers = ctx.settings.bytes("shared_buffers");
            let message = format!(
                "{} of {kind} block reads were served from shared_buffers ({} hits, {} reads), below {}",
                percent(ratio),
                count(hit as f64),
                count(read as f64),
                percent(t.cache_hit_min_ratio),
            );
            let mut advice = format!(
                "The {kind} working set does not fit in shared_buffers{}. Read less (the seq-scan and index findings, \
                 `pgadvisor recommend-indexes`), or give the cache more memory: shared_buffers is commonly 25 % of RAM \
                 (a restart is needed). Misses may still come from the OS page cache; compare with I/O wait on the host.",
                shared_buffers.map_or(String::new(), |b| format!(" ({})", bytes(b)))
            );
            if !top.is_empty() {
                advice.push_str(&format!(" Most reads: {}.", top.join(", ")));
            }
            let mut f = Finding::new(ID, Severity::Warning, message, advice)
                .evidence("kind", kind)
                .evidence("hit_ratio", ratio)
                .evidence("blocks_hit", hit as f64)
                .evidence("blocks_read", read as f64)
                .evidence("most_read", top);
            if let Some(b) = shared_buffers {
                f = f.evidence("shared_buffers_bytes", b);
            }
            out.push(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;
    use crate::findings::health::TableHealth;

    fn table(name: &str, hit: i64, read: i64) -> TableHealth {
        TableHealth {
            name: QualifiedName::new("public", name),
            heap_blks_hit: hit,
            heap_blks_read: read,
            idx_blks_hit: 1_000_000,
            ..TableHealth::default()
        }
    }

    #[test]
    fn low_table_ratio_is_found_and_names_the_tables() {
        let mut ctx = HealthContext::empty();
        ctx.tables = vec![table("a", 900_000, 100_000), table("b", 50_000, 0)];
        let found = CacheHitRatio.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].evidence["kind"], "table");
        assert!(found[0].advice.contains("public.a"));
    }

    #[test]
    fn good_ratio_or_too_few_blocks_is_fine() {
        let mut ctx = HealthContext::empty();
        ctx.tables = vec![table("a", 999_500, 500)];
        assert!(CacheHitRatio.check(&ctx, &Thresholds::default()).is_empty());
        ctx.tables = vec![table("a", 10, 90)];
        assert!(CacheHitRatio.check(&ctx, &Thresholds::default()).is_empty());
        let mut t = Thresholds::default();
        t.apply("cache-hit-ratio.min_blocks=10").unwrap();
        assert_eq!(CacheHitRatio.check(&ctx, &t).len(), 1);
    }
}
