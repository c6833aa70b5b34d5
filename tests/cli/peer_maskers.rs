//! Other maskers' own test cases, kept as data, run through the real `ciguard run` binary with
//! the child's writes split where the original tests split them.

use std::path::Path;

use serde::Deserialize;

use crate::common::{REPO, ciguard};

#[derive(Deserialize)]
struct Table {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    source: String,
    /// Written in parts, split at `|`.
    input: String,
    #[serde(default)]
    phrases: Vec<String>,
    #[serde(default)]
    prefixes: Vec<String>,
    /// The other masker's output.
    expected: String,
    /// ciguard's output where it differs, and why.
    ciguard: Option<String>,
    why: Option<String>,
}

/// Expands `{{c*N}}` into N copies of `c`, as the original tests build long inputs.
fn expand(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").expect("closed {{") + start;
        let (unit, count) = rest[start + 2..end].split_once('*').expect("{{c*N}}");
        out.push_str(&rest[..start]);
        out.push_str(&unit.repeat(count.parse().expect("a count")));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Touching masks as one: ciguard merges adjacent matches, some maskers do not.
fn merged(text: &str) -> String {
    let mut text = text.to_owned();
    while text.contains("[MASKED][MASKED]") {
        text = text.replace("[MASKED][MASKED]", "[MASKED]");
    }
    text
}

/// Writes each part of `case.input` through `ciguard run` as a separate write, and returns what
/// ciguard printed.
fn run_case(case: &Case) -> String {
    let parts: Vec<String> = expand(&case.input).split('|').map(str::to_owned).collect();
    let program = "import json, sys, time\n\
                   for part in json.loads(sys.argv[1]):\n\
                   \x20   sys.stdout.write(part); sys.stdout.flush(); time.sleep(0.002)\n";
    let mut command = ciguard();
    command.args([
        "run",
        "--no-default-patterns",
        "--secret-env",
        "PEER_CASE_PHRASE_*",
        "--min-secret-length",
        "1",
    ]);
    for prefix in &case.prefixes {
        command.args(["--token-prefix", prefix]);
    }
    for (i, phrase) in case.phrases.iter().enumerate() {
        if !phrase.is_empty() {
            command.env(format!("PEER_CASE_PHRASE_{i}"), expand(phrase));
        }
    }
    let parts = serde_json::to_string(&parts).expect("JSON");
    command.args(["--", "python3", "-c", program, &parts]);
    let output = command.output().expect("run ciguard");
    assert_eq!(output.status.code(), Some(0), "{}", case.input);
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Every table with the fewest cases it must hold (so a truncated file cannot pass).
const TABLES: [(&str, usize); 2] = [
    ("gitlab-runner.json", 60),
    ("azure-pipelines-agent.json", 32),
];

#[test]
fn other_maskers_test_cases_pass() {
    let mut failures = Vec::new();
    let mut total = 0;
    for (file, fewest) in TABLES {
        let path = Path::new(REPO)
            .join("tests/fixtures/external/maskers")
            .join(file);
        let table: Table =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read the table"))
                .expect("parse the table");
        assert!(
            table.cases.len() >= fewest,
            "{file}: {} cases",
            table.cases.len()
        );
        total += table.cases.len();
        for case in &table.cases {
            assert!(
                case.ciguard.is_none() || case.why.is_some(),
                "a difference without a reason: {}",
                case.input
            );
            let want = merged(&expand(case.ciguard.as_ref().unwrap_or(&case.expected)));
            let got = merged(&run_case(case));
            if got != want {
                failures.push(format!(
                    "{}\n  input: {:?}\n  want:  {want:?}\n  got:   {got:?}",
                    case.source, case.input
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
