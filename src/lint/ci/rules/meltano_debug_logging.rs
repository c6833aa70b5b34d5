//! `meltano-debug-logging`: Meltano logs at debug level in CI (`--log-level=debug`,
//! `MELTANO_CLI_LOG_LEVEL=debug`).

use super::{all_variables, meltano_call};
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "meltano-debug-logging",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Meltano logs at debug level in CI",
    why: "At debug level Meltano and the Singer SDK log every record and request, so personal data and credentials in headers or connection settings reach the job log.",
    fix: "Use the default `info` level in CI; debug locally with test data.",
};

const LOG_LEVEL_VARIABLES: &[&str] = &["MELTANO_CLI_LOG_LEVEL", "MELTANO_LOG_LEVEL"];

fn is_debug(level: &str) -> bool {
    level.eq_ignore_ascii_case("debug")
}

/// Reports debug log levels in variables and on `meltano` command lines.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (variable, path) in all_variables(cx) {
        let debug = variable.value.as_deref().is_some_and(is_debug);
        if debug && LOG_LEVEL_VARIABLES.contains(&variable.name.as_str()) {
            let message = format!("`{}` sets Meltano's log level to debug", variable.name);
            let logical = path.logical(&variable.name);
            out.push(cx.finding(&RULE, variable.name_at, &variable.name, logical, message));
        }
    }
    for command in cx.script_commands() {
        let exported = command
            .command
            .assignments()
            .iter()
            .chain(
                command
                    .command
                    .args()
                    .iter()
                    .filter(|_| command.command.is(&["export"])),
            )
            .filter_map(|w| w.text.split_once('='))
            .any(|(name, value)| LOG_LEVEL_VARIABLES.contains(&name) && is_debug(value));
        let flagged = meltano_call(&command.command).is_some_and(|call| {
            call.args.iter().enumerate().any(|(index, word)| {
                word.text.strip_prefix("--log-level=").is_some_and(is_debug)
                    || (word.text == "--log-level"
                        && call
                            .args
                            .get(index + 1)
                            .is_some_and(|next| is_debug(next.text)))
            })
        });
        if exported || flagged {
            let message = format!("{} runs Meltano at debug log level", command.job.title());
            out.push(cx.command_finding(&RULE, &command, message));
        }
    }
}
