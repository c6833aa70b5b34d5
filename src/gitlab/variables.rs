//! Project variables: listing them (every page), creating one (`POST /projects/:id/variables`,
//! FACTS §1.3) and changing one (`PUT /projects/:id/variables/:key`, addressed with
//! `filter[environment_scope]` (FACTS §1.4) so the right one of a duplicated key is changed).
//! A value is sent only when the caller gives one, and never appears in an error.

use reqwest::Method;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use super::client::{Client, Error, PROJECT_MAINTAINER, PROJECT_MAINTAINER_API};
use crate::gitlab::types::{NewVariable, Variable};
use crate::secret::Secret;

/// The request body that creates `variable` (it holds the value: never print it).
fn new_variable_body(variable: &NewVariable) -> Value {
    serde_json::json!({
        "key": variable.key,
        "value": variable.value.expose(),
        "variable_type": if variable.file { "file" } else { "env_var" },
        "environment_scope": variable.environment_scope,
        "protected": variable.protected,
        "masked_and_hidden": variable.masked_and_hidden,
        "raw": variable.raw,
    })
}

/// `GET /projects/:id/variables`, every page.
pub async fn project_variables(client: &Client, project: &str) -> Result<Vec<Variable>, Error> {
    client
        .get_all(
            &["projects", project, "variables"],
            PROJECT_MAINTAINER,
            &format!("project {project}"),
        )
        .await
}

/// `POST /projects/:id/variables`: creates `variable`.
pub async fn create_project_variable(
    client: &Client,
    project: &str,
    variable: &NewVariable,
) -> Result<(), Error> {
    let segments = ["projects", project, "variables"];
    let what = format!("project {project}");
    client
        .change(Method::POST, &segments, &new_variable_body(variable), &what)
        .await
}

/// Sets each of `fields` (e.g. `("protected", true)`) on the variable `key` of `project` in
/// `scope`, keeping the scope, and its value to `value` when given; nothing else is sent.
pub async fn update_project_variable(
    client: &Client,
    project: &str,
    key: &str,
    scope: &str,
    fields: &[(&str, Value)],
    value: Option<&Secret<String>>,
) -> Result<(), Error> {
    let mut body: Map<String, Value> = fields
        .iter()
        .map(|(field, set)| ((*field).to_owned(), set.clone()))
        .collect();
    if let Some(value) = value {
        body.insert("value".to_owned(), Value::from(value.expose().as_str()));
    }
    body.insert("environment_scope".to_owned(), Value::from(scope));
    client
        .send_json::<IgnoredAny>(
            Method::PUT,
            &["projects", project, "variables", key],
            &[("filter[environment_scope]", scope)],
            &Value::Object(body),
            PROJECT_MAINTAINER_API,
            &format!("variable {key} (environment {scope}) of project {project}"),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_variable_asks_for_masked_and_hidden_and_its_type() {
        let variable = NewVariable {
            key: "TAP_PASSWORD".to_owned(),
            environment_scope: "production".to_owned(),
            protected: true,
            masked_and_hidden: true,
            file: true,
            raw: true,
            value: Secret::new("s3cret-value".to_owned()),
        };
        let body = new_variable_body(&variable);
        assert_eq!(body["variable_type"], "file");
        assert_eq!(body["masked_and_hidden"], true);
        assert_eq!(body["value"], "s3cret-value");
        assert!(!format!("{variable:?}").contains("s3cret"));
    }
}
