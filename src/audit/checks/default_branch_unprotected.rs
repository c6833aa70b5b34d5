//! `default-branch-unprotected`: no protected branch rule matches the default branch.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::gitlab::types::ProtectedBranch;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "default-branch-unprotected",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "The default branch is not protected",
    why: "Pipelines on an unprotected default branch do not get protected variables, so teams unprotect production credentials to make scheduled ELT runs work; and every Developer can push to it, including code that prints those credentials.",
    fix: "Protect the default branch (Settings > Repository > Protected branches), allowing only Maintainers to push and merge. `ciguard audit --fix` does not change branch protection.",
};

/// Reports the default branch when the protected branches are known and none matches it.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let (Some(settings), Some(branches)) = (&cx.data.settings, &cx.data.protected_branches) else {
        return;
    };
    let Some(default) = &settings.default_branch else {
        return;
    };
    if ProtectedBranch::rule_for(branches, default).is_none() {
        out.push(cx.setting_finding(
            &RULE,
            "default_branch",
            format!("the default branch `{default}` is not protected"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run};
    use crate::gitlab::types::{ProjectSettings, ProtectedBranch};

    fn with(default: &str, protected: &[&str]) -> Vec<Finding> {
        let mut data = project(Vec::new());
        data.settings = Some(ProjectSettings {
            default_branch: Some(default.into()),
            ..ProjectSettings::default()
        });
        data.protected_branches = Some(
            protected
                .iter()
                .map(|name| ProtectedBranch {
                    name: (*name).into(),
                    push_access_levels: Vec::new(),
                    merge_access_levels: Vec::new(),
                    allow_force_push: None,
                    code_owner_approval_required: None,
                })
                .collect(),
        );
        run(check, &data)
    }

    #[test]
    fn fires_when_no_rule_matches() {
        assert_eq!(with("main", &["release/*"]).len(), 1);
        assert_eq!(with("main", &[]).len(), 1);
    }

    #[test]
    fn quiet_when_protected_by_name_or_wildcard() {
        assert!(with("main", &["main"]).is_empty());
        assert!(with("release/main", &["release/*"]).is_empty());
        assert!(run(check, &project(Vec::new())).is_empty());
    }
}
