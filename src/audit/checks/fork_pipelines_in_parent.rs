//! `fork-pipelines-in-parent`: fork merge request pipelines may run in the parent project,
//! with its variables.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "fork-pipelines-in-parent",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Fork merge request pipelines may run in the parent project",
    why: "With this setting a parent member can run a fork's merge request pipeline in the parent project: the fork's `.gitlab-ci.yml` and code then run with the parent's unprotected CI/CD variables. One careless click on \"Run pipeline\" hands them to the fork's author.",
    fix: "Turn off `ci_allow_fork_pipelines_to_run_in_parent_project` unless you review every fork change before running it, and keep credentials protected (fork pipelines never get protected variables). `ciguard audit --fix` does not change project settings.",
};

/// Reports the setting when it is on.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let on = cx
        .data
        .settings
        .as_ref()
        .is_some_and(|s| s.ci_allow_fork_pipelines_to_run_in_parent_project == Some(true));
    if on {
        let unprotected = cx.credentials().filter(|v| !v.variable.protected).count();
        out.push(cx.setting_finding(
            &RULE,
            "ci_allow_fork_pipelines_to_run_in_parent_project",
            format!(
                "fork merge request pipelines may run in this project, where {unprotected} \
                 credential variable(s) are not protected"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run};
    use crate::gitlab::types::ProjectSettings;

    fn with(allowed: Option<bool>) -> Vec<Finding> {
        let mut data = project(Vec::new());
        data.settings = Some(ProjectSettings {
            ci_allow_fork_pipelines_to_run_in_parent_project: allowed,
            ..ProjectSettings::default()
        });
        run(check, &data)
    }

    #[test]
    fn fires_when_allowed() {
        assert_eq!(with(Some(true)).len(), 1);
    }

    #[test]
    fn quiet_when_off_or_unknown() {
        assert!(with(Some(false)).is_empty());
        assert!(with(None).is_empty());
    }
}
