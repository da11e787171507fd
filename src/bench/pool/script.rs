//! pgbench-like scripts: SQL statements ending with `;` (over several
//! lines if need be), `\set NAME EXPR` with integer arithmetic and
//! `random(lo, hi)`, `\sleep N [us|ms|s]`, `--` and `/* */` comments.
//! Each `:name` in a statement becomes a bind parameter (`$1`, `$2`, … in
//! order of appearance) filled from the variable when the statement runs,
//! so every statement is prepared once per connection. `:scale` (the
//! --scale value) and `:client_id` (the client task's number) are
//! predefined, as in pgbench.
//!
//! Parsing is pure and happens once; running a script only evaluates the
//! pre-built expression trees into a per-task slot array, so a transaction
//! allocates nothing here.

use crate::db::explain::{Decision, classify};
use std::fmt;

/// Variables every script has, in slot order.
pub const PREDEFINED: [&str; 2] = ["scale", "client_id"];
pub const SCALE_SLOT: usize = 0;
pub const CLIENT_ID_SLOT: usize = 1;

#[derive(Clone, Debug)]
pub struct Script {
    pub commands: Vec<Command>,
    /// Slot → variable name.
    pub variables: Vec<String>,
    /// Some statement writes (INSERT, UPDATE, DELETE, MERGE, data-modifying WITH).
    pub writes: bool,
    /// Some statement is transaction control (BEGIN … END).
    pub transactions: bool,
}

#[derive(Clone, Debug)]
pub enum Command {
    Set { slot: usize, expr: Expr },
    Sleep { amount: Expr, unit_us: u64 },
    Sql(SqlCommand),
}

/// A statement with `$n` in place of its `:name`s.
#[derive(Clone, Debug)]
pub struct SqlCommand {
    pub text: String,
    /// `$n` → variable slot (`args[n - 1]`).
    pub args: Vec<usize>,
    pub kind: SqlKind,
    /// Line where the statement starts (1-based).
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlKind {
    Read,
    Write,
    Transaction,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Int(i64),
    Var(usize),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// Uniform over [lo, hi], both included.
    Random,
    Abs,
    Least,
    Greatest,
}

/// A parse error at a line of the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ScriptError> {
    Err(ScriptError {
        line,
        message: message.into(),
    })
}

/// Why evaluating an expression failed at run time (counted as an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalError(pub &'static str);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Script {
    /// Slot values for a new client task.
    pub fn new_state(&self, scale: u32, client_id: usize) -> Vec<i64> {
        let mut vars = vec![0i64; self.variables.len()];
        vars[SCALE_SLOT] = i64::from(scale);
        vars[CLIENT_ID_SLOT] = client_id as i64;
        vars
    }

    /// The statements, in order (to prepare them on each connection).
    pub fn statements(&self) -> impl Iterator<Item = &SqlCommand> {
        self.commands.iter().filter_map(|c| match c {
            Command::Sql(s) => Some(s),
            _ => None,
        })
    }
}

/// Evaluates `expr` with the current slot values.
pub fn eval(expr: &Expr, vars: &[i64], rng: &mut fastrand::Rng) -> Result<i64, EvalError> {
    Ok(match expr {
        Expr::Int(v) => *v,
        Expr::Var(slot) => vars[*slot],
        Expr::Neg(e) => eval(e, vars, rng)?
            .checked_neg()
            .ok_or(EvalError("integer overflow"))?,
        Expr::Bin(op, a, b) => {
            let (a, b) = (eval(a, vars, rng)?, eval(b, vars, rng)?);
            match op {
                Op::Add => a.checked_add(b),
                Op::Sub => a.checked_sub(b),
                Op::Mul => a.checked_mul(b),
                Op::Div if b == 0 => return Err(EvalError("division by zero")),
                Op::Div => a.checked_div(b),
                Op::Mod if b == 0 => return Err(EvalError("division by zero")),
                Op::Mod => a.checked_rem(b),
            }
            .ok_or(EvalError("integer overflow"))?
        }
        Expr::Call(func, args) => match func {
            Func::Random => {
                let lo = eval(&args[0], vars, rng)?;
                let hi = eval(&args[1], vars, rng)?;
                if lo > hi {
                    return Err(EvalError("random(lo, hi) with lo > hi"));
                }
                rng.i64(lo..=hi)
            }
            Func::Abs => eval(&args[0], vars, rng)?
                .checked_abs()
                .ok_or(EvalError("integer overflow"))?,
            Func::Least | Func::Greatest => {
                let mut acc = eval(&args[0], vars, rng)?;
                for a in &args[1..] {
                    let v = eval(a, vars, rng)?;
                    acc = if *func == Func::Least {
                        acc.min(v)
                    } else {
                        acc.max(v)
                    };
                }
                acc
            }
        },
    })
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    variables: Vec<String>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
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
        let mut ex = ExprParser {
            b: text.as_bytes(),
            pos: 0,
            line,
            parser: self,
        };
        let e = ex.sum()?;
        ex.skip_ws();
        if ex.pos < ex.b.len() {
            return err(
                line,
                format!("unexpected {:?} in expression {text:?}", &text[ex.pos..]),
            );
        }
        Ok(e)
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

struct ExprParser<'a, 'p> {
    b: &'a [u8],
    pos: usize,
    line: usize,
    parser: &'p Parser<'p>,
}

impl ExprParser<'_, '_> {
    fn skip_ws(&mut self) {
        while self
            .b
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.b.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn sum(&mut self) -> Result<Expr, ScriptError> {
        let mut e = self.product()?;
        loop {
            let op = if self.eat(b'+') {
                Op::Add
            } else if self.eat(b'-') {
                Op::Sub
            } else {
                return Ok(e);
            };
            e = Expr::Bin(op, Box::new(e), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Expr, ScriptError> {
        let mut e = self.unary()?;
        loop {
            let op = if self.eat(b'*') {
                Op::Mul
            } else if self.eat(b'/') {
                Op::Div
            } else if self.eat(b'%') {
                Op::Mod
            } else {
                return Ok(e);
            };
            e = Expr::Bin(op, Box::new(e), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, ScriptError> {
        if self.eat(b'-') {
            return Ok(match self.unary()? {
                Expr::Int(v) => Expr::Int(-v),
                e => Expr::Neg(Box::new(e)),
            });
        }
        if self.eat(b'+') {
            return self.unary();
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ScriptError> {
        self.skip_ws();
        let line = self.line;
        let Some(&c) = self.b.get(self.pos) else {
            return err(line, "expression ends too early");
        };
        if c == b'(' {
            self.pos += 1;
            let e = self.sum()?;
            if !self.eat(b')') {
                return err(line, "missing ) in expression");
            }
            return Ok(e);
        }
        if c.is_ascii_digit() {
            let start = self.pos;
            while self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
                self.pos += 1;
            }
            let digits = std::str::from_utf8(&self.b[start..self.pos]).unwrap_or("");
            if self.b.get(self.pos) == Some(&b'.') {
                return err(line, "only integer arithmetic is supported in \\set");
            }
            return digits
                .parse()
                .map(Expr::Int)
                .or_else(|_| err(line, format!("integer {digits} is too large")));
        }
        if c == b':' {
            self.pos += 1;
            let name = self.ident();
            return match self.parser.slot(&name) {
                Some(slot) if !name.is_empty() => Ok(Expr::Var(slot)),
                _ => err(
                    line,
                    format!("variable :{name} is used before any \\set {name}"),
                ),
            };
        }
        if is_ident_start(c) {
            let name = self.ident().to_ascii_lowercase();
            if !self.eat(b'(') {
                return err(
                    line,
                    format!("{name}: variables are written :{name} in expressions"),
                );
            }
            let mut args = Vec::new();
            if !self.eat(b')') {
                loop {
                    args.push(self.sum()?);
                    if self.eat(b')') {
                        break;
                    }
                    if !self.eat(b',') {
                        return err(line, format!("expected , or ) in {name}(…)"));
                    }
                }
            }
            let (func, arity_ok) = match name.as_str() {
                "random" | "random_uniform" => (Func::Random, args.len() == 2),
                "abs" => (Func::Abs, args.len() == 1),
                "least" | "min" => (Func::Least, !args.is_empty()),
                "greatest" | "max" => (Func::Greatest, !args.is_empty()),
                other => {
                    return err(
                        line,
                        format!("unsupported function {other}() (random, abs, least, greatest)"),
                    );
                }
            };
            if !arity_ok {
                return err(line, format!("{name}() has the wrong number of arguments"));
            }
            return Ok(Expr::Call(func, args));
        }
        err(line, format!("unexpected {:?} in expression", c as char))
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self.b.get(self.pos).is_some_and(|&c| is_ident(c)) {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.b[start..self.pos]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::bench_pool::{READ_WRITE_SCRIPT, SELECT_ONLY_SCRIPT};

    fn run_sets(script: &Script, scale: u32, seed: u64) -> Vec<i64> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut vars = script.new_state(scale, 3);
        for c in &script.commands {
            if let Command::Set { slot, expr } = c {
                vars[*slot] = eval(expr, &vars, &mut rng).unwrap();
            }
        }
        vars
    }

    #[test]
    fn pgbench_select_only_script() {
        let s = parse_script(SELECT_ONLY_SCRIPT).unwrap();
        let sql: Vec<&SqlCommand> = s.statements().collect();
        assert_eq!(sql.len(), 1);
        assert_eq!(
            sql[0].text,
            "SELECT abalance FROM pgbench_accounts WHERE aid = $1"
        );
        assert_eq!(sql[0].kind, SqlKind::Read);
        let aid = s.variables.iter().position(|v| v == "aid").unwrap();
        assert_eq!(sql[0].args, vec![aid]);
        assert!(!s.writes && !s.transactions);
        for seed in 0..200 {
            let v = run_sets(&s, 3, seed);
            assert!((1..=300_000).contains(&v[aid]), "{}", v[aid]);
        }
    }

    #[test]
    fn pgbench_tpcb_like_script() {
        let s = parse_script(READ_WRITE_SCRIPT).unwrap();
        let sql: Vec<&SqlCommand> = s.statements().collect();
        assert_eq!(sql.len(), 7);
        assert_eq!(sql[0].kind, SqlKind::Transaction);
        assert_eq!(sql[1].kind, SqlKind::Write);
        assert_eq!(sql[2].kind, SqlKind::Read);
        assert_eq!(sql[6].kind, SqlKind::Transaction);
        assert!(s.writes && s.transactions);
        // Each occurrence is its own parameter, as with pgbench -M prepared.
        assert_eq!(
            sql[1].text,
            "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"
        );
        assert_eq!(sql[5].args.len(), 4);
        let delta = s.variables.iter().position(|v| v == "delta").unwrap();
        let bid = s.variables.iter().position(|v| v == "bid").unwrap();
        for seed in 0..200 {
            let v = run_sets(&s, 2, seed);
            assert!((-5000..=5000).contains(&v[delta]));
            assert!((1..=2).contains(&v[bid]));
        }
    }

    #[test]
    fn arithmetic_follows_precedence_and_integer_rules() {
        let s = parse_script(
            "\\set a 2 + 3 * 4\n\\set b (2 + 3) * 4\n\\set c -7 / 2\n\\set d -7 % 3\n\\set e abs(:c) + least(5, :a, 9) - greatest(1, 2)\n\\set f :scale * 10 + :client_id\nSELECT :a, :b, :c, :d, :e, :f;\n",
        )
        .unwrap();
        let v = run_sets(&s, 4, 1);
        let get = |n: &str| v[s.variables.iter().position(|x| x == n).unwrap()];
        assert_eq!(get("a"), 14);
        assert_eq!(get("b"), 20);
        assert_eq!(get("c"), -3);
        assert_eq!(get("d"), -1);
        assert_eq!(get("e"), 3 + 5 - 2);
        assert_eq!(get("f"), 43);
    }

    #[test]
    fn statements_span_lines_and_keep_quotes_casts_and_comments() {
        let s = parse_script(
            "-- a comment\n\\set id random(1, 10)\nSELECT ':not_a_var', \"col:x\", $$:nor$$, now()::date\n  FROM t -- :commented\n WHERE id = :id\n   AND x = :id;\n/* block ; comment */ SELECT 1",
        )
        .unwrap();
        let sql: Vec<&SqlCommand> = s.statements().collect();
        assert_eq!(sql.len(), 2);
        assert_eq!(sql[0].line, 3);
        assert!(sql[0].text.contains("':not_a_var'"));
        assert!(sql[0].text.contains("now()::date"));
        assert!(sql[0].text.contains("-- :commented"));
        assert!(
            sql[0].text.ends_with("WHERE id = $1\n   AND x = $2"),
            "{}",
            sql[0].text
        );
        assert_eq!(sql[1].text, "SELECT 1");
    }

    #[test]
    fn bad_scripts_are_refused_with_their_line() {
        let cases = [
            ("SELECT :nope;", 1, "used before"),
            ("\\set x random(1)\nSELECT 1;", 1, "wrong number"),
            ("SELECT 1;\n\\shell rm -rf /", 2, "unsupported meta-command"),
            ("SELECT 1;\nDROP TABLE t;", 2, "never runs"),
            ("\\set x 1.5\nSELECT 1;", 1, "integer"),
            ("\\set x foo(1)\nSELECT 1;", 1, "unsupported function"),
            ("\\set x 1 +\nSELECT 1;", 1, "too early"),
            ("-- nothing\n", 2, "no SQL"),
            ("SELECT $1;", 1, "placeholders"),
        ];
        for (text, line, needle) in cases {
            let e = parse_script(text).unwrap_err();
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.message.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn runtime_errors_are_values_not_panics() {
        let s = parse_script("\\set z 0\n\\set x 10 / :z\nSELECT 1;").unwrap();
        let mut rng = fastrand::Rng::with_seed(1);
        let mut vars = s.new_state(1, 0);
        let mut failed = None;
        for c in &s.commands {
            if let Command::Set { slot, expr } = c {
                match eval(expr, &vars, &mut rng) {
                    Ok(v) => vars[*slot] = v,
                    Err(e) => failed = Some(e),
                }
            }
        }
        assert_eq!(failed, Some(EvalError("division by zero")));
        let s = parse_script("\\set x random(5, 1)\nSELECT 1;").unwrap();
        let Command::Set { expr, .. } = &s.commands[0] else {
            panic!()
        };
        assert!(eval(expr, &vars, &mut rng).is_err());
    }

    #[test]
    fn sleep_is_parsed_with_its_unit() {
        let s = parse_script("\\sleep 5 ms\nSELECT 1;").unwrap();
        assert!(matches!(
            &s.commands[0],
            Command::Sleep {
                amount: Expr::Int(5),
                unit_us: 1000
            }
        ));
    }
}
