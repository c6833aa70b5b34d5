//! Turns the command line and the environment into settings and runs the command asked for.
//! Only `main` and `app` choose exit statuses and what ciguard itself says on stderr.

mod audit;
mod fix;
mod init;
mod init_apply;
mod lint;
mod output;
mod pseudonymize;
mod selection;

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{Cli, Command, RunArgs};
use crate::env::{CHILD_COLUMNS, COLUMNS, MELTANO_PROJECT_ROOT};
use crate::meltano;
use crate::notice::note;
use crate::run::secrets::{self, Policy, Source};
use crate::run::{EXIT_CIGUARD_FAILED, Outcome, Plan};
use crate::scrub::{MatcherBuilder, Stats};

/// Exit status for bad usage of every command but `run` (which uses 125).
pub const EXIT_USAGE: u8 = 2;

/// Runs what the command line asks for.
pub fn main(cli: Cli) -> ExitCode {
    withhold_panic_messages();
    match cli.command {
        Command::Run(args) => ExitCode::from(run(args)),
        Command::Lint(args) => ExitCode::from(lint::lint(args)),
        Command::Audit(args) => ExitCode::from(audit::audit(args)),
        Command::Init(args) => ExitCode::from(init::init(args)),
        Command::Pseudonymize(args) => ExitCode::from(pseudonymize::pseudonymize(&args)),
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

/// `ciguard run`: the exit status it ends with.
fn run(args: RunArgs) -> u8 {
    let project_root =
        env::var_os(MELTANO_PROJECT_ROOT).map_or_else(|| PathBuf::from("."), PathBuf::from);
    let meltano_names = meltano::sensitive_env_names(&project_root);
    let policy = Policy {
        name_patterns: if args.no_default_patterns {
            args.secret_env.clone()
        } else {
            Policy::default_name_patterns()
                .into_iter()
                .chain(args.secret_env.iter().cloned())
                .collect()
        },
        required_names: args
            .secret_env
            .iter()
            .filter(|pattern| pattern.is_literal())
            .map(ToString::to_string)
            .collect(),
        meltano_names: meltano_names.as_ref().cloned().unwrap_or_default(),
        min_length: args.min_secret_length,
    };
    let collection = secrets::collect(env::vars_os(), &policy);
    let mut matcher = MatcherBuilder::new();
    if args.no_detectors {
        matcher.disable_all_detectors();
    }
    for &detector in &args.disable_detector {
        matcher.disable_detector(detector);
    }
    collection.register(&mut matcher);

    if let Err(err) = meltano_names {
        report(&matcher, err);
        return EXIT_CIGUARD_FAILED;
    }
    if !collection.too_short.is_empty() {
        note(format_args!(
            "not masking the values of {} (shorter than {} bytes; see --min-secret-length)",
            collection.too_short.join(", "),
            args.min_secret_length
        ));
    }
    for warning in &collection.warnings {
        note(warning);
    }
    let log_file = match args.log_file.as_deref().map(open_log_file).transpose() {
        Ok(file) => file,
        Err(err) => {
            report(&matcher, err);
            return EXIT_CIGUARD_FAILED;
        }
    };
    let is_meltano = is_meltano(&args.command);
    let plan = Plan {
        argv: args.command,
        child_env: child_env(),
        matcher: matcher.clone(),
        min_secret_length: args.min_secret_length,
        kill_after: args.kill_after,
        log_file,
    };
    let outcome = crate::run::supervise(plan);
    if is_meltano {
        clean_meltano_run_dir(&project_root);
    }
    match outcome {
        Ok(Outcome { exit_code, stats }) => {
            note(summary(&stats));
            exit_code
        }
        Err(err) => {
            let exit_code = err.exit_code();
            report(&matcher, err);
            exit_code
        }
    }
}

/// Prints `err` scrubbed: it may quote a command line or a file.
fn report(matcher: &MatcherBuilder, err: impl fmt::Display) {
    let message = format!("{err:#}");
    let scrubbed = matcher.build().scrub_all(message.as_bytes());
    note(String::from_utf8_lossy(&scrubbed));
}

#[derive(Debug, thiserror::Error)]
#[error("cannot open the log file {}: {source} (check that its directory exists and is writable)", path.display())]
struct LogFileError {
    path: PathBuf,
    source: std::io::Error,
}

fn open_log_file(path: &Path) -> Result<File, LogFileError> {
    File::create(path).map_err(|source| LogFileError {
        path: path.to_owned(),
        source,
    })
}

/// Variables set for the child: a wide `COLUMNS` unless the caller chose one.
fn child_env() -> Vec<(OsString, OsString)> {
    match env::var_os(COLUMNS) {
        Some(columns) if !columns.is_empty() => Vec::new(),
        _ => vec![(COLUMNS.into(), CHILD_COLUMNS.into())],
    }
}

/// Whether the command is Meltano itself (by the name of the program run).
fn is_meltano(argv: &[OsString]) -> bool {
    argv.first()
        .and_then(|program| Path::new(program).file_name())
        .is_some_and(|name| name == "meltano")
}

fn clean_meltano_run_dir(project_root: &Path) {
    let cleanup = meltano::remove_stale_run_configs(project_root);
    for path in &cleanup.removed {
        note(format_args!(
            "removed {}: a resolved Meltano config with secrets in clear",
            path.display()
        ));
    }
    for (path, err) in &cleanup.failed {
        note(format_args!(
            "cannot remove {} (a resolved Meltano config with secrets in clear): {err}; delete it",
            path.display()
        ));
    }
}

/// One line: how many spans were masked, by source and by detector.
fn summary(stats: &Stats) -> String {
    let by_source = Source::ALL
        .iter()
        .map(|source| {
            let count = stats.by_source.get(source.label()).copied().unwrap_or(0);
            format!("{} {count}", source.label())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let by_detector = stats
        .by_detector
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(detector, count)| format!("{} {count}", detector.id()))
        .collect::<Vec<_>>();
    let by_detector = if by_detector.is_empty() {
        "none".to_owned()
    } else {
        by_detector.join(", ")
    };
    format!(
        "masked {}: {by_source}; detectors: {by_detector}",
        stats.total()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meltano_is_known_by_its_program_name() {
        let argv = |program: &str| vec![OsString::from(program), OsString::from("run")];
        assert!(is_meltano(&argv("meltano")));
        assert!(is_meltano(&argv(".venv/bin/meltano")));
        assert!(!is_meltano(&argv("meltano-wrapper")));
        assert!(!is_meltano(&argv("python")));
    }

    #[test]
    fn the_summary_counts_by_source_and_detector() {
        let mut stats = Stats::default();
        stats.by_source.insert(Source::Variable.label(), 2);
        stats.by_source.insert(Source::AddMask.label(), 1);
        assert_eq!(
            summary(&stats),
            "masked 3: variables 2, files 0, meltano 0, add-mask 1; detectors: none"
        );
    }
}
