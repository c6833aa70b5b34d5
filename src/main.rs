//! The `ciguard` binary: parses the command line and hands it to [`ciguard::app`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match ciguard::cli::Cli::try_parse() {
        Ok(cli) => ciguard::app::main(cli),
        Err(err) => ciguard::app::usage_error(&err),
    }
}
