//! The `tariff` command: parses the command line and hands over to [`tariff::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    tariff::cli::main()
}
