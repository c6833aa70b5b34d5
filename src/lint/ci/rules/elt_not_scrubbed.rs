//! `elt-not-scrubbed`: `meltano run|el|elt|invoke`, or a command `.ciguard.yml` lists under
//! `elt_commands`, runs without `ciguard run --` in front.

use super::{meltano_call, unwrapped};
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::lint::ci::shell::Command;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
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
        let Some(elt) = elt_command(cx, &command.command) else {
            continue;
        };
        let message = format!(
            "{}: `{elt}` runs without `ciguard run --`",
            command.job.title()
        );
        out.push(cx.command_finding(&RULE, &command, message));
    }
}

/// The ELT command `command` runs unscrubbed, as the words that name it, if it does.
fn elt_command(cx: &Context<'_>, command: &Command) -> Option<String> {
    if let Some(call) = meltano_call(command) {
        let subcommand = call.subcommand.filter(|s| ELT_SUBCOMMANDS.contains(s))?;
        return (!call.scrubbed).then(|| format!("meltano {subcommand}"));
    }
    let (scrubbed, words) = unwrapped(command)?;
    let configured = cx.knowledge.elt_commands.iter().find(|prefix| {
        prefix.len() <= words.len() && prefix.iter().zip(words).all(|(p, w)| *p == w.text)
    })?;
    (!scrubbed).then(|| configured.join(" "))
}
