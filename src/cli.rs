//! Command-line types only (clap derive): one Args struct per subcommand and
//! the shared connection group. Validation and behaviour live in commands/.

use crate::workload::model::LogFormat;
use crate::workload::rank::SortKey;
use crate::workload::{CollectOptions, IngestOptions};
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
    /// EXPLAIN ANALYZE the heaviest statements safely (rolled back), with plan and database health findings
    #[command(
        after_help = "Examples:\n  pgadvisor analyze -d $DATABASE_URL                       # top statements from pg_stat_statements\n  pgadvisor analyze -d $DATABASE_URL postgresql.log --top 10 --runs 5\n  pgadvisor analyze -d $DATABASE_URL app.log --fail-on warning --format markdown\n  pgadvisor analyze -d $DATABASE_URL --health-only --fail-on critical      # database health only\n\nSafety: queries run in BEGIN READ ONLY ... ROLLBACK; INSERT/UPDATE/DELETE/MERGE only with\n--allow-writes, then in a transaction that is rolled back; DDL, utility and transaction control never."
    )]
    Analyze(AnalyzeArgs),
    /// Watch a database: rates, sessions, waits and top statements every interval
    #[command(
        after_help = "Examples:\n  pgadvisor monitor -d $DATABASE_URL                          # redraws every 5s until Ctrl-C\n  pgadvisor monitor -d $DATABASE_URL --interval 1s --count 60 --format jsonl > samples.jsonl\n\nThe first sample comes one interval after start: the counters read at start are the baseline.\nRates are per second over the interval, timed by the server's clock."
    )]
    Monitor(MonitorArgs),
    /// Measure throughput and latency at several pool sizes and recommend one
    #[command(
        name = "bench-pool",
        after_help = "Examples:\n  pgadvisor bench-pool -d $DATABASE_URL              # select-only, pool sizes 1 to 32\n  pgadvisor bench-pool -d $DATABASE_URL --builtin read-write --scale 10 --repeats 3\n  pgadvisor bench-pool -d $DATABASE_URL --script app.sql --sizes 4,8,16 --slo-p99 20ms\n  pgadvisor bench-pool -d $DATABASE_URL postgresql.log --rate 2000 --plot pool.svg\n\nSafety: pools never exceed max_connections - superuser_reserved_connections - the connections\nin use - 1 for the wait-event sampler (and the role's and database's CONNECTION LIMIT); every\nstep ends after --duration, every statement after --statement-timeout. Built-in workloads run on a scratch schema that is always dropped.\nScripts and workload files run reads only unless --allow-writes (writes are then COMMITTED).\nCtrl-C stops the run, prints the steps measured so far and exits with status 130."
    )]
    BenchPool(BenchPoolArgs),
    /// Measure whether a cache pays off: simulated policies, then L1/Redis live
    #[command(
        name = "bench-cache",
        after_help = "Examples:\n  pgadvisor bench-cache --dist zipf:0.9 --keys 100000                 # simulation only, no server\n  pgadvisor bench-cache app.log --plot hit-ratio.svg                   # the log's own reads, simulated\n  pgadvisor bench-cache -d $DATABASE_URL --redis redis://127.0.0.1:6379 --duration 10s\n  pgadvisor bench-cache -d $DATABASE_URL app.log --redis redis://cache:6379 --write-ratio 0.05\n\nWithout -d only the simulation runs (LRU, TinyLFU, S3-FIFO, Belady's optimum, unbounded).\nWith -d each strategy runs live, cache-aside: synthetic keys read rows of a scratch schema that\nis always dropped; a workload file's reads run its logged statements with their logged values in\nREAD ONLY transactions. Redis keys live under pgadvisor:bench:<pid>:<random>: and are removed\nafterwards with SCAN + UNLINK (never FLUSHDB). Ctrl-C stops, cleans up, prints the runs so far\nand exits with status 130."
    )]
    BenchCache(BenchCacheArgs),
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

/// How to read log files: the options every command that reads a workload
/// from files shares.
#[derive(Args, Debug, Clone)]
pub struct LogInputArgs {
    /// Input format of the log or SQL files; auto detects it from each
    /// input's content.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Auto)]
    pub log_format: LogFormatArg,

    /// The server's log_line_prefix (as in postgresql.conf), for stderr
    /// logs whose prefix is not one of the common ones.
    #[arg(long, value_name = "PREFIX")]
    pub log_line_prefix: Option<String>,
}

impl LogInputArgs {
    /// The ingest options for these flags, collecting as `collect` says.
    pub fn ingest_options(&self, collect: CollectOptions) -> IngestOptions {
        IngestOptions {
            format: self.log_format.forced(),
            log_line_prefix: self.log_line_prefix.clone(),
            collect,
        }
    }
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

    #[command(flatten)]
    pub log_input: LogInputArgs,

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MonitorFormat {
    /// A compact view, redrawn in place on a terminal.
    Table,
    /// One JSON object per sample and line, for other tools.
    Jsonl,
}

#[derive(Debug, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Time between samples (e.g. 500ms, 5s, 1m; at least 100ms).
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_monitor_interval)]
    pub interval: std::time::Duration,

    /// Stop after this many samples (default: until Ctrl-C).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = MonitorFormat::Table)]
    pub format: MonitorFormat,
}

/// A humantime duration of at least 100ms: shorter intervals measure
/// mostly the monitor's own queries.
fn parse_monitor_interval(text: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e}"))?;
    if d < std::time::Duration::from_millis(100) {
        return Err(format!("{text:?} is shorter than the minimum, 100ms"));
    }
    Ok(d)
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

    #[command(flatten)]
    pub log_input: LogInputArgs,

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

    #[command(flatten)]
    pub log_input: LogInputArgs,

    /// Only the database-wide health checks: no workload, no EXPLAIN.
    #[arg(long, conflicts_with_all = ["inputs", "from_pg_stat_statements", "no_health"])]
    pub health_only: bool,

    /// Skip the database-wide health checks.
    #[arg(long)]
    pub no_health: bool,

    /// The server's RAM (e.g. 64GB), for memory-settings advice. Read from
    /// this machine when the server is local.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub server_memory: Option<u64>,

    /// The server's storage, for planner I/O-cost advice (cannot be seen
    /// from SQL; unknown by default).
    #[arg(long, value_enum, value_name = "KIND")]
    pub storage: Option<crate::findings::health::Storage>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// The built-in workloads of bench-pool (pgbench's scripts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuiltinWorkload {
    /// One primary-key SELECT per transaction (pgbench -S).
    SelectOnly,
    /// pgbench's TPC-B-like transaction: three UPDATEs, a SELECT, an INSERT.
    ReadWrite,
}

/// `--sizes`: `auto` or an explicit list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolSizes {
    Auto,
    List(Vec<u32>),
}

#[derive(Debug, Args)]
pub struct BenchPoolArgs {
    /// Replay a workload instead: log files, .sql files, gzip of them, or -
    /// for stdin. Its fingerprints run with their logged parameter samples,
    /// picked in proportion to their calls.
    #[arg(value_name = "WORKLOAD FILE|-", conflicts_with_all = ["builtin", "script"])]
    pub workload: Vec<String>,

    /// Built-in workload on a scratch schema pgadvisor creates and drops
    /// (the default when neither --script nor a workload file is given).
    #[arg(long, value_enum, value_name = "NAME", conflicts_with = "script")]
    pub builtin: Option<BuiltinWorkload>,

    /// A pgbench-like script: SQL statements ending with ;, \set NAME EXPR
    /// (integers, + - * / %, random(lo, hi), abs, least, greatest) and
    /// \sleep; :NAME is sent as a bind parameter. :scale and :client_id are
    /// predefined.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// Size of the built-in workload's tables: 100,000 accounts per unit,
    /// as pgbench -i -s (also :scale in scripts).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub scale: u32,

    /// Pool sizes to measure: auto (1, 2, 4, 8, 16, 32, within the
    /// connection cap) or a list such as 1,2,4,8,16.
    #[arg(long, default_value = "auto", value_name = "auto|N,N,…", value_parser = parse_pool_sizes)]
    pub sizes: PoolSizes,

    /// Client tasks competing for the pool (default: 4 × the largest size).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub clients: Option<u32>,

    /// Measured time per pool size (e.g. 10s, 1m).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_step_duration)]
    pub duration: std::time::Duration,

    /// Load before the first measured step, at the largest size (0s skips it).
    #[arg(long, default_value = "3s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub warmup: std::time::Duration,

    /// Times each size is measured; all steps run in a shuffled order.
    #[arg(long, default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeats: u32,

    /// Open loop: start R requests per second (Poisson arrivals) whatever
    /// the pool does; latency counts from when each request was due.
    #[arg(long, value_name = "R", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Latency objective: recommend only sizes whose p99 is at most this
    /// (e.g. 20ms).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub slo_p99: Option<std::time::Duration>,

    /// Also run the writes of a script or workload file. They are
    /// COMMITTED: use a copy of the database.
    #[arg(long)]
    pub allow_writes: bool,

    /// Longest one statement may run; the pool wait gives up after the
    /// same time. Both count as timeouts.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_step_duration)]
    pub statement_timeout: std::time::Duration,

    /// The database server's cores, for the 2 × cores rule of thumb
    /// (this machine's when the server is local).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub server_cores: Option<u32>,

    /// Application instances that will share the database: the
    /// recommendation is also given per instance.
    #[arg(long, default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub instances: u32,

    /// Load threads (at most one per connection; default: one per
    /// connection below 4 connections per core, else one per core). Each
    /// runs its own runtime with its share of the pool's connections and of
    /// the clients, as pgbench -j; 1 gives one pool shared by all clients.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub client_threads: Option<u32>,

    /// Seed for the step order and the random values (default: random).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Write throughput and p99 against pool size, with the USL fit and
    /// the recommendation, as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,

    #[command(flatten)]
    pub log_input: LogInputArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// The L1 (moka) eviction policies of bench-cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum L1PolicyArg {
    /// Least recently used: comparable with the simulated LRU.
    Lru,
    /// moka's default: TinyLFU admission in front of LRU eviction.
    Tinylfu,
}

#[derive(Debug, Args)]
pub struct BenchCacheArgs {
    /// A workload whose reads (SELECT executions in logged order) are the
    /// key stream: log files, .sql files, gzip of them, or - for stdin.
    /// Live runs execute each key's logged statement with its logged
    /// parameter values.
    #[arg(value_name = "WORKLOAD FILE|-")]
    pub workload: Vec<String>,

    /// Key distribution: zipf:S (key popularity ∝ 1/rank^S), uniform, or
    /// trace (the workload files' own reads; the default with files).
    #[arg(long, value_name = "zipf:S|uniform|trace", value_parser = parse_cache_dist)]
    pub dist: Option<String>,

    /// Keys of a synthetic distribution (rows of the scratch table).
    #[arg(long, default_value_t = 10_000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub keys: u32,

    /// Length of a synthetic key stream (simulated accesses; live clients
    /// go round it).
    #[arg(long, default_value_t = 1_000_000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub accesses: u64,

    /// Seed of the synthetic stream and of the clients' write picks.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,

    /// Strategies to run live, in order: none, l1, l2, l1+l2 (default:
    /// none,l1, and l2,l1+l2 with --redis).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_strategy)]
    pub strategies: Vec<String>,

    /// Redis for the l2 strategies (redis://[user:password@]host:port/db).
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,

    /// L1 capacities (entries) to run live, e.g. 1000,10000 (default: the
    /// simulated LRU's knee). Also added to the simulated capacities.
    #[arg(long, value_name = "N[,N…]", value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub l1_capacity: Vec<u64>,

    /// L1 eviction policy (moka).
    #[arg(long, value_enum, default_value_t = L1PolicyArg::Lru)]
    pub l1_policy: L1PolicyArg,

    /// Time to live of cached entries, in L1 and in Redis.
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_ttl)]
    pub ttl: std::time::Duration,

    /// Load the N most frequent keys into the caches before each timed run.
    #[arg(long = "warm-up", default_value_t = 0, value_name = "TOP_N")]
    pub warm_up: usize,

    /// Share of requests that write (commit a new version of the key, then
    /// delete it from every cache tier), from 0 to 0.9.
    #[arg(long, default_value_t = 0.0, value_name = "R", value_parser = parse_write_ratio)]
    pub write_ratio: f64,

    /// Client tasks per live run, each with its own database session,
    /// following the key stream from its own offset.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub clients: u32,

    /// Measured time of each live run (e.g. 10s).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_step_duration)]
    pub duration: std::time::Duration,

    /// Longest one database statement may run.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_step_duration)]
    pub statement_timeout: std::time::Duration,

    /// Recommendation target: share of reads the caches answer.
    #[arg(long, default_value_t = 0.8, value_name = "RATIO", value_parser = parse_unit_ratio)]
    pub target_hit_ratio: f64,

    /// Recommendation limit: share of reads allowed to return a stale
    /// value.
    #[arg(long, default_value_t = 0.001, value_name = "RATIO", value_parser = parse_unit_ratio)]
    pub max_stale_reads: f64,

    /// Recommendation limit: p99 read latency (e.g. 2ms).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub target_p99: Option<std::time::Duration>,

    /// Write hit ratio against capacity, one line per policy and Belady's
    /// bound, as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,

    #[command(flatten)]
    pub log_input: LogInputArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `zipf:S`, `zipf`, `uniform` or `trace`.
fn parse_cache_dist(text: &str) -> Result<String, String> {
    crate::bench::cache::keys::Distribution::parse(text.trim(), 1)?;
    Ok(text.trim().to_string())
}

/// One of none, l1, l2, l1+l2.
fn parse_strategy(text: &str) -> Result<String, String> {
    let name = text.trim();
    if !["none", "l1", "l2", "l1+l2"].contains(&name) {
        return Err(format!(
            "{name:?} is not a strategy (use none, l1, l2 or l1+l2)"
        ));
    }
    Ok(name.to_string())
}

/// A ratio from 0 to 1.
fn parse_unit_ratio(text: &str) -> Result<f64, String> {
    let r: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a ratio (e.g. 0.8)"))?;
    if !(0.0..=1.0).contains(&r) {
        return Err(format!("{r} is outside 0 to 1"));
    }
    Ok(r)
}

/// A write ratio from 0 to 0.9: a run of nothing but writes measures no cache.
fn parse_write_ratio(text: &str) -> Result<f64, String> {
    let r = parse_unit_ratio(text)?;
    if r > 0.9 {
        return Err(format!("{r} is above 0.9"));
    }
    Ok(r)
}

/// A humantime duration from 1ms (moka and Redis expire by the ms) to 365
/// days (moka refuses more than 1,000 years).
fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e}"))?;
    if d < std::time::Duration::from_millis(1) || d > std::time::Duration::from_secs(365 * 86_400) {
        return Err(format!("{text:?} is outside 1ms to 365 days"));
    }
    Ok(d)
}

/// `auto` or a comma-separated list of sizes from 1 to 10,000.
pub fn parse_pool_sizes(text: &str) -> Result<PoolSizes, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("auto") {
        return Ok(PoolSizes::Auto);
    }
    let mut sizes = Vec::new();
    for part in t.split(',') {
        let n: u32 = part.trim().parse().map_err(|_| {
            format!("{part:?} is not a pool size (use auto or a list like 1,2,4,8)")
        })?;
        if !(1..=10_000).contains(&n) {
            return Err(format!("pool size {n} is out of range (1 to 10000)"));
        }
        if !sizes.contains(&n) {
            sizes.push(n);
        }
    }
    sizes.sort_unstable();
    Ok(PoolSizes::List(sizes))
}

/// A humantime duration from 100ms to 1h: every step must end by itself.
fn parse_step_duration(text: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e}"))?;
    if d < std::time::Duration::from_millis(100) || d > std::time::Duration::from_secs(3600) {
        return Err(format!("{text:?} is outside 100ms to 1h"));
    }
    Ok(d)
}

/// Requests per second, more than 0 and at most a million.
fn parse_rate(text: &str) -> Result<f64, String> {
    let r: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a rate (requests per second)"))?;
    if !(r > 0.0 && r <= 1e6) {
        return Err(format!("rate {r} is outside (0, 1000000]"));
    }
    Ok(r)
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
    fn pool_sizes() {
        use super::{PoolSizes, parse_pool_sizes};
        assert_eq!(parse_pool_sizes("auto"), Ok(PoolSizes::Auto));
        assert_eq!(
            parse_pool_sizes("8, 1,2,2"),
            Ok(PoolSizes::List(vec![1, 2, 8]))
        );
        assert!(parse_pool_sizes("0").is_err());
        assert!(parse_pool_sizes("1,x").is_err());
        assert!(parse_pool_sizes("").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("500MB"), Ok(500 << 20));
        assert_eq!(parse_size("1.5GB"), Ok(3 << 29));
        assert_eq!(parse_size("8192"), Ok(8192));
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("MB").is_err());
    }
}
