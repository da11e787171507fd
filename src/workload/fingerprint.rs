//! Fingerprint identity (md5 of the normalized text) and statement kinds.

use md5::{Digest, Md5};
use serde::Serialize;

/// The first 8 bytes of the md5 of the normalized text, shown as 16 hex
/// digits. Stable across runs, machines and versions of the tool as long as
/// normalization does not change, so it can be used as a key in scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FingerprintId(pub [u8; 8]);

impl FingerprintId {
    pub fn of(normalized_text: &str) -> Self {
        let digest = Md5::digest(normalized_text.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Self(id)
    }
}

impl std::fmt::Display for FingerprintId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for FingerprintId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a statement does, as counted in the workload summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementKind {
    Select,
    Insert,
    Update,
    Delete,
    /// Schema changes and privileges: CREATE, ALTER, DROP, TRUNCATE, GRANT, …
    Ddl,
    /// Transaction control: BEGIN, COMMIT, ROLLBACK, SAVEPOINT, …
    Tcl,
    /// Everything else: SET, SHOW, COPY, VACUUM, PREPARE, EXECUTE, …
    Other,
}

impl StatementKind {
    pub const ALL: [StatementKind; 7] = [
        Self::Select,
        Self::Insert,
        Self::Update,
        Self::Delete,
        Self::Ddl,
        Self::Tcl,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Select => "select",
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Ddl => "ddl",
            Self::Tcl => "tcl",
            Self::Other => "other",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Classifies a normalized statement (lower-case, single-spaced) by its
    /// leading keyword; for `WITH …` by the first top-level verb after the
    /// common table expressions.
    pub fn classify(normalized: &[u8]) -> Self {
        // `(select …) union (select …)`: the statement starts inside brackets.
        let opening = normalized
            .iter()
            .take_while(|&&c| c == b'(' || c == b' ')
            .count();
        let mut words = TopLevelWords::new(&normalized[opening..]);
        let Some(first) = words.next() else {
            return Self::Other;
        };
        match first {
            b"with" => {
                for w in words {
                    match w {
                        b"select" | b"values" | b"table" => return Self::Select,
                        b"insert" => return Self::Insert,
                        b"update" => return Self::Update,
                        b"delete" => return Self::Delete,
                        b"merge" => return Self::Update,
                        _ => {}
                    }
                }
                Self::Select
            }
            b"select" | b"values" | b"table" => Self::Select,
            b"insert" => Self::Insert,
            b"update" | b"merge" => Self::Update,
            b"delete" => Self::Delete,
            b"create" | b"alter" | b"drop" | b"truncate" | b"comment" | b"grant" | b"revoke"
            | b"reindex" | b"cluster" | b"refresh" | b"security" | b"import" => Self::Ddl,
            b"begin" | b"start" | b"commit" | b"end" | b"rollback" | b"abort" | b"savepoint"
            | b"release" => Self::Tcl,
            b"prepare" => {
                // PREPARE TRANSACTION is transaction control; PREPARE name AS … is not.
                if words.next() == Some(b"transaction") {
                    Self::Tcl
                } else {
                    Self::Other
                }
            }
            _ => Self::Other,
        }
    }
}

/// Iterates over the words at bracket depth 0 of a normalized statement.
struct TopLevelWords<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> TopLevelWords<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self { text, pos: 0 }
    }
}

impl<'a> Iterator for TopLevelWords<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let t = self.text;
        let mut depth = 0i32;
        while self.pos < t.len() {
            let c = t[self.pos];
            match c {
                b'(' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                }
                b')' | b']' => {
                    depth -= 1;
                    self.pos += 1;
                }
                b'"' => {
                    // Quoted identifier: skip it whole.
                    self.pos += 1;
                    while self.pos < t.len() && t[self.pos] != b'"' {
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let start = self.pos;
                    while self.pos < t.len()
                        && (t[self.pos].is_ascii_alphanumeric()
                            || matches!(t[self.pos], b'_' | b'$'))
                    {
                        self.pos += 1;
                    }
                    if depth <= 0 {
                        return Some(&t[start..self.pos]);
                    }
                }
                _ => self.pos += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::normalize::normalize_to_string;

    fn kind(sql: &str) -> StatementKind {
        StatementKind::classify(normalize_to_string(sql).as_bytes())
    }

    #[test]
    fn id_is_md5_prefix() {
        // Pinned (python: hashlib.md5(b"select $1")) so ids stay stable across releases.
        assert_eq!(
            FingerprintId::of("select $1").to_string(),
            "9905f8f49ddb209f"
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("SELECT 1"), StatementKind::Select);
        assert_eq!(kind("(select 1) union (select 2)"), StatementKind::Select);
        assert_eq!(
            kind("WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)"),
            StatementKind::Delete
        );
        assert_eq!(
            kind("with x as (delete from t returning *) select * from x"),
            StatementKind::Select
        );
        assert_eq!(kind("insert into t values (1)"), StatementKind::Insert);
        assert_eq!(kind("UPDATE t SET a = 1"), StatementKind::Update);
        assert_eq!(kind("delete from t"), StatementKind::Delete);
        assert_eq!(kind("CREATE INDEX i ON t (a)"), StatementKind::Ddl);
        assert_eq!(kind("truncate t"), StatementKind::Ddl);
        assert_eq!(kind("BEGIN"), StatementKind::Tcl);
        assert_eq!(kind("end"), StatementKind::Tcl);
        assert_eq!(kind("PREPARE TRANSACTION 'x'"), StatementKind::Tcl);
        assert_eq!(kind("PREPARE q AS SELECT 1"), StatementKind::Other);
        assert_eq!(kind("SET search_path = x"), StatementKind::Other);
        assert_eq!(kind("vacuum analyze t"), StatementKind::Other);
        assert_eq!(kind(""), StatementKind::Other);
    }
}
