//! `job-token-allowlist-disabled`: any project's CI job token can reach this project.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "job-token-allowlist-disabled",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Any project's CI job token can reach this project",
    why: "With the job token allowlist off, a job of any project on the instance whose user can see this project may use its `CI_JOB_TOKEN` here: read the repository, download artifacts and packages, trigger pipelines. A compromised or careless pipeline elsewhere then reaches this one's code and the artifacts its ELT jobs leave.",
    fix: "Settings > CI/CD > Job token permissions: turn on the allowlist (Limit access to this project) and add only the projects and groups that need it (`PATCH /projects/:id/job_token_scope` with `enabled: true`). `ciguard audit --fix` does not change it.",
};

/// Reports the project when the inbound allowlist is off.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(scope) = cx.review(&RULE, |reviews| &reviews.job_token_scope) else {
        return;
    };
    if !scope.inbound_enabled {
        out.push(cx.setting_finding(
            &RULE,
            "job_token_scope.inbound_enabled",
            "the CI job token allowlist is off: jobs of any project can use their job token on \
             this one"
                .to_owned(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{reviewed, run, unchecked};
    use crate::gitlab::types::{JobTokenScope, Unavailable};

    #[test]
    fn fires_only_when_the_allowlist_is_off() {
        let mut data = reviewed();
        assert!(run(check, &data).is_empty());
        data.reviews.as_mut().expect("reviews").job_token_scope = Ok(JobTokenScope {
            inbound_enabled: false,
        });
        assert_eq!(run(check, &data).len(), 1);
        data.reviews.as_mut().expect("reviews").job_token_scope =
            Err(Unavailable("old GitLab".into()));
        assert!(run(check, &data).is_empty());
        assert_eq!(unchecked(check, &data), [RULE.id]);
    }
}
