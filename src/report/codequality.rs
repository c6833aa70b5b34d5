//! The GitLab Code Quality format: a JSON array with one issue per active finding. Findings
//! from the API are put on line 1 of `.gitlab-ci.yml`, with their place in the description.
//! Fingerprints are the findings' own, made unique within the report.

use std::io::{self, Write};

use serde::Serialize;

use crate::findings::{Finding, FindingSet, Location, NOT_ANALYSED, Severity, Unanalysed};

#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    check_name: &'static str,
    description: String,
    content: Content,
    categories: [&'static str; 1],
    severity: &'static str,
    fingerprint: String,
    location: Place,
}

#[derive(Serialize)]
struct Content {
    body: String,
}

#[derive(Serialize)]
struct Place {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
    end: u32,
}

pub(super) fn write(findings: &FindingSet, out: &mut dyn Write) -> io::Result<()> {
    let active: Vec<&Finding> = findings.active().collect();
    let fingerprints = super::unique(active.iter().map(|f| f.fingerprint()), "-");
    let mut issues: Vec<Issue> = active
        .into_iter()
        .zip(fingerprints)
        .map(|(finding, fingerprint)| issue(finding, fingerprint))
        .collect();
    issues.extend(findings.unanalysed().iter().map(not_analysed));
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}

/// The file that configures CI, where findings from the API are put.
const CI_CONFIG_PATH: &str = ".gitlab-ci.yml";

/// GitLab's severities: `info`, `minor`, `major`, `critical`, `blocker`.
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

fn issue(finding: &Finding, fingerprint: String) -> Issue {
    let (path, description, lines) = match &finding.location {
        Location::File(at) => (
            super::display_path(&at.path),
            finding.text(),
            Lines {
                begin: at.line,
                end: at.end_line,
            },
        ),
        Location::Api(_) => (
            CI_CONFIG_PATH.to_owned(),
            format!("{}: {}", finding.location, finding.text()),
            Lines { begin: 1, end: 1 },
        ),
    };
    Issue {
        kind: "issue",
        check_name: finding.rule.id,
        description,
        content: Content {
            body: format!("{}\n\nFix: {}", finding.rule.why, finding.rule.fix),
        },
        categories: ["Security"],
        severity: severity(finding.severity),
        fingerprint,
        location: Place { path, lines },
    }
}

/// An input that could not be analysed: a blocker at the file, so the merge request shows that
/// it was not checked rather than nothing.
fn not_analysed(input: &Unanalysed) -> Issue {
    let line = input.position.map_or(1, |(line, _)| line);
    Issue {
        kind: "issue",
        check_name: NOT_ANALYSED,
        description: format!("ciguard could not analyse this file: {}", input.reason),
        content: Content {
            body: "No finding about this file means nothing: it was not checked. Fix what the \
                   description says and run ciguard again."
                .to_owned(),
        },
        categories: ["Security"],
        severity: "blocker",
        fingerprint: input.fingerprint(),
        location: Place {
            path: super::display_path(&input.path),
            lines: Lines {
                begin: line,
                end: line,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::{Format, fixtures};
    use crate::findings::{FindingSet, Location};

    const ITEM_SCHEMA: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/external/report-formats/gitlab-codeclimate.json"
    ));

    fn render(findings: &FindingSet) -> Vec<Value> {
        let out = fixtures::render(Format::Codequality, findings, false);
        assert!(!out.starts_with('\u{feff}'));
        serde_json::from_str(&out).expect("a JSON array")
    }

    /// GitLab's item schema, plus what its docs require of every item.
    fn assert_valid(issues: &[Value]) {
        let schema: Value = serde_json::from_str(ITEM_SCHEMA).expect("schema");
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        for issue in issues {
            let errors: Vec<String> = validator
                .iter_errors(issue)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{issue}: {errors:#?}");
            assert!(issue["check_name"].is_string(), "{issue}");
            assert!(
                issue["location"]["path"]
                    .as_str()
                    .is_some_and(|p| !p.starts_with('/'))
            );
            assert!(issue["location"]["lines"]["begin"].is_u64(), "{issue}");
            let severity = issue["severity"].as_str().unwrap_or_default();
            assert!(["info", "minor", "major", "critical", "blocker"].contains(&severity));
        }
        let mut fingerprints: Vec<&str> = issues
            .iter()
            .filter_map(|i| i["fingerprint"].as_str())
            .collect();
        fingerprints.sort_unstable();
        fingerprints.dedup();
        assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
    }

    #[test]
    fn every_item_is_valid_and_suppressed_ones_are_left_out() {
        let issues = render(&fixtures::findings());
        assert_valid(&issues);
        let checks: Vec<&str> = issues
            .iter()
            .filter_map(|i| i["check_name"].as_str())
            .collect();
        assert_eq!(
            checks,
            ["remote-include", "debug-trace", "xtrace", "unprotected"]
        );
        let severities: Vec<&str> = issues
            .iter()
            .filter_map(|i| i["severity"].as_str())
            .collect();
        assert_eq!(severities, ["info", "critical", "major", "blocker"]);
    }

    #[test]
    fn puts_api_findings_on_the_ci_file() {
        let issues = render(&fixtures::only(&["unprotected"]));
        assert_eq!(issues[0]["location"]["path"], ".gitlab-ci.yml");
        assert_eq!(issues[0]["location"]["lines"]["begin"], 1);
        assert_eq!(
            issues[0]["description"],
            "project group/proj DB_PASSWORD (environment production): \
             DB_PASSWORD reaches unprotected branches"
        );
    }

    #[test]
    fn makes_colliding_fingerprints_unique_and_keeps_them_stable() {
        let one = fixtures::only(&["xtrace"]).all()[0].clone();
        let mut moved = one.clone();
        if let Location::File(at) = &mut moved.location {
            at.line += 10;
            at.end_line += 10;
        }
        assert_eq!(one.fingerprint(), moved.fingerprint());
        let issues = render(&FindingSet::new(vec![one.clone(), moved]));
        assert_valid(&issues);
        assert_eq!(issues[0]["fingerprint"], one.fingerprint());
        assert_eq!(issues[1]["fingerprint"], format!("{}-2", one.fingerprint()));
    }

    #[test]
    fn writes_an_empty_array_when_clean() {
        assert_eq!(
            fixtures::render(Format::Codequality, &FindingSet::default(), false),
            "[]\n"
        );
    }
}
