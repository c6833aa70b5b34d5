//! `ciguard init --apply` against the fake GitLab, on the Meltano project of
//! `tests/fixtures/init/apply`: the plan sends no write; `--yes` sends exactly the requests the
//! plan printed (protected branch, protected environment, each variable with its flags); a second
//! run finds nothing to do; values GitLab cannot mask are created protected and unmasked, with
//! why; GitLab Free's refusal of protected environments is explained and the rest applied; a
//! refused change does not stop the others; 401/403 on reading stop with a clear message; init,
//! apply, then audit is clean at high. No token and no variable value ever shows in the output.

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::common::ciguard;
use crate::fake_gitlab::{FakeGitlab, Reply, TOKEN};

const API: &str = "/api/v4/projects/7";
const IMAGE: &str =
    "reg.example/elt@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const PASSWORD: &str = "Pg-pr0d-Passw0rd-4471";
/// Maskable only as a raw variable (`$`, `!`).
const SNOWFLAKE: &str = "sn0w$flake!Secret-92";
const AUDIT_TOKEN: &str = "glpat-AuditT0ken-5521x";
/// Multi-line: GitLab cannot mask it.
const KEYFILE: &str =
    "-----BEGIN PRIVATE KEY-----\nMIIEvKeyMaterialNotToShow0123\n-----END PRIVATE KEY-----\n";
const KEY_MATERIAL: &str = "MIIEvKeyMaterialNotToShow0123";
/// Values GitLab refuses to mask: too short, and with spaces.
const SHORT: &str = "sh0rt!";
const SPACED: &str = "with space 99x";

/// The values of every case, each of which must never be printed.
const VALUES: [&str; 6] = [
    PASSWORD,
    SNOWFLAKE,
    AUDIT_TOKEN,
    KEY_MATERIAL,
    SHORT,
    SPACED,
];

/// The environment holding the production values.
fn production_values() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TAP_POSTGRES_PASSWORD", PASSWORD),
        ("TARGET_SNOWFLAKE_PASSWORD", SNOWFLAKE),
        ("TAP_POSTGRES_SSL_KEYFILE", KEYFILE),
        ("CIGUARD_GITLAB_TOKEN", AUDIT_TOKEN),
    ]
}

/// A project with default branch `main` and nothing protected or defined yet; `environments`
/// answers `GET/POST protected_environments`.
fn routes(environments: Reply) -> HashMap<String, Reply> {
    HashMap::from([
        (
            API.to_owned(),
            Reply::Object(json!({"id": 7, "path_with_namespace": "data/elt",
                                 "default_branch": "main"})),
        ),
        (format!("{API}/variables"), Reply::List(Vec::new())),
        (format!("{API}/protected_branches"), Reply::List(Vec::new())),
        (format!("{API}/protected_environments"), environments),
    ])
}

fn both(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `ciguard init --image IMAGE --force --apply --project 7 ARGS` in `dir` (a copy of the
/// fixture project) against `server`, with `env` and the token (unless `token` is given), and
/// checks that neither the token nor a value shows in its output.
fn run(
    server: &FakeGitlab,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    token: Option<&str>,
) -> Output {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/init/apply/meltano.yml"
    );
    std::fs::copy(fixture, dir.join("meltano.yml")).expect("copy the fixture");
    let out = ciguard()
        .args(["init", "--image", IMAGE, "--force", "--apply"])
        .args(["--project", "7", "--gitlab-url", &server.url])
        .args(args)
        .env("GITLAB_TOKEN", token.unwrap_or(TOKEN))
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run ciguard init");
    let all = both(&out);
    assert!(!all.contains(TOKEN), "the token in the output:\n{all}");
    for value in VALUES {
        assert!(!all.contains(value), "a value in the output:\n{all}");
    }
    out
}

/// The requests the printed plan announces for its changes, e.g. `POST /projects/7/variables`.
fn planned_requests(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|line| line.trim_start().starts_with("change "))
        .filter_map(|line| {
            let start = line.rfind(" [")?;
            Some(line[start + 2..].trim_end_matches(']').to_owned())
        })
        .collect()
}

/// The write requests the server saw, in the plan's notation, with their bodies.
fn writes(server: &FakeGitlab) -> Vec<(String, Value)> {
    server
        .writes()
        .into_iter()
        .map(|(line, body)| {
            let line = line
                .trim_end_matches(" HTTP/1.1")
                .replacen("/api/v4", "", 1)
                .replace("%5B", "[")
                .replace("%5D", "]");
            (line, body)
        })
        .collect()
}

/// The body of the variable `key`'s creation.
fn created(writes: &[(String, Value)], key: &str) -> Value {
    writes
        .iter()
        .find(|(line, body)| line.ends_with("/variables") && body["key"] == key)
        .map(|(_, body)| body.clone())
        .unwrap_or_else(|| panic!("no POST of {key} in {writes:?}"))
}

fn variable_body(
    key: &str,
    value: &str,
    scope: &str,
    masked_and_hidden: bool,
    file: bool,
) -> Value {
    json!({"key": key, "value": value, "environment_scope": scope, "protected": true,
           "masked_and_hidden": masked_and_hidden, "raw": true,
           "variable_type": if file { "file" } else { "env_var" }})
}

#[test]
fn without_yes_the_plan_is_printed_and_nothing_is_written() {
    let server = FakeGitlab::start(routes(Reply::List(Vec::new())));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(
        &server,
        dir.path(),
        &["--values-from-env"],
        &production_values(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(server.writes().is_empty(), "{:?}", server.writes());
    assert!(
        server
            .requests()
            .iter()
            .all(|line| line.starts_with("GET ")),
        "{:?}",
        server.requests()
    );
    let stdout = stdout(&out);
    for expected in [
        "GitLab project 7: what --apply does",
        "change default branch `main`: protect it: push by no one, merge by Maintainers, code \
         owner approval (Premium), no force push (it is not protected",
        "change environment `production`: protect it: deploy by Maintainers only",
        "change variable `TAP_POSTGRES_PASSWORD` (environment `production`): create it \
         protected, masked and hidden, raw, with the value of $TAP_POSTGRES_PASSWORD",
        "change variable `TAP_POSTGRES_SSL_KEYFILE` (environment `production`): create it \
         protected, not masked, raw, file",
        "more than one line",
        "left   variable `TAP_POSTGRES_PASSWORD` (environment `staging`): missing, no value given",
        "never puts the value of $TAP_POSTGRES_PASSWORD (the production one) there",
        "6 change(s) planned; nothing changed: run again with --yes to make them",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
}

#[test]
fn yes_sends_exactly_the_planned_requests_and_a_second_run_changes_nothing() {
    let server = FakeGitlab::start(routes(Reply::List(Vec::new())));
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["--yes", "--values-from-env"];
    let out = run(&server, dir.path(), &args, &production_values(), None);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let writes = writes(&server);
    let sent: Vec<&str> = writes.iter().map(|(line, _)| line.as_str()).collect();
    assert_eq!(sent, planned_requests(&out), "{}", stdout(&out));
    assert_eq!(
        sent,
        [
            "POST /projects/7/protected_branches",
            "POST /projects/7/protected_environments",
            "POST /projects/7/variables",
            "POST /projects/7/variables",
            "POST /projects/7/variables",
            "POST /projects/7/variables",
        ]
    );
    assert_eq!(
        writes[0].1,
        json!({"name": "main", "push_access_level": 0, "merge_access_level": 40,
               "allow_force_push": false, "code_owner_approval_required": true})
    );
    assert_eq!(
        writes[1].1,
        json!({"name": "production", "deploy_access_levels": [{"access_level": 40}]})
    );
    let expected = [
        (
            "CIGUARD_GITLAB_TOKEN",
            AUDIT_TOKEN,
            "ciguard-audit",
            true,
            false,
        ),
        ("TAP_POSTGRES_PASSWORD", PASSWORD, "production", true, false),
        (
            "TAP_POSTGRES_SSL_KEYFILE",
            KEYFILE,
            "production",
            false,
            true,
        ),
        (
            "TARGET_SNOWFLAKE_PASSWORD",
            SNOWFLAKE,
            "production",
            true,
            false,
        ),
    ];
    for (key, value, scope, masked_and_hidden, file) in expected {
        assert_eq!(
            created(&writes, key),
            variable_body(key, value, scope, masked_and_hidden, file),
            "{key}"
        );
    }
    let stored = server
        .stored(&format!("{API}/variables"))
        .expect("variables created");
    assert!(
        stored
            .iter()
            .all(|v| v["hidden"] == (v["key"] != "TAP_POSTGRES_SSL_KEYFILE")),
        "{stored:?}"
    );
    let said = stdout(&out);
    for expected in [
        "done   default branch `main`: protect it",
        "done   variable `TARGET_SNOWFLAKE_PASSWORD` (environment `production`): create it",
        "6 change(s) made, 0 failed",
    ] {
        assert!(said.contains(expected), "no {expected:?} in:\n{said}");
    }

    let again = run(&server, dir.path(), &args, &production_values(), None);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert_eq!(server.writes().len(), 6, "a second run wrote");
    let said = stdout(&again);
    assert!(
        said.contains("nothing to change: the project matches the plan"),
        "{said}"
    );
    assert!(
        said.contains("ok     default branch `main`: protected (rule `main`)"),
        "{said}"
    );
    assert!(
        said.contains("ok     variable `TAP_POSTGRES_PASSWORD` (environment `production`)"),
        "{said}"
    );
}

#[test]
fn values_gitlab_cannot_mask_are_created_protected_and_unmasked_with_why() {
    let server = FakeGitlab::start(routes(Reply::List(Vec::new())));
    let dir = tempfile::tempdir().expect("temp dir");
    let env = [
        ("TARGET_SNOWFLAKE_PASSWORD", SHORT),
        ("TAP_POSTGRES_PASSWORD", SPACED),
    ];
    let out = run(
        &server,
        dir.path(),
        &["--yes", "--values-from-env"],
        &env,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let writes = writes(&server);
    assert_eq!(
        created(&writes, "TARGET_SNOWFLAKE_PASSWORD"),
        variable_body(
            "TARGET_SNOWFLAKE_PASSWORD",
            SHORT,
            "production",
            false,
            false
        )
    );
    assert_eq!(
        created(&writes, "TAP_POSTGRES_PASSWORD"),
        variable_body("TAP_POSTGRES_PASSWORD", SPACED, "production", false, false)
    );
    let said = stdout(&out);
    for expected in [
        "create it protected, not masked, raw, with the value of $TARGET_SNOWFLAKE_PASSWORD \
         (missing; not masked: GitLab cannot mask it (shorter than 8 characters)",
        "create it protected, not masked, raw, with the value of $TAP_POSTGRES_PASSWORD \
         (missing; not masked: GitLab cannot mask it (it holds whitespace)",
        "left   variable `CIGUARD_GITLAB_TOKEN` (environment `ciguard-audit`): missing, no value given \
         (CIGUARD_GITLAB_TOKEN is not set in ciguard's environment",
        "4 change(s) made, 0 failed",
    ] {
        assert!(said.contains(expected), "no {expected:?} in:\n{said}");
    }
    let again = run(
        &server,
        dir.path(),
        &["--yes", "--values-from-env"],
        &env,
        None,
    );
    assert_eq!(server.writes().len(), 4, "a second run wrote");
    assert!(
        stdout(&again).contains(
            "left   variable `TAP_POSTGRES_PASSWORD` (environment `production`): cannot mask it"
        ),
        "{}",
        stdout(&again)
    );
}

#[test]
fn on_gitlab_free_the_environment_is_explained_and_the_rest_applied() {
    let server = FakeGitlab::start(routes(Reply::Fixture(403, "error_403.json")));
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["--yes", "--values-from-env"];
    let out = run(&server, dir.path(), &args, &production_values(), None);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let said = stdout(&out);
    assert!(
        said.contains(
            "left   environment `production`: cannot protect it here (GitLab answered 403 \
             Forbidden to GET /api/v4/projects/7/protected_environments"
        ) && said.contains("protected environments need GitLab Premium or Ultimate"),
        "{said}"
    );
    let writes = writes(&server);
    let sent: Vec<&str> = writes.iter().map(|(line, _)| line.as_str()).collect();
    assert_eq!(sent, planned_requests(&out));
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert!(
        !sent
            .iter()
            .any(|line| line.contains("protected_environments"))
    );
}

#[test]
fn wrong_protections_and_flags_are_corrected_and_a_refusal_does_not_stop_the_rest() {
    let mut routes = routes(Reply::List(vec![json!({"name": "production",
        "deploy_access_levels": [{"access_level": 40}]})]));
    routes.insert(
        format!("{API}/protected_branches"),
        Reply::List(vec![json!({"id": 1, "name": "main",
            "push_access_levels": [{"access_level": 40}],
            "merge_access_levels": [{"access_level": 30}],
            "allow_force_push": true})]),
    );
    routes.insert(
        format!("{API}/variables"),
        Reply::List(vec![
            json!({"variable_type": "env_var", "key": "TAP_POSTGRES_PASSWORD",
                   "value": PASSWORD, "hidden": false, "protected": false, "masked": false,
                   "raw": false, "environment_scope": "production", "description": null}),
            json!({"variable_type": "env_var", "key": "TAP_POSTGRES_PASSWORD",
                   "value": SNOWFLAKE, "hidden": false, "protected": false, "masked": false,
                   "raw": false, "environment_scope": "*", "description": null}),
        ]),
    );
    routes.insert(
        format!("PATCH {API}/protected_branches/main"),
        Reply::Fixture(403, "error_403.json"),
    );
    let server = FakeGitlab::start(routes);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(&server, dir.path(), &["--yes"], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let said = stdout(&out);
    for expected in [
        "left   default branch `main`: rule `main` lets Developers merge",
        "change default branch `main`: forbid force pushes on rule `main`",
        "ok     environment `production`: protected",
        "change variable `TAP_POSTGRES_PASSWORD` (environment `production`): set protected, \
         masked",
        "left   variable `TAP_POSTGRES_PASSWORD` (environment `production`): cannot make it \
         hidden",
        "note   variable `TAP_POSTGRES_PASSWORD` (environment `*`): also exists, outside the \
         plan; ciguard leaves it (it reaches every job without a more specific variable of the \
         same name, merge-request jobs included",
        "failed default branch `main`: forbid force pushes on rule `main`: GitLab answered 403 \
         Forbidden to PATCH /api/v4/projects/7/protected_branches/main",
        "api scope",
        "done   variable `TAP_POSTGRES_PASSWORD` (environment `production`): set protected, masked",
        "1 change(s) made, 1 failed",
    ] {
        assert!(said.contains(expected), "no {expected:?} in:\n{said}");
    }
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 of 2 change(s) failed"),
        "{}",
        both(&out)
    );
    let writes = writes(&server);
    let sent: Vec<&str> = writes.iter().map(|(line, _)| line.as_str()).collect();
    assert_eq!(sent, planned_requests(&out));
    assert_eq!(
        writes[1],
        (
            "PUT /projects/7/variables/TAP_POSTGRES_PASSWORD?filter[environment_scope]=production"
                .to_owned(),
            json!({"protected": true, "masked": true, "environment_scope": "production"})
        )
    );
}

#[test]
fn values_are_replaced_only_with_overwrite_values_and_only_in_protected_variables() {
    let hidden = |scope: &str, protected: bool| {
        json!({"variable_type": "env_var", "key": "TAP_POSTGRES_PASSWORD", "value": null,
               "hidden": true, "protected": protected, "masked": true, "raw": true,
               "environment_scope": scope, "description": null})
    };
    let mut routes = routes(Reply::List(Vec::new()));
    routes.insert(
        format!("{API}/variables"),
        Reply::List(vec![hidden("production", true), hidden("staging", false)]),
    );
    let server = FakeGitlab::start(routes);
    let dir = tempfile::tempdir().expect("temp dir");
    let env = [("TAP_POSTGRES_PASSWORD", PASSWORD)];
    let out = run(
        &server,
        dir.path(),
        &["--yes", "--values-from-env"],
        &env,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        writes(&server)
            .iter()
            .all(|(line, _)| !line.contains("/variables")),
        "{:?}",
        server.writes()
    );
    let args = ["--yes", "--values-from-env", "--overwrite-values"];
    let out = run(&server, dir.path(), &args, &env, None);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let replaced: Vec<(String, Value)> = writes(&server)
        .into_iter()
        .filter(|(line, _)| line.contains("/variables"))
        .collect();
    assert_eq!(
        replaced,
        [(
            "PUT /projects/7/variables/TAP_POSTGRES_PASSWORD?filter[environment_scope]=production"
                .to_owned(),
            json!({"value": PASSWORD, "environment_scope": "production"})
        )]
    );
    assert!(
        stdout(&out).contains(
            "done   variable `TAP_POSTGRES_PASSWORD` (environment `production`): replace its \
             value with the value of $TAP_POSTGRES_PASSWORD (--overwrite-values)"
        ),
        "{}",
        stdout(&out)
    );
    let stored = server.stored(&format!("{API}/variables")).expect("updated");
    assert!(stored.iter().all(|v| v["value"].is_null()), "{stored:?}");
}

#[test]
fn a_post_gitlab_fails_is_not_sent_twice() {
    let mut routes = routes(Reply::List(Vec::new()));
    routes.insert(
        format!("POST {API}/protected_branches"),
        Reply::FailOnce(
            500,
            Box::new(Reply::Fixture(201, "protected_branch_single.json")),
        ),
    );
    let server = FakeGitlab::start(routes);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(&server, dir.path(), &["--yes"], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let sent: Vec<String> = writes(&server).into_iter().map(|(line, _)| line).collect();
    assert_eq!(
        sent,
        [
            "POST /projects/7/protected_branches",
            "POST /projects/7/protected_environments"
        ]
    );
    let said = stdout(&out);
    assert!(
        said.contains("a POST is not retried (GitLab may have performed it)"),
        "{said}"
    );
}

#[test]
fn reading_failures_stop_with_a_clear_message_and_change_nothing() {
    let server = FakeGitlab::start(routes(Reply::List(Vec::new())));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(
        &server,
        dir.path(),
        &["--yes"],
        &[],
        Some("glpat-NotTheRightToken-000"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--apply: cannot read project 7: GitLab answered 401 Unauthorized"),
        "{stderr}"
    );
    assert!(!stderr.contains("NotTheRightToken"), "{stderr}");

    let mut forbidden = routes(Reply::List(Vec::new()));
    forbidden.insert(
        format!("{API}/variables"),
        Reply::Fixture(403, "error_403.json"),
    );
    let server = FakeGitlab::start(forbidden);
    let out = run(&server, dir.path(), &["--yes"], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GitLab answered 403 Forbidden to GET /api/v4/projects/7/variables")
            && stderr.contains("Maintainer role"),
        "{stderr}"
    );
    assert!(server.writes().is_empty(), "{:?}", server.writes());
}

#[test]
fn dry_run_and_stdout_never_mix_the_plan_into_the_pipeline_or_change_anything() {
    let server = FakeGitlab::start(routes(Reply::List(Vec::new())));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = ciguard()
        .args([
            "init",
            "--image",
            IMAGE,
            "--stdout",
            "--apply",
            "--project",
            "7",
        ])
        .args(["--gitlab-url", &server.url])
        .args([
            "--meltano",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/init/apply/meltano.yml"
            ),
        ])
        .env("GITLAB_TOKEN", TOKEN)
        .current_dir(dir.path())
        .output()
        .expect("run ciguard init");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let pipeline = stdout(&out);
    assert!(!pipeline.contains("what --apply does"), "{pipeline}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GitLab project 7: what --apply does"),
        "{}",
        both(&out)
    );

    let out = run(
        &server,
        dir.path(),
        &["--dry-run", "--yes", "--values-from-env"],
        &production_values(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        stdout(&out).contains("6 change(s) planned; nothing changed: --dry-run"),
        "{}",
        both(&out)
    );
    assert!(server.writes().is_empty(), "{:?}", server.writes());
}

/// The whole round trip on GitLab Premium: `init` writes the pipeline and the plan; the team
/// commits them with the plan's CODEOWNERS section and creates the staging variables by hand;
/// `init --apply --yes` sets the rest; the generated audit job's command (`ciguard audit` in the
/// checkout, `$CI_PROJECT_ID`) then finds nothing at or above high, and reminds at low that the
/// staging copies are unprotected on purpose.
#[test]
fn init_then_apply_then_audit_is_clean_at_high() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/init/apply/meltano.yml"
    );
    std::fs::copy(fixture, dir.path().join("meltano.yml")).expect("copy the fixture");
    let out = ciguard()
        .args(["init", "--image", IMAGE, "--code-owner", "@data/platform"])
        .current_dir(dir.path())
        .output()
        .expect("run ciguard init");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect(name);
    let plan = read("CREDENTIALS.md");
    let code_owners = plan
        .split("```\n")
        .find(|block| block.starts_with("[Pipeline and credentials] @data/platform\n"))
        .expect("the plan's CODEOWNERS section")
        .to_owned();

    let staging = |key: &str, file: bool| {
        json!({"variable_type": if file { "file" } else { "env_var" }, "key": key,
               "value": if file { Value::from(KEYFILE) } else { Value::Null },
               "hidden": !file, "protected": false, "masked": !file, "raw": true,
               "environment_scope": "staging", "description": null})
    };
    let file = |path: &str| format!("{API}/repository/files/{}/raw", path.replace('/', "%2F"));
    let shared = |name: &str| -> Value {
        serde_json::from_str(&crate::fake_gitlab::fixture(name)).expect("fixture")
    };
    let mut routes = routes(Reply::List(Vec::new()));
    routes.extend([
        (
            API.to_owned(),
            Reply::Object(json!({"id": 7, "path_with_namespace": "data/elt",
                "default_branch": "main", "visibility": "private", "public_jobs": false,
                "ci_pipeline_variables_minimum_override_role": "no_one_allowed",
                "ci_allow_fork_pipelines_to_run_in_parent_project": false,
                "protect_merge_request_pipelines": false, "ci_config_path": "",
                "namespace": {"kind": "group", "full_path": "data"}})),
        ),
        (
            format!("{API}/variables"),
            Reply::List(vec![
                staging("TAP_POSTGRES_PASSWORD", false),
                staging("TAP_POSTGRES_SSL_KEYFILE", true),
                staging("TARGET_SNOWFLAKE_PASSWORD", false),
            ]),
        ),
        (
            "/api/v4/groups/data/variables".to_owned(),
            Reply::List(Vec::new()),
        ),
        (format!("{API}/protected_tags"), Reply::List(Vec::new())),
        (
            format!("{API}/approvals"),
            Reply::Object(shared("project_approvals.json")),
        ),
        (
            format!("{API}/approval_rules"),
            Reply::List(
                shared("project_approval_rules.json")
                    .as_array()
                    .expect("list")
                    .clone(),
            ),
        ),
        (
            format!("{API}/job_token_scope"),
            Reply::Object(shared("job_token_scope.json")),
        ),
        (file("CODEOWNERS"), Reply::Text(code_owners)),
        (file(".gitlab-ci.yml"), Reply::Text(read(".gitlab-ci.yml"))),
        (file("meltano.yml"), Reply::Text(read("meltano.yml"))),
    ]);
    let server = FakeGitlab::start(routes);
    let out = run(
        &server,
        dir.path(),
        &["--yes", "--values-from-env"],
        &production_values(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));

    let audit = |fail_on: &str| {
        ciguard()
            .args(["audit", "--format", "json", "--fail-on", fail_on])
            .args(["--gitlab-url", &server.url])
            .env("GITLAB_TOKEN", TOKEN)
            .env("CI_PROJECT_ID", "7")
            .current_dir(dir.path())
            .output()
            .expect("run ciguard audit")
    };
    let out = audit("high");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let all = both(&out);
    for value in VALUES {
        assert!(!all.contains(value), "a value in the output:\n{all}");
    }
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let findings: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            let scope = text(&f["location"]["environment_scope"]);
            (
                text(&f["severity"]),
                text(&f["rule"]),
                format!("{} {scope}", text(&f["location"]["key"])),
            )
        })
        .collect();
    assert!(
        findings.iter().all(|(severity, ..)| severity == "low"),
        "{findings:#?}"
    );
    for key in [
        "TAP_POSTGRES_PASSWORD",
        "TARGET_SNOWFLAKE_PASSWORD",
        "TAP_POSTGRES_SSL_KEYFILE",
    ] {
        assert!(
            findings.contains(&(
                "low".to_owned(),
                "non-production-credential-unprotected".to_owned(),
                format!("{key} staging")
            )),
            "{findings:#?}"
        );
    }
    assert_eq!(report["unchecked"], json!([]), "{all}");
    // At low, the reminders fail it: they are findings, not noise the report hides.
    assert_eq!(audit("low").status.code(), Some(1));
}
