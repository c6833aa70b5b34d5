//! Builds positioned trees ([`Node`]) straight from the YAML parser's events: one pass, no
//! recursion (a nesting limit, not the stack, bounds depth), aliases copied from their anchor
//! with the anchor's position, `<<` merge keys applied as YAML 1.1 defines them (the mapping's
//! own keys win, then earlier sources over later ones), and every count an attacker could blow
//! up held to a [`Limits`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_saphyr::granit_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag};

use super::{Entry, KeyReading, NO_SPAN, Node, Pos, Scalar, Tag as NodeTag, Text, Value, to_u32};

/// How far one file may go before ciguard stops parsing it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Mappings and sequences open at once.
    pub max_depth: usize,
    /// Nodes written in the file (scalars, sequences, mappings).
    pub max_nodes: usize,
    /// Aliases (`*name`).
    pub max_aliases: usize,
    /// Anchors (`&name`).
    pub max_anchors: usize,
    /// Merge keys (`<<`).
    pub max_merge_keys: usize,
    /// Nodes copied by all aliases together: what stops an alias bomb.
    pub max_copied_nodes: usize,
    /// YAML documents in the file.
    pub max_documents: usize,
    /// Whether a key repeated in one mapping is an error (otherwise the last one wins).
    pub refuse_duplicate_keys: bool,
}

impl Limits {
    /// Limits for configuration files written by hand.
    pub const DEFAULT: Limits = Limits {
        max_depth: 64,
        max_nodes: 250_000,
        max_aliases: 50_000,
        max_anchors: 50_000,
        max_merge_keys: 10_000,
        max_copied_nodes: 1_000_000,
        max_documents: 1_024,
        refuse_duplicate_keys: true,
    };
}

/// Why a file could not be turned into a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line and column, when known.
    pub at: Option<(u32, u32)>,
    /// What is wrong, in a line for people; never a value from the file.
    pub reason: String,
    /// Whether a [`Limits`] was hit (the YAML itself may be valid).
    pub limit: bool,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl ParseError {
    fn invalid(at: Pos, reason: impl Into<String>) -> Self {
        ParseError {
            at: Some((at.line, at.column)),
            reason: reason.into(),
            limit: false,
        }
    }

    fn limit(at: Pos, what: String) -> Self {
        ParseError {
            at: Some((at.line, at.column)),
            reason: format!(
                "{what}: more than ciguard can analyse safely (it stops there so that no file \
                 can exhaust its memory or time)"
            ),
            limit: true,
        }
    }

    fn syntax(error: &ScanError) -> Self {
        let at = position(error.marker());
        let info = error.info();
        ParseError {
            at: Some((at.line, at.column)),
            reason: if info.is_empty() {
                "the YAML syntax is broken here".to_owned()
            } else {
                info
            },
            limit: false,
        }
    }
}

/// Parses every document of `text` (empty documents left out) with keys read the `K` way.
pub fn parse_documents<K: KeyReading>(
    text: &str,
    limits: &Limits,
) -> Result<Vec<Node>, ParseError> {
    let mut builder = Builder::<K> {
        limits,
        text_len: text.len(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        counts: Counts::default(),
        keys: std::marker::PhantomData,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| ParseError::syntax(&error))?;
        builder.take(event, &span)?;
    }
    Ok(builder.documents)
}

/// Parses the single document of `text`: `None` when it has none.
pub fn parse_document<K: KeyReading>(
    text: &str,
    limits: &Limits,
) -> Result<Option<Node>, ParseError> {
    let mut documents = parse_documents::<K>(text, limits)?;
    if documents.len() > 1 {
        return Err(ParseError {
            at: None,
            reason: "the file holds more than one YAML document (`---`); keep one".to_owned(),
            limit: false,
        });
    }
    Ok(documents.pop())
}

/// A 1-based position of a parser marker, in file 0.
fn position(marker: &Marker) -> Pos {
    Pos {
        file: 0,
        line: to_u32(marker.line()),
        column: to_u32(marker.col().saturating_add(1)),
    }
}

#[derive(Default)]
struct Counts {
    nodes: usize,
    aliases: usize,
    anchors: usize,
    merge_keys: usize,
    copied: usize,
    documents: usize,
}

/// A collection being read, with what its node will carry.
struct Open {
    at: Pos,
    tag: NodeTag,
    anchor: usize,
    start: Option<usize>,
    content: Content,
}

enum Content {
    Seq(Vec<Node>),
    Map {
        entries: Vec<Entry>,
        /// The key read, waiting for its value: its text, position, and whether it is `<<`.
        key: Option<(Text, Pos, bool)>,
        /// Merge sources, each with the index of the entries it goes before.
        merges: Vec<(usize, Node)>,
    },
}

struct Builder<'l, K> {
    limits: &'l Limits,
    text_len: usize,
    stack: Vec<Open>,
    /// Each anchor's node and how many nodes copying it makes.
    anchors: HashMap<usize, (Node, usize)>,
    documents: Vec<Node>,
    counts: Counts,
    keys: std::marker::PhantomData<K>,
}

impl<K: KeyReading> Builder<'_, K> {
    fn take(&mut self, event: Event<'_>, span: &Span) -> Result<(), ParseError> {
        let at = position(&span.start);
        let sequence = matches!(event, Event::SequenceStart(..));
        match event {
            Event::DocumentStart(..) => {
                bump(
                    &mut self.counts.documents,
                    1,
                    self.limits.max_documents,
                    at,
                    |limit| format!("the file has more than {limit} YAML documents"),
                )?;
                self.anchors.clear();
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count_node(at)?;
                let plain_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                let value = match resolve(text.clone(), style, tag.as_deref()) {
                    // A key reads as written: `on:` is the key `on`, `0x10:` the key `0x10`.
                    Value::Scalar(Scalar::Bool(_) | Scalar::Number(_)) if self.expects_key() => {
                        Value::Scalar(Scalar::Str(Text::new(&text)))
                    }
                    value => value,
                };
                let mut node = Node::new(value, at);
                node.tag = tag.as_deref().map_or(NodeTag::None, local_tag);
                node.span = self
                    .span_of(span.start.byte_offset(), span.end.byte_offset())
                    .unwrap_or(NO_SPAN);
                self.finish(node, anchor, plain_merge)?;
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag) => {
                self.count_node(at)?;
                if self.stack.len() >= self.limits.max_depth {
                    return Err(ParseError::limit(
                        at,
                        format!("the file nests {} levels deep", self.stack.len() + 1),
                    ));
                }
                let content = if sequence {
                    Content::Seq(Vec::new())
                } else {
                    Content::Map {
                        entries: Vec::new(),
                        key: None,
                        merges: Vec::new(),
                    }
                };
                self.stack.push(Open {
                    at,
                    tag: tag.as_deref().map_or(NodeTag::None, local_tag),
                    anchor,
                    start: span.start.byte_offset(),
                    content,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = self.stack.pop() else {
                    return Err(ParseError::invalid(
                        at,
                        "a collection ends that never started",
                    ));
                };
                let value = match open.content {
                    Content::Seq(mut items) => {
                        items.shrink_to_fit();
                        Value::Seq(items)
                    }
                    Content::Map {
                        entries, merges, ..
                    } => Value::Map(self.merged(entries, merges)?),
                };
                let mut node = Node::new(value, open.at);
                node.tag = open.tag;
                node.span = self
                    .span_of(open.start, span.end.byte_offset())
                    .unwrap_or(NO_SPAN);
                self.finish(node, open.anchor, false)?;
            }
            Event::Alias(anchor) => {
                bump(
                    &mut self.counts.aliases,
                    1,
                    self.limits.max_aliases,
                    at,
                    |limit| format!("the file has more than {limit} aliases (`*name`)"),
                )?;
                let Some((node, size)) = self.anchors.get(&anchor) else {
                    return Err(ParseError::invalid(
                        at,
                        "an alias names an anchor that is not defined before it",
                    ));
                };
                bump(
                    &mut self.counts.copied,
                    *size,
                    self.limits.max_copied_nodes,
                    at,
                    |limit| {
                        format!(
                            "the file's aliases expand to more than {limit} YAML nodes (an alias bomb?)"
                        )
                    },
                )?;
                let node = node.clone();
                self.finish(node, 0, false)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the next node is a mapping's key.
    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Open {
                content: Content::Map { key: None, .. },
                ..
            })
        )
    }

    fn count_node(&mut self, at: Pos) -> Result<(), ParseError> {
        bump(
            &mut self.counts.nodes,
            1,
            self.limits.max_nodes,
            at,
            |limit| format!("the file has more than {limit} YAML nodes"),
        )
    }

    fn span_of(&self, start: Option<usize>, end: Option<usize>) -> Option<(u32, u32)> {
        let (start, end) = (start?, end?.min(self.text_len));
        let len = end.checked_sub(start)?;
        Some((u32::try_from(start).ok()?, u32::try_from(len).ok()?))
    }

    /// A complete node: remembered under its anchor, then placed in what holds it.
    fn finish(&mut self, node: Node, anchor: usize, plain_merge: bool) -> Result<(), ParseError> {
        if anchor != 0 {
            bump(
                &mut self.counts.anchors,
                1,
                self.limits.max_anchors,
                node.at,
                |limit| format!("the file has more than {limit} anchors (`&name`)"),
            )?;
            self.anchors.insert(anchor, (node.clone(), size(&node)));
        }
        let Some(open) = self.stack.last_mut() else {
            if !matches!(node.value, Value::Null) || (node.span != NO_SPAN && node.span.1 > 0) {
                self.documents.push(node);
            }
            return Ok(());
        };
        match &mut open.content {
            Content::Seq(items) => items.push(node),
            Content::Map {
                entries,
                key,
                merges,
            } => match key.take() {
                None => {
                    let text = match node.value {
                        Value::Scalar(Scalar::Str(text) | Scalar::Number(text)) => text,
                        Value::Scalar(scalar) => Text::new(scalar.text()),
                        Value::Null => Text::new_static(K::NULL_KEY),
                        Value::Seq(_) | Value::Map(_) => Text::new_static(
                            K::COLLECTION_KEY
                                .map_err(|reason| ParseError::invalid(node.at, reason))?,
                        ),
                    };
                    *key = Some((text, node.at, plain_merge));
                }
                Some((_, merge_at, true)) => {
                    bump(
                        &mut self.counts.merge_keys,
                        1,
                        self.limits.max_merge_keys,
                        merge_at,
                        |limit| format!("the file has more than {limit} merge keys (`<<`)"),
                    )?;
                    merges.push((entries.len(), node));
                }
                Some((text, key_at, false)) => entries.push(Entry {
                    key: text,
                    key_at,
                    value: node,
                }),
            },
        }
        Ok(())
    }

    /// A mapping's entries with its merge sources applied: a key of its own wins over a merged
    /// one, and an earlier source over a later one; merged keys go where `<<` was.
    fn merged(
        &self,
        mut entries: Vec<Entry>,
        merges: Vec<(usize, Node)>,
    ) -> Result<Vec<Entry>, ParseError> {
        if self.limits.refuse_duplicate_keys {
            let mut seen = HashSet::with_capacity(entries.len());
            if let Some(duplicate) = entries.iter().find(|e| !seen.insert(e.key.as_str())) {
                return Err(ParseError::invalid(
                    duplicate.key_at,
                    "duplicate mapping key: a key appears twice in one mapping",
                ));
            }
        }
        if merges.is_empty() {
            entries.shrink_to_fit();
            return Ok(entries);
        }
        let own: HashSet<Text> = entries.iter().map(|e| e.key.clone()).collect();
        let mut taken: HashSet<Text> = HashSet::new();
        let mut merged = Vec::with_capacity(entries.len());
        let mut own_entries = entries.into_iter().enumerate().peekable();
        for (before, source) in merges {
            while let Some((_, entry)) = own_entries.next_if(|(index, _)| *index < before) {
                merged.push(entry);
            }
            let at = source.at;
            let sources = match source.value {
                Value::Map(source_entries) => vec![source_entries],
                Value::Seq(items) => items
                    .into_iter()
                    .map(|item| match item.value {
                        Value::Map(source_entries) => Ok(source_entries),
                        _ => Err(ParseError::invalid(
                            item.at,
                            "a merge key `<<` takes a mapping or a list of mappings",
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(ParseError::invalid(
                        at,
                        "a merge key `<<` takes a mapping or a list of mappings",
                    ));
                }
            };
            for entry in sources.into_iter().flatten() {
                if !own.contains(&entry.key) && taken.insert(entry.key.clone()) {
                    merged.push(entry);
                }
            }
        }
        merged.extend(own_entries.map(|(_, entry)| entry));
        merged.shrink_to_fit();
        Ok(merged)
    }
}

/// Adds `by` to `count`, and refuses the file once it passes `limit` (`describe` says what was
/// counted, given the limit).
fn bump(
    count: &mut usize,
    by: usize,
    limit: usize,
    at: Pos,
    describe: impl Fn(usize) -> String,
) -> Result<(), ParseError> {
    *count = count.saturating_add(by);
    if *count > limit {
        return Err(ParseError::limit(at, describe(limit)));
    }
    Ok(())
}

/// How many nodes `node` holds, itself included.
fn size(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(size).sum(),
        Value::Map(entries) => entries.iter().map(|e| 1 + size(&e.value)).sum(),
        Value::Null | Value::Scalar(_) => 0,
    }
}

/// An explicit local tag such as `!reference`; none for YAML's own (`!!str`) and `!`.
fn local_tag(tag: &Tag) -> NodeTag {
    match (tag.handle(), tag.suffix()) {
        ("!", "reference") => NodeTag::Reference,
        ("!", suffix) if !suffix.is_empty() => NodeTag::Other,
        _ => NodeTag::None,
    }
}

/// A scalar typed as YAML resolves it: quoted and block scalars are strings; a plain one may be
/// null, a boolean (YAML 1.1 spellings too, as GitLab's parser reads them) or a number, kept
/// as its canonical text (`0x10` is `16`); YAML's own tags (`!!str`, `!!int`...) decide first.
fn resolve(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let plain = style == ScalarStyle::Plain;
    let typed = match tag {
        Some(tag) if tag.is_yaml_core_schema() => tag.core_suffix().unwrap_or("str"),
        Some(_) => "str",
        None if plain => "",
        None => "str",
    };
    let resolved = match typed {
        "str" | "seq" | "map" => None,
        "null" => Some(Value::Null),
        _ if typed.is_empty() && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") => {
            Some(Value::Null)
        }
        // Most scalars are neither: their first byte says so.
        _ => match text.as_bytes().first() {
            Some(b't' | b'T' | b'f' | b'F' | b'y' | b'Y' | b'n' | b'N' | b'o' | b'O') => {
                boolean(&text).map(|b| Value::Scalar(Scalar::Bool(b)))
            }
            Some(b'0'..=b'9' | b'+' | b'-' | b'.') => {
                number(&text).map(|n| Value::Scalar(Scalar::Number(n)))
            }
            _ => None,
        },
    };
    resolved.unwrap_or_else(|| Value::Scalar(Scalar::Str(Text::new(&text))))
}

fn boolean(text: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "yes", "y", "on"];
    const FALSE: [&str; 4] = ["false", "no", "n", "off"];
    if TRUE.iter().any(|t| text.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|f| text.eq_ignore_ascii_case(f)) {
        Some(false)
    } else {
        None
    }
}

/// A number's canonical text: integers (decimal without a leading zero, `0x`, `0o`, `0b`,
/// `_` between digits) that fit 64 bits, else finite floats as Rust prints them.
fn number(text: &str) -> Option<Text> {
    if let Some(integer) = integer(text) {
        return Some(Text::new(integer));
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let numeral = unsigned
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    let value: f64 = text.parse().ok().filter(|v: &f64| v.is_finite())?;
    numeral.then(|| Text::new(value.to_string()))
}

fn integer(text: &str) -> Option<String> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let prefixed = |lower: &str, upper: &str| rest.strip_prefix(lower).or(rest.strip_prefix(upper));
    let (radix, digits) = if let Some(digits) = prefixed("0x", "0X") {
        (16, digits)
    } else if let Some(digits) = prefixed("0o", "0O") {
        (8, digits)
    } else if let Some(digits) = prefixed("0b", "0B") {
        (2, digits)
    } else {
        if rest.starts_with('0') && rest != "0" {
            return None;
        }
        (10, rest)
    };
    let bytes = digits.as_bytes();
    let mut magnitude: u128 = 0;
    let mut any = false;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'_' {
            let between = index > 0
                && bytes[index - 1] != b'_'
                && bytes.get(index + 1).is_some_and(|b| *b != b'_');
            if !between {
                return None;
            }
            continue;
        }
        let digit = char::from(byte).to_digit(radix)?;
        magnitude = magnitude
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(digit))?;
        any = true;
    }
    if !any {
        return None;
    }
    if negative {
        let value = i64::try_from(magnitude)
            .ok()
            .map(|m| -m)
            .or((magnitude == 1 << 63).then_some(i64::MIN))?;
        Some(value.to_string())
    } else {
        u64::try_from(magnitude).ok().map(|v| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::Strict as Keys;
    use super::*;

    fn parse(text: &str) -> Node {
        parse_document::<Keys>(text, &Limits::DEFAULT)
            .expect("parses")
            .expect("a document")
    }

    fn keys(node: &Node) -> Vec<&str> {
        node.entries()
            .unwrap_or_default()
            .iter()
            .map(|e| e.key.as_str())
            .collect()
    }

    #[test]
    fn a_mapping_s_own_keys_win_over_merged_ones_and_earlier_sources_over_later() {
        let root = parse(
            "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nm:\n  x: own\n  <<: [*a, *b]\n  w: own\n",
        );
        let m = root.get("m").expect("m");
        assert_eq!(keys(m), ["x", "y", "z", "w"]);
        assert_eq!(m.get_str("x"), Some("own"));
        assert_eq!(m.get_str("y"), Some("1"));
        assert_eq!(m.get_str("z"), Some("2"));
        // Merged values keep the position of their anchor's text.
        assert_eq!(m.get("z").map(|z| z.at.line), Some(2));
    }

    #[test]
    fn plain_scalars_are_typed_as_yaml_reads_them_and_quoted_ones_stay_strings() {
        let root = parse(
            "a: yes\nb: Off\nc: 0x10\nd: 1_000\ne: -12\nf: 1.50\ng: '1'\nh: \"true\"\ni: !!str 2\nj: ~\nk: 0127\nl: .inf\nm: 1e999\n",
        );
        let scalar = |key: &str| root.get(key).map(|n| n.value.clone());
        let number = |text: &str| Some(Value::Scalar(Scalar::Number(text.into())));
        let string = |text: &str| Some(Value::Scalar(Scalar::Str(text.into())));
        assert_eq!(scalar("a"), Some(Value::Scalar(Scalar::Bool(true))));
        assert_eq!(scalar("b"), Some(Value::Scalar(Scalar::Bool(false))));
        assert_eq!(scalar("c"), number("16"));
        assert_eq!(scalar("d"), number("1000"));
        assert_eq!(scalar("e"), number("-12"));
        assert_eq!(scalar("f"), number("1.5"));
        assert_eq!(scalar("g"), string("1"));
        assert_eq!(scalar("h"), string("true"));
        assert_eq!(scalar("i"), string("2"));
        assert_eq!(scalar("j"), Some(Value::Null));
        assert_eq!(scalar("k"), number("127"));
        assert_eq!(scalar("l"), string(".inf"));
        assert_eq!(scalar("m"), string("1e999"));
    }

    #[test]
    fn broken_references_and_merges_are_errors_with_a_position() {
        for (text, words) in [
            ("a: *nowhere\n", "anchor"),
            ("a: &a [*a]\n", "anchor"),
            ("a: {<<: 1}\n", "a mapping or a list of mappings"),
            ("a: {<<: [{x: 1}, 2]}\n", "a mapping or a list of mappings"),
            ("a: 1\na: 2\n", "duplicate mapping key"),
            ("a: [1\n", ""),
        ] {
            let error = parse_document::<Keys>(text, &Limits::DEFAULT).expect_err(text);
            assert!(error.reason.contains(words), "{text}: {error}");
            assert!(error.at.is_some() && !error.limit, "{text}: {error:?}");
        }
    }

    #[test]
    fn every_limit_stops_the_parse_and_says_which() {
        let tight = Limits {
            max_depth: 3,
            max_nodes: 12,
            max_aliases: 1,
            max_anchors: 1,
            max_merge_keys: 1,
            max_copied_nodes: 4,
            max_documents: 1,
            refuse_duplicate_keys: false,
        };
        for (text, words) in [
            ("a: [[[[1]]]]\n", "nests 4 levels deep"),
            (
                "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n",
                "more than 12 YAML nodes",
            ),
            ("a: &a 1\nb: *a\nc: *a\n", "more than 1 aliases"),
            ("a: &a 1\nb: &b 2\n", "more than 1 anchors"),
            ("b: {<<: {x: 1}, <<: {y: 2}}\n", "more than 1 merge keys"),
            (
                "a: &a [1, 2, 3, 4, 5]\nb: *a\n",
                "expand to more than 4 YAML nodes",
            ),
            ("a: 1\n---\nb: 2\n", "more than 1 YAML documents"),
        ] {
            let error = parse_documents::<Keys>(text, &tight).expect_err(text);
            assert!(
                error.limit && error.reason.contains(words),
                "{text}: {error}"
            );
            assert!(error.reason.contains("analyse safely"), "{error}");
        }
    }

    #[test]
    fn empty_documents_are_left_out_and_repeated_keys_kept_when_allowed() {
        let lenient = Limits {
            refuse_duplicate_keys: false,
            ..Limits::DEFAULT
        };
        let documents =
            parse_documents::<Keys>("---\n---\na: 1\na: 2\n", &lenient).expect("parses");
        assert_eq!(documents.len(), 1);
        assert_eq!(keys(&documents[0]), ["a", "a"]);
        assert_eq!(documents[0].get_str("a"), Some("2"));
    }
}
