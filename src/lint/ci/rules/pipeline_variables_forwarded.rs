//! `pipeline-variables-forwarded`: a trigger job forwards pipeline variables downstream
//! (`trigger:forward:pipeline_variables: true`).

use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "pipeline-variables-forwarded",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "A trigger job forwards pipeline variables to the downstream pipeline",
    why: "Variables given when the pipeline was started (by a user, a schedule or the API) then reach the downstream project, where they can override its variables, and credentials among them go to a project with other members and other protections.",
    fix: "Remove `forward: pipeline_variables: true` and pass the values the downstream pipeline needs explicitly under `trigger:` job `variables:`.",
};

/// Reports each trigger job that forwards pipeline variables.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for job in cx.all_jobs() {
        let forward = job.get("trigger").and_then(|t| t.get("forward"));
        let Some(entry) = forward.and_then(|f| f.entry("pipeline_variables")) else {
            continue;
        };
        if entry.value.as_str() == Some("true") {
            let message = format!(
                "trigger {} forwards pipeline variables downstream",
                job.title()
            );
            let logical = job.logical("trigger.forward.pipeline_variables");
            out.push(cx.finding(&RULE, entry.key_at, &entry.key, logical, message));
        }
    }
}
