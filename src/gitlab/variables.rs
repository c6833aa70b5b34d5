//! Changing a project variable's flags: `PUT /projects/:id/variables/:key`, addressed with
//! `filter[environment_scope]` (FACTS §1.4) so the right one of a duplicated key is changed, and
//! never sending a value.

use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use super::client::{Client, Error};

/// What a 403 on a variable update lacks.
const PROJECT_MAINTAINER_API: &str = "the Maintainer role on the project and a token with the \
                                      api scope (read_api cannot change variables)";

/// Sets each of `flags` (e.g. `("protected", true)`) on the variable `key` of `project` in
/// `scope`, keeping the scope; nothing else is sent.
pub async fn update_project_variable(
    client: &Client,
    project: &str,
    key: &str,
    scope: &str,
    flags: &[(&str, bool)],
) -> Result<(), Error> {
    let mut body: Map<String, Value> = flags
        .iter()
        .map(|(flag, on)| ((*flag).to_owned(), Value::Bool(*on)))
        .collect();
    body.insert("environment_scope".to_owned(), Value::from(scope));
    client
        .put_json::<IgnoredAny>(
            &["projects", project, "variables", key],
            &[("filter[environment_scope]", scope)],
            &Value::Object(body),
            PROJECT_MAINTAINER_API,
            &format!("variable {key} (environment {scope}) of project {project}"),
        )
        .await?;
    Ok(())
}
