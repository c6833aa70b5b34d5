//! GitLab CI files as positioned YAML trees ([`crate::yaml`]): each node keeps its file,
//! line and column; anchors, aliases and `<<` merge keys are expanded by the parser, within
//! budgets that accept real anchor-heavy pipelines and reject alias bombs.

use std::path::Path;

use crate::diagnostic::FileError;
use crate::yaml::{self, KeyReading, Limits};
pub use crate::yaml::{Entry, Node, Pos, Value};

/// Files larger than this are refused rather than parsed.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

/// Parses every document of `text` (file number `file`, read from `path`).
pub fn parse(text: &str, path: &Path, file: usize) -> Result<Vec<Node>, FileError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(FileError {
            path: path.to_path_buf(),
            position: None,
            reason: format!(
                "file is larger than {} MiB; ciguard lint does not analyse files this large",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        });
    }
    let mut documents =
        yaml::parse_documents::<CiKeys>(text, &LIMITS).map_err(|error| FileError {
            path: path.to_path_buf(),
            position: error.at.filter(|(line, _)| *line > 0),
            reason: if error.limit {
                format!("{error}; simplify the file or split it with `include:`")
            } else {
                format!("invalid YAML: {error}")
            },
        })?;
    documents
        .iter_mut()
        .for_each(|d| d.set_file(yaml::to_u32(file)));
    Ok(documents)
}

/// Keys as GitLab reads them: a null key is empty, a sequence or mapping is refused.
struct CiKeys;

impl KeyReading for CiKeys {
    const NULL_KEY: &'static str = "";
    const COLLECTION_KEY: Result<&'static str, &'static str> =
        Err("a mapping key must be a scalar in a GitLab CI file");
}

/// Limits sized for CI files: real pipelines use hundreds of aliases per anchor, and a 10 MB
/// pipeline of small jobs holds about 750,000 nodes; the copies aliases make are bounded.
const LIMITS: Limits = Limits {
    max_depth: 100,
    max_nodes: 2_000_000,
    max_aliases: 100_000,
    max_anchors: 100_000,
    max_merge_keys: 10_000,
    max_copied_nodes: 500_000,
    max_documents: 1_024,
    refuse_duplicate_keys: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str) -> Node {
        let mut docs = parse(text, Path::new("t.yml"), 3).expect("parses");
        docs.remove(0)
    }

    #[test]
    fn keys_and_scalars_have_positions_in_their_file() {
        let doc = parse_one("job:\n  script:\n    - echo hi\n");
        let job = doc.entry("job").expect("job");
        let at = job.key_at;
        assert_eq!((at.file, at.line, at.column), (3, 1, 1));
        let script = job.value.get("script").expect("script");
        let line = &script.items().expect("seq")[0];
        assert_eq!(line.as_str(), Some("echo hi"));
        assert_eq!((line.at.file, line.at.line, line.at.column), (3, 3, 7));
    }

    #[test]
    fn reference_tags_are_kept() {
        let doc = parse_one("job:\n  script: !reference [.setup, script]\n");
        let script = doc
            .get("job")
            .and_then(|j| j.get("script"))
            .expect("script");
        assert_eq!(script.tag, yaml::Tag::Reference);
        assert_eq!(script.items().map(<[Node]>::len), Some(2));
    }

    #[test]
    fn booleans_and_numbers_read_as_text() {
        let doc = parse_one("a: true\nb: 1\nc: \"false\"\n");
        assert_eq!(doc.get_str("a"), Some("true"));
        assert_eq!(doc.get_str("b"), Some("1"));
        assert_eq!(doc.get_str("c"), Some("false"));
    }

    #[test]
    fn keys_must_be_scalars_and_null_keys_are_empty() {
        assert_eq!(parse_one("~: x\n").get_str(""), Some("x"));
        let error = parse("? [a]\n: b\n", Path::new("t.yml"), 0).expect_err("refused");
        assert!(error.reason.contains("must be a scalar"), "{error}");
    }

    /// Each limit in plain words with what to do, never the parser's internal names
    /// (`Depth { depth: 101 }`, `MergeKeys { merge_keys: 10001 }`).
    #[test]
    fn limits_are_named_in_plain_words() {
        let deep = format!("a: {}{}\n", "[".repeat(101), "]".repeat(101));
        let mut merges = String::from("base: &b {x: 1}\n");
        for key in 0..10_002 {
            merges.push_str(&format!("k{key}:\n  <<: *b\n"));
        }
        for (text, words) in [
            (deep, "nests 101 levels deep"),
            (merges, "more than 10000 merge keys"),
        ] {
            let error = parse(&text, Path::new("big.yml"), 0).expect_err("over a limit");
            assert!(error.reason.contains(words), "{error}");
            assert!(error.reason.contains("split it with `include:`"), "{error}");
            assert!(!error.reason.contains('{'), "{error}");
        }
    }

    #[test]
    fn alias_bombs_are_rejected() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let prev = level - 1;
            text.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let error = parse(&text, Path::new("bomb.yml"), 0).expect_err("a bomb is refused");
        assert!(error.reason.contains("alias bomb"), "{error}");
        assert!(error.reason.contains("analyse safely"), "{error}");
    }

    #[test]
    fn malformed_yaml_has_a_position() {
        let error = parse("a: [1, 2\nb: c\n", Path::new("bad.yml"), 0).expect_err("malformed");
        assert!(error.position.is_some(), "{error}");
    }
}
