//! What the audit of one project reads: the project (settings and namespace), the variables of
//! each ancestor group from the top down, the project's variables, and its protected branches,
//! tags and environments; the variables alone for `scan --gitlab`.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::client::{Client, Error, PROJECT_MAINTAINER, needs_premium};
use super::group::GroupVariables;
use super::reviews::fetch_reviews;

use crate::gitlab::types::{AuditData, Level, ProjectSettings, ProtectedBranch, VariableSet};

/// `GET /projects/:id`: the settings, plus where the project lives.
#[derive(Debug, Deserialize)]
struct Project {
    path_with_namespace: String,
    namespace: Namespace,
    #[serde(flatten)]
    settings: ProjectSettings,
}

/// The project's namespace: a group (whose ancestors' variables reach it too) or a user.
#[derive(Debug, Deserialize)]
struct Namespace {
    kind: String,
    full_path: String,
}

/// Reads everything one audit of `project` (an ID or a full path) looks at; ancestor groups'
/// variables come from `groups`, which reads each group once.
pub async fn fetch_project(
    client: &Client,
    groups: &GroupVariables,
    project: &str,
) -> Result<AuditData, Error> {
    let what = format!("project {project}");
    let info: Project = client
        .get(&["projects", project], PROJECT_MAINTAINER, &what)
        .await?;
    // Premium: a 403 or 404 means "unknown", not a failure.
    let protected_environments = async {
        match list(client, project, "protected_environments", &what).await {
            Ok(environments) => Ok(Some(environments)),
            Err(err) if needs_premium(&err) => Ok(None),
            Err(err) => Err(err),
        }
    };
    // The reviews need the protected branches (whether code owners must approve).
    let branches_and_reviews = async {
        let branches: Vec<ProtectedBranch> =
            list(client, project, "protected_branches", &what).await?;
        let reviews = fetch_reviews(client, project, &info.settings, &branches).await?;
        Ok((branches, reviews))
    };
    // Independent reads go out together: a project costs the latency of its longest chain,
    // not of every request.
    let (variable_sets, protected_tags, protected_environments, (protected_branches, reviews)) = tokio::try_join!(
        reaching_variables(client, groups, project, &info),
        list(client, project, "protected_tags", &what),
        protected_environments,
        branches_and_reviews,
    )?;
    Ok(AuditData {
        project: info.path_with_namespace,
        variable_sets,
        settings: Some(info.settings),
        protected_branches: Some(protected_branches),
        protected_tags: Some(protected_tags),
        protected_environments,
        reviews: Some(reviews),
    })
}

/// The project's full path and the variables that reach its jobs: each ancestor group's from the
/// top down, then its own (what `scan --gitlab` looks for in its logs).
pub async fn project_variables_reaching(
    client: &Client,
    groups: &GroupVariables,
    project: &str,
) -> Result<(String, Vec<VariableSet>), Error> {
    let info: Project = client
        .get(
            &["projects", project],
            PROJECT_MAINTAINER,
            &format!("project {project}"),
        )
        .await?;
    let sets = reaching_variables(client, groups, project, &info).await?;
    Ok((info.path_with_namespace, sets))
}

async fn reaching_variables(
    client: &Client,
    groups: &GroupVariables,
    project: &str,
    info: &Project,
) -> Result<Vec<VariableSet>, Error> {
    let mut variable_sets = Vec::new();
    if info.namespace.kind == "group" {
        for group in ancestors(&info.namespace.full_path) {
            variable_sets.push(groups.get(client, group).await?);
        }
    }
    let what = format!("project {project}");
    variable_sets.push(VariableSet {
        level: Level::Project,
        owner: info.path_with_namespace.clone(),
        variables: list(client, project, "variables", &what).await?,
    });
    Ok(variable_sets)
}

/// `GET /projects/:id/<resource>`, every page.
async fn list<T: DeserializeOwned>(
    client: &Client,
    project: &str,
    resource: &str,
    what: &str,
) -> Result<Vec<T>, Error> {
    client
        .get_all(&["projects", project, resource], PROJECT_MAINTAINER, what)
        .await
}

/// `a`, `a/b`, `a/b/c` for `a/b/c`: every group from the top down.
fn ancestors(full_path: &str) -> impl Iterator<Item = &str> {
    full_path
        .match_indices('/')
        .map(|(at, _)| &full_path[..at])
        .chain(std::iter::once(full_path))
        .filter(|path| !path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_go_from_the_top_down() {
        assert_eq!(
            ancestors("data/platform/elt").collect::<Vec<_>>(),
            ["data", "data/platform", "data/platform/elt"]
        );
        assert_eq!(ancestors("data").collect::<Vec<_>>(), ["data"]);
    }

    #[test]
    fn a_project_body_gives_settings_and_namespace() {
        let body = r#"{"path_with_namespace":"data/elt","namespace":{"kind":"group",
            "full_path":"data"},"public_jobs":false,"visibility":"private"}"#;
        let project: Project = serde_json::from_str(body).expect("project");
        assert_eq!(project.namespace.full_path, "data");
        assert_eq!(project.settings.public_jobs, Some(false));
        assert_eq!(
            project
                .settings
                .ci_allow_fork_pipelines_to_run_in_parent_project,
            None
        );
    }
}
