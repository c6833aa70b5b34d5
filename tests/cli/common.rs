//! Helpers shared by the integration tests.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

/// The repository's root.
pub const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Compares `actual` with the snapshot file `name` under tests/snapshots; `CIGUARD_BLESS=1`
/// rewrites it. Snapshots are reviewed like code: a change in what the rules find shows in diffs.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(REPO)
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("CIGUARD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("snapshot dir");
        std::fs::write(&path, actual).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs from the output: review it, then `CIGUARD_BLESS=1 cargo test --test cli {name}`\n{actual}",
        path.display()
    );
}

/// How long a test waits for output it expects before it fails (not a timing assertion: only
/// a guard against hanging forever).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The `ciguard` binary under test, with an environment that holds only `PATH`: a test sees
/// exactly the variables it sets, and the developer's own credentials stay out of it.
pub fn ciguard() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ciguard"));
    command.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
}

/// `ciguard run OPTIONS -- COMMAND...`.
pub fn ciguard_run(options: &[&str], command: &[&str]) -> Command {
    let mut ciguard = ciguard();
    ciguard.arg("run").args(options).arg("--").args(command);
    ciguard
}

/// `ciguard run -- sh -c SCRIPT`.
pub fn run_sh(script: &str) -> Command {
    ciguard_run(&[], &["sh", "-c", script])
}

/// `ciguard run -- python3 -c PROGRAM`.
pub fn run_python(program: &str) -> Command {
    ciguard_run(&[], &["python3", "-c", program])
}

/// Reads `stream` line by line on a thread, so a test can wait for a line with a time limit.
pub fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Waits for the line `wanted`, and returns the lines read until then. Panics when the stream
/// ends or [`PATIENCE`] runs out first.
pub fn wait_for_line(lines: &Receiver<String>, wanted: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(PATIENCE) {
            Ok(line) if line == wanted => return seen,
            Ok(line) => seen.push(line),
            Err(err) => panic!("no line {wanted:?} ({err}); lines seen: {seen:?}"),
        }
    }
}

/// A started process that is killed if the test ends (or fails) before it does.
#[derive(Debug)]
pub struct Started(pub Child);

impl Drop for Started {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Reads all of `pipe` on a thread (so two pipes of one child never block each other).
pub fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// What a [`read_all`] thread read.
pub fn join(handle: thread::JoinHandle<Vec<u8>>) -> Vec<u8> {
    handle.join().expect("the output reader thread")
}

/// Output bytes as text (lossy), for assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A finished command's status and both streams, for assertion messages.
pub fn show(out: &std::process::Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Standard base64, for the test's own data.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
