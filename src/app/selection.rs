//! What `ciguard audit` reads through the API beyond `--project`: every project of each
//! `--group` (with `--include-subgroups`), narrowed to one `--shard`, and the `--instance`
//! variables that reach them all.

use super::audit::fetch_all;
use crate::audit::AuditData;
use crate::audit::shard::Shard;
use crate::cli::AuditArgs;
use crate::gitlab::{self, Client};

/// Reads the instance's variables when asked (first, so a token without admin fails at once),
/// lists the groups' projects, keeps this shard's part of them all (sorted, each once), and
/// fetches each project.
pub async fn fetch_selected(
    client: Client,
    args: &AuditArgs,
    mut projects: Vec<String>,
) -> Result<Vec<AuditData>, String> {
    let instance = if args.instance {
        Some(
            gitlab::instance_variables(&client)
                .await
                .map_err(|err| err.to_string())?,
        )
    } else {
        None
    };
    for group in &args.group {
        let listed = gitlab::group_projects(&client, group, args.include_subgroups)
            .await
            .map_err(|err| err.to_string())?;
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
