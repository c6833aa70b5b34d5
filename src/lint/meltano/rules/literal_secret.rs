//! `meltano-literal-secret`: a value typed into `meltano.yml` for a sensitive setting or a
//! credential-named key, in a plugin's `config:` (plugin, mapping or environment level), a
//! setting's default `value:`, or an `env:` block.

use super::{Context, has_reference, is_placeholder};
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::meltano::project::leaves;
use crate::lint::meltano::tree::{Node, Scalar, Value};
use crate::meltano::to_env_var;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: true,
    id: "meltano-literal-secret",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "A sensitive Meltano setting or credential-named key has a literal value in meltano.yml",
    why: "Meltano.yml is committed: everyone who can read the repository, its forks and its \
          history has the credential, and no CI/CD variable protection applies to it",
    fix: "Rotate the credential, remove the value and let Meltano read it from the setting's \
          environment variable (e.g. TAP_X_PASSWORD), set as a protected, masked CI/CD variable; \
          or reference one with `${VAR}`",
};

/// Name endings that say a key holds where a credential is, or how it is used, not the
/// credential itself (`private_key_path`, `token_type`, ...).
const NOT_SECRET_ENDINGS: &[&str] = &[
    "_PATH",
    "_FILE",
    "_FILENAME",
    "_FILEPATH",
    "_LOCATION",
    "_DIR",
    "_TYPE",
    "_METHOD",
    "_ENV",
    "_VAR",
    "_NAME",
    "_ID",
    "_URL",
    "_URI",
    "_ENABLED",
    "_EXPIRES_IN",
    "_EXPIRY",
];

pub fn check(ctx: &Context<'_>, findings: &mut Vec<Finding>) {
    for block in &ctx.project.configs {
        for leaf in leaves(block.node, &block.logical, "") {
            let declared =
                ctx.project
                    .is_sensitive(block.plugin_type, block.plugin_name, &leaf.setting);
            // By name, only the key itself counts: `credentials.client_email` is not a secret.
            let key = leaf.setting.rsplit('.').next().unwrap_or_default();
            let named = !declared && is_credential_name(ctx, &to_env_var(&[key]));
            if (declared || named) && is_literal(leaf.node, declared) {
                let why = if declared {
                    "a sensitive setting"
                } else {
                    "credential-named"
                };
                let message = format!(
                    "setting `{}` of {} is {why} and has a literal value",
                    leaf.setting, block.plugin_name
                );
                findings.push(
                    ctx.finding(&RULE, leaf.node, &leaf.logical, message)
                        .with_confidence(confidence(declared)),
                );
            }
        }
    }
    for default in &ctx.project.defaults {
        let declared =
            ctx.project
                .is_sensitive(default.plugin_type, default.plugin_name, default.setting);
        let named = !declared && is_credential_name(ctx, &to_env_var(&[default.setting]));
        if (declared || named) && is_literal(default.node, declared) {
            let message = format!(
                "setting `{}` of {} has a literal default value",
                default.setting, default.plugin_name
            );
            findings.push(
                ctx.finding(&RULE, default.node, &default.logical, message)
                    .with_confidence(confidence(declared)),
            );
        }
    }
    for block in &ctx.project.envs {
        for entry in block.node.entries().unwrap_or_default() {
            let (name, node) = (&entry.key, &entry.value);
            let declared = ctx.project.is_sensitive_variable(name);
            if (declared || is_credential_name(ctx, name)) && is_literal(node, declared) {
                let logical = format!("{}.{name}", block.logical);
                let message =
                    format!("variable `{name}` holds a credential and has a literal value");
                findings.push(
                    ctx.finding(&RULE, node, &logical, message)
                        .with_confidence(confidence(declared)),
                );
            }
        }
    }
}

/// Certain for a setting the plugin declares sensitive, likely for a name that only looks like one.
fn confidence(declared: bool) -> Confidence {
    if declared {
        Confidence::High
    } else {
        Confidence::Medium
    }
}

fn is_credential_name(ctx: &Context<'_>, name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ctx.knowledge.is_credential(name) && !NOT_SECRET_ENDINGS.iter().any(|end| upper.ends_with(end))
}

/// Whether `node` is a value in clear: not a reference, a placeholder, a URI (the
/// `meltano-uri-with-password` rule judges those) or, for a key that is only credential-named,
/// a file path or a number.
fn is_literal(node: &Node, declared: bool) -> bool {
    match &node.value {
        Value::Scalar(Scalar::Str(text)) => {
            !has_reference(text)
                && !is_placeholder(text)
                && !text.contains("://")
                && (declared || !looks_like_path(text))
        }
        Value::Scalar(Scalar::Number(_)) => declared,
        Value::Null | Value::Scalar(Scalar::Bool(_)) | Value::Seq(_) | Value::Map(_) => false,
    }
}

fn looks_like_path(text: &str) -> bool {
    ["/", "./", "../", "~/"]
        .iter()
        .any(|start| text.starts_with(start))
        && !text.contains(' ')
}

#[cfg(test)]
mod tests {
    use crate::lint::meltano::tests::fired;

    #[test]
    fn fires_on_sensitive_and_credential_named_literals() {
        let yaml = r#"
plugins:
  extractors:
  - name: tap-x
    settings:
    - name: auth.key
      kind: password
    - name: pin
      sensitive: true
    - name: api_secret
      value: default-s3cret
    - name: rows
      value: 100
    config:
      auth:
        key: k3y-in-clear
      pin: 12345
      api_token: abcdef123456
      private_key_path: /secrets/key.p8
      token_type: bearer
      user: meltano
      credentials:
        client_email: etl@example.iam
        private_key: "-----BEGIN PRIVATE KEY-----"
environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-x
        config:
          pin: 99881
          password: ${TAP_X_PASSWORD}
  env:
    TAP_X_PIN: '4242'
    DB_PASSWORD: hunter2-but-longer
    DB_PASSWORD_FILE: /run/secrets/db
"#;
        assert_eq!(
            fired(yaml, "meltano-literal-secret"),
            [
                "11:plugins.extractors[tap-x].settings[api_secret].value",
                "16:plugins.extractors[tap-x].config.auth.key",
                "17:plugins.extractors[tap-x].config.pin",
                "18:plugins.extractors[tap-x].config.api_token",
                "24:plugins.extractors[tap-x].config.credentials.private_key",
                "32:environments[prod].config.plugins.extractors[tap-x].config.pin",
                "35:environments[prod].env.TAP_X_PIN",
                "36:environments[prod].env.DB_PASSWORD",
            ]
        );
    }

    #[test]
    fn quiet_on_references_placeholders_and_plain_settings() {
        let yaml = r#"
plugins:
  loaders:
  - name: target-x
    config:
      password: $TARGET_X_PASSWORD
      api_token: ''
      secret: changeme
      client_secret: <client secret>
      user: admin
      token_url: https://example.com/token
      use_password: true
"#;
        assert!(fired(yaml, "meltano-literal-secret").is_empty());
    }
}
