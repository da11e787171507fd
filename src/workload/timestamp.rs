//! Log timestamps: parsed just enough to order entries and print first/last
//! seen times, without a date-time dependency on the hot path.

use serde::Serialize;

/// A point in time read from a log. When the zone is UTC or a numeric offset
/// the value is exact; for a zone abbreviation (`CET`, `EST`) it is wall-clock
/// time in that zone, which still orders entries of one log correctly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogTime {
    /// Milliseconds since 1970-01-01 00:00 (UTC when `zone` is empty).
    pub millis: i64,
    /// Zone abbreviation when it is not a known offset; empty means UTC.
    zone: [u8; 6],
}

impl LogTime {
    pub fn from_unix_millis(millis: i64) -> Self {
        Self {
            millis,
            zone: [0; 6],
        }
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.fff][ ZONE]`, the ISO form with `T`, or a
    /// `%n` epoch (`1740823200.123`). Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.trim().as_bytes();
        if b.len() >= 19 && b[4] == b'-' && b[7] == b'-' && matches!(b[10], b' ' | b'T') {
            return parse_datetime(b);
        }
        parse_epoch(b)
    }

    fn zone_str(&self) -> &str {
        let len = self.zone.iter().position(|&c| c == 0).unwrap_or(6);
        std::str::from_utf8(&self.zone[..len]).unwrap_or("")
    }
}

impl std::fmt::Display for LogTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.millis.div_euclid(1000);
        let ms = self.millis.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (sod / 3600, (sod / 60) % 60, sod % 60);
        if self.zone[0] == 0 {
            write!(f, "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{ms:03}Z")
        } else {
            write!(
                f,
                "{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}.{ms:03} {}",
                self.zone_str()
            )
        }
    }
}

impl Serialize for LogTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        b.iter()
            .fold(0i64, |acc, &c| acc * 10 + i64::from(c - b'0')),
    )
}

fn parse_datetime(b: &[u8]) -> Option<LogTime> {
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &b[start..i];
        for (k, &c) in frac.iter().take(3).enumerate() {
            millis += i64::from(c - b'0') * [100, 10, 1][k];
        }
    }
    let mut value =
        (days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * 1000
            + millis;
    let rest = trim_ascii(&b[i..]);
    let mut zone = [0u8; 6];
    match rest {
        b"" | b"UTC" | b"GMT" | b"Z" | b"+00" | b"+00:00" | b"UCT" => {}
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail.len() {
                2 => (digits(tail)?, 0),
                4 => (digits(&tail[..2])?, digits(&tail[2..])?),
                5 if tail[2] == b':' => (digits(&tail[..2])?, digits(&tail[3..])?),
                _ => return None,
            };
            let offset = (h * 60 + m) * 60_000;
            // Local time = UTC + offset, so UTC = local - offset.
            value -= if *sign == b'+' { offset } else { -offset };
        }
        abbrev if abbrev.len() <= 6 && abbrev.iter().all(u8::is_ascii_alphabetic) => {
            zone[..abbrev.len()].copy_from_slice(abbrev);
        }
        _ => return None,
    }
    Some(LogTime {
        millis: value,
        zone,
    })
}

fn parse_epoch(b: &[u8]) -> Option<LogTime> {
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], &b[p + 1..]),
        None => (b, &b[..0]),
    };
    let secs = digits(int)?;
    if !(100_000_000..10_000_000_000).contains(&secs) {
        return None;
    }
    let mut millis = 0;
    for (k, &c) in frac.iter().take(3).enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        millis += i64::from(c - b'0') * [100, 10, 1][k];
    }
    Some(LogTime::from_unix_millis(secs * 1000 + millis))
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &b[start..end]
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::LogTime;

    #[test]
    fn formats() {
        let t = LogTime::parse("2025-03-01 10:00:00.123 UTC").unwrap();
        assert_eq!(t.to_string(), "2025-03-01T10:00:00.123Z");
        let t = LogTime::parse("2025-03-01 10:00:00 UTC").unwrap();
        assert_eq!(t.to_string(), "2025-03-01T10:00:00.000Z");
        let t = LogTime::parse("2025-03-01T12:30:00.5+02:30").unwrap();
        assert_eq!(t.to_string(), "2025-03-01T10:00:00.500Z");
        let t = LogTime::parse("2025-03-01 10:00:00 -05").unwrap();
        assert_eq!(t.to_string(), "2025-03-01T15:00:00.000Z");
        let t = LogTime::parse("1740823200.123").unwrap();
        assert_eq!(t.to_string(), "2025-03-01T10:00:00.123Z");
        let t = LogTime::parse("2024-02-29 23:59:59.999 CET").unwrap();
        assert_eq!(t.to_string(), "2024-02-29 23:59:59.999 CET");
        assert!(LogTime::parse("yesterday").is_none());
        assert!(LogTime::parse("2025-13-01 10:00:00").is_none());
    }

    #[test]
    fn orders() {
        let a = LogTime::parse("2025-03-01 09:59:59.999 UTC").unwrap();
        let b = LogTime::parse("2025-03-01 10:00:00 UTC").unwrap();
        assert!(a < b);
    }
}
