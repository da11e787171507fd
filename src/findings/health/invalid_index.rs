//! `invalid-index`: an index marked invalid — the leftover of a CREATE
//! INDEX CONCURRENTLY or REINDEX CONCURRENTLY that failed or was
//! cancelled. The planner never uses it, yet every write still maintains
//! it (and an invalid unique index still rejects duplicates). An index
//! whose concurrent build is running right now is also invalid; it is
//! left out.

use super::{HealthContext, HealthRule, bytes, sql_name};
use crate::catalog::QualifiedName;
use crate::findings::{Finding, Severity, Thresholds};

pub struct InvalidIndex;

const ID: &str = "invalid-index";

impl HealthRule for InvalidIndex {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, _t: &Thresholds) -> Vec<Finding> {
        let mut out = Vec::new();
        for rel in ctx.catalog.relations.values() {
            for index in rel.indexes.iter().filter(|i| !i.valid) {
                let building = ctx
                    .indexes
                    .iter()
                    .any(|h| h.being_built && h.name == index.name && h.table == rel.name);
                if building {
                    continue;
                }
                let name = QualifiedName::new(rel.name.schema.clone(), index.name.clone());
                let drop = format!("DROP INDEX CONCURRENTLY {};", sql_name(&name));
                let rebuild = concurrent_definition(&index.definition);
                let message = format!(
                    "index {} on {} is invalid ({}): a concurrent build or reindex did not finish",
                    index.name,
                    rel.name.name,
                    bytes(index.size_bytes.unwrap_or(0) as f64)
                );
                let mut advice = format!(
                    "Queries cannot use it but every write still updates it{}. Drop it: {drop}",
                    if index.unique {
                        " (and as a unique index it still rejects duplicates)"
                    } else {
                        ""
                    }
                );
                if index.name.contains("_ccnew") || index.name.contains("_ccold") {
                    advice.push_str(
                        " It is a REINDEX CONCURRENTLY leftover: the original index still exists.",
                    );
                } else if let Some(rebuild) = &rebuild {
                    advice.push_str(&format!(
                        " Then build it again (a unique index fails again while duplicates remain): {rebuild};"
                    ));
                }
                out.push(
                    Finding::new(ID, Severity::Warning, message, advice)
                        .relation(Some(format!("{}.{}", rel.name.schema, index.name)))
                        .evidence("table", format!("{}.{}", rel.name.schema, rel.name.name))
                        .evidence("definition", index.definition.clone())
                        .evidence("unique", if index.unique { "yes" } else { "no" })
                        .evidence("size_bytes", index.size_bytes.unwrap_or(0).max(0) as u64)
                        .fix_sql(Some(drop)),
                );
            }
        }
        out
    }
}

/// `CREATE [UNIQUE] INDEX name ON …` → `CREATE [UNIQUE] INDEX CONCURRENTLY
/// name ON …`, from pg_get_indexdef's fixed spelling.
fn concurrent_definition(definition: &str) -> Option<String> {
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(prefix) {
            return Some(format!("{prefix}CONCURRENTLY {rest}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{catalog_with, index};
    use crate::findings::health::IndexHealth;

    #[test]
    fn an_invalid_leftover_is_found_with_drop_and_rebuild() {
        let mut broken = index("t_b_idx", &["b"]);
        broken.valid = false;
        let mut ctx = HealthContext::empty();
        ctx.catalog = catalog_with(vec![broken, index("t_a_idx", &["a"])]);
        let found = InvalidIndex.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("DROP INDEX CONCURRENTLY \"public\".\"t_b_idx\";")
        );
        assert!(
            found[0]
                .advice
                .contains("CREATE INDEX CONCURRENTLY t_b_idx ON public.t"),
            "{}",
            found[0].advice
        );
    }

    #[test]
    fn a_build_in_progress_is_not_a_leftover() {
        let mut building = index("t_b_idx", &["b"]);
        building.valid = false;
        let mut ctx = HealthContext::empty();
        ctx.catalog = catalog_with(vec![building]);
        ctx.indexes = vec![IndexHealth {
            table: QualifiedName::new("public", "t"),
            name: "t_b_idx".into(),
            being_built: true,
            ..IndexHealth::default()
        }];
        assert!(InvalidIndex.check(&ctx, &Thresholds::default()).is_empty());
    }
}
