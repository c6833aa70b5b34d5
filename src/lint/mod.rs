//! `ciguard lint`: static analysis of `.gitlab-ci.yml` (and what it includes locally) and
//! `meltano.yml` for credential-exposure risks.
//!
//! [`ci`] models a pipeline with source positions and runs the CI rules over it; [`meltano`]
//! does the same for a Meltano project file; both read files into [`crate::yaml`]'s positioned tree.
//! [`suppress`] applies inline `# ciguard: ignore[rule-id] reason` comments. Every rule is
//! listed by [`rules`], documented in `docs/rules.md`. Nothing here does I/O beyond reading the files it is given, and nothing
//! prints.

pub mod ci;
pub mod meltano;
pub mod suppress;

use std::path::PathBuf;

use crate::findings::Rule;

/// A file the findings point into: its path as reported and its text (for snippets and
/// suppression comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// As given on the command line or found by following includes.
    pub path: PathBuf,
    /// The whole file.
    pub text: String,
}

/// Every lint rule, CI rules first. Ids are unique, kebab-case, and each has a section in
/// `docs/rules.md` (checked by tests).
pub fn rules() -> Vec<&'static Rule> {
    ci::RULES
        .iter()
        .chain(meltano::RULES.iter())
        .copied()
        .chain([&suppress::RULE])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");

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
