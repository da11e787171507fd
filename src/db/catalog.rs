//! Filling the catalog from a live database: read-only queries over
//! pg_catalog and the statistics views, usable by a role with only
//! pg_monitor / pg_read_all_stats.

use crate::catalog::expr::canonical;
use crate::catalog::{
    Catalog, CatalogSource, Column, ColumnStats, Index, IndexKey, QualifiedName, Relation,
    RelationKind, TableStats,
};
use anyhow::{Context, Result};
use std::collections::HashMap;
use tokio_postgres::Client;

const RELATIONS_SQL: &str = include_str!("sql/catalog_relations.sql");
const COLUMNS_SQL: &str = include_str!("sql/catalog_columns.sql");
const COLUMN_STATS_SQL: &str = include_str!("sql/catalog_column_stats.sql");
const INDEXES_SQL: &str = include_str!("sql/catalog_indexes.sql");
const SEARCH_PATH_SQL: &str = include_str!("sql/catalog_search_path.sql");

/// indoption bits (pg_index.h).
const INDOPTION_DESC: i32 = 1;
const INDOPTION_NULLS_FIRST: i32 = 2;

/// Loads the whole catalog of the connected database.
pub async fn load_catalog(client: &Client) -> Result<Catalog> {
    let mut catalog = Catalog::new(CatalogSource::LiveDatabase);
    let row = client
        .query_one(SEARCH_PATH_SQL, &[])
        .await
        .context("cannot read search_path")?;
    catalog.search_path = row.get::<_, Vec<String>>(0);

    let mut by_oid: HashMap<i64, QualifiedName> = HashMap::new();
    // attnum → column name, per relation, for index keys.
    let mut attnames: HashMap<i64, HashMap<i32, String>> = HashMap::new();
    for row in client
        .query(RELATIONS_SQL, &[])
        .await
        .context("cannot list relations")?
    {
        let relid: i64 = row.get("relid");
        let relkind: String = row.get("relkind");
        let Some(kind) = RelationKind::from_relkind(&relkind) else {
            continue;
        };
        let name = QualifiedName::new(
            row.get::<_, String>("schema_name"),
            row.get::<_, String>("relation_name"),
        );
        let mut rel = Relation::new(name.clone(), kind);
        rel.view_definition = row.get("view_definition");
        rel.partition_of = match (
            row.get::<_, Option<String>>("parent_schema"),
            row.get::<_, Option<String>>("parent_name"),
        ) {
            (Some(s), Some(n)) => Some(QualifiedName::new(s, n)),
            _ => None,
        };
        if kind != RelationKind::View {
            let counter = |col: &str| row.get::<_, Option<i64>>(col).unwrap_or(0);
            rel.stats = Some(TableStats {
                row_estimate: row.get("row_estimate"),
                size_bytes: row.get("size_bytes"),
                total_size_bytes: row.get("total_size_bytes"),
                seq_scans: counter("seq_scans"),
                index_scans: counter("index_scans"),
                inserts: counter("inserts"),
                updates: counter("updates"),
                hot_updates: counter("hot_updates"),
                deletes: counter("deletes"),
                live_tuples: counter("live_tuples"),
                dead_tuples: counter("dead_tuples"),
            });
        }
        by_oid.insert(relid, name.clone());
        catalog.relations.insert(name, rel);
    }

    for row in client
        .query(COLUMNS_SQL, &[])
        .await
        .context("cannot list columns")?
    {
        let relid: i64 = row.get("relid");
        let Some(name) = by_oid.get(&relid) else {
            continue;
        };
        let column_name: String = row.get("column_name");
        attnames
            .entry(relid)
            .or_default()
            .insert(row.get("attnum"), column_name.clone());
        if let Some(rel) = catalog.relations.get_mut(name) {
            rel.columns.push(Column {
                name: column_name,
                data_type: row.get("data_type"),
                not_null: row.get("not_null"),
                stats: None,
            });
        }
    }

    let mut with_stats = 0usize;
    for row in client
        .query(COLUMN_STATS_SQL, &[])
        .await
        .context("cannot read pg_stats")?
    {
        let name = QualifiedName::new(
            row.get::<_, String>("schema_name"),
            row.get::<_, String>("relation_name"),
        );
        let inherited: bool = row.get("inherited");
        let column_name: String = row.get("column_name");
        let Some(rel) = catalog.relations.get_mut(&name) else {
            continue;
        };
        // A partitioned table has only inherited statistics; a plain table's
        // own row comes first (ORDER BY … inherited) and wins.
        let wanted = !inherited || rel.kind == RelationKind::PartitionedTable;
        if let Some(col) = rel.columns.iter_mut().find(|c| c.name == column_name)
            && wanted
            && col.stats.is_none()
        {
            col.stats = Some(ColumnStats {
                null_frac: row.get("null_frac"),
                n_distinct: row.get("n_distinct"),
            });
            with_stats += 1;
        }
    }

    for row in client
        .query(INDEXES_SQL, &[])
        .await
        .context("cannot list indexes")?
    {
        let relid: i64 = row.get("relid");
        let Some(name) = by_oid.get(&relid) else {
            continue;
        };
        let key_count = row.get::<_, i32>("key_count") as usize;
        let attnums: Vec<i32> = parse_int_vector(&row.get::<_, String>("indkey"));
        let options: Vec<i32> = parse_int_vector(&row.get::<_, String>("indoption"));
        let texts: Vec<String> = row.get("key_texts");
        let columns = attnames.get(&relid);
        let column_text = |i: usize| -> (String, bool) {
            match attnums.get(i).copied().unwrap_or(0) {
                0 => (canonical(texts.get(i).map_or("", String::as_str)), true),
                attnum => (
                    columns
                        .and_then(|c| c.get(&attnum))
                        .cloned()
                        .unwrap_or_else(|| texts.get(i).cloned().unwrap_or_default()),
                    false,
                ),
            }
        };
        let keys = (0..key_count.min(attnums.len()))
            .map(|i| {
                let (text, is_expression) = column_text(i);
                let opt = options.get(i).copied().unwrap_or(0);
                IndexKey {
                    text,
                    is_expression,
                    descending: opt & INDOPTION_DESC != 0,
                    nulls_first: opt & INDOPTION_NULLS_FIRST != 0,
                }
            })
            .collect();
        let include = (key_count..attnums.len())
            .map(|i| column_text(i).0)
            .collect();
        let index = Index {
            name: row.get("index_name"),
            method: row.get("method"),
            keys,
            include,
            predicate: row
                .get::<_, Option<String>>("predicate")
                .map(|p| canonical(&p)),
            unique: row.get("is_unique"),
            primary: row.get("is_primary"),
            valid: row.get("is_valid"),
            backs_constraint: row.get("backs_constraint"),
            definition: row.get("definition"),
            size_bytes: row.get("size_bytes"),
            scans: row.get("scans"),
        };
        if let Some(rel) = catalog.relations.get_mut(name) {
            rel.indexes.push(index);
        }
    }

    let analyzed_tables = catalog
        .relations
        .values()
        .filter(|r| r.kind.indexable() && r.stats.is_some_and(|s| s.row_estimate > 0.0))
        .count();
    if analyzed_tables > 0 && with_stats == 0 {
        catalog.notes.push(
            "no column statistics are visible: pg_stats shows only columns this role may SELECT (grant SELECT, or pg_read_all_data on PostgreSQL 14+)".to_string(),
        );
    }
    Ok(catalog)
}

/// Reads an int2vector / oidvector as text (`"1 0 3"`).
fn parse_int_vector(text: &str) -> Vec<i32> {
    text.split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect()
}
