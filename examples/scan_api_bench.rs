//! The `ciguard scan --gitlab` benchmark of issue 15: one project of 1,000 jobs whose logs are
//! 1 MB each on the tests' fake GitLab, 20 ms added to every answer; one job in 100 leaks a group
//! variable's value on its last line (`BENCH_LEAK_EVERY`: one in N). Prints the wall time, the peak memory (GNU time), the
//! requests, and whether exactly the leaking jobs were found.
//!
//! `cargo build --release && cargo run --release --example scan_api_bench -- [ARGS]`, where ARGS
//! go to `ciguard scan` (e.g. `--concurrency 16`). The binary is `target/release/ciguard` next
//! to this example, or `$CIGUARD_BIN`. Environment: `BENCH_JOBS` (1000), `BENCH_LOG_BYTES`
//! (1000000), `BENCH_LATENCY_MS` (20), `BENCH_LEAK_EVERY` (100; 1 for a single large log).

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

const API: &str = "/api/v4/projects/bench%2Felt";
const SECRET: &str = "bench-Warehouse-Pass-71c9e2";
const LINE: &str =
    "2026-11-30T08:12:27Z tap-postgres | INFO replicated 1000 rows of public.orders\n";

/// Whether job `job` prints the secret: one in `BENCH_LEAK_EVERY`.
fn leaks(job: u64) -> bool {
    let every = setting("BENCH_LEAK_EVERY", 100).max(1);
    job % every == 7 % every
}

/// The project, its group's masked variable, `jobs` jobs newest first, and their logs.
fn routes(jobs: u64, log_bytes: u64) -> HashMap<String, Reply> {
    let mut routes = HashMap::new();
    routes.insert(
        API.to_owned(),
        Reply::Object(json!({"path_with_namespace": "bench/elt",
                             "namespace": {"kind": "group", "full_path": "bench"}})),
    );
    routes.insert(
        "/api/v4/groups/bench/variables".to_owned(),
        Reply::List(vec![json!({"key": "WAREHOUSE_PASSWORD", "value": SECRET,
            "variable_type": "env_var", "protected": true, "masked": true, "hidden": false,
            "raw": false, "environment_scope": "*", "description": null})]),
    );
    routes.insert(format!("{API}/variables"), Reply::List(Vec::new()));
    let listed: Vec<Value> = (1..=jobs)
        .rev()
        .map(|id| {
            json!({"id": id, "name": format!("elt-{id}"), "status": "success",
                   "created_at": "2026-11-30T08:12:21.802Z", "erased_at": null,
                   "web_url": format!("https://gitlab.example.com/bench/elt/-/jobs/{id}"),
                   "pipeline": {"id": 1000 + id / 10}})
        })
        .collect();
    routes.insert(format!("{API}/jobs"), Reply::List(listed));
    for id in 1..=jobs {
        let last = if leaks(id) {
            format!("using {SECRET}\n")
        } else {
            String::new()
        };
        routes.insert(
            format!("{API}/jobs/{id}/trace"),
            Reply::Log {
                line: LINE.to_owned(),
                times: log_bytes / LINE.len() as u64,
                last,
            },
        );
    }
    routes
}

#[allow(clippy::print_stdout)]
fn main() -> ExitCode {
    let jobs = setting("BENCH_JOBS", 1000);
    let log_bytes = setting("BENCH_LOG_BYTES", 1_000_000);
    let latency = Duration::from_millis(setting("BENCH_LATENCY_MS", 20));
    let options = Options {
        latency,
        rate_limit: None,
    };
    let server = FakeGitlab::start_with(routes(jobs, log_bytes), options);
    let dir = std::env::temp_dir().join(format!("ciguard-scan-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let (report, timing) = (dir.join("report.json"), dir.join("time"));
    let extra: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&timing)
        .arg(ciguard_binary())
        .args([
            "scan",
            "--gitlab",
            "--project",
            "bench/elt",
            "--since",
            "36500d",
        ])
        .args([
            "--gitlab-url",
            &server.url,
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .arg("--output")
        .arg(&report)
        .args(&extra)
        .env("GITLAB_TOKEN", TOKEN)
        .status()
        .expect("run /usr/bin/time ciguard (build it first, or set CIGUARD_BIN)");
    let wall = started.elapsed();
    let rss_kib: f64 = std::fs::read_to_string(&timing)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0.0);
    let report: Value = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    let _ = std::fs::remove_dir_all(&dir);
    let mut found: Vec<u64> = report["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            f["location"]["path"]
                .as_str()?
                .rsplit('/')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    found.sort_unstable();
    let expected: Vec<u64> = (1..=jobs).filter(|&id| leaks(id)).collect();
    let logs = server
        .requests()
        .iter()
        .filter(|r| r.contains("/trace"))
        .count();
    println!(
        "{jobs} job logs of {log_bytes} bytes, {} ms per request, ciguard scan {}",
        latency.as_millis(),
        extra.join(" ")
    );
    println!("exit status     {}", status.code().unwrap_or(-1));
    println!(
        "wall time       {:.2} s ({:.0} MB/s of logs)",
        wall.as_secs_f64(),
        (jobs * log_bytes) as f64 / 1e6 / wall.as_secs_f64()
    );
    println!("peak RSS        {:.1} MiB", rss_kib / 1024.0);
    println!("requests        {} ({logs} logs)", server.requests().len());
    println!(
        "leaking jobs    {} found, {} expected: {}",
        found.len(),
        expected.len(),
        if found == expected {
            "exactly"
        } else {
            "NOT the same"
        }
    );
    if status.success() && found == expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
