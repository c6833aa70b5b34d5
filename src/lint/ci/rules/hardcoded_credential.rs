//! `hardcoded-credential`: a literal credential in the file, as the value of a credential-named
//! variable, in a URL's userinfo, or anything ciguard's secret detectors recognise.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::all_variables;
use super::credential_on_command_line::{names_credential, url_userinfo};
use crate::credentials::LOCAL_HOSTS;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::lint::ci::shell;
use crate::scrub::{Matcher, MatcherBuilder};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: true,
    id: "hardcoded-credential",
    severity: Severity::Critical,
    confidence: Confidence::Medium,
    summary: "A credential is written into the pipeline file",
    why: "Everything in the repository is readable by everyone with access to it, forks and clones included, and stays in the Git history after it is removed. A credential there is exposed now.",
    fix: "Revoke the credential, then store the new one as a protected, masked (and hidden) CI/CD variable and refer to it by name (`$NAME`).",
};

/// ciguard's secret detectors, without any known secret.
static DETECTORS: LazyLock<Matcher> = LazyLock::new(|| MatcherBuilder::new().build());

/// What replaces a `$NAME` reference before the detectors run; they take it for a placeholder.
const REFERENCE_STAND_IN: &str = "xxxx";

/// Values that stand for a credential rather than being one.
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "replaceme",
    "replace_me",
    "example",
    "placeholder",
    "dummy",
    "redacted",
    "[masked]",
    "todo",
    "fixme",
    "secret",
    "password",
    "passwd",
    "token",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "yes",
    "no",
    "empty",
    "unset",
    "notset",
];

/// Default passwords of throwaway service containers: reported with low confidence.
const SERVICE_DEFAULTS: &[&str] = &[
    "postgres", "mysql", "root", "admin", "test", "testing", "guest",
];

/// Whether `value` is a throwaway service password (`postgres`, `testing-password`).
fn looks_like_test_value(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    SERVICE_DEFAULTS.contains(&lower.as_str())
        || ["test", "demo", "example", "sample", "local"]
            .iter()
            .any(|word| lower.contains(word))
}

/// How secret managers' references start (`vault:path/to#KEY`, `op://vault/item/field`,
/// `ref+awssecrets://...`, an AWS ARN): a pointer to a credential, not one.
const SECRET_REFERENCES: &[&str] = &[
    "vault:",
    "op://",
    "ref+",
    "arn:aws:secretsmanager:",
    "arn:aws:ssm:",
    "gcpsm://",
    "awssm://",
    "akv://",
    "azurekv://",
    "doppler://",
    "infisical://",
];

/// Whether a `DOCKER_AUTH_CONFIG` value holds registry credentials written out: an `"auth"`
/// (base64 of `user:password`) or `"password"` that is not a `$VARIABLE`.
fn literal_registry_auth(value: &str) -> bool {
    let Ok(config) = serde_json::from_str::<serde_json::Value>(value) else {
        return false;
    };
    let auths = config.get("auths").and_then(serde_json::Value::as_object);
    auths.into_iter().flatten().any(|(_, entry)| {
        ["auth", "password", "identitytoken"].iter().any(|key| {
            entry
                .get(key)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|secret| !is_placeholder(secret))
        })
    })
}

/// Whether `value` is a placeholder, a reference or not a credential at all.
fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    let mut chars = value.chars();
    let first = chars.next();
    value.is_empty()
        || value.contains('$')
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with("{{") && value.ends_with("}}"))
        || first.is_some_and(|f| chars.all(|c| c == f))
        || PLACEHOLDERS.contains(&lower.as_str())
        || lower.starts_with("your")
        || lower.contains("changeme")
        || lower.contains("xxxx")
        || SECRET_REFERENCES.iter().any(|r| lower.starts_with(r))
        || value.starts_with('/')
        || value.starts_with("./")
        || value.starts_with("~/")
}

/// The 0-based line of `text` where a detector recognises a secret, `$VAR` references and the
/// passwords of throwaway hosts aside.
fn detected_secret(text: &str, services: &[String]) -> Option<usize> {
    if !DETECTORS.may_change(text.as_bytes()) {
        return None;
    }
    let literal = without_throwaway_userinfo(&without_references(text), services);
    let scrubbed = DETECTORS.scrub_all(literal.as_bytes());
    if scrubbed == literal.as_bytes() {
        return None;
    }
    let same = literal
        .bytes()
        .zip(scrubbed.iter())
        .take_while(|(a, b)| a == *b)
        .count();
    // What the first mask replaced: a reference's stand-in is not a secret.
    let unchanged_after = scrubbed
        .len()
        .saturating_sub(same + crate::scrub::MASK.len());
    let masked_end = literal.len().saturating_sub(unchanged_after).max(same);
    if literal
        .get(same..masked_end)
        .is_some_and(|masked| masked.contains(REFERENCE_STAND_IN))
    {
        return None;
    }
    Some(
        literal.as_bytes()[..same]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    )
}

/// `text` with every `$NAME` and `${...}` replaced by `xxxx`, which the detectors take for a
/// placeholder, so a reference is not taken for a secret.
fn without_references(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        out.push_str(REFERENCE_STAND_IN);
        let after = &rest[at + 1..];
        let skipped = if let Some(braced) = after.strip_prefix('{') {
            braced.find('}').map_or(after.len(), |end| end + 2)
        } else {
            after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len())
        };
        rest = &after[skipped..];
    }
    out.push_str(rest);
    out
}

/// `text` with the userinfo of each URL to a throwaway host (see [`literal_url_password`])
/// replaced by the stand-in the detectors take for a placeholder.
fn without_throwaway_userinfo(text: &str, services: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, url) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = url.find(['/', '?', '#', ' ', '"', '\'', '\n']).unwrap_or(url.len());
        let authority = &url[..authority_end];
        match authority.rsplit_once('@') {
            Some((_, host)) if is_throwaway_host(host, services) => {
                out.push_str(REFERENCE_STAND_IN);
                out.push('@');
                out.push_str(host);
            }
            _ => out.push_str(authority),
        }
        rest = &url[authority_end..];
    }
    out.push_str(rest);
    out
}

/// Whether `host_port` is a service container of the pipeline or the runner's own machine.
fn is_throwaway_host(host_port: &str, services: &[String]) -> bool {
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    }
    .to_ascii_lowercase();
    LOCAL_HOSTS.contains(&host.as_str()) || services.contains(&host)
}

/// Whether a URL in `text` carries a literal password for a host that is not a throwaway
/// container of the job (`services:`) or the runner's own machine.
fn literal_url_password(text: &str, services: &[String]) -> bool {
    !is_throwaway_host(url_host(text).unwrap_or_default(), services)
        && url_userinfo(text)
            .and_then(|userinfo| userinfo.split_once(':'))
            .is_some_and(|(_, password)| !is_placeholder(password))
}


/// The host (and port) of the first URL in `text`.
fn url_host(text: &str) -> Option<&str> {
    let (_, rest) = super::split_scheme(text)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(authority.rsplit_once('@').map_or(authority, |(_, host)| host))
}

/// Whether variable `name` configures a service container (`POSTGRES_PASSWORD` with a
/// `postgres` service): the container is created for the job and thrown away with it.
fn configures_service(name: &str, services: &[String]) -> bool {
    let prefix = name.split('_').next().unwrap_or_default().to_ascii_lowercase();
    services.iter().any(|host| {
        host.rsplit(['-', '_']).next().unwrap_or(host) == prefix || host == &prefix
    })
}

/// Reports literal credentials in `variables:` and in scripts.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let services = cx.service_hosts();
    for (variable, path) in all_variables(cx) {
        let Some(value) = variable.value.as_deref() else {
            continue;
        };
        let named = cx.is_credential(&variable.name)
            && !is_placeholder(value)
            && !looks_like_test_value(value)
            && !configures_service(&variable.name, services);
        let is_url = value.contains("://");
        let confidence = if detected_secret(value, services).is_some()
            || variable.name == "DOCKER_AUTH_CONFIG" && literal_registry_auth(value)
        {
            Confidence::High
        } else if is_url && literal_url_password(value, services) {
            Confidence::Medium
        } else if named && !is_url {
            if value.len() < 8 {
                Confidence::Low
            } else {
                Confidence::Medium
            }
        } else {
            continue;
        };
        let message = format!(
            "variable `{}` has a literal credential as its value",
            variable.name
        );
        out.push(
            cx.finding(&RULE, variable.value_at, value, path.logical(&variable.name), message)
                .with_confidence(confidence),
        );
    }
    for job in cx.all_jobs() {
        // The first literal credential of each script line, from the commands scanned once.
        let mut literal_at: HashMap<(&str, usize), usize> = HashMap::new();
        for command in cx.commands_of(job) {
            if let Some(word) = literal_word(cx, &command.command, services) {
                literal_at
                    .entry((command.line.section, command.line.index))
                    .or_insert(word.offset);
            }
        }
        for line in job.script_lines() {
            let found = detected_secret(line.text, services)
                .map(|index| (index, Confidence::High))
                .or_else(|| {
                    literal_at
                        .get(&(line.section, line.index))
                        .map(|&offset| (line_of(line.text, offset), Confidence::Medium))
                });
            if let Some((line_index, confidence)) = found {
                let needle = line.text.lines().nth(line_index).unwrap_or_default();
                let logical = line.logical(&job.name);
                let message = format!("{}: a script line holds a literal credential", job.title());
                out.push(
                    cx.finding(&RULE, line.at, needle.trim(), logical, message)
                        .with_confidence(confidence),
                );
            }
        }
    }
}

/// The word of `command` that holds a literal credential: an assignment to a credential
/// variable, a credential flag's value, a URL with a password.
fn literal_word<'s>(
    cx: &Context<'_>,
    command: &shell::Command<'s>,
    services: &[String],
) -> Option<shell::Word<'s>> {
    let declares = command.is(&["export", "declare", "typeset", "local"]);
    let assignments = command
        .assignments()
        .iter()
        .chain(command.args().iter().filter(|_| declares));
    for word in assignments {
        if let Some((name, value)) = word.text.split_once('=')
            && cx.is_credential(name)
            && !is_placeholder(value)
            && !looks_like_test_value(value)
            && !configures_service(name, services)
        {
            return Some(word);
        }
    }
    literal_flag_value(command).or_else(|| {
        command
            .words()
            .iter()
            .find(|w| literal_url_password(w.text, services))
    })
}

/// MySQL's clients, which take the password attached to `-p`.
const MYSQL_CLIENTS: &[&str] = &["mysql", "mysqldump", "mysqladmin", "mysqlimport", "mariadb", "mariadb-dump"];

/// The word that holds a literal credential as a flag's value: `mysql -pLITERAL`,
/// `--api-key=LITERAL`, `--docker-password LITERAL`.
fn literal_flag_value<'s>(command: &shell::Command<'s>) -> Option<shell::Word<'s>> {
    let literal = |value: &str| {
        !value.is_empty() && !value.starts_with('-') && !is_placeholder(value) && !looks_like_test_value(value)
    };
    let args = command.args();
    args.iter().enumerate().find_map(|(index, word)| {
        let text = word.text;
        if command.is(MYSQL_CLIENTS) && text.strip_prefix("-p").is_some_and(literal) {
            return Some(word);
        }
        if !text.starts_with('-') {
            return None;
        }
        match text.split_once('=') {
            Some((flag, value)) => (names_credential(flag) && literal(value)).then_some(word),
            None => args
                .get(index + 1)
                .filter(|next| names_credential(text) && literal(next.text)),
        }
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |t| t.matches('\n').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_not_credentials() {
        for value in [
            "",
            "$DB_PASSWORD",
            "${TOKEN}",
            "<your token>",
            "xxx",
            "***",
            "changeme",
            "CHANGE_ME",
            "{{ secret }}",
        ] {
            assert!(is_placeholder(value), "{value}");
        }
        assert!(!is_placeholder("s3cr3t-Hunter2"));
    }

    #[test]
    fn detectors_find_known_token_shapes() {
        assert!(detected_secret("token glpat-abcdefghijklmnopqrst", &[]).is_some());
        assert!(detected_secret("nothing here", &[]).is_none());
        assert!(detected_secret("git clone https://u:${CI_PW}@host/x", &[]).is_none());
        assert_eq!(detected_secret("a\nb https://u:hunter22@db/x", &[]), Some(1));
        assert!(detected_secret(r#"echo \"password=${CI_JOB_TOKEN}\""#, &[]).is_none());
    }
}
