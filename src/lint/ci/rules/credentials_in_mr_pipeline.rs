//! `credentials-in-mr-pipeline`: a job that uses credentials runs in merge-request pipelines.

use super::name_list;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "credentials-in-mr-pipeline",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    summary: "A job that uses credentials runs in merge-request pipelines",
    why: "A merge request's pipeline runs the merge request's version of the file and scripts. For a branch of this project, any developer who can push it gets the job's unprotected credentials. A fork's merge request runs in the fork without them, until a member runs its pipeline in this project: then the fork's code runs with them.",
    fix: "Keep credential-using jobs out of merge-request pipelines (`rules: - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"` with `when: never`), make their credentials protected variables, and review fork merge requests before running their pipelines in the parent project.",
};

/// Reports credential-using jobs that merge-request pipelines run.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (job, reach) in cx.jobs() {
        if !reach.merge_requests {
            continue;
        }
        // With `--gitlab`, protected variables (for this job's environment) are known not to
        // reach these pipelines.
        let environment = job.environment().map(|e| e.name);
        let mut credentials = cx.credentials_used(job).to_vec();
        credentials.retain(|name| {
            !cx.knowledge
                .is_protected_variable(name, environment.as_deref())
        });
        if credentials.is_empty() {
            continue;
        }
        let message = format!(
            "job `{}` uses credentials {} and runs in merge-request pipelines (a fork's only when a member runs it in this project)",
            job.name,
            name_list(&credentials)
        );
        let finding = cx.finding(&RULE, job.at, &job.name, job.name.clone(), message);
        out.push(if reach.undecided {
            finding.with_confidence(Confidence::Low)
        } else {
            finding
        });
    }
}
