//! `meltano-committed-hash-seed`: the key of a pseudonymisation committed in `meltano.yml` (a
//! literal `hash_seed`, a literal salt inside a stream-map hash expression, or a literal
//! `stream_map_config` value a hash expression reads), or a stream map that hashes a field with
//! no key at all.

use std::collections::BTreeSet;

use super::{Context, has_reference, is_placeholder};
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::meltano::project::leaves;
use crate::lint::meltano::tree::{Node, Scalar, Value};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: true,
    id: "meltano-committed-hash-seed",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "The secret of a pseudonymising stream map is committed in meltano.yml, or there is none",
    why: "A hash of a personal field protects it only while its key is secret: with the seed in the \
          repository (or no seed), anyone can hash candidate e-mails or names and re-identify \
          every row in the warehouse",
    fix: "Rotate the seed and keep it out of the file (`hash_seed: ${HASH_SEED}` from a protected, \
          masked CI/CD variable); better, replace the stream map with `ciguard pseudonymize` \
          between tap and target, which uses keyed HMAC with a key read from the environment",
};

/// Calls that hash their argument in Singer SDK stream-map expressions.
const HASH_CALLS: &[&str] = &["md5(", "sha1(", "sha256(", "sha512(", "hashlib."];

pub fn check(ctx: &Context<'_>, findings: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    for leaf in leaves(ctx.project.root, "", "") {
        let key = leaf.setting.rsplit('.').next().unwrap_or_default();
        if key.eq_ignore_ascii_case("hash_seed") && is_literal(leaf.node) {
            seen.insert((leaf.node.at.line, leaf.node.at.column));
            let message = format!("`{}` is a hash seed committed in clear", leaf.logical);
            findings.push(ctx.finding(&RULE, leaf.node, &leaf.logical, message));
        }
    }
    for (logical, owner) in stream_map_owners(ctx.project.root, "") {
        let map_config = owner.get("stream_map_config");
        for stream_map in owner
            .get("stream_maps")
            .and_then(Node::entries)
            .unwrap_or_default()
        {
            let stream = &stream_map.key;
            for field in stream_map.value.entries().unwrap_or_default() {
                let (property, expression) = (&field.key, &field.value);
                let Some(text) = expression.as_string_scalar() else {
                    continue;
                };
                if !HASH_CALLS.iter().any(|call| text.contains(call)) {
                    continue;
                }
                let at = format!("{logical}stream_maps.{stream}.{property}");
                let keys = config_keys(text);
                let committed: Vec<(&str, &Node)> = map_config
                    .and_then(Node::entries)
                    .unwrap_or_default()
                    .iter()
                    .filter(|e| keys.contains(e.key.as_str()) && is_literal(&e.value))
                    .map(|e| (e.key.as_str(), &e.value))
                    .collect();
                for (key, value) in &committed {
                    if seen.insert((value.at.line, value.at.column)) {
                        let place = format!("{logical}stream_map_config.{key}");
                        let message =
                            format!("`{place}` keys the hash in `{at}` and is committed in clear");
                        findings.push(ctx.finding(&RULE, value, &place, message));
                    }
                }
                if has_literal_salt(text) {
                    let message = format!("`{at}` hashes with a salt written into the expression");
                    findings.push(ctx.finding(&RULE, expression, &at, message));
                } else if keys.is_empty() {
                    let message =
                        format!("`{at}` hashes a field with no secret key: it can be reversed");
                    // A weakness of the pseudonymisation rather than a committed secret.
                    findings.push(
                        ctx.finding(&RULE, expression, &at, message)
                            .with_severity(Severity::Medium)
                            .with_confidence(Confidence::Medium),
                    );
                }
            }
        }
    }
}

/// Mappings that hold `stream_maps:`, with the logical path prefix of their keys.
fn stream_map_owners<'a>(node: &'a Node, logical: &str) -> Vec<(String, &'a Node)> {
    let mut found = Vec::new();
    if node.get("stream_maps").is_some() {
        found.push((logical.to_owned(), node));
    }
    match &node.value {
        Value::Map(entries) => {
            for entry in entries {
                let key = &entry.key;
                found.extend(stream_map_owners(&entry.value, &format!("{logical}{key}.")));
            }
        }
        Value::Seq(items) => {
            for (index, child) in items.iter().enumerate() {
                let label = child
                    .get("name")
                    .and_then(Node::as_string_scalar)
                    .map_or_else(|| index.to_string(), str::to_owned);
                let prefix = logical.strip_suffix('.').unwrap_or(logical);
                found.extend(stream_map_owners(child, &format!("{prefix}[{label}].")));
            }
        }
        Value::Null | Value::Scalar(_) => {}
    }
    found
}

fn is_literal(node: &Node) -> bool {
    match &node.value {
        Value::Scalar(Scalar::Str(text)) => !has_reference(text) && !is_placeholder(text),
        Value::Scalar(Scalar::Number(_)) => true,
        Value::Null | Value::Scalar(Scalar::Bool(_)) | Value::Seq(_) | Value::Map(_) => false,
    }
}

/// The string literals of an expression, each with whether it is a subscript or `.get(` key
/// (`record['email']`, `config.get('seed')`) rather than a value.
fn string_literals(expression: &str) -> Vec<(&str, bool)> {
    let mut found = Vec::new();
    let mut rest = expression;
    let mut consumed = 0;
    while let Some(start) = rest.find(['\'', '"']) {
        let quote = &rest[start..=start];
        let after = &rest[start + 1..];
        let Some(len) = after.find(quote) else { break };
        let before = expression[..consumed + start].trim_end();
        let is_key = before.ends_with('[') || before.ends_with("get(");
        found.push((&after[..len], is_key));
        let next = start + 1 + len + 1;
        consumed += next;
        rest = &rest[next..];
    }
    found
}

/// The `config` keys an expression reads (`config['hash_seed']`, `config.get("seed")`).
fn config_keys(expression: &str) -> BTreeSet<&str> {
    let mut keys = BTreeSet::new();
    let mut from = 0;
    while let Some(at) = expression[from..].find("config") {
        let start = from + at + "config".len();
        let tail = expression[start..].trim_start();
        let tail = tail
            .strip_prefix('[')
            .or_else(|| tail.strip_prefix(".get("))
            .map(str::trim_start);
        if let Some(tail) = tail
            && let Some((key, _)) = string_literals(tail).first()
        {
            keys.insert(*key);
        }
        from = start;
    }
    keys
}

/// Whether a hash expression holds a quoted value that is not a field or config key.
fn has_literal_salt(expression: &str) -> bool {
    string_literals(expression)
        .iter()
        .any(|(text, is_key)| !is_key && !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::meltano::tests::fired;

    #[test]
    fn reads_expressions() {
        assert_eq!(
            config_keys("md5(config['hash_seed'] + record['email'])"),
            BTreeSet::from(["hash_seed"])
        );
        assert_eq!(
            config_keys("sha256(config.get(\"k\") + x)"),
            BTreeSet::from(["k"])
        );
        assert!(has_literal_salt("md5('pepper' + email)"));
        assert!(!has_literal_salt("md5(record['email'])"));
        assert!(!has_literal_salt("md5(config['seed'] + email)"));
        assert!(!has_literal_salt("md5(email + '')"));
        assert!(!has_literal_salt("md5('unterminated"));
    }

    #[test]
    fn fires_on_committed_seeds_salts_and_unkeyed_hashes() {
        let yaml = r#"
plugins:
  mappers:
  - name: meltano-map-transformer
    mappings:
    - name: hash-emails
      config:
        stream_map_config:
          hash_seed: 01AWZh7A6DzGm6iJZZ2T
          pepper: s3cr3t-pepper
        stream_maps:
          customers:
            email: md5(config['hash_seed'] + email)
            phone: sha256(config['pepper'] + phone)
            name: md5('salty' + name)
            city: md5(city)
            id: id
    - name: keyed-by-env
      config:
        stream_map_config:
          hash_seed: ${HASH_SEED}
        stream_maps:
          customers:
            email: md5(config['hash_seed'] + email)
"#;
        let prefix = "plugins.mappers[meltano-map-transformer].mappings[hash-emails].config";
        assert_eq!(
            fired(yaml, "meltano-committed-hash-seed"),
            vec![
                format!("9:{prefix}.stream_map_config.hash_seed"),
                format!("10:{prefix}.stream_map_config.pepper"),
                format!("15:{prefix}.stream_maps.customers.name"),
                format!("16:{prefix}.stream_maps.customers.city"),
            ]
        );
    }
}
