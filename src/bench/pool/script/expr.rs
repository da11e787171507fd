//! The integer expressions of `\set` and `\sleep`: `+ - * / %`, unary
//! minus, parentheses, `:name` variables and random / abs / least /
//! greatest, parsed by recursive descent into an `Expr` tree.

use super::parse::{is_ident, is_ident_start};
use super::{Expr, Func, Op, ScriptError, err};

/// Parses the whole of `text` (from script line `line`) as one expression;
/// `variables` are the names `\set` has defined so far, by slot.
pub(super) fn parse(text: &str, line: usize, variables: &[String]) -> Result<Expr, ScriptError> {
    let mut ex = ExprParser {
        b: text.as_bytes(),
        pos: 0,
        line,
        variables,
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

struct ExprParser<'a> {
    b: &'a [u8],
    pos: usize,
    line: usize,
    variables: &'a [String],
}

impl ExprParser<'_> {
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
            return match self.variables.iter().position(|v| *v == name) {
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
