//! Entry point: parse arguments, build the runtime, run, turn the outcome
//! into an exit code. Everything else lives in the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = pgadvisor::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(pgadvisor::commands::run(cli)) {
        Ok(code) => code,
        Err(e) => pgadvisor::report_error(&e),
    }
}
