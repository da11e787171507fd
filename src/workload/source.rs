//! Opening inputs (files or stdin, gzip detected by content) and reading
//! them line by line in large blocks, without holding the whole input.

use anyhow::{Context, Result};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, Read};

/// Read block size: large enough that a read costs little per line.
const BLOCK: usize = 1 << 20;
/// How much of the (decompressed) start of an input format detection sees.
pub const HEAD_BYTES: usize = 256 * 1024;

/// An opened input: its first bytes (already read, for detection) followed
/// by the rest of the stream.
pub struct OpenInput {
    pub head: Vec<u8>,
    pub rest: Box<dyn Read + Send>,
    pub compressed: bool,
}

impl OpenInput {
    /// The whole stream again, head first.
    pub fn into_reader(self) -> impl Read + Send {
        io::Cursor::new(self.head).chain(self.rest)
    }
}

/// Opens a path (`-` is stdin), decompressing gzip when the content starts
/// with the gzip magic, whatever the file is called.
pub fn open_input(path: &str) -> Result<OpenInput> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {path}"))?)
    };
    let mut raw = raw;
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut raw, &mut magic).with_context(|| format!("cannot read {path}"))?;
    let prefix = io::Cursor::new(magic[..got].to_vec());
    let compressed = got == 2 && magic == [0x1f, 0x8b];
    let mut stream: Box<dyn Read + Send> = if compressed {
        Box::new(MultiGzDecoder::new(prefix.chain(raw)))
    } else {
        Box::new(prefix.chain(raw))
    };
    let mut head = vec![0u8; HEAD_BYTES];
    let n = read_up_to(&mut stream, &mut head).with_context(|| {
        if compressed {
            format!("cannot decompress {path}")
        } else {
            format!("cannot read {path}")
        }
    })?;
    head.truncate(n);
    Ok(OpenInput {
        head,
        rest: stream,
        compressed,
    })
}

/// Reads until `buf` is full or the stream ends.
fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Splits a stream into lines (without `\n` or a trailing `\r`), counting
/// them and the bytes read.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Number of the line last returned (1-based).
    pub line_no: u64,
    pub bytes: u64,
    /// Set when the last line had no terminating newline.
    pub unterminated_last_line: bool,
}

impl<R: Read> LineReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: vec![0; BLOCK],
            start: 0,
            end: 0,
            eof: false,
            line_no: 0,
            bytes: 0,
            unterminated_last_line: false,
        }
    }

    /// The next line with its 1-based number, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(&[u8], u64)>> {
        let range = loop {
            if let Some(p) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let r = self.start..self.start + p;
                self.start += p + 1;
                break r;
            }
            if self.eof {
                if self.start < self.end {
                    let r = self.start..self.end;
                    self.start = self.end;
                    self.unterminated_last_line = true;
                    break r;
                }
                return Ok(None);
            }
            self.fill()?;
        };
        self.line_no += 1;
        let mut line = &self.buf[range];
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        Ok(Some((line, self.line_no)))
    }

    /// Moves the unread tail to the front, grows the buffer for a line
    /// longer than it, and reads more.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let new_len = self.buf.len() * 2;
            self.buf.resize(new_len, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    self.bytes += n as u64;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LineReader;

    #[test]
    fn lines_across_blocks_and_unterminated_tail() {
        let long = "x".repeat(3 << 20);
        let text = format!("a\r\nb\n{long}\nlast");
        let mut r = LineReader::new(text.as_bytes());
        let mut lines = Vec::new();
        while let Some((l, _)) = r.next_line().unwrap() {
            lines.push(l.len());
        }
        assert_eq!(lines, vec![1, 1, long.len(), 4]);
        assert!(r.unterminated_last_line);
        assert_eq!(r.line_no, 4);
        assert_eq!(r.bytes, text.len() as u64);
    }
}
