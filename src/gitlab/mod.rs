//! The GitLab REST API, as far as `ciguard audit` reads it: an async client (token in a
//! [`Secret`](crate::secret::Secret), pagination, retries for 429 and 5xx, timeouts), what one
//! project's audit fetches, what groups and the instance add to it, the flag updates of
//! `--fix --apply`, and what `init --apply` reads and changes (protected branches and
//! environments, new variables), and the job logs `scan --gitlab` reads and erases. Built on `reqwest` directly (see `DESIGN.md`, "Dependencies and why").
//! Errors name the HTTP status and what to do, never the token or a value.

mod client;
mod group;
mod jobs;
pub mod maskable;
mod project;
mod protection;
mod reviews;
pub mod types;
mod variables;

pub use client::{Client, Error, Token, TokenError, needs_premium, resolve_token};
pub use group::{GroupVariables, group_projects, instance_variables};
pub use jobs::{Job, erase_job, jobs_of_last_pipelines, jobs_since, stream_job_log};
pub use project::{fetch_project, project_variables_reaching};
pub use protection::{
    MAINTAINER, default_branch, forbid_force_push, protect_branch, protect_environment,
    protected_branches, protected_environments, require_code_owner_approval,
};
pub use variables::{create_project_variable, project_variables, update_project_variable};
