//! `developers-can-push-protected`: a protected branch rule that lets Developers push or merge.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::gitlab::types::AccessLevel;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "developers-can-push-protected",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "A protected branch lets Developers push or merge",
    why: "Protected variables reach every pipeline on a protected branch. When Developers may push or merge to it (or to every branch a wildcard rule matches), any Developer can run code of their choosing with the protected credentials: protection then keeps nothing from them.",
    fix: "Allow only Maintainers (or a deploy key) to push and merge to protected branches, and review merges with approval rules. `ciguard audit --fix` does not change branch protection.",
};

fn admits(levels: &[AccessLevel]) -> bool {
    levels.iter().any(AccessLevel::admits_developers)
}

/// Reports each protected branch rule whose push or merge levels admit Developers.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(branches) = &cx.data.protected_branches else {
        return;
    };
    for branch in branches {
        let actions: Vec<&str> = [
            ("push", admits(&branch.push_access_levels)),
            ("merge", admits(&branch.merge_access_levels)),
        ]
        .into_iter()
        .filter_map(|(action, yes)| yes.then_some(action))
        .collect();
        if !actions.is_empty() {
            out.push(cx.setting_finding(
                &RULE,
                &format!("protected_branches/{}", branch.name),
                format!(
                    "protected branch `{}` lets Developers {}: they can run pipelines that get \
                     protected variables",
                    branch.name,
                    actions.join(" and ")
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run};
    use crate::gitlab::types::ProtectedBranch;

    fn level(access_level: u32) -> Vec<AccessLevel> {
        vec![AccessLevel {
            access_level: Some(access_level),
            ..AccessLevel::default()
        }]
    }

    fn with(push: u32, merge: u32) -> Vec<Finding> {
        let mut data = project(Vec::new());
        data.protected_branches = Some(vec![ProtectedBranch {
            name: "main".into(),
            push_access_levels: level(push),
            merge_access_levels: level(merge),
            allow_force_push: None,
            code_owner_approval_required: None,
        }]);
        run(check, &data)
    }

    #[test]
    fn fires_when_developers_push_or_merge() {
        let found = with(30, 30);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("push and merge"),
            "{}",
            found[0].message
        );
        assert_eq!(with(40, 30).len(), 1);
    }

    #[test]
    fn quiet_for_maintainers_and_no_one() {
        assert!(with(40, 40).is_empty());
        assert!(with(0, 40).is_empty());
        assert!(run(check, &project(Vec::new())).is_empty());
    }
}
