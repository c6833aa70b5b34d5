//! The GitLab REST API, as far as `ciguard audit` reads it: an async client (token in a
//! [`Secret`](crate::secret::Secret), pagination, retries for 429 and 5xx, timeouts), what one
//! project's audit fetches, and the flag updates of `--fix --apply`. Built on `reqwest` directly (see `DESIGN.md`, "Dependencies and
//! why"). Errors name the HTTP status and what to do, never the token or a value.

mod client;
mod project;
mod variables;

pub use client::{Client, Error, Token, TokenError, resolve_token};
pub use project::fetch_project;
pub use variables::update_project_variable;
