//! What ciguard says about itself on standard error, the same way for every command: each line
//! starts with `ciguard: `, and an error with `ciguard: error: `, so a reader (or a log search)
//! tells ciguard's own lines from those of the command it runs. Imports nothing of the crate.
//!
//! Never give these a value from a variable, a token or an option value that was refused: the
//! message is printed as it is.

use std::fmt;
use std::io::{self, Write};

/// The start of every line ciguard writes about itself.
pub const PREFIX: &str = "ciguard: ";

/// Writes `ciguard: MESSAGE` on stderr: progress, a summary, a warning.
pub fn note(message: impl fmt::Display) {
    // Nothing sensible is left to do when stderr itself is gone.
    let _ = writeln!(io::stderr().lock(), "{PREFIX}{message}");
}

/// Writes `ciguard: error: MESSAGE` on stderr, for what stops a command (exit status 2, or 125
/// for `run`).
pub fn error(message: impl fmt::Display) {
    note(format_args!("error: {message}"));
}

/// Ends a line that another program left open (its output stopped without a newline), so that
/// the next `ciguard: ` line starts a line of its own in a log that merges stdout and stderr.
pub fn end_open_line() {
    let _ = writeln!(io::stderr().lock());
}
