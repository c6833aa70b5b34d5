//! `ciguard run`: collects the secrets (variables by name, Meltano's sensitive settings), builds
//! the matcher, supervises the command through it, and reports how much it masked. Its exit
//! status is the command's, or 125 when ciguard itself failed.

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::secrets;
use crate::cli::RunArgs;
use crate::env::{CHILD_COLUMNS, COLUMNS, MELTANO_PROJECT_ROOT};
use crate::meltano;
use crate::notice::{self, note};
use crate::run::secrets::{self as run_secrets, Source};
use crate::run::{EXIT_CIGUARD_FAILED, Outcome, Plan};
use crate::scrub::{MatcherBuilder, Stats};

/// `ciguard run`: the exit status it ends with.
pub fn run(args: RunArgs) -> u8 {
    let project_root =
        env::var_os(MELTANO_PROJECT_ROOT).map_or_else(|| PathBuf::from("."), PathBuf::from);
    let meltano_names = meltano::sensitive_env_names(&project_root);
    let config = match crate::config::discover(Path::new(".")) {
        Ok(found) => found.map(|(_, config)| config).unwrap_or_default(),
        Err(err) => {
            report(&MatcherBuilder::new(), err);
            return EXIT_CIGUARD_FAILED;
        }
    };
    let policy = secrets::policy(
        &args.secrets,
        &config,
        meltano_names.as_ref().cloned().unwrap_or_default(),
    );
    let collection = run_secrets::collect(env::vars_os(), &policy);
    let matcher = secrets::matcher(&args.secrets, &config, &collection);
    if let Err(err) = meltano_names {
        report(&matcher, err);
        return EXIT_CIGUARD_FAILED;
    }
    secrets::tell(&collection, args.secrets.min_secret_length);
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
        min_secret_length: args.secrets.min_secret_length,
        kill_after: args.kill_after,
        log_file,
    };
    let outcome = crate::run::supervise(plan);
    if is_meltano {
        clean_meltano_run_dir(&project_root);
    }
    match outcome {
        Ok(Outcome {
            exit_code,
            stats,
            ended_mid_line,
        }) => {
            if ended_mid_line {
                notice::end_open_line();
            }
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
    notice::error(String::from_utf8_lossy(&scrubbed));
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
