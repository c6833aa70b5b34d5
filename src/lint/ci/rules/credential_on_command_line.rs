//! `credential-on-command-line`: a credential in a URL's userinfo or as a flag's value, where
//! process lists, shell traces and error messages show it.

use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::lint::ci::shell::{Command, Word, expanded_variables};

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

/// Flags whose value is a secret.
const SECRET_FLAGS: &[&str] = &[
    "-p",
    "--password",
    "--pass",
    "--passwd",
    "--pw",
    "--token",
    "--api-key",
    "--apikey",
    "--secret",
    "--client-secret",
    "--private-token",
    "--access-token",
    "--auth-token",
];

const USER_FLAGS: &[&str] = &["-u", "--user"];

const PRINTERS: &[&str] = &["echo", "printf", "export", "set", "declare", "test", "["];

/// A credential variable `text` expands, if any.
fn credential_in<'t>(cx: &Context<'_>, text: &'t str) -> Option<&'t str> {
    expanded_variables(text)
        .into_iter()
        .find(|n| cx.is_credential(n))
}

/// How `command` puts a credential on its command line: the variable and where.
fn exposure(cx: &Context<'_>, command: &Command) -> Option<String> {
    if command.is(PRINTERS) {
        return None;
    }
    let args: &[Word] = command.args();
    for (index, arg) in args.iter().enumerate() {
        let text = arg.text.as_str();
        if let Some(userinfo) = url_userinfo(text)
            && let Some(name) = credential_in(cx, userinfo)
        {
            return Some(format!("`{name}` in a URL's userinfo"));
        }
        let next = args.get(index + 1).map(|w| w.text.as_str());
        if let Some((flag, value)) = text.split_once('=')
            && SECRET_FLAGS.contains(&flag)
            && let Some(name) = credential_in(cx, value)
        {
            return Some(format!("`{name}` as the value of `{flag}`"));
        }
        if SECRET_FLAGS.contains(&text)
            && let Some(name) = next.and_then(|n| credential_in(cx, n))
        {
            return Some(format!("`{name}` as the value of `{text}`"));
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
    let (_, rest) = text.split_once("://")?;
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
