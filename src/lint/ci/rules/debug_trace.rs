//! `debug-trace`: `CI_DEBUG_TRACE` or `CI_DEBUG_SERVICES` set to a value the runner reads as true.

use super::all_variables;
use crate::env::{DEBUG_TRACE_VARIABLES, runner_reads_as_true};
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "debug-trace",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "CI_DEBUG_TRACE or CI_DEBUG_SERVICES is switched on in the pipeline file",
    why: "Debug trace makes the runner print every shell command with its variables expanded and the job's whole environment, CI/CD variables included, to the job log that everyone with access to the pipeline can read.",
    fix: "Remove the variable from the file. To debug once, set it as a variable of a single manual pipeline run, then delete that job log.",
};

/// Reports each truthy debug variable.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (variable, path) in all_variables(cx) {
        let truthy = variable.value.as_deref().is_some_and(runner_reads_as_true);
        if !DEBUG_TRACE_VARIABLES.contains(&variable.name.as_str()) || !truthy {
            continue;
        }
        let finding = |what: &str| {
            let message = format!("`{}` is set to true: {what}", variable.name);
            let logical = path.logical(&variable.name);
            cx.finding(&RULE, variable.name_at, &variable.name, logical, message)
        };
        out.push(if variable.name == "CI_DEBUG_SERVICES" {
            // Services' own output, not the job's environment: what they print, they leak.
            finding("the output of service containers goes to the job log, with any secret they print")
                .with_severity(Severity::Medium)
        } else {
            finding("the job log will show every variable")
        });
    }
}
