//! The columns a plan condition compares ("Filter", "Index Cond", "Join
//! Filter", …), read from the server's deparsed text. Not a SQL parser: a
//! small lexer and a look at each comparison's two operands, which is all
//! an index or statistics suggestion needs. Anything it does not recognise
//! (function calls, arithmetic, subplans) yields no column rather than a
//! wrong one.

/// How a column is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Comparison {
    /// `=`, `= ANY (…)`, `IS NULL`: a btree index can seek to it.
    Equality,
    /// `<`, `<=`, `>`, `>=`: a btree index can scan a range of it.
    Range,
}

/// A column named in a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionColumn {
    /// The table alias before the dot (`o` in `o.customer_id`), if any.
    pub qualifier: Option<String>,
    pub column: String,
    pub comparison: Comparison,
}

/// Columns compared in `condition`, in order of appearance, each
/// (qualifier, column, comparison) once.
pub fn condition_columns(condition: &str) -> Vec<ConditionColumn> {
    let tokens = lex(condition);
    let mut found: Vec<ConditionColumn> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let comparison = match token {
            Token::Op(op) if op == "=" => Comparison::Equality,
            Token::Op(op) if matches!(op.as_str(), "<" | "<=" | ">" | ">=") => Comparison::Range,
            Token::Word(w) if w.eq_ignore_ascii_case("IS") && is_null_test(&tokens, i) => {
                Comparison::Equality
            }
            _ => continue,
        };
        let operands = [left_column(&tokens, i), right_column(&tokens, i)];
        for (qualifier, column) in operands.into_iter().flatten() {
            let item = ConditionColumn {
                qualifier,
                column,
                comparison,
            };
            if !found.contains(&item) {
                found.push(item);
            }
        }
    }
    found
}

/// Column names for an index on one table: equality columns first, then at
/// most one range column (a btree index can use only the first range
/// column it meets), each name once.
pub fn index_columns(columns: &[ConditionColumn]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in columns
        .iter()
        .filter(|c| c.comparison == Comparison::Equality)
    {
        if !names.contains(&c.column) {
            names.push(c.column.clone());
        }
    }
    if let Some(range) = columns
        .iter()
        .find(|c| c.comparison == Comparison::Range && !names.contains(&c.column))
    {
        names.push(range.column.clone());
    }
    names
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A bare word: identifier or keyword (case kept).
    Word(String),
    /// A double-quoted identifier, unescaped.
    Quoted(String),
    /// A literal: string, number or `$n` parameter.
    Literal,
    Op(String),
    Cast,
    Open,
    Close,
    Dot,
    Other,
}

const KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "ANY", "ALL", "ARRAY", "CASE", "WHEN",
    "THEN", "ELSE", "END", "IN", "LIKE", "ILIKE", "SIMILAR", "DISTINCT", "FROM", "BETWEEN",
    "SubPlan", "InitPlan", "ROW", "COALESCE", "NULLIF", "EXISTS",
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

fn lex(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            i = skip_quoted(&chars, i, '\'').0;
            tokens.push(Token::Literal);
        } else if c == '"' {
            let (next, name) = skip_quoted(&chars, i, '"');
            i = next;
            tokens.push(Token::Quoted(name));
        } else if c.is_ascii_digit()
            || (c == '$' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Literal);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // E'…', B'…', X'…' and U&'…' literals
            if chars.get(i) == Some(&'\'') && word.len() == 1 {
                i = skip_quoted(&chars, i, '\'').0;
                tokens.push(Token::Literal);
            } else {
                tokens.push(Token::Word(word));
            }
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            i += 2;
            tokens.push(Token::Cast);
        } else if c == '(' {
            i += 1;
            tokens.push(Token::Open);
        } else if c == ')' {
            i += 1;
            tokens.push(Token::Close);
        } else if c == '.' {
            i += 1;
            tokens.push(Token::Dot);
        } else if "+-*/<>=~!@#%^&|`?".contains(c) {
            let start = i;
            while i < chars.len() && "+-*/<>=~!@#%^&|`?".contains(chars[i]) {
                i += 1;
            }
            tokens.push(Token::Op(chars[start..i].iter().collect()));
        } else {
            i += 1;
            tokens.push(Token::Other);
        }
    }
    tokens
}

/// From an opening quote at `start`: the index after the closing quote and
/// the unescaped content (a doubled quote stands for one).
fn skip_quoted(chars: &[char], start: usize, quote: char) -> (usize, String) {
    let mut content = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                content.push(quote);
                i += 2;
                continue;
            }
            return (i + 1, content);
        }
        content.push(chars[i]);
        i += 1;
    }
    (i, content)
}

fn is_null_test(tokens: &[Token], is_at: usize) -> bool {
    matches!(tokens.get(is_at + 1), Some(Token::Word(w)) if w.eq_ignore_ascii_case("NULL"))
}

fn identifier(token: &Token) -> Option<&str> {
    match token {
        Token::Word(w) if !is_keyword(w) => Some(w),
        Token::Quoted(q) => Some(q),
        _ => None,
    }
}

/// `ident` or `qualifier.ident` ending at `end` (inclusive).
fn column_ending_at(tokens: &[Token], end: usize) -> Option<(Option<String>, String)> {
    let column = identifier(tokens.get(end)?)?;
    let qualifier = (end >= 2 && tokens[end - 1] == Token::Dot)
        .then(|| identifier(&tokens[end - 2]))
        .flatten();
    Some((qualifier.map(str::to_owned), column.to_owned()))
}

/// The column on the left of the operator at `op`: `col`, `t.col`,
/// `(col)::type`, `col::type`.
fn left_column(tokens: &[Token], op: usize) -> Option<(Option<String>, String)> {
    let mut end = op.checked_sub(1)?;
    // strip `::type` suffixes (type names may be several words, or end in [])
    loop {
        let mut k = end;
        while k > 0 && matches!(tokens[k], Token::Word(_) | Token::Other) {
            k -= 1;
        }
        if k < end && tokens[k] == Token::Cast && k > 0 {
            end = k - 1;
        } else {
            break;
        }
    }
    if tokens[end] == Token::Close {
        // `( col )` or `( t.col )`, not a function call's parentheses
        let inner_end = end.checked_sub(1)?;
        let column = column_ending_at(tokens, inner_end)?;
        let width = if column.0.is_some() { 3 } else { 1 };
        let open = inner_end.checked_sub(width)?;
        if tokens[open] != Token::Open {
            return None;
        }
        if open > 0 && identifier(&tokens[open - 1]).is_some() {
            return None;
        }
        return Some(column);
    }
    let column = column_ending_at(tokens, end)?;
    let width = if column.0.is_some() { 3 } else { 1 };
    // a column, not the tail of an expression like `a + b`
    match end.checked_sub(width).map(|i| &tokens[i]) {
        None | Some(Token::Open) => Some(column),
        Some(Token::Word(w)) if is_keyword(w) => Some(column),
        _ => None,
    }
}

/// The column on the right of the operator at `op`: `col`, `t.col`,
/// `col::type`, but not `f(…)` nor `col + 1`.
fn right_column(tokens: &[Token], op: usize) -> Option<(Option<String>, String)> {
    let start = op + 1;
    let first = identifier(tokens.get(start)?)?;
    let (qualifier, column, next) = if tokens.get(start + 1) == Some(&Token::Dot) {
        let column = identifier(tokens.get(start + 2)?)?;
        (Some(first.to_owned()), column.to_owned(), start + 3)
    } else {
        (None, first.to_owned(), start + 1)
    };
    match tokens.get(next) {
        None | Some(Token::Close) | Some(Token::Cast) => Some((qualifier, column)),
        Some(Token::Word(w)) if is_keyword(w) => Some((qualifier, column)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `qualifier.column` followed by `=` (equality) or `<` (range).
    fn cols(condition: &str) -> Vec<String> {
        condition_columns(condition)
            .into_iter()
            .map(|c| {
                let q = c.qualifier.map(|q| format!("{q}.")).unwrap_or_default();
                let kind = match c.comparison {
                    Comparison::Equality => "=",
                    Comparison::Range => "<",
                };
                format!("{q}{}{kind}", c.column)
            })
            .collect()
    }

    #[test]
    fn filters_as_the_server_prints_them() {
        assert_eq!(
            cols("((customer_id >= 4200) AND (customer_id <= 4300) AND (status = 'paid'::text))"),
            ["customer_id<", "status="]
        );
        assert_eq!(cols("(customer_id = 42)"), ["customer_id="]);
        assert_eq!(cols("((code)::text = 'x'::text)"), ["code="]);
        assert_eq!(
            cols("(created_at > '2024-01-01 00:00:00'::timestamp without time zone)"),
            ["created_at<"]
        );
        assert_eq!(cols("(id = ANY ('{1,2,3}'::integer[]))"), ["id="]);
        assert_eq!(cols("(deleted_at IS NULL)"), ["deleted_at="]);
        assert_eq!(cols("(state = $1)"), ["state="]);
        assert_eq!(cols("(\"Odd \"\"Name\" = 1)"), ["Odd \"Name="]);
    }

    #[test]
    fn join_conditions_name_both_sides() {
        assert_eq!(cols("(p.customer_id = c.id)"), ["p.customer_id=", "c.id="]);
    }

    #[test]
    fn expressions_yield_no_column() {
        assert!(cols("(lower(email) = 'a'::text)").is_empty());
        assert!(cols("((a + b) = 3)").is_empty());
        assert!(cols("(note ~~ '%x%'::text)").is_empty());
        assert_eq!(cols("(x = (SubPlan 1))"), ["x="]);
        assert!(cols("(NOT active)").is_empty());
        assert!(cols("").is_empty());
        assert!(cols("((((").is_empty());
        assert!(cols("= = < IS").is_empty());
    }

    #[test]
    fn index_columns_put_equality_first_and_one_range() {
        let c = condition_columns(
            "((created_at > '2024-01-01'::date) AND (amount < 5) AND (status = 'x'::text))",
        );
        assert_eq!(index_columns(&c), vec!["status", "created_at"]);
    }
}
