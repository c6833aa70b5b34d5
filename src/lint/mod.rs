//! `ciguard lint`: static analysis of `.gitlab-ci.yml` (and what it includes locally) and
//! `meltano.yml` for credential-exposure risks.
//!
//! [`ci`] models a pipeline with source positions and runs the CI rules over it; [`meltano`]
//! does the same for a Meltano project file; both read files into [`yaml`]'s positioned tree.
//! [`suppress`] applies inline `# ciguard: ignore[rule-id] reason` comments. Every rule is
//! listed by [`rules`], documented in `docs/rules.md`. Nothing here does I/O beyond reading the files it is given, and nothing
//! prints.

pub mod ci;
pub mod meltano;
pub mod suppress;

use std::path::PathBuf;

use crate::credentials::NamePattern;
use crate::findings::Rule;

/// What the rules know beyond the files: which names are credentials, which environments are
/// production.
#[derive(Debug, Clone)]
pub struct Knowledge {
    /// Variable names that hold credentials (defaults plus configuration).
    pub credential_names: Vec<NamePattern>,
    /// Environment names (globs) that count as production, besides `deployment_tier: production`.
    pub production_environments: Vec<NamePattern>,
    /// Commands, as their first words (`["dbt", "run"]`), that run ELT steps whose output must
    /// go through `ciguard run --`, besides Meltano's `run`, `el`, `elt` and `invoke`.
    pub elt_commands: Vec<Vec<String>>,
    /// The project's CI/CD variables as GitLab knows them (`lint --gitlab`; empty otherwise).
    pub project_variables: Vec<KnownVariable>,
}

/// A CI/CD variable's flags as the GitLab API reports them, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownVariable {
    /// Its key.
    pub key: String,
    /// Only protected refs get it.
    pub protected: bool,
    /// GitLab masks it in job logs: someone declared it a secret.
    pub masked: bool,
    /// The environments whose jobs get it (`*`: every job; a GitLab wildcard).
    pub environment_scope: String,
}

impl Default for Knowledge {
    fn default() -> Self {
        Knowledge {
            credential_names: crate::credentials::DEFAULT_NAME_PATTERNS
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
            production_environments: [
                "production",
                "prod",
                "prd",
                "live",
                "production/*",
                "prod/*",
            ]
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect(),
            elt_commands: Vec::new(),
            project_variables: Vec::new(),
        }
    }
}

impl Knowledge {
    /// Whether a variable of this name holds a credential: by its name, or because the project
    /// has it as a masked variable.
    pub fn is_credential(&self, name: &str) -> bool {
        self.credential_names.iter().any(|p| p.matches(name))
            || self
                .project_variables
                .iter()
                .any(|v| v.masked && v.key == name)
    }

    /// Whether the project has a variable of this name that a job in `environment` (`None`:
    /// a job without one) receives, and every such one is protected, so that no unprotected
    /// ref, merge-request pipelines included, gives it to that job. A job without an environment
    /// receives only `*`-scoped rows; a job with one, the rows whose scope matches its name. An
    /// environment name with variables in it could match any scope: every row counts then.
    pub fn is_protected_variable(&self, name: &str, environment: Option<&str>) -> bool {
        let reaches = |scope: &str| match environment {
            None => scope == "*",
            Some(environment) if environment.contains('$') => true,
            Some(environment) => crate::credentials::wildcard_matches(scope, environment),
        };
        let mut received = self
            .project_variables
            .iter()
            .filter(|v| v.key == name && reaches(&v.environment_scope))
            .peekable();
        received.peek().is_some() && received.all(|v| v.protected)
    }

    /// Whether an environment of this name is production.
    pub fn is_production(&self, environment: &str) -> bool {
        self.production_environments
            .iter()
            .any(|p| p.matches(environment))
    }
}

/// A file the findings point into: its path as reported and its text (for snippets and
/// suppression comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// As given on the command line or found by following includes.
    pub path: PathBuf,
    /// The whole file.
    pub text: String,
}

/// Rules whose findings point at a credential value itself: report snippets star it out.
pub const VALUE_RULES: &[&str] = &[
    "hardcoded-credential",
    "meltano-literal-secret",
    "meltano-uri-with-password",
    "meltano-committed-hash-seed",
];

/// Every lint rule, CI rules first. Ids are unique, kebab-case, and each has a section in
/// `docs/rules.md` (checked by tests).
pub fn rules() -> Vec<&'static Rule> {
    ci::RULES
        .iter()
        .chain(meltano::RULES.iter())
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");

    #[test]
    fn a_variable_is_protected_for_the_environments_its_scopes_reach() {
        let row = |scope: &str, protected: bool| KnownVariable {
            key: "DB_PASSWORD".to_owned(),
            protected,
            masked: true,
            environment_scope: scope.to_owned(),
        };
        let knowledge = Knowledge {
            project_variables: vec![row("*", true), row("staging", false), row("prod*", true)],
            ..Knowledge::default()
        };
        let protected = |environment| knowledge.is_protected_variable("DB_PASSWORD", environment);
        assert!(
            protected(None),
            "a job without environment gets only the `*` row"
        );
        assert!(
            protected(Some("production")),
            "`*` and `prod*`, both protected"
        );
        assert!(
            !protected(Some("staging")),
            "the staging row is not protected"
        );
        assert!(
            !protected(Some("review/$CI_COMMIT_REF_SLUG")),
            "could be any scope"
        );
        assert!(
            !knowledge.is_protected_variable("OTHER", None),
            "unknown: not known protected"
        );
    }

    /// `docs/rules.md` as the rules themselves describe them.
    fn rules_doc() -> String {
        let mut doc = String::from(
            "# Lint rules\n\n\
             Every rule of `ciguard lint`, generated from the rules themselves (a test checks this \
             file is current; `CIGUARD_BLESS=1 cargo test rules_doc` rewrites it). Suppress a \
             finding with `# ciguard: ignore[rule-id] reason` on its line or on its job's key, or \
             change a rule in `.ciguard.yml` (see configuration.md).\n\n\
             | rule | severity | confidence | finds |\n|---|---|---|---|\n",
        );
        for rule in rules() {
            doc.push_str(&format!(
                "| [`{id}`](#{id}) | {} | {} | {} |\n",
                rule.severity,
                rule.confidence.as_str(),
                rule.summary,
                id = rule.id
            ));
        }
        for rule in rules() {
            doc.push_str(&format!(
                "\n## {id}\n\n{summary}\n\nSeverity **{severity}**, confidence {confidence}.\n\n\
                 **Why it matters.** {why}\n\n**How to fix it.** {fix}\n",
                id = rule.id,
                summary = rule.summary,
                severity = rule.severity,
                confidence = rule.confidence.as_str(),
                why = rule.why,
                fix = rule.fix,
            ));
        }
        doc
    }

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let rules = rules();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        for id in &ids {
            assert!(
                !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{id}"
            );
        }
        ids.sort_unstable();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate rule id");
        for id in VALUE_RULES {
            assert!(ids.contains(id), "VALUE_RULES names unknown rule {id}");
        }
    }

    #[test]
    fn rules_doc_is_current() {
        let expected = rules_doc();
        if std::env::var_os("CIGUARD_BLESS").is_some() {
            std::fs::write(RULES_DOC, &expected).expect("write docs/rules.md");
        }
        let actual = std::fs::read_to_string(RULES_DOC).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/rules.md is out of date: run `CIGUARD_BLESS=1 cargo test rules_doc`"
        );
    }
}
