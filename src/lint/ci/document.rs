//! YAML with source positions, on `serde-saphyr`: every key and scalar keeps its file, line and
//! column; anchors, aliases and `<<` merge keys are expanded by the parser, within budgets that
//! accept real anchor-heavy pipelines and reject alias bombs.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::Budget;
use serde_saphyr::options::AliasLimits;
use serde_saphyr::{DuplicateKeyPolicy, Options, Spanned, Tagged};

use crate::lint::LoadError;

/// Files larger than this are refused rather than parsed.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Stack of the parsing thread.
const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Where a node is: an index into the loaded files, and a 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Index of the file in the analysis' sources.
    pub file: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A YAML node with where it was defined (for an alias: where its anchor was).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The node's content.
    pub value: Value,
    /// Where it is defined.
    pub at: Pos,
    /// An explicit tag such as `!reference`.
    pub tag: Option<String>,
}

/// The content of a node. Scalars keep their text (booleans and numbers as YAML spelled them
/// once resolved: `true`, `1`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// Any scalar, as text.
    Scalar(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<Entry>),
}

/// One key of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as text.
    pub key: String,
    /// Where the key is.
    pub key_at: Pos,
    /// Its value.
    pub value: Node,
}

impl Node {
    /// A node of `value` at `at`, untagged.
    pub fn new(value: Value, at: Pos) -> Self {
        Node {
            value,
            at,
            tag: None,
        }
    }

    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(text) => Some(text),
            _ => None,
        }
    }

    /// The mapping's entries, if this is a mapping.
    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The sequence's items, if this is a sequence.
    pub fn items(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entry for `key`, if this is a mapping that has it (the last one wins).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().rev().find(|e| e.key == key)
    }

    /// The value of `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The scalar value of `key`.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    /// A scalar as a one-item list, a sequence's scalars, or nothing.
    pub fn scalars(&self) -> Vec<&Node> {
        match &self.value {
            Value::Scalar(_) => vec![self],
            Value::Seq(items) => items.iter().filter(|n| n.as_str().is_some()).collect(),
            _ => Vec::new(),
        }
    }

    fn set_file(&mut self, file: usize) {
        self.at.file = file;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.set_file(file)),
            Value::Map(entries) => entries.iter_mut().for_each(|e| {
                e.key_at.file = file;
                e.value.set_file(file);
            }),
            Value::Null | Value::Scalar(_) => {}
        }
    }
}

impl Pos {
    fn of(location: serde_saphyr::Location) -> Self {
        Pos {
            file: 0,
            line: u32::try_from(location.line()).unwrap_or(u32::MAX),
            column: u32::try_from(location.column()).unwrap_or(u32::MAX),
        }
    }
}

/// Parses every document of `text` (file number `file`, read from `path`).
pub fn parse(text: &str, path: &Path, file: usize) -> Result<Vec<Node>, LoadError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(LoadError {
            path: path.to_path_buf(),
            position: None,
            reason: format!(
                "file is larger than {} MiB; ciguard lint does not analyse files this large",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        });
    }
    let mut documents: Vec<Node> = parse_on_large_stack(text).map_err(|error| {
        let position = error
            .location()
            .filter(|l| l.line() > 0)
            .map(Pos::of)
            .map(|p| (p.line, p.column));
        LoadError {
            path: path.to_path_buf(),
            position,
            reason: format!("invalid YAML: {}", first_line(&error.to_string())),
        }
    })?;
    documents.iter_mut().for_each(|d| d.set_file(file));
    Ok(documents)
}

/// Deserialising a node recurses once per nesting level, several frames deep each; a thread
/// with a large stack keeps the nesting budget, not the stack, the limit.
fn parse_on_large_stack(text: &str) -> Result<Vec<Node>, serde_saphyr::Error> {
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("ciguard-yaml".to_owned())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, || {
                serde_saphyr::from_multiple_with_options(text, options())
            });
        match parser {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => serde_saphyr::from_multiple_with_options(text, options()),
        }
    })
}

/// Budgets sized for CI files: real pipelines use hundreds of aliases per anchor, so the
/// alias-to-anchor ratio check is off and the total replay is bounded instead.
fn options() -> Options {
    let mut budget = Budget::default();
    budget.enforce_alias_anchor_ratio = false;
    budget.max_aliases = 100_000;
    budget.max_events = 2_000_000;
    budget.max_nodes = 1_000_000;
    budget.max_depth = 100;
    let mut alias_limits = AliasLimits::default();
    alias_limits.max_total_replayed_events = 500_000;
    alias_limits.max_replay_stack_depth = 32;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits = alias_limits;
    options.duplicate_keys = DuplicateKeyPolicy::LastWins;
    // A snippet would copy the file's text, values included, into the message.
    options.with_snippet = false;
    options
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim()
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Tagged<Value>>::deserialize(deserializer)?;
        let Tagged(value, tag) = spanned.value;
        Ok(Node {
            value,
            at: Pos::of(spanned.defined),
            tag: tag.filter(|t| t.starts_with('!') && !t.starts_with("!!")),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// A key as text, whatever scalar type YAML gave it.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_any(ValueVisitor)? {
            Value::Scalar(text) => Ok(KeyText(text)),
            Value::Null => Ok(KeyText(String::new())),
            Value::Seq(_) | Value::Map(_) => Err(de::Error::custom(
                "a mapping key must be a scalar in a GitLab CI file",
            )),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Scalar(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Scalar(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
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
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Node>()?;
            entries.push(Entry {
                key: key.value.0,
                key_at: Pos::of(key.defined),
                value,
            });
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str) -> Node {
        let mut docs = parse(text, Path::new("t.yml"), 0).expect("parses");
        docs.remove(0)
    }

    #[test]
    fn keys_and_scalars_have_positions() {
        let doc = parse_one("job:\n  script:\n    - echo hi\n");
        let job = doc.entry("job").expect("job");
        assert_eq!((job.key_at.line, job.key_at.column), (1, 1));
        let script = job.value.get("script").expect("script");
        let line = &script.items().expect("seq")[0];
        assert_eq!(line.as_str(), Some("echo hi"));
        assert_eq!((line.at.line, line.at.column), (3, 7));
    }

    #[test]
    fn aliases_point_at_their_anchor_and_merge_keys_merge() {
        let doc = parse_one(
            ".base: &base\n  image: alpine\n  script: [a]\njob:\n  <<: *base\n  script: [b]\n",
        );
        let job = doc.get("job").expect("job");
        let image = job.get("image").expect("image merged");
        assert_eq!(image.as_str(), Some("alpine"));
        assert_eq!(image.at.line, 2);
        let script = job.get("script").expect("script");
        assert_eq!(script.items().expect("seq")[0].as_str(), Some("b"));
    }

    #[test]
    fn reference_tags_are_kept() {
        let doc = parse_one("job:\n  script: !reference [.setup, script]\n");
        let script = doc
            .get("job")
            .and_then(|j| j.get("script"))
            .expect("script");
        assert_eq!(script.tag.as_deref(), Some("!reference"));
        assert_eq!(script.items().map(<[Node]>::len), Some(2));
    }

    #[test]
    fn booleans_and_numbers_become_text() {
        let doc = parse_one("a: true\nb: 1\nc: \"false\"\n");
        assert_eq!(doc.get_str("a"), Some("true"));
        assert_eq!(doc.get_str("b"), Some("1"));
        assert_eq!(doc.get_str("c"), Some("false"));
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
        assert!(error.reason.starts_with("invalid YAML"), "{error}");
    }

    #[test]
    fn malformed_yaml_has_a_position() {
        let error = parse("a: [1, 2\nb: c\n", Path::new("bad.yml"), 0).expect_err("malformed");
        assert!(error.position.is_some(), "{error}");
    }
}
