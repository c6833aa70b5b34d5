//! `xtrace-with-credentials`: `set -x`, `set -o xtrace`, `bash -x` or `sh -x` in a job that
//! handles credentials.

use super::name_list;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::lint::ci::shell::Command;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "xtrace-with-credentials",
    severity: Severity::High,
    confidence: Confidence::Medium,
    summary: "Shell tracing is on in a job that handles credentials",
    why: "With xtrace the shell prints every command after expansion, so each command that uses a credential prints its value to the job log. The runner masks only exact values of masked variables.",
    fix: "Remove `set -x` (or `-x` from the shell's flags), or turn tracing off with `set +x` around the commands that use credentials.",
};

const SHELLS: &[&str] = &["bash", "sh", "zsh", "dash", "ksh", "ash"];

/// Whether `command` turns on shell tracing.
fn traces(command: &Command) -> bool {
    let args = command.args();
    let short_x =
        |flags: &str| flags.starts_with('-') && !flags.starts_with("--") && flags.contains('x');
    if command.is(&["set"]) {
        let option_xtrace = args
            .iter()
            .zip(args.iter().skip(1))
            .any(|(option, value)| option.text == "-o" && value.text == "xtrace");
        return option_xtrace || args.iter().any(|a| short_x(a.text));
    }
    command.is(SHELLS)
        && args
            .iter()
            .take_while(|a| a.text.starts_with('-'))
            .any(|a| short_x(a.text))
}

/// Reports tracing in jobs that use credential variables.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for job in cx.all_jobs() {
        for command in cx.commands_of(job).filter(|c| traces(&c.command)) {
            let credentials = cx.credentials_used(job);
            if credentials.is_empty() {
                break;
            }
            let message = format!(
                "{} traces its commands and uses credentials {}",
                job.title(),
                name_list(credentials)
            );
            out.push(cx.command_finding(&RULE, &command, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::ci::shell::Commands;

    #[test]
    fn recognises_tracing() {
        for text in [
            "set -x",
            "set -eux",
            "set -o xtrace",
            "bash -x deploy.sh",
            "sh -ex run.sh",
        ] {
            assert!(Commands::of(text).iter().any(|c| traces(&c)), "{text}");
        }
        for text in [
            "set +x",
            "set -e",
            "bash deploy.sh -x",
            "tar -xzf a.tgz",
            "set -o pipefail",
        ] {
            assert!(!Commands::of(text).iter().any(|c| traces(&c)), "{text}");
        }
    }
}
