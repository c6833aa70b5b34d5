//! Starts the child and reads its fate: its own process group, signals forwarded to that group,
//! SIGKILL after a grace period, and the exit status as a shell reports it.

use std::convert::Infallible;
use std::ffi::OsString;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::prctl;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpid, getppid};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

/// Exit status when the command was not found, as shells report it.
pub const EXIT_NOT_FOUND: u8 = 127;
/// Exit status when the command exists but cannot be executed.
pub const EXIT_NOT_EXECUTABLE: u8 = 126;

/// The signal the child gets when ciguard dies first: SIGTERM lets Meltano remove the configs
/// with secrets it keeps on disk while it runs.
const PARENT_DEATH_SIGNAL: Signal = Signal::SIGTERM;

/// Starts `argv` with stdin inherited, stdout and stderr piped, in a new process group.
pub fn spawn(argv: &[OsString], env: &[(OsString, OsString)]) -> io::Result<Child> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no command given"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let parent = getpid();
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec. It makes two system calls
    // (prctl, getppid), both async-signal-safe, touches no lock and allocates nothing: the
    // errors are built from raw OS error numbers.
    unsafe {
        command.pre_exec(move || {
            prctl::set_pdeathsig(PARENT_DEATH_SIGNAL).map_err(io::Error::from)?;
            // ciguard may have died before the line above: then nobody would signal us.
            if getppid() != parent {
                return Err(io::Error::from(Errno::ESRCH));
            }
            Ok(())
        });
    }
    command.spawn()
}

/// The exit status of `ciguard run` for the child's: its code, or 128 + the signal that
/// killed it.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(u8::MAX),
        (None, Some(signal)) => u8::try_from(128 + (signal & 0x7f)).unwrap_or(u8::MAX),
        (None, None) => u8::MAX,
    }
}

/// The exit status for a failure to start the child: 127 not found, 126 not executable, else
/// `None` (ciguard's own failure).
pub fn spawn_failure_code(err: &io::Error) -> Option<u8> {
    match err.kind() {
        io::ErrorKind::NotFound => Some(EXIT_NOT_FOUND),
        io::ErrorKind::PermissionDenied => Some(EXIT_NOT_EXECUTABLE),
        _ if err.raw_os_error() == Some(Errno::ENOEXEC as i32) => Some(EXIT_NOT_EXECUTABLE),
        _ => None,
    }
}

/// The signals ciguard passes on to the child's process group.
#[derive(Debug)]
pub struct Forwarder {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
    group: Option<Pid>,
    kill_after: Duration,
    kill_at: Option<Instant>,
}

impl Forwarder {
    /// Catches SIGINT, SIGTERM and SIGHUP from now on. Call it before the child starts, so
    /// that no signal can kill ciguard and orphan the child. Needs a tokio runtime.
    pub fn install(kill_after: Duration) -> io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            group: None,
            kill_after,
            kill_at: None,
        })
    }

    /// Forwards to the process group led by `leader`.
    pub fn watch(&mut self, leader: u32) {
        self.group = i32::try_from(leader).ok().map(Pid::from_raw);
    }

    /// Waits for a signal and forwards it, or, once `kill_after` has passed since the first
    /// one, sends SIGKILL. Runs until cancelled.
    pub async fn forward(&mut self) -> Infallible {
        loop {
            let kill_at = self.kill_at;
            let kill = async move {
                match kill_at {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            let received = tokio::select! {
                _ = self.interrupt.recv() => Signal::SIGINT,
                _ = self.terminate.recv() => Signal::SIGTERM,
                _ = self.hangup.recv() => Signal::SIGHUP,
                () = kill => Signal::SIGKILL,
            };
            self.send(received);
            self.kill_at = match received {
                Signal::SIGKILL => None,
                _ => Some(
                    self.kill_at
                        .unwrap_or_else(|| Instant::now() + self.kill_after),
                ),
            };
        }
    }

    fn send(&self, signal: Signal) {
        if let Some(group) = self.group {
            // ESRCH: the group is gone already; nothing left to signal.
            let _ = killpg(group, signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 128 + 9);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 128 + 15);
    }

    #[test]
    fn spawn_failures_map_to_126_and_127() {
        let code = |errno: Errno| spawn_failure_code(&io::Error::from(errno));
        assert_eq!(code(Errno::ENOENT), Some(EXIT_NOT_FOUND));
        assert_eq!(code(Errno::EACCES), Some(EXIT_NOT_EXECUTABLE));
        assert_eq!(code(Errno::ENOEXEC), Some(EXIT_NOT_EXECUTABLE));
        assert_eq!(code(Errno::E2BIG), None);
    }
}
