//! `protected-branch-direct-push`: the default branch's protection lets someone push to it
//! without a merge request, so code reaches protected credentials unreviewed.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::gitlab::types::AccessLevel;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "protected-branch-direct-push",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "The default branch can be pushed to without a merge request",
    why: "Pipelines of the default branch get the protected variables, production credentials included, and run its scheduled ELT. Whoever may push to it directly runs code of their choosing with those credentials, and no reviewer sees it first.",
    fix: "Allow no one to push to the default branch (Settings > Repository > Protected branches: Allowed to push and merge: No one; Allowed to merge: Maintainers), so every change arrives through a reviewed merge request. `ciguard init --apply` sets this; `ciguard audit --fix` does not change branch protection.",
};

/// Who an access-level entry lets push, for the message.
fn who(level: &AccessLevel) -> String {
    if let Some(description) = &level.access_level_description {
        return description.clone();
    }
    match (level.user_id, level.group_id, level.deploy_key_id, level.access_level) {
        (Some(id), ..) => format!("user {id}"),
        (_, Some(id), ..) => format!("group {id}"),
        (_, _, Some(id), _) => format!("deploy key {id}"),
        (_, _, _, Some(level)) => format!("access level {level}"),
        _ => "someone".to_owned(),
    }
}

/// Reports the default branch's rule when any push entry lets someone in.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    // Unprotected: `default-branch-unprotected` says so.
    let (Some(default), Some(rule)) = (cx.default_branch(), cx.default_branch_rule()) else {
        return;
    };
    let pushers: Vec<String> = rule
        .push_access_levels
        .iter()
        .filter(|level| level.lets_someone_in())
        .map(who)
        .collect();
    if pushers.is_empty() {
        return;
    }
    out.push(cx.setting_finding(
        &RULE,
        &format!("protected_branches/{}", rule.name),
        format!(
            "the default branch `{default}` can be pushed to directly by {} (rule `{}`): that \
             code runs with the protected variables without a merge request review",
            pushers.join(", "),
            rule.name
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run};
    use crate::gitlab::types::{ProjectSettings, ProtectedBranch};

    fn with(push: Vec<AccessLevel>) -> Vec<Finding> {
        let mut data = project(Vec::new());
        data.settings = Some(ProjectSettings {
            default_branch: Some("main".into()),
            ..ProjectSettings::default()
        });
        data.protected_branches = Some(vec![ProtectedBranch {
            name: "main".into(),
            push_access_levels: push,
            merge_access_levels: Vec::new(),
            allow_force_push: None,
            code_owner_approval_required: None,
        }]);
        run(check, &data)
    }

    fn level(access_level: u32, description: &str) -> AccessLevel {
        AccessLevel {
            access_level: Some(access_level),
            access_level_description: Some(description.into()),
            ..AccessLevel::default()
        }
    }

    #[test]
    fn fires_when_maintainers_or_a_deploy_key_may_push() {
        let found = with(vec![level(40, "Maintainers")]);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("by Maintainers"), "{}", found[0].message);
        let deploy = AccessLevel {
            deploy_key_id: Some(3),
            ..level(40, "Deploy key")
        };
        assert_eq!(with(vec![level(0, "No one"), deploy]).len(), 1);
    }

    #[test]
    fn quiet_when_no_one_may_push_or_the_branch_is_unprotected() {
        assert!(with(vec![level(0, "No one")]).is_empty());
        assert!(with(Vec::new()).is_empty());
        assert!(run(check, &project(Vec::new())).is_empty());
    }
}
