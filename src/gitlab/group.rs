//! What reaches many projects at once: the projects of a group (`--group`), each group's
//! variables read once per run however many projects inherit them, and the instance's
//! variables (`--instance`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use tokio::sync::OnceCell;

use super::client::{Client, Error};
use crate::gitlab::types::{Level, Variable, VariableSet};

/// What a 403 on group variables lacks.
const GROUP_OWNER: &str = "the Owner role on the group (its variables are readable by Owners \
                           only) and a token with the read_api (or api) scope";
/// What a 403 on a group's project list lacks.
const GROUP_MEMBER: &str = "membership of the group and a token with the read_api (or api) \
                            scope";
/// What a 403 on instance variables lacks.
const ADMINISTRATOR: &str = "an administrator's token with the read_api (or api) scope \
                             (instance variables are readable by administrators only); leave \
                             out --instance otherwise";

/// One entry of `GET /groups/:id/projects`.
#[derive(Debug, Deserialize)]
struct GroupProject {
    path_with_namespace: String,
    #[serde(default)]
    archived: bool,
}

/// The full paths of the projects of `group` (an ID or a full path), and of its subgroups'
/// with `include_subgroups`; archived projects and projects only shared with the group are
/// left out.
pub async fn group_projects(
    client: &Client,
    group: &str,
    include_subgroups: bool,
) -> Result<Vec<String>, Error> {
    let query = [
        (
            "include_subgroups",
            if include_subgroups { "true" } else { "false" },
        ),
        ("with_shared", "false"),
        ("archived", "false"),
    ];
    let projects: Vec<GroupProject> = client
        .get_all_with(
            &["groups", group, "projects"],
            &query,
            GROUP_MEMBER,
            &format!("group {group}"),
        )
        .await?;
    Ok(projects
        .into_iter()
        .filter(|project| !project.archived)
        .map(|project| project.path_with_namespace)
        .collect())
}

/// `GET /admin/ci/variables`: the instance's variables, the lowest-precedence set.
pub async fn instance_variables(client: &Client) -> Result<VariableSet, Error> {
    let variables = client
        .get_all(
            &["admin", "ci", "variables"],
            ADMINISTRATOR,
            "instance variables",
        )
        .await?;
    Ok(VariableSet {
        level: Level::Instance,
        owner: String::new(),
        variables,
    })
}

/// Each group's variables, by full path, read at most once however many projects ask.
#[derive(Debug, Default)]
pub struct GroupVariables {
    groups: Mutex<HashMap<String, Arc<OnceCell<Vec<Variable>>>>>,
}

impl GroupVariables {
    /// The variables of `group` (a full path): read on the first call, copied after.
    pub async fn get(&self, client: &Client, group: &str) -> Result<VariableSet, Error> {
        let cell = {
            let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(groups.entry(group.to_owned()).or_default())
        };
        let variables = cell
            .get_or_try_init(|| async {
                client
                    .get_all(
                        &["groups", group, "variables"],
                        GROUP_OWNER,
                        &format!("group {group}"),
                    )
                    .await
            })
            .await?;
        Ok(VariableSet {
            level: Level::Group,
            owner: group.to_owned(),
            variables: variables.clone(),
        })
    }
}
