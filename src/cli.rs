//! Command-line types only (clap derive): one Args struct per subcommand and
//! the shared connection group. Validation and behaviour live in commands/.

use crate::workload::model::LogFormat;
use crate::workload::rank::SortKey;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "pgadvisor",
    version,
    about = "PostgreSQL performance advisor: what is this database spending its time on, and what should change",
    long_about = None,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rank statements by fingerprint from logs, SQL, stdin or pg_stat_statements
    #[command(
        after_help = "Examples:\n  pgadvisor workload /var/log/postgresql/postgresql-15-main.log\n  pgadvisor workload postgresql.csv.gz --sort p99 --top 10\n  zcat old.log.gz | pgadvisor workload - --format json\n  pgadvisor workload --from-pg-stat-statements -d postgres://app@db1/shop"
    )]
    Workload(WorkloadArgs),
    /// Recommend a workload-wide index set, costed with HypoPG on the server
    #[command(
        name = "recommend-indexes",
        after_help = "Examples:\n  pgadvisor recommend-indexes postgresql.log -d postgres://app@db1/shop\n  pgadvisor recommend-indexes queries.sql -d $TEST_DB --format markdown --fail-on-recommendation\n  pgadvisor recommend-indexes --from-pg-stat-statements -d $DATABASE_URL --format sql > add-indexes.sql\n  pgadvisor recommend-indexes postgresql.log --schema schema.sql   # offline, not costed\n\nExit status: 0 done, 1 error, 2 usage error, 3 --fail-on-recommendation found something."
    )]
    RecommendIndexes(RecommendArgs),
    /// Build the indexes of a saved recommend-indexes JSON report, safely
    #[command(
        after_help = "Example:\n  pgadvisor recommend-indexes app.log -d $DATABASE_URL --format json > plan.json\n  pgadvisor apply plan.json -d $DATABASE_URL"
    )]
    Apply(ApplyArgs),
    /// EXPLAIN ANALYZE the heaviest statements safely (rolled back) and report plan findings
    #[command(
        after_help = "Examples:\n  pgadvisor analyze -d $DATABASE_URL                       # top statements from pg_stat_statements\n  pgadvisor analyze -d $DATABASE_URL postgresql.log --top 10 --runs 5\n  pgadvisor analyze -d $DATABASE_URL app.log --fail-on warning --format markdown\n\nSafety: queries run in BEGIN READ ONLY ... ROLLBACK; INSERT/UPDATE/DELETE/MERGE only with\n--allow-writes, then in a transaction that is rolled back; DDL, utility and transaction control never."
    )]
    Analyze(AnalyzeArgs),
    /// Connect to a database and report what pgadvisor can use there
    Check(CheckArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Write man pages
    Man(ManArgs),
}

/// How to reach PostgreSQL; shared by every command that connects.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Connection URL (postgres://user@host:5432/db?sslmode=require) or
    /// key=value string ("host=db1 dbname=app sslmode=verify-full").
    /// Missing parts come from PGHOST, PGPORT, PGUSER, PGPASSWORD,
    /// PGDATABASE, PGSSLMODE, PGSSLROOTCERT and ~/.pgpass, as with libpq.
    #[arg(
        short = 'd',
        long = "database",
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database: Option<String>,

    /// Seconds to wait for a connection before giving up (0 waits forever).
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableOrJson {
    Table,
    Json,
}

/// Input format: detected per input unless given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    Auto,
    Stderr,
    Csv,
    Json,
    Sql,
}

impl LogFormatArg {
    pub fn forced(self) -> Option<LogFormat> {
        match self {
            Self::Auto => None,
            Self::Stderr => Some(LogFormat::Stderr),
            Self::Csv => Some(LogFormat::Csv),
            Self::Json => Some(LogFormat::Json),
            Self::Sql => Some(LogFormat::Sql),
        }
    }
}

#[derive(Debug, Args)]
pub struct WorkloadArgs {
    /// Log files (stderr, csvlog, jsonlog), .sql files, gzip of any of
    /// them, or - for stdin.
    #[arg(
        value_name = "FILE|-",
        required_unless_present = "from_pg_stat_statements"
    )]
    pub inputs: Vec<String>,

    /// Read the workload from pg_stat_statements instead of files, over
    /// the connection given by -d (or DATABASE_URL, PG* variables): the
    /// statements of the connected database, or of the --dbname databases.
    /// The view keeps totals, so there are no percentiles or samples.
    #[arg(long, conflicts_with_all = ["inputs", "log_format", "log_line_prefix"])]
    pub from_pg_stat_statements: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,

    /// Show this many fingerprints (0 shows all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,

    /// Rank by total time, mean time, calls or a latency percentile.
    #[arg(long, value_enum, default_value_t = SortKey::Total)]
    pub sort: SortKey,

    /// Input format; auto detects it from each input's content.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Auto)]
    pub log_format: LogFormatArg,

    /// The server's log_line_prefix (as in postgresql.conf), for stderr
    /// logs whose prefix is not one of the common ones.
    #[arg(long, value_name = "PREFIX")]
    pub log_line_prefix: Option<String>,

    /// Only count statements run in this database (repeatable).
    #[arg(long = "dbname", value_name = "NAME")]
    pub dbnames: Vec<String>,

    /// Only count statements run by this user (repeatable).
    #[arg(long = "user", value_name = "NAME")]
    pub users: Vec<String>,

    /// Sample statements kept per fingerprint (the slowest, with their
    /// parameters).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub samples: usize,

    /// List where each warning happened (first few per reason).
    #[arg(short, long)]
    pub verbose: bool,

    /// Show the workload per table: the columns and expressions its
    /// statements filter, join, sort and group on, with their calls and
    /// share of time. Columns are bound through a catalog: -d URL (live) or
    /// --schema FILE (offline).
    #[arg(long)]
    pub by_table: bool,

    /// A schema file (CREATE TABLE / CREATE INDEX / ALTER TABLE, e.g. from
    /// pg_dump --schema-only) to bind columns offline, for --by-table.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "database",
        requires = "by_table"
    )]
    pub schema: Option<PathBuf>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write pgadvisor.1 and one page per subcommand into this directory
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    /// A migration file a person can run as is.
    Sql,
    /// A pull-request comment.
    Markdown,
}

#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// Log files (stderr, csvlog, jsonlog), .sql files, gzip of any of
    /// them, or - for stdin.
    #[arg(
        value_name = "FILE|-",
        required_unless_present = "from_pg_stat_statements"
    )]
    pub inputs: Vec<String>,

    /// Take the workload from pg_stat_statements of the -d database.
    #[arg(long, conflicts_with_all = ["inputs", "schema"])]
    pub from_pg_stat_statements: bool,

    /// Advise offline from a schema file (pg_dump --schema-only): shapes
    /// and heuristics, nothing costed.
    #[arg(long, value_name = "FILE", conflicts_with = "database")]
    pub schema: Option<PathBuf>,

    /// Most bytes the new indexes may take together (e.g. 500MB, 2GB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub budget: Option<u64>,

    /// Most indexes to recommend.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_indexes: usize,

    /// Most key columns per index.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=32))]
    pub max_columns: u16,

    /// Least gain an index must bring, in percent of the workload's cost.
    #[arg(long, default_value_t = 5.0, value_name = "PCT")]
    pub min_improvement: f64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Exit with status 3 when anything is recommended (for CI).
    #[arg(long)]
    pub fail_on_recommendation: bool,

    /// Build the recommended indexes (after showing them and asking, unless
    /// --yes), one at a time with CREATE INDEX CONCURRENTLY.
    #[arg(long)]
    pub apply: bool,

    /// Do not ask before building (with --apply).
    #[arg(long, requires = "apply")]
    pub yes: bool,

    /// Run CREATE EXTENSION hypopg in the database when it is available
    /// but not installed there (it adds functions only).
    #[arg(long)]
    pub enable_hypopg: bool,

    /// Check drop advice on a HypoPG without hypopg_hide_index (before
    /// 1.4) by dropping each index inside a transaction that is always
    /// rolled back. That takes an ACCESS EXCLUSIVE lock on the table for a
    /// moment (waiting at most 1 s for it).
    #[arg(long)]
    pub verify_drops: bool,

    /// Report unused indexes from this size up.
    #[arg(long, default_value = "10MB", value_name = "SIZE", value_parser = parse_size)]
    pub unused_min_size: u64,

    /// What-if sessions planning in parallel.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,

    /// Input format; auto detects it from each input's content.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Auto)]
    pub log_format: LogFormatArg,

    /// The server's log_line_prefix, for stderr logs with an unusual one.
    #[arg(long, value_name = "PREFIX")]
    pub log_line_prefix: Option<String>,

    /// Only statements run in this database (repeatable).
    #[arg(long = "dbname", value_name = "NAME")]
    pub dbnames: Vec<String>,

    #[command(flatten)]
    pub build: BuildArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Limits for building indexes (--apply and `apply`).
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Longest wait for a lock before a build gives up (e.g. 5s).
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lock_timeout: std::time::Duration,

    /// Longest time one index build may take (e.g. 2h).
    #[arg(long, default_value = "2h", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub build_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A report written by `recommend-indexes --format json`.
    #[arg(value_name = "PLAN.json")]
    pub plan: PathBuf,

    /// Do not ask before building.
    #[arg(long)]
    pub yes: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,

    #[command(flatten)]
    pub build: BuildArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Log files, .sql files, gzip of them, or - for stdin. Without any,
    /// the workload comes from pg_stat_statements.
    #[arg(value_name = "FILE|-")]
    pub inputs: Vec<String>,

    /// Take the workload from pg_stat_statements (the default when no
    /// file is given).
    #[arg(long, conflicts_with = "inputs")]
    pub from_pg_stat_statements: bool,

    /// Analyze this many statements, by total time.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,

    /// EXPLAIN ANALYZE runs per statement (for p50/p95/p99).
    #[arg(long, default_value_t = 3, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,

    /// Also run INSERT/UPDATE/DELETE/MERGE, each inside a transaction that
    /// is rolled back (sequences they advance stay advanced).
    #[arg(long)]
    pub allow_writes: bool,

    /// Longest one statement may run (e.g. 30s); a statement that times
    /// out is reported as such and the run goes on.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub statement_timeout: std::time::Duration,

    /// Output format.
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Table)]
    pub format: AnalyzeFormat,

    /// Exit with status 3 when a finding at or above this severity appears.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<crate::findings::Severity>,

    /// Override a finding threshold: RULE.NAME=VALUE (repeatable; see
    /// docs/findings.md).
    #[arg(long = "threshold", value_name = "RULE.NAME=VALUE")]
    pub thresholds: Vec<String>,

    /// Input format of the files; auto detects it.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Auto)]
    pub log_format: LogFormatArg,

    /// The server's log_line_prefix, for stderr logs with an unusual one.
    #[arg(long, value_name = "PREFIX")]
    pub log_line_prefix: Option<String>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Sizes as PostgreSQL writes them: bytes, or with kB, MB, GB, TB (1024
/// based; KiB/MiB/GiB/TiB and a bare K/M/G/T are accepted too).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 500MB, 2GB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use kB, MB, GB or TB)"
            ));
        }
    };
    Ok((number * factor as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("500MB"), Ok(500 << 20));
        assert_eq!(parse_size("1.5GB"), Ok(3 << 29));
        assert_eq!(parse_size("8192"), Ok(8192));
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("MB").is_err());
    }
}
