//! Building blocks of advice: quoted SQL, memory sizes rounded up to a value
//! a person would type, numbers formatted for a sentence.

use crate::plan::PlanNode;

/// `"name"`, inner double quotes doubled. Every identifier the findings put
/// in SQL goes through here.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The node's relation for SQL: `"schema"."table"` when the plan names the
/// schema (VERBOSE), `"table"` otherwise.
pub fn relation_sql(node: &PlanNode) -> Option<String> {
    let relation = quote_ident(node.relation_name.as_deref()?);
    Some(match node.schema.as_deref() {
        Some(schema) => format!("{}.{relation}", quote_ident(schema)),
        None => relation,
    })
}

/// `CREATE INDEX CONCURRENTLY ON <relation> ("a", "b");` (the server names
/// the index).
pub fn create_index_sql(node: &PlanNode, columns: &[String]) -> Option<String> {
    if columns.is_empty() {
        return None;
    }
    let columns: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    Some(format!(
        "CREATE INDEX CONCURRENTLY ON {} ({});",
        relation_sql(node)?,
        columns.join(", ")
    ))
}

/// The smallest of 1, 2, 3, 4, 6, 8, 12, 16, 24, … MB (powers of two and
/// one and a half times them) that holds `kb`, in kB.
pub fn round_up_memory_kb(kb: f64) -> u64 {
    if kb <= 1024.0 {
        return 1024;
    }
    for shift in 1..=30 {
        let base = 1024_u64 << shift;
        for size in [base, base / 2 * 3] {
            if size as f64 >= kb {
                return size;
            }
        }
    }
    1 << 40
}

/// A setting value in the units PostgreSQL accepts: `24MB`, `1536MB`, `2GB`.
pub fn memory_setting(kb: u64) -> String {
    const MB: u64 = 1024;
    const GB: u64 = 1024 * 1024;
    if kb >= GB && kb.is_multiple_of(GB) {
        format!("{}GB", kb / GB)
    } else if kb.is_multiple_of(MB) {
        format!("{}MB", kb / MB)
    } else {
        format!("{kb}kB")
    }
}

/// `SET work_mem = '<size>';` for a need of `kb`, rounded up.
pub fn set_work_mem_sql(kb: f64) -> (u64, String) {
    let size = round_up_memory_kb(kb);
    (size, format!("SET work_mem = '{}';", memory_setting(size)))
}

/// A count for a sentence: `200,000`; fractions keep one decimal below 10.
pub fn count(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.abs() < 10.0 && v.fract() != 0.0 {
        return format!("{v:.1}");
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// A share as a percentage for a sentence: `99.9 %`, `50 %`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p > 99.95 && p < 100.0 {
        return "> 99.9 %".to_owned();
    }
    if (p - p.round()).abs() < 0.05 {
        format!("{:.0} %", p)
    } else {
        format!("{p:.1} %")
    }
}

/// Milliseconds for a sentence: `0.79 ms`, `48.3 ms`, `1,234 ms`.
pub fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 1000.0 {
        format!("{v:.1} ms")
    } else {
        format!("{} ms", count(v.round()))
    }
}

/// A ratio for a sentence: `32×`, `2.5×`.
pub fn times(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1}×")
    } else {
        format!("{}×", count(v.round()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(quote_ident("orders"), "\"orders\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        let node = PlanNode {
            relation_name: Some("Order \"Lines\"".into()),
            schema: Some("sales".into()),
            ..PlanNode::default()
        };
        assert_eq!(
            create_index_sql(&node, &["a".into(), "B c".into()]).unwrap(),
            "CREATE INDEX CONCURRENTLY ON \"sales\".\"Order \"\"Lines\"\"\" (\"a\", \"B c\");"
        );
        assert_eq!(create_index_sql(&node, &[]), None);
    }

    #[test]
    fn memory_rounds_up_to_typed_sizes() {
        let sizes: Vec<String> = [
            0.0,
            68.0,
            1024.0,
            1025.0,
            2100.0,
            5000.0,
            7000.0,
            20_720.0,
            1_100_000.0,
        ]
        .iter()
        .map(|kb| memory_setting(round_up_memory_kb(*kb)))
        .collect();
        assert_eq!(
            sizes,
            [
                "1MB", "1MB", "1MB", "2MB", "3MB", "6MB", "8MB", "24MB", "1536MB"
            ]
        );
        assert_eq!(memory_setting(2 * 1024 * 1024), "2GB");
        assert_eq!(set_work_mem_sql(8288.0 * 2.5).1, "SET work_mem = '24MB';");
        assert_eq!(round_up_memory_kb(f64::INFINITY), 1 << 40);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(200_000.0), "200,000");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1234567.0), "1,234,567");
        assert_eq!(count(2.5), "2.5");
        assert_eq!(percent(0.9986), "99.9 %");
        assert_eq!(percent(0.5), "50 %");
        assert_eq!(percent(0.99994), "> 99.9 %");
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(ms(0.788), "0.79 ms");
        assert_eq!(ms(48.349), "48.3 ms");
        assert_eq!(ms(2200.2), "2,200 ms");
        assert_eq!(times(32.6), "33×");
        assert_eq!(times(2.46), "2.5×");
    }
}
