//! Parse and binding coverage of the query shapes on a corpus of real-world
//! style statements (fixtures/corpus: Rails, Django, Hibernate, Prisma,
//! analytics, TPC-H, hand-written), bound offline to the corpus schema or
//! live to a database holding it. Recorded in docs/performance.md.
//!
//!   cargo run --release --example shape_coverage -- fixtures/corpus [--database URL] [--verbose]

use pgadvisor::catalog::Catalog;
use pgadvisor::catalog::schema_file::load_schema_file;
use pgadvisor::shape::analyze_sql;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Entry {
    file: String,
    index: usize,
    sql: String,
}

#[derive(Default)]
struct Tally {
    statements: usize,
    parsed: usize,
    bound: usize,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .cloned()
        .unwrap_or_else(|| "fixtures/corpus".into());
    let verbose = args.iter().any(|a| a == "--verbose");
    let database = args
        .iter()
        .position(|a| a == "--database")
        .and_then(|i| args.get(i + 1).cloned());
    let entries: Vec<Entry> =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/corpus.json"))?)?;
    let catalog: Catalog = match &database {
        Some(url) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let info = pgadvisor::db::ConnInfo::parse(url)?;
                let client = pgadvisor::db::connect(&info, &Default::default()).await?;
                pgadvisor::db::catalog::load_catalog(&client).await
            })?
        }
        None => load_schema_file(&format!("{dir}/schema.sql"))?,
    };
    let mut by_file: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for e in &entries {
        let shape = analyze_sql(&e.sql, &catalog, &[]);
        let t = by_file.entry(e.file.clone()).or_default();
        let parsed = shape.parse_error.is_none();
        let bound = shape.fully_bound();
        for tally in [&mut *t, &mut total] {
            tally.statements += 1;
            tally.parsed += usize::from(parsed);
            tally.bound += usize::from(bound);
        }
        if verbose && !bound {
            println!(
                "{} #{}: {:?} {:?}",
                e.file, e.index, shape.parse_error, shape.problems
            );
        }
    }
    println!(
        "catalog: {} ({} relations)",
        if database.is_some() {
            "live database"
        } else {
            "schema file"
        },
        catalog.relations.len()
    );
    println!("| file | statements | parsed | fully bound |");
    println!("|---|---:|---:|---:|");
    for (file, t) in by_file
        .iter()
        .chain(std::iter::once((&"**all**".to_string(), &total)))
    {
        println!(
            "| {file} | {} | {} ({:.1} %) | {} ({:.1} %) |",
            t.statements,
            t.parsed,
            100.0 * t.parsed as f64 / t.statements as f64,
            t.bound,
            100.0 * t.bound as f64 / t.statements as f64
        );
    }
    Ok(())
}
