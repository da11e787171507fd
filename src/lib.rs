//! pgadvisor: a PostgreSQL performance advisor. The binary is a thin shell
//! over this library; see DESIGN in the repository docs for the layout.

pub mod advisor;
pub mod analysis;
pub mod bench;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod db;
pub mod findings;
pub mod monitor;
pub mod plan;
pub mod render;
pub mod shape;
pub mod workload;

use std::process::ExitCode;

/// Prints an error once, with its cause chain, and picks the exit code. A
/// closed stdout (`pgadvisor … | head`) is not an error.
pub fn report_error(error: &anyhow::Error) -> ExitCode {
    let broken_pipe = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    let mut message = format!("error: {error}");
    for cause in error.chain().skip(1) {
        message.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{message}");
    ExitCode::FAILURE
}
