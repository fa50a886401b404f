//! `tariff eval` and `tariff test`: reading files and printing reports.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `tariff eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The rule file.
    pub rules: PathBuf,
    /// The trace (JSON Lines), or `-` for standard input.
    pub trace: String,
}

/// Runs `tariff eval`.
pub fn run(_args: EvalArgs) -> ExitCode {
    ExitCode::from(2)
}

/// Runs `tariff test`.
pub fn run_tests(_paths: &[PathBuf]) -> ExitCode {
    ExitCode::from(2)
}
