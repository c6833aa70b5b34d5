//! External secrets for `ciguard init --secrets`: production jobs fetch their credentials with
//! GitLab's `secrets:` keyword, authenticated by an OIDC token of their own (`id_tokens:`), so
//! production credentials are not CI/CD variables at all. For each store: the YAML of one secret,
//! the ID token and its audience, the (non-secret) CI/CD variables GitLab's integration reads,
//! and the claims the store must bind its role to.

use super::emit::{boolean, map, string};
use crate::yaml::Node;

/// The audience of the production jobs' ID token: no other relying party accepts it.
pub const AUDIENCE: &str = "ciguard-elt-production";

/// A secret store GitLab's `secrets:` keyword can fetch from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// HashiCorp Vault (KV v2), JWT authentication.
    Vault,
    /// Google Cloud Secret Manager, Workload Identity Federation.
    GcpSecretManager,
    /// AWS Secrets Manager, an IAM role assumed with web identity.
    AwsSecretsManager,
    /// Azure Key Vault, a federated credential.
    AzureKeyVault,
    /// GitLab's own secrets manager (no ID token: GitLab authenticates the job).
    Gitlab,
}

/// One production credential as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSecret {
    /// The variable the job gets: the name Meltano (or the command) reads.
    pub variable: String,
    /// Delivered as a file whose path the variable holds (a key file), else as the value.
    pub file: bool,
}

impl Provider {
    /// Its name on the command line and in the plan.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Vault => "HashiCorp Vault",
            Provider::GcpSecretManager => "Google Cloud Secret Manager",
            Provider::AwsSecretsManager => "AWS Secrets Manager",
            Provider::AzureKeyVault => "Azure Key Vault",
            Provider::Gitlab => "GitLab secrets manager",
        }
    }

    /// The ID token the job authenticates with: its variable and audience (`None`: GitLab
    /// authenticates the job itself).
    pub fn id_token(self) -> Option<(&'static str, &'static str)> {
        match self {
            Provider::Vault => Some(("VAULT_ID_TOKEN", AUDIENCE)),
            // Workload Identity Federation checks the audience against the provider's resource
            // name unless allowed audiences are set on it: the plan says to set ours.
            Provider::GcpSecretManager => Some(("GCP_ID_TOKEN", AUDIENCE)),
            Provider::AwsSecretsManager => Some(("AWS_ID_TOKEN", AUDIENCE)),
            Provider::AzureKeyVault => Some(("AZURE_ID_TOKEN", AUDIENCE)),
            Provider::Gitlab => None,
        }
    }

    /// Where the store keeps `secret`, as the plan names it.
    pub fn path(self, secret: &ExternalSecret) -> String {
        let slug = secret.variable.to_ascii_lowercase().replace('_', "-");
        match self {
            Provider::Vault => format!("secret/data/elt/production, field {}", secret.variable),
            Provider::GcpSecretManager | Provider::AzureKeyVault => {
                format!("elt-production-{slug}")
            }
            Provider::AwsSecretsManager => {
                format!("elt/production, JSON key {}", secret.variable)
            }
            Provider::Gitlab => secret.variable.clone(),
        }
    }

    /// The `secrets:` entry of `secret`.
    pub fn entry(self, secret: &ExternalSecret) -> Node {
        let slug = format!(
            "elt-production-{}",
            secret.variable.to_ascii_lowercase().replace('_', "-")
        );
        let store = match self {
            Provider::Vault => (
                "vault",
                string(&format!("elt/production/{}@secret", secret.variable)),
            ),
            Provider::GcpSecretManager => (
                "gcp_secret_manager",
                map(vec![("name", string(&slug)), ("version", string("latest"))]),
            ),
            Provider::AwsSecretsManager => (
                "aws_secrets_manager",
                map(vec![
                    ("secret_id", string("elt/production")),
                    ("field", string(&secret.variable)),
                ]),
            ),
            Provider::AzureKeyVault => ("azure_key_vault", map(vec![("name", string(&slug))])),
            Provider::Gitlab => (
                "gitlab_secrets_manager",
                map(vec![("name", string(&secret.variable))]),
            ),
        };
        let mut entry = vec![store];
        if let Some((token, _)) = self.id_token() {
            entry.push(("token", string(&format!("${token}"))));
        }
        entry.push(("file", boolean(secret.file)));
        map(entry)
    }

    /// The CI/CD variables (not secret) GitLab's integration reads, each with what it holds.
    pub fn settings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Provider::Vault => &[
                (
                    "VAULT_SERVER_URL",
                    "the Vault server, e.g. https://vault.example.com",
                ),
                ("VAULT_AUTH_ROLE", "the JWT role bound to the claims below"),
                (
                    "VAULT_AUTH_PATH",
                    "where the JWT auth method is mounted (default jwt)",
                ),
            ],
            Provider::GcpSecretManager => &[
                ("GCP_PROJECT_NUMBER", "the Google Cloud project's number"),
                (
                    "GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID",
                    "the workload identity pool",
                ),
                (
                    "GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID",
                    "the pool's OIDC provider for this GitLab",
                ),
            ],
            Provider::AwsSecretsManager => &[
                ("AWS_REGION", "the region of the secret"),
                (
                    "AWS_ROLE_ARN",
                    "the IAM role the job assumes with its ID token",
                ),
            ],
            Provider::AzureKeyVault => &[
                (
                    "AZURE_KEY_VAULT_SERVER_URL",
                    "the key vault, e.g. https://x.vault.azure.net",
                ),
                (
                    "AZURE_CLIENT_ID",
                    "the app registration with the federated credential",
                ),
                ("AZURE_TENANT_ID", "its tenant"),
            ],
            Provider::Gitlab => &[],
        }
    }

    /// How the store's role is bound to the production job, for the plan.
    pub fn binding(self) -> &'static str {
        match self {
            Provider::Vault => {
                "a JWT auth role (`bound_issuer` this GitLab, `bound_audiences` the audience \
                 above, `bound_claims` as below, `token_policies` reading only \
                 `secret/data/elt/production`)"
            }
            Provider::GcpSecretManager => {
                "a workload identity pool provider for this GitLab (issuer its URL, allowed \
                 audiences the audience above, an attribute condition on the claims below) \
                 whose principal has `roles/secretmanager.secretAccessor` on these secrets only"
            }
            Provider::AwsSecretsManager => {
                "an IAM role trusting this GitLab's OIDC provider (audience the one above, \
                 `StringEquals` conditions on the claims below) allowed \
                 `secretsmanager:GetSecretValue` on `elt/production` only"
            }
            Provider::AzureKeyVault => {
                "a federated credential on the app registration (issuer this GitLab, audience \
                 the one above, subject `project_path:<group>/<project>:ref_type:branch:ref:\
                 <default branch>`) and a Key Vault Secrets User role on these secrets only"
            }
            Provider::Gitlab => {
                "the project's secrets, each limited to the default branch (protected) and the \
                 production environment"
            }
        }
    }
}

/// The `id_tokens:` and `secrets:` keys a production job gets for `secrets`.
pub fn job_keys(provider: Provider, secrets: &[ExternalSecret]) -> Vec<(&'static str, Node)> {
    let mut keys = Vec::new();
    if let Some((token, audience)) = provider.id_token() {
        keys.push((
            "id_tokens",
            map(vec![(token, map(vec![("aud", string(audience))]))]),
        ));
    }
    let entries: Vec<(&str, Node)> = secrets
        .iter()
        .map(|secret| (secret.variable.as_str(), provider.entry(secret)))
        .collect();
    keys.push(("secrets", map(entries)));
    keys
}
