//! `non-production-credential-unprotected`: a credential left unprotected on purpose, scoped to
//! one non-production environment (the staging copy `ciguard init` plans for merge-request
//! pipelines): a least-privilege reminder, never a call to protect it.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "non-production-credential-unprotected",
    severity: Severity::Low,
    confidence: Confidence::High,
    summary: "A non-production credential is unprotected so that merge-request pipelines can use it",
    why: "A variable scoped to one non-production environment and not protected reaches every job of that environment on any branch, merge-request pipelines included: that is how merge requests run ELT against staging. Any Developer who pushes a branch can read it, so it must only reach data and systems a Developer may read anyway.",
    fix: "Give it a credential of its own with least privilege (read-only, non-production data, no access to production systems) and rotate it when people leave. Do not protect it: merge-request pipelines would lose it. `ciguard audit --fix` leaves it as it is.",
};

/// Reports each unprotected credential scoped to a single non-production environment.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for variable in cx
        .credentials()
        .filter(|v| !v.variable.protected && v.is_non_production_copy())
    {
        out.push(variable.finding(
            &RULE,
            format!(
                "{} is {} and not protected: any branch's pipeline in that environment gets it; \
                 keep it a least-privilege, non-production credential",
                variable.name(),
                variable.why_credential()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run, variable};
    use crate::gitlab::types::Variable;

    fn unprotected(key: &str, scope: &str) -> Variable {
        Variable {
            protected: false,
            environment_scope: Some(scope.into()),
            ..variable(key, Some("correct-horse-battery"))
        }
    }

    #[test]
    fn fires_for_an_unprotected_credential_of_one_non_production_environment() {
        let found = run(
            check,
            &project(vec![unprotected("TAP_POSTGRES_PASSWORD", "staging")]),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Low);
        assert!(found[0].message.contains("`staging`"), "{}", found[0].message);
    }

    #[test]
    fn quiet_for_every_environment_wildcards_production_and_protected() {
        let data = project(vec![
            unprotected("DB_PASSWORD", "*"),
            unprotected("DB_PASSWORD", "review/*"),
            unprotected("DB_PASSWORD", "production"),
            unprotected("PROD_DB_PASSWORD", "staging"),
            Variable {
                protected: true,
                ..unprotected("DB_PASSWORD", "staging")
            },
        ]);
        assert!(run(check, &data).is_empty());
    }
}
