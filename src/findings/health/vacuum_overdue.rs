//! `vacuum-overdue`: a table that changed a lot and has not been vacuumed
//! for days, or ever. Besides dead rows, vacuum sets the visibility map
//! (index-only scans depend on it) and freezes old rows; an insert-only
//! table is vacuumed only by the insert threshold (PostgreSQL 13+), so it
//! can go a long time without.

use super::{HealthContext, HealthRule, duration, plain_name, sql_name};
use crate::findings::advice::count;
use crate::findings::{Finding, Severity, Thresholds};

pub struct VacuumOverdue;

const ID: &str = "vacuum-overdue";

impl HealthRule for VacuumOverdue {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        let max_age_s = t.vacuum_overdue_max_age_days * 86_400.0;
        ctx.tables
            .iter()
            .filter_map(|table| {
                let changes = (table.ins_since_vacuum + table.dead_tuples) as f64;
                let overdue = table.vacuum_age_s.is_none_or(|a| a >= max_age_s);
                if changes < t.vacuum_overdue_min_changes || !overdue {
                    return None;
                }
                let fix = format!("VACUUM (ANALYZE) {};", sql_name(&table.name));
                let when = table
                    .vacuum_age_s
                    .map_or("has never been vacuumed".to_string(), |a| format!("was last vacuumed {} ago", duration(a)));
                let message = format!(
                    "{} {when}, with {} rows inserted and {} dead since",
                    table.name.name,
                    count(table.ins_since_vacuum as f64),
                    count(table.dead_tuples as f64)
                );
                let advice = format!(
                    "Its visibility map is behind (index-only scans fetch from the table) and unfrozen rows pile up \
                     for a later, larger freeze. Vacuum it: {fix} For insert-mostly tables, lower \
                     autovacuum_vacuum_insert_scale_factor on the table."
                );
                Some(
                    Finding::new(ID, Severity::Info, message, advice)
                        .relation(Some(plain_name(&table.name)))
                        .evidence("inserted_since_vacuum", table.ins_since_vacuum as f64)
                        .evidence("dead_rows", table.dead_tuples as f64)
                        .evidence("vacuum_age_s", table.vacuum_age_s.unwrap_or(f64::NAN))
                        .fix_sql(Some(fix)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;
    use crate::findings::health::TableHealth;

    #[test]
    fn a_busy_table_never_vacuumed_is_overdue_a_recent_one_is_not() {
        let never = TableHealth {
            name: QualifiedName::new("public", "events"),
            ins_since_vacuum: 2_000_000,
            ..TableHealth::default()
        };
        let recent = TableHealth {
            name: QualifiedName::new("public", "orders"),
            ins_since_vacuum: 2_000_000,
            vacuum_age_s: Some(3600.0),
            ..TableHealth::default()
        };
        let mut ctx = HealthContext::empty();
        ctx.tables = vec![never, recent];
        let found = VacuumOverdue.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("never been vacuumed"));
    }
}
