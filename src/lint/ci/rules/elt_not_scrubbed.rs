//! `elt-not-scrubbed`: `meltano run|el|elt|invoke` runs without `ciguard run --` in front.

use super::meltano_call;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;

/// The rule.
pub static RULE: Rule = Rule {
    id: "elt-not-scrubbed",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "An ELT command runs without `ciguard run --` scrubbing its output",
    why: "Taps, targets and their libraries print connection strings, tokens in URLs, tracebacks with DSNs and request headers. The runner masks only exact values of masked variables, so these reach the job log in clear.",
    fix: "Run the command as `ciguard run -- meltano run ...`: ciguard masks known and recognisable secrets in its output and passes its exit status through.",
};

/// The Meltano subcommands that run plugins.
const ELT_SUBCOMMANDS: &[&str] = &["run", "el", "elt", "invoke"];

/// Reports unwrapped ELT commands.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for command in cx.script_commands() {
        let Some(call) = meltano_call(&command.command) else {
            continue;
        };
        let Some(subcommand) = call.subcommand.filter(|s| ELT_SUBCOMMANDS.contains(s)) else {
            continue;
        };
        if !call.scrubbed {
            let message = format!(
                "job `{}`: `meltano {subcommand}` runs without `ciguard run --`",
                command.job.name
            );
            out.push(cx.command_finding(&RULE, &command, message));
        }
    }
}
