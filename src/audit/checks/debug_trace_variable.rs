//! `debug-trace-variable`: `CI_DEBUG_TRACE` or `CI_DEBUG_SERVICES` switched on by a CI/CD
//! variable, at any level.

use super::Context;
use crate::env::{DEBUG_TRACE_VARIABLES, runner_reads_as_true};
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "debug-trace-variable",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "CI_DEBUG_TRACE or CI_DEBUG_SERVICES is switched on by a CI/CD variable",
    why: "Debug trace makes the runner print every command with its variables expanded, and the job's whole environment: unmasked credentials show in clear in every job log of every pipeline the variable reaches. CI_DEBUG_SERVICES streams service containers' logs, which can defeat masking. The runner reads any spelling Go's strconv.ParseBool takes as true (1, t, T, true, TRUE, True), while GitLab restricts such logs only for `true` in any case.",
    fix: "Delete the variable. To debug once, set CI_DEBUG_TRACE for a single manual pipeline run, then delete that job log. `ciguard audit --fix` does not delete variables.",
};

/// Reports each debug variable set to a value the runner reads as true.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for variable in cx.variables.iter().filter(|v| {
        DEBUG_TRACE_VARIABLES.contains(&v.variable.key.as_str())
            && v.value().is_some_and(runner_reads_as_true)
    }) {
        out.push(variable.finding(
            &RULE,
            format!(
                "{} switches debug output on: the job logs of every pipeline it reaches show \
                 every variable",
                variable.name()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{data, run, set, variable};
    use crate::gitlab::types::Level;

    #[test]
    fn fires_for_every_truthy_spelling_at_any_level() {
        let truthy = ["1", "t", "T", "TRUE", "true", "True"];
        let sets = truthy
            .iter()
            .map(|value| {
                set(
                    Level::Group,
                    "data",
                    vec![variable("CI_DEBUG_TRACE", Some(value))],
                )
            })
            .chain([set(
                Level::Instance,
                "",
                vec![variable("CI_DEBUG_SERVICES", Some("true"))],
            )])
            .collect();
        assert_eq!(run(check, &data(sets)).len(), truthy.len() + 1);
    }

    #[test]
    fn quiet_for_false_spellings_and_other_keys() {
        let vars = ["false", "0", "yes", "on", "tRUE", ""]
            .iter()
            .map(|value| variable("CI_DEBUG_TRACE", Some(value)))
            .chain([variable("MY_DEBUG_TRACE", Some("true"))])
            .collect();
        assert!(run(check, &crate::audit::checks::testing::project(vars)).is_empty());
    }
}
