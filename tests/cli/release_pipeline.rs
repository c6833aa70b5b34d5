//! This project's own `.gitlab-ci.yml`, release included: valid for GitLab, clean for ciguard
//! lint, and its release jobs run for a protected version tag and for nothing else.

use std::fs;
use std::path::Path;

use crate::common::REPO;
use crate::gitlab_ci_local::{Repo, Situation, jobs_that_run};
use crate::init::{lint_findings_in, schema_errors};

/// In the order of the file.
const RELEASE_JOBS: [&str; 5] = [
    "release-build",
    "release-packages",
    "release-pypi",
    "release-image",
    "release",
];

fn pipeline() -> String {
    fs::read_to_string(Path::new(REPO).join(".gitlab-ci.yml")).expect("read .gitlab-ci.yml")
}

#[test]
fn the_project_pipeline_validates_against_gitlabs_schema() {
    let errors = schema_errors(&pipeline());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn ciguard_lint_finds_nothing_in_the_project_pipeline() {
    let findings = lint_findings_in(Path::new(REPO));
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

#[test]
fn release_jobs_run_for_a_protected_version_tag_and_nothing_else() {
    let lint = fs::read_to_string(Path::new(REPO).join("templates/lint.yml")).expect("lint.yml");
    let repo = Repo::new(&[
        (".gitlab-ci.yml", pipeline().as_str()),
        ("templates/lint.yml", lint.as_str()),
    ]);
    let release_jobs = |situation: &Situation| -> Vec<String> {
        jobs_that_run(&repo, situation)
            .into_iter()
            .filter(|job| job.starts_with("release"))
            .collect()
    };
    assert_eq!(release_jobs(&Situation::tag()), RELEASE_JOBS);
    for (what, situation) in [
        (
            "a push to the default branch",
            Situation::default_branch_push(),
        ),
        ("a feature branch", Situation::feature_branch_push()),
        ("a merge request", Situation::merge_request()),
        (
            "an unprotected version tag",
            Situation::tag().with_variable("CI_COMMIT_REF_PROTECTED", "false"),
        ),
        (
            "a protected tag that is no version",
            Situation::tag()
                .with_variable("CI_COMMIT_TAG", "nightly")
                .with_variable("CI_COMMIT_REF_NAME", "nightly"),
        ),
    ] {
        assert!(
            release_jobs(&situation).is_empty(),
            "{what} runs {:?}",
            release_jobs(&situation)
        );
    }
}
