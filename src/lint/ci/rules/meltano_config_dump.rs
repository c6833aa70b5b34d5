//! `meltano-config-dump`: a Meltano command prints plugin configuration, secrets included
//! (`meltano config --unsafe`, `meltano invoke --dump=config`, `--print-var`).

use super::meltano_call;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "meltano-config-dump",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "A Meltano command prints plugin configuration with its secrets",
    why: "The printed configuration holds every setting of the plugin, passwords, tokens and keys included, resolved from the environment, so the job log gets them in clear.",
    fix: "Do not dump configuration in CI. To check which settings are set, run `meltano config <plugin> list` locally; it does not print secret values.",
};

/// What in `args` dumps configuration.
fn dump_flag(subcommand: Option<&str>, args: &[&str]) -> Option<&'static str> {
    if args
        .iter()
        .any(|a| *a == "--print-var" || a.starts_with("--print-var="))
    {
        return Some("--print-var");
    }
    if args.windows(2).any(|w| w == ["--dump", "config"]) || args.contains(&"--dump=config") {
        return Some("--dump=config");
    }
    (subcommand == Some("config") && args.contains(&"--unsafe")).then_some("--unsafe")
}

/// Reports configuration dumps that are not written to a file.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for command in cx.script_commands() {
        if command.command.redirected_to_file().is_some() {
            continue;
        }
        let Some(call) = meltano_call(&command.command) else {
            continue;
        };
        let args: Vec<&str> = call.args.texts();
        if let Some(flag) = dump_flag(call.subcommand, &args) {
            let message = format!(
                "{}: `meltano` with `{flag}` prints plugin configuration, secrets included",
                command.job.title()
            );
            out.push(cx.command_finding(&RULE, &command, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_dumps() {
        assert_eq!(
            dump_flag(Some("config"), &["config", "tap-x", "--unsafe"]),
            Some("--unsafe")
        );
        assert_eq!(
            dump_flag(Some("invoke"), &["invoke", "--dump=config", "tap-x"]),
            Some("--dump=config")
        );
        assert_eq!(
            dump_flag(Some("invoke"), &["invoke", "--print-var", "X"]),
            Some("--print-var")
        );
        assert_eq!(
            dump_flag(Some("config"), &["config", "tap-x", "list"]),
            None
        );
    }
}
