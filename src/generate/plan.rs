//! The setup plan: the CI/CD variables a generated pipeline needs, each with the flags and the
//! environment scope it must have in GitLab, and the protections of the default branch and the
//! production environment. `init` prints it; `init --apply` makes it so through the API.

use std::collections::BTreeMap;

use super::secrets::{ExternalSecret, Provider};
use crate::meltano::SecretSetting;

/// What the project must have in GitLab for the generated pipeline to keep its credentials safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupPlan {
    /// The GitLab environment production jobs deploy to (`production`).
    pub production_environment: String,
    /// The non-production environment of the jobs merge-request pipelines run, if any.
    pub review_environment: Option<String>,
    /// The variables, sorted by key and then scope.
    pub variables: Vec<PlannedVariable>,
    /// The files whose changes need a code owner's approval (the pipeline, `meltano.yml`),
    /// from the repository root.
    pub code_owned: Vec<String>,
    /// Who owns them (`@group`); empty: a placeholder in the plan.
    pub code_owners: Vec<String>,
    /// The store production credentials come from instead of CI/CD variables (`--secrets`).
    pub external: Option<(Provider, Vec<ExternalSecret>)>,
}

/// The owner the plan names when none was given.
pub const PLACEHOLDER_OWNER: &str = "@your-data-platform-group";

/// One CI/CD variable the pipeline reads, in one environment scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVariable {
    /// The variable's key: the environment variable Meltano (or the command) reads.
    pub key: String,
    /// The environment scope: the production or the review environment.
    pub environment_scope: String,
    /// Passed only to jobs on protected branches and tags (true for production).
    pub protected: bool,
    /// How the value must be kept.
    pub storage: Storage,
    /// Where the need comes from, e.g. `extractors tap-postgres: password (sensitive)`.
    pub sources: Vec<String>,
}

/// How a planned variable's value is kept in GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// An environment variable, created masked and hidden (`masked_and_hidden`) when GitLab
    /// accepts the value for masking; raw, so a `$` in it is not expanded.
    MaskedAndHidden,
    /// A file-type variable (a key file, a multi-line value GitLab cannot mask): raw, and
    /// `ciguard run` masks its content.
    File,
}

/// A variable the pipeline needs, before it is split by environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The variable's key.
    pub key: String,
    /// Where the need comes from.
    pub source: String,
    /// Kept as a file-type variable (a path setting: GitLab writes the content to a file and
    /// puts its path in the variable).
    pub file: bool,
}

impl Need {
    /// The need of a Meltano setting that holds a credential.
    pub fn of_setting(setting: &SecretSetting) -> Self {
        let why = if setting.declared_sensitive {
            "sensitive"
        } else {
            "named like a credential"
        };
        let name = setting.setting.to_ascii_lowercase();
        Need {
            key: setting.env_var.clone(),
            source: format!(
                "{} {}: {} ({why})",
                setting.plugin_type, setting.plugin, setting.setting
            ),
            file: setting.kind.as_deref() == Some("file")
                || name.ends_with("_path")
                || name.ends_with("_file")
                || name.ends_with("keyfile"),
        }
    }
}

impl SetupPlan {
    /// Every ELT need in the production environment (protected) and, when there is one, in the
    /// review environment (not protected: merge-request pipelines run on unprotected refs); the
    /// audit job's needs in its own environment, protected.
    pub fn new(
        needs: &[Need],
        audit: (&str, &[Need]),
        production_environment: &str,
        review_environment: Option<&str>,
    ) -> Self {
        // Keyed by key, then protected first, then scope: the order the plan is shown in.
        let mut variables: BTreeMap<(String, bool, String), PlannedVariable> = BTreeMap::new();
        let scopes = std::iter::once((production_environment, true, needs))
            .chain(review_environment.map(|review| (review, false, needs)))
            .chain(std::iter::once((audit.0, true, audit.1)));
        for (scope, protected, needs) in scopes {
            for need in needs {
                let storage = if need.file {
                    Storage::File
                } else {
                    Storage::MaskedAndHidden
                };
                variables
                    .entry((need.key.clone(), !protected, scope.to_owned()))
                    .or_insert_with(|| PlannedVariable {
                        key: need.key.clone(),
                        environment_scope: scope.to_owned(),
                        protected,
                        storage,
                        sources: Vec::new(),
                    })
                    .sources
                    .push(need.source.clone());
            }
        }
        let variables = variables.into_values().collect();
        SetupPlan {
            production_environment: production_environment.to_owned(),
            review_environment: review_environment.map(str::to_owned),
            variables,
            code_owned: Vec::new(),
            code_owners: Vec::new(),
            external: None,
        }
    }

    /// The plan with production credentials fetched from `provider`: they leave the variables.
    #[must_use]
    pub fn with_external(mut self, provider: Provider, secrets: Vec<ExternalSecret>) -> Self {
        let production = self.production_environment.clone();
        self.variables.retain(|variable| {
            variable.environment_scope != production
                || !secrets.iter().any(|secret| secret.variable == variable.key)
        });
        self.external = Some((provider, secrets));
        self
    }

    /// What the plan says about the secret store, as Markdown.
    fn external_markdown(&self) -> String {
        let Some((provider, secrets)) = &self.external else {
            return String::new();
        };
        let production = &self.production_environment;
        let mut out = format!(
            "\n## Secret store: {}\n\n\
             Production credentials are not CI/CD variables: the production jobs fetch them \
             with `secrets:` when they start, and the store gives them only to a job whose ID \
             token proves it is this project's production job on its protected default \
             branch.\n\n\
             | Variable | Kept in the store as | Delivered as |\n|---|---|---|\n",
            provider.name()
        );
        for secret in secrets {
            out.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                secret.variable,
                provider.path(secret),
                if secret.file {
                    "a file (the variable holds its path)"
                } else {
                    "the value"
                }
            ));
        }
        if let Some((token, audience)) = provider.id_token() {
            out.push_str(&format!(
                "\nThe jobs authenticate with the ID token `{token}` (`id_tokens:`, audience \
                 `{audience}`, used by nothing else). Bind {} to these claims of it:\n\n\
                 - `aud`: `{audience}`\n\
                 - `project_path`: this project's full path\n\
                 - `ref_type`: `branch`, `ref`: the default branch, `ref_protected`: `true`\n\
                 - `environment`: `{production}`, `environment_protected`: `true` (protect it, \
                 see Protections)\n",
                provider.binding()
            ));
        } else {
            out.push_str(&format!(
                "\nCreate each in Secure > Secrets manager: {}.\n",
                provider.binding()
            ));
        }
        let settings = provider.settings();
        if !settings.is_empty() {
            out.push_str(
                "\nGitLab's integration reads these CI/CD variables (not secret; scope them to \
                 `production`, protected):\n\n",
            );
            for (name, what) in settings {
                out.push_str(&format!("- `{name}`: {what}\n"));
            }
        }
        out.push_str(
            "\n`ciguard run` masks what the store delivers, a file's content included, in the \
             ELT job's output.\n",
        );
        out
    }

    /// The plan with the files whose changes `owners` must approve.
    #[must_use]
    pub fn with_code_owners(mut self, files: Vec<String>, owners: Vec<String>) -> Self {
        self.code_owned = files;
        self.code_owners = owners;
        self
    }

    /// The `CODEOWNERS` section that makes the owners approve every change to the files.
    pub fn code_owners_section(&self) -> String {
        let owners = if self.code_owners.is_empty() {
            PLACEHOLDER_OWNER.to_owned()
        } else {
            self.code_owners.join(" ")
        };
        let mut section = format!("[Pipeline and credentials] {owners}\n");
        for file in &self.code_owned {
            let file = file.trim_start_matches("./").trim_start_matches('/');
            section.push_str(&format!("/{file}\n"));
        }
        section
    }

    /// The plan as a table for a terminal.
    pub fn table(&self) -> String {
        let mut rows = vec![[
            "VARIABLE".to_owned(),
            "ENVIRONMENT".to_owned(),
            "PROTECTED".to_owned(),
            "KEEP AS".to_owned(),
            "FOR".to_owned(),
        ]];
        for variable in &self.variables {
            rows.push([
                variable.key.clone(),
                variable.environment_scope.clone(),
                if variable.protected { "yes" } else { "no" }.to_owned(),
                variable.storage.describe().to_owned(),
                variable.sources.join("; "),
            ]);
        }
        let widths: Vec<usize> = (0..4)
            .map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            for (cell, width) in row.iter().zip(&widths) {
                out.push_str(&format!("{cell:<width$}  "));
            }
            out.push_str(&row[4]);
            out.push('\n');
        }
        out
    }

    /// What the plan asks of GitLab, as a Markdown file the team keeps next to the pipeline.
    pub fn markdown(&self, pipeline_file: &str) -> String {
        let production = &self.production_environment;
        let mut out = format!(
            "# Credentials of this pipeline\n\n\
             Written by `ciguard init` with `{pipeline_file}`. It lists every CI/CD variable the \
             pipeline reads and the flags each must have, so that production credentials reach \
             only reviewed code on the protected default branch. Values never go in \
             `meltano.yml` or `{pipeline_file}`: only in Settings > CI/CD > Variables (or \
             `ciguard init --apply --values-from-env`).\n\n\
             ## Protections\n\n\
             - The default branch is protected: no one pushes to it, Maintainers merge, and \
             code owners approve changes to the pipeline (Premium). Production variables are \
             `protected`, so only pipelines of protected refs receive them, and only reviewed \
             code reaches a protected ref.\n\
             - Environment `{production}` is protected (Premium): only Maintainers may deploy \
             to it. Production variables are scoped to it, so no job of another environment \
             receives them.\n\
             - Merge-request pipelines run unreviewed code: they never receive production \
             variables.\n"
        );
        if let Some(review) = &self.review_environment {
            out.push_str(&format!(
                "- Merge-request pipelines run ELT in environment `{review}`, with variables \
                 scoped to it and not protected: give them credentials that can only reach \
                 non-production data.\n"
            ));
        }
        out.push_str(
            "\n## Variables\n\n\
             | Variable | Environment scope | Protected | Keep as | For |\n\
             |---|---|---|---|---|\n",
        );
        for variable in &self.variables {
            out.push_str(&format!(
                "| `{}` | `{}` | {} | {} | {} |\n",
                variable.key,
                variable.environment_scope,
                if variable.protected { "yes" } else { "no" },
                variable.storage.describe(),
                variable.sources.join("; ")
            ));
        }
        out.push_str(
            "\n## Keep as\n\n\
             - masked and hidden: create the variable with *Masked and hidden* (the API's \
             `masked_and_hidden`) and *Expand variable reference* off (`raw`). Nobody can read \
             the value back, Maintainers included, and the runner masks it in job logs. GitLab \
             refuses to mask a value shorter than 8 characters or one with a line break or \
             space: rotate it to one GitLab accepts; until then keep it protected, unmasked, \
             and `ciguard run` masks it in the ELT job's output.\n\
             - file: a *File* variable (GitLab writes the content to a file and puts the file's \
             path in the variable). GitLab cannot mask multi-line content; `ciguard run` masks \
             it in the ELT job's output.\n\n\
             Check the project at any time with `ciguard audit --project <path>`.\n",
        );
        out.push_str(&self.external_markdown());
        if !self.code_owned.is_empty() {
            out.push_str(&format!(
                "\n## Code owners\n\n\
                 These files decide which code gets the production credentials. Add this \
                 section to `CODEOWNERS` (at the repository root, or `docs/` or `.gitlab/`) on \
                 the default branch, so their owners approve every change; `ciguard init \
                 --apply` turns on *Code owner approval* for the default branch (Premium){}.\n\n\
                 ```\n{}```\n",
                if self.code_owners.is_empty() {
                    format!(": replace `{PLACEHOLDER_OWNER}` with the group that answers for them")
                } else {
                    String::new()
                },
                self.code_owners_section()
            ));
        }
        out
    }
}

impl Storage {
    /// How to keep it, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Storage::MaskedAndHidden => "masked and hidden",
            Storage::File => "file",
        }
    }
}
