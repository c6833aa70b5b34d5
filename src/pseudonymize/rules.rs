//! What happens to each field of one stream: a tree of field paths (`address.street`,
//! `items[].email`), each ending in hash, drop or keep, and what happens to the fields no path
//! names. The same tree rewrites records ([`StreamRules::write_record`]) and the stream's JSON schema
//! ([`StreamRules::rewrite_schema`]), so the two always agree.
//!
//! Paths: field names joined by `.`; a name followed by `[]` means each element of that array.
//! A dotted path that meets an array goes on into each of its elements, so `items.email` and
//! `items[].email` name the same values; `tags[]` hashes each element of `tags` where `tags`
//! alone would hash the array as one value.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::hash::{Hasher, Normalize};
use super::raw::{RawObject, plain_str, push_name};

/// What happens to a value a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Replaced by its keyed hash (after the normalisation, if any).
    Hash(Option<Normalize>),
    /// Removed from the record and from the schema.
    Drop,
    /// Left as it is (what `keep` lists, for `unlisted: drop`).
    Keep,
}

impl Action {
    /// The config list this action comes from.
    pub fn list_name(self) -> &'static str {
        match self {
            Action::Hash(_) => "hash",
            Action::Drop => "drop",
            Action::Keep => "keep",
        }
    }
}

/// What happens to fields no path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unlisted {
    /// They pass unchanged.
    #[default]
    Keep,
    /// They are removed: the config is an allow-list.
    Drop,
}

/// One step of a path: a field of an object, or each element of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Each,
}

/// A parsed field path, as written in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    steps: Vec<Step>,
}

impl std::str::FromStr for FieldPath {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        for part in text.split('.') {
            let mut name = part;
            let mut each = 0;
            while let Some(rest) = name.strip_suffix("[]") {
                name = rest;
                each += 1;
            }
            if name.is_empty() || name.contains(['[', ']']) {
                return Err(format!(
                    "`{text}` is not a field path: write field names joined by `.`, with `[]` \
                     after an array's name for each of its elements (e.g. `items[].email`)"
                ));
            }
            steps.push(Step::Field(name.to_owned()));
            steps.extend(std::iter::repeat_n(Step::Each, each));
        }
        Ok(Self {
            text: text.to_owned(),
            steps,
        })
    }
}

/// The rules below one point of a record: an action for the whole value, or rules for its fields
/// and its array elements.
#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    action: Option<Action>,
    /// The path that set `action`, for error messages.
    named_by: Option<String>,
    fields: BTreeMap<String, Node>,
    each: Option<Box<Node>>,
}

/// The rules of one stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamRules {
    root: Node,
    unlisted: Unlisted,
}

/// Two paths that cannot both hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// One path in two lists (or twice in one).
    #[error("`{path}` is in both `{first}` and `{second}`: give each field one action")]
    Twice {
        path: String,
        first: &'static str,
        second: &'static str,
    },
    /// A path inside a value another path already hashes, drops or keeps whole.
    #[error("`{inner}` is inside `{outer}`, which is already in `{list}`: remove one of them")]
    Nested {
        inner: String,
        outer: String,
        list: &'static str,
    },
    /// `drop` of each element of an array.
    #[error("`{path}` drops the elements of an array: drop the array itself instead")]
    DropEach { path: String },
}

impl StreamRules {
    /// Rules from the config's paths and actions, checked for conflicts.
    pub fn new(
        paths: impl IntoIterator<Item = (FieldPath, Action)>,
        unlisted: Unlisted,
    ) -> Result<Self, RuleError> {
        let mut root = Node::default();
        for (path, action) in paths {
            if action == Action::Drop && path.steps.last() == Some(&Step::Each) {
                return Err(RuleError::DropEach { path: path.text });
            }
            let mut node = &mut root;
            for step in &path.steps {
                if let Some(outer) = node.action {
                    return Err(RuleError::Nested {
                        inner: path.text.clone(),
                        outer: node.named_by.clone().unwrap_or_default(),
                        list: outer.list_name(),
                    });
                }
                node = match step {
                    Step::Field(name) => node.fields.entry(name.clone()).or_default(),
                    Step::Each => node.each.get_or_insert_with(Box::default),
                };
            }
            if let Some(first) = node.action {
                return Err(RuleError::Twice {
                    path: path.text,
                    first: first.list_name(),
                    second: action.list_name(),
                });
            }
            if !node.fields.is_empty() || node.each.is_some() {
                let inner = first_named_below(node).unwrap_or_default();
                return Err(RuleError::Nested {
                    inner,
                    outer: path.text,
                    list: action.list_name(),
                });
            }
            node.action = Some(action);
            node.named_by = Some(path.text);
        }
        Ok(Self { root, unlisted })
    }

    /// Whether these rules leave every record and schema as they are.
    pub fn is_identity(&self) -> bool {
        self.unlisted == Unlisted::Keep && only_keeps(&self.root)
    }

    /// The action for a top-level field, as far as key and bookmark properties care: dropped
    /// (named in `drop`, or not named under `unlisted: drop`), hashed, or neither.
    pub fn top_level_fate(&self, field: &str) -> Option<Action> {
        match self.root.fields.get(field) {
            Some(node) => node.action.filter(|action| *action != Action::Keep),
            None if self.unlisted == Unlisted::Drop => Some(Action::Drop),
            None => None,
        }
    }

    /// Writes `record` as JSON to `out`, its fields hashed, dropped and kept as configured.
    /// Fields no rule changes are copied as they came, in their order.
    pub fn write_record(
        &self,
        record: &RawObject<'_>,
        hasher: &mut Hasher,
        out: &mut Vec<u8>,
    ) -> Result<(), serde_json::Error> {
        out.push(b'{');
        let mut first = true;
        for (name, raw) in &record.0 {
            let node = match (self.root.fields.get(name.as_ref()), self.unlisted) {
                (None, Unlisted::Drop) => continue,
                (Some(node), _) if node.action == Some(Action::Drop) => continue,
                (node, _) => node.filter(|node| node.action != Some(Action::Keep)),
            };
            if !first {
                out.push(b',');
            }
            first = false;
            push_name(out, name);
            out.push(b':');
            let Some(node) = node else {
                out.extend_from_slice(raw.get().as_bytes());
                continue;
            };
            if let (Some(Action::Hash(normalize)), Some(text)) = (node.action, plain_str(raw)) {
                // The common case, a string without escapes, skips the detour through `Value`.
                hasher.write_hashed_str(text, normalize, out);
            } else {
                let mut value: Value = serde_json::from_str(raw.get())?;
                self.apply_node(node, &mut value, hasher);
                serde_json::to_writer(&mut *out, &value)?;
            }
        }
        out.push(b'}');
        Ok(())
    }

    fn apply_fields(&self, node: &Node, object: &mut Map<String, Value>, hasher: &mut Hasher) {
        if self.unlisted == Unlisted::Drop {
            object.retain(|name, _| node.fields.contains_key(name));
        }
        for (name, child) in &node.fields {
            match child.action {
                Some(Action::Drop) => {
                    object.remove(name);
                }
                _ => {
                    if let Some(value) = object.get_mut(name) {
                        self.apply_node(child, value, hasher);
                    }
                }
            }
        }
    }

    fn apply_node(&self, node: &Node, value: &mut Value, hasher: &mut Hasher) {
        match node.action {
            Some(Action::Hash(normalize)) => hasher.hash_in_place(value, normalize),
            Some(Action::Keep) => {}
            // Dropped values are removed by their parent; an element cannot be dropped.
            Some(Action::Drop) | None => match value {
                Value::Object(object) => self.apply_fields(node, object, hasher),
                Value::Array(elements) => {
                    for element in elements {
                        if let Some(each) = &node.each {
                            self.apply_node(each, element, hasher);
                        }
                        if !node.fields.is_empty() {
                            self.apply_fields_within(node, element, hasher);
                        }
                    }
                }
                _ => {}
            },
        }
    }

    /// A dotted path that meets an array goes on into each element (at any depth).
    fn apply_fields_within(&self, node: &Node, value: &mut Value, hasher: &mut Hasher) {
        match value {
            Value::Object(object) => self.apply_fields(node, object, hasher),
            Value::Array(elements) => {
                for element in elements {
                    self.apply_fields_within(node, element, hasher);
                }
            }
            _ => {}
        }
    }

    /// Rewrites a stream's JSON schema to match the records [`Self::write_record`] writes: dropped
    /// fields leave `properties` and `required`, hashed fields become strings (nullable when
    /// they were).
    pub fn rewrite_schema(&self, schema: &mut Value) {
        self.rewrite_node_schema(&self.root, schema);
    }

    fn rewrite_node_schema(&self, node: &Node, schema: &mut Value) {
        match node.action {
            Some(Action::Hash(_)) => *schema = hashed_schema(schema),
            Some(Action::Keep | Action::Drop) => {}
            None => self.rewrite_schema_within(node, schema, true),
        }
    }

    /// Rewrites the properties of an object schema, the items of an array schema (with the
    /// `[]` rules when `with_each`, and the field rules in any case), and every variant of
    /// `anyOf`, `oneOf` and `allOf`.
    fn rewrite_schema_within(&self, node: &Node, schema: &mut Value, with_each: bool) {
        let Value::Object(schema) = schema else {
            return;
        };
        if schema.get("properties").is_some_and(Value::is_object) {
            self.rewrite_properties(node, schema);
        }
        if let Some(items) = schema.get_mut("items") {
            if let (Some(each), true) = (&node.each, with_each) {
                self.rewrite_node_schema(each, items);
            }
            if !node.fields.is_empty() {
                self.rewrite_schema_within(node, items, false);
            }
        }
        for combinator in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(variants)) = schema.get_mut(combinator) {
                for variant in variants {
                    self.rewrite_schema_within(node, variant, with_each);
                }
            }
        }
    }

    fn rewrite_properties(&self, node: &Node, schema: &mut Map<String, Value>) {
        let mut removed: Vec<String> = Vec::new();
        if let Some(Value::Object(properties)) = schema.get_mut("properties") {
            if self.unlisted == Unlisted::Drop {
                properties.retain(|name, _| {
                    let keep = node.fields.contains_key(name);
                    if !keep {
                        removed.push(name.clone());
                    }
                    keep
                });
            }
            for (name, child) in &node.fields {
                if child.action == Some(Action::Drop) {
                    properties.remove(name);
                    removed.push(name.clone());
                } else if let Some(property) = properties.get_mut(name) {
                    self.rewrite_node_schema(child, property);
                }
            }
        }
        if let Some(Value::Array(required)) = schema.get_mut("required") {
            required.retain(|name| {
                name.as_str()
                    .is_none_or(|name| !removed.iter().any(|r| r == name))
            });
            // JSON Schema draft 4 (Singer's) wants at least one name in `required`.
            if required.is_empty() {
                schema.remove("required");
            }
        }
    }
}

/// Whether nothing below `node` hashes or drops.
fn only_keeps(node: &Node) -> bool {
    matches!(node.action, None | Some(Action::Keep))
        && node.fields.values().all(only_keeps)
        && node.each.as_deref().is_none_or(only_keeps)
}

/// The first path set below `node` (for an error message).
fn first_named_below(node: &Node) -> Option<String> {
    node.fields
        .values()
        .chain(node.each.as_deref())
        .find_map(|child| child.named_by.clone().or_else(|| first_named_below(child)))
}

/// The schema of a hashed value: a string, or null where the value could be null.
fn hashed_schema(original: &Value) -> Value {
    if is_nullable(original) {
        serde_json::json!({"type": ["string", "null"]})
    } else {
        serde_json::json!({"type": "string"})
    }
}

/// Whether a schema admits `null` (by `type`, or by a variant of `anyOf` / `oneOf`).
fn is_nullable(schema: &Value) -> bool {
    let Value::Object(schema) = schema else {
        return false;
    };
    let by_type = match schema.get("type") {
        Some(Value::String(name)) => name == "null",
        Some(Value::Array(names)) => names.iter().any(|name| name == "null"),
        _ => false,
    };
    by_type
        || ["anyOf", "oneOf"].iter().any(|combinator| {
            schema
                .get(*combinator)
                .and_then(Value::as_array)
                .is_some_and(|variants| variants.iter().any(is_nullable))
        })
}
