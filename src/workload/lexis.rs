//! Lexical pieces of PostgreSQL's SQL shared by the normalizer and the SQL
//! file splitter: character classes, quoted strings, dollar quotes, nested
//! comments and numeric literals.

/// Character classes, looked up rather than computed: the normalizer asks
/// for every byte of every logged statement.
const WORD_START: u8 = 1;
const WORD_CHAR: u8 = 2;
const OPERATOR: u8 = 4;

static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut class = 0;
        if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            class |= WORD_START | WORD_CHAR;
        }
        if b.is_ascii_digit() || b == b'$' {
            class |= WORD_CHAR;
        }
        if matches!(
            b,
            b'+' | b'-'
                | b'*'
                | b'/'
                | b'<'
                | b'>'
                | b'='
                | b'~'
                | b'!'
                | b'@'
                | b'#'
                | b'%'
                | b'^'
                | b'&'
                | b'|'
                | b'`'
                | b'?'
        ) {
            class |= OPERATOR;
        }
        table[c] = class;
        c += 1;
    }
    table
};

/// A byte that may start an unquoted identifier or keyword.
#[inline]
pub fn is_word_start(c: u8) -> bool {
    CLASSES[c as usize] & WORD_START != 0
}

/// A byte that may continue an unquoted identifier (digits and `$` too).
#[inline]
pub fn is_word_char(c: u8) -> bool {
    CLASSES[c as usize] & WORD_CHAR != 0
}

/// A byte of an operator (`+`, `<=`, `@>`, `->>`, …).
#[inline]
pub fn is_operator_char(c: u8) -> bool {
    CLASSES[c as usize] & OPERATOR != 0
}

/// Skips a quoted string or identifier starting at `start` (the opening
/// quote). Doubled quotes stay inside; with `backslash`, `\x` escapes too.
/// An unterminated quote runs to the end of the input.
pub fn skip_quoted(sql: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    let n = sql.len();
    while i < n {
        let c = sql[i];
        if backslash && c == b'\\' {
            i += 2;
            continue;
        }
        if c == quote {
            if sql.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    n
}

/// Skips a (possibly nested) block comment starting at `start`.
pub fn skip_block_comment(sql: &[u8], start: usize) -> usize {
    let mut depth = 0u32;
    let mut i = start;
    let n = sql.len();
    while i < n {
        if sql[i] == b'/' && sql.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if sql[i] == b'*' && sql.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    n
}

/// The `$tag$` (or `$$`) opening a dollar-quoted string at the start of
/// `b`, dollars included; `None` if `b` does not start with one.
pub fn dollar_tag(b: &[u8]) -> Option<&[u8]> {
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut j = 1;
    while j < b.len() && b[j] != b'$' {
        let c = b[j];
        let ok = if j == 1 {
            c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
        } else {
            c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
        };
        if !ok {
            return None;
        }
        j += 1;
    }
    (j < b.len()).then(|| &b[..=j])
}

/// If a dollar-quoted string starts at `start`, returns the offset after it
/// (the end of the input when it is never closed).
pub fn dollar_quote_end(sql: &[u8], start: usize) -> Option<usize> {
    let tag = dollar_tag(&sql[start..])?;
    let body = start + tag.len();
    match memchr::memmem::find(&sql[body..], tag) {
        Some(p) => Some(body + p + tag.len()),
        None => Some(sql.len()),
    }
}

/// Skips a numeric literal (decimal, exponent, hex/octal/binary, `_` separators).
pub fn skip_number(sql: &[u8], start: usize) -> usize {
    let n = sql.len();
    let mut i = start;
    if sql[i] == b'0' && i + 1 < n && matches!(sql[i + 1] | 0x20, b'x' | b'o' | b'b') {
        i += 2;
        while i < n && (sql[i].is_ascii_hexdigit() || sql[i] == b'_') {
            i += 1;
        }
        return i;
    }
    while i < n && (sql[i].is_ascii_digit() || sql[i] == b'_') {
        i += 1;
    }
    if i < n && sql[i] == b'.' && sql.get(i + 1) != Some(&b'.') {
        i += 1;
        while i < n && (sql[i].is_ascii_digit() || sql[i] == b'_') {
            i += 1;
        }
    }
    if i < n && sql[i] | 0x20 == b'e' {
        let mut j = i + 1;
        if j < n && matches!(sql[j], b'+' | b'-') {
            j += 1;
        }
        if j < n && sql[j].is_ascii_digit() {
            i = j;
            while i < n && sql[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_tags() {
        assert_eq!(dollar_tag(b"$$x$$"), Some(&b"$$"[..]));
        assert_eq!(dollar_tag(b"$fn$ body $fn$"), Some(&b"$fn$"[..]));
        assert_eq!(dollar_tag(b"$1"), None);
        assert_eq!(dollar_tag(b"$a b$"), None);
        assert_eq!(dollar_quote_end(b"select $q$ a $$ b $q$, 1", 7), Some(21));
        assert_eq!(dollar_quote_end(b"$x$ never closed", 0), Some(16));
    }

    #[test]
    fn literals_and_comments() {
        assert_eq!(skip_quoted(b"'it''s' x", 0, b'\'', false), 7);
        assert_eq!(skip_quoted(b"'a\\'b' x", 0, b'\'', true), 6);
        assert_eq!(skip_block_comment(b"/* a /* b */ c */ x", 0), 17);
        assert_eq!(skip_number(b"1.5e-3+", 0), 6);
        assert_eq!(skip_number(b"0x1F ", 0), 4);
        assert!(is_word_start(b'_') && !is_word_start(b'1') && is_word_char(b'$'));
        assert!(is_operator_char(b'@') && !is_operator_char(b'('));
    }
}
