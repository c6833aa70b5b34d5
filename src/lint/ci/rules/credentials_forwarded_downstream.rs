//! `credentials-forwarded-downstream`: a trigger job inherits the pipeline's global variables,
//! credentials among them, and so passes them to the downstream pipeline.

use super::name_list;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "credentials-forwarded-downstream",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "A trigger job passes the pipeline's credential variables to a downstream pipeline",
    why: "A trigger job hands every variable it has, the global `variables:` it inherits included, to the downstream pipeline, whose project may have other members, other branch protections and its own jobs that print or ship them.",
    fix: "Add `inherit: variables: false` to the trigger job (or list only what the downstream pipeline needs), and pass what it needs explicitly under the job's `variables:`.",
};

/// Reports each trigger job that inherits global credential variables.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (job, _) in cx.jobs() {
        let Some(trigger) = job.body.entry("trigger") else {
            continue;
        };
        let mut inherited: Vec<String> = job
            .global_variables
            .iter()
            .filter(|v| cx.is_credential(&v.name))
            .map(|v| v.name.clone())
            .collect();
        inherited.sort();
        inherited.dedup();
        if inherited.is_empty() {
            continue;
        }
        let message = format!(
            "{} passes the global credential variables {} to its downstream pipeline",
            job.title(),
            name_list(&inherited)
        );
        out.push(cx.finding(&RULE, trigger.key_at, &trigger.key, job.logical("trigger"), message));
    }
}
