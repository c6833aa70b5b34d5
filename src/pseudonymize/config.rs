//! The pseudonymizer's config file: YAML, or the JSON Meltano writes for a mapper (JSON is read
//! as YAML). Parsed, checked (unknown keys, conflicting paths, a key written into the file) and
//! turned into [`StreamRules`] per stream. Errors point at the line and column.

use std::collections::{BTreeMap, HashMap};

use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use super::hash::Normalize;
use super::rules::{Action, FieldPath, StreamRules, Unlisted};
use crate::diagnostic::FileError;

/// The `streams` entry that applies to every stream the config does not name.
pub const ANY_STREAM: &str = "*";

/// A checked config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The environment variable that holds the key.
    pub key_env: String,
    /// Written before each hash as `<key_id>:`, when set.
    pub key_id: Option<String>,
    streams: HashMap<String, StreamRules>,
    any_stream: Option<StreamRules>,
}

impl Config {
    /// The rules for `stream`: its own entry, else the `*` entry; `None` when neither exists
    /// (the stream passes unchanged).
    pub fn rules_for(&self, stream: &str) -> Option<&StreamRules> {
        self.streams.get(stream).or(self.any_stream.as_ref())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    key_env: Spanned<String>,
    #[serde(default)]
    key_id: Option<Spanned<String>>,
    #[serde(default)]
    streams: BTreeMap<String, Spanned<RawStream>>,
    /// Refused with an explanation: a key never belongs in a file.
    #[serde(
        default,
        alias = "hmac_key",
        alias = "secret",
        alias = "hash_seed",
        alias = "salt"
    )]
    key: Option<Spanned<IgnoredAny>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStream {
    #[serde(default)]
    hash: Vec<Spanned<String>>,
    #[serde(default)]
    drop: Vec<Spanned<String>>,
    #[serde(default)]
    keep: Vec<Spanned<String>>,
    #[serde(default)]
    normalize: BTreeMap<String, Normalize>,
    #[serde(default)]
    unlisted: Unlisted,
}

/// Reads and checks the config file at `path`.
pub fn load(path: &Path) -> Result<Config, FileError> {
    let text = std::fs::read_to_string(path).map_err(|err| FileError {
        path: path.to_owned(),
        position: None,
        reason: format!("cannot read the pseudonymize config: {err}"),
    })?;
    parse(&text).map_err(|(position, reason)| {
        let err = FileError::new(path, reason);
        match position {
            Some((line, column)) => err.at(line, column),
            None => err,
        }
    })
}

type Located = (Option<(u64, u64)>, String);

fn at(location: &serde_saphyr::Location) -> Option<(u64, u64)> {
    Some((location.line(), location.column()))
}

/// Parses and checks a config's text (YAML or JSON).
pub fn parse(text: &str) -> Result<Config, Located> {
    let raw: RawConfig = crate::yaml::deserialize(text).map_err(|err| {
        let what = crate::yaml::describe_error(&err);
        (
            err.location().and_then(|location| at(&location)),
            format!("invalid pseudonymize config: {what}; see docs/pseudonymize.md"),
        )
    })?;
    if let Some(key) = &raw.key {
        return Err((
            at(&key.referenced),
            "a key (or seed) must never be written in the config: put it in a masked, \
             protected CI/CD variable and name that variable in `key_env`"
                .to_owned(),
        ));
    }
    let key_env = raw.key_env.value;
    if !is_variable_name(&key_env) {
        return Err((
            at(&raw.key_env.referenced),
            format!(
                "`key_env` must name an environment variable (letters, digits and `_`, not \
                 starting with a digit), not `{key_env}`"
            ),
        ));
    }
    let key_id = match raw.key_id {
        Some(id) if !is_key_id(&id.value) => {
            return Err((
                at(&id.referenced),
                "`key_id` must be 1 to 32 letters, digits, `-` or `_` (it is written before \
                 each hash, followed by `:`)"
                    .to_owned(),
            ));
        }
        Some(id) => Some(id.value),
        None => None,
    };
    let mut streams = HashMap::new();
    let mut any_stream = None;
    for (name, stream) in raw.streams {
        let rules = stream_rules(stream.value)
            .map_err(|reason| (at(&stream.referenced), format!("stream `{name}`: {reason}")))?;
        if name == ANY_STREAM {
            any_stream = Some(rules);
        } else {
            streams.insert(name, rules);
        }
    }
    Ok(Config {
        key_env,
        key_id,
        streams,
        any_stream,
    })
}

fn stream_rules(raw: RawStream) -> Result<StreamRules, String> {
    let mut normalize = raw.normalize;
    let mut paths = Vec::new();
    for (list, action) in [
        (raw.hash, Action::Hash(None)),
        (raw.drop, Action::Drop),
        (raw.keep, Action::Keep),
    ] {
        for item in list {
            let path: FieldPath = item.value.parse()?;
            let action = match action {
                Action::Hash(_) => Action::Hash(normalize.remove(&item.value)),
                other => other,
            };
            paths.push((path, action));
        }
    }
    if let Some(path) = normalize.keys().next() {
        return Err(format!(
            "`normalize` names `{path}`, which is not in `hash`: only hashed fields are normalised"
        ));
    }
    StreamRules::new(paths, raw.unlisted).map_err(|err| err.to_string())
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
