//! `not-valid-constraint`: a CHECK or FOREIGN KEY constraint added NOT
//! VALID and never validated. New rows are checked, old ones are not, and
//! the planner cannot use an unvalidated CHECK to exclude partitions or
//! prove a join. Validating takes only a SHARE UPDATE EXCLUSIVE lock.

use super::{HealthContext, HealthRule, sql_name};
use crate::advisor::spec::quote_always;
use crate::findings::{Finding, Severity, Thresholds};

pub struct NotValidConstraintRule;

const ID: &str = "not-valid-constraint";

impl HealthRule for NotValidConstraintRule {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, _t: &Thresholds) -> Vec<Finding> {
        ctx.not_valid_constraints
            .iter()
            .map(|c| {
                let kind = if c.kind == "f" { "foreign key" } else { "check" };
                let fix = format!(
                    "ALTER TABLE {} VALIDATE CONSTRAINT {};",
                    sql_name(&c.table),
                    quote_always(&c.name)
                );
                let message = format!(
                    "{kind} constraint {} on {} is NOT VALID: rows older than the constraint were never checked",
                    c.name, c.table.name
                );
                let advice = format!(
                    "Validate it (reads the whole table under a SHARE UPDATE EXCLUSIVE lock, which lets reads and \
                     writes go on); fix the rows it reports if it fails: {fix}"
                );
                Finding::new(ID, Severity::Info, message, advice)
                    .relation(Some(format!("{}.{}", c.table.schema, c.table.name)))
                    .evidence("constraint", c.name.clone())
                    .evidence("kind", kind)
                    .evidence("definition", c.definition.clone())
                    .fix_sql(Some(fix))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;
    use crate::findings::health::NotValidConstraint;

    #[test]
    fn validate_is_suggested_with_quoted_names() {
        let mut ctx = HealthContext::empty();
        ctx.not_valid_constraints = vec![NotValidConstraint {
            table: QualifiedName::new("public", "Orders"),
            name: "orders_customer_fk".into(),
            kind: "f".into(),
            definition: "FOREIGN KEY (customer_id) REFERENCES customers(id) NOT VALID".into(),
        }];
        let found = NotValidConstraintRule.check(&ctx, &Thresholds::default());
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("ALTER TABLE \"public\".\"Orders\" VALIDATE CONSTRAINT \"orders_customer_fk\";")
        );
    }
}
