//! `ciguard audit`'s checks over already-fetched GitLab data: CI/CD variables (their flags,
//! scopes and the shape of their values) and the project settings that expose them. No network
//! here; the API client fills [`AuditData`]. Values are read to classify a variable and to tell
//! whether GitLab can mask it, never kept in a finding. Checks are documented in `docs/audit.md`.

pub mod checks;
pub mod classify;
pub mod code_owners;
pub mod fix;
pub mod shard;

pub use crate::gitlab::types::AuditData;

use crate::credentials::Knowledge;
use crate::findings::{Finding, Unchecked};
use crate::gitlab::types::Variable;

/// Every audit rule, in the order their checks run. Ids are unique, kebab-case, and each has a
/// section in `docs/audit.md` (checked by tests).
pub use checks::RULES;

/// What the checks made of one project.
#[derive(Debug, Default)]
pub struct Audit {
    /// The findings.
    pub findings: Vec<Finding>,
    /// The rules that could not be judged, and why.
    pub unchecked: Vec<Unchecked>,
}

/// Runs every check over `data`.
pub fn audit(data: &AuditData, knowledge: &Knowledge) -> Audit {
    let cx = checks::Context::new(data, knowledge);
    let mut findings = Vec::new();
    for check in checks::CHECKS {
        check(&cx, &mut findings);
    }
    Audit {
        findings,
        unchecked: cx.into_unchecked(),
    }
}

/// Why a variables list could not be read: where (1-based line and column) and what, never
/// quoting the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {reason}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub reason: String,
}

/// Parses a JSON array of variables as `GET /projects/:id/variables` returns it. The error
/// never quotes a value: serde's "invalid type: string \"…\"" is cut to what was expected.
pub fn parse_variables(json: &str) -> Result<Vec<Variable>, ParseError> {
    serde_json::from_str(json).map_err(|err| {
        let message = err.to_string();
        // serde_json appends " at line L column C"; the position is reported apart.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(what, _)| what);
        let reason = if message.starts_with("invalid type")
            || message.starts_with("invalid value")
            || message.starts_with("invalid length")
        {
            let expected = message
                .rsplit_once(", expected ")
                .map_or("something else", |(_, expected)| expected);
            format!("a value of the wrong type here (expected {expected})")
        } else {
            message.to_owned()
        };
        ParseError {
            line: err.line(),
            column: err.column(),
            reason,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIT_DOC: &str = include_str!("../../docs/audit.md");

    #[test]
    fn rules_are_unique_documented_and_match_the_checks() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(RULES.len(), checks::CHECKS.len());
        for id in &ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{id}"
            );
            assert!(
                AUDIT_DOC.contains(&format!("\n## {id}\n")),
                "docs/audit.md has no section `## {id}`"
            );
        }
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "an audit rule id is used twice");
    }

    /// A shared fixture (a real API body), deserialized.
    fn api_body<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let path = format!(
            "{}/tests/fixtures/external/gitlab-api/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect(name)
    }

    #[test]
    fn audits_real_api_bodies_at_every_level() {
        use crate::findings::Location;
        use crate::gitlab::types::{Level, VariableSet};

        let set = |level, owner: &str, name| VariableSet {
            level,
            owner: owner.to_owned(),
            variables: api_body(name),
        };
        let data = AuditData {
            project: "data/warehouse-elt".to_owned(),
            variable_sets: vec![
                set(Level::Instance, "", "instance_variables_list.json"),
                set(Level::Group, "data", "group_variables_list.json"),
                set(
                    Level::Project,
                    "data/warehouse-elt",
                    "project_variables_list.json",
                ),
            ],
            settings: Some(api_body("project_security_relevant_fields.json")),
            protected_branches: Some(api_body("protected_branches_list.json")),
            protected_tags: Some(api_body("protected_tags_list.json")),
            protected_environments: Some(api_body("protected_environments_list.json")),
            reviews: None,
        };
        let mut found: Vec<(&str, String)> = audit(&data, &Knowledge::default())
            .findings
            .into_iter()
            .map(|f| {
                let Location::Api(at) = f.location else {
                    panic!("not an API location");
                };
                (f.rule.id, format!("{} {}", at.level.as_str(), at.key))
            })
            .collect();
        found.sort();
        let expected = [
            (
                "credential-not-protected",
                "project TEST_VARIABLE_1".to_owned(),
            ),
            (
                "fork-pipelines-in-parent",
                "project ci_allow_fork_pipelines_to_run_in_parent_project".to_owned(),
            ),
            ("masked-not-hidden", "project TEST_VARIABLE_1".to_owned()),
            (
                "protected-branch-direct-push",
                "project protected_branches/main".to_owned(),
            ),
            (
                "protected-variables-in-merge-request-pipelines",
                "project protect_merge_request_pipelines".to_owned(),
            ),
            ("shadowed-variable", "group TEST_VARIABLE_1".to_owned()),
            ("shadowed-variable", "group TEST_VARIABLE_2".to_owned()),
            ("shadowed-variable", "instance TEST_VARIABLE_1".to_owned()),
            ("shadowed-variable", "instance TEST_VARIABLE_2".to_owned()),
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn parse_errors_give_the_position_and_never_the_input() {
        let err = parse_variables("[\n  {\"key\": \"A\",, }\n]").expect_err("syntax");
        assert_eq!((err.line, err.column), (2, 15), "{err}");
        let err = parse_variables(r#"["s3cr3t-value-here"]"#).expect_err("wrong type");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(err.reason.contains("expected"), "{err}");
        let err =
            parse_variables(r#"[{"key":"K","value":"v","protected":"s3cr3t","masked":true}]"#)
                .expect_err("wrong flag type");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        let err = parse_variables(r#"{"DB_PASSWORD":"s3cr3t"}"#).expect_err("not an array");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }
}
