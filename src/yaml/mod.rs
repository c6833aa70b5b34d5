//! YAML as a tree of nodes that know where their text is, shared by the CI and Meltano sides:
//! every key and node keeps its line and column (and byte span), explicit local tags such as
//! `!reference` are kept, and anchors, aliases and `<<` merge keys are resolved to where they
//! are defined, within the [`Limits`] each side passes ([`tree`] builds it from the parser's
//! events). Typed configuration files are read with serde-saphyr ([`deserialize`]).

use serde::de;
use serde_saphyr::Options;

pub mod ci;
mod tree;

pub use tree::{Limits, ParseError, parse_document, parse_documents};

/// Deserialises `text` as `T` with serde-saphyr's default budgets, without a source snippet in
/// the error: a snippet would quote the file, and a line of it may hold a value in clear.
pub fn deserialize<T: de::DeserializeOwned>(text: &str) -> Result<T, serde_saphyr::Error> {
    let mut options = Options::default();
    options.with_snippet = false;
    serde_saphyr::from_str_with_options(text, options)
}

/// What a parser error says, in a line for people, without the position it repeats (callers
/// report the position apart, from [`serde_saphyr::Error::location`]). A limit the parser hit
/// says which, in plain words (see [`limit_hit`]).
pub fn describe_error(err: &serde_saphyr::Error) -> String {
    if let Some(limit) = limit_hit(err) {
        return limit;
    }
    let message = err.to_string();
    let first_line = message.lines().next().unwrap_or_default();
    first_line
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Which of the parser's limits `err` hit, in plain words, when it is one: the limits stop
/// alias bombs and files that would use up memory or time, and a file that hits one was not
/// analysed.
pub fn limit_hit(err: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    // The error an alias or a snippet wraps is the one that says what happened.
    let mut err = err;
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = err {
        err = error;
    }
    let what = match err {
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { depth } => format!("the file nests {depth} levels deep"),
            BudgetBreach::MergeKeys { merge_keys } => format!(
                "the file has more than {} merge keys (`<<`)",
                merge_keys.saturating_sub(1)
            ),
            BudgetBreach::Aliases { aliases } => format!(
                "the file has more than {} aliases (`*name`)",
                aliases.saturating_sub(1)
            ),
            BudgetBreach::Anchors { anchors } => format!(
                "the file has more than {} anchors (`&name`)",
                anchors.saturating_sub(1)
            ),
            BudgetBreach::AliasAnchorRatio { aliases, anchors } => {
                format!("the file has {aliases} aliases for {anchors} anchors")
            }
            BudgetBreach::Documents { documents } => format!(
                "the file has more than {} YAML documents",
                documents.saturating_sub(1)
            ),
            _ => "the file has more YAML nodes or text than ciguard parses in one file".to_owned(),
        },
        Error::AliasReplayLimitExceeded {
            max_total_replayed_events,
            ..
        } => format!(
            "the file's aliases expand to more than {max_total_replayed_events} YAML nodes (an \
             alias bomb?)"
        ),
        Error::AliasExpansionLimitExceeded {
            max_expansions_per_anchor,
            ..
        } => format!("the file uses one anchor more than {max_expansions_per_anchor} times"),
        Error::AliasReplayStackDepthExceeded { max_depth, .. } => {
            format!("the file's aliases nest more than {max_depth} levels deep")
        }
        _ => return None,
    };
    Some(format!(
        "{what}: more than ciguard can analyse safely (it stops there so that no file can \
         exhaust its memory or time)"
    ))
}

/// Where a node is: an index into the loaded files, and a 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Index of the file in the analysis' sources (0 when only one file is parsed).
    pub file: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Pos {
    /// [`Pos::file`] as an index into the analysis' sources.
    pub fn file_index(&self) -> usize {
        usize::try_from(self.file).unwrap_or(usize::MAX)
    }
}

/// A YAML node with where it was defined (for an alias: where its anchor was).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The node's content.
    pub value: Value,
    /// Where it is defined.
    pub at: Pos,
    /// An explicit local tag such as `!reference` (not `!!str` and the like).
    pub tag: Tag,
    /// Byte offset and length of its text; [`NO_SPAN`] when the parser does not know them.
    span: (u32, u32),
}

/// The span of a node whose text the parser did not place.
const NO_SPAN: (u32, u32) = (u32::MAX, u32::MAX);

/// A node's explicit local tag: the one GitLab gives a meaning to, or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tag {
    /// No local tag (YAML's own, `!!str` and the like, are not kept).
    #[default]
    None,
    /// `!reference`.
    Reference,
    /// Another local tag (`!custom`).
    Other,
}

/// The content of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// A boolean, number or string.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<Entry>),
}

/// A scalar, typed as YAML resolved it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `true` or `false`.
    Bool(bool),
    /// An integer or a float, as text.
    Number(Text),
    /// A string.
    Str(Text),
}

/// The text of a key or scalar: short ones (most of a pipeline's) are held inline, without an
/// allocation each.
pub type Text = smol_str::SmolStr;

/// One key of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as text.
    pub key: Text,
    /// Where the key is.
    pub key_at: Pos,
    /// Its value.
    pub value: Node,
}

/// How a side reads mapping keys that are not scalars' text.
pub trait KeyReading {
    /// The text of a `~` or `null` key.
    const NULL_KEY: &'static str;
    /// A sequence or mapping used as a key: the text it reads as, or why it is refused.
    const COLLECTION_KEY: Result<&'static str, &'static str>;
}

impl Scalar {
    /// The scalar as text (booleans as `true`/`false`, numbers as resolved: `1`, `0.5`).
    pub fn text(&self) -> &str {
        match self {
            Scalar::Bool(true) => "true",
            Scalar::Bool(false) => "false",
            Scalar::Number(text) | Scalar::Str(text) => text,
        }
    }
}

impl Value {
    /// A scalar's text, whatever its type; `None` for null, sequences and mappings.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Scalar(scalar) => Some(scalar.text()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }
}

impl Node {
    /// A node of `value` at `at`, untagged.
    pub fn new(value: Value, at: Pos) -> Self {
        Node {
            value,
            at,
            tag: Tag::None,
            span: NO_SPAN,
        }
    }

    /// This node's position, tag and span, holding `value` instead.
    pub fn with_value(&self, value: Value) -> Self {
        Node {
            value,
            at: self.at,
            tag: self.tag,
            span: self.span,
        }
    }

    /// The scalar's text, if this is a scalar (of any type).
    pub fn as_str(&self) -> Option<&str> {
        self.value.text()
    }

    /// The text of a string scalar; `None` for booleans, numbers and everything else.
    pub fn as_string_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(Scalar::Str(text)) => Some(text),
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

    /// The scalar text of `key`.
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

    /// 1-based line and column just past the node's text, within `text` (the whole file).
    pub fn end(&self, text: &str) -> (u32, u32) {
        let just_after_start = (self.at.line, self.at.column.saturating_add(1));
        if self.span == NO_SPAN {
            return just_after_start;
        }
        let (offset, len) = self.span;
        let end = usize::try_from(offset.saturating_add(len))
            .unwrap_or(usize::MAX)
            .min(text.len());
        let Some(before) = text.get(..end) else {
            return just_after_start;
        };
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        let column = before[line_start..].chars().count() + 1;
        (to_u32(line), to_u32(column))
    }

    /// Sets the file index of this node, its keys and its descendants.
    pub fn set_file(&mut self, file: u32) {
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

/// A count as `u32`, saturating.
pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys the Meltano way: null as `null`, collections as `?`.
    pub(super) struct Lenient;

    impl KeyReading for Lenient {
        const NULL_KEY: &'static str = "null";
        const COLLECTION_KEY: Result<&'static str, &'static str> = Ok("?");
    }

    /// Keys the CI way: null as empty, collections refused.
    pub(super) struct Strict;

    impl KeyReading for Strict {
        const NULL_KEY: &'static str = "";
        const COLLECTION_KEY: Result<&'static str, &'static str> = Err("keys must be scalars");
    }

    fn parse_one(text: &str) -> Node {
        parse_document::<Lenient>(text, &Limits::DEFAULT)
            .expect("parses")
            .expect("one document")
    }

    #[test]
    fn keys_and_nodes_have_positions_and_spans() {
        let text = "a:\n  b: 'hello'\n  c: [1, x]\n  d: |\n    two\n    lines\n";
        let root = parse_one(text);
        let a = root.entry("a").expect("a");
        assert_eq!((a.key_at.line, a.key_at.column), (1, 1));
        let b = a.value.get("b").expect("a.b");
        assert_eq!(b.as_str(), Some("hello"));
        assert_eq!((b.at.line, b.at.column), (2, 6));
        assert_eq!(b.end(text), (2, 13));
        let c = a.value.get("c").and_then(Node::items).expect("a.c");
        assert_eq!((c[1].at.line, c[1].at.column), (3, 10));
        // A block scalar starts where its content does.
        let d = a.value.get("d").expect("a.d");
        assert_eq!((d.at.line, d.as_str()), (5, Some("two\nlines\n")));
    }

    #[test]
    fn scalars_keep_their_type_and_read_as_text() {
        let root = parse_one("a: true\nb: 1\nc: \"false\"\nd: ~\n");
        let a = root.get("a").expect("a");
        assert_eq!(a.value, Value::Scalar(Scalar::Bool(true)));
        assert_eq!((a.as_str(), a.as_string_scalar()), (Some("true"), None));
        let b = root.get("b").expect("b");
        assert_eq!(b.value, Value::Scalar(Scalar::Number("1".into())));
        assert_eq!(b.as_str(), Some("1"));
        assert_eq!(
            root.get("c").and_then(Node::as_string_scalar),
            Some("false")
        );
        assert_eq!(root.get("d").map(|d| d.as_str()), Some(None));
    }

    #[test]
    fn aliases_point_at_their_anchor_and_merge_keys_merge() {
        let root = parse_one(
            ".base: &base\n  image: alpine\n  script: [a]\njob:\n  <<: *base\n  script: [b]\n",
        );
        let job = root.get("job").expect("job");
        let image = job.get("image").expect("image merged");
        assert_eq!((image.as_str(), image.at.line), (Some("alpine"), 2));
        let script = job.get("script").and_then(Node::items).expect("script");
        assert_eq!(script[0].as_str(), Some("b"));
    }

    #[test]
    fn local_tags_are_kept() {
        let root = parse_one("a: !reference [.setup, script]\nb: !!str 1\n");
        let a = root.get("a").expect("a");
        assert_eq!(a.tag, Tag::Reference);
        assert_eq!(a.items().map(<[Node]>::len), Some(2));
        assert_eq!(root.get("b").map(|b| b.tag), Some(Tag::None));
    }

    #[test]
    fn keys_that_are_not_text_read_each_side_s_way() {
        let lenient = parse_one("~: 1\n? [a]\n: 2\n");
        let keys: Vec<&str> = lenient
            .entries()
            .unwrap_or_default()
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, ["null", "?"]);
        let strict = parse_documents::<Strict>("~: 1\n", &Limits::DEFAULT).expect("parses");
        assert_eq!(strict[0].entry("").map(|e| e.key_at.line), Some(1));
        let refused = parse_documents::<Strict>("? [a]\n: 2\n", &Limits::DEFAULT);
        assert!(refused.is_err());
    }

    #[test]
    fn empty_text_has_no_document() {
        assert_eq!(
            parse_document::<Lenient>("# only a comment\n", &Limits::DEFAULT).expect("parses"),
            None
        );
    }
}
