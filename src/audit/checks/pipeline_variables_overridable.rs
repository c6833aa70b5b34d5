//! `pipeline-variables-overridable`: Developers may pass pipeline variables, which override
//! project and group variables.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::gitlab::types::OverrideRole;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "pipeline-variables-overridable",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Developers may pass pipeline variables that override CI/CD variables",
    why: "Pipeline variables (a manual run, the API, triggers) take precedence over project, group and instance variables. A Developer who may set them can switch on CI_DEBUG_TRACE or point a job's credential at a host of their own, in pipelines that hold protected credentials.",
    fix: "Set Settings > CI/CD > Variables > \"Minimum role to use pipeline variables\" to Maintainer or \"No one allowed\" (API `ci_pipeline_variables_minimum_override_role`). `ciguard audit --fix` does not change project settings.",
};

/// Reports the setting when Developers may pass pipeline variables (or, on GitLab before 17.1,
/// when `restrict_user_defined_variables` is off).
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(settings) = &cx.data.settings else {
        return;
    };
    let (key, open) = match settings.ci_pipeline_variables_minimum_override_role {
        Some(role) => (
            "ci_pipeline_variables_minimum_override_role",
            role == OverrideRole::Developer,
        ),
        None => (
            "restrict_user_defined_variables",
            settings.restrict_user_defined_variables == Some(false),
        ),
    };
    if open {
        out.push(cx.setting_finding(
            &RULE,
            key,
            "Developers may pass pipeline variables, which override every CI/CD variable".into(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run};
    use crate::gitlab::types::ProjectSettings;

    fn with(role: Option<OverrideRole>, restrict: Option<bool>) -> Vec<Finding> {
        let mut data = project(Vec::new());
        data.settings = Some(ProjectSettings {
            ci_pipeline_variables_minimum_override_role: role,
            restrict_user_defined_variables: restrict,
            ..ProjectSettings::default()
        });
        run(check, &data)
    }

    #[test]
    fn fires_for_developers() {
        assert_eq!(with(Some(OverrideRole::Developer), Some(true)).len(), 1);
        assert_eq!(with(None, Some(false)).len(), 1);
    }

    #[test]
    fn quiet_for_maintainers_no_one_or_unknown() {
        assert!(with(Some(OverrideRole::Maintainer), Some(false)).is_empty());
        assert!(with(Some(OverrideRole::NoOneAllowed), None).is_empty());
        assert!(with(None, None).is_empty());
    }
}
