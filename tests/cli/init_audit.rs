//! `ciguard init` and `ciguard audit` agree: a project set up exactly as init's plan says gets no
//! audit finding at or above high. The staging copies init leaves unprotected on purpose are a
//! low reminder that `--fix` never proposes to protect, and a key file GitLab cannot mask is low
//! when the pipeline shows every job receiving it runs under `ciguard run`.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::common::{ciguard, show, text};
use crate::init::{PINNED_IMAGE, fixture_copy, init_ok};

/// A multi-line key file's content, as a `file` variable holds it.
const KEY_FILE: &str =
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAAS\n-----END PRIVATE KEY-----\n";

/// The variables CREDENTIALS.md's table plans, as `GET /projects/:id/variables` would list them
/// once created as it says (hidden values are `null`).
fn planned_variables(dir: &Path) -> Vec<Value> {
    let plan = std::fs::read_to_string(dir.join("CREDENTIALS.md")).expect("CREDENTIALS.md");
    plan.lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line
                .trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().trim_matches('`'))
                .collect();
            let file = cells[3] == "file";
            json!({
                "key": cells[0],
                "environment_scope": cells[1],
                "protected": cells[2] == "yes",
                "variable_type": if file { "file" } else { "env_var" },
                "masked": !file,
                "hidden": !file,
                "raw": true,
                "value": if file { Value::from(KEY_FILE) } else { Value::Null },
            })
        })
        .collect()
}

/// `ciguard audit --from-file variables.json ARGS` in `dir` as JSON.
fn audit_in(dir: &Path, args: &[&str]) -> (Output, Value) {
    let out = ciguard()
        .args(["audit", "--from-file", "variables.json", "--format", "json"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run ciguard audit");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, report)
}

/// Each finding as `severity rule key (scope)`.
fn findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["severity"].as_str().unwrap_or_default(),
                f["rule"].as_str().unwrap_or_default(),
                f["message"]
                    .as_str()
                    .unwrap_or_default()
                    .split(" at ")
                    .next()
                    .unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn a_project_set_up_as_the_plan_says_passes_the_generated_audit_job() {
    let dir = fixture_copy("environments");
    init_ok(dir.path(), &["--image", PINNED_IMAGE]);
    let variables = planned_variables(dir.path());
    assert!(
        variables
            .iter()
            .any(|v| v["environment_scope"] == "staging")
    );
    std::fs::write(
        dir.path().join("variables.json"),
        serde_json::to_string(&variables).expect("json"),
    )
    .expect("write variables");

    // What the generated audit job runs, in the checkout: its pipeline is read.
    let (out, report) = audit_in(dir.path(), &["--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let found = findings(&report);
    assert!(found.iter().all(|f| f.starts_with("low ")), "{found:#?}");
    assert!(
        found.contains(
            &"low non-production-credential-unprotected `TAP_POSTGRES_PASSWORD` (environment `staging`)"
                .to_owned()
        ),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|f| f.starts_with("low credential-not-masked `TARGET_SNOWFLAKE_PRIVATE_KEY_PATH` (environment `production`)")),
        "{found:#?}"
    );
    assert!(!text(&out.stdout).contains("MIIEvQIBADANBgkqhkiG9w0BAQEFAAS"));

    // `--fix` never proposes to protect what init left unprotected on purpose.
    let (out, _) = audit_in(dir.path(), &["--fix"]);
    assert!(
        text(&out.stderr).contains("--fix: nothing to change"),
        "{}",
        show(&out)
    );

    // Without the pipeline, nothing says who receives the key file: it stays high.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        dir.path().join("variables.json"),
        elsewhere.path().join("variables.json"),
    )
    .expect("copy");
    let (out, report) = audit_in(elsewhere.path(), &["--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        findings(&report).iter().any(
            |f| f.starts_with("high credential-not-masked `TARGET_SNOWFLAKE_PRIVATE_KEY_PATH`")
        ),
        "{:#?}",
        findings(&report)
    );

    // A job that prints its environment receives the key file too: high again.
    let pipeline = std::fs::read_to_string(dir.path().join(".gitlab-ci.yml")).expect("pipeline");
    let debug = format!(
        "{pipeline}\ndebug-production:\n  stage: deploy\n  environment: production\n  script:\n    - ciguard run -- meltano --version\n    - env\n"
    );
    std::fs::write(elsewhere.path().join("debug.yml"), debug).expect("write");
    let (out, _) = audit_in(
        elsewhere.path(),
        &["--fail-on", "high", "--pipeline", "debug.yml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
}

#[test]
fn an_unreadable_pipeline_is_an_error_when_asked_for_and_said_when_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("variables.json"), "[]").expect("write");
    std::fs::write(dir.path().join("broken.yml"), "job: [\n").expect("write");
    let (out, _) = audit_in(dir.path(), &["--pipeline", "broken.yml"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("broken.yml"), "{}", show(&out));

    // The checkout's own pipeline, not asked for: said, and the audit goes on without it.
    std::fs::rename(
        dir.path().join("broken.yml"),
        dir.path().join(".gitlab-ci.yml"),
    )
    .expect("rename");
    let (out, report) = audit_in(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(report["findings"], json!([]));
    assert!(
        text(&out.stderr).contains("audited without the pipeline"),
        "{}",
        show(&out)
    );
}

#[test]
fn schedules_say_what_production_runs_without_run() {
    let dir = fixture_copy("schedules");
    let path = dir.path().join("meltano.yml");
    let project = std::fs::read_to_string(&path).expect("meltano.yml");
    let two_jobs = project.replace(
        "schedules:\n",
        "- name: stripe-to-warehouse\n  tasks:\n  - tap-stripe target-postgres\nschedules:\n",
    );
    assert_ne!(two_jobs, project);
    std::fs::write(&path, two_jobs).expect("write");
    let out = ciguard()
        .args(["init", "--stdout", "--image", PINNED_IMAGE])
        .current_dir(dir.path())
        .output()
        .expect("run ciguard init");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let pipeline = text(&out.stdout);
    assert!(
        pipeline.contains("elt-production-github-daily:"),
        "{pipeline}"
    );
    assert!(
        pipeline.contains("ciguard run -- meltano --environment=staging run github-to-warehouse"),
        "{pipeline}"
    );
}
