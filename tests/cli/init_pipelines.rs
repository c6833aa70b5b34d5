//! The pipelines `ciguard init` generates, evaluated by gitlab-ci-local: which jobs a protected
//! default-branch push, a schedule, an unprotected branch, a merge request and a tag get; and one
//! production job run on the host shell with real Meltano (tap-leaky into target-jsonl), whose
//! records land and whose log holds no secret.

use std::ffi::OsString;
use std::fs;

use crate::gitlab_ci_local::{Repo, Situation, jobs_that_run, list_jobs};
use crate::init::{MELTANO_FIXTURES, PINNED_IMAGE, fixture_copy, init_ok};
use crate::meltano::{copy_prepared_project, landed_records, printed_forms, tools};

/// A repository holding fixture `name` and the pipeline `init` generated for it.
fn generated_repo(name: &str) -> Repo {
    generated_repo_with(name, &[])
}

/// [`generated_repo`] with more options for `init`.
fn generated_repo_with(name: &str, options: &[&str]) -> Repo {
    let dir = fixture_copy(name);
    init_ok(dir.path(), &[&["--image", PINNED_IMAGE], options].concat());
    let repo = Repo::empty();
    for file in [".gitlab-ci.yml", "meltano.yml"] {
        fs::copy(dir.path().join(file), repo.root().join(file)).expect("copy");
    }
    repo.commit("ciguard init");
    repo
}

fn production_jobs(jobs: &[impl AsRef<str>]) -> Vec<&str> {
    jobs.iter()
        .map(AsRef::as_ref)
        .filter(|job| job.starts_with("elt-production"))
        .collect()
}

#[test]
fn production_jobs_run_only_on_the_protected_default_branch() {
    for name in MELTANO_FIXTURES {
        let repo = generated_repo(name);
        let push = list_jobs(&repo, &Situation::default_branch_push());
        assert!(push.created, "{name}");
        let running = push.jobs_that_run();
        assert!(!production_jobs(&running).is_empty(), "{name}: {running:?}");
        assert!(running.contains(&"ciguard-lint") && running.contains(&"ciguard-audit"));
        assert!(
            !running.iter().any(|job| job.starts_with("elt-staging")),
            "{name}"
        );

        let unprotected =
            Situation::default_branch_push().with_variable("CI_COMMIT_REF_PROTECTED", "false");
        let running = jobs_that_run(&repo, &unprotected);
        assert!(production_jobs(&running).is_empty(), "{name}: {running:?}");
        assert!(
            !running.iter().any(|job| job == "ciguard-audit"),
            "the audit token is protected too"
        );

        let feature = list_jobs(&repo, &Situation::feature_branch_push());
        assert!(
            !feature.created,
            "{name}: no branch pipeline for an unprotected branch"
        );
        let protected_feature =
            Situation::feature_branch_push().with_variable("CI_COMMIT_REF_PROTECTED", "true");
        let running = jobs_that_run(&repo, &protected_feature);
        assert!(production_jobs(&running).is_empty(), "{name}: {running:?}");

        let tag = list_jobs(&repo, &Situation::tag());
        assert!(tag.created, "{name}: tags get a pipeline");
        assert!(production_jobs(&tag.jobs_that_run()).is_empty(), "{name}");
    }
}

#[test]
fn job_logs_are_scanned_only_by_schedules_on_the_protected_default_branch_when_asked() {
    const SCAN: &str = "ciguard-scan-job-logs";
    let repo = generated_repo("schedules");
    let schedule = Situation::default_branch_schedule(&[("MELTANO_SCHEDULE", "github-daily")]);
    assert!(
        !list_jobs(&repo, &schedule)
            .jobs
            .iter()
            .any(|j| j.name == SCAN),
        "not unless asked"
    );
    let repo = generated_repo_with("schedules", &["--scan-job-logs"]);
    assert!(jobs_that_run(&repo, &schedule).contains(&SCAN.to_owned()));
    let pipeline = list_jobs(&repo, &schedule);
    let script = pipeline.job(SCAN).definition["script"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        script.starts_with("ciguard scan --gitlab --since 30d"),
        "{script}"
    );
    for situation in [
        Situation::default_branch_push(),
        Situation::merge_request(),
        schedule.with_variable("CI_COMMIT_REF_PROTECTED", "false"),
    ] {
        assert!(!jobs_that_run(&repo, &situation).contains(&SCAN.to_owned()));
    }
}

#[test]
fn merge_request_pipelines_run_staging_and_lint_never_production() {
    for (name, staging) in [
        ("one-tap", None),
        ("environments", Some("elt-staging")),
        ("schedules", Some("elt-staging")),
    ] {
        let repo = generated_repo(name);
        let pipeline = list_jobs(&repo, &Situation::merge_request());
        assert!(pipeline.created, "{name}");
        let running = pipeline.jobs_that_run();
        assert!(production_jobs(&running).is_empty(), "{name}: {running:?}");
        assert!(!running.contains(&"ciguard-audit"), "{name}");
        assert!(running.contains(&"ciguard-lint"), "{name}");
        if let Some(staging) = staging {
            assert!(running.contains(&staging), "{name}: {running:?}");
            let job = pipeline.job(staging);
            assert_eq!(job.environment.as_deref(), Some("staging"));
            // Even a merge request between protected branches: never production.
            let protected =
                Situation::merge_request().with_variable("CI_COMMIT_REF_PROTECTED", "true");
            let running = jobs_that_run(&repo, &protected);
            assert!(production_jobs(&running).is_empty(), "{name}: {running:?}");
        }
    }
}

#[test]
fn each_schedule_runs_its_own_production_job() {
    let repo = generated_repo("schedules");
    let daily = Situation::default_branch_schedule(&[("MELTANO_SCHEDULE", "github-daily")]);
    let pipeline = list_jobs(&repo, &daily);
    assert_eq!(
        pipeline.job("elt-production-github-daily").when,
        "on_success"
    );
    assert_eq!(pipeline.job("elt-production-stripe-hourly").when, "never");
    let definition = &pipeline.job("elt-production-github-daily").definition;
    assert_eq!(definition["resource_group"], "elt-production");
    assert_eq!(definition["interruptible"], false);

    let push = list_jobs(&repo, &Situation::default_branch_push());
    for job in [
        "elt-production-github-daily",
        "elt-production-stripe-hourly",
    ] {
        assert_eq!(
            push.job(job).when,
            "manual",
            "a push offers scheduled runs by hand"
        );
    }
    let unprotected = Situation::default_branch_schedule(&[("MELTANO_SCHEDULE", "github-daily")])
        .with_variable("CI_COMMIT_REF_PROTECTED", "false");
    let running = jobs_that_run(&repo, &unprotected);
    assert!(production_jobs(&running).is_empty(), "{running:?}");
}

/// The production password, and one a staging job would get: only the first may reach the job.
const PRODUCTION_PASSWORD: &str = "prod-Pw-4c1d9e7f2b";
const STAGING_PASSWORD: &str = "staging-Pw-8a3b5c7d9e";
const PRODUCTION_DSN: &str = "postgresql://etl:Dsn-Pw-5e8f1a2b@db.example:5432/prod";
/// The HMAC key of the fixture's pseudonymizing mapping (`PII_HMAC_KEY`), production scope.
const PII_KEY: &str = "pii-key-2f8d1c7a9b3e5f60718293a4b5c6d7e8";

#[test]
fn the_generated_production_job_runs_real_meltano_with_no_secret_in_its_log() {
    let tools = tools();
    let repo = Repo::empty();
    let root = repo.root();
    copy_prepared_project(&tools, &root);
    // A production Meltano environment, as a real project has.
    let meltano_yml = fs::read_to_string(root.join("meltano.yml")).expect("meltano.yml");
    let with_prod = meltano_yml.replace("- name: dev\n", "- name: dev\n- name: prod\n");
    assert_ne!(with_prod, meltano_yml, "the fixture lists its environments");
    fs::write(root.join("meltano.yml"), with_prod).expect("write meltano.yml");
    fs::write(root.join(".gitignore"), ".meltano/\noutput/\n").expect(".gitignore");
    init_ok(
        &root,
        &["--image", PINNED_IMAGE, "--setup", "meltano --version"],
    );
    repo.commit("ciguard init");

    let ciguard_dir = std::path::Path::new(env!("CARGO_BIN_EXE_ciguard"))
        .parent()
        .expect("the binary's directory")
        .to_owned();
    let mut path = OsString::from(&tools.venv_bin);
    path.push(":");
    path.push(&ciguard_dir);
    if let Some(rest) = std::env::var_os("PATH") {
        path.push(":");
        path.push(rest);
    }
    let run = repo
        .job("elt-production")
        .situation(&Situation::default_branch_push())
        .env("PATH", path)
        .scoped_variable(
            "TAP_LEAKY_PASSWORD",
            &[
                ("production", PRODUCTION_PASSWORD),
                ("staging", STAGING_PASSWORD),
            ],
        )
        .scoped_variable("TAP_LEAKY_DSN", &[("production", PRODUCTION_DSN)])
        .scoped_variable("PII_HMAC_KEY", &[("production", PII_KEY)])
        // The tap's second stream holds personal fields, which the mapping pseudonymizes.
        .variable("TAP_LEAKY_CUSTOMERS", "true")
        // The tap prints its password on stderr: the leak ciguard run must catch.
        .variable("TAP_LEAKY_ECHO_PASSWORD", "true")
        .run();
    assert_eq!(run.exit_code, Some(0), "{}", run.show());
    let everything = format!("{}\n{}\n{}", run.log, run.stdout(), run.stderr());
    for secret in [
        PRODUCTION_PASSWORD,
        STAGING_PASSWORD,
        PRODUCTION_DSN,
        "Dsn-Pw-5e8f1a2b",
    ] {
        for form in printed_forms(secret) {
            assert!(
                !everything.contains(&form),
                "{form:?} in the job's output\n{}",
                run.show()
            );
        }
    }
    assert!(
        run.log.contains("[MASKED]"),
        "the echoed password was masked\n{}",
        run.show()
    );
    // init put the mapping meltano.yml declares between the tap and the target.
    assert!(run.log.contains(
        "ciguard run -- meltano --environment=prod run tap-leaky pseudonymize-customers target-jsonl"
    ));

    let records = landed_records(&root, "users");
    let names: Vec<&str> = records.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["user1", "user2", "user3"], "the records landed");
    let customers = landed_records(&root, "customers");
    assert_eq!(customers.len(), 3);
    for customer in &customers {
        let email = customer["email"].as_str().expect("a hashed email");
        assert!(email.starts_with("k1:") && email.len() == 3 + 64, "{email}");
        assert!(customer.get("ssn").is_none(), "ssn is dropped");
    }
}

#[test]
fn this_projects_pipeline_runs_its_own_lint_component() {
    let read = |path: &str| {
        fs::read_to_string(std::path::Path::new(crate::common::REPO).join(path)).expect(path)
    };
    let repo = Repo::new(&[
        (".gitlab-ci.yml", &read(".gitlab-ci.yml")),
        ("templates/lint.yml", &read("templates/lint.yml")),
    ]);
    let pipeline = list_jobs(&repo, &Situation::merge_request());
    assert!(pipeline.jobs_that_run().contains(&"ciguard-lint"));
    let lint = &pipeline.job("ciguard-lint").definition;
    assert_eq!(lint["stage"], "check");
    assert_eq!(lint["image"]["name"], "rust:1.95");
    assert_eq!(lint["variables"]["CIGUARD_LINT_PATHS"], ".gitlab-ci.yml");
    assert_eq!(
        lint["script"][0],
        "cargo run --quiet --locked -- lint --fail-on high \
         --report codequality=gl-code-quality-ciguard.json $CIGUARD_LINT_PATHS"
    );
    assert!(
        lint["cache"].is_array(),
        "the project adds its cargo cache: {lint}"
    );
}

/// The generated ELT job on an image without ciguard: it installs ciguard with pip into the
/// image's Python (here a fresh venv; the built wheel stands in for PyPI, where the release puts
/// it) and runs the step under it, masking what the step prints.
#[test]
fn the_elt_job_installs_ciguard_with_pip_when_the_image_lacks_it() {
    let dist = crate::wheel::dist();
    let repo = Repo::empty();
    let root = repo.root();
    init_ok(
        &root,
        &[
            "--image",
            PINNED_IMAGE,
            "--no-audit",
            "--command",
            "sh -c 'echo \"connecting with $WAREHOUSE_PASSWORD\"'",
        ],
    );
    repo.commit("ciguard init");

    let venv = tempfile::tempdir().expect("temp dir");
    let created = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv.path())
        .status()
        .expect("python3 -m venv");
    assert!(created.success());
    let bin = venv.path().join("bin");
    assert!(!bin.join("ciguard").exists());
    let run = repo
        .job("elt-production")
        .situation(&Situation::default_branch_push())
        .env("PATH", crate::wheel::path_without_rust(&bin))
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", dist.dir.to_str().expect("UTF-8 path"))
        .scoped_variable("WAREHOUSE_PASSWORD", &[("production", PRODUCTION_PASSWORD)])
        .run();
    assert_eq!(run.exit_code, Some(0), "{}", run.show());
    assert!(
        bin.join("ciguard").exists(),
        "pip installed ciguard\n{}",
        run.show()
    );
    assert!(
        run.log.contains("connecting with [MASKED]"),
        "{}",
        run.show()
    );
    assert!(!run.log.contains(PRODUCTION_PASSWORD), "{}", run.show());
}

/// `init --secrets STORE`: gitlab-ci-local takes the pipeline with `secrets:` and `id_tokens:`,
/// and the production job that fetches them runs only on the protected default branch, never in
/// a merge request or on an unprotected ref.
#[test]
fn production_jobs_fetching_external_secrets_run_only_on_the_protected_default_branch() {
    for store in [
        "vault",
        "gcp-secret-manager",
        "aws-secrets-manager",
        "azure-key-vault",
        "gitlab",
    ] {
        let repo = generated_repo_with("environments", &["--secrets", store]);
        let running = jobs_that_run(&repo, &Situation::default_branch_push());
        assert_eq!(
            production_jobs(&running),
            ["elt-production"],
            "{store}: {running:?}"
        );
        let unprotected =
            Situation::default_branch_push().with_variable("CI_COMMIT_REF_PROTECTED", "false");
        let running = jobs_that_run(&repo, &unprotected);
        assert!(production_jobs(&running).is_empty(), "{store}: {running:?}");
        let running = jobs_that_run(&repo, &Situation::merge_request());
        assert!(production_jobs(&running).is_empty(), "{store}: {running:?}");
        assert!(
            running.iter().any(|job| job == "elt-staging"),
            "{store}: {running:?}"
        );
    }
}
