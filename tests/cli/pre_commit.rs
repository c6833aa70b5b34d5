//! This repository's pre-commit hook (`.pre-commit-hooks.yaml`), run by real pre-commit on a
//! sample repository: a risky `.gitlab-ci.yml` fails with the finding shown, a clean one passes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{REPO, show};

fn pre_commit() -> PathBuf {
    let path = std::env::var_os("CIGUARD_TEST_PRE_COMMIT")
        .filter(|value| !value.is_empty())
        .map_or_else(
            || Path::new(REPO).join(".tools/release/bin/pre-commit"),
            PathBuf::from,
        );
    assert!(
        path.exists(),
        "the pre-commit test needs pre-commit at {}: install it with `scripts/install-test-tools` \
         (or run `.ci/run`), or point CIGUARD_TEST_PRE_COMMIT at it",
        path.display()
    );
    path
}

fn git(repo: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", show(&out));
}

/// `pre-commit try-repo <this repository> ciguard-lint --files FILE` in `sample`.
fn run_hook(sample: &Path, home: &Path, file: &str) -> Output {
    Command::new(pre_commit())
        .args(["try-repo", REPO, "ciguard-lint", "--files", file])
        .current_dir(sample)
        .env("PRE_COMMIT_HOME", home)
        // pre-commit builds ciguard from this repository with pip and maturin, as a user's
        // does; a debug build in a target directory of its own keeps the test quick.
        .env("MATURIN_PEP517_ARGS", "--profile dev")
        .env(
            "CARGO_TARGET_DIR",
            Path::new(REPO).join("target/pre-commit"),
        )
        .env_remove("VIRTUAL_ENV")
        .output()
        .expect("run pre-commit")
}

#[test]
fn the_pre_commit_hook_fails_a_risky_pipeline_and_passes_a_clean_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sample, home) = (dir.path().join("sample"), dir.path().join("pre-commit"));
    fs::create_dir_all(&sample).expect("create the sample repository");
    git(&sample, &["init", "--quiet"]);
    fs::write(
        sample.join(".gitlab-ci.yml"),
        "deploy:\n  variables:\n    CI_DEBUG_TRACE: \"true\"\n  script:\n    - ./deploy.sh\n",
    )
    .expect("write the risky pipeline");
    fs::write(
        sample.join("clean.gitlab-ci.yml"),
        "test:\n  script:\n    - make test\n",
    )
    .expect("write the clean pipeline");
    git(&sample, &["add", "."]);

    let risky = run_hook(&sample, &home, ".gitlab-ci.yml");
    let output = String::from_utf8_lossy(&risky.stdout);
    assert_eq!(risky.status.code(), Some(1), "{}", show(&risky));
    assert!(
        output.contains("ciguard lint") && output.contains("Failed"),
        "{}",
        show(&risky)
    );
    assert!(
        output.contains("debug-trace"),
        "the finding is shown: {}",
        show(&risky)
    );

    let clean = run_hook(&sample, &home, "clean.gitlab-ci.yml");
    assert_eq!(clean.status.code(), Some(0), "{}", show(&clean));
    assert!(
        String::from_utf8_lossy(&clean.stdout).contains("Passed"),
        "{}",
        show(&clean)
    );
}
