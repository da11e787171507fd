//! Type names as `format_type()` prints them, so a schema file and a live
//! database describe a column the same way; and the keywords that force
//! an identifier to be quoted.

/// The canonical (format_type) spelling of a type written in DDL, e.g.
/// `varchar(20)` → `character varying(20)`, `int8[]` → `bigint[]`,
/// `timestamptz` → `timestamp with time zone`. Unknown names (enums,
/// domains, extension types) are kept, lower-cased unless quoted.
pub fn canonical_type(written: &str) -> String {
    let t = written.trim();
    // Arrays: `int[]`, `int[3]`, `integer ARRAY`.
    let lower = t.to_ascii_lowercase();
    if let Some(base) = lower.strip_suffix(" array") {
        return format!("{}[]", canonical_type(base));
    }
    if let Some(open) = t.find('[') {
        let dims = t[open..].matches('[').count();
        return format!("{}{}", canonical_type(&t[..open]), "[]".repeat(dims));
    }
    if t.contains('"') {
        return quoted_type(t);
    }
    // `timestamp(3) with time zone`: the arguments sit inside the name.
    let (base, args) = match (lower.find('('), lower.find(')')) {
        (Some(open), Some(close)) if close > open => {
            let joined = format!("{} {}", &lower[..open], &lower[close + 1..]);
            (
                joined.split_whitespace().collect::<Vec<_>>().join(" "),
                Some(lower[open..=close].replace(' ', "")),
            )
        }
        _ => (lower.split_whitespace().collect::<Vec<_>>().join(" "), None),
    };
    // A qualification adds nothing for built-in types (pg_catalog.int4), and
    // format_type() leaves it out for types on the search path, normally
    // public (pg_dump writes public.order_status).
    let base = base
        .strip_prefix("pg_catalog.")
        .or_else(|| base.strip_prefix("public."))
        .unwrap_or(&base)
        .to_string();
    let args = args.unwrap_or_default();
    let (name, keep_args) = match base.as_str() {
        "int" | "integer" | "int4" | "serial" | "serial4" => ("integer", false),
        "smallint" | "int2" | "smallserial" | "serial2" => ("smallint", false),
        "bigint" | "int8" | "bigserial" | "serial8" => ("bigint", false),
        "real" | "float4" => ("real", false),
        "double precision" | "float8" => ("double precision", false),
        // float(p): 1–24 is real, 25–53 double precision.
        "float" => {
            let p: u32 = args
                .trim_matches(|c| c == '(' || c == ')')
                .parse()
                .unwrap_or(53);
            (if p <= 24 { "real" } else { "double precision" }, false)
        }
        "numeric" | "decimal" | "dec" => ("numeric", true),
        "varchar" | "character varying" | "char varying" => ("character varying", true),
        "char" | "character" | "bpchar" => {
            return format!("character{}", if args.is_empty() { "(1)" } else { &args });
        }
        "bool" | "boolean" => ("boolean", false),
        "timestamp" | "timestamp without time zone" => ("timestamp without time zone", true),
        "timestamptz" | "timestamp with time zone" => ("timestamp with time zone", true),
        "time" | "time without time zone" => ("time without time zone", true),
        "timetz" | "time with time zone" => ("time with time zone", true),
        "varbit" | "bit varying" => ("bit varying", true),
        "bit" => {
            return format!("bit{}", if args.is_empty() { "(1)" } else { &args });
        }
        other => {
            return if args.is_empty() {
                other.to_string()
            } else {
                format!("{other}{args}")
            };
        }
    };
    // timestamp(3) with time zone: the precision goes after the base word.
    if keep_args && !args.is_empty() {
        if let Some(rest) = name.strip_prefix("timestamp") {
            return format!("timestamp{args}{rest}");
        }
        if let Some(rest) = name.strip_prefix("time") {
            return format!("time{args}{rest}");
        }
        return format!("{name}{args}");
    }
    name.to_string()
}

/// A type written with quotes (`"Role"`, `"public"."Role"`): format_type()
/// shows it quoted when its name needs quotes, unqualified on the search
/// path.
fn quoted_type(t: &str) -> String {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => parts.push(std::mem::take(&mut current)),
            c if in_quotes => current.push(c),
            c => current.push(c.to_ascii_lowercase()),
        }
    }
    parts.push(current);
    if parts.len() > 1 && matches!(parts[0].as_str(), "public" | "pg_catalog") {
        parts.remove(0);
    }
    parts
        .iter()
        .map(|p| super::quote_ident(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether a column type written in DDL is one of the serial types, which
/// imply NOT NULL.
pub fn is_serial(written: &str) -> bool {
    matches!(
        written.trim().to_ascii_lowercase().as_str(),
        "serial" | "serial2" | "serial4" | "serial8" | "smallserial" | "bigserial"
    )
}

/// Keywords PostgreSQL's quote_ident() quotes: the reserved, column-name
/// and type/function-name categories of its keyword list.
pub fn is_reserved_word(word: &str) -> bool {
    KEYWORDS.binary_search(&word).is_ok()
}

/// Sorted for binary search.
const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_object",
    "json_objectagg",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_as_format_type_prints_them() {
        for (written, canonical) in [
            ("int", "integer"),
            ("INT4", "integer"),
            ("serial", "integer"),
            ("bigserial", "bigint"),
            ("int8[]", "bigint[]"),
            ("integer ARRAY", "integer[]"),
            ("varchar(20)", "character varying(20)"),
            ("VARCHAR", "character varying"),
            ("char", "character(1)"),
            ("character(3)", "character(3)"),
            ("numeric(10, 2)", "numeric(10,2)"),
            ("decimal", "numeric"),
            ("float", "double precision"),
            ("float(10)", "real"),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp(3) with time zone", "timestamp(3) with time zone"),
            ("TIMESTAMP", "timestamp without time zone"),
            ("bool", "boolean"),
            ("jsonb", "jsonb"),
            ("text[][]", "text[][]"),
            ("pg_catalog.int4", "integer"),
            ("public.order_status", "order_status"),
            ("order_status", "order_status"),
            ("\"Mood\"", "\"Mood\""),
            ("\"public\".\"Role\"", "\"Role\""),
            ("\"mood\"", "mood"),
        ] {
            assert_eq!(canonical_type(written), canonical, "{written}");
        }
        assert!(is_serial("BIGSERIAL") && !is_serial("bigint"));
    }

    #[test]
    fn keywords_are_sorted_and_found() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_reserved_word("order") && is_reserved_word("user"));
        assert!(!is_reserved_word("name") && !is_reserved_word("status"));
    }
}
