//! The JSON format: ciguard's own schema, version 1 (documented in `docs/output.md`). Every
//! finding is listed, suppressed ones with their reason; `errors` lists the inputs that could
//! not be analysed, `unchecked` the rules that could not be judged; the summary counts active
//! findings.

use std::io::{self, Write};

use serde::Serialize;

use super::Context;
use crate::findings::{Confidence, Finding, FindingSet, Location, Severity};

/// Bumped when a field changes meaning or disappears; new fields do not bump it.
const VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: Tool<'a>,
    findings: Vec<Item<'a>>,
    /// The inputs that could not be analysed: no finding about them means nothing.
    errors: Vec<Error<'a>>,
    /// The rules that could not be judged for a project, and why.
    unchecked: Vec<UncheckedRule<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct UncheckedRule<'a> {
    rule: &'static str,
    project: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Error<'a> {
    path: String,
    line: Option<u32>,
    column: Option<u32>,
    message: &'a str,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    rule: &'static str,
    severity: Severity,
    confidence: Confidence,
    message: String,
    /// The other jobs that run the finding's line.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    shared_by: &'a [String],
    location: Place<'a>,
    why: &'static str,
    fix: &'static str,
    fingerprint: String,
    suppressed: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Place<'a> {
    File {
        path: String,
        line: u32,
        column: u32,
        end_line: u32,
        end_column: u32,
        logical: &'a str,
    },
    Api {
        level: &'static str,
        owner: &'a str,
        key: &'a str,
        environment_scope: Option<&'a str>,
    },
}

#[derive(Serialize)]
struct Summary {
    total: usize,
    by_severity: BySeverity,
    suppressed: usize,
}

/// Active findings per severity, as an object whose keys go from `info` to `critical`.
struct BySeverity([(Severity, usize); 5]);

impl Serialize for BySeverity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(s, n)| (s.as_str(), n)))
    }
}

pub(super) fn write(
    findings: &FindingSet,
    context: &Context<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let counts = findings.counts();
    let report = Report {
        version: VERSION,
        tool: Tool {
            name: context.tool,
            version: context.version,
        },
        findings: findings.all().iter().map(item).collect(),
        errors: findings
            .unanalysed()
            .iter()
            .map(|input| Error {
                path: super::display_path(&input.path),
                line: input.position.map(|(line, _)| line),
                column: input.position.map(|(_, column)| column),
                message: &input.reason,
            })
            .collect(),
        unchecked: findings
            .unchecked()
            .iter()
            .map(|rule| UncheckedRule {
                rule: rule.rule.id,
                project: &rule.project,
                reason: &rule.reason,
            })
            .collect(),
        summary: Summary {
            total: counts.iter().map(|(_, n)| n).sum(),
            by_severity: BySeverity(counts),
            suppressed: findings.suppressed_count(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

fn item(finding: &Finding) -> Item<'_> {
    let location = match &finding.location {
        Location::File(at) => Place::File {
            path: super::display_path(&at.path),
            line: at.line,
            column: at.column,
            end_line: at.end_line,
            end_column: at.end_column,
            logical: &at.logical,
        },
        Location::Api(at) => Place::Api {
            level: at.level.as_str(),
            owner: &at.owner,
            key: &at.key,
            environment_scope: at.environment_scope.as_deref(),
        },
    };
    Item {
        rule: finding.rule.id,
        severity: finding.severity,
        confidence: finding.confidence,
        message: finding.text(),
        shared_by: &finding.shared_by,
        location,
        why: finding.rule.why,
        fix: finding.rule.fix,
        fingerprint: finding.fingerprint(),
        suppressed: finding.suppressed.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Format, fixtures};

    #[test]
    fn writes_api_and_suppressed_findings() {
        let findings = fixtures::only(&["unprotected", "mr-credentials"]);
        let out = fixtures::render(Format::Json, &findings, false);
        assert_eq!(out, EXPECTED, "\n{out}");
    }

    #[test]
    fn lists_every_finding_and_counts_active_ones() {
        let out = fixtures::render(Format::Json, &fixtures::findings(), false);
        let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(report["findings"].as_array().map(Vec::len), Some(5));
        assert_eq!(report["summary"]["total"], 4);
        assert_eq!(report["summary"]["suppressed"], 1);
        assert_eq!(report["summary"]["by_severity"]["low"], 0);
        assert_eq!(report["findings"][0]["location"]["path"], ".gitlab-ci.yml");
    }

    const EXPECTED: &str = r#"{
  "version": 1,
  "tool": {
    "name": "ciguard lint",
    "version": "0.1.0"
  },
  "findings": [
    {
      "rule": "mr-credentials",
      "severity": "low",
      "confidence": "high",
      "message": "runs in MRs",
      "location": {
        "kind": "file",
        "path": ".gitlab-ci.yml",
        "line": 9,
        "column": 7,
        "end_line": 9,
        "end_column": 18,
        "logical": "deploy.script[1]"
      },
      "why": "it can leak a credential",
      "fix": "remove it",
      "fingerprint": "5bb213bf7797e56b",
      "suppressed": "reviewed in #12"
    },
    {
      "rule": "unprotected",
      "severity": "critical",
      "confidence": "high",
      "message": "DB_PASSWORD reaches unprotected branches",
      "location": {
        "kind": "api",
        "level": "project",
        "owner": "group/proj",
        "key": "DB_PASSWORD",
        "environment_scope": "production"
      },
      "why": "it can leak a credential",
      "fix": "remove it",
      "fingerprint": "859595adc70be815",
      "suppressed": null
    }
  ],
  "errors": [],
  "unchecked": [],
  "summary": {
    "total": 1,
    "by_severity": {
      "info": 0,
      "low": 0,
      "medium": 0,
      "high": 0,
      "critical": 1
    },
    "suppressed": 1
  }
}
"#;
}
