//! `production-credential-all-environments`: a production credential every job gets.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "production-credential-all-environments",
    severity: Severity::High,
    confidence: Confidence::Medium,
    summary: "A production credential is scoped to all environments (`*`)",
    why: "A variable scoped to `*` reaches every job, also those with no environment and those deploying to test or review environments. A production credential (by its name) should reach only jobs that deploy to production.",
    fix: "Set the variable's environment scope to the production environment (e.g. `production`) and give the job that needs it `environment: production`; protect that environment where GitLab offers it. `ciguard audit --fix` does not change scopes: a job without that environment would lose the variable.",
};

/// Reports each credential whose key names production and whose scope is `*` (or none: an
/// instance variable reaches every environment too).
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for variable in cx.credentials().filter(|v| {
        v.production
            && v.variable
                .environment_scope
                .as_deref()
                .is_none_or(|s| s == "*")
    }) {
        out.push(variable.finding(
            &RULE,
            format!(
                "{} is a production credential (by its name) but every job gets it, whatever \
                 its environment: scope it to the production environment",
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
    fn fires_for_production_credentials_in_every_environment() {
        let found = run(check, &project(vec![variable("PROD_DB_PASSWORD", None)]));
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("`PROD_DB_PASSWORD`"));
    }

    #[test]
    fn quiet_when_scoped_or_not_production() {
        let data = project(vec![
            Variable {
                environment_scope: Some("production".into()),
                ..variable("PROD_DB_PASSWORD", None)
            },
            variable("DEV_DB_PASSWORD", None),
            plain("PROD_WAREHOUSE_HOST", "db.example.com"),
        ]);
        assert!(run(check, &data).is_empty());
    }
}
