//! The one error type for a file ciguard cannot use: `.ciguard.yml`, a pipeline, a Meltano
//! project file. It says which file, where in it (1-based line and column, when known) and what
//! is wrong and what to do, and never quotes the file's text (a value there may be a secret).
//! Imports nothing of the crate.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a file could not be used: exit status 2, shown as `path:line:col: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FileError {
    /// The file, as given or as found (by discovery or by following includes).
    pub path: PathBuf,
    /// 1-based line and column, when the parser knows them.
    pub position: Option<(u32, u32)>,
    /// What is wrong and what to do.
    pub reason: String,
}

impl FileError {
    /// An error about the whole of `path`.
    pub fn new(path: &Path, reason: impl Into<String>) -> Self {
        FileError {
            path: path.to_owned(),
            position: None,
            reason: reason.into(),
        }
    }

    /// The same error at a 1-based line and column (saturated to `u32`).
    #[must_use]
    pub fn at(mut self, line: impl TryInto<u32>, column: impl TryInto<u32>) -> Self {
        self.position = Some((
            line.try_into().unwrap_or(u32::MAX),
            column.try_into().unwrap_or(u32::MAX),
        ));
        self
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_path_position_and_reason() {
        let err = FileError::new(Path::new("ci/a.yml"), "a list was expected");
        assert_eq!(err.to_string(), "ci/a.yml: a list was expected");
        assert_eq!(
            err.at(3_u64, 7_usize).to_string(),
            "ci/a.yml:3:7: a list was expected"
        );
    }
}
