//! The connection to GitLab that `audit`, `audit --fix`, `lint --gitlab` and `init --apply`
//! share: the API client the command line asks for (URL, token) and the runtime its calls run on.

use std::env;

use anyhow::Context as _;

use crate::cli::GitlabArgs;
use crate::env::{CI_JOB_TOKEN, CI_SERVER_URL, GITLAB_TOKEN};
use crate::gitlab;

/// The GitLab instance when neither `--gitlab-url`, `GITLAB_URL` nor `CI_SERVER_URL` says.
const DEFAULT_GITLAB_URL: &str = "https://gitlab.com";

/// The API client the command line asks for (URL, token).
pub(super) fn client(args: &GitlabArgs) -> anyhow::Result<gitlab::Client> {
    let url = args
        .gitlab_url
        .clone()
        .filter(|url| !url.is_empty())
        .or_else(|| non_empty_env(CI_SERVER_URL))
        .unwrap_or_else(|| DEFAULT_GITLAB_URL.to_owned());
    let token = gitlab::resolve_token(
        args.token_file.as_deref(),
        env::var(GITLAB_TOKEN).ok(),
        env::var_os(CI_JOB_TOKEN).is_some(),
    )?;
    Ok(gitlab::Client::new(&url, &token)?)
}

/// The single-threaded runtime the API calls run on.
pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A variable's value when it is set and not empty.
pub(super) fn non_empty_env(name: &str) -> Option<String> {
    env::var(name).ok().filter(|value| !value.is_empty())
}
