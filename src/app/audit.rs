//! `ciguard audit`: resolves configuration, reads the variables (through the GitLab API for
//! `--project` and `--group`, or from `--from-file`), runs the checks, applies the
//! configuration, writes the reports, and picks the exit status (2 when a `--fix --apply`
//! change failed).

use std::env;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::output::{self, EXIT_FAILED};
use super::selection;
use crate::audit::{self, AuditData};
use crate::cli::{AuditArgs, GitlabArgs};
use crate::env::{CI_JOB_TOKEN, CI_PROJECT_ID, CI_SERVER_URL, GITLAB_TOKEN};
use crate::findings::FindingSet;
use crate::gitlab;
use crate::gitlab::types::{Level, VariableSet};
use crate::notice::note;

/// The GitLab instance when neither `--gitlab-url`, `GITLAB_URL` nor `CI_SERVER_URL` says.
const DEFAULT_GITLAB_URL: &str = "https://gitlab.com";

/// The owner findings name when `--project-name` is not given.
const FILE_OWNER: &str = "(file)";

/// Runs `ciguard audit`; returns its exit status.
pub fn audit(args: AuditArgs) -> u8 {
    let (config, knowledge) = match output::configure(args.config.as_deref()) {
        Ok(configured) => configured,
        Err(message) => {
            note(message);
            return EXIT_FAILED;
        }
    };
    let data = match read(&args) {
        Ok(data) => data,
        Err(message) => {
            note(message);
            return EXIT_FAILED;
        }
    };
    let mut findings: Vec<_> = data
        .iter()
        .flat_map(|data| audit::audit(data, &knowledge))
        .collect();
    let fixed = !args.fix || super::fix::fix(&args, &data, &knowledge);
    drop(data);
    if let Some(config) = &config {
        config.apply(&mut findings);
    }
    let set = FindingSet::new(findings);
    let status = output::finish(
        "ciguard audit",
        &args.output,
        &set,
        &[],
        audit::RULES,
        false,
    );
    if fixed { status } else { EXIT_FAILED }
}

/// What the command line asks to audit: the file, or each project through the API.
fn read(args: &AuditArgs) -> Result<Vec<AuditData>, String> {
    if let Some(path) = &args.from_file {
        let project = args.project_name.as_deref().unwrap_or(FILE_OWNER);
        return Ok(vec![read_file(path, project.to_owned())?]);
    }
    let projects = if args.project.is_empty() && args.group.is_empty() {
        let id = non_empty_env(CI_PROJECT_ID).ok_or(
            "nothing to audit: give --project ID|PATH or --group ID|PATH (or set CI_PROJECT_ID), \
             or --from-file PATH",
        )?;
        vec![id]
    } else {
        args.project.clone()
    };
    let client = client(&args.connection)?;
    runtime()?.block_on(selection::fetch_selected(client, args, projects))
}

/// The API client the command line asks for (URL, token).
pub(super) fn client(args: &GitlabArgs) -> Result<gitlab::Client, String> {
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
    )
    .map_err(|err| err.to_string())?;
    gitlab::Client::new(&url, &token).map_err(|err| err.to_string())
}

/// The single-threaded runtime the API calls run on.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))
}

/// A variable's value when it is set and not empty.
fn non_empty_env(name: &str) -> Option<String> {
    env::var(name).ok().filter(|value| !value.is_empty())
}

/// Fetches every project, at most `limit` at a time, each group's variables once; the first
/// failure stops the rest.
pub(super) async fn fetch_all(
    client: gitlab::Client,
    projects: Vec<String>,
    limit: usize,
) -> Result<Vec<AuditData>, String> {
    let permits = Arc::new(Semaphore::new(limit));
    let groups = Arc::new(gitlab::GroupVariables::default());
    let mut tasks = JoinSet::new();
    let count = projects.len();
    for (index, project) in projects.into_iter().enumerate() {
        let client = client.clone();
        let permits = Arc::clone(&permits);
        let groups = Arc::clone(&groups);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (
                index,
                gitlab::fetch_project(&client, &groups, &project).await,
            )
        });
    }
    let mut fetched: Vec<Option<AuditData>> = (0..count).map(|_| None).collect();
    let mut progress = Progress::new(count);
    while let Some(joined) = tasks.join_next().await {
        let (index, result) =
            joined.map_err(|_| "internal error: reading a project stopped".to_owned())?;
        fetched[index] = Some(result.map_err(|err| err.to_string())?);
        progress.step();
    }
    Ok(fetched.into_iter().flatten().collect())
}

/// A one-line count of the projects read so far, redrawn on stderr, only when stderr is a
/// terminal (CI logs get no progress noise) and there is more than one project.
struct Progress {
    done: usize,
    total: usize,
    shown: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress {
            done: 0,
            total,
            shown: total > 1 && io::stderr().is_terminal(),
        }
    }

    fn step(&mut self) {
        self.done += 1;
        if self.shown {
            // Progress is best effort: a closed stderr is no reason to stop the audit.
            let _ = write!(
                io::stderr().lock(),
                "\r{}",
                progress_line(self.done, self.total)
            );
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            // Erase the line, so the report or the next message starts clean.
            let _ = write!(io::stderr().lock(), "\r\x1b[K");
        }
    }
}

fn progress_line(done: usize, total: usize) -> String {
    format!(
        "ciguard: read {done}/{total} projects ({}%)",
        done * 100 / total.max(1)
    )
}

/// Reads a variables list as the project's only data.
fn read_file(path: &Path, project: String) -> Result<AuditData, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let variables = audit::parse_variables(&text).map_err(|err| {
        format!(
            "{}:{err}; give a JSON array of variables as `GET /projects/:id/variables` returns it",
            path.display()
        )
    })?;
    Ok(AuditData {
        variable_sets: vec![VariableSet {
            level: Level::Project,
            owner: project.clone(),
            variables,
        }],
        project,
        settings: None,
        protected_branches: None,
        protected_tags: None,
        protected_environments: None,
    })
}

#[cfg(test)]
mod tests {
    use super::progress_line;

    #[test]
    fn the_progress_line_counts_projects() {
        assert_eq!(
            progress_line(37, 1000),
            "ciguard: read 37/1000 projects (3%)"
        );
        assert_eq!(progress_line(2, 2), "ciguard: read 2/2 projects (100%)");
    }
}
