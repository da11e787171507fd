//! `sequence-exhaustion`: a sequence has used most of its range — or of
//! the range of the column it feeds: a bigint sequence behind an integer
//! column fails at 2^31 − 1 all the same. Its next nextval() past the limit
//! is an error, and every insert needing an id with it.

use super::{HealthContext, HealthRule, SequenceHealth, plain_name, sql_name};
use crate::advisor::spec::quote_always;
use crate::findings::advice::{count, percent};
use crate::findings::{Finding, Severity, Thresholds};

pub struct SequenceExhaustion;

const ID: &str = "sequence-exhaustion";

/// The range of an integer type, as format_type names it.
fn type_range(data_type: &str) -> Option<(i128, i128)> {
    match data_type {
        "smallint" => Some((i16::MIN.into(), i16::MAX.into())),
        "integer" => Some((i32::MIN.into(), i32::MAX.into())),
        "bigint" => Some((i64::MIN.into(), i64::MAX.into())),
        _ => None,
    }
}

/// Which limit a sequence runs into first.
#[derive(Debug, PartialEq)]
enum Limit {
    /// The owning column's type.
    Column,
    /// The sequence's own type (`AS integer`).
    SequenceType,
    /// An explicit MAXVALUE / MINVALUE below its type's.
    SequenceBound,
}

struct Usage {
    share: f64,
    limit: Limit,
    bound: i128,
}

fn usage(s: &SequenceHealth) -> Option<Usage> {
    let last = s.last_value?;
    let column = s.owner.as_ref().and_then(|o| type_range(&o.data_type));
    let seq_type = type_range(&s.data_type);
    if s.increment_by >= 0 {
        let (mut bound, mut limit) = (s.max_value, Limit::SequenceBound);
        if seq_type.is_some_and(|(_, max)| max == s.max_value) {
            limit = Limit::SequenceType;
        }
        if let Some((_, max)) = column.filter(|(_, max)| *max < bound) {
            (bound, limit) = (max, Limit::Column);
        }
        let range = (bound - s.min_value).max(1) as f64;
        Some(Usage {
            share: ((last - s.min_value) as f64 / range).clamp(0.0, 1.0),
            limit,
            bound,
        })
    } else {
        let (mut bound, mut limit) = (s.min_value, Limit::SequenceBound);
        if seq_type.is_some_and(|(min, _)| min == s.min_value) {
            limit = Limit::SequenceType;
        }
        if let Some((min, _)) = column.filter(|(min, _)| *min > bound) {
            (bound, limit) = (min, Limit::Column);
        }
        let range = (s.max_value - bound).max(1) as f64;
        Some(Usage {
            share: ((s.max_value - last) as f64 / range).clamp(0.0, 1.0),
            limit,
            bound,
        })
    }
}

impl HealthRule for SequenceExhaustion {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &HealthContext, t: &Thresholds) -> Vec<Finding> {
        ctx.sequences
            .iter()
            .filter_map(|s| {
                let u = usage(s)?;
                if u.share < t.sequence_warning_share {
                    return None;
                }
                let severity = if u.share >= t.sequence_critical_share { Severity::Critical } else { Severity::Warning };
                let seq = sql_name(&s.name);
                let last = s.last_value.unwrap_or_default();
                let (fix, how) = match (&u.limit, &s.owner) {
                    (Limit::Column, Some(owner)) => {
                        let mut fix = format!(
                            "ALTER TABLE {} ALTER COLUMN {} TYPE bigint;",
                            sql_name(&owner.table),
                            quote_always(&owner.column)
                        );
                        if s.data_type != "bigint" {
                            fix.push_str(&format!(" ALTER SEQUENCE {seq} AS bigint;"));
                        }
                        (Some(fix), format!(
                            "the column {}.{} is {}: widen it to bigint (a table rewrite under an ACCESS EXCLUSIVE lock; \
                             on a large table add a bigint column, backfill it in batches and swap instead), and \
                             every column that references it",
                            owner.table.name, owner.column, owner.data_type
                        ))
                    }
                    (Limit::SequenceType, _) if s.data_type != "bigint" => (
                        Some(format!("ALTER SEQUENCE {seq} AS bigint;")),
                        format!("the sequence is {}: make it bigint (the column must hold bigint too)", s.data_type),
                    ),
                    (Limit::SequenceBound, _) => (
                        Some(format!(
                            "ALTER SEQUENCE {seq} {};",
                            if s.increment_by >= 0 { "NO MAXVALUE" } else { "NO MINVALUE" }
                        )),
                        "its MAXVALUE/MINVALUE is set below its type's limit: lift it".to_string(),
                    ),
                    _ => (None, "it is already bigint: plan new keys (a UUID column, or reset with a wider scheme)".to_string()),
                };
                let message = format!(
                    "sequence {} is at {} of {} ({} used){}",
                    s.name.name,
                    count(last as f64),
                    count(u.bound as f64),
                    percent(u.share),
                    if s.cycles { "; it cycles, so it will hand out used values again" } else { "" }
                );
                let advice = format!("Inserts fail once it passes the limit; {how}.");
                let mut f = Finding::new(ID, severity, message, advice)
                    .relation(Some(plain_name(&s.name)))
                    .evidence("last_value", last as f64)
                    .evidence("limit", u.bound as f64)
                    .evidence("used_share", u.share)
                    .evidence("sequence_type", s.data_type.clone())
                    .evidence(
                        "limited_by",
                        match u.limit {
                            Limit::Column => "column",
                            Limit::SequenceType => "sequence_type",
                            Limit::SequenceBound => "sequence_bound",
                        },
                    )
                    .fix_sql(fix);
                if let Some(owner) = &s.owner {
                    f = f
                        .evidence("column", format!("{}.{}", plain_name(&owner.table), owner.column))
                        .evidence("column_type", owner.data_type.clone());
                }
                Some(f)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;
    use crate::findings::health::SequenceOwner;

    fn seq(data_type: &str, last: i128, owner_type: Option<&str>) -> SequenceHealth {
        let (min, max) = type_range(data_type).unwrap();
        SequenceHealth {
            name: QualifiedName::new("public", "orders_id_seq"),
            data_type: data_type.into(),
            last_value: Some(last),
            min_value: 1,
            max_value: max,
            increment_by: 1,
            cycles: false,
            readable: true,
            owner: owner_type.map(|t| SequenceOwner {
                table: QualifiedName::new("public", "orders"),
                column: "id".into(),
                data_type: t.into(),
            }),
        }
        .with_min(min.max(1))
    }

    impl SequenceHealth {
        fn with_min(mut self, min: i128) -> Self {
            self.min_value = min;
            self
        }
    }

    #[test]
    fn a_bigint_sequence_behind_an_integer_column_is_limited_by_the_column() {
        let mut ctx = HealthContext::empty();
        ctx.sequences = vec![seq("bigint", 2_000_000_000, Some("integer"))];
        let found = SequenceExhaustion.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].evidence["limited_by"], "column");
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("ALTER TABLE \"public\".\"orders\" ALTER COLUMN \"id\" TYPE bigint;")
        );
    }

    #[test]
    fn an_integer_sequence_is_widened_and_a_young_one_is_fine() {
        let mut ctx = HealthContext::empty();
        ctx.sequences = vec![
            seq("integer", 1_700_000_000, Some("bigint")),
            seq("bigint", 2_000_000_000, Some("bigint")),
            SequenceHealth {
                last_value: None,
                ..seq("integer", 0, None)
            },
        ];
        let found = SequenceExhaustion.check(&ctx, &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("ALTER SEQUENCE \"public\".\"orders_id_seq\" AS bigint;")
        );
    }

    #[test]
    fn descending_sequences_count_down_to_their_minimum() {
        let s = SequenceHealth {
            increment_by: -1,
            min_value: i32::MIN.into(),
            max_value: -1,
            last_value: Some(-2_100_000_000),
            ..seq("integer", 0, None)
        };
        let u = usage(&s).unwrap();
        assert!(u.share > 0.97, "{}", u.share);
        assert_eq!(u.limit, Limit::SequenceType);
    }
}
