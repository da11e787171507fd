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
    /// Read server logs, SQL files or stdin and rank statements by fingerprint
    #[command(
        after_help = "Examples:\n  pgadvisor workload /var/log/postgresql/postgresql-15-main.log\n  pgadvisor workload postgresql.csv.gz --sort p99 --top 10\n  zcat old.log.gz | pgadvisor workload - --format json"
    )]
    Workload(WorkloadArgs),
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
    #[arg(value_name = "FILE|-", required = true)]
    pub inputs: Vec<String>,

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
