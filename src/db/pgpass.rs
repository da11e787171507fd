//! The password file (~/.pgpass or PGPASSFILE) as libpq reads it:
//! `host:port:database:user:password`, `*` matching anything, `\:` and `\\`
//! escaped, `#` comments, first matching line wins.

/// The password for a connection, if a line of `text` matches it.
pub fn lookup(text: &str, host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    // libpq matches a Unix-socket connection against "localhost".
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    let port = port.to_string();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = split_line(line);
            if fields.len() != 5 {
                return None;
            }
            let fits = |pattern: &str, value: &str| pattern == "*" || pattern == value;
            (fits(&fields[0], host)
                && fits(&fields[1], &port)
                && fits(&fields[2], database)
                && fits(&fields[3], user))
            .then(|| fields[4].clone())
        })
}

/// Splits a line on unescaped colons, undoing `\:` and `\\`.
fn split_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("never empty").push(n);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::lookup;

    #[test]
    fn first_matching_line_wins() {
        let text = "# comment\nother:*:*:*:no\ndb1:5432:shop:app:pa\\:ss\n*:*:*:app:fallback\n";
        assert_eq!(
            lookup(text, "db1", 5432, "shop", "app").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            lookup(text, "db2", 5432, "shop", "app").as_deref(),
            Some("fallback")
        );
        assert_eq!(lookup(text, "db2", 5432, "shop", "bob"), None);
        assert_eq!(
            lookup(
                "localhost:5432:*:app:sock\n",
                "/var/run/postgresql",
                5432,
                "x",
                "app"
            )
            .as_deref(),
            Some("sock")
        );
    }
}
