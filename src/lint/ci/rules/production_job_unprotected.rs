//! `production-job-unprotected`: a job that deploys to production, or uses production
//! credentials, can run on refs nobody protected.

use super::name_list;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::lint::ci::pipeline::Job;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "production-job-unprotected",
    severity: Severity::High,
    confidence: Confidence::Medium,
    summary: "A production job can run on an unprotected branch or in a merge-request pipeline",
    why: "Any developer can push a branch that changes what the job runs. If the job can run there, that branch reaches the production environment and whatever production credentials are not protected variables.",
    fix: "Limit the job with `rules: - if: $CI_COMMIT_REF_PROTECTED == \"true\"` (or to the default branch, and protect it), make its credentials protected variables, and protect the production environment.",
};

/// Why `job` counts as production, if it does.
pub fn production_because(cx: &Context<'_>, job: &Job) -> Option<String> {
    if let Some(environment) = job.environment() {
        if environment.tier.as_deref() == Some("production") {
            return Some(format!(
                "its environment `{}` has tier production",
                environment.name
            ));
        }
        if !environment.name.contains('$') && cx.knowledge.is_production(&environment.name) {
            return Some(format!("it deploys to environment `{}`", environment.name));
        }
    }
    let production_credentials: Vec<String> = cx
        .credentials_used(job)
        .iter()
        .filter(|name| names_production(name))
        .cloned()
        .collect();
    (!production_credentials.is_empty()).then(|| {
        format!(
            "it uses production credentials {}",
            name_list(&production_credentials)
        )
    })
}

/// Whether a variable name says production (`PROD_DB_PASSWORD`, `SNOWFLAKE_PASSWORD_PRODUCTION`).
fn names_production(name: &str) -> bool {
    name.to_ascii_uppercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| matches!(part, "PROD" | "PRD" | "PRODUCTION" | "LIVE"))
}

/// Reports production jobs by where they can run.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (job, reach) in cx.jobs() {
        let Some(because) = production_because(cx, job) else {
            continue;
        };
        if !reach.unprotected() && reach.named_refs().is_empty() {
            continue;
        }
        let message = format!(
            "job `{}` is a production job ({because}) and {}",
            job.name,
            reach.describe()
        );
        let finding = cx.finding(&RULE, job.at, &job.name, job.name.clone(), message);
        out.push(if reach.unprotected() && reach.undecided {
            finding.with_confidence(Confidence::Low)
        } else if reach.unprotected() {
            finding
        } else {
            finding
                .with_severity(Severity::Low)
                .with_confidence(Confidence::Low)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_names() {
        assert!(names_production("PROD_DB_PASSWORD"));
        assert!(names_production("SNOWFLAKE_PASSWORD_PRODUCTION"));
        assert!(!names_production("PRODUCT_API_TOKEN"));
    }
}
