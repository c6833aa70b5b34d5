//! A `meltano.yml` as a positioned YAML tree ([`crate::yaml`]); anchors, aliases and `<<`
//! merge keys resolved, alias bombs refused by the default limits, duplicate keys
//! refused as Meltano refuses them.

use std::path::Path;

use crate::diagnostic::FileError;
use crate::yaml::{self, KeyReading, Limits, ParseError, Pos, to_u32};
pub(crate) use crate::yaml::{Node, Scalar, Value};

/// Parses `bytes`, the text of `path`: the file as a string and its root node (null when empty).
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<(String, Node), FileError> {
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let valid = &bytes[..err.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        FileError {
            path: path.to_owned(),
            position: Some((to_u32(line), to_u32(column))),
            reason: "not valid UTF-8; save the file as UTF-8".into(),
        }
    })?;
    let root =
        yaml::parse_document::<MeltanoKeys>(text, &Limits::DEFAULT).map_err(|err| FileError {
            path: path.to_owned(),
            position: err.at,
            reason: explain(&err),
        })?;
    let start = Pos {
        line: 1,
        column: 1,
        ..Pos::default()
    };
    let root = root.unwrap_or(Node::new(Value::Null, start));
    Ok((text.to_owned(), root))
}

/// Keys as the rules name them: a null key reads `null`, a sequence or mapping `?`.
struct MeltanoKeys;

impl KeyReading for MeltanoKeys {
    const NULL_KEY: &'static str = "null";
    const COLLECTION_KEY: Result<&'static str, &'static str> = Ok("?");
}

/// The parser's message with what to do.
fn explain(err: &ParseError) -> String {
    if err.limit {
        return format!("{err}; split it into smaller files with `include_paths`");
    }
    format!("invalid Meltano project file: {err}; fix it (Meltano cannot load it either)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(yaml: &str) -> (String, Node) {
        parse(Path::new("meltano.yml"), yaml.as_bytes()).expect("valid YAML")
    }

    #[test]
    fn nodes_know_where_their_text_and_type_are() {
        let (text, root) = tree("a:\n  b: 'hello'\n  c: [1, x]\n");
        let b = root.get("a").and_then(|a| a.get("b")).expect("a.b");
        assert_eq!(b.as_string_scalar(), Some("hello"));
        assert_eq!((b.at.line, b.at.column, b.end(&text)), (2, 6, (2, 13)));
        let c = root.get("a").and_then(|a| a.get("c")).and_then(Node::items);
        let c = c.expect("a.c");
        assert_eq!(c[0].value, Value::Scalar(Scalar::Number("1".into())));
        assert_eq!(c[0].as_string_scalar(), None);
        assert_eq!((c[1].at.line, c[1].at.column), (3, 10));
    }

    #[test]
    fn aliases_point_at_the_anchor() {
        let (_, root) = tree("one: &s secret-text\ntwo: *s\nbase: &b {k: v}\nm:\n  <<: *b\n");
        let y = root.get("two").expect("two");
        assert_eq!((y.at.line, y.as_string_scalar()), (1, Some("secret-text")));
        let k = root.get("m").and_then(|m| m.get("k")).expect("merged m.k");
        assert_eq!((k.at.line, k.as_string_scalar()), (3, Some("v")));
    }

    #[test]
    fn duplicate_keys_are_errors_without_programmer_advice() {
        let err = parse(Path::new("meltano.yml"), b"a: 1\na: 2\n").expect_err("duplicate");
        assert_eq!(err.position, Some((2, 1)));
        assert!(err.reason.contains("duplicate mapping key"), "{err}");
        assert!(!err.reason.contains("Options"), "{err}");
    }

    #[test]
    fn empty_files_are_null() {
        assert_eq!(tree("").1.value, Value::Null);
        assert_eq!(tree("# only a comment\n").1.value, Value::Null);
    }
}
