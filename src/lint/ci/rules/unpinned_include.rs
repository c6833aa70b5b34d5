//! `unpinned-include`: a remote include without `integrity`, or a project include or component
//! without a pinned ref.

use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::lint::ci::pipeline::IncludeKind;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "unpinned-include",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "Included configuration can change without a change to this repository",
    why: "Whoever can change the included file, its branch or the remote server decides what your jobs run, with your credentials, and nothing in this repository's history shows it.",
    fix: "Pin project includes to a commit SHA or a release tag (`ref:`), components to a full version or SHA (`@1.2.3`), and give remote includes an `integrity:` hash.",
};

/// Whether `git_ref` names a fixed commit: a full SHA or a full version tag.
fn is_pinned(git_ref: &str) -> bool {
    if THIS_COMMIT.contains(&git_ref) {
        return true;
    }
    let is_sha = git_ref.len() == 40 && git_ref.chars().all(|c| c.is_ascii_hexdigit());
    let version = git_ref.strip_prefix('v').unwrap_or(git_ref);
    let parts: Vec<&str> = version.split(['.', '-', '+']).collect();
    let is_full_version = parts.len() >= 3
        && parts[..3]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    is_sha || is_full_version
}

/// The commit the pipeline runs for: GitLab's documented way to test a component in its own
/// project (`component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/name@$CI_COMMIT_SHA`).
const THIS_COMMIT: &[&str] = &["$CI_COMMIT_SHA", "${CI_COMMIT_SHA}"];

/// The project the pipeline runs in: its files are reviewed like the pipeline's own.
const THIS_PROJECT: &[&str] = &["$CI_PROJECT_PATH", "${CI_PROJECT_PATH}"];

/// Whether a component address (`host/project/name`) is in the project the pipeline runs in.
fn is_own_component(address: &str) -> bool {
    address
        .split_once('/')
        .is_some_and(|(_, path)| THIS_PROJECT.iter().any(|own| path.starts_with(&format!("{own}/"))))
}

/// Why an include is not pinned, if it is not.
fn unpinned_because(kind: &IncludeKind) -> Option<String> {
    match kind {
        IncludeKind::Project { project, .. } if THIS_PROJECT.contains(&project.as_str()) => None,
        IncludeKind::Remote {
            has_integrity: false,
            ..
        } => Some("has no `integrity:` hash".to_owned()),
        IncludeKind::Project { git_ref: None, .. } => {
            Some("has no `ref:`, so it follows the project's default branch".to_owned())
        }
        IncludeKind::Project {
            git_ref: Some(git_ref),
            ..
        } if !is_pinned(git_ref) => Some(format!("uses ref `{git_ref}`, which can move")),
        IncludeKind::Component(component) => {
            let (address, version) = match component.rsplit_once('@') {
                Some((address, version)) => (address, Some(version)),
                None => (component.as_str(), None),
            };
            match version {
                _ if is_own_component(address) => None,
                Some(version) if is_pinned(version) => None,
                Some(version) => Some(format!("uses version `{version}`, which can move")),
                None => Some("has no version".to_owned()),
            }
        }
        IncludeKind::Remote { .. }
        | IncludeKind::Project { .. }
        | IncludeKind::Local(_)
        | IncludeKind::Template(_) => None,
    }
}

/// Reports each unpinned include.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(pipeline) = cx.file() else {
        return;
    };
    for include in &pipeline.includes {
        if let Some(because) = unpinned_because(&include.kind) {
            let keyword = include.kind.keyword();
            let target = include.kind.target();
            let message = format!("include:{keyword} `{target}` {because}");
            let logical = format!("include.{keyword}.{target}");
            out.push(cx.finding(&RULE, include.node.at, target, logical, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_refs() {
        assert!(is_pinned("v1.2.3"));
        assert!(is_pinned("1.2.3-rc1"));
        assert!(is_pinned("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_pinned("main"));
        assert!(!is_pinned("~latest"));
        assert!(!is_pinned("1.2"));
        assert!(is_pinned("$CI_COMMIT_SHA"));
    }

    #[test]
    fn the_projects_own_files_and_components_need_no_pin() {
        for own in [
            IncludeKind::Project {
                project: "$CI_PROJECT_PATH".into(),
                git_ref: Some("main".into()),
            },
            IncludeKind::Component("$CI_SERVER_FQDN/$CI_PROJECT_PATH/lint@main".into()),
            IncludeKind::Component("gitlab.com/group/x/lint@$CI_COMMIT_SHA".into()),
        ] {
            assert_eq!(unpinned_because(&own), None, "{own:?}");
        }
        let other = IncludeKind::Component("gitlab.com/$CI_PROJECT_PATH_X/lint@main".into());
        assert!(unpinned_because(&other).is_some());
    }
}
