//! The SARIF 2.1.0 format: one run, every rule that ran in `tool.driver.rules`, one result per
//! finding; an input that could not be analysed makes the invocation unsuccessful, with an error
//! notification at the file; a rule that could not be judged is a note naming it. File findings have a physical location relative to `%SRCROOT%`; API findings a
//! logical one. Suppressed findings carry an `inSource` suppression.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use super::Context;
use crate::findings::{
    Finding, FindingSet, Location, NOT_ANALYSED, Rule, Severity, Unanalysed, Unchecked,
};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Set by `repository` in `Cargo.toml`; left out while that is empty.
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

pub(super) fn write(
    findings: &FindingSet,
    context: &Context<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rules = super::rules_of(findings, context);
    let mut driver = json!({
        "name": "ciguard",
        "fullName": context.tool,
        "version": context.version,
        "rules": rules.iter().map(|r| rule(r)).collect::<Vec<_>>(),
    });
    if !INFORMATION_URI.is_empty() {
        driver["informationUri"] = json!(INFORMATION_URI);
    }
    let results: Vec<Value> = findings
        .all()
        .iter()
        .map(|f| result(f, rules.iter().position(|r| r.id == f.rule.id)))
        .collect();
    let notifications: Vec<Value> = findings.unanalysed().iter().map(notification).collect();
    let successful = notifications.is_empty();
    let notifications: Vec<Value> = notifications
        .into_iter()
        .chain(findings.unchecked().iter().map(unchecked))
        .collect();
    let sarif = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [{
                "executionSuccessful": successful,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    writeln!(out)
}

/// An input that could not be analysed, as an error notification of the run (SARIF 3.58).
fn notification(input: &Unanalysed) -> Value {
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": {
                "uri": super::display_path(&input.path),
                "uriBaseId": "%SRCROOT%",
            },
        },
    });
    if let Some((line, column)) = input.position {
        location["physicalLocation"]["region"] =
            json!({ "startLine": line, "startColumn": column });
    }
    json!({
        "level": "error",
        "descriptor": { "id": NOT_ANALYSED },
        "message": { "text": format!("not analysed: {}", input.reason) },
        "locations": [location],
    })
}

/// A rule that could not be judged, as a note of the run naming the rule (SARIF 3.58).
fn unchecked(rule: &Unchecked) -> Value {
    json!({
        "level": "note",
        "descriptor": { "id": rule.rule.id },
        "message": { "text": format!("not checked for {}: {}", rule.project, rule.reason) },
    })
}

/// `error` for high and critical, `warning` for medium, `note` for low and info.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity`: critical above 9, high 7 to 8.9, medium 4 to 6.9, low below.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rule(rule: &Rule) -> Value {
    json!({
        "id": rule.id,
        "name": rule.id,
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": rule.why },
        "help": {
            "text": format!("{}\n\nFix: {}", rule.why, rule.fix),
            "markdown": format!("{}\n\n**Fix:** {}", rule.why, rule.fix),
        },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "security-severity": security_severity(rule.severity),
            "precision": rule.confidence.as_str(),
            "tags": ["security"],
        },
    })
}

fn result(finding: &Finding, rule_index: Option<usize>) -> Value {
    let location = match &finding.location {
        Location::File(at) => json!({
            "physicalLocation": {
                "artifactLocation": artifact(&at.path),
                "region": {
                    "startLine": at.line,
                    "startColumn": at.column,
                    "endLine": at.end_line,
                    "endColumn": at.end_column,
                },
            },
            "logicalLocations": [{ "fullyQualifiedName": at.logical }],
        }),
        Location::Api(at) => json!({
            "logicalLocations": [{
                "name": at.key,
                "fullyQualifiedName": finding.location.to_string(),
                "kind": "resource",
            }],
        }),
    };
    let mut result = json!({
        "ruleId": finding.rule.id,
        "level": level(finding.severity),
        "message": { "text": finding.text() },
        "locations": [location],
        "partialFingerprints": { "ciguard/v1": finding.fingerprint() },
        "properties": {
            "severity": finding.severity.as_str(),
            "confidence": finding.confidence.as_str(),
        },
    });
    if let Some(index) = rule_index {
        result["ruleIndex"] = json!(index);
    }
    if let Some(reason) = &finding.suppressed {
        result["suppressions"] = json!([{ "kind": "inSource", "justification": reason }]);
    }
    result
}

/// A relative path as a URI reference against `%SRCROOT%`; an absolute one as a `file:` URI.
fn artifact(path: &Path) -> Value {
    let uri = encode(&super::display_path(path));
    if path.is_absolute() {
        json!({ "uri": format!("file://{uri}") })
    } else {
        json!({ "uri": uri, "uriBaseId": "%SRCROOT%" })
    }
}

/// Percent-encodes what may not appear in a URI path.
fn encode(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::super::{Format, fixtures};
    use super::*;

    const SARIF_SCHEMA: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/external/report-formats/sarif-schema-2.1.0.json"
    ));

    fn render() -> Value {
        let out = fixtures::render(Format::Sarif, &fixtures::findings(), false);
        serde_json::from_str(&out).expect("JSON")
    }

    #[test]
    fn validates_against_the_schema() {
        let schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("schema");
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let unanalysed = fixtures::render(Format::Sarif, &fixtures::with_unanalysed(), false);
        let unanalysed: Value = serde_json::from_str(&unanalysed).expect("JSON");
        let errors: Vec<String> = validator
            .iter_errors(&unanalysed)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let mut sarif = render();
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        sarif["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!validator.is_valid(&sarif), "the schema is enforced");
    }

    #[test]
    fn lists_rules_and_maps_results() {
        let sarif = render();
        let run = &sarif["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), fixtures::RULES.len());
        assert_eq!(rules[4]["properties"]["security-severity"], "9.5");
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 5);
        let by_rule = |id: &str| results.iter().find(|r| r["ruleId"] == id).expect(id);
        let trace = by_rule("debug-trace");
        assert_eq!(trace["level"], "error");
        let region = &trace["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (region["startLine"].as_u64(), region["endColumn"].as_u64()),
            (Some(4), Some(25))
        );
        assert_eq!(
            trace["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            ".gitlab-ci.yml"
        );
        assert_eq!(by_rule("xtrace")["level"], "warning");
        assert_eq!(by_rule("remote-include")["level"], "note");
        let api = &by_rule("unprotected")["locations"][0];
        assert!(api.get("physicalLocation").is_none());
        assert_eq!(
            api["logicalLocations"][0]["fullyQualifiedName"],
            "project group/proj DB_PASSWORD (environment production)"
        );
        let suppressed = by_rule("mr-credentials");
        assert_eq!(suppressed["suppressions"][0]["kind"], "inSource");
        assert_eq!(
            suppressed["suppressions"][0]["justification"],
            "reviewed in #12"
        );
        assert!(trace.get("suppressions").is_none());
    }

    #[test]
    fn encodes_paths_as_uris() {
        assert_eq!(
            artifact(Path::new("ci/my file.yml"))["uri"],
            "ci/my%20file.yml"
        );
        assert_eq!(
            artifact(Path::new("/abs/é.yml"))["uri"],
            "file:///abs/%C3%A9.yml"
        );
    }
}
