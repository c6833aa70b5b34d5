//! Protected branches and protected environments of a project (FACTS §5): reading them, and
//! the changes `init --apply` makes: protecting a branch so that no one pushes and Maintainers
//! merge (`POST /projects/:id/protected_branches`), forbidding force pushes on a rule and
//! requiring code-owner approval (`PATCH /projects/:id/protected_branches/:name`), and protecting an environment for
//! Maintainers (`POST /projects/:id/protected_environments`, Premium).

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::client::PROJECT_MAINTAINER;
use super::client::{Client, Error};
use crate::gitlab::types::{NO_ONE, ProtectedBranch, ProtectedEnvironment};

/// The Maintainer role's access level.
pub const MAINTAINER: u32 = 40;

/// `GET /projects/:id` as far as the default branch goes.
#[derive(Debug, Deserialize)]
struct DefaultBranch {
    #[serde(default)]
    default_branch: Option<String>,
}

/// The project's default branch (`None` in an empty repository).
pub async fn default_branch(client: &Client, project: &str) -> Result<Option<String>, Error> {
    let info: DefaultBranch = client
        .get(
            &["projects", project],
            PROJECT_MAINTAINER,
            &format!("project {project}"),
        )
        .await?;
    Ok(info.default_branch.filter(|name| !name.is_empty()))
}

/// `GET /projects/:id/protected_branches`, every page.
pub async fn protected_branches(
    client: &Client,
    project: &str,
) -> Result<Vec<ProtectedBranch>, Error> {
    list(client, project, "protected_branches").await
}

/// `GET /projects/:id/protected_environments`, every page; see [`needs_premium`](super::needs_premium) for its
/// errors on GitLab Free.
pub async fn protected_environments(
    client: &Client,
    project: &str,
) -> Result<Vec<ProtectedEnvironment>, Error> {
    list(client, project, "protected_environments").await
}

/// `POST /projects/:id/protected_branches`: `name` protected, push by no one (every change
/// through a merge request), merge by Maintainers, no force push, code-owner approval required
/// (Premium; GitLab Free ignores it).
pub async fn protect_branch(client: &Client, project: &str, name: &str) -> Result<(), Error> {
    let body = json!({
        "name": name,
        "push_access_level": NO_ONE,
        "merge_access_level": MAINTAINER,
        "allow_force_push": false,
        "code_owner_approval_required": true,
    });
    client
        .change(
            Method::POST,
            &["projects", project, "protected_branches"],
            &body,
            &format!("project {project}"),
        )
        .await
}

/// `PATCH /projects/:id/protected_branches/:name` with `allow_force_push: false`.
pub async fn forbid_force_push(client: &Client, project: &str, name: &str) -> Result<(), Error> {
    patch_branch(client, project, name, json!({ "allow_force_push": false })).await
}

/// `PATCH /projects/:id/protected_branches/:name` with `code_owner_approval_required: true`
/// (Premium).
pub async fn require_code_owner_approval(
    client: &Client,
    project: &str,
    name: &str,
) -> Result<(), Error> {
    let body = json!({ "code_owner_approval_required": true });
    patch_branch(client, project, name, body).await
}

async fn patch_branch(
    client: &Client,
    project: &str,
    name: &str,
    body: serde_json::Value,
) -> Result<(), Error> {
    let what = format!("protected branch {name} of project {project}");
    let segments = ["projects", project, "protected_branches", name];
    client.change(Method::PATCH, &segments, &body, &what).await
}

/// `POST /projects/:id/protected_environments`: `name` deployable by Maintainers only.
pub async fn protect_environment(client: &Client, project: &str, name: &str) -> Result<(), Error> {
    let body = json!({
        "name": name,
        "deploy_access_levels": [{ "access_level": MAINTAINER }],
    });
    let what = format!("project {project} (protected environments need GitLab Premium)");
    let segments = ["projects", project, "protected_environments"];
    client.change(Method::POST, &segments, &body, &what).await
}

/// `GET /projects/:id/<resource>`, every page.
async fn list<T: serde::de::DeserializeOwned>(
    client: &Client,
    project: &str,
    resource: &str,
) -> Result<Vec<T>, Error> {
    client
        .get_all(
            &["projects", project, resource],
            PROJECT_MAINTAINER,
            &format!("project {project}"),
        )
        .await
}
