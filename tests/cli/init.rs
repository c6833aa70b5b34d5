//! `ciguard init` end to end: every generated pipeline and every component validates against
//! GitLab's schema and gives no lint finding; the generated files hold no credential value;
//! existing files are never replaced silently; bad input exits 2 saying what to do.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use ciguard::generate::component::{self, InputValue};

use crate::common::{REPO, assert_snapshot, ciguard, text};

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/external/gitlab-ci.schema.json"
);

/// An ELT image pinned by digest, as production jobs should have.
pub const PINNED_IMAGE: &str = "registry.example.com/acme/elt@sha256:4f1c7b9e2a6d8c0e3b5a7f9d1c2e4a6b8d0f2e4c6a8b0d2f4e6a8c0b2d4f6e8a";

/// The Meltano fixtures of tests/fixtures/init, by directory name.
pub const MELTANO_FIXTURES: [&str; 4] = ["one-tap", "environments", "schedules", "pii"];

/// A temp copy of tests/fixtures/init/NAME.
pub fn fixture_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let from = Path::new(REPO).join("tests/fixtures/init").join(name);
    for entry in std::fs::read_dir(&from).expect("fixture dir") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    dir
}

/// `ciguard init ARGS` in `dir`.
pub fn init_in(dir: &Path, args: &[&str]) -> Output {
    ciguard()
        .arg("init")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run ciguard init")
}

/// `ciguard init ARGS` in `dir`, which must succeed.
pub fn init_ok(dir: &Path, args: &[&str]) {
    let out = init_in(dir, args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// The pipeline `init --stdout` generates for fixture `name` (a Meltano one, or `command`).
fn generated(name: &str) -> String {
    let out = if name == "command" {
        let dir = tempfile::tempdir().expect("temp dir");
        init_in(
            dir.path(),
            &[
                "--stdout",
                "--image",
                PINNED_IMAGE,
                "--command",
                "dbt build --target prod",
                "--variable",
                "DBT_PASSWORD",
                "--setup",
                "dbt deps",
            ],
        )
    } else {
        let dir = fixture_copy(name);
        init_in(dir.path(), &["--stdout", "--image", PINNED_IMAGE])
    };
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Errors of `yaml` (one document) against GitLab's CI schema.
pub fn schema_errors(yaml: &str) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(SCHEMA).expect("GitLab CI schema"))
                .expect("schema JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    });
    let document: serde_json::Value = serde_saphyr::from_str(yaml).expect("YAML");
    validator
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The findings `ciguard lint` reports for `yaml` as a `.gitlab-ci.yml`, as `rule: message`.
fn lint_findings(yaml: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(".gitlab-ci.yml"), yaml).expect("write");
    lint_findings_in(dir.path())
}

/// The findings `ciguard lint` reports for the `.gitlab-ci.yml` of `dir` (and what it includes
/// locally), at any severity, as `rule: message`.
pub fn lint_findings_in(dir: &Path) -> Vec<String> {
    let out = ciguard()
        .args([
            "lint",
            "--format",
            "json",
            "--fail-on",
            "never",
            ".gitlab-ci.yml",
        ])
        .current_dir(dir)
        .output()
        .expect("run ciguard lint");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| format!("{}: {}", f["rule"], f["message"]))
        .collect()
}

#[test]
fn generated_pipelines_validate_give_no_lint_finding_and_match_the_snapshots() {
    for name in MELTANO_FIXTURES.iter().chain(&["command"]) {
        let pipeline = generated(name);
        let errors = schema_errors(&pipeline);
        assert!(errors.is_empty(), "{name}: {errors:#?}\n{pipeline}");
        let findings = lint_findings(&pipeline);
        assert!(findings.is_empty(), "{name}: {findings:#?}\n{pipeline}");
        assert_snapshot(&format!("init-{name}.gitlab-ci.yml"), &pipeline);
    }
}

#[test]
fn production_jobs_are_protected_scoped_serialised_and_scrubbed() {
    for name in MELTANO_FIXTURES.iter().chain(&["command"]) {
        let pipeline: serde_json::Value = serde_saphyr::from_str(&generated(name)).expect("YAML");
        let jobs = pipeline.as_object().expect("mapping");
        let production: Vec<&String> = jobs
            .keys()
            .filter(|key| key.starts_with("elt-production"))
            .collect();
        assert!(!production.is_empty(), "{name}: no production job");
        for key in production {
            let job = &jobs[key];
            assert_eq!(job["environment"]["name"], "production", "{name} {key}");
            assert_eq!(job["environment"]["deployment_tier"], "production");
            assert_eq!(job["resource_group"], "elt-production");
            assert_eq!(job["extends"], ".ciguard-elt-production-true");
            let command = elt_command(job);
            let script = command.as_str().expect("script");
            assert!(script.starts_with("ciguard run -- "), "{script}");
        }
        let template = &jobs[".ciguard-elt-production-true"];
        assert_eq!(template["interruptible"], false);
        let rules = template["rules"].as_array().expect("rules");
        assert_eq!(
            rules[0]["if"],
            "$CI_PIPELINE_SOURCE == \"merge_request_event\""
        );
        assert_eq!(rules[0]["when"], "never");
        assert_eq!(
            rules[1]["if"],
            "$CI_COMMIT_REF_PROTECTED != \"true\" || $CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH"
        );
        assert_eq!(rules[1]["when"], "never");
        let workflow = pipeline["workflow"]["rules"].as_array().expect("workflow");
        assert_eq!(workflow.len(), 3, "merge requests, default branch, tags");
    }
}

#[test]
fn merge_requests_run_the_staging_environment_and_schedules_get_one_job_each() {
    let pipeline: serde_json::Value =
        serde_saphyr::from_str(&generated("schedules")).expect("YAML");
    let staging = &pipeline["elt-staging"];
    assert_eq!(staging["environment"]["name"], "staging");
    assert_eq!(staging["extends"], ".ciguard-elt-production-false");
    assert_eq!(
        elt_command(staging),
        "ciguard run -- meltano --environment=staging run github-to-warehouse"
    );
    assert_eq!(
        pipeline[".ciguard-elt-production-false"]["rules"][0]["if"],
        "$CI_PIPELINE_SOURCE == \"merge_request_event\""
    );
    for (schedule, run) in [
        ("github-daily", "github-to-warehouse"),
        ("stripe-hourly", "tap-stripe target-postgres"),
    ] {
        let job = &pipeline[format!("elt-production-{schedule}").as_str()];
        assert_eq!(job["variables"]["CIGUARD_ELT_SCHEDULE"], schedule);
        assert_eq!(
            elt_command(job),
            format!("ciguard run -- meltano --environment=production run {run}")
        );
    }
}

#[test]
fn declared_personal_fields_put_the_pseudonymizer_in_every_run_and_its_key_in_the_plan() {
    let dir = fixture_copy("pii");
    let out = init_in(dir.path(), &["--image", PINNED_IMAGE]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pipeline: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(dir.path().join(".gitlab-ci.yml")).expect("pipeline"),
    )
    .expect("YAML");
    for (job, environment) in [("elt-production", "prod"), ("elt-staging", "staging")] {
        assert_eq!(
            elt_command(&pipeline[job]),
            format!(
                "ciguard run -- meltano --environment={environment} run tap-shop \
                 pseudonymize-customers target-bigquery"
            )
        );
    }
    let plan = std::fs::read_to_string(dir.path().join("CREDENTIALS.md")).expect("plan");
    assert!(
        plan.contains("| `PII_HMAC_KEY` | `production` | yes | masked and hidden |"),
        "{plan}"
    );
    assert!(
        plan.contains("| `PII_HMAC_KEY` | `staging` | no | masked and hidden |"),
        "{plan}"
    );
}

#[test]
fn no_credential_value_reaches_the_generated_files() {
    let dir = fixture_copy("environments");
    let out = init_in(dir.path(), &["--image", PINNED_IMAGE]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pipeline = std::fs::read_to_string(dir.path().join(".gitlab-ci.yml")).expect("pipeline");
    let plan = std::fs::read_to_string(dir.path().join("CREDENTIALS.md")).expect("plan");
    for output in [&pipeline, &plan, &text(&out.stdout), &text(&out.stderr)] {
        assert!(!output.contains("literal-committed-secret-0001"));
    }
    // The committed secret's setting is planned as a variable: it must move there.
    assert!(
        plan.contains("| `TARGET_SNOWFLAKE_PASSWORD` | `production` | yes | masked and hidden |")
    );
    assert!(plan.contains("| `TAP_POSTGRES_PASSWORD` | `staging` | no | masked and hidden |"));
    assert!(plan.contains("| `TARGET_SNOWFLAKE_PRIVATE_KEY_PATH` | `production` | yes | file |"));
    assert!(
        plan.contains("| `CIGUARD_GITLAB_TOKEN` | `ciguard-audit` | yes | masked and hidden |")
    );
    assert!(
        !plan.contains("TAP_POSTGRES_HOST"),
        "a host is no credential"
    );
}

#[test]
fn the_plan_table_lists_every_variable_with_scope_and_flags() {
    let dir = fixture_copy("schedules");
    let out = init_in(dir.path(), &["--image", PINNED_IMAGE, "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_snapshot("init-schedules-plan.txt", &stdout);
    assert!(
        !dir.path().join(".gitlab-ci.yml").exists(),
        "--dry-run writes nothing"
    );
    assert!(!dir.path().join("CREDENTIALS.md").exists());
}

#[test]
fn a_different_existing_file_is_never_replaced_without_force() {
    let dir = fixture_copy("one-tap");
    let pipeline = dir.path().join(".gitlab-ci.yml");
    std::fs::write(&pipeline, "old-job:\n  script: [make]\n").expect("write");
    let out = init_in(dir.path(), &["--image", PINNED_IMAGE]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(
        text(&out.stdout).contains("-old-job:"),
        "the difference is shown"
    );
    assert_eq!(
        std::fs::read_to_string(&pipeline).expect("read"),
        "old-job:\n  script: [make]\n"
    );
    assert!(
        !dir.path().join("CREDENTIALS.md").exists(),
        "all or nothing"
    );

    let out = init_in(dir.path(), &["--image", PINNED_IMAGE, "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&pipeline).expect("read");
    assert!(written.contains("elt-production:"));

    let out = init_in(dir.path(), &["--image", PINNED_IMAGE]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "same content: nothing to refuse"
    );
    assert!(text(&out.stdout).contains(".gitlab-ci.yml: unchanged"));
}

#[test]
fn bad_input_exits_2_saying_what_to_do() {
    let empty = tempfile::tempdir().expect("temp dir");
    let out = init_in(empty.path(), &["--image", PINNED_IMAGE]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--command"),
        "{}",
        text(&out.stderr)
    );

    let dir = fixture_copy("environments");
    let out = init_in(
        dir.path(),
        &["--image", PINNED_IMAGE, "--production-env", "live"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("has no environment"), "{stderr}");
    assert!(
        !stderr.contains("`live`"),
        "a refused value is not repeated: {stderr}"
    );

    std::fs::write(
        dir.path().join("meltano.yml"),
        "plugins:\n  extractors: [\n",
    )
    .expect("w");
    let out = init_in(dir.path(), &["--image", PINNED_IMAGE]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("meltano.yml:"),
        "{}",
        text(&out.stderr)
    );

    let out = init_in(dir.path(), &["--command", "dbt build"]);
    assert_eq!(out.status.code(), Some(2), "--image is required");

    let out = init_in(
        dir.path(),
        &[
            "--image",
            "x",
            "--command",
            "dbt build",
            "--variable",
            "A=hunter2-typed-secret",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "a value is refused as a name");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("'--variable <NAME>'") && stderr.contains("not a variable name"));
    assert!(
        !stderr.contains("hunter2-typed-secret"),
        "the value is never repeated: {stderr}"
    );
}

/// The command an ELT job runs: its last script line (the one before installs ciguard when the
/// image lacks it).
fn elt_command(job: &serde_json::Value) -> serde_json::Value {
    let script = job["script"].as_array().expect("a script");
    assert_eq!(
        script.len(),
        2,
        "install ciguard, then run the step: {script:?}"
    );
    assert!(
        script[0]
            .as_str()
            .is_some_and(|line| line.contains("pip install")),
        "{script:?}"
    );
    script[1].clone()
}

/// The inputs each component needs beyond its defaults.
fn required_inputs(name: &str) -> Vec<(&'static str, InputValue)> {
    match name {
        "elt" => vec![("command", "meltano run tap-x target-y".into())],
        _ => Vec::new(),
    }
}

#[test]
fn every_component_validates_and_its_jobs_give_no_lint_finding() {
    let templates = Path::new(REPO).join("templates");
    let mut on_disk: Vec<PathBuf> = std::fs::read_dir(&templates)
        .expect("templates/")
        .map(|e| e.expect("entry").path())
        .collect();
    on_disk.sort();
    assert_eq!(
        on_disk.len(),
        component::ALL.len(),
        "every file of templates/ is embedded"
    );
    for component in component::ALL {
        let (spec, body) = component
            .source
            .split_once("\n---\n")
            .expect("spec header, then `---`");
        let errors = schema_errors(spec);
        assert!(errors.is_empty(), "{} spec: {errors:#?}", component.name);
        let inputs = component::inputs(component).expect("inputs");
        for input in &inputs {
            assert!(
                !input.description.is_empty(),
                "{}: {}",
                component.name,
                input.name
            );
        }
        assert!(
            body.contains("$[["),
            "{} interpolates inputs",
            component.name
        );
        for production in [true, false] {
            let mut given = required_inputs(component.name);
            if component.name == "elt" {
                given.push(("production", production.into()));
                given.push(("image", PINNED_IMAGE.into()));
                if !production {
                    given.push(("environment", "staging".into()));
                    given.push(("deployment_tier", "staging".into()));
                }
            }
            let jobs = component::render(component, &given).expect("renders");
            let yaml = ciguard::generate::emit::document(
                &[],
                &jobs
                    .entries()
                    .expect("jobs")
                    .iter()
                    .map(|entry| ciguard::generate::emit::Section {
                        comment: Vec::new(),
                        key: entry.key.to_string(),
                        value: entry.value.clone(),
                    })
                    .collect::<Vec<_>>(),
            );
            let errors = schema_errors(&yaml);
            assert!(errors.is_empty(), "{}: {errors:#?}\n{yaml}", component.name);
            let findings = lint_findings(&yaml);
            assert!(
                findings.is_empty(),
                "{}: {findings:#?}\n{yaml}",
                component.name
            );
        }
    }
}

#[test]
fn component_inputs_are_checked_like_gitlab_checks_them() {
    let render = |given: Vec<(&str, InputValue)>| component::render(component::ELT, &given);
    let error = |given| render(given).expect_err("refused").to_string();
    assert!(error(Vec::new()).contains("input `command` is required"));
    let command = ("command", InputValue::from("meltano run a b"));
    assert!(error(vec![command.clone(), ("colour", "red".into())]).contains("unknown input"));
    assert!(
        error(vec![command.clone(), ("production", "yes".into())]).contains("must be a boolean")
    );
    assert!(
        error(vec![command.clone(), ("deployment_tier", "live".into())])
            .contains("must be one of production, staging")
    );
    assert!(error(vec![command.clone(), ("schedule", "a b".into())]).contains("must match"));
    let jobs = render(vec![command, ("job_name", "nightly".into())]).expect("renders");
    let job = jobs.get("nightly").expect("the job is named by its input");
    assert_eq!(job.get_str("extends"), Some(".ciguard-elt-production-true"));
    assert_eq!(
        job.get("before_script")
            .and_then(|s| s.items())
            .map(<[_]>::len),
        Some(0)
    );
}

#[test]
fn every_corpus_meltano_project_gets_a_valid_clean_pipeline_or_a_clear_error() {
    let corpus = Path::new(REPO).join("tests/fixtures/external/corpus/meltano");
    let mut generated = 0;
    for entry in std::fs::read_dir(&corpus).expect("corpus") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|ext| ext != "yml") {
            continue;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::copy(&path, dir.path().join("meltano.yml")).expect("copy");
        let out = init_in(dir.path(), &["--stdout", "--image", PINNED_IMAGE]);
        let stderr = text(&out.stderr);
        match out.status.code() {
            Some(0) => {
                let pipeline = text(&out.stdout);
                let errors = schema_errors(&pipeline);
                assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
                let findings = lint_findings(&pipeline);
                assert!(findings.is_empty(), "{}: {findings:#?}", path.display());
                generated += 1;
            }
            Some(2) => assert!(
                stderr.contains("meltano.yml: ") && !stderr.contains("internal error"),
                "{}: {stderr}",
                path.display()
            ),
            other => panic!("{}: exit {other:?}\n{stderr}", path.display()),
        }
    }
    assert!(generated >= 3, "most corpus projects get a pipeline");
}

/// The stores `init --secrets` knows, with the key of their `secrets:` entries.
const SECRET_STORES: [(&str, &str); 5] = [
    ("vault", "vault"),
    ("gcp-secret-manager", "gcp_secret_manager"),
    ("aws-secrets-manager", "aws_secrets_manager"),
    ("azure-key-vault", "azure_key_vault"),
    ("gitlab", "gitlab_secrets_manager"),
];

/// `init --secrets STORE`: production jobs fetch each production credential with `secrets:`
/// (an ID token of their own when the store needs one); the pipeline validates and lints clean;
/// the staging job keeps its CI/CD variables; the plan names each secret and the claims to bind,
/// and plans no production variable.
#[test]
fn external_secrets_replace_production_variables_for_every_store() {
    for (store, key) in SECRET_STORES {
        let dir = fixture_copy("environments");
        init_ok(dir.path(), &["--image", PINNED_IMAGE, "--secrets", store]);
        let pipeline =
            std::fs::read_to_string(dir.path().join(".gitlab-ci.yml")).expect("pipeline");
        let errors = schema_errors(&pipeline);
        assert!(errors.is_empty(), "{store}: {errors:#?}\n{pipeline}");
        let findings = lint_findings_in(dir.path());
        assert!(findings.is_empty(), "{store}: {findings:#?}\n{pipeline}");

        let document: serde_json::Value = serde_saphyr::from_str(&pipeline).expect("YAML");
        let production = &document["elt-production"];
        let secrets = production["secrets"]
            .as_object()
            .expect("production secrets");
        let names: Vec<&str> = secrets.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "TAP_POSTGRES_PASSWORD",
                "TAP_POSTGRES_SSL_CLIENT_PRIVATE_KEY",
                "TARGET_SNOWFLAKE_PASSWORD",
                "TARGET_SNOWFLAKE_PRIVATE_KEY_PATH",
            ],
            "{store}"
        );
        assert!(
            secrets.values().all(|secret| secret.get(key).is_some()),
            "{store}"
        );
        assert_eq!(
            secrets["TARGET_SNOWFLAKE_PRIVATE_KEY_PATH"]["file"], true,
            "{store}"
        );
        assert_eq!(secrets["TAP_POSTGRES_PASSWORD"]["file"], false, "{store}");
        if store == "gitlab" {
            assert!(production.get("id_tokens").is_none(), "{store}");
        } else {
            let tokens = production["id_tokens"].as_object().expect("id_tokens");
            let (token, audience) = tokens.iter().next().expect("one ID token");
            assert_eq!(audience["aud"], "ciguard-elt-production", "{store}");
            assert!(
                secrets.values().all(|s| s["token"] == format!("${token}")),
                "{store}"
            );
        }
        let staging = &document["elt-staging"];
        assert!(staging.get("secrets").is_none() && staging.get("id_tokens").is_none());

        let plan = std::fs::read_to_string(dir.path().join("CREDENTIALS.md")).expect("plan");
        assert!(plan.contains("## Secret store: "), "{store}: {plan}");
        assert!(
            !plan.contains("| `TAP_POSTGRES_PASSWORD` | `production` |"),
            "{plan}"
        );
        assert!(
            plan.contains("| `TAP_POSTGRES_PASSWORD` | `staging` |"),
            "{plan}"
        );
        if store != "gitlab" {
            assert!(plan.contains("`ref_protected`: `true`"), "{store}: {plan}");
            assert!(
                plan.contains("`environment`: `production`"),
                "{store}: {plan}"
            );
        }
    }
}
