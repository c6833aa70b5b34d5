//! The `meltano.yml` rules, one file each, listed once in the [`registry`] below, and what they
//! share: the context they read, how a
//! finding points at a node, and what counts as a reference or a placeholder rather than a value.

use std::path::Path;

use super::project::Project;
use super::tree::Node;
use crate::credentials::Knowledge;
use crate::findings::{FileLocation, Finding, Location, Rule, registry};

registry!(
    Context;
    literal_secret,
    uri_with_password,
    committed_hash_seed,
    tls_disabled,
);

/// What a rule reads.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    /// The file, as reported.
    pub(crate) path: &'a Path,
    /// Its text.
    pub(crate) text: &'a str,
    /// Its structure.
    pub(crate) project: &'a Project<'a>,
    /// Credential names and production environments.
    pub(crate) knowledge: &'a Knowledge,
}

impl Context<'_> {
    /// A finding of `rule` pointing at `node`'s text.
    pub(crate) fn finding(
        &self,
        rule: &'static Rule,
        node: &Node,
        logical: &str,
        message: String,
    ) -> Finding {
        let (end_line, end_column) = node.end(self.text);
        let location = Location::File(FileLocation {
            path: self.path.to_owned(),
            line: node.at.line,
            column: node.at.column,
            end_line,
            end_column,
            logical: logical.to_owned(),
        });
        Finding::new(rule, location, message)
    }
}

/// Whether `value` takes part of its text from a variable (`$NAME` or `${NAME}`), which Meltano
/// expands: then the secret, if any, is not in the file.
pub(crate) fn has_reference(value: &str) -> bool {
    value.match_indices('$').any(|(at, _)| {
        value[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| c == '{' || c == '_' || c.is_ascii_alphabetic())
    })
}

/// Whether `value` is an obvious stand-in rather than a real secret: empty, `changeme`,
/// `<password>`, `xxxx`, `your-token-here`, ...
pub(crate) fn is_placeholder(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "pass",
        "none",
        "null",
        "test",
        "dummy",
        "example",
        "redacted",
        "todo",
        "tbd",
        "fixme",
        "placeholder",
    ];
    const PARTS: &[&str] = &[
        "changeme",
        "change_me",
        "change-me",
        "replaceme",
        "replace_me",
        "replace-me",
        "your_",
        "your-",
        "yourpassword",
        "placeholder",
        "xxx",
        "***",
        "...",
    ];
    value.is_empty()
        || value.chars().all(|c| "x*.-_#?".contains(c))
        || (value.starts_with('<') && value.ends_with('>'))
        || WORDS.contains(&value.as_str())
        || PARTS.iter().any(|part| value.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_recognised() {
        for value in ["$PW", "${PW}", "pre${PW}post", "a:$_X"] {
            assert!(has_reference(value), "{value}");
        }
        for value in ["costs $5", "p@ss$", "plain"] {
            assert!(!has_reference(value), "{value}");
        }
    }

    #[test]
    fn placeholders_are_recognised() {
        for value in [
            "",
            "  ",
            "changeme",
            "<your password>",
            "XXXX",
            "****",
            "your-token-here",
            "password",
        ] {
            assert!(is_placeholder(value), "{value:?}");
        }
        for value in ["s3cr3t-Pa55", "hunter2", "9f8e7d6c5b4a", "a<b9!x"] {
            assert!(!is_placeholder(value), "{value:?}");
        }
    }
}
