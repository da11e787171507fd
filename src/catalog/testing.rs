//! Test helpers: hand-made indexes and one-table catalogs, for the rules
//! that read a catalog (advisor drops, health findings).

use crate::catalog::{
    Catalog, CatalogSource, Index, IndexKey, QualifiedName, Relation, RelationKind,
};

pub fn index(name: &str, keys: &[&str]) -> Index {
    Index {
        name: name.into(),
        method: "btree".into(),
        keys: keys
            .iter()
            .map(|k| IndexKey {
                text: k.to_string(),
                is_expression: false,
                descending: false,
                nulls_first: false,
            })
            .collect(),
        include: vec![],
        predicate: None,
        unique: false,
        primary: false,
        valid: true,
        backs_constraint: false,
        definition: format!(
            "CREATE INDEX {name} ON public.t USING btree ({})",
            keys.join(", ")
        ),
        size_bytes: Some(16 << 20),
        scans: Some(5),
    }
}

/// One table `public.t` holding `indexes`.
pub fn catalog_with(indexes: Vec<Index>) -> Catalog {
    let mut c = Catalog::new(CatalogSource::LiveDatabase);
    let name = QualifiedName::new("public", "t");
    let mut rel = Relation::new(name.clone(), RelationKind::Table);
    rel.indexes = indexes;
    c.relations.insert(name, rel);
    c
}
