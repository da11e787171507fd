//! SQL names as the server stores them: unquoted identifiers folded to
//! lower case, quoted ones kept exactly; `schema.name` split.

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

/// An identifier as the server stores it.
pub fn ident_name(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The schema (when written) and the name of an object reference, folded.
pub fn split_name(name: &ObjectName) -> (Option<String>, String) {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => ident_name(i),
            other => other.to_string(),
        })
        .collect();
    match parts.as_slice() {
        [.., schema, table] => (Some(schema.clone()), table.clone()),
        [table] => (None, table.clone()),
        [] => (None, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::Ident;

    #[test]
    fn folding() {
        assert_eq!(ident_name(&Ident::new("Users")), "users");
        assert_eq!(ident_name(&Ident::with_quote('"', "Users")), "Users");
        let name = ObjectName::from(vec![
            Ident::new("Billing"),
            Ident::with_quote('"', "Tax Rates"),
        ]);
        assert_eq!(
            split_name(&name),
            (Some("billing".into()), "Tax Rates".into())
        );
    }
}
