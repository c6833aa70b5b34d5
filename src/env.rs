//! Every environment variable ciguard reads or sets, by name.
//!
//! Besides these, `ciguard run` reads the whole environment once to find credentials by name (see
//! [`crate::run::secrets`]); `ciguard init --apply --values-from-env` reads the variables named
//! like those of its setup plan; `ciguard pseudonymize` reads its HMAC key from the variable its
//! config names in `key_env` (see [`crate::pseudonymize::config`]). None prints a value it finds
//! there.

/// `--min-secret-length`, when the flag is not given.
pub const CIGUARD_MIN_SECRET_LENGTH: &str = "CIGUARD_MIN_SECRET_LENGTH";

/// `--kill-after`, when the flag is not given.
pub const CIGUARD_KILL_AFTER: &str = "CIGUARD_KILL_AFTER";

/// `--log-file`, when the flag is not given.
pub const CIGUARD_LOG_FILE: &str = "CIGUARD_LOG_FILE";

/// Terminal width. Set to [`CHILD_COLUMNS`] for the child when unset, so that Rich tracebacks
/// and other wrapped output do not split a secret across lines (where no scrubber can see it
/// whole).
pub const COLUMNS: &str = "COLUMNS";

/// The value of [`COLUMNS`] given to the child when the caller has not set one.
pub const CHILD_COLUMNS: &str = "500";

/// When set and not empty, text reports have no colour (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";

/// Meltano's project directory; when unset, the working directory. ciguard reads `meltano.yml`
/// and cleans `.meltano/run` there.
pub const MELTANO_PROJECT_ROOT: &str = "MELTANO_PROJECT_ROOT";

/// The GitLab instance `audit` talks to, when `--gitlab-url` is not given.
pub const GITLAB_URL: &str = "GITLAB_URL";
/// The instance a CI job runs on; `audit`'s GitLab when neither `--gitlab-url` nor
/// [`GITLAB_URL`] is set.
pub const CI_SERVER_URL: &str = "CI_SERVER_URL";
/// The token `audit` sends to GitLab (unless `--token-file` is given). Never a flag.
pub const GITLAB_TOKEN: &str = "GITLAB_TOKEN";
/// The project `audit` reads when no `--project` is given.
pub const CI_PROJECT_ID: &str = "CI_PROJECT_ID";
/// In a merge-request pipeline, the commit the merge request's changes start from: `lint`
/// reports the suppression comments added since.
pub const CI_MERGE_REQUEST_DIFF_BASE_SHA: &str = "CI_MERGE_REQUEST_DIFF_BASE_SHA";

/// GitLab's job token, valid while the job runs.
pub const CI_JOB_TOKEN: &str = "CI_JOB_TOKEN";
/// Password of the project's container registry for this job.
pub const CI_REGISTRY_PASSWORD: &str = "CI_REGISTRY_PASSWORD";
/// Password of the `gitlab-deploy-token` deploy token, when the project has one.
pub const CI_DEPLOY_PASSWORD: &str = "CI_DEPLOY_PASSWORD";
/// Password for GitLab's dependency proxy.
pub const CI_DEPENDENCY_PROXY_PASSWORD: &str = "CI_DEPENDENCY_PROXY_PASSWORD";

/// The credentials GitLab gives every job. `ciguard run` always masks them, even with
/// `--no-default-patterns`.
pub const GITLAB_JOB_CREDENTIALS: &[&str] = &[
    CI_JOB_TOKEN,
    CI_REGISTRY_PASSWORD,
    CI_DEPLOY_PASSWORD,
    CI_DEPENDENCY_PROXY_PASSWORD,
];

/// GitLab CI variables that make the runner print the job's environment (debug trace) or stream
/// service containers' logs past masking. Not read by ciguard: `lint` and `audit` flag them.
pub const DEBUG_TRACE_VARIABLES: &[&str] = &["CI_DEBUG_TRACE", "CI_DEBUG_SERVICES"];

/// Whether the runner reads `value` as true: it parses these variables with Go's
/// `strconv.ParseBool`, so `1`, `t`, `T`, `TRUE`, `true` and `True` all switch them on.
pub fn runner_reads_as_true(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "TRUE" | "true" | "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parse_bool_spellings() {
        for yes in ["1", "t", "T", "TRUE", "true", "True"] {
            assert!(runner_reads_as_true(yes), "{yes}");
        }
        for no in ["false", "0", "yes", "on", "tRUE", ""] {
            assert!(!runner_reads_as_true(no), "{no}");
        }
    }
}
