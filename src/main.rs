//! The `ciguard` binary: hands its command line to [`ciguard::app`].

use std::process::ExitCode;

fn main() -> ExitCode {
    ciguard::app::main_from(std::env::args_os())
}
