//! One index as pgadvisor proposes it — table, access method, keys,
//! INCLUDE columns, partial predicate — and the SQL that creates it: the
//! hypothetical form HypoPG takes and the `CREATE INDEX CONCURRENTLY` a
//! person runs, with every identifier quoted.

use crate::catalog::expr::parse_expr;
use crate::catalog::{Index, QualifiedName};
use serde::{Deserialize, Serialize};
use sqlparser::ast::{Expr, Ident, visit_expressions_mut};
use std::ops::ControlFlow;

/// PostgreSQL's limit on identifier length (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// One key of a proposed index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KeySpec {
    /// A column name as stored, or an expression's canonical text.
    pub text: String,
    pub is_expression: bool,
    pub descending: bool,
    /// NULLS FIRST / LAST when the query asked for the non-default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nulls_first: Option<bool>,
    /// A non-default operator class (`text_pattern_ops` for LIKE 'abc%').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
}

impl KeySpec {
    pub fn column(name: &str) -> Self {
        Self {
            text: name.to_string(),
            is_expression: false,
            descending: false,
            nulls_first: None,
            opclass: None,
        }
    }

    pub fn expression(text: &str) -> Self {
        Self {
            is_expression: true,
            ..Self::column(text)
        }
    }

    /// The key as written inside `(…)` of CREATE INDEX, quoted.
    fn sql(&self) -> String {
        let mut out = if self.is_expression {
            format!("({})", quote_expression(&self.text))
        } else {
            quote_always(&self.text)
        };
        if let Some(opclass) = &self.opclass {
            out.push(' ');
            out.push_str(opclass);
        }
        if self.descending {
            out.push_str(" DESC");
        }
        match (self.nulls_first, self.descending) {
            (Some(true), false) => out.push_str(" NULLS FIRST"),
            (Some(false), true) => out.push_str(" NULLS LAST"),
            _ => {}
        }
        out
    }

    /// The key without quotes, for labels.
    fn label(&self) -> String {
        let mut out = self.text.clone();
        if self.descending {
            out.push_str(" desc");
        }
        if let Some(opclass) = &self.opclass {
            out = format!("{out} {opclass}");
        }
        out
    }

    /// Whether the key sorts in the index's default NULL placement.
    pub fn nulls_first_effective(&self) -> bool {
        self.nulls_first.unwrap_or(self.descending)
    }
}

/// A proposed index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IndexSpec {
    pub table: QualifiedName,
    /// `btree`, `gin`, `gist`.
    pub method: String,
    pub keys: Vec<KeySpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Canonical text of a partial index's WHERE clause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

impl IndexSpec {
    pub fn btree(table: QualifiedName, keys: Vec<KeySpec>) -> Self {
        Self {
            table,
            method: "btree".to_string(),
            keys,
            include: Vec::new(),
            predicate: None,
        }
    }

    /// `USING method (keys) INCLUDE (…) WHERE …` — everything after the
    /// table name.
    fn body_sql(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(KeySpec::sql).collect();
        let mut out = format!("USING {} ({})", self.method, keys.join(", "));
        if !self.include.is_empty() {
            let include: Vec<String> = self.include.iter().map(|c| quote_always(c)).collect();
            out.push_str(&format!(" INCLUDE ({})", include.join(", ")));
        }
        if let Some(predicate) = &self.predicate {
            out.push_str(&format!(" WHERE {}", quote_expression(predicate)));
        }
        out
    }

    /// The statement given to `hypopg_create_index` (HypoPG ignores names).
    pub fn hypothetical_sql(&self) -> String {
        format!(
            "CREATE INDEX ON {} {}",
            quoted_table(&self.table),
            self.body_sql()
        )
    }

    /// The statement a person runs: concurrent, idempotent, quoted.
    pub fn create_sql(&self, name: &str) -> String {
        format!(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} {}",
            quote_always(name),
            quoted_table(&self.table),
            self.body_sql()
        )
    }

    /// The same index on one partition (`ON ONLY` parent indexes are built
    /// per partition and attached).
    pub fn on_table(&self, table: &QualifiedName) -> Self {
        Self {
            table: table.clone(),
            ..self.clone()
        }
    }

    /// `CREATE INDEX IF NOT EXISTS name ON ONLY parent …`: an invalid parent
    /// index that becomes valid once every partition's index is attached.
    pub fn create_on_only_sql(&self, name: &str) -> String {
        format!(
            "CREATE INDEX IF NOT EXISTS {} ON ONLY {} {}",
            quote_always(name),
            quoted_table(&self.table),
            self.body_sql()
        )
    }

    /// A deterministic name: `table_key1_key2_idx`, with a short hash when
    /// the name would be too long or the index is partial, so two proposals
    /// never share one.
    pub fn name(&self) -> String {
        let mut parts = vec![self.table.name.clone()];
        for key in &self.keys {
            parts.push(name_part(&key.text));
        }
        if !self.include.is_empty() {
            parts.push("incl".to_string());
        }
        let method_suffix = if self.method == "btree" {
            "idx".to_string()
        } else {
            format!("{}_idx", self.method)
        };
        let plain = format!("{}_{method_suffix}", parts.join("_"));
        let needs_hash = self.predicate.is_some()
            || self
                .keys
                .iter()
                .any(|k| k.is_expression || k.opclass.is_some())
            || plain.len() > MAX_IDENTIFIER_BYTES;
        if !needs_hash {
            return plain;
        }
        let digest = short_hash(&self.hypothetical_sql());
        let budget = MAX_IDENTIFIER_BYTES - digest.len() - method_suffix.len() - 2;
        let mut stem = parts.join("_");
        while stem.len() > budget {
            stem.pop();
        }
        format!("{stem}_{digest}_{method_suffix}")
    }

    /// Checks a proposal read back from a file before its SQL is sent: a
    /// known access method, operator classes that are plain names, and
    /// expressions and predicate that are each exactly one expression (so a
    /// hand-edited plan cannot smuggle in a second statement).
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(
            self.method.as_str(),
            "btree" | "hash" | "gin" | "gist" | "brin" | "spgist"
        ) {
            return Err(format!("unknown index method {:?}", self.method));
        }
        if self.keys.is_empty() {
            return Err("an index needs at least one key".to_string());
        }
        for key in &self.keys {
            if let Some(opclass) = &key.opclass
                && !opclass
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!("operator class {opclass:?} is not a plain name"));
            }
            if key.is_expression && parse_expr(&key.text).is_none() {
                return Err(format!("key {:?} is not one SQL expression", key.text));
            }
        }
        if let Some(p) = &self.predicate
            && parse_expr(p).is_none()
        {
            return Err(format!("predicate {p:?} is not one SQL expression"));
        }
        Ok(())
    }

    /// `orders (customer_id, created_at desc) where deleted_at IS NULL`.
    pub fn label(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(KeySpec::label).collect();
        let mut out = format!("{} ({})", self.table, keys.join(", "));
        if self.method != "btree" {
            out = format!("{out} using {}", self.method);
        }
        if !self.include.is_empty() {
            out.push_str(&format!(" include ({})", self.include.join(", ")));
        }
        if let Some(p) = &self.predicate {
            out.push_str(&format!(" where {p}"));
        }
        out
    }

    /// Every column the index stores or tests (keys, expressions' columns
    /// are not known here, INCLUDE, and the predicate's).
    pub fn mentions_column(&self, column: &str) -> bool {
        self.keys
            .iter()
            .any(|k| k.text == column || (k.is_expression && mentions(&k.text, column)))
            || self.include.iter().any(|c| c == column)
            || self
                .predicate
                .as_deref()
                .is_some_and(|p| mentions(p, column))
    }

    /// This proposal is `other` with more keys (or INCLUDE columns) added.
    pub fn extends(&self, other: &IndexSpec) -> bool {
        self.table == other.table
            && self.method == other.method
            && self.predicate == other.predicate
            && self.keys.len() >= other.keys.len()
            && self.keys[..other.keys.len()] == other.keys[..]
            && other.include.iter().all(|c| self.include.contains(c))
            && (self.keys.len() > other.keys.len() || self.include.len() > other.include.len())
    }

    /// An existing index already gives what this proposal would: same method,
    /// valid, the proposal's keys are a prefix of its keys with the same
    /// directions (or all reversed, which a backward scan serves), and the
    /// existing index is not partial unless with the same predicate.
    pub fn served_by(&self, existing: &Index) -> bool {
        if !existing.valid || existing.method != self.method {
            return false;
        }
        if existing.predicate.is_some() && existing.predicate != self.predicate {
            return false;
        }
        if existing.keys.len() < self.keys.len() {
            return false;
        }
        let same_keys = self
            .keys
            .iter()
            .zip(&existing.keys)
            .all(|(p, e)| p.text == e.text && p.is_expression == e.is_expression);
        if !same_keys {
            return false;
        }
        // Operator classes are not in the catalog model: look for them in
        // the definition.
        if !self
            .keys
            .iter()
            .filter_map(|k| k.opclass.as_deref())
            .all(|op| existing.definition.contains(op))
        {
            return false;
        }
        let forward = self.keys.iter().zip(&existing.keys).all(|(p, e)| {
            p.descending == e.descending && p.nulls_first_effective() == e.nulls_first
        });
        let backward = self.keys.iter().zip(&existing.keys).all(|(p, e)| {
            p.descending != e.descending && p.nulls_first_effective() != e.nulls_first
        });
        let include_ok = self
            .include
            .iter()
            .all(|c| existing.include.contains(c) || existing.keys.iter().any(|k| &k.text == c));
        (forward || backward) && include_ok
    }
}

/// `"schema"."table"`, always quoted.
pub fn quoted_table(name: &QualifiedName) -> String {
    format!(
        "{}.{}",
        quote_always(&name.schema),
        quote_always(&name.name)
    )
}

/// Quotes an identifier unconditionally (safety contract, point 4).
pub fn quote_always(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An expression with every column name quoted. Falls back to the text as
/// given when it does not parse (it was parsed once already to become a
/// candidate, so this does not happen for pgadvisor's own proposals).
pub fn quote_expression(text: &str) -> String {
    let Some(mut expr) = parse_expr(text) else {
        return text.to_string();
    };
    let _ = visit_expressions_mut(&mut expr, |e| {
        match e {
            Expr::Identifier(ident) => quote_ident_in_place(ident),
            Expr::CompoundIdentifier(parts) => parts.iter_mut().for_each(quote_ident_in_place),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    expr.to_string()
}

fn quote_ident_in_place(ident: &mut Ident) {
    ident.quote_style = Some('"');
}

/// Whether an expression text uses a column (by identifier, not substring).
pub fn mentions(text: &str, column: &str) -> bool {
    let Some(mut expr) = parse_expr(text) else {
        return false;
    };
    let mut found = false;
    let _ = visit_expressions_mut(&mut expr, |e| {
        match e {
            Expr::Identifier(ident) if ident.value == column => found = true,
            Expr::CompoundIdentifier(parts) if parts.last().is_some_and(|p| p.value == column) => {
                found = true
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// A key's contribution to an index name: the column, or the expression's
/// identifiers and function names.
fn name_part(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// Six hex digits of md5, enough to tell proposals on one table apart.
fn short_hash(text: &str) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest(text.as_bytes());
    digest[..3].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orders() -> QualifiedName {
        QualifiedName::new("public", "orders")
    }

    #[test]
    fn ddl_quotes_every_identifier() {
        let mut spec = IndexSpec::btree(
            orders(),
            vec![
                KeySpec::column("customer_id"),
                KeySpec {
                    descending: true,
                    ..KeySpec::column("Created At")
                },
            ],
        );
        spec.include = vec!["total".into()];
        spec.predicate = Some("deleted_at IS NULL".into());
        assert_eq!(
            spec.create_sql("orders_x_idx"),
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"orders_x_idx\" ON \"public\".\"orders\" \
             USING btree (\"customer_id\", \"Created At\" DESC) INCLUDE (\"total\") \
             WHERE \"deleted_at\" IS NULL"
        );
    }

    #[test]
    fn expression_keys_are_parenthesized_and_quoted() {
        let spec = IndexSpec::btree(
            QualifiedName::new("app", "users"),
            vec![KeySpec::expression("lower(email)")],
        );
        assert_eq!(
            spec.hypothetical_sql(),
            "CREATE INDEX ON \"app\".\"users\" USING btree ((lower(\"email\")))"
        );
        assert!(spec.name().starts_with("users_lower_email_"));
        assert!(spec.mentions_column("email"));
        assert!(!spec.mentions_column("mail"));
    }

    #[test]
    fn long_names_fit_postgres_limit() {
        let spec = IndexSpec::btree(
            orders(),
            vec![
                KeySpec::column(&"a".repeat(40)),
                KeySpec::column(&"b".repeat(40)),
            ],
        );
        let name = spec.name();
        assert!(name.len() <= MAX_IDENTIFIER_BYTES, "{name}");
        assert!(name.ends_with("_idx"));
    }

    fn existing(keys: &[(&str, bool)], predicate: Option<&str>) -> Index {
        Index {
            name: "x".into(),
            method: "btree".into(),
            keys: keys
                .iter()
                .map(|(t, desc)| crate::catalog::IndexKey {
                    text: t.to_string(),
                    is_expression: false,
                    descending: *desc,
                    nulls_first: *desc,
                })
                .collect(),
            include: vec![],
            predicate: predicate.map(str::to_string),
            unique: false,
            primary: false,
            valid: true,
            backs_constraint: false,
            definition: String::new(),
            size_bytes: None,
            scans: None,
        }
    }

    #[test]
    fn served_by_prefix_in_either_direction() {
        let want = IndexSpec::btree(
            orders(),
            vec![
                KeySpec::column("a"),
                KeySpec {
                    descending: true,
                    ..KeySpec::column("b")
                },
            ],
        );
        assert!(want.served_by(&existing(&[("a", false), ("b", true), ("c", false)], None)));
        assert!(want.served_by(&existing(&[("a", true), ("b", false)], None)));
        assert!(!want.served_by(&existing(&[("a", false), ("b", false)], None)));
        assert!(!want.served_by(&existing(&[("b", true), ("a", false)], None)));
        assert!(!want.served_by(&existing(&[("a", false)], None)));
        assert!(!want.served_by(&existing(&[("a", false), ("b", true)], Some("x IS NULL"))));
        let mut invalid = existing(&[("a", false), ("b", true)], None);
        invalid.valid = false;
        assert!(!want.served_by(&invalid));
    }

    #[test]
    fn extension_means_same_prefix_and_more() {
        let narrow = IndexSpec::btree(orders(), vec![KeySpec::column("a")]);
        let wide = IndexSpec::btree(orders(), vec![KeySpec::column("a"), KeySpec::column("b")]);
        assert!(wide.extends(&narrow));
        assert!(!narrow.extends(&wide));
        assert!(!narrow.extends(&narrow));
        let mut covering = narrow.clone();
        covering.include = vec!["c".into()];
        assert!(covering.extends(&narrow));
    }
}
