//! Turns the command line and the environment into settings and runs the command asked for.
//! Only `main` and `app` choose exit statuses and what ciguard itself says on stderr.

mod audit;
mod connection;
mod fix;
mod init;
mod init_apply;
mod lint;
mod output;
mod pseudonymize;
mod run;
mod selection;

use std::env;
use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::notice::{self, note};
use crate::run::EXIT_CIGUARD_FAILED;

/// Exit status for bad usage of every command but `run` (which uses 125).
pub const EXIT_USAGE: u8 = 2;

/// Runs what the command line asks for.
pub fn main(cli: Cli) -> ExitCode {
    withhold_panic_messages();
    let finished = match cli.command {
        // `run` answers with its command's exit status, or 125 for its own failures.
        Command::Run(args) => return ExitCode::from(run::run(args)),
        Command::Lint(args) => lint::lint(args),
        Command::Audit(args) => audit::audit(args),
        Command::Init(args) => init::init(args),
        Command::Pseudonymize(args) => pseudonymize::pseudonymize(&args),
    };
    match finished {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            // `{:#}` shows the whole chain: what was being done, then why it failed.
            notice::error(format_args!("{err:#}"));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Reports a command line clap rejected (or prints the help or version it asked for).
pub fn usage_error(err: &clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ErrorKind};
    // A rejected value may be a secret typed where its name belongs (`--variable NAME=value`):
    // say which option refused it and why, never the value.
    let refused_option = (err.kind() == ErrorKind::ValueValidation)
        .then(|| err.get(ContextKind::InvalidArg))
        .flatten();
    if let Some(option) = refused_option {
        let why = std::error::Error::source(err)
            .map(|source| format!(": {source}"))
            .unwrap_or_default();
        note(format_args!(
            "invalid value for '{option}'{why} (the value is not repeated: it may be a secret)"
        ));
    } else {
        // Nothing sensible is left to do when the terminal is gone.
        let _ = err.print();
    }
    if !err.use_stderr() {
        return ExitCode::SUCCESS;
    }
    // `run` must not answer with a status its command could have returned.
    let is_run = env::args_os().nth(1).is_some_and(|arg| arg == "run");
    ExitCode::from(if is_run {
        EXIT_CIGUARD_FAILED
    } else {
        EXIT_USAGE
    })
}

/// A panic message may hold a value (a secret in a slice, say): print only where it happened.
fn withhold_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|at| format!(" at {}:{}", at.file(), at.line()))
            .unwrap_or_default();
        note(format_args!(
            "internal error{location} (its message is withheld: it may hold a secret); \
             please report it"
        ));
    }));
}
