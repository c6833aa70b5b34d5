//! `merge-request-self-approval`: the author, or a committer, may approve their own merge
//! request (Premium).

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "merge-request-self-approval",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Authors or committers may approve their own merge requests",
    why: "A required approval is a second person reading the code before it runs with production credentials. When the author, or someone who pushed commits to the merge request, may give that approval, one person can merge unreviewed code.",
    fix: "Settings > Merge requests > Approval settings: turn on Prevent approval by author and Prevent approvals by users who add commits. `ciguard audit --fix` does not change approvals.",
};

/// Reports the project when authors or committers may approve.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(settings) = cx.review(&RULE, |reviews| &reviews.approvals) else {
        return;
    };
    let who: Vec<&str> = [
        (settings.merge_requests_author_approval == Some(true), "authors"),
        (
            settings.merge_requests_disable_committers_approval == Some(false),
            "committers",
        ),
    ]
    .into_iter()
    .filter_map(|(allowed, who)| allowed.then_some(who))
    .collect();
    if !who.is_empty() {
        out.push(cx.setting_finding(
            &RULE,
            "approvals",
            format!(
                "{} may approve their own merge requests: one person can merge code nobody \
                 else has read",
                who.join(" and ")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{reviewed, run, unchecked};
    use crate::gitlab::types::Unavailable;

    #[test]
    fn fires_when_authors_or_committers_may_approve() {
        let mut data = reviewed();
        let reviews = data.reviews.as_mut().expect("reviews");
        let settings = reviews.approvals.as_mut().expect("approvals");
        settings.merge_requests_author_approval = Some(true);
        settings.merge_requests_disable_committers_approval = Some(false);
        let found = run(check, &data);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.starts_with("authors and committers"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn quiet_when_both_are_prevented_unknown_without_premium() {
        let mut data = reviewed();
        assert!(run(check, &data).is_empty());
        data.reviews.as_mut().expect("reviews").approvals = Err(Unavailable("Premium".into()));
        assert!(run(check, &data).is_empty());
        assert_eq!(unchecked(check, &data), [RULE.id]);
    }
}
