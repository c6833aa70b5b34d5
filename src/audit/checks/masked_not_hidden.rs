//! `masked-not-hidden`: a masked credential Maintainers can still read.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "masked-not-hidden",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "A masked credential is not hidden: every Maintainer can read its value",
    why: "Masking hides a value in job logs only. Anyone who may manage CI/CD variables (Maintainers) reads a masked value in the settings page and through the API; a hidden variable's value is never shown again after it is created (GitLab 17.4+).",
    fix: "GitLab sets `hidden` only when a variable is created: create the variable again with \"Masked and hidden\" visibility (API `masked_and_hidden=true`) and delete the old one, then rotate the credential if too many people could read it. `ciguard audit --fix` cannot do this: it never recreates a variable or changes a value.",
};

/// Reports each masked credential whose level has `hidden` and that is not hidden.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for variable in cx
        .credentials()
        .filter(|v| v.variable.masked && v.variable.hidden == Some(false))
    {
        out.push(variable.finding(
            &RULE,
            format!(
                "{} is a masked credential but not hidden: Maintainers can read it; hidden can \
                 only be set when a variable is created, so recreate it (--fix cannot)",
                variable.name()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{plain, project, run, variable};
    use crate::gitlab::types::Variable;

    #[test]
    fn fires_for_masked_visible_credentials() {
        let found = run(
            check,
            &project(vec![variable("DB_PASSWORD", Some("abcd1234efgh"))]),
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("--fix cannot"));
    }

    #[test]
    fn quiet_when_hidden_unknown_or_not_a_credential() {
        let data = project(vec![
            Variable {
                hidden: Some(true),
                ..variable("DB_PASSWORD", None)
            },
            Variable {
                hidden: None,
                ..variable("API_TOKEN", Some("abcd1234efgh"))
            },
            plain("WAREHOUSE_HOST", "db.example.com"),
            Variable {
                masked: false,
                ..variable("SMTP_PASSWORD", Some("abcd1234efgh"))
            },
        ]);
        assert!(run(check, &data).is_empty());
    }
}
