//! `ciguard run`: runs a command with its stdout and stderr scrubbed of secrets.
//!
//! [`secrets`] and [`crate::meltano`] find the values to mask before the child starts; [`supervise`]
//! gets a ready [`MatcherBuilder`] and never learns where they came from. It starts the child
//! ([`child`]) in its own process group, pumps each pipe through its own scrubber on its own
//! thread ([`mod@pump`]), takes `::add-mask::` lines out of the stream ([`addmask`]), forwards
//! SIGINT, SIGTERM and SIGHUP, and reports the child's exit status.

pub mod addmask;
pub mod child;
pub mod pump;
pub mod secrets;

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::run::child::Forwarder;
use crate::run::pump::{SharedMatcher, Sink, pump};
use crate::scrub::{Matcher, MatcherBuilder, Stats};

/// Exit status when ciguard itself fails before or while running the child.
pub const EXIT_CIGUARD_FAILED: u8 = 125;

/// Everything [`supervise`] needs.
#[derive(Debug)]
pub struct Plan {
    /// The command and its arguments.
    pub argv: Vec<OsString>,
    /// Variables set for the child on top of ciguard's environment.
    pub child_env: Vec<(OsString, OsString)>,
    /// Every secret and detector; `::add-mask::` values are added to it at run time.
    pub matcher: MatcherBuilder,
    /// `::add-mask::` values shorter than this are not masked.
    pub min_secret_length: usize,
    /// How long the child may take to exit after a forwarded signal before SIGKILL.
    pub kill_after: Duration,
    /// Also receives the scrubbed output of both streams.
    pub log_file: Option<File>,
}

/// How the child ended.
#[derive(Debug)]
pub struct Outcome {
    /// The child's exit code, or 128 + the signal that killed it.
    pub exit_code: u8,
    /// What was masked, over both streams.
    pub stats: Stats,
    /// The child's output stopped in the middle of a line (the job log merges both streams):
    /// what ciguard says next must start a line of its own.
    pub ended_mid_line: bool,
}

/// Why the child did not run to its end. Messages hold no secret: the command line in them has
/// been scrubbed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The child could not be started.
    #[error("cannot start `{command_line}`: {reason}")]
    Spawn {
        /// The command line, scrubbed.
        command_line: String,
        /// What went wrong and what to check.
        reason: String,
        /// 127 (not found), 126 (not executable) or 125.
        exit_code: u8,
    },
    /// ciguard could not set up or finish its own part.
    #[error("cannot supervise the child: {0}")]
    Supervise(#[source] io::Error),
}

impl Error {
    /// The exit status `ciguard run` ends with.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Spawn { exit_code, .. } => *exit_code,
            Self::Supervise(_) => EXIT_CIGUARD_FAILED,
        }
    }
}

/// Runs the child to its end with both output streams scrubbed.
pub fn supervise(plan: Plan) -> Result<Outcome, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Supervise)?;
    runtime.block_on(supervise_async(plan))
}

async fn supervise_async(plan: Plan) -> Result<Outcome, Error> {
    let matcher = Arc::new(plan.matcher.build());
    let mut forwarder = Forwarder::install(plan.kill_after).map_err(Error::Supervise)?;
    let mut child = child::spawn(&plan.argv, &plan.child_env)
        .map_err(|err| spawn_error(&plan.argv, &matcher, &err))?;
    forwarder.watch(child.id());

    let shared = Arc::new(SharedMatcher::new(
        plan.matcher,
        matcher,
        plan.min_secret_length,
    ));
    let log = plan.log_file.map(|file| Arc::new(Mutex::new(file)));
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Error::Supervise(io::Error::other(
            "the child's pipes are missing",
        )));
    };
    let stdout_pump = {
        let (shared, log) = (Arc::clone(&shared), log.clone());
        thread::spawn(move || {
            let sink = Sink {
                output: io::stdout(),
                log,
                name: "stdout",
                mid_line: false,
            };
            pump(stdout, sink, &shared)
        })
    };
    let stderr_pump = thread::spawn(move || {
        let sink = Sink {
            output: io::stderr(),
            log,
            name: "stderr",
            mid_line: false,
        };
        pump(stderr, sink, &shared)
    });

    let waiting = tokio::task::spawn_blocking(move || child.wait());
    let pumping = tokio::task::spawn_blocking(move || (stdout_pump.join(), stderr_pump.join()));
    let both = async { tokio::join!(waiting, pumping) };
    let (status, pumped) = tokio::select! {
        both = both => both,
        never = forwarder.forward() => match never {},
    };

    let status = status
        .map_err(|err| Error::Supervise(io::Error::other(err)))?
        .map_err(Error::Supervise)?;
    let (stdout, stderr) = match pumped {
        Ok((Ok(stdout), Ok(stderr))) => (stdout, stderr),
        _ => return Err(Error::Supervise(io::Error::other("an output pump failed"))),
    };
    Ok(Outcome {
        exit_code: child::exit_code(status),
        ended_mid_line: stdout.mid_line || stderr.mid_line,
        stats: merge(stdout.stats, &stderr.stats),
    })
}

fn spawn_error(argv: &[OsString], matcher: &Matcher, err: &io::Error) -> Error {
    let command_line = matcher.scrub_all(quote_command_line(argv).as_bytes());
    let exit_code = child::spawn_failure_code(err);
    let reason = match exit_code {
        Some(child::EXIT_NOT_FOUND) => "command not found (check its name and PATH)".to_owned(),
        Some(_) => format!("{err} (check that it is an executable file, and its #! line)"),
        None => err.to_string(),
    };
    Error::Spawn {
        command_line: String::from_utf8_lossy(&command_line).into_owned(),
        reason,
        exit_code: exit_code.unwrap_or(EXIT_CIGUARD_FAILED),
    }
}

/// The command line as a POSIX shell would take it back.
fn quote_command_line(argv: &[OsString]) -> String {
    let quote = |arg: &OsString| {
        let arg = arg.to_string_lossy();
        let plain = !arg.is_empty()
            && arg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-+=:,./@%".contains(&b));
        if plain {
            arg.into_owned()
        } else {
            format!("'{}'", arg.replace('\'', r"'\''"))
        }
    };
    argv.iter().map(quote).collect::<Vec<_>>().join(" ")
}

fn merge(mut total: Stats, more: &Stats) -> Stats {
    for (source, count) in &more.by_source {
        *total.by_source.entry(source).or_default() += count;
    }
    for (detector, count) in &more.by_detector {
        *total.by_detector.entry(*detector).or_default() += count;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let argv: Vec<OsString> = ["meltano", "run", "a b", "it's", "", "--x=y/z"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(
            quote_command_line(&argv),
            r"meltano run 'a b' 'it'\''s' '' --x=y/z"
        );
    }
}
