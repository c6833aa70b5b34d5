//! `credential-not-protected`: a credential that jobs on unprotected branches get.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "credential-not-protected",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "A credential variable is not protected: pipelines on any branch get it",
    why: "A variable that is not protected is passed to every pipeline, on any branch a Developer pushes. A job on such a branch can print the credential or send it elsewhere, and the merge request review never sees it. Critical when its environment scope or its name says production.",
    fix: "Set `protected` on the variable, and run the jobs that need it only on protected branches or tags.",
};

/// Reports each credential that is not protected; critical for production. A copy for one
/// non-production environment is `non-production-credential-unprotected`'s.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for variable in cx
        .credentials()
        .filter(|v| !v.variable.protected && !v.is_non_production_copy())
    {
        let finding = variable.finding(
            &RULE,
            format!(
                "{} is {} but not protected: a pipeline on any branch gets it{}",
                variable.name(),
                variable.why_credential(),
                if variable.production {
                    ", and it is a production credential"
                } else {
                    ""
                }
            ),
        );
        out.push(if variable.production {
            finding.with_severity(Severity::Critical)
        } else {
            finding
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{plain, project, run, variable};
    use crate::gitlab::types::Variable;

    #[test]
    fn fires_for_unprotected_credentials_worse_for_production() {
        let data = project(vec![
            Variable {
                protected: false,
                ..variable("DB_PASSWORD", Some("correct-horse-battery"))
            },
            Variable {
                protected: false,
                environment_scope: Some("production".into()),
                ..variable("DB_PASSWORD", Some("correct-horse-battery"))
            },
            Variable {
                protected: false,
                ..variable("PROD_API_TOKEN", None)
            },
        ]);
        let found = run(check, &data);
        let severities: Vec<Severity> = found.iter().map(|f| f.severity).collect();
        assert_eq!(
            severities,
            [Severity::High, Severity::Critical, Severity::Critical]
        );
        assert!(
            found[0].message.contains("`DB_PASSWORD`"),
            "{}",
            found[0].message
        );
        assert!(!found[0].message.contains("correct-horse"));
    }

    #[test]
    fn quiet_for_protected_credentials_and_plain_settings() {
        let data = project(vec![
            variable("DB_PASSWORD", Some("correct-horse-battery")),
            plain("DBT_TARGET", "dev"),
        ]);
        assert!(run(check, &data).is_empty());
    }
}
