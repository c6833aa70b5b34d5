//! Writes YAML for GitLab: block style, two-space indents, keys in the order given; a string is
//! written plain when YAML reads it back as the same string and double-quoted (JSON escapes,
//! which YAML shares) otherwise, so no value can change meaning or type on the way.

use std::fmt::Write as _;

use crate::yaml::{Entry, Node, Pos, Scalar, Value};

/// A top-level section of a generated file: comment lines, then one key and its value.
#[derive(Debug, Clone)]
pub struct Section {
    /// Lines written as `# ...` before the key.
    pub comment: Vec<String>,
    /// The top-level key.
    pub key: String,
    /// Its value.
    pub value: Node,
}

/// The file: its header comment, then each section, separated by blank lines.
pub fn document(header: &[String], sections: &[Section]) -> String {
    let mut out = String::new();
    for line in header {
        push_comment(&mut out, line, 0);
    }
    for section in sections {
        if !out.is_empty() {
            out.push('\n');
        }
        for line in &section.comment {
            push_comment(&mut out, line, 0);
        }
        entry(&mut out, &section.key, &section.value, 0);
    }
    out
}

/// A string node.
pub fn string(text: &str) -> Node {
    Node::new(Value::Scalar(Scalar::Str(text.into())), Pos::default())
}

/// A boolean node.
pub fn boolean(on: bool) -> Node {
    Node::new(Value::Scalar(Scalar::Bool(on)), Pos::default())
}

/// A sequence node.
pub fn seq(items: Vec<Node>) -> Node {
    Node::new(Value::Seq(items), Pos::default())
}

/// A mapping node, keys in the order given.
pub fn map(entries: Vec<(&str, Node)>) -> Node {
    let entries = entries
        .into_iter()
        .map(|(key, value)| Entry {
            key: key.into(),
            key_at: Pos::default(),
            value,
        })
        .collect();
    Node::new(Value::Map(entries), Pos::default())
}

fn push_comment(out: &mut String, line: &str, indent: usize) {
    indent_to(out, indent);
    if line.is_empty() {
        out.push_str("#\n");
    } else {
        let _ = writeln!(out, "# {line}");
    }
}

fn indent_to(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// `key: value` at `indent`, the value inline when it is a scalar or an empty collection.
fn entry(out: &mut String, key: &str, value: &Node, indent: usize) {
    indent_to(out, indent);
    out.push_str(&scalar_text(&Scalar::Str(key.into())));
    out.push(':');
    match inline(value) {
        Some(text) => {
            out.push(' ');
            out.push_str(&text);
            out.push('\n');
        }
        None => {
            out.push('\n');
            block(out, value, indent + 2);
        }
    }
}

/// A non-empty mapping or sequence, each line at `indent`.
fn block(out: &mut String, node: &Node, indent: usize) {
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                entry(out, &e.key, &e.value, indent);
            }
        }
        Value::Seq(items) => {
            for item in items {
                indent_to(out, indent);
                out.push('-');
                match inline(item) {
                    Some(text) => {
                        out.push(' ');
                        out.push_str(&text);
                        out.push('\n');
                    }
                    None => {
                        // The item's first line goes after the dash, the rest under it.
                        let mut nested = String::new();
                        block(&mut nested, item, indent + 2);
                        out.push(' ');
                        out.push_str(nested.trim_start_matches(' '));
                    }
                }
            }
        }
        Value::Null | Value::Scalar(_) => {}
    }
}

/// The one-line form of a scalar, null or empty collection; `None` for the rest.
fn inline(node: &Node) -> Option<String> {
    match &node.value {
        Value::Null => Some("null".to_owned()),
        Value::Scalar(scalar) => Some(scalar_text(scalar)),
        Value::Seq(items) if items.is_empty() => Some("[]".to_owned()),
        Value::Map(entries) if entries.is_empty() => Some("{}".to_owned()),
        Value::Seq(_) | Value::Map(_) => None,
    }
}

fn scalar_text(scalar: &Scalar) -> String {
    match scalar {
        Scalar::Bool(on) => on.to_string(),
        Scalar::Number(text) => text.to_string(),
        Scalar::Str(text) if is_plain_safe(text) => text.to_string(),
        Scalar::Str(text) => serde_json::Value::from(text.as_str()).to_string(),
    }
}

/// Whether YAML (1.1 or 1.2) reads `text`, written plain, back as this same string.
fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let special_start = "-?:,[]{}#&*!|>'\"%@` ".contains(first);
    let unsafe_inside = text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        || text.ends_with(' ')
        || text.chars().any(|c| c.is_control());
    !(special_start || unsafe_inside || reads_as_other_type(text))
}

fn reads_as_other_type(text: &str) -> bool {
    const WORDS: [&str; 14] = [
        "true", "false", "yes", "no", "y", "n", "on", "off", "null", "~", ".inf", "-.inf", ".nan",
        "<<",
    ];
    let lower = text.to_ascii_lowercase();
    let mut chars = text.chars();
    let first = chars.next();
    let second = chars.next();
    // Numbers in any base, times (`10:30`) and dates (`2026-11-23`) start so.
    let number_like = first.is_some_and(|c| c.is_ascii_digit())
        || (first.is_some_and(|c| "+-.".contains(c)) && second.is_some_and(|c| c.is_ascii_digit()));
    WORDS.contains(&lower.as_str())
        || text.parse::<f64>().is_ok()
        || (number_like
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-._: ".contains(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_that_would_change_meaning_are_quoted() {
        for text in [
            "",
            "true",
            "no",
            "On",
            "null",
            "~",
            "1",
            "0x1F",
            "1.5",
            "1e3",
            "10:30",
            "- x",
            "2026-11-23",
            "2026-11-23 10:00:00",
            ".5",
            "+1",
            "a: b",
            "a #b",
            "*alias",
            "&anchor",
            "!tag",
            "'q'",
            "\"q\"",
            "{x}",
            "[x]",
            "x ",
            " x",
            "line\nbreak",
            "%x",
            "@x",
            "`x`",
            "|",
            ">",
        ] {
            let written = scalar_text(&Scalar::Str(text.into()));
            assert!(
                written.starts_with('"'),
                "{text:?} written plain as {written}"
            );
            let read: String = serde_saphyr::from_str(&written).expect("reads back");
            assert_eq!(read, text);
        }
    }

    #[test]
    fn ordinary_strings_stay_plain() {
        for text in [
            "meltano run tap-x target-y",
            "$CI_COMMIT_REF_PROTECTED == \"true\" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
            "production",
            "ciguard/ciguard:0.1.0",
            ".ciguard-elt-production-true",
        ] {
            assert_eq!(scalar_text(&Scalar::Str(text.into())), text);
        }
    }

    #[test]
    fn nested_collections_are_written_in_block_style() {
        let rules = seq(vec![
            map(vec![
                ("if", string("$A == \"1\"")),
                ("when", string("never")),
            ]),
            map(vec![("when", string("on_success"))]),
        ]);
        let job = map(vec![
            ("rules", rules),
            ("script", seq(vec![string("echo: hi")])),
            ("needs", seq(Vec::new())),
        ]);
        let text = document(
            &["generated".to_owned()],
            &[Section {
                comment: vec!["the job".to_owned()],
                key: "job".to_owned(),
                value: job,
            }],
        );
        assert_eq!(
            text,
            "# generated\n\n# the job\njob:\n  rules:\n    - if: $A == \"1\"\n      when: never\n    - when: on_success\n  script:\n    - \"echo: hi\"\n  needs: []\n"
        );
    }
}
