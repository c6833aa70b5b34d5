//! `static-cloud-credential`: a long-lived cloud key (AWS access key, GCP service-account key,
//! Azure client secret) stored as a variable, where GitLab's OIDC `id_tokens` could replace it.

use super::{Assessed, Context};
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "static-cloud-credential",
    severity: Severity::Low,
    confidence: Confidence::Medium,
    summary: "A long-lived cloud key is stored as a CI/CD variable",
    why: "A static cloud key works from anywhere until someone rotates it: once it leaks from a job log, an artifact or a fork, it keeps working. GitLab can give each job a short-lived OIDC token (`id_tokens:`) that the cloud exchanges for credentials bound to the project, the protected ref and the environment, so nothing long-lived is stored.",
    fix: "AWS: an IAM role trusting GitLab's OIDC provider, assumed with `aws sts assume-role-with-web-identity` (or `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`). GCP: Workload Identity Federation with a GitLab provider. Azure: a federated credential on the app registration. Give the job `id_tokens:` with an `aud` of its own, bind the role to `project_path`, `ref_protected` and `environment`, then delete the variable. `ciguard init --secrets` writes such jobs.",
};

/// Which cloud's static key `variable` holds, if it holds one.
fn cloud_key(variable: &Assessed<'_>) -> Option<&'static str> {
    let key = variable.variable.key.to_ascii_uppercase();
    let value = variable.value().unwrap_or_default();
    if key.ends_with("AWS_SECRET_ACCESS_KEY")
        || (key.ends_with("AWS_ACCESS_KEY_ID") && !value.starts_with("ASIA"))
        || (value.len() == 20 && value.starts_with("AKIA"))
    {
        return Some("an AWS access key");
    }
    if value.contains("\"service_account\"") && value.contains("\"private_key\"") {
        return Some("a GCP service-account key");
    }
    if ["AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET"]
        .iter()
        .any(|name| key.ends_with(name))
    {
        return Some("an Azure client secret");
    }
    None
}

/// Reports each variable holding a static cloud key.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for variable in &cx.variables {
        if let Some(what) = cloud_key(variable) {
            out.push(variable.finding(
                &RULE,
                format!(
                    "{} holds {what}: a short-lived OIDC token (`id_tokens:`) can replace it",
                    variable.name()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{plain, project, run, variable};

    #[test]
    fn fires_for_aws_gcp_and_azure_keys() {
        let data = project(vec![
            variable("AWS_SECRET_ACCESS_KEY", None),
            plain("DEPLOY_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            variable(
                "GCP_SA",
                Some(r#"{"type": "service_account", "private_key": "-----BEGIN"}"#),
            ),
            variable("ARM_CLIENT_SECRET", Some("abc~def")),
        ]);
        let found = run(check, &data);
        assert_eq!(found.len(), 4);
        assert!(found.iter().all(|f| !f.message.contains("AKIAIOSFODNN7EXAMPLE")));
    }

    #[test]
    fn quiet_for_other_credentials_and_temporary_keys() {
        let data = project(vec![
            variable("DB_PASSWORD", Some("correct-horse-battery")),
            plain("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE"),
            plain("AWS_REGION", "eu-west-1"),
        ]);
        assert!(run(check, &data).is_empty());
    }
}
