//! `credential-on-command-line`: a credential in a URL's userinfo or as a flag's value, where
//! process lists, shell traces and error messages show it.

use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::{Context, is_job_scoped_token};
use crate::lint::ci::shell::{Command, expanded_variables};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "credential-on-command-line",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    summary: "A credential is passed on a command line",
    why: "Command-line arguments are visible to every process on the runner host (`ps`), are printed by shell tracing, and are echoed by tools in error messages and verbose output; a credential in a URL also ends up in tool logs and `git remote -v`.",
    fix: "Pass the credential on standard input (`--password-stdin`), in an environment variable the tool reads, or in a file with restricted permissions (`.netrc`, a credential helper).",
};

/// Short flags whose value is a secret; longer ones are recognised by their names
/// (`--docker-password`, `-apiKey`: see [`names_credential`]).
const SECRET_FLAGS: &[&str] = &["-p", "--pass", "--pw"];

/// Name endings that say the value is where a secret is or something about it, not the secret
/// (`--password-stdin`, `--token-file`, `token_ttl`).
const NOT_A_VALUE: &[&str] = &[
    "_STDIN", "_FILE", "_PATH", "_DIR", "_ENV", "_COMMAND", "_CMD", "_HELPER", "_PROMPT", "_TTL",
    "_TIMEOUT", "_EXPIRY", "_LIFETIME", "_LENGTH", "TOKEN_URL", "TOKEN_ENDPOINT",
];

/// Header flags of HTTP clients.
const HEADER_FLAGS: &[&str] = &["-H", "--header"];

/// Headers that carry a credential whatever their name says.
const CREDENTIAL_HEADERS: &[&str] = &["AUTHORIZATION", "PROXY_AUTHORIZATION", "COOKIE"];

const USER_FLAGS: &[&str] = &["-u", "--user"];

/// Programs whose arguments are not a command line another process sees (builtins), or that
/// set variables.
const PRINTERS: &[&str] = &[
    "echo", "printf", "export", "set", "declare", "typeset", "local", "readonly", "test", "[", "env",
];

/// A credential variable `text` expands, if any.
fn credential_in<'t>(cx: &Context<'_>, text: &'t str) -> Option<&'t str> {
    expanded_variables(text)
        .into_iter()
        .find(|n| cx.is_credential(n))
}

/// A variable `text` expands that is not one of the runner's job tokens: the value of something
/// named a credential is one, whatever the variable is called.
fn variable_in(text: &str) -> Option<&str> {
    expanded_variables(text).into_iter().find(|name| {
        let upper = name.to_ascii_uppercase();
        !is_job_scoped_token(name)
            && !FILE_PATH_VARIABLES.contains(&upper.as_str())
            && !NOT_A_VALUE.iter().any(|suffix| upper.ends_with(suffix))
    })
}

/// Variables that by their documented meaning hold the path of a credential file, not one.
const FILE_PATH_VARIABLES: &[&str] = &[
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AWS_SHARED_CREDENTIALS_FILE",
    "KUBECONFIG",
    "DOCKER_CONFIG",
];

/// `SCREAMING_SNAKE` of a flag, key or header name: `--docker-password`, `-apiKey`,
/// `db.password`, `PRIVATE-TOKEN` become `DOCKER_PASSWORD`, `API_KEY`, `DB_PASSWORD`,
/// `PRIVATE_TOKEN`.
fn screaming_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.trim_start_matches('-').chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

/// Words that make a flag, key or header name a credential's (`--docker-password`, `-apiKey`):
/// whole words, so that `-Dsndfile` is not taken for a DSN.
const CREDENTIAL_WORDS: &[&str] = &[
    "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL",
    "CREDENTIALS", "DSN",
];

/// Two words that together name a credential (`api_key`, `privateKey`).
const CREDENTIAL_PAIRS: &[(&str, &str)] = &[
    ("API", "KEY"),
    ("PRIVATE", "KEY"),
    ("ACCESS", "KEY"),
    ("SECRET", "KEY"),
    ("AUTH", "KEY"),
];

/// Whether a flag, key or header name says its value is a credential.
pub fn names_credential(name: &str) -> bool {
    let name = screaming_snake(name);
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let named = words.iter().any(|w| CREDENTIAL_WORDS.contains(w))
        || words
            .windows(2)
            .any(|pair| CREDENTIAL_PAIRS.contains(&(pair[0], pair[1])));
    named && !NOT_A_VALUE.iter().any(|suffix| name.ends_with(suffix))
}

/// The variable in `value` that makes flag `flag` expose a credential: any variable for a flag
/// named a credential, only a credential's for the short ones (`-p` is also a port, a path).
fn flag_value<'v>(cx: &Context<'_>, flag: &str, value: &'v str) -> Option<&'v str> {
    if SECRET_FLAGS.contains(&flag) {
        credential_in(cx, value)
    } else if flag.starts_with('-') && names_credential(flag) {
        variable_in(value)
    } else {
        None
    }
}

/// How `command` puts a credential on its command line: the variable and where.
fn exposure(cx: &Context<'_>, command: &Command) -> Option<String> {
    if command.is(PRINTERS) {
        return None;
    }
    let args = command.args();
    for (index, arg) in args.iter().enumerate() {
        let text = arg.text;
        if let Some(userinfo) = url_userinfo(text)
            && let Some(name) = credential_in(cx, userinfo)
        {
            return Some(format!("`{name}` in a URL's userinfo"));
        }
        let next = args.get(index + 1).map(|w| w.text);
        if let Some((flag, value)) = text.split_once('=') {
            if let Some(name) = flag_value(cx, flag, value) {
                return Some(format!("`{name}` as the value of `{flag}`"));
            }
            // `--set db.password=$X`, `-e registry_password=$X`, `--build-arg TOKEN=$X`.
            let key = flag.rsplit(['.', '/']).next().unwrap_or(flag);
            if !flag.starts_with('-')
                && names_credential(key)
                && let Some(name) = variable_in(value)
            {
                let build_arg = index > 0 && args.get(index - 1).is_some_and(|w| w.text == "--build-arg");
                return Some(if build_arg {
                    format!("`{name}` as build argument `{flag}`, which the image's history keeps")
                } else {
                    format!("`{name}` as `{flag}=`")
                });
            }
        }
        if let Some(name) = next.and_then(|value| flag_value(cx, text, value)) {
            return Some(format!("`{name}` as the value of `{text}`"));
        }
        if HEADER_FLAGS.contains(&text)
            && let Some((header, value)) = next.and_then(|n| n.split_once(':'))
            && (CREDENTIAL_HEADERS.contains(&screaming_snake(header.trim()).as_str())
                || names_credential(header.trim()))
            && let Some(name) = variable_in(value)
        {
            return Some(format!("`{name}` in header `{}`", header.trim()));
        }
        if let Some(attached) = text.strip_prefix("-p")
            && attached.starts_with('$')
            && let Some(name) = credential_in(cx, attached)
        {
            return Some(format!("`{name}` as the value of `-p`"));
        }
        if USER_FLAGS.contains(&text)
            && let Some(name) = next
                .and_then(|n| n.split_once(':'))
                .and_then(|(_, password)| credential_in(cx, password))
        {
            return Some(format!("`{name}` as the password of `{text}`"));
        }
    }
    None
}

/// The userinfo of a URL in `text` (`user:password` of `https://user:password@host`).
pub fn url_userinfo(text: &str) -> Option<&str> {
    let (_, rest) = super::split_scheme(text)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    Some(userinfo)
}

/// Reports each command with a credential on its command line.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for command in cx.script_commands() {
        if let Some(how) = exposure(cx, &command.command) {
            let program = command.command.program().unwrap_or_default();
            let message = format!("{}: `{program}` gets {how}", command.job.title());
            out.push(cx.command_finding(&RULE, &command, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_userinfo() {
        assert_eq!(url_userinfo("https://u:$PW@host/x"), Some("u:$PW"));
        assert_eq!(url_userinfo("https://host/a@b"), None);
        assert_eq!(url_userinfo("no url"), None);
    }
}
