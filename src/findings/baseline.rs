//! A baseline: the findings a team has accepted, by fingerprint, so that a gate fails only on
//! new ones. The file names the fingerprint recipe it was written with; a baseline of another
//! recipe is refused rather than silently matching nothing.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Finding, Location};

/// The fingerprint recipe of [`Finding::fingerprint`]: rule, file (or API object), logical
/// location and message. A change to the recipe gets a new name.
pub const RECIPE: &str = "ciguard/v1";

/// What a finding in the baseline is marked with.
pub const IN_BASELINE: &str = "in the baseline";

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The fingerprint recipe its entries were computed with.
    pub recipe: String,
    /// The accepted findings.
    pub findings: Vec<Accepted>,
}

/// One accepted finding: its fingerprint, and for the reader its rule and where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// [`Finding::fingerprint`].
    pub fingerprint: String,
    /// The rule.
    pub rule: String,
    /// `path logical` or the API object, as it was when accepted.
    pub location: String,
}

impl Baseline {
    /// The findings not suppressed otherwise, accepted as they are.
    pub fn of(findings: &[Finding]) -> Self {
        let findings = findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| Accepted {
                fingerprint: f.fingerprint(),
                rule: f.rule.id.to_owned(),
                location: match &f.location {
                    Location::File(at) => format!("{} {}", at.path.display(), at.logical),
                    Location::Api(_) => f.location.to_string(),
                },
            })
            .collect();
        Baseline {
            recipe: RECIPE.to_owned(),
            findings,
        }
    }

    /// Reads a baseline file's text; says why it cannot be used.
    pub fn parse(text: &str) -> Result<Self, String> {
        let baseline: Baseline = serde_json::from_str(text).map_err(|err| {
            format!(
                "not a ciguard baseline (line {}, column {}): write one with --write-baseline",
                err.line(),
                err.column()
            )
        })?;
        if baseline.recipe != RECIPE {
            return Err(format!(
                "written with fingerprint recipe `{}`, this ciguard uses `{RECIPE}`: write it again with --write-baseline",
                baseline.recipe
            ));
        }
        Ok(baseline)
    }

    /// The file's text: pretty JSON, one finding per entry, sorted so diffs stay small.
    pub fn to_json(&self) -> String {
        let mut sorted = self.clone();
        sorted
            .findings
            .sort_by(|a, b| (&a.location, &a.rule).cmp(&(&b.location, &b.rule)));
        serde_json::to_string_pretty(&sorted).unwrap_or_default() + "\n"
    }

    /// Marks the findings the baseline accepts as suppressed, each entry accepting one finding;
    /// returns how many it accepted.
    pub fn apply(&self, findings: &mut [Finding]) -> usize {
        let mut left: HashMap<&str, usize> = HashMap::new();
        for accepted in &self.findings {
            *left.entry(accepted.fingerprint.as_str()).or_default() += 1;
        }
        let mut accepted = 0;
        for finding in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
            let fingerprint = finding.fingerprint();
            if let Some(count) = left.get_mut(fingerprint.as_str())
                && *count > 0
            {
                *count -= 1;
                finding.suppressed = Some(IN_BASELINE.to_owned());
                accepted += 1;
            }
        }
        accepted
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::findings::{Confidence, FileLocation, Rule, Severity};

    static RULE: Rule = Rule {
        points_at_value: false,
        id: "env-dump",
        severity: Severity::High,
        confidence: Confidence::High,
        summary: "s",
        why: "w",
        fix: "f",
    };

    fn finding(line: u32, logical: &str) -> Finding {
        Finding::new(
            &RULE,
            Location::File(FileLocation {
                path: PathBuf::from(".gitlab-ci.yml"),
                line,
                column: 7,
                end_line: line,
                end_column: 10,
                logical: logical.to_owned(),
            }),
            "job `a`: `env` prints every environment variable to the job log",
        )
    }

    #[test]
    fn accepts_what_it_was_written_from_even_after_lines_move() {
        let baseline = Baseline::of(&[finding(3, "a.script[0]")]);
        let baseline = Baseline::parse(&baseline.to_json()).expect("round trip");
        let mut now = vec![finding(30, "a.script[0]"), finding(31, "a.script[1]")];
        assert_eq!(baseline.apply(&mut now), 1);
        assert_eq!(now[0].suppressed.as_deref(), Some(IN_BASELINE));
        assert_eq!(now[1].suppressed, None, "a new finding is not accepted");
    }

    #[test]
    fn each_entry_accepts_one_finding() {
        let baseline = Baseline::of(&[finding(3, "a.script[0]")]);
        let mut now = vec![finding(3, "a.script[0]"), finding(3, "a.script[0]")];
        assert_eq!(baseline.apply(&mut now), 1);
    }

    #[test]
    fn another_recipe_or_garbage_is_refused() {
        let other = r#"{"recipe": "ciguard/v0", "findings": []}"#;
        assert!(
            Baseline::parse(other)
                .expect_err("another recipe")
                .contains("ciguard/v0")
        );
        assert!(
            Baseline::parse("[1, 2")
                .expect_err("garbage")
                .contains("not a ciguard baseline")
        );
    }
}
