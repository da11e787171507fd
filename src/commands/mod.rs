//! One module per subcommand: validate the arguments, gather input, call the
//! pure core, render. Nothing here formats output itself.

pub mod analyze;
pub mod apply;
pub mod bench_cache;
pub mod bench_pool;
pub mod check;
pub mod completions;
pub mod monitor;
pub mod recommend;
pub mod workload;

use crate::cli::{Cli, Command};
use anyhow::Result;
use std::process::ExitCode;

/// Exit code when a CI gate (`--fail-on…`) trips.
pub const EXIT_GATE: u8 = 3;

pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Workload(args) => workload::run(args).await,
        Command::RecommendIndexes(args) => recommend::run(args).await,
        Command::Apply(args) => apply::run(args).await,
        Command::Analyze(args) => analyze::run(args).await,
        Command::Monitor(args) => monitor::run(args).await,
        Command::BenchPool(args) => bench_pool::run(args).await,
        Command::BenchCache(args) => bench_cache::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}

/// Whether progress bars may be drawn: stderr is a terminal and the output
/// is not meant for a program.
pub fn progress_allowed(json: bool) -> bool {
    use std::io::IsTerminal;
    !json && std::io::stderr().is_terminal()
}
