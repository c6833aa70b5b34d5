//! `production-environment-unprotected`: credentials are scoped to a production environment
//! that is not protected, on a GitLab that has protected environments.

use std::collections::BTreeSet;

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "production-environment-unprotected",
    severity: Severity::High,
    confidence: Confidence::Medium,
    summary: "A production environment that credentials are scoped to is not protected",
    why: "Scoping a credential to `production` keeps it from other jobs, but any job that names `environment: production` gets it. Unless the environment is protected, every Developer can write such a job on their branch (when the variable is not protected too) or deploy to it.",
    fix: "Protect the environment (Settings > CI/CD > Protected environments) and allow only Maintainers or a deploy group to deploy to it; add approval rules for production. `ciguard audit --fix` does not protect environments.",
};

/// Reports each production scope of a credential that no protected environment matches, when
/// the protected environments could be read (Premium).
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(protected) = &cx.data.protected_environments else {
        return;
    };
    let scopes: BTreeSet<&str> = cx
        .credentials()
        .filter_map(|v| v.variable.environment_scope.as_deref())
        .filter(|scope| *scope != "*" && cx.knowledge.is_production(scope))
        .filter(|scope| !protected.iter().any(|p| p.name == *scope))
        .collect();
    for scope in scopes {
        out.push(cx.setting_finding(
            &RULE,
            &format!("protected_environments/{scope}"),
            format!("credentials are scoped to environment `{scope}`, which is not protected"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run, variable};
    use crate::gitlab::types::{ProtectedEnvironment, Variable};

    fn with(scope: &str, protected: Option<&[&str]>) -> Vec<Finding> {
        let mut data = project(vec![Variable {
            environment_scope: Some(scope.into()),
            ..variable("DB_PASSWORD", None)
        }]);
        data.protected_environments = protected.map(|names| {
            names
                .iter()
                .map(|name| ProtectedEnvironment {
                    name: (*name).into(),
                    deploy_access_levels: Vec::new(),
                })
                .collect()
        });
        run(check, &data)
    }

    #[test]
    fn fires_for_unprotected_production_scopes() {
        assert_eq!(with("production", Some(&[])).len(), 1);
        assert_eq!(with("production", Some(&["staging"])).len(), 1);
    }

    #[test]
    fn quiet_when_protected_unknown_or_not_production() {
        assert!(with("production", Some(&["production"])).is_empty());
        assert!(with("production", None).is_empty());
        assert!(with("staging", Some(&[])).is_empty());
        assert!(with("*", Some(&[])).is_empty());
    }
}
