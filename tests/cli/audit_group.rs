//! `ciguard audit --group` (with and without `--include-subgroups`), `--shard` and
//! `--instance` against the fake GitLab: which projects are read, how often each group's
//! variables are, the failures that exit 2, and a server's rate limit waited for.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::audit_api::{API, both, findings, good, requests_to, with_token};
use crate::common::ciguard;
use crate::fake_gitlab::{FakeGitlab, Options, Reply, TOKEN};

/// Projects directly in group `data`, and the one in its subgroup `data/platform`.
const OWN: [&str; 2] = ["data/a", "data/b"];
const IN_SUBGROUP: &str = "data/platform/c";
const ADMIN_VARIABLES: &str = "/api/v4/admin/ci/variables";

fn project_api(path: &str) -> String {
    format!("/api/v4/projects/{}", path.replace('/', "%2F"))
}

/// Group `data` holding the well-configured project of `audit_api` under three paths (one in
/// a subgroup) and an archived one, none of whose routes exist.
fn group() -> HashMap<String, Reply> {
    let template = good();
    let mut routes = HashMap::new();
    for path in OWN.into_iter().chain([IN_SUBGROUP]) {
        let api = project_api(path);
        for (route, reply) in &template {
            if let Some(rest) = route.strip_prefix(API) {
                routes.insert(format!("{api}{rest}"), reply.clone());
            }
        }
        if let Some(Reply::Object(project)) = routes.get_mut(&api) {
            project["path_with_namespace"] = json!(path);
            let namespace = path.rsplit_once('/').map_or("", |(group, _)| group);
            project["namespace"] = json!({"kind": "group", "full_path": namespace});
        }
    }
    for group in ["data", "data%2Fplatform"] {
        routes.insert(
            format!("/api/v4/groups/{group}/variables"),
            Reply::List(Vec::new()),
        );
    }
    let listed =
        |path: &str, archived: bool| json!({"path_with_namespace": path, "archived": archived});
    routes.insert(
        "/api/v4/groups/data/projects".to_owned(),
        Reply::GroupProjects {
            own: vec![
                listed(OWN[0], false),
                listed("data/old", true),
                listed(OWN[1], false),
            ],
            subgroups: vec![listed(IN_SUBGROUP, false)],
        },
    );
    routes
}

/// The projects whose `GET /projects/:id` a run made, in sorted order.
fn audited(server: &FakeGitlab) -> Vec<&'static str> {
    OWN.into_iter()
        .chain([IN_SUBGROUP, "data/old"])
        .filter(|path| !requests_to(server, &project_api(path)).is_empty())
        .collect()
}

#[test]
fn a_group_is_audited_without_its_subgroups_unless_asked() {
    let (out, server) = with_token(group(), &["--group", "data"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(audited(&server), OWN);
    let listing = requests_to(&server, "/api/v4/groups/data/projects");
    assert!(
        listing[0].contains("include_subgroups=false"),
        "{listing:?}"
    );

    let (out, server) = with_token(group(), &["--group", "data", "--include-subgroups"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(audited(&server), [OWN[0], OWN[1], IN_SUBGROUP]);
    for path in OWN.into_iter().chain([IN_SUBGROUP]) {
        assert_eq!(requests_to(&server, &project_api(path)).len(), 1, "{path}");
    }
}

#[test]
fn shared_ancestor_variables_are_read_once() {
    let (out, server) = with_token(
        group(),
        &[
            "--group",
            "data",
            "--include-subgroups",
            "--concurrency",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(
        requests_to(&server, "/api/v4/groups/data/variables").len(),
        1
    );
    assert_eq!(
        requests_to(&server, "/api/v4/groups/data%2Fplatform/variables").len(),
        1
    );
}

#[test]
fn shards_cover_every_project_exactly_once() {
    let mut covered = Vec::new();
    for shard in ["1/2", "2/2"] {
        let args = ["--group", "data", "--include-subgroups", "--shard", shard];
        let (out, server) = with_token(group(), &args);
        assert_eq!(out.status.code(), Some(0), "{shard}: {}", both(&out));
        let part = audited(&server);
        assert!(!part.is_empty(), "shard {shard} audited nothing");
        covered.extend(part);
    }
    covered.sort_unstable();
    assert_eq!(covered, [OWN[0], OWN[1], IN_SUBGROUP]);
}

#[test]
fn a_malformed_shard_exits_2_saying_what_to_write() {
    for bad in ["3/2", "0/2", "1-2"] {
        let (out, server) = with_token(group(), &["--group", "data", "--shard", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", both(&out));
        assert!(both(&out).contains("--shard I/N"), "{}", both(&out));
        assert!(server.requests().is_empty());
    }
}

#[test]
fn instance_variables_are_audited_with_the_lowest_precedence() {
    let mut routes = good();
    let debug = json!({"key": "CI_DEBUG_TRACE", "value": "true", "variable_type": "env_var",
                       "protected": false, "masked": false, "raw": false, "description": null});
    routes.insert(ADMIN_VARIABLES.to_owned(), Reply::List(vec![debug]));
    let (out, server) = with_token(routes.clone(), &["--project", "data/warehouse-elt"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(requests_to(&server, ADMIN_VARIABLES).is_empty());

    let args = ["--project", "data/warehouse-elt", "--instance"];
    let (out, server) = with_token(routes, &args);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        findings(&out).contains(&("debug-trace-variable".into(), "CI_DEBUG_TRACE".into())),
        "{}",
        both(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["location"]["level"] == "instance"),
        "{report}"
    );
    assert_eq!(requests_to(&server, ADMIN_VARIABLES).len(), 1);
}

#[test]
fn instance_variables_without_admin_exit_2_saying_so() {
    let mut routes = group();
    routes.insert(
        ADMIN_VARIABLES.to_owned(),
        Reply::Fixture(403, "error_403.json"),
    );
    let (out, server) = with_token(routes, &["--group", "data", "--instance"]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("403 Forbidden"), "{stderr}");
    assert!(stderr.contains("administrator"), "{stderr}");
    assert!(audited(&server).is_empty(), "read projects before failing");
}

#[test]
fn a_used_up_rate_limit_pauses_requests_instead_of_spending_them_on_429s() {
    let options = Options {
        latency: Duration::ZERO,
        rate_limit: Some(3),
    };
    let server = FakeGitlab::start_with(good(), options);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = ciguard()
        .args(["audit", "--gitlab-url", &server.url])
        .args(["--project", "data/warehouse-elt"])
        .env("GITLAB_TOKEN", TOKEN)
        .current_dir(dir.path())
        .output()
        .expect("run ciguard audit");
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        server.requests().len() > 3,
        "more requests than the limit allows in a second"
    );
    assert_eq!(
        server.throttled(),
        0,
        "RateLimit-Remaining: 0 paused the client until RateLimit-Reset"
    );
}
