//! Telling what an input is from its first bytes: jsonlog, csvlog, a stderr
//! log (and which log_line_prefix it uses), or plain SQL.

use super::model::LogFormat;
use super::prefix::{KNOWN_PREFIXES, LineMatch, LinePrefix};
use super::stderr::LineMode;

/// How many lines of the head detection looks at.
const SAMPLE_LINES: usize = 2000;

/// The result of looking at an input's head.
#[derive(Clone, Debug)]
pub struct Detected {
    pub format: LogFormat,
    /// For stderr logs: how entry lines are recognised.
    pub mode: Option<LineMode>,
}

/// Decides the format (unless forced) and, for stderr, the prefix (unless
/// given). `path` is only a hint: content decides.
pub fn detect(
    head: &[u8],
    path: &str,
    forced: Option<LogFormat>,
    prefix: Option<&LinePrefix>,
) -> Detected {
    let (format, detected_mode) = match forced {
        Some(f) => (f, None),
        None => detect_format(head, path, prefix),
    };
    let mode = (format == LogFormat::Stderr).then(|| match (prefix, detected_mode) {
        (Some(p), _) => LineMode::Prefix(p.clone()),
        (None, Some(m)) => m,
        (None, None) => detect_prefix(head),
    });
    Detected { format, mode }
}

fn sample_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    // The last line of the head may be cut; leave it out unless it is the only one.
    let complete = match memchr::memrchr(b'\n', head) {
        Some(p) => &head[..p],
        None => head,
    };
    complete
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(SAMPLE_LINES)
}

/// The format, and for a stderr log the line mode when finding the format
/// already determined it (so the prefix search runs once).
fn detect_format(
    head: &[u8],
    path: &str,
    prefix: Option<&LinePrefix>,
) -> (LogFormat, Option<LineMode>) {
    let lower = path.to_ascii_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    if stem.ends_with(".sql") {
        return (LogFormat::Sql, None);
    }
    let Some(first) = sample_lines(head).next() else {
        return (LogFormat::Sql, None);
    };
    if first.first() == Some(&b'{') && looks_like_jsonlog(first) {
        return (LogFormat::Json, None);
    }
    if looks_like_csvlog(first) {
        return (LogFormat::Csv, None);
    }
    if prefix.is_some() {
        return (LogFormat::Stderr, None);
    }
    let mode = detect_prefix(head);
    if let LineMode::Prefix(_) = mode {
        return (LogFormat::Stderr, Some(mode));
    }
    // No known prefix: call it a stderr log if most lines carry a severity.
    let mut lines = 0usize;
    let mut entries = 0usize;
    for line in sample_lines(head) {
        if line.first() == Some(&b'\t') {
            continue;
        }
        lines += 1;
        if let LineMatch::Entry(_) = LineMode::SeverityOnly.match_line(line) {
            entries += 1;
        }
    }
    if lines > 0 && entries * 2 >= lines {
        (LogFormat::Stderr, Some(LineMode::SeverityOnly))
    } else {
        (LogFormat::Sql, None)
    }
}

fn looks_like_jsonlog(line: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line)
        .is_ok_and(|m| m.contains_key("error_severity") || m.contains_key("message"))
}

fn looks_like_csvlog(line: &[u8]) -> bool {
    // log_time is "YYYY-MM-DD HH:MM:SS.mmm ZONE", then a comma.
    let shape = b"dddd-dd-dd dd:dd:dd";
    if line.len() < shape.len() + 2 {
        return false;
    }
    let ok = line.iter().zip(shape).all(|(c, s)| {
        if *s == b'd' {
            c.is_ascii_digit()
        } else {
            c == s
        }
    });
    if !ok {
        return false;
    }
    match memchr::memchr(b',', line) {
        Some(p) => p < 40 && !line[..p].contains(&b'['),
        None => false,
    }
}

/// Picks the known prefix that recognises the most entry lines in the head,
/// falling back to severity-only matching.
pub fn detect_prefix(head: &[u8]) -> LineMode {
    let candidates: Vec<LinePrefix> = KNOWN_PREFIXES
        .iter()
        .map(|p| LinePrefix::compile(p).expect("built-in prefixes compile"))
        .collect();
    let mut counts = vec![0usize; candidates.len()];
    let mut lines = 0usize;
    for line in sample_lines(head) {
        if line.first() == Some(&b'\t') {
            continue;
        }
        lines += 1;
        for (k, c) in candidates.iter().enumerate() {
            if let LineMatch::Entry(_) = c.match_line(line) {
                counts[k] += 1;
            }
        }
    }
    let best = counts
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(k, &n)| (k, n));
    match best {
        Some((k, n)) if n > 0 && n * 10 >= lines * 3 => LineMode::Prefix(candidates[k].clone()),
        _ => LineMode::SeverityOnly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_content() {
        let json =
            br#"{"timestamp":"2025-03-01 10:00:00.123 UTC","error_severity":"LOG","message":"x"}
"#;
        assert_eq!(detect(json, "x.log", None, None).format, LogFormat::Json);
        let csv = b"2025-03-01 10:00:00.123 UTC,\"app\",\"shop\",4242,\"10.0.0.5:53120\",67c2d8a0.1092,7,\"SELECT\",2025-03-01 09:58:24 UTC,3/1452,0,LOG,00000,\"duration: 12.345 ms  statement: SELECT 1\",,,,,,,,,\"psql\",\"client backend\",,0\n";
        assert_eq!(detect(csv, "x.log", None, None).format, LogFormat::Csv);
        let stderr = b"2025-03-01 10:00:00 UTC [4242]: [7-1] user=app,db=shop,app=psql,client=10.0.0.5 LOG:  duration: 0.211 ms  statement: BEGIN\n";
        let d = detect(stderr, "x", None, None);
        assert_eq!(d.format, LogFormat::Stderr);
        match d.mode {
            Some(LineMode::Prefix(p)) => {
                assert_eq!(
                    p.as_str(),
                    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            detect(b"select 1;\n", "q.txt", None, None).format,
            LogFormat::Sql
        );
        assert_eq!(
            detect(b"LOG: x", "q.sql", None, None).format,
            LogFormat::Sql
        );
        let odd = b"<12> host pg: LOG:  duration: 1.0 ms  statement: select 1\n";
        let d = detect(odd, "x", None, None);
        assert_eq!(d.format, LogFormat::Stderr);
        assert!(matches!(d.mode, Some(LineMode::SeverityOnly)));
    }
}
