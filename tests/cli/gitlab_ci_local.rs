//! A harness that evaluates GitLab CI pipelines with the real
//! [gitlab-ci-local](https://github.com/firecow/gitlab-ci-local) (4.73.0): which jobs a pipeline
//! holds on a given ref, and what a job prints when it runs on the host shell.
//!
//! - [`Repo`]: a temporary git repository holding a `.gitlab-ci.yml` and any other files,
//!   committed on `main`, with the remote `origin` (`git@gitlab.example:acme/elt.git`) and
//!   `origin/HEAD` pointing at `main`, as gitlab-ci-local wants.
//! - [`list_jobs`] / [`jobs_that_run`]: `gitlab-ci-local --list-json` in a [`Situation`] (a push
//!   to the protected default branch, a schedule, a feature branch, a merge request, a tag).
//! - [`run_job`] / [`Repo::job`]: one job, on the host shell even when it has an `image:`, with
//!   the pipeline's CI/CD variables (optionally scoped to environments) and the environment given.
//!
//! ```ignore
//! let repo = Repo::new(&[(".gitlab-ci.yml", PIPELINE), ("templates/elt.yml", ELT)]);
//! let pipeline = list_jobs(&repo, &Situation::merge_request());
//! assert_eq!(pipeline.jobs_that_run(), ["ciguard-lint", "elt-staging"]);
//! assert_eq!(pipeline.job("elt-staging").environment.as_deref(), Some("staging"));
//! assert!(!list_jobs(&repo, &Situation::feature_branch_push()).created);
//!
//! let run = repo.job("elt-staging").variable("TAP_PASSWORD", "pw").run();
//! assert_eq!(run.exit_code, Some(0), "{}", run.show());
//! assert!(run.log.contains("[MASKED]"));
//! ```
//!
//! What gitlab-ci-local does differently from GitLab, and how the harness deals with it:
//!
//! - It evaluates `workflow:rules` only for their `variables:`: a pipeline they exclude is still
//!   listed, every job with its own `when`. The harness evaluates them through a probe job whose
//!   `rules:` are `!reference [workflow, rules]` (see [`PROBE_JOB`]), in the same run.
//! - Naming a job on the command line skips its rules: [`run_job`] runs a job whatever its rules
//!   say; check the rules with [`list_jobs`].
//! - It warns about overriding predefined variables (`CI_COMMIT_BRANCH`...) on stdout, in the
//!   middle of the JSON: the harness silences it with `GCL_IGNORE_PREDEFINED_VARS`.
//! - `--list-json` gives name, description, stage, when, allow_failure, needs and the raw rules,
//!   but no environment: the harness reads the rest of each job from the expanded YAML that
//!   gitlab-ci-local writes (`.gitlab-ci-local/expanded-gitlab-ci.yml`: includes, inputs,
//!   `extends` and `!reference` resolved).
//! - The shell executor runs the job in the repository itself (not a copy: the copy it makes
//!   with rsync, `.gitlab-ci-local/builds/.docker`, is for Docker), through `bash`, which reads
//!   `~/.bashrc`: the harness gives it an empty `HOME`. `CI_PROJECT_DIR` still says
//!   `/builds/acme/elt`. The job's output goes to gitlab-ci-local's stdout and stderr, each line
//!   prefixed with the job name, and unprefixed (both streams) to
//!   `.gitlab-ci-local/output/<job>.log`. gitlab-ci-local exits 1 when the job fails: the job's
//!   own exit status is only in the `FAIL <code>` line on stderr.
//! - `include: local` finds only files git tracks (`git ls-files`): commit (or `git add`) the
//!   templates. The shell executor needs nothing committed: the job sees the working tree, so a
//!   Meltano project's `.meltano/` (plugin venvs, symlinks) can stay untracked.
//! - CI/CD variables (the variables file [`JobRun::variable`] writes) have their `$NAME`
//!   references expanded, as GitLab does for a variable without "Expand variable reference"
//!   unchecked: a test secret should hold no `$`.
//! - It masks nothing: it is no model of the runner's masking.
//!
//! A [`Repo`] takes one gitlab-ci-local at a time (they share `.gitlab-ci-local/`); tests run in
//! parallel, each with its own repository.
//!
//! `rules: if:` expressions are turned into JavaScript (`$X` becomes the JSON string or `null`) and
//! evaluated, which matches GitLab on what the generated rules use: an unset variable is `null`
//! (`$UNSET_A != $UNSET_B` is false, `$EMPTY != $UNSET` is true, `$EMPTY` alone is false), `&&`
//! binds tighter than `||`, parentheses group. Job-level `variables:` are visible in the job's
//! `rules: if:`, as in GitLab.
//!
//! The tests need gitlab-ci-local (and rsync, which it runs for every job), installed by
//! `scripts/install-test-tools` (`.ci/run` does it). They look for it where
//! `CIGUARD_TEST_GITLAB_CI_LOCAL` points, by default `.tools/node/node_modules/.bin/gitlab-ci-local`.
//! When it is missing they fail and say how to install it: they never skip.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{join, read_all, show, text};

/// Longest a single gitlab-ci-local run may take (a `--list-json` takes about 1 s, most of it
/// the schema validation).
const TIMEOUT: Duration = Duration::from_secs(180);

/// The remote gitlab-ci-local derives `CI_PROJECT_PATH` and `CI_SERVER_HOST` from.
pub const REMOTE: &str = "git@gitlab.example:acme/elt.git";

/// The job the harness adds to evaluate `workflow:rules` (gitlab-ci-local ignores their `when`).
pub const PROBE_JOB: &str = "harness-workflow-probe";

/// Where the harness keeps its own files in the repository.
const HARNESS_DIR: &str = ".harness";

/// The pipeline `list_jobs` evaluates: the repository's, and the workflow probe.
const WRAPPER: &str = ".harness/pipeline.yml";

/// The fixtures of these tests.
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/init/gitlab-ci-local"
);

// ---------------------------------------------------------------------------------------------
// The tests of the harness itself

#[test]
fn a_push_to_the_protected_default_branch_runs_its_jobs_and_not_the_merge_request_ones() {
    let repo = fixture_repo();
    let pipeline = list_jobs(&repo, &Situation::default_branch_push());
    assert!(pipeline.created, "{pipeline:#?}");
    assert_eq!(pipeline.jobs_that_run(), ["lint", "deploy-production"]);
    assert_eq!(pipeline.job("review").when, "never");
    assert!(
        pipeline.jobs.iter().all(|job| job.name != PROBE_JOB),
        "the workflow probe is not listed"
    );
}

#[test]
fn list_jobs_gives_what_list_json_gives_and_the_job_definition() {
    let repo = fixture_repo();
    let pipeline = list_jobs(&repo, &Situation::default_branch_push());
    let deploy = pipeline.job("deploy-production");
    assert_eq!(deploy.description, "Deploys to production");
    assert_eq!(deploy.stage, "deploy");
    assert_eq!(deploy.when, "on_success");
    assert!(!deploy.allow_failure);
    assert_eq!(deploy.needs.as_deref(), Some(&["lint".to_owned()][..]));
    assert_eq!(deploy.environment.as_deref(), Some("production"));
    assert_eq!(deploy.deployment_tier.as_deref(), Some("production"));
    assert_eq!(deploy.definition["resource_group"], "production");
    assert_eq!(deploy.definition["interruptible"], false);
    assert_eq!(
        deploy.rules[1]["if"],
        r#"$CI_COMMIT_REF_PROTECTED == "true" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"#
    );
    let lint = pipeline.job("lint");
    assert_eq!(lint.needs, None, "no needs: the stage order decides");
    assert_eq!(lint.environment, None);
    assert!(lint.rules.is_empty());
}

#[test]
fn a_schedule_on_the_default_branch_runs_the_jobs_of_its_schedule() {
    let repo = fixture_repo();
    let daily = list_jobs(
        &repo,
        &Situation::default_branch_schedule(&[("MELTANO_SCHEDULE", "daily")]),
    );
    assert_eq!(
        daily.jobs_that_run(),
        ["lint", "deploy-production", "nightly"]
    );
    let hourly = list_jobs(
        &repo,
        &Situation::default_branch_schedule(&[("MELTANO_SCHEDULE", "hourly")]),
    );
    assert_eq!(hourly.jobs_that_run(), ["lint", "deploy-production"]);
}

#[test]
fn a_feature_branch_push_creates_no_pipeline_though_gitlab_ci_local_lists_jobs() {
    let repo = fixture_repo();
    let pipeline = list_jobs(&repo, &Situation::feature_branch_push());
    assert!(
        !pipeline.created,
        "workflow:rules exclude it\n{pipeline:#?}"
    );
    assert!(pipeline.jobs_that_run().is_empty());
    assert_eq!(
        jobs_that_run(&repo, &Situation::feature_branch_push()),
        Vec::<String>::new()
    );
    // What gitlab-ci-local says by itself: `lint` has no rules of its own, so it would run. If
    // this fails, gitlab-ci-local now applies workflow:rules and the probe can go.
    assert_eq!(pipeline.job("lint").when, "on_success");
}

#[test]
fn a_merge_request_pipeline_runs_the_merge_request_jobs_only() {
    let repo = fixture_repo();
    let pipeline = list_jobs(&repo, &Situation::merge_request());
    assert!(pipeline.created);
    assert_eq!(pipeline.jobs_that_run(), ["lint", "review"]);
}

#[test]
fn a_tag_pipeline_offers_the_release_job_as_manual() {
    let repo = fixture_repo();
    let pipeline = list_jobs(&repo, &Situation::tag());
    assert!(pipeline.created);
    assert_eq!(pipeline.jobs_that_run(), ["lint", "release"]);
    assert_eq!(pipeline.job("release").when, "manual");
}

#[test]
fn a_pipeline_without_workflow_rules_is_always_created() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "only-mr:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n  script: [\"true\"]\nalways:\n  script: [\"true\"]\n",
    )]);
    let pipeline = list_jobs(&repo, &Situation::feature_branch_push());
    assert!(pipeline.created, "{pipeline:#?}");
    assert_eq!(pipeline.jobs_that_run(), ["always"]);
}

#[test]
fn run_job_runs_a_job_with_an_image_on_the_host_shell_with_the_variables_given() {
    let repo = fixture_repo();
    let run = repo
        .job("greet")
        .situation(&Situation::default_branch_push())
        .variable("GREETING", "hello")
        .scoped_variable("DB_PASSWORD", &[("*", "any-pw"), ("staging", "staging-pw")])
        .env("HARNESS_ENV", "from the environment")
        .run();

    assert!(run.output.status.success(), "{}", run.show());
    assert_eq!(run.exit_code, Some(0), "{}", run.show());
    let log = &run.log;
    // A CI/CD variable overrides the job's own `variables:`, as in GitLab.
    assert!(log.contains("\ngreeting=hello\n"), "{}", run.show());
    assert!(log.contains("\npassword=staging-pw\n"), "{}", run.show());
    assert!(
        log.contains("\nenvironment=staging protected=true\n"),
        "{}",
        run.show()
    );
    assert!(
        log.contains("\nfrom-env=from the environment\n"),
        "{}",
        run.show()
    );
    assert!(
        log.contains(&format!("\ndir={}\n", repo.root().display())),
        "the shell executor runs the job in the repository itself\n{}",
        run.show()
    );
    assert!(log.contains("\non stderr\n"), "{}", run.show());
    assert!(
        run.stdout().contains("greet > greeting=hello"),
        "{}",
        run.show()
    );
    assert!(run.stderr().contains("greet > on stderr"), "{}", run.show());
}

#[test]
fn run_job_gives_the_exit_status_of_a_failing_job() {
    let repo = fixture_repo();
    let run = run_job(&repo, "greet", &[("GREETING", "fail")]);
    assert_eq!(run.exit_code, Some(7), "{}", run.show());
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "gitlab-ci-local itself exits 1\n{}",
        run.show()
    );
    assert!(
        run.log.contains("\npassword=\n"),
        "no scoped variable, no password\n{}",
        run.show()
    );
    assert!(
        run.log.contains("\nenvironment=staging protected=false\n"),
        "{}",
        run.show()
    );

    // A second run in the same repository reads its own log.
    let again = run_job(&repo, "greet", &[("GREETING", "again")]);
    assert_eq!(again.exit_code, Some(0), "{}", again.show());
    assert!(again.log.contains("\ngreeting=again\n"), "{}", again.show());
    assert!(!again.log.contains("greeting=fail"), "{}", again.show());
}

#[test]
fn component_inputs_reach_job_keys_extends_environment_and_rules() {
    let repo = Repo::new(&[
        (".gitlab-ci.yml", &fixture("component-pipeline.yml")),
        ("templates/component.yml", &fixture("component.yml")),
    ]);

    let push = list_jobs(&repo, &Situation::default_branch_push());
    // `elt: daily` has a schedule: job-level `variables:` reach its own `rules: if:`.
    assert_eq!(push.jobs_that_run(), ["elt-production", "elt: daily"]);
    assert_eq!(push.job("elt: daily").when, "manual");
    assert!(push.job("elt: daily").allow_failure);
    let staging = push.job("elt-staging");
    assert_eq!(staging.environment.as_deref(), Some("staging"));
    assert_eq!(staging.deployment_tier.as_deref(), Some("staging"));
    assert_eq!(staging.definition["resource_group"], "elt-staging");
    assert_eq!(staging.definition["interruptible"], true);
    assert_eq!(staging.definition["script"][0], "echo staging");
    assert_eq!(
        push.job("elt-production").definition["interruptible"],
        false
    );

    let daily = list_jobs(
        &repo,
        &Situation::default_branch_schedule(&[("MELTANO_SCHEDULE", "daily")]),
    );
    assert_eq!(daily.jobs_that_run(), ["elt-production", "elt: daily"]);
    assert_eq!(daily.job("elt: daily").when, "on_success");
    let other = list_jobs(
        &repo,
        &Situation::default_branch_schedule(&[("MELTANO_SCHEDULE", "hourly")]),
    );
    assert_eq!(other.jobs_that_run(), ["elt-production"]);

    assert_eq!(
        jobs_that_run(&repo, &Situation::merge_request()),
        ["elt-staging"]
    );
    assert_eq!(
        jobs_that_run(&repo, &Situation::feature_branch_push()),
        Vec::<String>::new()
    );
    assert_eq!(
        jobs_that_run(&repo, &Situation::tag()),
        Vec::<String>::new()
    );

    // A job name with `: ` (its log file name is encoded) and an array input as before_script.
    let run = repo.job("elt: daily").run();
    assert_eq!(run.exit_code, Some(0), "{}", run.show());
    assert!(
        run.log
            .contains("\nsetup-1\n$ echo setup-2\nsetup-2\n$ echo daily\ndaily\n"),
        "{}",
        run.show()
    );
}

#[test]
fn rule_expressions_evaluate_as_in_gitlab() {
    let repo = Repo::new(&[(".gitlab-ci.yml", &fixture("rule-expressions.yml"))]);
    let situation = Situation::feature_branch_push()
        .with_variable("EMPTY", "")
        .with_variable("ONE", "1")
        .with_variable("ZERO", "0");
    let pipeline = list_jobs(&repo, &situation);
    assert_eq!(
        pipeline.jobs_that_run(),
        [
            "unset-eq-unset",
            "empty-ne-unset",
            "unset-eq-null",
            "and-binds-tighter-than-or",
        ]
    );
}

#[test]
fn an_invalid_pipeline_is_reported_with_gitlab_ci_local_s_message() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "job:\n  script: [\"true\"]\n  when: sometimes\n",
    )]);
    let failure =
        try_list_jobs(&repo, &Situation::default_branch_push()).expect_err("an invalid pipeline");
    assert!(
        failure.contains("'when' property must be one of"),
        "gitlab-ci-local validates against GitLab's schema\n{failure}"
    );
}

/// The harness's fixture pipeline, committed in a fresh repository.
fn fixture_repo() -> Repo {
    Repo::new(&[(".gitlab-ci.yml", &fixture("pipeline.yml"))])
}

fn fixture(name: &str) -> String {
    let path = Path::new(FIXTURES).join(name);
    fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {} ({err})", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The repository

/// A temporary git repository with a remote, committed on `main`. Its directory is removed when
/// it is dropped.
#[derive(Debug)]
pub struct Repo {
    dir: TempDir,
}

impl Repo {
    /// A repository holding `files` (paths relative to its root, e.g. `.gitlab-ci.yml` and
    /// `templates/elt.yml`), committed on `main`.
    pub fn new(files: &[(&str, &str)]) -> Self {
        let repo = Self::empty();
        for (path, content) in files {
            repo.write(path, content);
        }
        repo.commit("init");
        repo
    }

    /// A repository with nothing committed yet but the harness's `.harness/`: write files (or
    /// copy a Meltano project) into [`Repo::root`], then [`Repo::commit`]. gitlab-ci-local
    /// includes (`include: local`) only files git tracks.
    pub fn empty() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ciguard-gcl-")
            .tempdir()
            .expect("create a temporary directory");
        let repo = Self { dir };
        fs::create_dir_all(repo.root()).expect("create the repository directory");
        fs::create_dir_all(repo.home()).expect("create the home directory");
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo.git(&["config", "user.name", "ciguard tests"]);
        repo.git(&["config", "user.email", "tests@ciguard.example"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.git(&["remote", "add", "origin", REMOTE]);
        // What `list_jobs` gives gitlab-ci-local as the pipeline: a default workflow (so that
        // `!reference` always resolves), then the repository's `.gitlab-ci.yml`, whose
        // `workflow:rules` replace the default, then the probe job with the workflow's rules.
        // Committed with the rest: gitlab-ci-local includes only files git tracks.
        repo.write(
            &format!("{HARNESS_DIR}/default-workflow.yml"),
            "workflow:\n  rules:\n    - when: always\n",
        );
        repo.write(
            WRAPPER,
            &format!(
                "include:\n  - local: {HARNESS_DIR}/default-workflow.yml\n  - local: .gitlab-ci.yml\n\
                 {PROBE_JOB}:\n  stage: .pre\n  rules: !reference [workflow, rules]\n  script: [\"true\"]\n"
            ),
        );
        repo
    }

    /// The repository's root directory.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Writes `content` to `path` (relative to the root), creating directories. Not committed.
    pub fn write(&self, path: &str, content: &str) {
        let path = self.root().join(path);
        fs::create_dir_all(path.parent().expect("a file in the repository"))
            .expect("create a directory");
        fs::write(&path, content).unwrap_or_else(|err| panic!("write {} ({err})", path.display()));
    }

    /// Commits everything (`git add -A`) on `main` and points `origin/main` and `origin/HEAD`
    /// at it, as after a push.
    pub fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        self.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
        self.git(&[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ]);
    }

    /// A job of this repository's pipeline, to run with [`JobRun::run`].
    pub fn job(&self, name: &str) -> JobRun<'_> {
        JobRun {
            repo: self,
            job: name.to_owned(),
            situation: None,
            variables: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The `HOME` of gitlab-ci-local and its jobs: empty, so no `~/.bashrc` and no
    /// `~/.gitlab-ci-local/variables.yml` of the developer's reaches them.
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.home())
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?} failed\n{}", show(&out));
    }

    /// gitlab-ci-local in the repository, with an environment of `PATH` and an empty `HOME`.
    fn gitlab_ci_local(&self, situation: Option<&Situation>) -> Command {
        let mut command = Command::new(gitlab_ci_local());
        command.current_dir(self.root()).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command
            .env("HOME", self.home())
            .env("LANG", "C.UTF-8")
            .arg("--no-color");
        if let Some(situation) = situation {
            command.env(
                "GCL_IGNORE_PREDEFINED_VARS",
                situation.overridden().join(","),
            );
            for (name, value) in &situation.variables {
                command.arg("--variable").arg(format!("{name}={value}"));
            }
            for name in &situation.unset {
                command.arg("--unset-variable").arg(name);
            }
        }
        command
    }

    fn state_dir(&self) -> PathBuf {
        self.root().join(".gitlab-ci-local")
    }
}

// ---------------------------------------------------------------------------------------------
// Situations: the ref and the event a pipeline runs for

/// The predefined variables of a pipeline for one ref and event, passed to gitlab-ci-local with
/// `--variable` (and `--unset-variable`). The default branch is `main` throughout.
#[derive(Debug, Clone)]
pub struct Situation {
    variables: Vec<(String, String)>,
    unset: Vec<String>,
}

impl Situation {
    fn of(variables: &[(&str, &str)], unset: &[&str]) -> Self {
        Self {
            variables: variables
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            unset: unset.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    /// A push to the protected default branch `main`.
    pub fn default_branch_push() -> Self {
        Self::of(
            &[
                ("CI_DEFAULT_BRANCH", "main"),
                ("CI_COMMIT_BRANCH", "main"),
                ("CI_COMMIT_REF_NAME", "main"),
                ("CI_COMMIT_REF_PROTECTED", "true"),
                ("CI_PIPELINE_SOURCE", "push"),
            ],
            &[],
        )
    }

    /// A scheduled pipeline on the protected default branch, with the schedule's variables
    /// (e.g. `MELTANO_SCHEDULE=daily`).
    pub fn default_branch_schedule(schedule_variables: &[(&str, &str)]) -> Self {
        let mut situation =
            Self::default_branch_push().with_variable("CI_PIPELINE_SOURCE", "schedule");
        for (name, value) in schedule_variables {
            situation = situation.with_variable(name, value);
        }
        situation
    }

    /// A push to the unprotected branch `feature/x`.
    pub fn feature_branch_push() -> Self {
        Self::of(
            &[
                ("CI_DEFAULT_BRANCH", "main"),
                ("CI_COMMIT_BRANCH", "feature/x"),
                ("CI_COMMIT_REF_NAME", "feature/x"),
                ("CI_COMMIT_REF_PROTECTED", "false"),
                ("CI_PIPELINE_SOURCE", "push"),
            ],
            &[],
        )
    }

    /// A merge-request pipeline for `feature/x` into `main` (no `CI_COMMIT_BRANCH` there, as in
    /// GitLab).
    pub fn merge_request() -> Self {
        Self::of(
            &[
                ("CI_DEFAULT_BRANCH", "main"),
                ("CI_COMMIT_REF_NAME", "feature/x"),
                ("CI_COMMIT_REF_PROTECTED", "false"),
                ("CI_PIPELINE_SOURCE", "merge_request_event"),
                ("CI_MERGE_REQUEST_IID", "1"),
                ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/x"),
                ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"),
            ],
            &["CI_COMMIT_BRANCH"],
        )
    }

    /// A push of the protected tag `v1.0.0` (no `CI_COMMIT_BRANCH` there, as in GitLab).
    pub fn tag() -> Self {
        Self::of(
            &[
                ("CI_DEFAULT_BRANCH", "main"),
                ("CI_COMMIT_TAG", "v1.0.0"),
                ("CI_COMMIT_REF_NAME", "v1.0.0"),
                ("CI_COMMIT_REF_PROTECTED", "true"),
                ("CI_PIPELINE_SOURCE", "push"),
            ],
            &["CI_COMMIT_BRANCH"],
        )
    }

    /// The same situation with one more variable (or another value for one it has).
    pub fn with_variable(mut self, name: &str, value: &str) -> Self {
        self.unset.retain(|unset| unset != name);
        match self.variables.iter_mut().find(|(known, _)| known == name) {
            Some((_, old)) => value.clone_into(old),
            None => self.variables.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// Every name the situation sets or unsets: gitlab-ci-local warns about those it predefines.
    fn overridden(&self) -> Vec<&str> {
        self.variables
            .iter()
            .map(|(name, _)| name.as_str())
            .chain(self.unset.iter().map(String::as_str))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Listing the jobs of a pipeline

/// The pipeline of one [`Situation`], as [`list_jobs`] evaluates it.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Whether `workflow:rules` create the pipeline (true when there are none). When false,
    /// GitLab creates no pipeline at all and [`Pipeline::jobs_that_run`] is empty.
    pub created: bool,
    /// Every job gitlab-ci-local lists, in its order, each with the `when` its own rules give
    /// (`never` for a job they exclude), whatever `workflow:rules` say.
    pub jobs: Vec<ListedJob>,
}

impl Pipeline {
    /// The jobs in the pipeline GitLab would create: those whose `when` is not `never`
    /// (manual ones included), none when `workflow:rules` create no pipeline.
    pub fn jobs_that_run(&self) -> Vec<&str> {
        if !self.created {
            return Vec::new();
        }
        self.jobs
            .iter()
            .filter(|job| job.when != "never")
            .map(|job| job.name.as_str())
            .collect()
    }

    /// The listed job `name`; panics when there is none.
    pub fn job(&self, name: &str) -> &ListedJob {
        self.jobs
            .iter()
            .find(|job| job.name == name)
            .unwrap_or_else(|| {
                let names: Vec<&str> = self.jobs.iter().map(|job| job.name.as_str()).collect();
                panic!("no job {name:?} in the pipeline; jobs: {names:?}")
            })
    }
}

/// One job as `gitlab-ci-local --list-json` lists it, with its expanded definition.
#[derive(Debug, Clone)]
pub struct ListedJob {
    pub name: String,
    /// From a `# @Description ...` comment above the job (gitlab-ci-local's own decorator).
    pub description: String,
    pub stage: String,
    /// `on_success`, `manual`, `always`, `delayed`, or `never` when the rules exclude the job.
    pub when: String,
    /// Whether a failure of the job lets the pipeline pass (also true for
    /// `allow_failure: {exit_codes: ...}`).
    pub allow_failure: bool,
    /// The jobs of `needs:` (`Some(vec![])` for `needs: []`); `None` without `needs:`.
    pub needs: Option<Vec<String>>,
    /// The job's `rules:` as written (after `extends` and `!reference`), empty without rules.
    pub rules: Vec<Value>,
    /// `environment:name` (or `environment:` as a string).
    pub environment: Option<String>,
    /// `environment:deployment_tier`.
    pub deployment_tier: Option<String>,
    /// The job's definition after includes (with inputs), `extends` and `!reference`: e.g.
    /// `definition["resource_group"]`, `definition["interruptible"]`, `definition["variables"]`.
    /// `Value::Null` when gitlab-ci-local wrote no expanded YAML for it.
    pub definition: Value,
}

impl ListedJob {
    fn from_json(job: &Value, expanded: &Value) -> Self {
        let text = |key: &str| job[key].as_str().unwrap_or_default().to_owned();
        let name = text("name");
        let definition = expanded.get(&name).cloned().unwrap_or(Value::Null);
        let environment = match &definition["environment"] {
            Value::String(name) => Some(name.clone()),
            other => other["name"].as_str().map(str::to_owned),
        };
        let deployment_tier = definition["environment"]["deployment_tier"]
            .as_str()
            .map(str::to_owned);
        let needs = job["needs"].as_array().map(|needs| {
            needs
                .iter()
                .filter_map(|need| need.as_str().or_else(|| need["job"].as_str()))
                .map(str::to_owned)
                .collect()
        });
        Self {
            description: text("description"),
            stage: text("stage"),
            when: text("when"),
            allow_failure: match &job["allow_failure"] {
                Value::Bool(allowed) => *allowed,
                other => other.is_object(),
            },
            needs,
            rules: job["rules"].as_array().cloned().unwrap_or_default(),
            environment,
            deployment_tier,
            definition,
            name,
        }
    }
}

/// The jobs of `repo`'s pipeline in `situation`, by `gitlab-ci-local --list-json`; panics with
/// gitlab-ci-local's output when it fails (an invalid pipeline, say).
pub fn list_jobs(repo: &Repo, situation: &Situation) -> Pipeline {
    try_list_jobs(repo, situation).unwrap_or_else(|failure| panic!("{failure}"))
}

/// The names of the jobs that run in `repo`'s pipeline in `situation` (see
/// [`Pipeline::jobs_that_run`]).
pub fn jobs_that_run(repo: &Repo, situation: &Situation) -> Vec<String> {
    list_jobs(repo, situation)
        .jobs_that_run()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// [`list_jobs`], with gitlab-ci-local's failure as an error message.
pub fn try_list_jobs(repo: &Repo, situation: &Situation) -> Result<Pipeline, String> {
    let expanded_path = repo.state_dir().join("expanded-gitlab-ci.yml");
    let _ = fs::remove_file(&expanded_path);

    let mut command = repo.gitlab_ci_local(Some(situation));
    command.arg("--file").arg(WRAPPER).arg("--list-json");
    let out = run_to_end(command);
    if !out.status.success() {
        return Err(format!(
            "gitlab-ci-local --list-json failed\n{}",
            show(&out)
        ));
    }
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(|err| {
        format!(
            "gitlab-ci-local --list-json printed no JSON list ({err})\n{}",
            show(&out)
        )
    })?;
    let expanded = read_expanded(&expanded_path)?;

    let mut created = None;
    let mut jobs = Vec::new();
    for job in &listed {
        let job = ListedJob::from_json(job, &expanded);
        if job.name == PROBE_JOB {
            created = Some(job.when != "never");
        } else {
            jobs.push(job);
        }
    }
    let created = created.ok_or_else(|| {
        format!(
            "gitlab-ci-local did not list the workflow probe {PROBE_JOB}\n{}",
            show(&out)
        )
    })?;
    Ok(Pipeline { created, jobs })
}

/// The expanded YAML gitlab-ci-local wrote, as JSON (job names at the top level).
fn read_expanded(path: &Path) -> Result<Value, String> {
    let yaml = fs::read_to_string(path)
        .map_err(|err| format!("gitlab-ci-local wrote no {} ({err})", path.display()))?;
    serde_saphyr::from_str(&yaml)
        .map_err(|err| format!("{} is not YAML we can read ({err})", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Running one job

/// One job of a [`Repo`] to run, with its CI/CD variables and environment; see [`Repo::job`].
#[derive(Debug)]
pub struct JobRun<'repo> {
    repo: &'repo Repo,
    job: String,
    situation: Option<Situation>,
    /// `(name, [(environment scope, value)])`, as in the project's CI/CD settings.
    variables: Vec<(String, Vec<(String, String)>)>,
    env: Vec<(String, OsString)>,
}

impl JobRun<'_> {
    /// The predefined variables of `situation` (without one, gitlab-ci-local derives them from
    /// the repository: branch `main`, unprotected, source `push`). Only the variables: the job
    /// runs whatever its rules say.
    pub fn situation(mut self, situation: &Situation) -> Self {
        self.situation = Some(situation.clone());
        self
    }

    /// A CI/CD variable of the project, for every environment (like a secret set in the
    /// project's settings). It overrides the job's own `variables:`, as in GitLab.
    pub fn variable(self, name: &str, value: &str) -> Self {
        self.scoped_variable(name, &[("*", value)])
    }

    /// A CI/CD variable with a value per environment scope (`*`, `production`, `review/*`): the
    /// job sees the value whose scope matches its `environment:name`, none if no scope does.
    pub fn scoped_variable(mut self, name: &str, values: &[(&str, &str)]) -> Self {
        let values = values
            .iter()
            .map(|(scope, value)| ((*scope).to_owned(), (*value).to_owned()))
            .collect();
        self.variables.push((name.to_owned(), values));
        self
    }

    /// An environment variable of gitlab-ci-local, which the job inherits (`PATH`, say, to find
    /// Meltano and ciguard). The environment is otherwise only `PATH`, `HOME` and `LANG`.
    pub fn env(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// Runs the job with the shell executor (`--force-shell-executor`: the job's `image:` is
    /// ignored) in the repository's directory, and waits for it.
    pub fn run(self) -> JobOutput {
        assert!(
            on_path("rsync"),
            "gitlab-ci-local needs rsync to run a job (it copies the repository with it): \
             install it with `scripts/install-test-tools` (as root) or `apt-get install rsync`"
        );
        let repo = self.repo;
        // The variables go through a variables file (gitlab-ci-local's model of the project's
        // CI/CD variables), which alone has environment scopes. `type: variable` everywhere: an
        // untyped value starting with `/` or `~` would become a file variable. The path is
        // relative to the repository: gitlab-ci-local prefixes it with its working directory.
        let mut file = String::new();
        for (name, values) in &self.variables {
            let _ = writeln!(file, "{}:\n  type: variable\n  values:", json(name));
            for (scope, value) in values {
                let _ = writeln!(file, "    {}: {}", json(scope), json(value));
            }
        }
        let variables_file = repo.dir.path().join("ci-variables.yml");
        fs::write(
            &variables_file,
            if file.is_empty() { "{}\n" } else { &file },
        )
        .expect("write the variables file");
        // Each run gets its own log.
        let output_dir = repo.state_dir().join("output");
        let _ = fs::remove_dir_all(&output_dir);

        let mut command = repo.gitlab_ci_local(self.situation.as_ref());
        command
            .arg("--force-shell-executor")
            // `list_jobs` validates against GitLab's schema; here it would only cost 0.5-1 s.
            .arg("--json-schema-validation=false")
            .arg("--variables-file")
            .arg("../ci-variables.yml")
            .arg(&self.job);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let output = run_to_end(command);
        let log = job_log(&output_dir);
        let exit_code = job_exit_code(&self.job, &String::from_utf8_lossy(&output.stderr))
            .or_else(|| finished(&self.job, &String::from_utf8_lossy(&output.stdout)).then_some(0));
        JobOutput {
            output,
            exit_code,
            log,
        }
    }
}

/// Runs `job` of `repo`'s pipeline with CI/CD `variables` (see [`Repo::job`] for more).
pub fn run_job(repo: &Repo, job: &str, variables: &[(&str, &str)]) -> JobOutput {
    let mut run = repo.job(job);
    for (name, value) in variables {
        run = run.variable(name, value);
    }
    run.run()
}

/// What a job run printed, and how it ended.
#[derive(Debug)]
pub struct JobOutput {
    /// gitlab-ci-local's own exit status and output (the job's lines prefixed with
    /// `<job> > `, its stdout on stdout and its stderr on stderr).
    pub output: Output,
    /// The job's exit status: `Some(0)` when it passed, `Some(code)` when its script failed,
    /// `None` when it never ran (an unknown job, an invalid pipeline).
    pub exit_code: Option<i32>,
    /// The job's log (`.gitlab-ci-local/output/<job>.log`): its stdout and stderr as the runner
    /// would show them, unprefixed, with the `$ command` lines. Empty when it never ran.
    pub log: String,
}

impl JobOutput {
    pub fn stdout(&self) -> String {
        text(&self.output.stdout)
    }

    pub fn stderr(&self) -> String {
        text(&self.output.stderr)
    }

    /// Everything, for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "job exit code: {:?}\n--- job log ---\n{}\n{}",
            self.exit_code,
            self.log,
            show(&self.output)
        )
    }
}

/// The log of the one job run since `output_dir` was emptied.
fn job_log(output_dir: &Path) -> String {
    let Ok(entries) = fs::read_dir(output_dir) else {
        return String::new();
    };
    let logs: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    match logs.as_slice() {
        [log] => fs::read_to_string(log).unwrap_or_default(),
        [] => String::new(),
        more => panic!("more than one job log: {more:?}"),
    }
}

/// The code in gitlab-ci-local's `<job> finished in 20 ms  FAIL 3` (or `WARN 3` when failure is
/// allowed) line; not the `WARN <code> after_script` one.
fn job_exit_code(job: &str, stderr: &str) -> Option<i32> {
    stderr.lines().find_map(|line| {
        let rest = line.strip_prefix(job)?.trim_start();
        let rest = rest.strip_prefix("finished in ")?;
        let words: Vec<&str> = rest.split_whitespace().collect();
        let at = words
            .iter()
            .position(|word| *word == "FAIL" || *word == "WARN")?;
        if words.last() == Some(&"after_script") {
            return None;
        }
        words.get(at + 1)?.parse().ok()
    })
}

/// Whether gitlab-ci-local's stdout says the job passed (`<job> finished in 20 ms`).
fn finished(job: &str, stdout: &str) -> bool {
    stdout.lines().any(|line| {
        line.strip_prefix(job)
            .is_some_and(|rest| rest.trim_start().starts_with("finished in "))
    })
}

// ---------------------------------------------------------------------------------------------
// gitlab-ci-local, and running it

/// The gitlab-ci-local executable, or a panic that says how to install it.
fn gitlab_ci_local() -> PathBuf {
    let path = std::env::var_os("CIGUARD_TEST_GITLAB_CI_LOCAL")
        .filter(|value| !value.is_empty())
        .map_or_else(
            || {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(".tools/node/node_modules/.bin/gitlab-ci-local")
            },
            PathBuf::from,
        );
    assert!(
        path.exists(),
        "the gitlab-ci-local tests need gitlab-ci-local 4.73.0; missing: {}\n\
         Install it with `scripts/install-test-tools` (or run `.ci/run`), or point \
         CIGUARD_TEST_GITLAB_CI_LOCAL at an installation.",
        path.display()
    );
    path
}

/// Whether an executable `name` is in a directory of `PATH`.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}

/// Runs `command` to the end, at most [`TIMEOUT`], with its output captured.
fn run_to_end(mut command: Command) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("start {:?} ({err})", command.get_program()));
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let started = Instant::now();
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait().expect("wait for gitlab-ci-local") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let status = child.wait().expect("wait for the killed gitlab-ci-local");
            let out = Output {
                status,
                stdout: join(stdout),
                stderr: join(stderr),
            };
            panic!(
                "gitlab-ci-local did not finish within {TIMEOUT:?}\n{}",
                show(&out)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    }
}

/// `value` as a JSON string, which is also a YAML double-quoted scalar.
fn json(value: &str) -> String {
    Value::from(value).to_string()
}
