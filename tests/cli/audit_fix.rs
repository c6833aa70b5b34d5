//! `ciguard audit --fix [--apply]` against the fake GitLab: the plan sends nothing; `--apply`
//! sets exactly the planned flags through `filter[environment_scope]`, never a value; a refused
//! variable does not stop the others; a second run changes nothing.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Output;

use serde_json::{Value, json};

use crate::audit_api::{API, PROJECT, both, good, values};
use crate::common::ciguard;
use crate::fake_gitlab::{FakeGitlab, Reply, TOKEN};

fn variable(key: &str, value: Value, scope: &str, protected: bool, masked: bool) -> Value {
    json!({"variable_type": "env_var", "key": key, "value": value, "hidden": value.is_null(),
           "protected": protected, "masked": masked, "raw": false,
           "environment_scope": scope, "description": null})
}

/// `good()` with credentials to fix: `DB_PASSWORD` in two scopes, one needing both flags and
/// one `protected` only; `TAP_API_TOKEN` GitLab can mask only as raw; plus `extra`.
fn routes(extra: Vec<Value>) -> HashMap<String, Reply> {
    let mut variables = vec![
        variable("DB_PASSWORD", json!("Sup3r-s3cret-pw42"), "*", false, false),
        variable(
            "DB_PASSWORD",
            json!("pr0d-Passw0rd-9731"),
            "production",
            false,
            true,
        ),
        variable(
            "TAP_API_TOKEN",
            json!("tok$en-with-dollar-77"),
            "production",
            true,
            false,
        ),
        variable(
            "TAP_POSTGRES_PASSWORD",
            Value::Null,
            "production",
            true,
            true,
        ),
        variable("DBT_TARGET", json!("dev"), "*", false, false),
    ];
    variables.extend(extra);
    let mut routes = good();
    routes.insert(format!("{API}/variables"), Reply::List(variables));
    routes
}

/// Runs `ciguard audit --format json --project PROJECT ARGS` against `server`, checking that
/// no token and none of `secrets` shows in its output.
fn run(server: &FakeGitlab, secrets: &[String], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = ciguard()
        .args(["audit", "--format", "json", "--gitlab-url", &server.url])
        .args(["--project", PROJECT])
        .args(args)
        .env("GITLAB_TOKEN", TOKEN)
        .current_dir(dir.path())
        .output()
        .expect("run ciguard audit");
    let all = both(&out);
    assert!(!all.contains(TOKEN), "the token in the output:\n{all}");
    for value in secrets {
        assert!(!all.contains(value), "a value in the output:\n{all}");
    }
    out
}

fn start(routes: HashMap<String, Reply>) -> (FakeGitlab, Vec<String>) {
    let secrets = values(&routes);
    (FakeGitlab::start(routes), secrets)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The stored `(key, scope, protected, masked, value)` of each variable.
fn stored(server: &FakeGitlab) -> Vec<(String, String, bool, bool, Value)> {
    server
        .stored(&format!("{API}/variables"))
        .expect("updated")
        .iter()
        .map(|v| {
            let text = |name: &str| v[name].as_str().unwrap_or_default().to_owned();
            (
                text("key"),
                text("environment_scope"),
                v["protected"] == true,
                v["masked"] == true,
                v["value"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_plan_sends_nothing_and_says_what_it_cannot_do() {
    let (server, secrets) = start(routes(Vec::new()));
    let out = run(&server, &secrets, &["--fix"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(server.puts().is_empty(), "{:?}", server.puts());
    let stderr = stderr(&out);
    for expected in [
        "`DB_PASSWORD` (environment `*`) at project data/warehouse-elt: set protected, masked",
        "`DB_PASSWORD` (environment `production`) at project data/warehouse-elt: set protected\n",
        "`TAP_API_TOKEN` (environment `production`) at project data/warehouse-elt: cannot set \
         masked: GitLab can mask it only as a raw variable",
        "cannot set hidden: GitLab sets `hidden` only when a variable is created",
        "2 variable(s) to change; run again with --apply",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in:\n{stderr}");
    }
    let mut sets = stderr.lines().filter(|line| line.contains(": set "));
    assert!(sets.all(|line| !line.contains("hidden")), "{stderr}");
}

#[test]
fn apply_sets_the_planned_flags_per_scope_and_a_second_run_changes_nothing() {
    let (server, secrets) = start(routes(Vec::new()));
    let out = run(&server, &secrets, &["--fix", "--apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let mut puts = server.puts();
    puts.sort_by_key(|(line, _)| line.clone());
    let path = format!("PUT {API}/variables/DB_PASSWORD?filter%5Benvironment_scope%5D=");
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert!(
        puts.iter().all(|(line, _)| line.starts_with(&path)),
        "{puts:?}"
    );
    let bodies: Vec<&Value> = puts.iter().map(|(_, body)| body).collect();
    assert!(
        bodies.contains(&&json!({"protected": true, "masked": true, "environment_scope": "*"})),
        "{bodies:?}"
    );
    assert!(
        bodies.contains(&&json!({"protected": true, "environment_scope": "production"})),
        "{bodies:?}"
    );
    let stored = stored(&server);
    let original = routes(Vec::new());
    let Some(Reply::List(before)) = original.get(&format!("{API}/variables")) else {
        panic!("no variables route");
    };
    let values: Vec<&Value> = before.iter().map(|v| &v["value"]).collect();
    assert_eq!(stored.iter().map(|v| &v.4).collect::<Vec<_>>(), values);
    let flags: Vec<(&str, &str, bool, bool)> = stored
        .iter()
        .map(|(key, scope, protected, masked, _)| {
            (key.as_str(), scope.as_str(), *protected, *masked)
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("DB_PASSWORD", "*", true, true),
            ("DB_PASSWORD", "production", true, true),
            ("TAP_API_TOKEN", "production", true, false),
            ("TAP_POSTGRES_PASSWORD", "production", true, true),
            ("DBT_TARGET", "*", false, false),
        ]
    );
    let said = stderr(&out);
    assert!(said.contains("2 variable(s) changed, 0 failed"), "{said}");

    let again = run(&server, &secrets, &["--fix", "--apply"]);
    assert_eq!(server.puts().len(), 2, "a second run sent a PUT");
    assert!(
        stderr(&again).contains("nothing to change"),
        "{}",
        both(&again)
    );
}

#[test]
fn a_refused_variable_does_not_stop_the_others_and_exits_2() {
    let mut routes = routes(vec![
        variable(
            "FORBIDDEN_PASSWORD",
            json!("abcd1234efgh5678"),
            "*",
            false,
            true,
        ),
        variable(
            "INVALID_PASSWORD",
            json!("ijkl1234mnop5678"),
            "*",
            true,
            false,
        ),
    ]);
    routes.insert(
        format!("{API}/variables/FORBIDDEN_PASSWORD"),
        Reply::Fixture(403, "error_403.json"),
    );
    routes.insert(
        format!("{API}/variables/INVALID_PASSWORD"),
        Reply::Fixture(400, "error_400_masked_value_invalid.json"),
    );
    let (server, secrets) = start(routes);
    let out = run(&server, &secrets, &["--fix", "--apply"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert_eq!(server.puts().len(), 4, "{:?}", server.puts());
    let stderr = stderr(&out);
    for expected in [
        "not changed `FORBIDDEN_PASSWORD` (environment `*`) at project data/warehouse-elt: \
         GitLab answered 403 Forbidden to PUT",
        "api scope",
        "not changed `INVALID_PASSWORD` (environment `*`) at project data/warehouse-elt: \
         GitLab answered 400 Bad Request to PUT",
        "\"value is invalid\"",
        "2 variable(s) changed, 2 failed",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in:\n{stderr}");
    }
    assert!(stored(&server).iter().all(|v| v.0 != "DB_PASSWORD" || v.2));
}

/// One raw request to the fake server: the status line and body of its answer.
fn raw_put(server: &FakeGitlab, target: &str, body: &str) -> String {
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "PUT {target} HTTP/1.1\r\nhost: {address}\r\nPRIVATE-TOKEN: {TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn the_fake_server_refuses_what_gitlab_refuses() {
    let (server, _) = start(routes(Vec::new()));
    let variables = format!("{API}/variables");
    let cases = [
        (
            format!("{variables}/DB_PASSWORD"),
            r#"{"protected":true}"#,
            "409",
            "Please use 'filter[environment_scope]'",
        ),
        (
            format!("{variables}/NOPE"),
            r#"{"protected":true}"#,
            "404",
            "404 Variable Not Found",
        ),
        (
            format!("{variables}/TAP_API_TOKEN?filter%5Benvironment_scope%5D=production"),
            r#"{"masked":true}"#,
            "400",
            "is invalid",
        ),
        (
            format!("{variables}/TAP_POSTGRES_PASSWORD"),
            r#"{"masked":false}"#,
            "400",
            "cannot be changed for masked and hidden variables",
        ),
        (
            format!("{variables}/TAP_API_TOKEN"),
            r#"{"hidden":true}"#,
            "400",
            "Only new variables can be set as masked and hidden.",
        ),
    ];
    for (target, body, status, message) in cases {
        let answer = raw_put(&server, &target, body);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{target}: {answer}"
        );
        assert!(answer.contains(message), "{target}: {answer}");
    }
}
