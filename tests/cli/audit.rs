//! `ciguard audit --from-file` end to end: a well-configured project, a badly configured one,
//! malformed input, configuration, and no variable value in any output.

use std::path::Path;
use std::process::Output;

use crate::common::{ciguard, text};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/audit");

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn audit_in(dir: &Path, args: &[&str]) -> Output {
    ciguard()
        .arg("audit")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run ciguard audit")
}

fn both(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// The rule ids of the findings in a JSON report, in order.
fn rule_ids(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).expect("JSON report");
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule id").to_owned())
        .collect()
}

#[test]
fn a_well_configured_project_has_no_findings_and_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = audit_in(
        dir.path(),
        &["--from-file", &fixture("good.json"), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(rule_ids(&text(&out.stdout)).is_empty(), "{}", both(&out));
}

#[test]
fn a_badly_configured_project_gives_each_variable_finding_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = audit_in(
        dir.path(),
        &[
            "--from-file",
            &fixture("bad.json"),
            "--project-name",
            "data/warehouse-elt",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let stdout = text(&out.stdout);
    let ids = rule_ids(&stdout);
    for id in [
        "credential-not-protected",
        "credential-not-masked",
        "masked-not-hidden",
        "production-credential-all-environments",
        "expanded-value-with-dollar",
        "debug-trace-variable",
    ] {
        assert!(ids.iter().any(|found| found == id), "no {id} in {ids:?}");
    }
    assert!(stdout.contains("data/warehouse-elt"), "{stdout}");
    assert!(stdout.contains("critical"), "{stdout}");
}

#[test]
fn malformed_json_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = fixture("malformed.json");
    let out = audit_in(dir.path(), &["--from-file", &path]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("{path}:5:5:")), "{stderr}");
    assert!(!stderr.contains("Sup3r"), "{stderr}");

    let missing = audit_in(dir.path(), &["--from-file", "no-such.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no-such.json"));
}

#[test]
fn configuration_changes_audit_rules_and_knows_lint_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("ciguard.yml");
    std::fs::write(
        &config,
        "rules:\n  credential-not-protected: { disabled: true }\n  credential-not-masked: { severity: low }\n  \
         production-credential-all-environments: { severity: low }\n  debug-trace-variable: { severity: low }\n  \
         env-dump: { severity: low }\n",
    )
    .expect("write config");
    let config = config.to_string_lossy().into_owned();
    let out = audit_in(
        dir.path(),
        &["--from-file", &fixture("bad.json"), "--config", &config],
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(text(&out.stdout).contains("suppressed"), "{}", both(&out));

    std::fs::write(&config, "rules:\n  no-such-rule: {}\n").expect("write config");
    let out = audit_in(
        dir.path(),
        &["--from-file", &fixture("bad.json"), "--config", &config],
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
}

#[test]
fn no_variable_value_appears_in_any_format_report_or_error() {
    let mut values = Vec::new();
    for name in ["good.json", "bad.json"] {
        let json = std::fs::read_to_string(fixture(name)).expect("fixture");
        let variables: serde_json::Value = serde_json::from_str(&json).expect("valid fixture");
        for variable in variables.as_array().expect("array") {
            if let Some(value) = variable["value"].as_str() {
                // Short values ("1", "dev") appear in ordinary words; check the rest, and
                // every line of multi-line ones.
                values.extend(
                    value
                        .lines()
                        .filter(|line| line.len() >= 8)
                        .map(str::to_owned),
                );
            }
        }
    }
    assert!(values.len() >= 6, "{values:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report");
    let report_arg = |format: &str| format!("{format}={}", report.display());
    for format in ["text", "json", "sarif", "codequality", "junit"] {
        for name in ["good.json", "bad.json", "malformed.json"] {
            let out = audit_in(
                dir.path(),
                &[
                    "--from-file",
                    &fixture(name),
                    "--format",
                    format,
                    "--report",
                    &report_arg(format),
                ],
            );
            let written = std::fs::read_to_string(&report).unwrap_or_default();
            let all = format!("{}{written}", both(&out));
            for value in &values {
                assert!(
                    !all.contains(value.as_str()),
                    "{format} on {name} shows a value:\n{all}"
                );
            }
            let _ = std::fs::remove_file(&report);
        }
    }
}

#[test]
fn the_sarif_report_of_an_audit_validates() {
    const SCHEMA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/external/report-formats/sarif-schema-2.1.0.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(SCHEMA).expect("SARIF schema"))
            .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = audit_in(
        dir.path(),
        &["--from-file", &fixture("bad.json"), "--format", "sarif"],
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF JSON");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        rules,
        ciguard::audit::RULES.len(),
        "every audit rule is listed"
    );
}
