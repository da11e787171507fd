//! `xid-wraparound`: a database's oldest unfrozen transaction ID is far
//! into the 2^31 window. Past about 2 billion the server stops assigning
//! transaction IDs to avoid wraparound; anti-wraparound autovacuum should
//! keep the age near autovacuum_freeze_max_age (200 million by default).
//! Multixact IDs have the same limit and are checked the same way.

use super::{HealthContext, HealthRule, sql_name};
use crate::findings::advice::{count, percent};
use crate::findings::{Finding, Severity, Thresholds};

pub struct XidWraparound;

const ID: &str = "xid-wraparound";

/// The window transaction IDs wrap in.
const WINDOW: f64 = 2_147_483_648.0;

impl HealthRule for XidWraparound {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let mut out = Vec::new();
        for db in &ctx.databases {
            for (what, age) in [
                ("transaction ID", db.xid_age),
                ("multixact ID", db.mxid_age),
            ] {
                let share = age as f64 / WINDOW;
                if share < t.xid_warning_share {
                    continue;
                }
                let severity = if share >= t.xid_critical_share {
                    Severity::Critical
                } else {
                    Severity::Warning
                };
                let here = db.name == ctx.role.database;
                // In this database the oldest table is known: freeze it first.
                let oldest = here
                    .then(|| ctx.tables.iter().max_by_key(|t| t.xid_age))
                    .flatten()
                    .filter(|_| what == "transaction ID");
                let fix =
                    oldest.map(|t| format!("VACUUM (FREEZE, VERBOSE) {};", sql_name(&t.name)));
                let message = format!(
                    "database {}: oldest {what} age is {} ({} of the 2^31 window before the server stops writes)",
                    db.name,
                    count(age as f64),
                    percent(share)
                );
                let mut advice = "Find what holds freezing back: long-open transactions, idle-in-transaction \
                                  sessions, abandoned prepared transactions (pg_prepared_xacts) or replication slots \
                                  (pg_replication_slots); then let anti-wraparound autovacuum finish, or run VACUUM \
                                  (FREEZE) on the oldest tables, in that database, off-peak."
                    .to_string();
                if let Some(fix) = &fix {
                    advice.push_str(&format!(" Oldest table here: {fix}"));
                }
                let mut f = Finding::new(ID, severity, message, advice)
                    .evidence("database", db.name.clone())
                    .evidence("kind", what)
                    .evidence("age", age as f64)
                    .evidence("window_share", share)
                    .fix_sql(fix);
                if let Some(max) = ctx.settings.number("autovacuum_freeze_max_age") {
                    f = f.evidence("autovacuum_freeze_max_age", max);
                }
                out.push(f);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;
    use crate::findings::health::{DatabaseAge, TableHealth};

    #[test]
    fn old_databases_are_found_by_share_with_the_oldest_table_to_freeze() {
        let mut ctx = HealthContext::empty();
        ctx.role.database = "app".into();
        ctx.databases = vec![
            DatabaseAge {
                name: "app".into(),
                xid_age: 1_700_000_000,
                ..DatabaseAge::default()
            },
            DatabaseAge {
                name: "other".into(),
                xid_age: 1_200_000_000,
                ..DatabaseAge::default()
            },
            DatabaseAge {
                name: "young".into(),
                xid_age: 150_000_000,
                ..DatabaseAge::default()
            },
        ];
        ctx.tables = vec![
            TableHealth {
                name: QualifiedName::new("public", "a"),
                xid_age: 10,
                ..TableHealth::default()
            },
            TableHealth {
                name: QualifiedName::new("public", "old"),
                xid_age: 1_700_000_000,
                ..TableHealth::default()
            },
        ];
        let found = XidWraparound.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("VACUUM (FREEZE, VERBOSE) \"public\".\"old\";")
        );
        assert_eq!(found[1].severity, Severity::Warning);
        assert_eq!(found[1].fix_sql, None);
    }
}
