//! `approvals-not-reset-on-push`: an approval survives new commits pushed to the merge request
//! (Premium).

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "approvals-not-reset-on-push",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Approvals are kept when new commits are pushed",
    why: "An approval is for the code the approver read. When it survives new commits, the author can push anything after the approval and merge it, and that code runs with production credentials unreviewed.",
    fix: "Settings > Merge requests > Approval settings: turn on Remove all approvals when commits are added to the source branch. `ciguard audit --fix` does not change approvals.",
};

/// Reports the project when approvals are not removed on push.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(settings) = cx.review(&RULE, |reviews| &reviews.approvals) else {
        return;
    };
    if settings.reset_approvals_on_push == Some(false) {
        out.push(cx.setting_finding(
            &RULE,
            "approvals.reset_approvals_on_push",
            "approvals stay when commits are pushed to the merge request: code added after the \
             approval is merged unreviewed"
                .to_owned(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{reviewed, run, unchecked};
    use crate::gitlab::types::Unavailable;

    #[test]
    fn fires_only_when_approvals_stay() {
        let mut data = reviewed();
        assert!(run(check, &data).is_empty());
        let reviews = data.reviews.as_mut().expect("reviews");
        reviews.approvals.as_mut().expect("approvals").reset_approvals_on_push = Some(false);
        assert_eq!(run(check, &data).len(), 1);
        data.reviews.as_mut().expect("reviews").approvals = Err(Unavailable("Premium".into()));
        assert!(run(check, &data).is_empty());
        assert_eq!(unchecked(check, &data), [RULE.id]);
    }
}
