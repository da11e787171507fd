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

mod expr;
mod parse;

pub use parse::{parse_script, statement_kind};
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
