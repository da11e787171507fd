//! For statements sqlparser cannot parse: the tables they name, found by
//! a token scan after FROM / JOIN / UPDATE / INTO / USING / TABLE and marked
//! as guessed. Nothing else is claimed about them.

use super::{AccessKind, StatementShape, TableAccess};
use crate::catalog::{Catalog, QualifiedName};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// A shape holding only the guessed tables, with the parse error.
pub fn guess_shape(sql: &str, catalog: &Catalog, parse_error: String) -> StatementShape {
    let mut tables: Vec<TableAccess> = Vec::new();
    for (name, kind) in guess_tables(sql) {
        let (schema, table) = match name.as_slice() {
            [.., s, t] => (Some(s.as_str()), t.clone()),
            [t] => (None, t.clone()),
            [] => continue,
        };
        let (qualified, known) = match catalog.resolve(schema, &table) {
            Some(rel) => (rel.name.clone(), true),
            None => (
                QualifiedName::new(
                    schema.map(str::to_string).unwrap_or_else(|| {
                        catalog
                            .search_path
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "public".into())
                    }),
                    table,
                ),
                false,
            ),
        };
        match tables.iter_mut().find(|t| t.table == qualified) {
            Some(t) => {
                t.kinds.insert(kind);
            }
            None => {
                let mut access = TableAccess::new(qualified, known);
                access.guessed = true;
                access.kinds.insert(kind);
                tables.push(access);
            }
        }
    }
    StatementShape {
        tables,
        problems: Vec::new(),
        parse_error: Some(parse_error),
    }
}

/// Table names (as folded name parts) after the keywords that introduce them.
pub fn guess_tables(sql: &str) -> Vec<(Vec<String>, AccessKind)> {
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else {
        return Vec::new();
    };
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let word = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_lowercase()),
        _ => None,
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let kind = match word(&tokens[i]).as_deref() {
            Some("from") | Some("join") | Some("using") | Some("table") => {
                // DELETE FROM writes; SELECT … FROM reads.
                let deleting = i > 0 && word(&tokens[i - 1]).as_deref() == Some("delete");
                Some(if deleting {
                    AccessKind::Delete
                } else {
                    AccessKind::Read
                })
            }
            Some("update") => Some(AccessKind::Update),
            Some("into") => Some(AccessKind::Insert),
            _ => None,
        };
        i += 1;
        let Some(kind) = kind else {
            continue;
        };
        if matches!(
            word(tokens.get(i).unwrap_or(&Token::EOF)).as_deref(),
            Some("only") | Some("lateral")
        ) {
            i += 1;
        }
        let mut parts = Vec::new();
        while let Some(Token::Word(w)) = tokens.get(i) {
            let part = if w.quote_style.is_some() {
                w.value.clone()
            } else {
                w.value.to_lowercase()
            };
            parts.push(part);
            i += 1;
            if tokens.get(i) == Some(&Token::Period) {
                i += 1;
            } else {
                break;
            }
        }
        let keyword_like = parts.len() == 1
            && matches!(
                parts[0].as_str(),
                "select" | "lateral" | "set" | "values" | "unnest"
            );
        if !parts.is_empty() && !keyword_like {
            out.push((parts, kind));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tables_in_unparsable_statements() {
        let found = guess_tables(
            "SELECT * FROM public.orders o JOIN \"Line Items\" li ON li.id = o.id WHERE CURRENT OF c; UPDATE accounts SET x[1:2] = y; INSERT INTO audit VALUES (1); DELETE FROM sessions",
        );
        let names: Vec<(String, AccessKind)> =
            found.into_iter().map(|(p, k)| (p.join("."), k)).collect();
        assert_eq!(
            names,
            vec![
                ("public.orders".into(), AccessKind::Read),
                ("Line Items".into(), AccessKind::Read),
                ("accounts".into(), AccessKind::Update),
                ("audit".into(), AccessKind::Insert),
                ("sessions".into(), AccessKind::Delete),
            ]
        );
    }
}
