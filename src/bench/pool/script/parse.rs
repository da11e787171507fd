//! The script text → `Script`: statements (with `:name` turned into `$n`),
//! `\set` and `\sleep` lines, comments and quoting; the expressions of
//! `\set` and `\sleep` are left to `expr`.

use super::{Command, Expr, PREDEFINED, Script, ScriptError, SqlCommand, SqlKind, err, expr};
use crate::db::explain::{Decision, classify};

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    variables: Vec<String>,
}

pub(super) fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

pub(super) fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Parses a script. Statements that are neither queries, DML nor
/// transaction control (DDL, utility, several statements in one) are
/// refused here, with their line.
pub fn parse_script(text: &str) -> Result<Script, ScriptError> {
    let mut p = Parser {
        text,
        pos: 0,
        line: 1,
        variables: PREDEFINED.iter().map(|s| s.to_string()).collect(),
    };
    let mut commands = Vec::new();
    loop {
        p.skip_blank_and_comments();
        if p.pos >= text.len() {
            break;
        }
        if text.as_bytes()[p.pos] == b'\\' {
            commands.push(p.meta_command()?);
        } else if let Some(sql) = p.sql_command()? {
            commands.push(Command::Sql(sql));
        }
    }
    if !commands.iter().any(|c| matches!(c, Command::Sql(_))) {
        return err(p.line, "the script has no SQL statement");
    }
    let writes = commands
        .iter()
        .any(|c| matches!(c, Command::Sql(s) if s.kind == SqlKind::Write));
    let transactions = commands
        .iter()
        .any(|c| matches!(c, Command::Sql(s) if s.kind == SqlKind::Transaction));
    Ok(Script {
        commands,
        variables: p.variables,
        writes,
        transactions,
    })
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_blank_and_comments(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_ascii_whitespace() || c == b';' => {
                    self.bump();
                }
                (Some(b'-'), Some(b'-')) => {
                    while let Some(c) = self.bump() {
                        if c == b'\n' {
                            break;
                        }
                    }
                }
                (Some(b'/'), Some(b'*')) => self.skip_block_comment(),
                _ => return,
            }
        }
    }

    fn skip_block_comment(&mut self) {
        // Nested, as in PostgreSQL.
        let mut depth = 0;
        while let Some(c) = self.peek() {
            if c == b'/' && self.peek_at(1) == Some(b'*') {
                depth += 1;
                self.bump();
                self.bump();
            } else if c == b'*' && self.peek_at(1) == Some(b'/') {
                depth -= 1;
                self.bump();
                self.bump();
                if depth == 0 {
                    return;
                }
            } else {
                self.bump();
            }
        }
    }

    fn slot(&self, name: &str) -> Option<usize> {
        self.variables.iter().position(|v| v == name)
    }

    fn meta_command(&mut self) -> Result<Command, ScriptError> {
        let line = self.line;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.bump();
        }
        let text = self.text[start..self.pos].trim_end();
        let mut words = text[1..].splitn(2, char::is_whitespace);
        let name = words.next().unwrap_or("");
        let rest = words.next().unwrap_or("").trim();
        match name {
            "set" => {
                let (var, expr) = rest
                    .split_once(char::is_whitespace)
                    .map(|(v, e)| (v, e.trim()))
                    .unwrap_or((rest, ""));
                if var.is_empty()
                    || !var.bytes().all(is_ident)
                    || !is_ident_start(var.as_bytes()[0])
                {
                    return err(line, format!("\\set needs a variable name, got {var:?}"));
                }
                if expr.is_empty() {
                    return err(line, format!("\\set {var} needs an expression"));
                }
                let expr = self.expression(expr, line)?;
                let slot = match self.slot(var) {
                    Some(s) => s,
                    None => {
                        self.variables.push(var.to_string());
                        self.variables.len() - 1
                    }
                };
                Ok(Command::Set { slot, expr })
            }
            "sleep" => {
                let mut parts = rest.split_whitespace();
                let amount = parts.next().unwrap_or("");
                let unit_us = match parts.next().unwrap_or("s") {
                    "us" => 1,
                    "ms" => 1_000,
                    "s" => 1_000_000,
                    other => {
                        return err(
                            line,
                            format!("\\sleep: unknown unit {other:?} (us, ms or s)"),
                        );
                    }
                };
                if amount.is_empty() {
                    return err(line, "\\sleep needs a duration");
                }
                let amount = self.expression(amount, line)?;
                Ok(Command::Sleep { amount, unit_us })
            }
            other => err(
                line,
                format!(
                    "unsupported meta-command \\{other} (bench-pool scripts know \\set and \\sleep)"
                ),
            ),
        }
    }

    fn expression(&self, text: &str, line: usize) -> Result<Expr, ScriptError> {
        expr::parse(text, line, &self.variables)
    }

    /// One statement up to an unquoted `;` or the end; `:name`s become `$n`.
    fn sql_command(&mut self) -> Result<Option<SqlCommand>, ScriptError> {
        let line = self.line;
        let mut out = String::new();
        let mut args = Vec::new();
        let mut run = self.pos;
        while let Some(c) = self.peek() {
            match c {
                b';' => break,
                // A meta-command line ends a statement that lacks its `;`.
                b'\n'
                    if self.text[self.pos + 1..]
                        .trim_start_matches([' ', '\t', '\r'])
                        .starts_with('\\') =>
                {
                    break;
                }
                b'\'' | b'"' => {
                    self.bump();
                    while let Some(d) = self.bump() {
                        if d == c {
                            if self.peek() == Some(c) {
                                self.bump();
                                continue;
                            }
                            break;
                        }
                    }
                }
                b'-' if self.peek_at(1) == Some(b'-') => {
                    while let Some(d) = self.peek() {
                        if d == b'\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                b'/' if self.peek_at(1) == Some(b'*') => self.skip_block_comment(),
                b'$' => {
                    if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                        return err(
                            self.line,
                            "$n placeholders are not supported in scripts: use \\set and :name",
                        );
                    }
                    // A dollar-quoted string: $tag$ … $tag$.
                    let rest = &self.text[self.pos + 1..];
                    let tag_len = rest.bytes().take_while(|&b| is_ident(b)).count();
                    if rest.as_bytes().get(tag_len) == Some(&b'$') {
                        let tag = self.text[self.pos..self.pos + tag_len + 2].to_string();
                        for _ in 0..tag.len() {
                            self.bump();
                        }
                        loop {
                            if self.peek().is_none() {
                                return err(line, "unterminated dollar-quoted string");
                            }
                            if self.text[self.pos..].starts_with(&tag) {
                                for _ in 0..tag.len() {
                                    self.bump();
                                }
                                break;
                            }
                            self.bump();
                        }
                    } else {
                        self.bump();
                    }
                }
                b':' if self.peek_at(1) == Some(b':') => {
                    self.bump();
                    self.bump();
                }
                b':' if self.peek_at(1).is_some_and(is_ident_start) => {
                    let start = self.pos + 1;
                    let len = self.text[start..]
                        .bytes()
                        .take_while(|&b| is_ident(b))
                        .count();
                    let name = &self.text[start..start + len];
                    let Some(slot) = self.slot(name) else {
                        return err(
                            self.line,
                            format!("variable :{name} is used before any \\set {name}"),
                        );
                    };
                    out.push_str(&self.text[run..self.pos]);
                    args.push(slot);
                    out.push('$');
                    out.push_str(&args.len().to_string());
                    self.pos = start + len;
                    run = self.pos;
                }
                _ => {
                    self.bump();
                }
            }
        }
        out.push_str(&self.text[run..self.pos]);
        let text = out.trim().to_string();
        if text.is_empty() {
            return Ok(None);
        }
        let kind = statement_kind(&text).map_err(|message| ScriptError { line, message })?;
        Ok(Some(SqlCommand {
            text,
            args,
            kind,
            line,
        }))
    }
}

/// Transaction control by its first word; otherwise the safe runner's
/// classifier decides read or write, and refuses everything else.
pub fn statement_kind(text: &str) -> Result<SqlKind, String> {
    let first = text
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if matches!(
        first.as_str(),
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE"
    ) {
        return Ok(SqlKind::Transaction);
    }
    match classify(text) {
        Decision::ReadOnly => Ok(SqlKind::Read),
        Decision::Write => Ok(SqlKind::Write),
        Decision::Never { reason } => Err(format!(
            "{} — bench-pool never runs this ({reason})",
            text.lines().next().unwrap_or("")
        )),
    }
}
