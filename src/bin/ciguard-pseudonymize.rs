//! `ciguard-pseudonymize [--config FILE]`: `ciguard pseudonymize` as an executable of its own, so
//! that a Meltano mapper installed with `pip_url` declares `executable: ciguard-pseudonymize` and
//! needs no wrapper script.

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let words = [OsString::from("ciguard"), OsString::from("pseudonymize")];
    ciguard::app::main_from(words.into_iter().chain(std::env::args_os().skip(1)))
}
