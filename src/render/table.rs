//! Shared helpers for terminal tables.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

pub fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    table
}

/// Milliseconds for humans: `0.042 ms`, `12.3 ms`, `4.56 s`, `2.1 min`; `-` when unknown.
pub fn fmt_ms(v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(ms) if ms < 1.0 => format!("{ms:.3} ms"),
        Some(ms) if ms < 1000.0 => format!("{ms:.1} ms"),
        Some(ms) if ms < 60_000.0 => format!("{:.2} s", ms / 1000.0),
        Some(ms) if ms < 3_600_000.0 => format!("{:.1} min", ms / 60_000.0),
        Some(ms) => format!("{:.1} h", ms / 3_600_000.0),
    }
}

/// Collapses whitespace and cuts to `width` characters with an ellipsis.
pub fn one_line(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(width.min(text.len()) + 3);
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count >= width {
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_ms(None), "-");
        assert_eq!(fmt_ms(Some(0.0421)), "0.042 ms");
        assert_eq!(fmt_ms(Some(12.34)), "12.3 ms");
        assert_eq!(fmt_ms(Some(4560.0)), "4.56 s");
        assert_eq!(one_line("select\n  a,\tb", 100), "select a, b");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
