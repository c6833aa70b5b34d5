//! What `ciguard audit` reads through the API beyond `--project`: every project of each
//! `--group` (with `--include-subgroups`), narrowed to one `--shard`, and the `--instance`
//! variables that reach them all.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::audit::AuditData;
use crate::audit::shard::Shard;
use crate::cli::AuditArgs;
use crate::gitlab::{self, Client};
use crate::notice::PREFIX;

/// Reads the instance's variables when asked (first, so a token without admin fails at once),
/// lists the groups' projects, keeps this shard's part of them all (sorted, each once), and
/// fetches each project.
pub async fn fetch_selected(
    client: Client,
    args: &AuditArgs,
    mut projects: Vec<String>,
) -> anyhow::Result<Vec<AuditData>> {
    let instance = if args.instance {
        Some(gitlab::instance_variables(&client).await?)
    } else {
        None
    };
    for group in &args.group {
        let listed = gitlab::group_projects(&client, group, args.include_subgroups).await?;
        projects.extend(listed);
    }
    let projects = args.shard.unwrap_or(Shard::ALL).select(projects);
    let mut fetched = fetch_all(client, projects, args.concurrency.into()).await?;
    if let Some(instance) = instance {
        for data in &mut fetched {
            // The lowest precedence comes first.
            data.variable_sets.insert(0, instance.clone());
        }
    }
    Ok(fetched)
}

/// Fetches every project, at most `limit` at a time, each group's variables once; the first
/// failure stops the rest.
async fn fetch_all(
    client: Client,
    projects: Vec<String>,
    limit: usize,
) -> anyhow::Result<Vec<AuditData>> {
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
        let (index, result) = joined.context("internal error: reading a project stopped")?;
        fetched[index] = Some(result?);
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
        "{PREFIX}read {done}/{total} projects ({}%)",
        done * 100 / total.max(1)
    )
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
