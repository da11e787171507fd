//! Bound parameter values: the `DETAIL:  parameters: $1 = '…', $2 = NULL`
//! that follows an extended-protocol bind or execute, and the argument list
//! of a SQL-level `EXECUTE name(…)`.

/// Reads a parameters detail. Accepts `parameters:` and `Parameters:` (the
/// capital arrived in PostgreSQL 16), values quoted with `''` doubling that
/// may span lines and may have been cut short with `...` by
/// log_parameter_max_length. Returns `None` if the text is not a parameter
/// list.
pub fn parse_parameters_detail(detail: &str) -> Option<Vec<Option<String>>> {
    let rest = detail
        .strip_prefix("parameters: ")
        .or_else(|| detail.strip_prefix("Parameters: "))?;
    let b = rest.as_bytes();
    let mut values: Vec<Option<String>> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            return None;
        }
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let index: usize = rest[start..i].parse().ok()?;
        if !rest[i..].starts_with(" = ") {
            return None;
        }
        i += 3;
        let value = if rest[i..].starts_with("NULL") {
            i += 4;
            None
        } else if b.get(i) == Some(&b'\'') {
            let (value, next) = read_quoted(rest, i)?;
            i = next;
            Some(value)
        } else {
            return None;
        };
        if index == 0 || index > 65_535 {
            return None;
        }
        if values.len() < index {
            values.resize(index, None);
        }
        values[index - 1] = value;
        if rest[i..].starts_with(", ") {
            i += 2;
        } else if i < b.len() {
            return None;
        }
    }
    Some(values)
}

/// Reads a `'…'` literal at `start`; returns the unescaped value and the
/// offset after the closing quote.
fn read_quoted(s: &str, start: usize) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = start + 1;
    let mut run = i;
    while i < b.len() {
        if b[i] == b'\'' {
            out.push_str(&s[run..i]);
            if b.get(i + 1) == Some(&b'\'') {
                out.push('\'');
                i += 2;
                run = i;
                continue;
            }
            return Some((out, i + 1));
        }
        i += 1;
    }
    None
}

/// Splits the argument list of `EXECUTE name(arg, …)` into values: quoted
/// strings are unquoted, NULL is `None`, anything else (numbers, expressions)
/// is kept as written.
pub fn parse_execute_arguments(execute: &str) -> Option<(String, Vec<Option<String>>)> {
    let trimmed = execute.trim().trim_end_matches(';').trim_end();
    let lower = trimmed.get(..8)?.to_ascii_lowercase();
    if lower != "execute " {
        return None;
    }
    let rest = trimmed[8..].trim_start();
    let (name, args) = match rest.find('(') {
        Some(p) => (rest[..p].trim(), Some(&rest[p..])),
        None => (rest.trim(), None),
    };
    let mut values = Vec::new();
    if let Some(args) = args {
        let inner = args.strip_prefix('(')?.strip_suffix(')')?;
        for arg in split_top_level(inner) {
            let arg = arg.trim();
            if arg.eq_ignore_ascii_case("null") {
                values.push(None);
            } else if arg.starts_with('\'') {
                let (v, end) = read_quoted(arg, 0)?;
                // A cast after the literal ('x'::text) keeps only the value.
                let _ = end;
                values.push(Some(v));
            } else {
                values.push(Some(arg.to_string()));
            }
        }
    }
    Some((name.to_ascii_lowercase(), values))
}

/// Splits on commas outside quotes and brackets.
fn split_top_level(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let q = b[i];
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < b.len() || !parts.is_empty() {
        parts.push(&s[start..]);
    }
    parts
}

/// The query of a `PREPARE name [(types)] AS query` statement, as logged in
/// `DETAIL:  prepare: …`.
pub fn prepared_body(prepare: &str) -> Option<&str> {
    let t = prepare.trim_start();
    if !t.get(..8)?.eq_ignore_ascii_case("prepare ") {
        return None;
    }
    // Find the top-level " AS " keyword (type lists cannot contain it).
    let lower = t.to_ascii_lowercase();
    let mut depth = 0i32;
    let lb = lower.as_bytes();
    for i in 0..lb.len() {
        match lb[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        if depth == 0
            && lb[i].is_ascii_whitespace()
            && lb[i + 1..].starts_with(b"as")
            && lb.get(i + 3).is_some_and(u8::is_ascii_whitespace)
        {
            return Some(t[i + 3..].trim());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_parameters() {
        assert_eq!(
            parse_parameters_detail("parameters: $1 = '42', $2 = NULL, $3 = 'it''s\nmulti'"),
            Some(vec![Some("42".into()), None, Some("it's\nmulti".into())])
        );
        assert_eq!(
            parse_parameters_detail("Parameters: $1 = 'abc...'"),
            Some(vec![Some("abc...".into())])
        );
        assert_eq!(
            parse_parameters_detail("parameters: $1 = ', $2 = '"),
            Some(vec![Some(", $2 = ".into())])
        );
        assert_eq!(
            parse_parameters_detail("Key (id)=(42) already exists."),
            None
        );
        assert_eq!(
            parse_parameters_detail("parameters: $1 = 'unterminated"),
            None
        );
    }

    #[test]
    fn execute_arguments() {
        assert_eq!(
            parse_execute_arguments("EXECUTE q1(5, 'a''b', NULL)"),
            Some((
                "q1".into(),
                vec![Some("5".into()), Some("a'b".into()), None]
            ))
        );
        assert_eq!(
            parse_execute_arguments("EXECUTE q2"),
            Some(("q2".into(), vec![]))
        );
        assert_eq!(parse_execute_arguments("select 1"), None);
    }

    #[test]
    fn prepare_body() {
        assert_eq!(
            prepared_body("PREPARE q1 (int, text) AS SELECT * FROM t WHERE a = $1"),
            Some("SELECT * FROM t WHERE a = $1")
        );
        assert_eq!(prepared_body("prepare q AS\n  select 1"), Some("select 1"));
        assert_eq!(prepared_body("select 1"), None);
    }
}
