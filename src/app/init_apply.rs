//! `ciguard init --apply`: reads the project (default branch, protected branches and
//! environments, every variable), prints the steps that bring it in line with the setup plan
//! (`generate::setup`), and with `--yes` performs them in order through the API; a refusal is
//! reported with GitLab's reason and the others go on. Values come only from ciguard's own
//! environment (`--values-from-env`), are held in [`Secret`]s and never printed.

use std::collections::HashMap;
use std::env;
use std::io::{self, Write};

use anyhow::{Context as _, anyhow, bail};

use super::connection::{client, runtime};
use crate::cli::InitApplyArgs;
use crate::env::CI_PROJECT_ID;
use crate::generate::plan::SetupPlan;
use crate::generate::setup::{self, Change, Current, Step, Values};
use crate::gitlab;
use crate::gitlab::types::{ProtectedBranch, ProtectedEnvironment, Variable};
use crate::secret::{REDACTED, Secret};

/// How `init` runs `--apply`: where the plan goes and whether changes are allowed.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// Print on stderr (stdout holds the pipeline: `--stdout`).
    pub to_stderr: bool,
    /// `--dry-run`: never change anything, even with `--yes`.
    pub dry_run: bool,
}

/// What the project has now, as read.
struct Fetched {
    default_branch: Option<String>,
    protected_branches: Vec<ProtectedBranch>,
    protected_environments: Result<Vec<ProtectedEnvironment>, String>,
    variables: Vec<Variable>,
}

/// Shows the steps and, with `--yes`, performs them; an error when the project could not be
/// read or a change failed (each failure is shown first).
pub fn apply(args: &InitApplyArgs, plan: &SetupPlan, mode: Mode) -> anyhow::Result<()> {
    let project = args
        .project
        .clone()
        .filter(|project| !project.is_empty())
        .or_else(|| env::var(CI_PROJECT_ID).ok().filter(|id| !id.is_empty()))
        .context(
            "--apply: no project: give --project ID|PATH (or set CI_PROJECT_ID); nothing was \
             changed in GitLab",
        )?;
    let client = client(&args.connection).map_err(|err| {
        anyhow!("--apply: {err:#} (to make changes, the token needs the api scope)")
    })?;
    let runtime = runtime()?;
    let fetched = runtime
        .block_on(fetch(&client, &project))
        .with_context(|| format!("--apply: cannot read project {project}"))?;
    let by_key = if args.values_from_env {
        values_from_env(plan)
    } else {
        HashMap::new()
    };
    let current = Current {
        default_branch: fetched.default_branch.as_deref(),
        protected_branches: &fetched.protected_branches,
        protected_environments: fetched
            .protected_environments
            .as_deref()
            .map_err(String::as_str),
        variables: &fetched.variables,
    };
    let values = Values {
        by_key: &by_key,
        from_env: args.values_from_env,
        overwrite: args.overwrite_values,
    };
    let steps = setup::steps(plan, &current, &values);
    let mut out: Box<dyn Write> = if mode.to_stderr {
        Box::new(io::stderr().lock())
    } else {
        Box::new(io::stdout().lock())
    };
    let mut say = |text: String| {
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .context("cannot write the --apply plan")
    };
    say(format!("\nGitLab project {project}: what --apply does\n"))?;
    for step in &steps {
        say(format!("  {}\n", step.line(&project)))?;
    }
    let changes: Vec<&Step> = steps
        .iter()
        .filter(|step| step.change().is_some())
        .collect();
    if changes.is_empty() {
        say("nothing to change: the project matches the plan\n".to_owned())?;
        return Ok(());
    }
    if mode.dry_run || !args.yes {
        let how = if mode.dry_run {
            "--dry-run"
        } else {
            "run again with --yes to make them"
        };
        say(format!(
            "{} change(s) planned; nothing changed: {how}\n",
            changes.len()
        ))?;
        return Ok(());
    }
    let mut failed = 0;
    for step in &changes {
        let Some(change) = step.change() else {
            continue;
        };
        match runtime.block_on(perform(&client, &project, change)) {
            Ok(()) => say(format!("  done   {}: {}\n", step.subject, step.what))?,
            Err(err) => {
                failed += 1;
                let reason = redact(&err.to_string(), &by_key);
                say(format!(
                    "  failed {}: {}: {reason}\n",
                    step.subject, step.what
                ))?;
            }
        }
    }
    say(format!(
        "{} change(s) made, {failed} failed\n",
        changes.len() - failed
    ))?;
    if failed > 0 {
        bail!(
            "--apply: {failed} of {} change(s) failed (shown above); the others were made",
            changes.len()
        );
    }
    Ok(())
}

/// Reads what the steps compare with the plan; protected environments unreadable (Premium) is
/// not a failure.
async fn fetch(client: &gitlab::Client, project: &str) -> Result<Fetched, gitlab::Error> {
    let default_branch = gitlab::default_branch(client, project).await?;
    let protected_branches = gitlab::protected_branches(client, project).await?;
    let protected_environments = match gitlab::protected_environments(client, project).await {
        Ok(environments) => Ok(environments),
        Err(err) if gitlab::needs_premium(&err) => Err(err.to_string()),
        Err(err) => return Err(err),
    };
    let variables = gitlab::project_variables(client, project).await?;
    Ok(Fetched {
        default_branch,
        protected_branches,
        protected_environments,
        variables,
    })
}

/// The non-empty variables of ciguard's environment named like a planned variable.
fn values_from_env(plan: &SetupPlan) -> HashMap<String, Secret<String>> {
    plan.variables
        .iter()
        .filter_map(|planned| {
            let value = env::var(&planned.key).ok().filter(|v| !v.is_empty())?;
            Some((planned.key.clone(), Secret::new(value)))
        })
        .collect()
}

/// Performs one change.
async fn perform(
    client: &gitlab::Client,
    project: &str,
    change: &Change,
) -> Result<(), gitlab::Error> {
    match change {
        Change::ProtectBranch(name) => gitlab::protect_branch(client, project, name).await,
        Change::ForbidForcePush(name) => gitlab::forbid_force_push(client, project, name).await,
        Change::RequireCodeOwnerApproval(name) => {
            gitlab::require_code_owner_approval(client, project, name).await
        }
        Change::ProtectEnvironment(name) => {
            gitlab::protect_environment(client, project, name).await
        }
        Change::CreateVariable(variable) => {
            gitlab::create_project_variable(client, project, variable).await
        }
        Change::UpdateVariable {
            key,
            scope,
            set,
            value,
        } => {
            let fields: Vec<_> = set.iter().map(|flag| flag.set()).collect();
            gitlab::update_project_variable(client, project, key, scope, &fields, value.as_ref())
                .await
        }
    }
}

/// `text` with every value ciguard holds replaced by `****`, in case a server quotes one.
fn redact(text: &str, values: &HashMap<String, Secret<String>>) -> String {
    values
        .values()
        .filter(|value| !value.expose().is_empty())
        .fold(text.to_owned(), |text, value| {
            text.replace(value.expose().as_str(), REDACTED)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_redacted() {
        let values = HashMap::from([(
            "TAP_PASSWORD".to_owned(),
            Secret::new("hunter2-pw".to_owned()),
        )]);
        assert_eq!(
            redact("400: \"hunter2-pw is invalid\"", &values),
            "400: \"**** is invalid\""
        );
    }
}
