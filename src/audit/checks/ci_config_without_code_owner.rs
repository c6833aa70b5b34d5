//! `ci-config-without-code-owner`: a change to the pipeline (`.gitlab-ci.yml`, the files it
//! includes locally) or to `meltano.yml` can merge without a code owner's approval.

use super::Context;
use crate::audit::code_owners::CodeOwners;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::gitlab::types::{CODE_OWNERS_PATHS, DEFAULT_CI_CONFIG, ReviewedFiles};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "ci-config-without-code-owner",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Pipeline and Meltano files can change without a code owner's approval",
    why: "`.gitlab-ci.yml`, what it includes and `meltano.yml` decide which code gets production credentials and where its output goes. Any approver can approve a change to them unless code owners must: then the people who answer for the credentials review every change to how they are used.",
    fix: "Name owners for these files in `CODEOWNERS` (`/.gitlab-ci.yml @data-platform`, `/meltano.yml @data-platform`, and the CI files included locally) and turn on Code owner approval on the default branch's protection. `ciguard init` writes the entries; `ciguard init --apply` turns the approval on.",
};

/// The files whose changes need a code owner: the CI configuration, what it includes locally,
/// and `meltano.yml`.
fn guarded_files(files: &ReviewedFiles) -> Vec<String> {
    let mut paths = Vec::new();
    match &files.ci_config {
        Some((path, text)) => {
            paths.push(path.clone());
            paths.extend(local_includes(path, text));
        }
        None => paths.push(DEFAULT_CI_CONFIG.to_owned()),
    }
    if files.meltano {
        paths.push("meltano.yml".to_owned());
    }
    paths
}

/// The `include: local` paths of a CI file (those of a file GitLab would reject are left out).
fn local_includes(path: &str, text: &str) -> Vec<String> {
    let Ok(documents) = crate::yaml::ci::parse(text, std::path::Path::new(path), 0) else {
        return Vec::new();
    };
    let Some(include) = documents.last().and_then(|root| root.get("include")) else {
        return Vec::new();
    };
    let entries = include.items().map_or_else(|| vec![include], |items| items.iter().collect());
    entries
        .into_iter()
        .filter_map(|entry| match entry.as_str() {
            Some(text) if !text.contains("://") => Some(text),
            Some(_) => None,
            None => entry.get_str("local"),
        })
        .map(|local| local.trim_start_matches('/').to_owned())
        .collect()
}

/// Reports when code-owner approval is off on the default branch, or, when it is on, when a
/// guarded file has no owner; unknown when the tier does not say.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let (Some(reviews), Some(default)) = (cx.reviews(), cx.default_branch()) else {
        return;
    };
    // Unprotected: `default-branch-unprotected` says so.
    let Some(branch) = cx.default_branch_rule() else {
        return;
    };
    let problem = match branch.code_owner_approval_required {
        None => {
            return cx.unknown(
                &RULE,
                &crate::gitlab::types::Unavailable(
                    "the protected branch answer has no `code_owner_approval_required`: code \
                     owner approval needs GitLab Premium or Ultimate"
                        .to_owned(),
                ),
            );
        }
        Some(false) => {
            format!("code owner approval is not required on the default branch `{default}`")
        }
        Some(true) => {
            let Some(files) = cx.available(&RULE, &reviews.files) else {
                return;
            };
            match &files.code_owners {
                None => format!(
                    "there is no CODEOWNERS file ({})",
                    CODE_OWNERS_PATHS.join(", ")
                ),
                Some((path, text)) => {
                    let owners = CodeOwners::parse(text);
                    let unowned: Vec<String> = guarded_files(files)
                        .into_iter()
                        .filter(|file| owners.required_owners(file).is_empty())
                        .map(|file| format!("`{file}`"))
                        .collect();
                    if unowned.is_empty() {
                        return;
                    }
                    format!("`{path}` names no owner for {}", unowned.join(", "))
                }
            }
        }
    };
    out.push(cx.setting_finding(
        &RULE,
        "code_owners",
        format!(
            "{problem}: a change to how the pipeline uses its credentials can merge without its \
             owners' review"
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{reviewed, run, unchecked};

    fn with_code_owners(text: Option<&str>) -> Vec<Finding> {
        let mut data = reviewed();
        let files = data
            .reviews
            .as_mut()
            .and_then(|r| r.files.as_mut().ok())
            .expect("files");
        files.code_owners = text.map(|text| ("CODEOWNERS".to_owned(), text.to_owned()));
        files.ci_config = Some((
            ".gitlab-ci.yml".to_owned(),
            "include:\n  - local: /ci/extract.yml\n  - https://example.com/x.yml\n".to_owned(),
        ));
        run(check, &data)
    }

    #[test]
    fn fires_for_files_without_an_owner() {
        let found = with_code_owners(Some("/.gitlab-ci.yml @platform\n/meltano.yml @data\n"));
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("`ci/extract.yml`"), "{}", found[0].message);
        assert!(!found[0].message.contains("meltano"), "{}", found[0].message);
        let found = with_code_owners(None);
        assert!(found[0].message.contains("no CODEOWNERS"), "{}", found[0].message);
    }

    #[test]
    fn quiet_when_every_file_has_an_owner_and_approval_is_required() {
        assert!(with_code_owners(Some("*.yml @platform\n")).is_empty());
        assert!(with_code_owners(Some("/.gitlab-ci.yml @p\n/ci/ @p\nmeltano.yml @d\n")).is_empty());
    }

    #[test]
    fn fires_when_approval_is_off_unknown_when_the_tier_does_not_say() {
        let mut data = reviewed();
        let rules = data.protected_branches.as_mut().expect("branches");
        rules[0].code_owner_approval_required = Some(false);
        let found = run(check, &data);
        assert!(found[0].message.contains("not required"), "{}", found[0].message);
        data.protected_branches.as_mut().expect("branches")[0].code_owner_approval_required =
            None;
        assert!(run(check, &data).is_empty());
        assert_eq!(unchecked(check, &data), [RULE.id]);
    }
}
