//! `credential-echoed`: `echo`, `printf` or `cat` sends a credential variable or a credential
//! file to the job log (not when the output goes into a pipe or a file).

use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::shell::Command;
use crate::lint::ci::{Context, ScriptCommand};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "credential-echoed",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "A credential is printed to the job log",
    why: "Job logs are readable by everyone who can see the pipeline and are kept for a long time. The runner masks only exact values of masked variables of 8 characters or more; unmasked credentials, and masked ones transformed on the way, appear in clear.",
    fix: "Do not print credentials. Pipe them into the command that needs them (`printf '%s' \"$TOKEN\" | docker login --password-stdin`) or write them to a file that is not an artifact.",
};

const PRINTERS: &[&str] = &["echo", "printf", "print"];
const FILE_PRINTERS: &[&str] = &["cat", "head", "tail", "more", "less", "bat", "jq", "yq"];
const CREDENTIAL_FILE_NAMES: &[&str] = &[
    ".env",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    "credentials",
    "credentials.json",
    "client_secret.json",
    "service-account.json",
    "service_account.json",
    "kubeconfig",
];

/// Whether `path` names a file that holds credentials.
pub fn is_credential_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    CREDENTIAL_FILE_NAMES.contains(&name)
        || [".pem", ".key", ".p12", ".pfx"]
            .iter()
            .any(|ext| name.ends_with(ext))
        || path.ends_with(".docker/config.json")
        || path.ends_with(".kube/config")
}

/// What `command` prints that is a credential: a variable name or a file.
fn printed_credential(cx: &Context<'_>, command: &Command) -> Option<String> {
    let args = command.args();
    if command.is(PRINTERS) {
        return args
            .iter()
            .flat_map(|word| word.variables())
            .find(|name| cx.is_credential(name))
            .map(|name| format!("credential variable `{name}`"));
    }
    if command.is(FILE_PRINTERS) {
        for arg in args.iter().filter(|a| !a.text.starts_with('-')) {
            if let Some(name) = arg.variables().into_iter().find(|n| cx.is_credential(n)) {
                return Some(format!("the file in credential variable `{name}`"));
            }
            if is_credential_file(arg.text) {
                return Some(format!("credential file `{}`", arg.text));
            }
        }
    }
    None
}

/// Reports each command that prints a credential to the log.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for command in cx.script_commands() {
        if !command.command.prints_to_log() {
            continue;
        }
        if let Some(what) = printed_credential(cx, &command.command) {
            out.push(finding(cx, &command, &what));
        }
    }
}

fn finding(cx: &Context<'_>, command: &ScriptCommand<'_>, what: &str) -> Finding {
    let program = command.command.program().unwrap_or_default();
    let message = format!(
        "{}: `{program}` prints {what} to the job log",
        command.job.title()
    );
    cx.command_finding(&RULE, command, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_files() {
        assert!(is_credential_file("~/.docker/config.json"));
        assert!(is_credential_file("deploy/key.pem"));
        assert!(!is_credential_file("README.md"));
    }
}
