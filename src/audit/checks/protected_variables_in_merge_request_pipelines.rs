//! `protected-variables-in-merge-request-pipelines`: the project lets merge-request pipelines
//! between protected branches get protected variables (`protect_merge_request_pipelines`).

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "protected-variables-in-merge-request-pipelines",
    severity: Severity::Low,
    confidence: Confidence::High,
    summary: "Merge-request pipelines between protected branches get protected variables",
    why: "Since GitLab 18.1 a merge-request pipeline whose source and target branches are both protected, in the same project, gets protected variables when its user may push or merge to the target. That pipeline runs the merge request's code before anyone approved it: protecting a credential no longer keeps it from unreviewed code on protected source branches.",
    fix: "Turn off Settings > CI/CD > Variables > Allow merge request pipelines to access protected variables and runners, unless merge requests between protected branches need them; keep pushes to protected branches to no one (see protected-branch-direct-push).",
};

/// Reports the project when the setting is on and a protected credential reaches it.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let on = cx
        .data
        .settings
        .as_ref()
        .and_then(|settings| settings.protect_merge_request_pipelines)
        == Some(true);
    let protected: Vec<&str> = cx
        .credentials()
        .filter(|v| v.variable.protected)
        .map(|v| v.variable.key.as_str())
        .collect();
    if on && !protected.is_empty() {
        out.push(cx.setting_finding(
            &RULE,
            "protect_merge_request_pipelines",
            format!(
                "merge-request pipelines between protected branches get protected variables \
                 ({} protected credential{}, e.g. `{}`) before the merge request is approved",
                protected.len(),
                if protected.len() == 1 { "" } else { "s" },
                protected[0]
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run, variable};
    use crate::gitlab::types::ProjectSettings;

    fn with(on: Option<bool>) -> Vec<Finding> {
        let mut data = project(vec![variable("DB_PASSWORD", Some("correct-horse-battery"))]);
        data.settings = Some(ProjectSettings {
            protect_merge_request_pipelines: on,
            ..ProjectSettings::default()
        });
        run(check, &data)
    }

    #[test]
    fn fires_only_when_on_with_a_protected_credential() {
        assert_eq!(with(Some(true)).len(), 1);
        assert!(with(Some(false)).is_empty());
        assert!(with(None).is_empty());
        let mut data = project(Vec::new());
        data.settings = Some(ProjectSettings {
            protect_merge_request_pipelines: Some(true),
            ..ProjectSettings::default()
        });
        assert!(run(check, &data).is_empty());
    }
}
