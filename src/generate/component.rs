//! The CI/CD components of `templates/`, embedded in the binary, and their rendering: the
//! `spec: inputs:` header is read, the given inputs are checked against it the way GitLab checks
//! them (unknown and missing inputs, types, `options`, `regex`), and every `$[[ inputs.NAME ]]`
//! in the component's keys and values is replaced. A value that is only a placeholder takes the
//! input's type (a boolean stays a boolean); a placeholder inside a longer string is replaced by
//! the input's text.

use std::fmt;
use std::path::Path;

use regex::Regex;

use crate::yaml::ci;
use crate::yaml::{Entry, Node, Pos, Scalar, Value};

/// A component: its name (`templates/<name>.yml`) and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    /// The name GitLab gives it: the file name without `.yml`.
    pub name: &'static str,
    /// The file's text: the `spec` header, `---`, the jobs.
    pub source: &'static str,
}

/// ciguard lint in merge-request pipelines, with a Code Quality report.
pub const LINT: Component = Component {
    name: "lint",
    source: include_str!("../../templates/lint.yml"),
};

/// ciguard audit on the protected default branch (pushes and schedules).
pub const AUDIT: Component = Component {
    name: "audit",
    source: include_str!("../../templates/audit.yml"),
};

/// One ELT step through `ciguard run`, production or not.
pub const ELT: Component = Component {
    name: "elt",
    source: include_str!("../../templates/elt.yml"),
};

/// Every component, in the order of `templates/`.
pub const ALL: [Component; 3] = [AUDIT, ELT, LINT];

/// The type of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// Text (the default).
    String,
    /// `true` or `false`.
    Boolean,
    /// An integer or a decimal number.
    Number,
    /// A list (of strings, here).
    Array,
}

/// An input's value.
#[derive(Debug, Clone, PartialEq)]
pub enum InputValue {
    /// A string.
    String(String),
    /// A boolean.
    Boolean(bool),
    /// A number, as text.
    Number(String),
    /// A list of strings.
    Array(Vec<String>),
}

impl InputValue {
    fn input_type(&self) -> InputType {
        match self {
            InputValue::String(_) => InputType::String,
            InputValue::Boolean(_) => InputType::Boolean,
            InputValue::Number(_) => InputType::Number,
            InputValue::Array(_) => InputType::Array,
        }
    }

    /// The text a placeholder inside a longer string becomes; `None` for a list.
    fn text(&self) -> Option<&str> {
        match self {
            InputValue::String(text) | InputValue::Number(text) => Some(text),
            InputValue::Boolean(true) => Some("true"),
            InputValue::Boolean(false) => Some("false"),
            InputValue::Array(_) => None,
        }
    }

    /// The value a placeholder that is a whole YAML value becomes.
    fn to_value(&self, at: Pos) -> Value {
        let string = |text: &String| Value::Scalar(Scalar::Str(text.into()));
        match self {
            InputValue::String(text) => string(text),
            InputValue::Boolean(on) => Value::Scalar(Scalar::Bool(*on)),
            InputValue::Number(text) => Value::Scalar(Scalar::Number(text.into())),
            InputValue::Array(items) => Value::Seq(
                items
                    .iter()
                    .map(|item| Node::new(string(item), at))
                    .collect(),
            ),
        }
    }
}

impl From<&str> for InputValue {
    fn from(text: &str) -> Self {
        InputValue::String(text.to_owned())
    }
}

impl From<String> for InputValue {
    fn from(text: String) -> Self {
        InputValue::String(text)
    }
}

impl From<Vec<String>> for InputValue {
    fn from(items: Vec<String>) -> Self {
        InputValue::Array(items)
    }
}

impl From<bool> for InputValue {
    fn from(on: bool) -> Self {
        InputValue::Boolean(on)
    }
}

/// One input of a component's `spec`.
#[derive(Debug, Clone)]
pub struct InputSpec {
    /// Its name.
    pub name: String,
    /// Its type.
    pub input_type: InputType,
    /// Its default; `None` makes it required.
    pub default: Option<InputValue>,
    /// The values it may take, when listed.
    pub options: Vec<String>,
    /// A pattern a string value must match, as written.
    pub regex: Option<String>,
    /// What it is for.
    pub description: String,
}

/// Why a component cannot be rendered with the given inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("component `{component}`: {message}")]
pub struct RenderError {
    component: &'static str,
    message: String,
}

impl RenderError {
    /// `key` defined by two renderings with different content.
    pub(super) fn duplicate_job(component: Component, key: &str) -> Self {
        RenderError {
            component: component.name,
            message: format!("defines job `{key}`, which another job already has"),
        }
    }
}

/// The component's `spec: inputs:`, in the order written.
pub fn inputs(component: Component) -> Result<Vec<InputSpec>, RenderError> {
    let (spec, _) = documents(component)?;
    let fail = |message: String| RenderError {
        component: component.name,
        message,
    };
    let Some(entries) = spec
        .get("spec")
        .and_then(|s| s.get("inputs"))
        .and_then(Node::entries)
    else {
        return Err(fail("its first document has no `spec: inputs:`".to_owned()));
    };
    entries
        .iter()
        .map(|entry| input_spec(entry).map_err(&fail))
        .collect()
}

fn input_spec(entry: &Entry) -> Result<InputSpec, String> {
    let name = entry.key.clone();
    let node = &entry.value;
    let input_type = match node.get_str("type").unwrap_or("string") {
        "string" => InputType::String,
        "boolean" => InputType::Boolean,
        "number" => InputType::Number,
        "array" => InputType::Array,
        other => {
            return Err(format!(
                "input `{name}` has type `{other}`, which is not supported"
            ));
        }
    };
    let default = node.get("default").map(|d| match &d.value {
        Value::Scalar(Scalar::Bool(on)) => InputValue::Boolean(*on),
        Value::Scalar(Scalar::Number(text)) => InputValue::Number(text.to_string()),
        Value::Seq(items) => InputValue::Array(
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
        ),
        other => InputValue::String(other.text().unwrap_or_default().to_owned()),
    });
    let options = node
        .get("options")
        .map(|o| {
            o.scalars()
                .iter()
                .filter_map(|s| s.as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(InputSpec {
        name: name.to_string(),
        input_type,
        default,
        options,
        regex: node.get_str("regex").map(str::to_owned),
        description: node.get_str("description").unwrap_or_default().to_owned(),
    })
}

/// Renders `component` with `given` inputs: the jobs it defines, as a YAML mapping.
pub fn render(component: Component, given: &[(&str, InputValue)]) -> Result<Node, RenderError> {
    let fail = |message: String| RenderError {
        component: component.name,
        message,
    };
    let specs = inputs(component)?;
    if let Some((name, _)) = given
        .iter()
        .find(|(name, _)| !specs.iter().any(|spec| spec.name == *name))
    {
        return Err(fail(format!("unknown input `{name}`")));
    }
    let mut values = Vec::with_capacity(specs.len());
    for spec in &specs {
        let value = given
            .iter()
            .rev()
            .find(|(name, _)| *name == spec.name)
            .map(|(_, value)| value.clone())
            .or_else(|| spec.default.clone())
            .ok_or_else(|| fail(format!("input `{}` is required", spec.name)))?;
        check(spec, &value).map_err(&fail)?;
        values.push((spec.name.as_str(), value));
    }
    let (_, body) = documents(component)?;
    interpolate(&body, &values).map_err(fail)
}

fn check(spec: &InputSpec, value: &InputValue) -> Result<(), String> {
    let name = &spec.name;
    if value.input_type() != spec.input_type {
        return Err(format!(
            "input `{name}` must be a {}, not a {}",
            spec.input_type,
            value.input_type()
        ));
    }
    let Some(text) = value.text() else {
        return Ok(());
    };
    if !spec.options.is_empty() && !spec.options.iter().any(|o| o == text) {
        return Err(format!(
            "input `{name}` must be one of {}",
            spec.options.join(", ")
        ));
    }
    if let Some(pattern) = &spec.regex {
        let regex = Regex::new(pattern)
            .map_err(|err| format!("input `{name}` has an invalid regex: {err}"))?;
        if !regex.is_match(text) {
            return Err(format!("input `{name}` must match /{pattern}/"));
        }
    }
    Ok(())
}

/// The component's two documents: the `spec` header and the jobs.
fn documents(component: Component) -> Result<(Node, Node), RenderError> {
    let path = Path::new("templates").join(format!("{}.yml", component.name));
    let fail = |message: String| RenderError {
        component: component.name,
        message,
    };
    let documents = ci::parse(component.source, &path, 0).map_err(|err| fail(err.to_string()))?;
    match <[Node; 2]>::try_from(documents) {
        Ok([spec, body]) => Ok((spec, body)),
        Err(documents) => Err(fail(format!(
            "has {} YAML documents; a component has two: `spec` and its jobs",
            documents.len()
        ))),
    }
}

/// The marker GitLab interpolates inputs with.
const OPEN: &str = "$[[";
const CLOSE: &str = "]]";

fn interpolate(node: &Node, values: &[(&str, InputValue)]) -> Result<Node, String> {
    let value = match &node.value {
        Value::Null => Value::Null,
        Value::Scalar(Scalar::Str(text)) => match whole_placeholder(text, values)? {
            Some(value) => value.to_value(node.at),
            None => Value::Scalar(Scalar::Str(substitute(text, values)?.into())),
        },
        Value::Scalar(scalar) => Value::Scalar(scalar.clone()),
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|item| interpolate(item, values))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|entry| {
                    Ok(Entry {
                        key: substitute(&entry.key, values)?.into(),
                        key_at: entry.key_at,
                        value: interpolate(&entry.value, values)?,
                    })
                })
                .collect::<Result<_, String>>()?,
        ),
    };
    Ok(node.with_value(value))
}

/// The input a string consists of, when it is one placeholder and nothing else.
fn whole_placeholder<'v>(
    text: &str,
    values: &'v [(&str, InputValue)],
) -> Result<Option<&'v InputValue>, String> {
    let Some(inner) = text
        .strip_prefix(OPEN)
        .and_then(|rest| rest.strip_suffix(CLOSE))
    else {
        return Ok(None);
    };
    if inner.contains(CLOSE) {
        return Ok(None);
    }
    lookup(inner, values).map(Some)
}

/// `text` with every placeholder replaced by its input's text.
fn substitute(text: &str, values: &[(&str, InputValue)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let end = after
            .find(CLOSE)
            .ok_or_else(|| format!("`{OPEN}` without `{CLOSE}` in `{text}`"))?;
        let value = lookup(&after[..end], values)?;
        let value_text = value.text().ok_or_else(|| {
            format!("`{text}` puts a list input inside a string; a list must be a whole value")
        })?;
        out.push_str(value_text);
        rest = &after[end + CLOSE.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup<'v>(inner: &str, values: &'v [(&str, InputValue)]) -> Result<&'v InputValue, String> {
    let name = inner
        .trim()
        .strip_prefix("inputs.")
        .ok_or_else(|| format!("`{OPEN}{inner}{CLOSE}` does not name an input"))?;
    values
        .iter()
        .find(|(input, _)| *input == name)
        .map(|(_, value)| value)
        .ok_or_else(|| format!("`{OPEN}{inner}{CLOSE}` names no input of the spec"))
}

impl fmt::Display for InputType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputType::String => "string",
            InputType::Boolean => "boolean",
            InputType::Number => "number",
            InputType::Array => "array",
        })
    }
}
