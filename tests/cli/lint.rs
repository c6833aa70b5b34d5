//! `ciguard lint` end to end: exit statuses, formats and reports, configuration, the corpus of
//! real pipelines, bad input, and this project's own pipeline.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{REPO, assert_snapshot, ciguard, text};

const EXTERNAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/external");

fn lint_in(dir: &Path, args: &[&str]) -> Output {
    ciguard()
        .arg("lint")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run ciguard lint")
}

/// The YAML files of `tests/fixtures/external/corpus/<kind>`, sorted.
fn corpus_files(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(EXTERNAL).join("corpus").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create its directory");
    std::fs::write(&path, content).expect("write fixture");
    path
}

const LEAKY_PIPELINE: &str = "\
variables:
  CI_DEBUG_TRACE: \"true\"
  WAREHOUSE_PASSWORD: \"Hunter2-literal-pw\"

elt:
  script:
    - env
    - meltano run tap-postgres target-snowflake
";

#[test]
fn findings_at_or_above_fail_on_exit_1_and_never_show_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), ".gitlab-ci.yml", LEAKY_PIPELINE);
    let out = lint_in(dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    for id in [
        "debug-trace",
        "env-dump",
        "hardcoded-credential",
        "elt-not-scrubbed",
    ] {
        assert!(stdout.contains(id), "{id} missing in\n{stdout}");
    }
    assert!(stdout.contains(".gitlab-ci.yml:2:"), "{stdout}");
    for format in ["text", "json", "sarif", "codequality", "junit"] {
        let out = lint_in(dir.path(), &["--format", format]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            !all.contains("Hunter2-literal-pw"),
            "{format} shows the value:\n{all}"
        );
    }
}

#[test]
fn fail_on_never_exits_0_and_a_clean_file_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), ".gitlab-ci.yml", LEAKY_PIPELINE);
    assert_eq!(
        lint_in(dir.path(), &["--fail-on", "never"]).status.code(),
        Some(0)
    );
    let clean = tempfile::tempdir().expect("temp dir");
    write(
        clean.path(),
        ".gitlab-ci.yml",
        "test:\n  script:\n    - cargo test\n",
    );
    let out = lint_in(clean.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn reports_go_to_their_files_in_their_formats() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), ".gitlab-ci.yml", LEAKY_PIPELINE);
    let out = lint_in(
        dir.path(),
        &[
            "--report",
            "codequality=cq.json",
            "--report",
            "sarif=out.sarif",
            "--output",
            "main.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let cq: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cq.json")).expect("cq"))
            .expect("json");
    assert!(cq.as_array().is_some_and(|items| !items.is_empty()), "{cq}");
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out.sarif")).expect("sarif"),
    )
    .expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    let main: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("main.json")).expect("main"))
            .expect("json");
    assert!(main["findings"].as_array().is_some_and(|f| !f.is_empty()));
    assert!(out.stdout.is_empty(), "--output keeps stdout empty");
}

#[test]
fn malformed_yaml_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        ".gitlab-ci.yml",
        "job:\n  script: [unclosed\n  other: 1\n",
    );
    let out = lint_in(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(".gitlab-ci.yml:"), "{stderr}");
}

/// A file that cannot be parsed is in every report, never a clean-looking empty one, and the
/// other files are still linted.
#[test]
fn a_file_not_analysed_is_in_every_report_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "broken.yml", "job:\n  script: [unclosed\n");
    write(dir.path(), "ok.yml", "dump:\n  script:\n    - env\n");
    let out = lint_in(
        dir.path(),
        &[
            "--report",
            "codequality=cq.json",
            "--report",
            "sarif=out.sarif",
            "--report",
            "junit=junit.xml",
            "--report",
            "json=out.json",
            "broken.yml",
            "ok.yml",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("NOT ANALYSED: broken.yml"));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect(name);
    let json = |name: &str| -> serde_json::Value { serde_json::from_str(&read(name)).expect(name) };

    let quality = json("cq.json");
    let checks: Vec<&str> = quality
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(|issue| issue["check_name"].as_str())
        .collect();
    assert!(
        checks.contains(&"not-analysed") && checks.contains(&"env-dump"),
        "{checks:?}"
    );
    let sarif = json("out.sarif");
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"],
        "broken.yml"
    );
    let junit = read("junit.xml");
    assert!(
        junit.contains(r#"errors="1""#) && junit.contains("not-analysed broken.yml"),
        "{junit}"
    );
    let report = json("out.json");
    assert_eq!(report["errors"][0]["path"], "broken.yml");
    assert!(report["errors"][0]["line"].as_u64().is_some());
    assert_eq!(report["findings"][0]["rule"], "env-dump");
}

/// `include: local` paths start at the repository root, as GitLab reads them, whichever file is
/// linted and however its path is written; globs too.
#[test]
fn local_includes_resolve_from_the_repository_root() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect("a repository");
    write(
        dir.path(),
        ".gitlab-ci.yml",
        "include:\n  - local: ci/*.yml\n",
    );
    write(dir.path(), "ci/jobs.yml", "dump:\n  script:\n    - env\n");
    write(
        dir.path(),
        "pipelines/nightly.yml",
        "include:\n  - local: /ci/jobs.yml\n",
    );
    for args in [
        &[][..],
        &[".gitlab-ci.yml"],
        &["./.gitlab-ci.yml"],
        &["pipelines/nightly.yml"],
    ] {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let out = lint_in(dir.path(), &all);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let rules: Vec<&str> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert_eq!(rules, ["env-dump"], "lint {args:?}: {}", text(&out.stdout));
        assert_eq!(
            report["findings"][0]["location"]["path"], "ci/jobs.yml",
            "lint {args:?}"
        );
    }
}

/// What GitLab rejects is an error at file:line:col, never a silent pass: `extends:` and
/// `!reference` to nowhere, circular, or deeper than 10 levels.
#[test]
fn broken_extends_and_references_are_errors_with_positions() {
    let mut deep = String::from("job:\n  extends: .t1\n  script: [make]\n");
    for level in 1..=11 {
        deep.push_str(&format!(".t{level}:\n  extends: .t{}\n", level + 1));
    }
    deep.push_str(".t12:\n  image: alpine\n");
    let cases = [
        (
            "job:\n  extends: .missing\n  script: [make]\n".to_owned(),
            "2:12",
            "`extends: .missing` names no job",
        ),
        (
            ".a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n  script: [make]\n"
                .to_owned(),
            "4:12",
            "circular `extends:`: .a -> .b -> .a",
        ),
        (deep, "23:12", "nests more than 10 levels deep"),
        (
            "job:\n  script:\n    - !reference [.setup, script]\n".to_owned(),
            "3:18",
            "`!reference [.setup, script]` names nothing",
        ),
    ];
    for (pipeline, position, words) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), ".gitlab-ci.yml", &pipeline);
        let out = lint_in(dir.path(), &["--format", "json", ".gitlab-ci.yml"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{pipeline}\n{stderr}");
        assert!(
            stderr.contains(&format!(".gitlab-ci.yml:{position}")) && stderr.contains(words),
            "{pipeline}\n{stderr}"
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert!(
            report["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(words))
        );
    }
    // A name an unread include may define is no error: the include is reported instead.
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        ".gitlab-ci.yml",
        "include:\n  - template: Jobs/SAST.gitlab-ci.yml\njob:\n  extends: .sast-analyzer\n  script: [make]\n",
    );
    let out = lint_in(dir.path(), &[".gitlab-ci.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn no_file_to_lint_exits_2_saying_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = lint_in(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("give the files to lint"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn inline_suppression_is_counted_not_lost() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        ".gitlab-ci.yml",
        "debug:\n  variables:\n    CI_DEBUG_TRACE: \"true\"  # ciguard: ignore[debug-trace] debugging a runner, removed tomorrow\n  script:\n    - echo hi\n",
    );
    let out = lint_in(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings = json["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "debug-trace" && f["suppressed"].is_string()),
        "{json}"
    );
}

#[test]
fn configuration_can_disable_a_rule_and_unknown_keys_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), ".gitlab-ci.yml", "job:\n  script:\n    - env\n");
    write(
        dir.path(),
        ".ciguard.yml",
        "rules:\n  env-dump:\n    disabled: true\n",
    );
    let out = lint_in(dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    write(dir.path(), ".ciguard.yml", "rulez: {}\n");
    let out = lint_in(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(".ciguard.yml:1"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn every_corpus_file_lints_without_error() {
    for kind in ["pipelines", "meltano"] {
        let files = corpus_files(kind);
        assert!(files.len() >= 5, "too small a corpus of {kind}");
        let out = ciguard()
            .args(["lint", "--fail-on", "never", "--format", "json"])
            .args(&files)
            .output()
            .expect("run ciguard lint");
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
        assert!(json["findings"].is_array());
    }
}

#[test]
fn this_projects_own_pipeline_has_no_finding() {
    let out = ciguard()
        .args(["lint", ".gitlab-ci.yml"])
        .current_dir(REPO)
        .output()
        .expect("run ciguard lint");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `rule line:col message` per finding of one file, from the JSON report.
fn finding_lines(report: &serde_json::Value) -> String {
    let mut lines = String::new();
    for finding in report["findings"].as_array().expect("findings") {
        let location = &finding["location"];
        lines.push_str(&format!(
            "  {} {}:{}:{} {}{}\n",
            finding["rule"].as_str().unwrap_or_default(),
            location["path"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default(),
            location["line"],
            location["column"],
            finding["message"].as_str().unwrap_or_default(),
            if finding["suppressed"].is_string() {
                " (suppressed)"
            } else {
                ""
            },
        ));
    }
    lines
}

#[test]
fn corpus_findings_match_the_reviewed_snapshot() {
    let mut snapshot = String::new();
    for kind in ["pipelines", "meltano"] {
        let files = corpus_files(kind);
        for file in files {
            let out = ciguard()
                .args(["lint", "--fail-on", "never", "--format", "json"])
                .arg(&file)
                .output()
                .expect("run ciguard lint");
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            let name = file
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            snapshot.push_str(&format!("{kind}/{name}\n{}", finding_lines(&report)));
        }
    }
    assert_snapshot("corpus_findings_match_the_reviewed_snapshot.txt", &snapshot);
}

#[test]
fn text_output_of_the_rule_fixtures_matches_the_snapshot() {
    let root = Path::new(REPO).join("tests/fixtures/lint/ci");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures")
        .flat_map(|rule| std::fs::read_dir(rule.expect("entry").path()).expect("rule dir"))
        .map(|entry| entry.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("fires-"))
        })
        .collect();
    fixtures.sort();
    let mut snapshot = String::new();
    for fixture in fixtures {
        let relative = fixture.strip_prefix(REPO).expect("inside the repository");
        let out = ciguard()
            .args(["lint", "--fail-on", "never"])
            .arg(relative)
            .current_dir(REPO)
            .output()
            .expect("run ciguard lint");
        snapshot.push_str(&format!(
            "=== {}\n{}",
            relative.display(),
            text(&out.stdout)
        ));
    }
    assert_snapshot(
        "text_output_of_the_rule_fixtures_matches_the_snapshot.txt",
        &snapshot,
    );
}

#[test]
fn configured_elt_commands_must_be_scrubbed_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        ".gitlab-ci.yml",
        "transform:\n  script:\n    - dbt run --target prod\n    - ciguard run -- dbt run --target prod\n    - dbt docs generate\n",
    );
    let out = lint_in(dir.path(), &["--format", "json", "--fail-on", "never"]);
    let quiet: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        quiet["findings"].as_array().map(Vec::len),
        Some(0),
        "{quiet}"
    );
    write(dir.path(), ".ciguard.yml", "elt_commands: [\"dbt run\"]\n");
    let out = lint_in(dir.path(), &["--format", "json", "--fail-on", "never"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let hits: Vec<(String, u64)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let rule = f["rule"].as_str().unwrap_or_default().to_owned();
            (rule, f["location"]["line"].as_u64().unwrap_or_default())
        })
        .collect();
    assert_eq!(hits, [("elt-not-scrubbed".to_owned(), 3)], "{report}");
}

/// `lint --gitlab`: the project's real variables (read from a fake GitLab) refine what counts as
/// a credential and what reaches merge-request pipelines.
#[test]
fn gitlab_variables_refine_credentials_in_mr_pipelines() {
    use crate::audit_api::{API, PROJECT, good};
    use crate::fake_gitlab::{FakeGitlab, Reply, TOKEN};

    let mut routes = good();
    let variable = |key: &str, protected: bool| {
        serde_json::json!({"variable_type": "env_var", "key": key, "value": "Zq8-not-shown-0xW",
            "hidden": false, "protected": protected, "masked": true, "raw": false,
            "environment_scope": "*", "description": null})
    };
    routes.insert(
        format!("{API}/variables"),
        Reply::List(vec![
            variable("TAP_POSTGRES_PASSWORD", true),
            variable("WAREHOUSE_LOGIN_ID", false),
        ]),
    );
    let server = FakeGitlab::start(routes.clone());
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        ".gitlab-ci.yml",
        "check:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n  script:\n    - ./load --user \"$WAREHOUSE_LOGIN_ID\" --password-file <(printenv TAP_POSTGRES_PASSWORD)\n    - echo \"$TAP_POSTGRES_PASSWORD\" | ./check --stdin\n",
    );
    let mr_findings = |args: &[&str]| {
        let out = ciguard()
            .args(["lint", "--format", "json", "--fail-on", "never"])
            .args(args)
            .env("GITLAB_TOKEN", TOKEN)
            .current_dir(dir.path())
            .output()
            .expect("run ciguard lint");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            !all.contains(TOKEN) && !all.contains("Zq8-not-shown"),
            "{all}"
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "credentials-in-mr-pipeline")
            .map(|f| f["message"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    let by_name = mr_findings(&[]);
    assert_eq!(by_name.len(), 1, "{by_name:?}");
    assert!(
        by_name[0].contains("TAP_POSTGRES_PASSWORD") && !by_name[0].contains("WAREHOUSE_LOGIN_ID")
    );
    let with_gitlab = mr_findings(&[
        "--gitlab",
        "--project",
        PROJECT,
        "--gitlab-url",
        &server.url,
    ]);
    assert_eq!(with_gitlab.len(), 1, "{with_gitlab:?}");
    assert!(
        with_gitlab[0].contains("WAREHOUSE_LOGIN_ID")
            && !with_gitlab[0].contains("TAP_POSTGRES_PASSWORD"),
        "the masked variable counts, the protected one never reaches MR pipelines: {with_gitlab:?}"
    );

    // With `protect_merge_request_pipelines` on, protected variables may reach them too.
    if let Some(Reply::Object(project)) = routes.get_mut(API) {
        project["protect_merge_request_pipelines"] = serde_json::json!(true);
    }
    let server = FakeGitlab::start(routes);
    let protected_too = mr_findings(&[
        "--gitlab",
        "--project",
        PROJECT,
        "--gitlab-url",
        &server.url,
    ]);
    assert!(
        protected_too
            .iter()
            .any(|m| m.contains("TAP_POSTGRES_PASSWORD")),
        "{protected_too:?}"
    );
}

/// The CI files of `tests/fixtures/external/real-pipelines` (`.gitlab-ci*.yml`, not
/// gitlab-ci-local's own `.gitlab-ci-local-*.yml` inputs), sorted.
fn real_pipeline_files() -> Vec<PathBuf> {
    fn visit(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                visit(&path, out);
            } else if name.starts_with(".gitlab-ci")
                && !name.starts_with(".gitlab-ci-local")
                && name.ends_with(".yml")
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    visit(&Path::new(EXTERNAL).join("real-pipelines"), &mut files);
    files.sort();
    files
}

/// `ciguard lint --format json` on `file`, run in its directory as a user would.
fn lint_real_file(file: &Path) -> (Option<i32>, serde_json::Value, String) {
    let name = file.file_name().expect("a file name").to_string_lossy();
    let out = lint_in(
        file.parent().expect("a directory"),
        &["--fail-on", "high", "--format", "json", &name],
    );
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), report, text(&out.stderr))
}

/// Where `file` is under `tests/fixtures/external`.
fn external_name(file: &Path) -> String {
    file.strip_prefix(EXTERNAL)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_real_pipeline_lints_or_is_rejected_as_gitlab_rejects_it() {
    let rejected_list =
        std::fs::read_to_string(Path::new(EXTERNAL).join("real-pipelines/rejected.txt"))
            .expect("rejected.txt");
    let rejected: Vec<&str> = rejected_list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split('\t').next())
        .collect();
    let files = real_pipeline_files();
    assert!(
        files.len() >= 250,
        "the suite shrank to {} files",
        files.len()
    );
    let mut wrong = Vec::new();
    for file in &files {
        let name = external_name(file);
        let expected_rejection = rejected.iter().any(|r| name.ends_with(r));
        let (status, _, stderr) = lint_real_file(file);
        let ok = if expected_rejection {
            status == Some(2)
                && stderr.contains(".gitlab-ci.yml:")
                && stderr.contains("GitLab rejects")
        } else {
            matches!(status, Some(0 | 1))
        };
        if !ok {
            wrong.push(format!("{name}: exit {status:?}\n{stderr}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The reviewed verdicts on high and critical findings on real files.
const REVIEWED_HIGH_FINDINGS: &str = "tests/snapshots/high_findings_on_real_files_reviewed.txt";

#[test]
fn high_and_critical_findings_on_real_files_are_reviewed_and_mostly_right() {
    let mut files = corpus_files("pipelines");
    files.extend(corpus_files("meltano"));
    files.extend(real_pipeline_files());
    let mut found = Vec::new();
    for file in &files {
        let (_, report, _) = lint_real_file(file);
        let name = external_name(file);
        for finding in report["findings"].as_array().into_iter().flatten() {
            if !matches!(finding["severity"].as_str(), Some("high" | "critical")) {
                continue;
            }
            found.push(format!(
                "{} {name}:{} {}",
                finding["rule"].as_str().unwrap_or_default(),
                finding["location"]["line"],
                finding["message"].as_str().unwrap_or_default(),
            ));
        }
    }
    found.sort();
    let review =
        std::fs::read_to_string(Path::new(REPO).join(REVIEWED_HIGH_FINDINGS)).expect("the review");
    let mut reviewed = Vec::new();
    let mut right = 0;
    for line in review
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut fields = line.split('\t');
        let (verdict, finding, reason) = (fields.next(), fields.next(), fields.next());
        assert!(
            matches!(verdict, Some("right" | "wrong")) && reason.is_some_and(|r| r.len() > 10),
            "a review line is `right|wrong<TAB>finding<TAB>reason`: {line}"
        );
        right += usize::from(verdict == Some("right"));
        reviewed.push(finding.unwrap_or_default().to_owned());
    }
    reviewed.sort();
    let unreviewed: Vec<&String> = found.iter().filter(|f| !reviewed.contains(f)).collect();
    let gone: Vec<&String> = reviewed.iter().filter(|f| !found.contains(f)).collect();
    assert!(
        unreviewed.is_empty() && gone.is_empty(),
        "review {REVIEWED_HIGH_FINDINGS}:\nnew, to judge:\n{}\nno longer found:\n{}",
        unreviewed
            .iter()
            .map(|f| format!("?\t{f}\t<reason>"))
            .collect::<Vec<_>>()
            .join("\n"),
        gone.iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    assert!(
        reviewed.len() >= 10,
        "too few high findings to judge precision"
    );
    let precision = right as f64 / reviewed.len() as f64;
    assert!(
        precision >= 0.95,
        "precision on high and critical findings is {precision:.3}"
    );
}

#[test]
fn a_baseline_accepts_old_findings_and_gates_new_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), ".gitlab-ci.yml", LEAKY_PIPELINE);
    let out = lint_in(dir.path(), &["--write-baseline", "baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(dir.path().join("baseline.json")).expect("baseline");
    assert!(written.contains("\"recipe\": \"ciguard/v1\""), "{written}");
    assert!(
        !written.contains("Hunter2"),
        "a baseline never holds a value"
    );

    let out = lint_in(
        dir.path(),
        &["--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f["suppressed"] == "in the baseline")
    );

    // Lines added above move every finding; only the new leak fails the run.
    let moved = format!("# moved\n\n{LEAKY_PIPELINE}    - printenv\n");
    write(dir.path(), ".gitlab-ci.yml", &moved);
    let out = lint_in(
        dir.path(),
        &["--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let active: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .collect();
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0]["location"]["line"], 11);

    for (content, words) in [
        ("[1, 2", "not a ciguard baseline"),
        (r#"{"recipe": "ciguard/v0", "findings": []}"#, "ciguard/v0"),
    ] {
        write(dir.path(), "bad.json", content);
        let out = lint_in(dir.path(), &["--baseline", "bad.json"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("bad.json") && stderr.contains(words),
            "{stderr}"
        );
    }
    let out = lint_in(dir.path(), &["--baseline", "missing.json"]);
    assert_eq!(out.status.code(), Some(2));
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

#[test]
fn suppressions_a_merge_request_adds_are_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let before =
        "build:\n  script:\n    - env # ciguard: ignore[env-dump] the image holds no secret\n";
    write(dir.path(), ".gitlab-ci.yml", before);
    git(dir.path(), &["init", "--quiet"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "--quiet", "-m", "base"]);
    let after = format!("{before}    - printenv # ciguard: ignore[env-dump] trust me\n");
    write(dir.path(), ".gitlab-ci.yml", &after);

    let report = |out: &Output| -> Vec<String> {
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "suppression-unjustified")
            .map(|f| {
                format!(
                    "{}: {}",
                    f["location"]["line"],
                    f["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let since = lint_in(
        dir.path(),
        &["--format", "json", "--suppressions-since", "HEAD"],
    );
    assert_eq!(
        report(&since),
        ["4: `ignore[env-dump]` is added by this merge request"],
        "{}",
        text(&since.stderr)
    );
    // In a merge-request pipeline GitLab names the base commit.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir.path())
        .output()
        .expect("git rev-parse");
    let sha = text(&head.stdout).trim().to_owned();
    let in_pipeline = ciguard()
        .args(["lint", "--format", "json"])
        .env("CI_MERGE_REQUEST_DIFF_BASE_SHA", &sha)
        .current_dir(dir.path())
        .output()
        .expect("run ciguard lint");
    assert_eq!(report(&in_pipeline).len(), 1);
    // Without a base, nothing is compared; an unknown base asked for is an error.
    let plain = lint_in(dir.path(), &["--format", "json"]);
    assert!(report(&plain).is_empty());
    // A commit git lacks, and an argument git would read as one of its options.
    for (refused, why) in [
        ("0123abc", "cannot find"),
        ("--output=/tmp/x", "not a commit"),
    ] {
        let out = lint_in(dir.path(), &[&format!("--suppressions-since={refused}")]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(!stderr.contains(refused), "the value is not repeated");
    }
}

#[test]
fn a_token_in_a_plain_http_url_is_not_shown_in_the_snippet() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "meltano.yml",
        "project_id: x\nplugins:\n  extractors:\n  - name: tap-rest\n    config:\n      api_url: http://api.example.com/v1?token=REALTOKEN123456\n",
    );
    let out = lint_in(dir.path(), &["--fail-on", "never", "meltano.yml"]);
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(shown.contains("meltano-tls-disabled"), "{shown}");
    assert!(!shown.contains("REALTOKEN"), "{shown}");
}
