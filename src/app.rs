//! Turns the command line and the environment into settings and runs the command asked for.
//! Only `main` and `app` choose exit statuses and what ciguard itself says on stderr.

mod audit;
mod clock;
mod companions;
mod connection;
mod fix;
mod init;
mod init_apply;
mod lint;
mod output;
mod pseudonymize;
mod run;
mod scan;
mod secrets;
mod selection;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::notice::{self, note};
use crate::run::EXIT_CIGUARD_FAILED;

/// Exit status for bad usage of every command but `run` (which uses 125).
pub const EXIT_USAGE: u8 = 2;

/// Parses `args` (the program's name first) and runs what they ask for.
pub fn main_from(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => main(cli),
        Err(err) => usage_error(&err, &args[1.min(args.len())..]),
    }
}

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
        Command::Scan(args) => scan::scan(args),
        Command::Completions(args) => companions::completions(&args),
        Command::Man(args) => companions::man(&args),
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

/// Reports a command line clap rejected (or prints the help or version it asked for); `args` are
/// the words after the program's name.
fn usage_error(err: &clap::Error, args: &[OsString]) -> ExitCode {
    if !err.use_stderr() {
        // Help and version go to stdout; nothing sensible is left to do when it is gone.
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    // `run` must not answer with a status its command could have returned.
    let is_run = args.first().is_some_and(|arg| arg == "run");
    match withheld_refusal(err, is_run, args) {
        Some(message) => notice::error(message),
        None => {
            let rendered = err.render().to_string();
            note(rendered.trim_end());
        }
    }
    ExitCode::from(if is_run {
        EXIT_CIGUARD_FAILED
    } else {
        EXIT_USAGE
    })
}

/// What to say instead of clap's message when clap would repeat what was typed: a refused
/// value, or a word that is not an option, may be a secret typed where its name belongs
/// (`--variable NAME=value`, `ciguard run psql postgres://user:password@host`). Says which
/// option refused it, why and what it takes; for `run` without `--`, where the command goes.
fn withheld_refusal(err: &clap::Error, is_run: bool, args: &[OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let not_repeated = "(the value is not repeated: it may be a secret)";
    let no_separator = !args.iter().any(|arg| arg == "--");
    match err.kind() {
        ErrorKind::UnknownArgument | ErrorKind::MissingRequiredArgument
            if is_run && no_separator =>
        {
            Some(
                "the command to run goes after `--`: ciguard run [OPTIONS] -- COMMAND \
                 [ARGS...], e.g. `ciguard run -- meltano run tap-x target-y`"
                    .to_owned(),
            )
        }
        ErrorKind::InvalidSubcommand => {
            let suggestion = match err.get(ContextKind::SuggestedSubcommand) {
                Some(ContextValue::String(known)) => format!(" (did you mean '{known}'?)"),
                Some(ContextValue::Strings(known)) => {
                    format!(" (did you mean one of '{}'?)", known.join("', '"))
                }
                _ => String::new(),
            };
            Some(format!(
                "unrecognized command{suggestion} {not_repeated}; see --help"
            ))
        }
        ErrorKind::UnknownArgument => {
            let given = match err.get(ContextKind::InvalidArg) {
                Some(ContextValue::String(given)) => given.as_str(),
                _ => "",
            };
            // An option's name is safe to repeat; a value glued to it or a bare word may not be.
            let name = given.split('=').next().filter(|name| name.starts_with('-'));
            let suggestion = match err.get(ContextKind::SuggestedArg) {
                Some(ContextValue::String(suggested)) => format!(" (did you mean '{suggested}'?)"),
                _ => String::new(),
            };
            Some(match name {
                Some(name) => format!("unexpected argument '{name}'{suggestion}; see --help"),
                None => format!("unexpected argument {not_repeated}; see --help"),
            })
        }
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => {
            let option = err
                .get(ContextKind::InvalidArg)
                .map_or_else(|| "an option".to_owned(), |option| format!("'{option}'"));
            let why = std::error::Error::source(err)
                .map(|source| format!(": {source}"))
                .unwrap_or_default();
            let possible = match err.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(values)) => {
                    format!("; possible values: {}", values.join(", "))
                }
                _ => String::new(),
            };
            Some(format!(
                "invalid value for {option}{why}{possible} {not_repeated}"
            ))
        }
        _ => None,
    }
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
