//! The `ciguard audit --group` benchmark of issue 3: a group of 1,000 projects with 20 variables
//! each on the tests' fake GitLab, 20 ms added to every answer and a rate limit announced in
//! `RateLimit-*` headers (and enforced with 429s). Prints the wall time, the requests made
//! against the requests the data needs, and how many went over the limit.
//!
//! `cargo build --release && cargo run --release --example audit_group_bench -- [ARGS]`, where
//! ARGS go to `ciguard audit` (e.g. `--concurrency 8`). The binary is `target/release/ciguard`
//! next to this example, or `$CIGUARD_BIN`. Environment: `BENCH_PROJECTS` (1000),
//! `BENCH_LATENCY_MS` (20), `BENCH_RATE_LIMIT` (requests per second, 1000).

// The tests' fake server; the benchmark uses only part of it.
#[allow(dead_code)]
#[path = "../tests/cli/fake_gitlab.rs"]
mod fake_gitlab;
mod support;

use std::collections::HashMap;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use fake_gitlab::{FakeGitlab, Options, Reply, TOKEN};
use serde_json::{Value, json};
use support::{ciguard_binary, setting};

const GROUP: &str = "bench";
const VARIABLES: usize = 20;
/// Requests one project's audit needs: the project, its variables (one page), protected
/// branches, tags and environments, the approval settings and rules (GitLab Free here: 404) and
/// the job token scope (404). No code-owner approval, so no repository file.
const PER_PROJECT: usize = 8;

/// Project `i`'s routes: settings, 20 variables, one protected branch and environment.
fn project(i: usize, routes: &mut HashMap<String, Reply>) -> Value {
    let path = format!("{GROUP}/project-{i:04}");
    let api = format!("/api/v4/projects/{GROUP}%2Fproject-{i:04}");
    let rule = |name: &str| {
        json!({"name": name, "push_access_levels": [{"access_level": 40}],
               "merge_access_levels": [{"access_level": 40}],
               "deploy_access_levels": [{"access_level": 40}]})
    };
    let variables = (0..VARIABLES)
        .map(|v| {
            json!({"key": format!("TAP_{v}_PASSWORD"), "value": null, "hidden": true,
                   "protected": true, "masked": true, "raw": true, "variable_type": "env_var",
                   "environment_scope": "production", "description": null})
        })
        .collect();
    let settings = json!({"path_with_namespace": path, "default_branch": "main",
        "visibility": "private", "public_jobs": false,
        "ci_pipeline_variables_minimum_override_role": "maintainer",
        "ci_allow_fork_pipelines_to_run_in_parent_project": false,
        "namespace": {"kind": "group", "full_path": GROUP}});
    routes.insert(api.clone(), Reply::Object(settings));
    routes.insert(format!("{api}/variables"), Reply::List(variables));
    routes.insert(
        format!("{api}/protected_branches"),
        Reply::List(vec![rule("main")]),
    );
    routes.insert(format!("{api}/protected_tags"), Reply::List(Vec::new()));
    routes.insert(
        format!("{api}/protected_environments"),
        Reply::List(vec![rule("production")]),
    );
    json!({"path_with_namespace": path, "archived": false})
}

#[allow(clippy::print_stdout)]
fn main() -> ExitCode {
    let projects = usize::try_from(setting("BENCH_PROJECTS", 1000)).unwrap_or(1000);
    let latency = Duration::from_millis(setting("BENCH_LATENCY_MS", 20));
    let limit = u32::try_from(setting("BENCH_RATE_LIMIT", 1000)).unwrap_or(u32::MAX);
    let mut routes = HashMap::new();
    let listed = (0..projects).map(|i| project(i, &mut routes)).collect();
    routes.insert(
        format!("/api/v4/groups/{GROUP}/projects"),
        Reply::GroupProjects {
            own: listed,
            subgroups: Vec::new(),
        },
    );
    routes.insert(
        format!("/api/v4/groups/{GROUP}/variables"),
        Reply::List(Vec::new()),
    );
    let options = Options {
        latency,
        rate_limit: Some(limit),
    };
    let server = FakeGitlab::start_with(routes, options);
    let extra: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let status = Command::new(ciguard_binary())
        .args(["audit", "--group", GROUP, "--gitlab-url", &server.url])
        .args([
            "--format",
            "json",
            "--output",
            "/dev/null",
            "--fail-on",
            "never",
        ])
        .args(&extra)
        .env("GITLAB_TOKEN", TOKEN)
        .status()
        .expect("run ciguard (build it with cargo build --release, or set CIGUARD_BIN)");
    let wall = started.elapsed();
    let needed = projects * PER_PROJECT + projects.div_ceil(100).max(1) + 1;
    println!(
        "projects {projects}, {VARIABLES} variables each, {} ms per request, rate limit \
         {limit}/s, ciguard audit {}",
        latency.as_millis(),
        extra.join(" ")
    );
    println!("exit status     {}", status.code().unwrap_or(-1));
    println!("wall time       {:.2} s", wall.as_secs_f64());
    println!(
        "requests        {} (the data needs {needed})",
        server.requests().len()
    );
    println!("over the limit  {}", server.throttled());
    if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
