//! `merge-request-approvals-not-required`: a merge request into the default branch needs no
//! approval (project settings and approval rules, Premium).

use super::Context;
use crate::credentials::wildcard_matches;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::gitlab::types::ApprovalRule;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "merge-request-approvals-not-required",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Merge requests into the default branch need no approval",
    why: "The default branch's pipelines run with production credentials. Without a required approval, whoever may merge can merge code nobody else has read, and it runs with those credentials.",
    fix: "Require at least one approval for the default branch (Settings > Merge requests > Merge request approvals: an approval rule with Approvals required 1 or more). `ciguard audit --fix` does not change approvals.",
};

/// Whether `rule` asks approvals of merge requests into `branch`.
fn requires_approval(rule: &ApprovalRule, branch: &str) -> bool {
    rule.approvals_required > 0
        && rule.rule_type.as_deref() != Some("report_approver")
        && (rule.applies_to_all_protected_branches == Some(true)
            || rule.protected_branches.is_empty()
            || rule
                .protected_branches
                .iter()
                .any(|protected| wildcard_matches(&protected.name, branch)))
}

/// Reports the default branch when neither the legacy count nor a rule requires an approval.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let (Some(reviews), Some(default)) = (cx.reviews(), cx.default_branch()) else {
        return;
    };
    let Some(settings) = cx.available(&RULE, &reviews.approvals) else {
        return;
    };
    let Some(rules) = cx.available(&RULE, &reviews.approval_rules) else {
        return;
    };
    let legacy = settings.approvals_before_merge.unwrap_or(0) > 0;
    if !legacy && !rules.iter().any(|rule| requires_approval(rule, default)) {
        out.push(cx.setting_finding(
            &RULE,
            "approval_rules",
            format!(
                "merge requests into the default branch `{default}` need no approval: no \
                 approval rule for it requires one"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{reviewed, run, unchecked};
    use crate::gitlab::types::{NamedBranch, Unavailable};

    fn rule(required: u32, branches: &[&str]) -> ApprovalRule {
        ApprovalRule {
            name: "All Members".into(),
            rule_type: Some("any_approver".into()),
            approvals_required: required,
            applies_to_all_protected_branches: Some(false),
            protected_branches: branches
                .iter()
                .map(|name| NamedBranch {
                    name: (*name).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn fires_when_no_rule_requires_an_approval_for_the_default_branch() {
        let mut data = reviewed();
        data.reviews.as_mut().expect("reviews").approval_rules =
            Ok(vec![rule(0, &[]), rule(2, &["release/*"])]);
        assert_eq!(run(check, &data).len(), 1);
    }

    #[test]
    fn quiet_when_a_rule_requires_one() {
        let mut data = reviewed();
        data.reviews.as_mut().expect("reviews").approval_rules = Ok(vec![rule(1, &["main"])]);
        assert!(run(check, &data).is_empty());
        data.reviews.as_mut().expect("reviews").approval_rules = Ok(vec![rule(1, &[])]);
        assert!(run(check, &data).is_empty());
    }

    #[test]
    fn unknown_when_the_tier_lacks_approvals() {
        let mut data = reviewed();
        data.reviews.as_mut().expect("reviews").approvals = Err(Unavailable("Premium".into()));
        assert!(run(check, &data).is_empty());
        assert_eq!(unchecked(check, &data), [RULE.id]);
    }
}
