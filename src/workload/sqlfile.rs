//! Plain SQL files: statements split on `;` outside quotes, dollar quotes
//! and comments, streamed line by line so a pg_dump-sized file is fine.
//! psql meta-commands are skipped, and `COPY … FROM stdin` data is passed
//! over up to its `\.` line.

use super::lexis::dollar_tag;
use super::sink::EntrySink;
use super::source::LineReader;
use super::warnings::{Location, WarningReason};
use std::io::{self, Read};

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Normal,
    /// Inside `'…'`; `true` for `E'…'` where backslash escapes.
    Quote(bool),
    Ident,
    /// Inside `$tag$…$tag$`; holds the tag with its dollars.
    Dollar(Vec<u8>),
    Block(u32),
}

/// Splits SQL text into statements with the line each starts on.
pub struct StatementSplitter {
    state: State,
    current: String,
    start_line: u64,
    /// Byte offset in `current` where the statement's first token is.
    content_start: usize,
    has_content: bool,
    in_copy_data: bool,
}

impl Default for StatementSplitter {
    fn default() -> Self {
        Self {
            state: State::Normal,
            current: String::new(),
            start_line: 0,
            content_start: 0,
            has_content: false,
            in_copy_data: false,
        }
    }
}

/// What one line produced.
#[derive(Debug, Default)]
pub struct LineOutput {
    pub statements: Vec<(String, u64)>,
    pub meta_command: bool,
}

impl StatementSplitter {
    /// Feeds one line (without its newline).
    pub fn feed_line(&mut self, line: &str, line_no: u64) -> LineOutput {
        let mut out = LineOutput::default();
        if self.in_copy_data {
            if line == "\\." {
                self.in_copy_data = false;
            }
            return out;
        }
        if self.state == State::Normal && !self.has_content && line.trim_start().starts_with('\\') {
            out.meta_command = true;
            return out;
        }
        let b = line.as_bytes();
        let mut i = 0;
        let mut seg_start = 0;
        while i < b.len() {
            let c = b[i];
            match &mut self.state {
                State::Normal => match c {
                    b'\'' => {
                        let escaped = i > 0
                            && matches!(b[i - 1], b'e' | b'E')
                            && (i < 2 || !is_ident(b[i - 2]));
                        self.mark_content(line_no, i - seg_start);
                        self.state = State::Quote(escaped);
                    }
                    b'"' => {
                        self.mark_content(line_no, i - seg_start);
                        self.state = State::Ident;
                    }
                    b'$' if i == 0 || !is_ident(b[i - 1]) => {
                        self.mark_content(line_no, i - seg_start);
                        if let Some(tag) = dollar_tag(&b[i..]) {
                            i += tag.len();
                            self.state = State::Dollar(tag.to_vec());
                            continue;
                        }
                    }
                    b'-' if b.get(i + 1) == Some(&b'-') => {
                        // The rest of the line is a comment.
                        break;
                    }
                    b'/' if b.get(i + 1) == Some(&b'*') => {
                        self.state = State::Block(1);
                        i += 2;
                        continue;
                    }
                    b';' => {
                        self.current.push_str(&line[seg_start..i]);
                        seg_start = i + 1;
                        if let Some(stmt) = self.take_statement() {
                            out.statements.push(stmt);
                        }
                    }
                    c if c.is_ascii_whitespace() => {}
                    _ => self.mark_content(line_no, i - seg_start),
                },
                State::Quote(escaped) => {
                    if *escaped && c == b'\\' {
                        i += 2;
                        continue;
                    }
                    if c == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        self.state = State::Normal;
                    }
                }
                State::Ident => {
                    if c == b'"' {
                        self.state = State::Normal;
                    }
                }
                State::Dollar(tag) => {
                    if c == b'$' && b[i..].starts_with(tag) {
                        i += tag.len();
                        self.state = State::Normal;
                        continue;
                    }
                }
                State::Block(depth) => {
                    if c == b'*' && b.get(i + 1) == Some(&b'/') {
                        *depth -= 1;
                        i += 2;
                        if *depth == 0 {
                            self.state = State::Normal;
                        }
                        continue;
                    }
                    if c == b'/' && b.get(i + 1) == Some(&b'*') {
                        *depth += 1;
                        i += 2;
                        continue;
                    }
                }
            }
            i += 1;
        }
        if self.has_content {
            self.current.push_str(&line[seg_start..]);
            self.current.push('\n');
        } else {
            self.current.clear();
        }
        out
    }

    /// Notes that the statement really starts here (`offset` bytes into
    /// the current line segment); comments before it are not kept.
    fn mark_content(&mut self, line_no: u64, offset: usize) {
        if !self.has_content {
            self.has_content = true;
            self.start_line = line_no;
            self.content_start = self.current.len() + offset;
        }
    }

    fn take_statement(&mut self) -> Option<(String, u64)> {
        let text = std::mem::take(&mut self.current);
        let had_content = std::mem::replace(&mut self.has_content, false);
        if !had_content {
            return None;
        }
        let stmt = text
            .get(self.content_start..)
            .unwrap_or("")
            .trim()
            .to_string();
        if is_copy_from_stdin(&stmt) {
            self.in_copy_data = true;
        }
        Some((stmt, self.start_line))
    }

    /// The statement left at the end of the input (no final semicolon).
    pub fn finish(&mut self) -> Option<(String, u64)> {
        self.take_statement()
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn is_copy_from_stdin(stmt: &str) -> bool {
    let lower = stmt.to_ascii_lowercase();
    lower.starts_with("copy ")
        && lower
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w == ["from", "stdin"])
}

/// Reads a SQL file into the collector, one untimed call per statement.
pub fn read_sql<R: Read>(
    reader: &mut LineReader<R>,
    input: u32,
    sink: &mut impl EntrySink,
) -> io::Result<()> {
    let mut splitter = StatementSplitter::default();
    while let Some((raw, line_no)) = reader.next_line()? {
        let location = Location {
            input,
            line: line_no,
        };
        let line = match simdutf8::basic::from_utf8(raw) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => {
                sink.warn(WarningReason::InvalidUtf8, location.clone(), None);
                String::from_utf8_lossy(raw)
            }
        };
        let out = splitter.feed_line(&line, line_no);
        if out.meta_command {
            sink.warn(WarningReason::PsqlMetaCommand, location, None);
        }
        for (stmt, start) in out.statements {
            sink.statement(&stmt, Location { input, line: start });
        }
    }
    if let Some((stmt, start)) = splitter.finish() {
        sink.statement(&stmt, Location { input, line: start });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::StatementSplitter;

    fn split(text: &str) -> Vec<(String, u64)> {
        let mut s = StatementSplitter::default();
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            out.extend(s.feed_line(line, i as u64 + 1).statements);
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn splits_outside_quotes_and_comments() {
        let stmts = split(
            "select 'a;b'; -- c;\n/* x; /* y; */ */ select \"q;\"\n;\nselect $f$ ; $f$;\nselect E'\\';'; select 1",
        );
        let texts: Vec<&str> = stmts.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "select 'a;b'",
                "select \"q;\"",
                "select $f$ ; $f$",
                "select E'\\';'",
                "select 1"
            ]
        );
        assert_eq!(stmts[1].1, 2);
    }

    #[test]
    fn function_bodies_and_copy_data() {
        let stmts = split(
            "create function f() returns int as $$\nbegin; return 1; end;\n$$ language plpgsql;\ncopy t from stdin;\n1\tx;\n\\.\nselect 2;",
        );
        assert_eq!(stmts.len(), 3);
        assert!(stmts[0].0.contains("return 1;"));
        assert_eq!(stmts[2].0, "select 2");
    }

    #[test]
    fn meta_commands_are_flagged() {
        let mut s = StatementSplitter::default();
        assert!(s.feed_line("\\timing on", 1).meta_command);
        assert!(!s.feed_line("select 1;", 2).meta_command);
    }
}
