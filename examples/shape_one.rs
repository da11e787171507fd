//! Prints the shape of statements, for looking at by hand:
//!   cargo run --example shape_one -- SCHEMA.sql 'SELECT …' ['SELECT …'…]
//! or, with a file of statements in corpus.json form, `--json FILE`.

use pgadvisor::catalog::schema_file::load_schema_file;
use pgadvisor::shape::analyze_sql;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let catalog = load_schema_file(args.first().map_or("", String::as_str))?;
    let statements: Vec<String> = if args.get(1).map(String::as_str) == Some("--json") {
        let entries: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&args[2])?)?;
        entries
            .iter()
            .filter_map(|e| e["sql"].as_str().map(str::to_string))
            .collect()
    } else {
        args[1..].to_vec()
    };
    for sql in statements {
        let shape = analyze_sql(&sql, &catalog, &[]);
        println!("{}", serde_json::to_string_pretty(&shape)?);
    }
    Ok(())
}
