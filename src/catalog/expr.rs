//! Canonical text of SQL expressions (index keys, partial-index predicates,
//! later also query expressions), so the same expression written by a user,
//! by pg_dump or deparsed by the server compares equal: redundant
//! parentheses dropped, the casts PostgreSQL adds when it deparses
//! (`(email)::text`, `'active'::text`) removed, unquoted names lower-cased.

use sqlparser::ast::{
    Array, BinaryOperator, CastKind, DataType, Expr, Ident, InTarget, ObjectNamePart, Value,
    ValueWithSpan, visit_expressions_mut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// The canonical text of an expression, or the input trimmed when it does
/// not parse (so two unparsable texts still compare as written).
pub fn canonical(text: &str) -> String {
    match parse_expr(text) {
        Some(mut expr) => {
            canonicalize(&mut expr);
            expr.to_string()
        }
        None => text.trim().to_string(),
    }
}

/// Parses one expression with the PostgreSQL dialect.
pub fn parse_expr(text: &str) -> Option<Expr> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(text).ok()?;
    let expr = parser.parse_expr().ok()?;
    // Trailing tokens mean it was not one expression.
    matches!(parser.peek_token().token, sqlparser::tokenizer::Token::EOF).then_some(expr)
}

/// Rewrites an expression in place into its canonical form.
pub fn canonicalize(expr: &mut Expr) {
    let _ = visit_expressions_mut(expr, |e| {
        loop {
            match e {
                Expr::Nested(inner) => {
                    *e = std::mem::replace(inner.as_mut(), Expr::value(Value::Null))
                }
                Expr::Cast {
                    kind: CastKind::DoubleColon | CastKind::Cast,
                    expr: inner,
                    data_type,
                    format: None,
                } if deparse_cast(inner, data_type) => {
                    *e = std::mem::replace(inner.as_mut(), Expr::value(Value::Null))
                }
                // The server stores `x IN (a, b)` as `x = ANY (ARRAY[a, b])`.
                Expr::In {
                    expr: left,
                    target: InTarget::List(items),
                    negated: false,
                    ..
                } => {
                    let left = std::mem::replace(left.as_mut(), Expr::value(Value::Null));
                    let elem = std::mem::take(items);
                    *e = Expr::AnyOp {
                        left: Box::new(left),
                        compare_op: BinaryOperator::Eq,
                        right: Box::new(Expr::Array(Array { elem, named: true })),
                        is_some: false,
                    };
                }
                _ => break,
            }
        }
        match e {
            Expr::Identifier(ident) => fold(ident),
            Expr::CompoundIdentifier(parts) => parts.iter_mut().for_each(fold),
            Expr::Function(f) => {
                for part in &mut f.name.0 {
                    if let ObjectNamePart::Identifier(ident) = part {
                        fold(ident);
                    }
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Casts the server adds when it deparses: a string literal to the type its
/// context gives it (`'new'::order_status`, `'2024-01-01'::date` — a quoted
/// literal has no type of its own, so the cast adds nothing), and a column
/// to text or varchar (`(email)::text` for a varchar column).
fn deparse_cast(inner: &Expr, data_type: &DataType) -> bool {
    match inner {
        Expr::Value(ValueWithSpan { value, .. }) => matches!(
            value,
            Value::SingleQuotedString(_) | Value::EscapedStringLiteral(_)
        ),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => is_text_type(data_type),
        Expr::Nested(e) => matches!(e.as_ref(), Expr::Identifier(_)) && is_text_type(data_type),
        _ => false,
    }
}

fn is_text_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Text | DataType::Varchar(None) | DataType::CharacterVarying(None) => true,
        DataType::Custom(name, args) => {
            args.is_empty() && name.to_string().eq_ignore_ascii_case("bpchar")
        }
        _ => false,
    }
}

/// Unquoted identifiers are case-insensitive: fold them as the server does.
fn fold(ident: &mut Ident) {
    if ident.quote_style.is_none() {
        ident.value = ident.value.to_lowercase();
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn written_and_deparsed_forms_agree() {
        for (a, b) in [
            ("lower(email)", "lower((email)::text)"),
            ("deleted_at IS NULL", "(deleted_at IS NULL)"),
            ("status = 'active'", "(status = 'active'::text)"),
            ("LOWER(Email)", "lower(email)"),
            ("(data ->> 'kind')", "data ->> 'kind'"),
            (
                "date_trunc('day', created_at)",
                "date_trunc('day'::text, created_at)",
            ),
            ("status = 'new'", "status = 'new'::order_status"),
            (
                "status IN ('a', 'b')",
                "status = ANY (ARRAY['a'::order_status, 'b'::order_status])",
            ),
            (
                "at > '2026-01-01'",
                "(at > '2026-01-01'::timestamp with time zone)",
            ),
        ] {
            assert_eq!(canonical(a), canonical(b), "{a} vs {b}");
        }
        // Quoted names keep their case; real casts stay.
        assert_ne!(canonical("\"Email\""), canonical("email"));
        assert_ne!(canonical("created_at::date"), canonical("created_at"));
        assert_eq!(canonical("not sql at all ((("), "not sql at all (((");
    }
}
