//! `ciguard audit --project` against the fake GitLab: a well-configured project, a badly
//! configured one, 401/403/404, a 429 retried, pagination, the job token; and never a token or
//! a variable value in any output.

use std::collections::HashMap;
use std::process::Output;

use serde_json::{Value, json};

use crate::common::ciguard;
use crate::fake_gitlab::{FakeGitlab, Reply, TOKEN, fixture};

pub(crate) const PROJECT: &str = "data/warehouse-elt";
pub(crate) const API: &str = "/api/v4/projects/data%2Fwarehouse-elt";
const GROUP_VARIABLES: &str = "/api/v4/groups/data/variables";

fn json_file(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON fixture")
}

fn shared(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("JSON fixture")
}

pub(crate) fn local(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/audit/{name}", env!("CARGO_MANIFEST_DIR"));
    json_file(&path).as_array().expect("a list").clone()
}

fn rule(name: &str, level: u32) -> Value {
    json!({"name": name,
           "push_access_levels": [{"access_level": level}],
           "merge_access_levels": [{"access_level": level}],
           "deploy_access_levels": [{"access_level": level}]})
}

/// `main` as a reviewed project protects it: no one pushes, Maintainers merge, code owners
/// approve.
fn reviewed_main() -> Value {
    let mut main = shared("protected_branch_single.json");
    main["push_access_levels"] =
        json!([{"id": 1001, "access_level": 0, "access_level_description": "No one"}]);
    main["code_owner_approval_required"] = json!(true);
    main
}

/// A raw repository file of the project, as `GET .../repository/files/:path/raw` answers.
pub(crate) fn repository_file(path: &str) -> String {
    format!("{API}/repository/files/{}/raw", path.replace('/', "%2F"))
}

/// The default branch's CODEOWNERS of the reviewed project.
const CODE_OWNERS: &str = "[Pipeline] @data-platform\n/.gitlab-ci.yml\n/ci/\n/meltano.yml\n";

/// A project in group `data` whose settings, variables, protections and review gates leave
/// nothing to find (GitLab Premium).
pub(crate) fn good() -> HashMap<String, Reply> {
    let mut project = shared("project_security_relevant_fields.json");
    project["public_jobs"] = json!(false);
    project["ci_allow_fork_pipelines_to_run_in_parent_project"] = json!(false);
    project["protect_merge_request_pipelines"] = json!(false);
    project["namespace"] = json!({"kind": "group", "full_path": "data"});
    let list = |name| Reply::List(shared(name).as_array().expect("list").clone());
    HashMap::from([
        (
            format!("{API}/approvals"),
            Reply::Object(shared("project_approvals.json")),
        ),
        (
            format!("{API}/approval_rules"),
            list("project_approval_rules.json"),
        ),
        (
            format!("{API}/job_token_scope"),
            Reply::Object(shared("job_token_scope.json")),
        ),
        (
            repository_file("CODEOWNERS"),
            Reply::Text(CODE_OWNERS.to_owned()),
        ),
        (
            repository_file(".gitlab-ci.yml"),
            Reply::Text("include:\n  - local: /ci/elt.yml\n".to_owned()),
        ),
        (
            repository_file("meltano.yml"),
            Reply::Text("version: 1\n".to_owned()),
        ),
        (API.to_owned(), Reply::Object(project)),
        (format!("{API}/variables"), Reply::List(local("good.json"))),
        (GROUP_VARIABLES.to_owned(), Reply::List(Vec::new())),
        (
            format!("{API}/protected_branches"),
            Reply::List(vec![reviewed_main()]),
        ),
        (
            format!("{API}/protected_tags"),
            Reply::List(
                shared("protected_tags_list.json")
                    .as_array()
                    .expect("list")
                    .clone(),
            ),
        ),
        (
            format!("{API}/protected_environments"),
            Reply::List(vec![rule("production", 40)]),
        ),
    ])
}

/// The same project with everything the audit looks for gone wrong.
fn bad() -> HashMap<String, Reply> {
    let mut routes = good();
    let mut project = shared("project_security_relevant_fields.json");
    project["visibility"] = json!("internal");
    project["ci_pipeline_variables_minimum_override_role"] = json!("developer");
    project["namespace"] = json!({"kind": "group", "full_path": "data"});
    routes.insert(API.to_owned(), Reply::Object(project));
    routes.insert(format!("{API}/variables"), Reply::List(local("bad.json")));
    let mut group = shared("group_variables_list.json")
        .as_array()
        .expect("list")
        .clone();
    // Shadowed by the project's own `DB_PASSWORD`.
    group.push(
        json!({"key": "DB_PASSWORD", "value": null, "hidden": true, "protected": true,
                      "masked": true, "raw": false, "environment_scope": "*"}),
    );
    routes.insert(GROUP_VARIABLES.to_owned(), Reply::List(group));
    routes.insert(
        format!("{API}/protected_branches"),
        Reply::List(vec![rule("release/*", 30)]),
    );
    routes.insert(
        format!("{API}/protected_environments"),
        Reply::List(vec![rule("staging", 40)]),
    );
    routes
}

/// Every variable value (8+ characters) the routes hold, to be sure none is printed.
pub(crate) fn values(routes: &HashMap<String, Reply>) -> Vec<String> {
    routes
        .values()
        .filter_map(|reply| match reply {
            Reply::List(items) => Some(items),
            _ => None,
        })
        .flatten()
        .filter_map(|item| item["value"].as_str())
        .filter(|value| value.len() >= 8)
        .map(str::to_owned)
        .collect()
}

/// Runs `ciguard audit --format json ARGS` against a fake server answering `routes`, with
/// `env` set, and checks that no token or value shows in its output.
fn audit(
    routes: HashMap<String, Reply>,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Output, FakeGitlab) {
    let secrets = values(&routes);
    let server = FakeGitlab::start(routes);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = ciguard()
        .args(["audit", "--format", "json", "--gitlab-url", &server.url])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .output()
        .expect("run ciguard audit");
    let all = both(&out);
    for env_value in env
        .iter()
        .map(|(_, value)| *value)
        .filter(|v| v.starts_with("glpat"))
    {
        assert!(!all.contains(env_value), "a token in the output:\n{all}");
    }
    assert!(!all.contains(TOKEN), "the token in the output:\n{all}");
    for value in secrets {
        assert!(
            !all.contains(&value),
            "a variable value in the output:\n{all}"
        );
    }
    (out, server)
}

pub(crate) fn with_token(routes: HashMap<String, Reply>, args: &[&str]) -> (Output, FakeGitlab) {
    audit(routes, &[("GITLAB_TOKEN", TOKEN)], args)
}

pub(crate) fn both(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The (rule, key) of each finding in the JSON report.
pub(crate) fn findings(out: &Output) -> Vec<(String, String)> {
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&f["rule"]), text(&f["location"]["key"]))
        })
        .collect()
}

pub(crate) fn requests_to(server: &FakeGitlab, path: &str) -> Vec<String> {
    let prefix = format!("GET {path}?");
    server
        .requests()
        .into_iter()
        .filter(|line| line.starts_with(&prefix) || line.starts_with(&format!("GET {path} ")))
        .collect()
}

/// The rules the JSON report lists as not checked.
pub(crate) fn unchecked(out: &Output) -> Vec<String> {
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["unchecked"]
        .as_array()
        .expect("unchecked")
        .iter()
        .map(|u| u["rule"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_well_configured_project_has_no_findings_and_exits_0() {
    let (out, server) = with_token(good(), &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(findings(&out).is_empty(), "{}", both(&out));
    assert!(unchecked(&out).is_empty(), "{}", both(&out));
    assert_eq!(requests_to(&server, GROUP_VARIABLES).len(), 1);
    // Files are read from the default branch; CODEOWNERS where GitLab looks first.
    let codeowners = requests_to(&server, &repository_file("CODEOWNERS"));
    assert!(codeowners[0].contains("ref=main"), "{codeowners:?}");
    assert!(requests_to(&server, &repository_file("docs/CODEOWNERS")).is_empty());
}

/// Each review gate: a change to the reviewed project that makes it fire.
#[test]
fn each_review_gate_fires_on_its_own() {
    type Change = fn(&mut HashMap<String, Reply>);
    let cases: [(&str, Change); 8] = [
        ("protected-branch-direct-push", |routes| {
            let mut main = reviewed_main();
            main["push_access_levels"] = json!([{"access_level": 40,
                "access_level_description": "Maintainers"}]);
            routes.insert(format!("{API}/protected_branches"), Reply::List(vec![main]));
        }),
        ("merge-request-approvals-not-required", |routes| {
            routes.insert(format!("{API}/approval_rules"), Reply::List(Vec::new()));
        }),
        ("merge-request-self-approval", |routes| {
            let path = format!("{API}/approvals");
            if let Some(Reply::Object(o)) = routes.get_mut(&path) {
                o["merge_requests_author_approval"] = json!(true);
            }
        }),
        ("approvals-not-reset-on-push", |routes| {
            let path = format!("{API}/approvals");
            if let Some(Reply::Object(o)) = routes.get_mut(&path) {
                o["reset_approvals_on_push"] = json!(false);
            }
        }),
        ("ci-config-without-code-owner", |routes| {
            routes.insert(
                repository_file("CODEOWNERS"),
                Reply::Text("/.gitlab-ci.yml @data-platform\n".to_owned()),
            );
        }),
        ("protected-variables-in-merge-request-pipelines", |routes| {
            if let Some(Reply::Object(o)) = routes.get_mut(API) {
                o["protect_merge_request_pipelines"] = json!(true);
            }
        }),
        ("job-token-allowlist-disabled", |routes| {
            routes.insert(
                format!("{API}/job_token_scope"),
                Reply::Object(json!({"inbound_enabled": false, "outbound_enabled": false})),
            );
        }),
        ("static-cloud-credential", |routes| {
            routes.insert(
                format!("{API}/variables"),
                Reply::List(vec![json!({"key": "AWS_SECRET_ACCESS_KEY", "value": null,
                    "hidden": true, "protected": true, "masked": true, "raw": false,
                    "environment_scope": "production", "variable_type": "env_var"})]),
            );
        }),
    ];
    for (rule, change) in cases {
        let mut routes = good();
        change(&mut routes);
        let (out, _) = with_token(routes, &["--project", PROJECT, "--fail-on", "never"]);
        assert_eq!(out.status.code(), Some(0), "{rule}: {}", both(&out));
        let rules: Vec<String> = findings(&out).into_iter().map(|(r, _)| r).collect();
        assert_eq!(rules, [rule], "{}", both(&out));
    }
}

/// GitLab Free: no approvals API, no code-owner approval field. Those gates are not checked,
/// said on stderr and in the report, and the audit still passes.
#[test]
fn review_gates_the_tier_lacks_are_unchecked_not_clean() {
    let mut routes = good();
    routes.insert(
        format!("{API}/approvals"),
        Reply::Fixture(404, "error_404_project.json"),
    );
    routes.insert(
        format!("{API}/approval_rules"),
        Reply::Fixture(403, "error_403.json"),
    );
    let mut main = reviewed_main();
    main.as_object_mut()
        .expect("object")
        .remove("code_owner_approval_required");
    routes.insert(format!("{API}/protected_branches"), Reply::List(vec![main]));
    routes.insert(
        format!("{API}/job_token_scope"),
        Reply::Fixture(404, "error_404_project.json"),
    );
    let (out, server) = with_token(routes, &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(findings(&out).is_empty(), "{}", both(&out));
    // Without code-owner approval, who owns the files does not matter: none is read.
    assert!(
        !server
            .requests()
            .iter()
            .any(|line| line.contains("/repository/files/")),
        "{:?}",
        server.requests()
    );
    assert_eq!(
        unchecked(&out),
        [
            "approvals-not-reset-on-push",
            "ci-config-without-code-owner",
            "job-token-allowlist-disabled",
            "merge-request-approvals-not-required",
            "merge-request-self-approval",
        ],
        "{}",
        both(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("merge-request-self-approval: not checked for data/warehouse-elt: GitLab answered 403 or 404: it needs GitLab Premium or Ultimate"),
        "{stderr}"
    );
}

#[test]
fn ci_project_id_is_the_default_project() {
    let (out, _) = audit(
        good(),
        &[("GITLAB_TOKEN", TOKEN), ("CI_PROJECT_ID", PROJECT)],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn the_token_can_come_from_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).expect("write the token file");
    let file = file.to_str().expect("UTF-8 path");
    let (out, _) = audit(good(), &[], &["--project", PROJECT, "--token-file", file]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn a_badly_configured_project_gives_its_findings_and_exits_1() {
    let (out, _) = with_token(bad(), &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let mut rules: Vec<String> = findings(&out).into_iter().map(|(rule, _)| rule).collect();
    rules.sort();
    rules.dedup();
    for expected in [
        "credential-not-masked",
        "credential-not-protected",
        "debug-trace-variable",
        "default-branch-unprotected",
        "developers-can-push-protected",
        "expanded-value-with-dollar",
        "fork-pipelines-in-parent",
        "masked-not-hidden",
        "pipeline-variables-overridable",
        "production-credential-all-environments",
        "production-environment-unprotected",
        "public-job-logs",
        "shadowed-variable",
    ] {
        assert!(
            rules.iter().any(|r| r == expected),
            "no {expected} in {rules:?}"
        );
    }
}

#[test]
fn a_rejected_token_exits_2_saying_so() {
    let wrong = "glpat-WrongToken-00000000";
    let (out, _) = audit(good(), &[("GITLAB_TOKEN", wrong)], &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401 Unauthorized"), "{stderr}");
    assert!(stderr.contains("invalid, expired or revoked"), "{stderr}");
}

#[test]
fn a_forbidden_call_exits_2_naming_the_role() {
    let mut routes = good();
    routes.insert(
        format!("{API}/variables"),
        Reply::Fixture(403, "error_403.json"),
    );
    let (out, _) = with_token(routes, &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("403 Forbidden"), "{stderr}");
    assert!(stderr.contains("Maintainer role"), "{stderr}");
    assert!(stderr.contains("read_api"), "{stderr}");
}

#[test]
fn forbidden_group_variables_name_the_owner_role() {
    let mut routes = good();
    routes.insert(
        GROUP_VARIABLES.to_owned(),
        Reply::Fixture(403, "error_403_insufficient_scope.json"),
    );
    let (out, _) = with_token(routes, &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Owner role on the group"), "{stderr}");
}

#[test]
fn protected_environments_unavailable_are_unknown_not_a_failure() {
    let mut routes = good();
    routes.insert(
        format!("{API}/protected_environments"),
        Reply::Fixture(404, "error_404_project.json"),
    );
    let (out, _) = with_token(routes, &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn a_missing_project_exits_2() {
    let mut routes = good();
    routes.insert(
        "/api/v4/projects/data%2Fnope".to_owned(),
        Reply::Fixture(404, "error_404_project.json"),
    );
    let (out, _) = with_token(routes, &["--project", "data/nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("404 Project Not Found"), "{stderr}");
    assert!(stderr.contains("not visible"), "{stderr}");
}

#[test]
fn an_answer_that_is_not_json_exits_2() {
    let mut routes = good();
    routes.insert(
        format!("{API}/protected_tags"),
        Reply::Fixture(200, "README.md"),
    );
    let (out, _) = with_token(routes, &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not JSON"), "{stderr}");
    assert!(!stderr.contains("provenance"), "{stderr}");
}

#[test]
fn a_rate_limited_or_failed_call_is_retried() {
    for status in [429, 500, 503] {
        let mut routes = good();
        routes.insert(
            format!("{API}/variables"),
            Reply::FailOnce(status, Box::new(Reply::List(local("good.json")))),
        );
        let (out, server) = with_token(routes, &["--project", PROJECT]);
        assert_eq!(out.status.code(), Some(0), "{status}: {}", both(&out));
        assert_eq!(requests_to(&server, &format!("{API}/variables")).len(), 2);
    }
}

#[test]
fn every_page_of_a_long_list_is_read() {
    let variables: Vec<Value> = (0..250)
        .map(|i| {
            json!({"key": format!("TAP_{i}_PASSWORD"), "value": null, "hidden": true,
                   "protected": false, "masked": true, "raw": false,
                   "environment_scope": "production", "variable_type": "env_var"})
        })
        .collect();
    let mut routes = good();
    routes.insert(format!("{API}/variables"), Reply::List(variables));
    let (out, server) = with_token(routes, &["--project", PROJECT]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let keys: Vec<String> = findings(&out)
        .into_iter()
        .filter(|(rule, _)| rule == "credential-not-protected")
        .map(|(_, key)| key)
        .collect();
    assert_eq!(keys.len(), 250, "{keys:?}");
    assert!(keys.iter().any(|k| k == "TAP_249_PASSWORD"));
    let pages = requests_to(&server, &format!("{API}/variables"));
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(
        pages.iter().all(|line| line.contains("per_page=100")),
        "{pages:?}"
    );
}

#[test]
fn several_projects_are_audited() {
    let mut routes = bad();
    let other = "/api/v4/projects/7";
    let copies: Vec<(String, Reply)> = routes
        .iter()
        .filter_map(|(path, reply)| Some((path.strip_prefix(API)?, reply)))
        .map(|(rest, reply)| (format!("{other}{rest}"), reply.clone()))
        .collect();
    routes.extend(copies);
    if let Some(Reply::Object(project)) = routes.get_mut(other) {
        project["path_with_namespace"] = json!("data/other");
    }
    let (out, server) = with_token(routes, &["--project", PROJECT, "--project", "7"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let owners: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["owner"].as_str())
        .collect();
    for owner in [PROJECT, "data/other", "data"] {
        assert!(owners.contains(&owner), "no finding of {owner}: {owners:?}");
    }
    assert_eq!(requests_to(&server, API).len(), 1);
    assert_eq!(requests_to(&server, other).len(), 1);
}

#[test]
fn the_job_token_alone_is_refused_with_a_reason() {
    let job_token = "glcbt-JobToken-12345678";
    let (out, server) = audit(
        good(),
        &[("CI_JOB_TOKEN", job_token)],
        &["--project", PROJECT],
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CI_JOB_TOKEN"), "{stderr}");
    assert!(!both(&out).contains(job_token), "{stderr}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_project_and_a_file_together_are_a_usage_error() {
    let (out, _) = with_token(good(), &["--project", PROJECT, "--from-file", "vars.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
}
