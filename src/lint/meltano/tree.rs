//! A `meltano.yml` as a tree of nodes that know where their text is, parsed with serde-saphyr
//! (anchors, aliases and `<<` merge keys resolved; alias bombs refused by its budgets).

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::lint::LoadError;

/// One YAML node and the place of its text (for an alias, the anchored definition).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// What the node holds.
    pub(crate) value: Value,
    /// 1-based line of its first character.
    pub(crate) line: u32,
    /// 1-based column of its first character.
    pub(crate) column: u32,
    /// Byte offset and length of its text, when the parser knows them.
    bytes: Option<(u64, u64)>,
}

/// A node's content. Scalars other than strings keep their text: rules only look at it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer or a float, as text.
    Number(String),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping in file order; keys that are not scalars read as `?`.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value of `key` when this node is a mapping that has it.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The entries of a mapping (none for anything else).
    pub(crate) fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The items of a sequence (none for anything else).
    pub(crate) fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The string this node holds, if it is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// 1-based line and column just past the node's text, within `text` (the whole file).
    pub(crate) fn end(&self, text: &str) -> (u32, u32) {
        let Some((offset, len)) = self.bytes else {
            return (self.line, self.column.saturating_add(1));
        };
        let end = usize::try_from(offset.saturating_add(len))
            .unwrap_or(usize::MAX)
            .min(text.len());
        let Some(before) = text.get(..end) else {
            return (self.line, self.column.saturating_add(1));
        };
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        let column = before[line_start..].chars().count() + 1;
        (to_u32(line), to_u32(column))
    }
}

/// Parses `bytes`, the text of `path`: the file as a string and its root node (null when empty).
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<(String, Node), LoadError> {
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
        LoadError {
            path: path.to_owned(),
            position: Some((to_u32(line), to_u32(column))),
            reason: "not valid UTF-8; save the file as UTF-8".into(),
        }
    })?;
    let mut options = serde_saphyr::Options::default();
    // A snippet would quote lines of the file, which may hold a value in clear.
    options.with_snippet = false;
    let root: Option<Node> =
        serde_saphyr::from_str_with_options(text, options).map_err(|err| LoadError {
            path: path.to_owned(),
            position: err
                .location()
                .map(|at| (to_u32_wide(at.line()), to_u32_wide(at.column()))),
            reason: explain(&crate::run::meltano::describe_yaml_error(&err)),
        })?;
    let root = root.unwrap_or(Node {
        value: Value::Null,
        line: 1,
        column: 1,
        bytes: None,
    });
    Ok((text.to_owned(), root))
}

/// The parser's message with what to do, without advice meant for programmers (", set
/// DuplicateKeyPolicy in Options if acceptable").
fn explain(message: &str) -> String {
    let message = message
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(message);
    if message.contains("budget breached") {
        format!(
            "{message}: too large, too deeply nested or too many aliases to analyse safely; \
             split it into smaller files with `include_paths`"
        )
    } else {
        format!("{message}; fix it (Meltano cannot load it either)")
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn to_u32_wide(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let at = spanned.defined;
        let span = at.span();
        Ok(Node {
            value: spanned.value,
            line: to_u32_wide(at.line()),
            column: to_u32_wide(at.column()),
            bytes: span.byte_offset().zip(span.byte_len()),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Value>()? {
            let key = match key {
                Value::Str(text) | Value::Number(text) => text,
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_owned(),
                Value::Seq(_) | Value::Map(_) => "?".to_owned(),
            };
            entries.push((key, map.next_value::<Node>()?));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(yaml: &str) -> (String, Node) {
        parse(Path::new("meltano.yml"), yaml.as_bytes()).expect("valid YAML")
    }

    #[test]
    fn nodes_know_where_their_text_is() {
        let (text, root) = tree("a:\n  b: 'hello'\n  c: [1, x]\n  d: |\n    two\n    lines\n");
        let b = root.get("a").and_then(|a| a.get("b")).expect("a.b");
        assert_eq!(b.as_str(), Some("hello"));
        assert_eq!((b.line, b.column), (2, 6));
        assert_eq!(b.end(&text), (2, 13));
        let c = root.get("a").and_then(|a| a.get("c")).expect("a.c");
        assert_eq!(c.items()[1].as_str(), Some("x"));
        assert_eq!((c.items()[1].line, c.items()[1].column), (3, 10));
        assert_eq!(c.items()[0].value, Value::Number("1".into()));
        let d = root.get("a").and_then(|a| a.get("d")).expect("a.d");
        // A block scalar starts where its content does.
        assert_eq!((d.line, d.as_str()), (5, Some("two\nlines\n")));
    }

    #[test]
    fn aliases_point_at_the_anchor() {
        let (_, root) = tree("one: &s secret-text\ntwo: *s\nbase: &b {k: v}\nm:\n  <<: *b\n");
        let y = root.get("two").expect("two");
        assert_eq!(y.as_str(), Some("secret-text"));
        assert_eq!(y.line, 1);
        let k = root.get("m").and_then(|m| m.get("k")).expect("merged m.k");
        assert_eq!((k.line, k.as_str()), (3, Some("v")));
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
