//! `ciguard scan`: saved logs and folders (each form `run` masks, each detector, at the right
//! line and column, in every report format, never a value), and `--gitlab` against the fake
//! GitLab (three projects, a group variable, a hidden one, 250 jobs over 3 pages, four leaking
//! jobs found and erased once, refusals, failures, a large log).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::common::{base64, ciguard, show, text};
use crate::fake_gitlab::{FakeGitlab, Reply, TOKEN, fixture};

/// The secret the environment holds, with characters every encoding changes.
/// 69 bytes: its base64 (92 characters) wraps at 76 columns.
const SECRET: &str = "Tr0ub4dor&3 \"x\" p@ss/w0rd-correct-horse-battery-staple-and-more-words";

/// Detector hits, each on its own line: the detector, the line, and the text it flags.
const DETECTED: &[(&str, &str, &str)] = &[
    (
        "gitlab-token",
        "token: glpat-Abcdefghij0123456789xy",
        "Abcdefghij0123456789xy",
    ),
    // The key id's `AKIA` prefix stays visible, as GitLab's runner leaves it.
    (
        "aws-access-key-id",
        "aws AKIAQWERTYUIOPASDFGH done",
        "QWERTYUIOPASDFGH",
    ),
    (
        "aws-secret-access-key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm2Nv9K",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm2Nv9K",
    ),
    (
        "http-authorization",
        "curl -H 'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0'",
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    ),
    (
        "uri-password",
        "dsn=postgresql://loader:Wx7-secretpw-q2@db.internal:5432/dw",
        "Wx7-secretpw-q2",
    ),
    (
        "password-assignment",
        "connect PASSWORD=Kd8#mQ2vLx9 host=db",
        "Kd8#mQ2vLx9",
    ),
    (
        "curl-user",
        "curl -u loader:Hq7-pass-Zx4 https://api.internal/v1",
        "Hq7-pass-Zx4",
    ),
    (
        "github-token",
        "GH=ghp_R8s2Kd9Lm3Nq7Vx1Zc4Bf6Hj0Tw5Yp2Ua8E",
        "R8s2Kd9Lm3Nq7Vx1Zc4Bf6Hj0Tw5Yp2Ua8E",
    ),
    (
        "slack-token",
        "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKl",
        "123456789012-1234567890123-AbCdEfGhIjKl",
    ),
    (
        "slack-webhook",
        "POST https://hooks.slack.com/services/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",
        "T024BE7LD/B08K2QH3J/Xq7Lm2Nv9Kd3Rt6Yp1Zc8Hb4",
    ),
    (
        "stripe-key",
        "stripe sk_live_51Hq8ZpK2mN7vR4tY9wB3xC6",
        "51Hq8ZpK2mN7vR4tY9wB3xC6",
    ),
    (
        "google-api-key",
        "maps key=AIzaSyD4f8Kq2Lm9Nx7Vb3Zc1Hj6Tw0Yp5Ua8Ex done",
        "SyD4f8Kq2Lm9Nx7Vb3Zc1Hj6Tw0Yp5Ua8Ex",
    ),
    (
        "jwt",
        "id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    (
        "url-query-credential",
        "GET /api/v4/projects?private_token=Zq8Xw2Lm9Kd4Rt7Yp1Nc&page=2",
        "Zq8Xw2Lm9Kd4Rt7Yp1Nc",
    ),
    // The organisation's own prefix, given with --token-prefix.
    (
        "token-prefix",
        "acme_Zx9Lm2Kq7Vb4Nd8Wt3 used",
        "Zx9Lm2Kq7Vb4Nd8Wt3",
    ),
];

/// Writes a log the way programs print the secret: raw, base64, wrapped base64 (Python's
/// `encodebytes`, 76 columns), percent-encoded, JSON, shell-quoted (Python's `shlex.quote`),
/// XML-escaped, bash's `printf %q`; then the detector lines.
fn write_log(dir: &Path) -> std::path::PathBuf {
    let program = r#"
import base64, html, json, shlex, subprocess, sys, urllib.parse
s = sys.argv[1]
print("start of the job log")
print("connecting with " + s)
print("basic " + base64.b64encode(s.encode()).decode())
sys.stdout.write(base64.encodebytes(s.encode()).decode())
print("url=https://example.com/?p=" + urllib.parse.quote(s, safe=""))
print(json.dumps({"password": s}))
print("+ psql " + shlex.quote(s))
print("<password>" + html.escape(s) + "</password>")
sys.stdout.flush()
subprocess.run(["bash", "-c", 'printf "q %q\\n" "$1"', "bash", s], check=True)
for line in sys.argv[2:]:
    print(line)
print("end")
"#;
    let path = dir.join("job.log");
    let out = Command::new("python3")
        .args(["-c", program, SECRET])
        .args(DETECTED.iter().map(|(_, line, _)| *line))
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", show(&out));
    std::fs::write(&path, &out.stdout).expect("write the log");
    path
}

fn scan(dir: &Path, args: &[&str]) -> Output {
    ciguard()
        .arg("scan")
        .args(args)
        .env("DB_PASSWORD", SECRET)
        .current_dir(dir)
        .output()
        .expect("run ciguard scan")
}

/// (rule, line, column, message) of each JSON finding.
fn findings(report: &str) -> Vec<(String, u64, u64, String)> {
    let report: Value = serde_json::from_str(report).expect("a JSON report");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["location"]["line"].as_u64().unwrap_or_default(),
                f["location"]["column"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Every string that would give a secret away.
fn giveaways() -> Vec<String> {
    let mut all = vec![
        SECRET.to_owned(),
        "p@ss/w0rd".to_owned(),
        "correct-horse".to_owned(),
    ];
    all.extend(DETECTED.iter().map(|(_, _, value)| (*value).to_owned()));
    all
}

#[test]
fn a_saved_log_gives_each_leak_at_its_line_and_column_in_every_format_without_a_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_log(dir.path());
    let out = scan(
        dir.path(),
        &[
            "job.log",
            "--token-prefix",
            "acme_",
            "--format",
            "json",
            "--report",
            "sarif=scan.sarif",
            "--report",
            "codequality=cq.json",
            "--report",
            "junit=junit.xml",
            "--report",
            "text=scan.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let found = findings(&text(&out.stdout));
    let variable = |line| {
        (
            "leaked-variable".to_owned(),
            line,
            "the value of `DB_PASSWORD` is in clear".to_owned(),
        )
    };
    let mut expected = vec![
        (variable(2), 17),
        (variable(3), 7),
        // Wrapped base64: the mask starts on line 4 and runs into line 5.
        (variable(4), 1),
        (variable(6), 28),
        (variable(7), 15),
        // Inside the quotes `shlex.quote` adds.
        (variable(8), 9),
        (variable(9), 11),
        // bash's `printf %q`.
        (variable(10), 3),
    ];
    for (i, (detector, line, value)) in DETECTED.iter().enumerate() {
        let message = format!("a credential found by detector `{detector}` is in clear");
        let rule = ("leaked-secret".to_owned(), 11 + i as u64, message);
        let column = line.find(value).expect("the value is on its line") + 1;
        expected.push((rule, column as u64));
    }
    let got: Vec<((String, u64, String), u64)> = found
        .iter()
        .map(|(rule, line, column, message)| ((rule.clone(), *line, message.clone()), *column))
        .collect();
    assert_eq!(got, expected, "{}", show(&out));
    let mut everything = text(&out.stdout) + &text(&out.stderr);
    for report in ["scan.sarif", "cq.json", "junit.xml", "scan.txt"] {
        let written = std::fs::read_to_string(dir.path().join(report)).expect("a report");
        assert!(
            written.contains("leaked-variable"),
            "{report} lists the findings"
        );
        everything += &written;
    }
    for giveaway in giveaways() {
        assert!(
            !everything.contains(&giveaway),
            "`{giveaway}` is in an output:\n{everything}"
        );
    }
}

#[test]
fn folders_are_walked_with_meltano_s_state_and_without_git_s_objects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("logs/.meltano/run/tap")).expect("dirs");
    std::fs::create_dir_all(root.join(".git")).expect("dirs");
    std::fs::write(
        root.join("logs/.meltano/run/tap/config.json"),
        format!("{{\"password\": {}}}\n", json!(SECRET)),
    )
    .expect("write");
    std::fs::write(root.join("logs/clean.log"), "nothing here\n").expect("write");
    std::fs::write(root.join(".git/ORIG"), SECRET).expect("write");
    std::os::unix::fs::symlink(root.join("logs/clean.log"), root.join("logs/link.log"))
        .expect("symlink");
    // A pipe nobody writes to: reading it would never end.
    let made = Command::new("mkfifo")
        .arg(root.join("logs/pipe"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let out = scan(root, &[".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        ["logs/.meltano/run/tap/config.json"],
        "{}",
        show(&out)
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("scanned 2 files") && stderr.contains("2 items not followed"),
        "{stderr}"
    );
}

#[test]
fn the_configuration_sets_severities_and_ignored_paths_as_for_lint() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("fixtures")).expect("dir");
    std::fs::write(
        dir.path().join("job.log"),
        "token: glpat-Abcdefghij0123456789xy\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("fixtures/sample.log"),
        "token: glpat-Zyxwvutsrq9876543210ab\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join(".ciguard.yml"),
        "rules:\n  leaked-secret: { severity: low }\nignore: [ \"fixtures/**\" ]\n",
    )
    .expect("write");
    let out = scan(dir.path(), &[".", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "low is under --fail-on high: {}",
        show(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{}", show(&out));
    for finding in findings {
        assert_eq!(finding["severity"], "low");
        let suppressed = finding["location"]["path"] == "fixtures/sample.log";
        assert_eq!(finding["suppressed"].is_string(), suppressed, "{finding}");
    }
}

#[test]
fn standard_input_is_scanned_as_dash_and_a_clean_input_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = ciguard()
        .args(["scan", "-", "--format", "json"])
        .env("DB_PASSWORD", SECRET)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut stdin, format!("a\nb {SECRET}").as_bytes()).expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["findings"][0]["location"]["path"], "-");
    assert_eq!(report["findings"][0]["location"]["line"], 2);
    std::fs::write(dir.path().join("clean.log"), "nothing\n").expect("write");
    let out = scan(dir.path(), &["clean.log"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn a_binary_file_that_is_not_utf8_is_scanned_byte_for_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut bytes = b"\x00\xff\xfe binary\n\xc3\x28 ".to_vec();
    bytes.extend_from_slice(SECRET.as_bytes());
    bytes.extend_from_slice(b"\x00\x01 tail without a line break");
    std::fs::write(dir.path().join("dump.bin"), &bytes).expect("write");
    let out = scan(dir.path(), &["dump.bin", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let found = findings(&text(&out.stdout));
    assert_eq!(
        found,
        [(
            "leaked-variable".to_owned(),
            2,
            4,
            "the value of `DB_PASSWORD` is in clear".to_owned()
        )]
    );
}

#[test]
fn an_unreadable_input_is_reported_in_every_format_and_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = scan(
        dir.path(),
        &[
            "missing.log",
            "--format",
            "json",
            "--report",
            "sarif=s.sarif",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["errors"][0]["path"], "missing.log", "{}", show(&out));
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.sarif")).expect("sarif"))
            .expect("JSON");
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}

#[test]
fn scan_needs_paths_or_gitlab_and_never_repeats_an_option_value() {
    let out = ciguard().arg("scan").output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    for (option, value) in [
        ("--since", "glpat-OptionValue1234567"),
        ("--pipelines", "glpat-OptionValue1234567"),
        ("--concurrency", "glpat-OptionValue1234567"),
        ("--shard", "glpat-OptionValue1234567"),
    ] {
        let out = ciguard()
            .args(["scan", "--gitlab", option, value])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{option}: {}", show(&out));
        assert!(
            !text(&out.stderr).contains(value),
            "{option}: {}",
            show(&out)
        );
    }
}

// --- Through the GitLab API ---

/// The project paths, as URL-encoded in API paths.
const ELT: &str = "/api/v4/projects/data%2Felt";
const DBT: &str = "/api/v4/projects/data%2Fdbt";
const SANDBOX: &str = "/api/v4/projects/alice%2Fsandbox";

/// A group variable's value, masked; a project variable's; the sandbox's own.
const GROUP_SECRET: &str = "grp-Warehouse-Pass-4f9a2c";
const ELT_SECRET: &str = "elt-Source-Api-Key-77d1e0b3";
const SANDBOX_SECRET: &str = "sbx pass/with spaces&more";

fn job(id: u64, project: &str, created_at: &str) -> Value {
    let mut job: Value = serde_json::from_str(&fixture("job.json")).expect("job fixture");
    job["id"] = json!(id);
    job["name"] = json!(format!("elt-{id}"));
    job["pipeline"]["id"] = json!(1000 + id / 10);
    job["created_at"] = json!(created_at);
    job["web_url"] = json!(format!("https://gitlab.example.com/{project}/-/jobs/{id}"));
    job
}

fn variable(key: &str, value: Option<&str>, masked: bool) -> Value {
    json!({"key": key, "value": value, "variable_type": "env_var", "protected": true,
           "masked": masked, "hidden": value.is_none(), "raw": false,
           "environment_scope": "*", "description": null})
}

fn project(path: &str, kind: &str, namespace: &str) -> Value {
    let mut project: Value =
        serde_json::from_str(&fixture("project_security_relevant_fields.json")).expect("fixture");
    project["path_with_namespace"] = json!(path);
    project["namespace"] = json!({"kind": kind, "full_path": namespace});
    project
}

/// Routes for three projects: `data/elt` with 250 jobs (the group's variables, a hidden one,
/// its own), `data/dbt` with 5, `alice/sandbox` (a user's) with 3; four logs leak.
fn routes(created_at: &str) -> HashMap<String, Reply> {
    let mut routes = HashMap::new();
    let clean = "Running with gitlab-runner 17.6.0\n$ meltano run tap target\nJob succeeded\n";
    let projects = [
        (ELT, "data/elt", "group", "data", 250),
        (DBT, "data/dbt", "group", "data", 5),
        (SANDBOX, "alice/sandbox", "user", "alice", 3),
    ];
    for (api, path, kind, namespace, count) in projects {
        routes.insert(
            api.to_owned(),
            Reply::Object(project(path, kind, namespace)),
        );
        let jobs = (1..=count)
            .rev()
            .map(|id| job(id, path, created_at))
            .collect();
        routes.insert(format!("{api}/jobs"), Reply::List(jobs));
        for id in 1..=count {
            routes.insert(
                format!("{api}/jobs/{id}/trace"),
                Reply::Text(clean.to_owned()),
            );
        }
    }
    routes.insert(
        "/api/v4/groups/data/variables".to_owned(),
        Reply::List(vec![
            variable("WAREHOUSE_PASSWORD", Some(GROUP_SECRET), true),
            variable("HIDDEN_TOKEN", None, true),
            variable("DBT_TARGET", Some("production-target"), false),
        ]),
    );
    routes.insert(
        format!("{ELT}/variables"),
        Reply::List(vec![variable("TAP_API_KEY", Some(ELT_SECRET), true)]),
    );
    routes.insert(format!("{DBT}/variables"), Reply::List(Vec::new()));
    routes.insert(
        format!("{SANDBOX}/variables"),
        Reply::List(vec![variable(
            "SANDBOX_PASSWORD",
            Some(SANDBOX_SECRET),
            false,
        )]),
    );
    let leaks = [
        (ELT, 7, format!("$ load\nusing {GROUP_SECRET}\n")),
        (
            ELT,
            201,
            format!("x\ny\nauth {}\n", base64(ELT_SECRET.as_bytes())),
        ),
        (DBT, 3, "token glpat-Zyxwvutsrq9876543210ab\n".to_owned()),
        (
            SANDBOX,
            2,
            "url=https://h/?p=sbx%20pass%2Fwith%20spaces%26more".to_owned(),
        ),
    ];
    for (api, id, log) in leaks {
        routes.insert(format!("{api}/jobs/{id}/trace"), Reply::Text(log));
    }
    routes
}

fn scan_gitlab(server: &FakeGitlab, args: &[&str]) -> Output {
    scan_gitlab_command(server, args)
        .output()
        .expect("run ciguard scan")
}

fn scan_gitlab_command(server: &FakeGitlab, args: &[&str]) -> Command {
    let mut command = ciguard();
    command
        .args([
            "scan",
            "--gitlab",
            "--format",
            "json",
            "--gitlab-url",
            &server.url,
        ])
        .args(args)
        .env("GITLAB_TOKEN", TOKEN)
        .current_dir(std::env::temp_dir());
    command
}

/// Runs the command under a Python parent that reports its children's peak RSS (KiB, from
/// `getrusage`): the command's output and its peak memory.
fn with_peak_memory(command: impl FnOnce() -> Command) -> (Output, u64) {
    let command = command();
    let program = r#"
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
sys.stdout.buffer.write(done.stdout)
sys.stderr.buffer.write(done.stderr)
sys.stderr.write("\npeak-kib=%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
"#;
    let mut python = Command::new("python3");
    python
        .arg("-c")
        .arg(program)
        .arg(command.get_program())
        .args(command.get_args())
        .env_clear()
        .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))));
    if let Some(dir) = command.get_current_dir() {
        python.current_dir(dir);
    }
    let mut out = python.output().expect("python3");
    let stderr = text(&out.stderr);
    let (rest, peak) = stderr.rsplit_once("\npeak-kib=").expect("the peak line");
    let peak = peak.trim().parse().expect("a number");
    out.stderr = rest.as_bytes().to_vec();
    (out, peak)
}

const THREE: &[&str] = &[
    "--project",
    "data/elt",
    "--project",
    "data/dbt",
    "--project",
    "alice/sandbox",
    "--since",
    "36500d",
];

/// How many job logs the server served.
fn logs_read(server: &FakeGitlab) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.contains("/trace"))
        .count()
}

/// (path, line, rule) of each finding.
fn places(out: &Output) -> Vec<(String, u64, String)> {
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mut places: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["location"]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                f["location"]["line"].as_u64().unwrap_or_default(),
                f["rule"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    places.sort();
    places
}

#[test]
fn job_logs_of_three_projects_give_exactly_the_four_leaks_and_erase_them_once() {
    let server = FakeGitlab::start(routes("2026-11-30T08:12:21.802Z"));
    let out = scan_gitlab(&server, THREE);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let url = |project: &str, id: u64| format!("https://gitlab.example.com/{project}/-/jobs/{id}");
    assert_eq!(
        places(&out),
        [
            (url("alice/sandbox", 2), 1, "leaked-variable".to_owned()),
            (url("data/dbt", 3), 1, "leaked-secret".to_owned()),
            (url("data/elt", 201), 3, "leaked-variable".to_owned()),
            (url("data/elt", 7), 2, "leaked-variable".to_owned()),
        ],
        "{}",
        show(&out)
    );
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(
        all.contains("`WAREHOUSE_PASSWORD` (group data)")
            && all.contains("job 7 `elt-7` (pipeline 1000 of data/elt)"),
        "{all}"
    );
    assert!(
        all.contains("`HIDDEN_TOKEN` are hidden"),
        "a hidden variable is named once: {all}"
    );
    let traces = logs_read(&server);
    assert_eq!(traces, 258, "every job's log, once");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.starts_with(&format!("GET {ELT}/jobs?per_page=100&page=3"))),
        "the third page of jobs"
    );
    for secret in [
        GROUP_SECRET,
        ELT_SECRET,
        SANDBOX_SECRET,
        "Zyxwvutsrq9876543210ab",
        TOKEN,
    ] {
        assert!(!all.contains(secret), "a value in the output: {all}");
    }

    let listed = scan_gitlab(&server, &[THREE, &["--erase"]].concat());
    assert_eq!(listed.status.code(), Some(1), "{}", show(&listed));
    assert_eq!(text(&listed.stderr).matches("would erase job").count(), 4);
    assert!(!server.requests().iter().any(|r| r.starts_with("POST")));

    let erased = scan_gitlab(&server, &[THREE, &["--erase", "--apply"]].concat());
    assert_eq!(erased.status.code(), Some(1), "{}", show(&erased));
    let posts: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST"))
        .filter_map(|r| r.split(' ').nth(1).map(str::to_owned))
        .collect();
    assert_eq!(
        posts,
        // Projects in path order, jobs in id order.
        [
            format!("{SANDBOX}/jobs/2/erase"),
            format!("{DBT}/jobs/3/erase"),
            format!("{ELT}/jobs/7/erase"),
            format!("{ELT}/jobs/201/erase"),
        ],
        "{}",
        show(&erased)
    );
    assert_eq!(
        text(&erased.stderr)
            .matches("erased the log and artifacts of job")
            .count(),
        4
    );

    let again = scan_gitlab(&server, &[THREE, &["--erase", "--apply"]].concat());
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(places(&again).is_empty());
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.starts_with("POST"))
            .count(),
        4,
        "nothing erased twice"
    );
    assert!(text(&again.stderr).contains("nothing to erase"));
}

#[test]
fn the_last_pipelines_a_group_and_a_running_job_are_scanned() {
    let mut routes = routes("2026-11-30T08:12:21.802Z");
    let jobs_of = |pipeline: u64| -> Vec<Value> {
        let mut jobs: Vec<Value> = (1..=250)
            .rev()
            .filter(|id| 1000 + id / 10 == pipeline)
            .map(|id| job(id, "data/elt", "2026-11-30T08:12:21.802Z"))
            .collect();
        if pipeline == 1025 {
            jobs[0]["status"] = json!("running");
        }
        jobs
    };
    let (latest, previous) = (jobs_of(1025), jobs_of(1024));
    routes.insert(
        format!("{ELT}/pipelines"),
        Reply::List((1000..=1025).rev().map(|id| json!({"id": id})).collect()),
    );
    routes.insert(format!("{ELT}/pipelines/1025/jobs"), Reply::List(latest));
    routes.insert(format!("{ELT}/pipelines/1024/jobs"), Reply::List(previous));
    routes.insert(
        format!("{ELT}/jobs/245/trace"),
        Reply::Text(format!("partial log, still going: {GROUP_SECRET}")),
    );
    routes.insert(
        "/api/v4/groups/data/projects".to_owned(),
        Reply::GroupProjects {
            own: vec![
                json!({"path_with_namespace": "data/elt", "archived": false}),
                json!({"path_with_namespace": "data/dbt", "archived": false}),
            ],
            subgroups: Vec::new(),
        },
    );
    let server = FakeGitlab::start(routes);
    let out = scan_gitlab(&server, &["--project", "data/elt", "--pipelines", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let url = |project: &str, id: u64| format!("https://gitlab.example.com/{project}/-/jobs/{id}");
    assert_eq!(
        places(&out),
        [(url("data/elt", 245), 1, "leaked-variable".to_owned())]
    );
    assert!(
        text(&out.stderr).contains("data/elt: job 250 is still running"),
        "{}",
        show(&out)
    );
    let traces = logs_read(&server);
    assert_eq!(traces, 11, "the jobs of pipelines 1025 and 1024 only");
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.contains("/pipelines/1023/"))
    );

    let out = scan_gitlab(&server, &["--group", "data", "--since", "36500d"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let found: Vec<String> = places(&out).into_iter().map(|(path, _, _)| path).collect();
    assert_eq!(
        found,
        [
            url("data/dbt", 3),
            url("data/elt", 201),
            url("data/elt", 245),
            url("data/elt", 7)
        ]
    );
}

#[test]
fn an_erase_refused_is_said_and_the_others_go_on_with_exit_2() {
    let mut routes = routes("2026-11-30T08:12:21.802Z");
    routes.insert(
        format!("POST {ELT}/jobs/7/erase"),
        Reply::Fixture(403, "error_403.json"),
    );
    routes.insert(
        format!("POST {DBT}/jobs/3/erase"),
        Reply::Fixture(404, "error_404_project.json"),
    );
    let server = FakeGitlab::start(routes);
    let out = scan_gitlab(&server, &[THREE, &["--erase", "--apply"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("could not erase job 7") && stderr.contains("403"),
        "{stderr}"
    );
    assert!(
        stderr.contains("could not erase job 3") && stderr.contains("404"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("erased the log and artifacts").count(), 2);
}

#[test]
fn since_stops_paging_at_older_jobs() {
    let mut routes = routes("2026-11-30T08:12:21.802Z");
    // Jobs 1 to 120 of data/elt are old: pages 1 and 2 are read, page 3 is not.
    let jobs: Vec<Value> = (1..=250)
        .rev()
        .map(|id| {
            let at = if id > 120 {
                "2026-11-30T08:12:21.802Z"
            } else {
                "2020-01-01T00:00:00.000Z"
            };
            job(id, "data/elt", at)
        })
        .collect();
    routes.insert(format!("{ELT}/jobs"), Reply::List(jobs));
    let server = FakeGitlab::start(routes);
    // Back to 2025-01-01, however late the test runs.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let since = format!("{}d", (now - 1_735_689_600) / 86_400);
    let out = scan_gitlab(&server, &["--project", "data/elt", "--since", &since]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("/jobs?per_page=100&page=2"))
    );
    assert!(
        !requests
            .iter()
            .any(|r| r.contains("/jobs?per_page=100&page=3"))
    );
    assert_eq!(logs_read(&server), 130);
    assert_eq!(
        places(&out),
        [(
            "https://gitlab.example.com/data/elt/-/jobs/201".to_owned(),
            3,
            "leaked-variable".to_owned()
        )]
    );
}

#[test]
fn api_refusals_end_with_what_to_do_and_a_failed_log_is_not_reported_clean() {
    for (route, status, fixture_name, says) in [
        (ELT.to_owned(), 404, "error_404_project.json", "404"),
        (
            format!("{ELT}/variables"),
            403,
            "error_403.json",
            "Maintainer",
        ),
        (format!("{ELT}/jobs"), 403, "error_403.json", "Reporter"),
    ] {
        let mut routes = routes("2026-11-30T08:12:21.802Z");
        routes.insert(route.clone(), Reply::Fixture(status, fixture_name));
        let server = FakeGitlab::start(routes);
        let out = scan_gitlab(&server, &["--project", "data/elt", "--since", "36500d"]);
        assert_eq!(out.status.code(), Some(2), "{route}: {}", show(&out));
        assert!(text(&out.stderr).contains(says), "{route}: {}", show(&out));
    }
    let server = FakeGitlab::start(routes("2026-11-30T08:12:21.802Z"));
    let out = ciguard()
        .args([
            "scan",
            "--gitlab",
            "--project",
            "data/elt",
            "--gitlab-url",
            &server.url,
        ])
        .env("GITLAB_TOKEN", "glpat-WrongToken-000000000")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("401"), "{}", show(&out));
    assert!(!text(&out.stderr).contains("WrongToken"));

    let mut routes = routes("2026-11-30T08:12:21.802Z");
    routes.insert(
        format!("{DBT}/jobs/4/trace"),
        Reply::Fixture(500, "error_403.json"),
    );
    routes.insert(
        format!("{DBT}/jobs/5/trace"),
        Reply::FailOnce(429, Box::new(Reply::Text("clean\n".to_owned()))),
    );
    routes.insert(
        format!("{DBT}/jobs/2/trace"),
        Reply::Cut(format!("start\nusing {GROUP_SECRET} before the cut\n")),
    );
    let server = FakeGitlab::start(routes);
    let out = scan_gitlab(&server, &["--project", "data/dbt", "--since", "36500d"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let errors: Vec<&str> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(
        errors,
        [
            "https://gitlab.example.com/data/dbt/-/jobs/2",
            "https://gitlab.example.com/data/dbt/-/jobs/4"
        ],
        "{}",
        show(&out)
    );
    // The leak before the cut is found, and the one the fixture always has.
    let found: Vec<(String, u64)> = places(&out)
        .into_iter()
        .map(|(path, line, _)| (path, line))
        .collect();
    assert_eq!(
        found,
        [
            ("https://gitlab.example.com/data/dbt/-/jobs/2".to_owned(), 2),
            ("https://gitlab.example.com/data/dbt/-/jobs/3".to_owned(), 1)
        ]
    );
}

#[test]
fn a_large_log_that_stops_mid_line_is_streamed_to_its_end() {
    let mut routes = routes("2026-11-30T08:12:21.802Z");
    let line = "2026-11-30T08:12:27Z tap-postgres | INFO replicated 1000 rows of public.orders\n";
    // About 64 MiB, the leak on its last line, without a line break.
    let times = (64 << 20) / line.len() as u64;
    routes.insert(
        format!("{DBT}/jobs/1/trace"),
        Reply::Log {
            line: line.to_owned(),
            times,
            last: format!("password={GROUP_SECRET}"),
        },
    );
    let server = FakeGitlab::start(routes);
    let (out, peak_kib) = with_peak_memory(|| {
        scan_gitlab_command(&server, &["--project", "data/dbt", "--since", "36500d"])
    });
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    // Memory does not follow the log: a debug build holding the log would pass 64 MiB.
    assert!(
        peak_kib < 48 * 1024,
        "peak RSS {peak_kib} KiB for a 64 MiB log"
    );
    let places = places(&out);
    assert!(
        places.contains(&(
            "https://gitlab.example.com/data/dbt/-/jobs/1".to_owned(),
            times + 1,
            "leaked-variable".to_owned()
        )),
        "{places:?}"
    );
}

/// What scan reports on the real files of `tests/fixtures/external` (the corpus of pipelines and
/// Meltano projects, gitlab-ci-local's test pipelines, GitLab's API bodies) with no variable set:
/// only detectors run. None of them holds a live credential, so every finding here would be a
/// false positive a reviewer dismisses; the snapshot keeps the judgement (and what was set aside
/// as a placeholder or example) reviewed like code. The peers' masking tables are left out: they
/// are credentials by design.
#[test]
fn scanning_real_files_reports_what_the_reviewed_snapshot_says() {
    let external = Path::new(crate::common::REPO).join("tests/fixtures/external");
    let out = ciguard()
        .args([
            "scan",
            "corpus",
            "real-pipelines",
            "gitlab-api",
            "--format",
            "json",
        ])
        .current_dir(&external)
        .output()
        .expect("run ciguard scan");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut lines: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f["rule"].as_str().unwrap_or_default(),
                f["location"]["path"].as_str().unwrap_or_default(),
                f["location"]["line"],
                f["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let summary = text(&out.stderr)
        .lines()
        .find(|line| line.contains("scanned"))
        .unwrap_or_default()
        .to_owned();
    lines.push(summary);
    let reviewed = "\
# `ciguard scan corpus real-pipelines gitlab-api` in tests/fixtures/external, no variable set.
# Reviewed 2026-12-06: no finding, right (none of these files holds a live credential). The two
# detector hits set aside are right to be: `GR1348941exampleexample` (gitlab-api/
# project_security_relevant_fields.json:34, an example runner token) and a `private_key` holding
# only its BEGIN marker (real-pipelines/gitlab-ci-local/custom-home/.home/.gitlab-ci-local/
# variables.yml:14). A change here is a finding to judge: write why it is right or wrong below.
";
    crate::common::assert_snapshot(
        "scan_of_real_files_reviewed.txt",
        &format!("{reviewed}{}\n", lines.join("\n")),
    );
}
