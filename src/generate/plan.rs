//! The setup plan: the CI/CD variables a generated pipeline needs, each with the flags and the
//! environment scope it must have in GitLab, and the protections of the default branch and the
//! production environment. `init` prints it; `init --apply` makes it so through the API.

/// What the project must have in GitLab for the generated pipeline to keep its credentials safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupPlan {
    /// The GitLab environment production jobs deploy to (`production`).
    pub production_environment: String,
    /// The non-production environment of the jobs merge-request pipelines run, if any.
    pub review_environment: Option<String>,
    /// The variables, sorted by key and then scope.
    pub variables: Vec<PlannedVariable>,
}

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
