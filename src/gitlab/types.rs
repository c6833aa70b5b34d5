//! What an audit reads, as the GitLab REST API returns it (`gitlab/FACTS.md` §1, §4, §5): the
//! API client deserializes responses straight into these types. A field some levels or versions
//! do not send is an `Option` (`None`: unknown, never false); a variable's value is a [`Secret`].

use serde::{Deserialize, Deserializer};

use crate::secret::Secret;

/// Everything one audit of a project looks at. Only the variables are required; what was not
/// read (offline audits, a 403/404 on a Premium endpoint) is `None` and its checks stay quiet.
#[derive(Debug, Clone)]
pub struct AuditData {
    /// The project's path, e.g. `data/warehouse-elt`.
    pub project: String,
    /// The variables that reach the project, lowest precedence first: instance, then each
    /// ancestor group from the top down, then the project.
    pub variable_sets: Vec<VariableSet>,
    /// `GET /projects/:id` (its CI/CD fields need Maintainer).
    pub settings: Option<ProjectSettings>,
    /// `GET /projects/:id/protected_branches`.
    pub protected_branches: Option<Vec<ProtectedBranch>>,
    /// `GET /projects/:id/protected_tags`.
    pub protected_tags: Option<Vec<ProtectedTag>>,
    /// `GET /projects/:id/protected_environments` (Premium; unknown on a 403/404).
    pub protected_environments: Option<Vec<ProtectedEnvironment>>,
    /// What tells whether code is reviewed before it runs (`None`: not read, as offline).
    pub reviews: Option<Reviews>,
}

/// Something the API was asked for and did not give, with why (the tier lacks it, the role
/// cannot see it): the checks that need it say they could not judge, never that all is well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

/// What was read to tell whether code is reviewed before it runs with protected credentials.
#[derive(Debug, Clone)]
pub struct Reviews {
    /// `GET /projects/:id/approvals` (Premium).
    pub approvals: Result<ApprovalSettings, Unavailable>,
    /// `GET /projects/:id/approval_rules` (Premium).
    pub approval_rules: Result<Vec<ApprovalRule>, Unavailable>,
    /// `GET /projects/:id/job_token_scope`.
    pub job_token_scope: Result<JobTokenScope, Unavailable>,
    /// The default branch's files that say who reviews what.
    pub files: Result<ReviewedFiles, Unavailable>,
}

/// `GET /projects/:id/approvals`: the project's merge request approval settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApprovalSettings {
    /// The legacy single count of approvals required.
    #[serde(default)]
    pub approvals_before_merge: Option<u32>,
    /// Approvals are removed when a commit is pushed to the merge request.
    #[serde(default)]
    pub reset_approvals_on_push: Option<bool>,
    /// The author may approve their own merge request.
    #[serde(default)]
    pub merge_requests_author_approval: Option<bool>,
    /// Committers may not approve a merge request they committed to.
    #[serde(default)]
    pub merge_requests_disable_committers_approval: Option<bool>,
}

/// One project-level approval rule (`GET /projects/:id/approval_rules`).
#[derive(Debug, Clone, Deserialize)]
pub struct ApprovalRule {
    /// E.g. `All Members`, `Code Owners`.
    pub name: String,
    /// `regular`, `any_approver`, `code_owner`, `report_approver`.
    #[serde(default)]
    pub rule_type: Option<String>,
    /// Approvals needed.
    #[serde(default)]
    pub approvals_required: u32,
    /// Applies to every protected branch.
    #[serde(default)]
    pub applies_to_all_protected_branches: Option<bool>,
    /// The protected branches it applies to (empty: every branch).
    #[serde(default)]
    pub protected_branches: Vec<NamedBranch>,
}

/// A protected branch as an approval rule names it.
#[derive(Debug, Clone, Deserialize)]
pub struct NamedBranch {
    /// The rule's name (may hold `*`).
    pub name: String,
}

/// `GET /projects/:id/job_token_scope`.
#[derive(Debug, Clone, Deserialize)]
pub struct JobTokenScope {
    /// Only allowlisted projects' job tokens may reach this project.
    pub inbound_enabled: bool,
}

/// Where GitLab looks for `CODEOWNERS`, in its order: the first found is used.
pub const CODE_OWNERS_PATHS: [&str; 3] = ["CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"];

/// The CI configuration file when `ci_config_path` is empty.
pub const DEFAULT_CI_CONFIG: &str = ".gitlab-ci.yml";

/// The default branch's files that say who must review a change to the pipeline.
#[derive(Debug, Clone, Default)]
pub struct ReviewedFiles {
    /// The first of `CODEOWNERS`, `docs/CODEOWNERS`, `.gitlab/CODEOWNERS`: its path and text.
    pub code_owners: Option<(String, String)>,
    /// The CI configuration file (`ci_config_path`, default `.gitlab-ci.yml`) and its text,
    /// when it is in the repository.
    pub ci_config: Option<(String, String)>,
    /// Whether `meltano.yml` is at the repository root.
    pub meltano: bool,
}

/// The variables of one instance, group or project.
#[derive(Debug, Clone)]
pub struct VariableSet {
    /// Which level they were defined at.
    pub level: Level,
    /// The group or project path (empty for the instance).
    pub owner: String,
    /// As listed by the API.
    pub variables: Vec<Variable>,
}

/// Where GitLab keeps a variable: a project inherits those of its ancestor groups and of the
/// instance, and its own override them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Instance-wide (Admin > CI/CD > Variables).
    Instance,
    /// A group, inherited by its subgroups and projects.
    Group,
    /// The project itself.
    Project,
}

/// A variable to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVariable {
    /// Its key.
    pub key: String,
    /// Its environment scope (`*`: every environment).
    pub environment_scope: String,
    /// Passed only to jobs on protected refs.
    pub protected: bool,
    /// Created masked and hidden (`masked_and_hidden`); otherwise neither.
    pub masked_and_hidden: bool,
    /// A file-type variable (`variable_type` `file`), else `env_var`.
    pub file: bool,
    /// Not expanded (`raw`).
    pub raw: bool,
    /// The value.
    pub value: Secret<String>,
}

/// A CI/CD variable (`API::Entities::Ci::Variable`).
#[derive(Debug, Clone, Deserialize)]
pub struct Variable {
    /// The key (`\A[a-zA-Z0-9_]+\z`).
    pub key: String,
    /// The value; `None` when the variable is hidden (the API returns `null`).
    #[serde(deserialize_with = "secret_value")]
    pub value: Option<Secret<String>>,
    /// `env_var` (default) or `file`.
    #[serde(default)]
    pub variable_type: VariableType,
    /// Passed only to jobs on protected refs.
    pub protected: bool,
    /// Replaced by `[MASKED]` in job logs.
    pub masked: bool,
    /// Not readable by anyone after creation; absent on instance variables and before 17.4.
    #[serde(default)]
    pub hidden: Option<bool>,
    /// `$` references are kept literally (not expanded).
    #[serde(default)]
    pub raw: bool,
    /// Which environments get it (`*`: all); absent on instance variables.
    #[serde(default)]
    pub environment_scope: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// How a variable reaches the job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableType {
    /// An environment variable holding the value.
    #[default]
    EnvVar,
    /// A file holding the value; the environment variable holds its path.
    File,
}

/// A value as a [`Secret`]; a value of the wrong type is refused without quoting it.
fn secret_value<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Secret<String>>, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(value) => Ok(Some(Secret::new(value))),
        serde_json::Value::Null => Ok(None),
        _ => Err(serde::de::Error::custom(
            "a variable's `value` must be a string or null",
        )),
    }
}

/// Project visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everyone, signed in or not.
    Public,
    /// Every signed-in, non-external user.
    Internal,
    /// Members only.
    Private,
}

/// `ci_pipeline_variables_minimum_override_role`: who may pass pipeline variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideRole {
    /// Developers and up.
    Developer,
    /// Maintainers and up.
    Maintainer,
    /// Owners only.
    Owner,
    /// Nobody.
    NoOneAllowed,
}

/// The fields of `GET /projects/:id` that matter for secrets (FACTS §4). Each is `None` when
/// the response lacks it (the CI/CD fields need Maintainer, some need a recent GitLab).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectSettings {
    /// E.g. `main`.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// Public, internal or private.
    #[serde(default)]
    pub visibility: Option<Visibility>,
    /// "Public pipelines": job logs visible beyond members with Reporter.
    #[serde(default)]
    pub public_jobs: Option<bool>,
    /// Who may pass pipeline variables (17.1).
    #[serde(default)]
    pub ci_pipeline_variables_minimum_override_role: Option<OverrideRole>,
    /// The older switch (true: only Maintainers may pass pipeline variables).
    #[serde(default)]
    pub restrict_user_defined_variables: Option<bool>,
    /// Parent members may run fork merge request pipelines in the parent, with its variables.
    #[serde(default)]
    pub ci_allow_fork_pipelines_to_run_in_parent_project: Option<bool>,
    /// Merge-request pipelines between protected branches get protected variables (18.1).
    #[serde(default)]
    pub protect_merge_request_pipelines: Option<bool>,
    /// Where the CI configuration is (`path`, `path@group/project`, a URL; empty: default).
    #[serde(default)]
    pub ci_config_path: Option<String>,
}

/// One protected branch rule (its name may hold `*` wildcards).
#[derive(Debug, Clone, Deserialize)]
pub struct ProtectedBranch {
    /// A branch name or a wildcard such as `release/*`.
    pub name: String,
    /// Who may push.
    #[serde(default)]
    pub push_access_levels: Vec<AccessLevel>,
    /// Who may merge.
    #[serde(default)]
    pub merge_access_levels: Vec<AccessLevel>,
    /// Whether Maintainers may force push (`None`: not in the answer).
    #[serde(default)]
    pub allow_force_push: Option<bool>,
    /// Code-owner approval required to merge (Premium; `None`: not in the answer).
    #[serde(default)]
    pub code_owner_approval_required: Option<bool>,
}

impl ProtectedBranch {
    /// The rule GitLab applies to `branch`: its exact name, else the first wildcard rule that
    /// matches it.
    pub fn rule_for<'a>(rules: &'a [ProtectedBranch], branch: &str) -> Option<&'a Self> {
        rules.iter().find(|rule| rule.name == branch).or_else(|| {
            rules
                .iter()
                .find(|rule| crate::credentials::wildcard_matches(&rule.name, branch))
        })
    }
}

/// One protected tag rule.
#[derive(Debug, Clone, Deserialize)]
pub struct ProtectedTag {
    /// A tag name or a wildcard such as `v*`.
    pub name: String,
    /// Who may create matching tags.
    #[serde(default)]
    pub create_access_levels: Vec<AccessLevel>,
}

/// One protected environment.
#[derive(Debug, Clone, Deserialize)]
pub struct ProtectedEnvironment {
    /// The environment name (or, at group level, the deployment tier).
    pub name: String,
    /// Who may deploy to it.
    #[serde(default)]
    pub deploy_access_levels: Vec<AccessLevel>,
}

/// An entry of an access-level list: a role, a user, a group or a deploy key.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccessLevel {
    /// 0 no one, 30 Developer, 40 Maintainer, 60 Admin; `None` for a user or group entry.
    #[serde(default)]
    pub access_level: Option<u32>,
    /// E.g. `Developers + Maintainers`.
    #[serde(default)]
    pub access_level_description: Option<String>,
    /// A single user allowed.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// A group allowed (Premium).
    #[serde(default)]
    pub group_id: Option<u64>,
    /// A deploy key allowed to push.
    #[serde(default)]
    pub deploy_key_id: Option<u64>,
}

/// The Developer role's access level.
pub const DEVELOPER: u32 = 30;

/// The access level of "No one".
pub const NO_ONE: u32 = 0;

impl AccessLevel {
    /// Whether this entry lets anyone in: a role above "No one", a user, a group or a deploy
    /// key.
    pub fn lets_someone_in(&self) -> bool {
        self.access_level != Some(NO_ONE) || self.deploy_key_id.is_some()
    }

    /// Whether this entry lets every Developer of the project in.
    pub fn admits_developers(&self) -> bool {
        self.user_id.is_none()
            && self.group_id.is_none()
            && self.deploy_key_id.is_none()
            && self
                .access_level
                .is_some_and(|level| level > 0 && level <= DEVELOPER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/external/gitlab-api"
    );

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("a GitLab API fixture")
    }

    #[test]
    fn real_api_bodies_deserialize() {
        let project: Vec<Variable> =
            serde_json::from_str(&fixture("project_variables_list.json")).expect("project");
        assert_eq!(project.len(), 4);
        let hidden = &project[2];
        assert!(hidden.value.is_none() && hidden.hidden == Some(true));
        assert_eq!(project[3].variable_type, VariableType::File);
        assert_eq!(format!("{:?}", project[0].value), "Some(****)");

        let instance: Vec<Variable> =
            serde_json::from_str(&fixture("instance_variables_list.json")).expect("instance");
        assert!(instance.iter().all(|v| v.hidden.is_none()));
        assert!(instance.iter().all(|v| v.environment_scope.is_none()));

        let settings: ProjectSettings =
            serde_json::from_str(&fixture("project_security_relevant_fields.json"))
                .expect("settings");
        assert_eq!(settings.public_jobs, Some(true));
        assert_eq!(
            settings.ci_pipeline_variables_minimum_override_role,
            Some(OverrideRole::Maintainer)
        );
        assert_eq!(settings.visibility, Some(Visibility::Private));

        let branches: Vec<ProtectedBranch> =
            serde_json::from_str(&fixture("protected_branches_list.json")).expect("branches");
        assert!(!branches[0].push_access_levels[0].admits_developers());
        assert!(!branches[1].push_access_levels[0].admits_developers());
        let tags: Vec<ProtectedTag> =
            serde_json::from_str(&fixture("protected_tags_list.json")).expect("tags");
        assert_eq!(tags[0].name, "v*");
        let environments: Vec<ProtectedEnvironment> =
            serde_json::from_str(&fixture("protected_environments_list.json"))
                .expect("environments");
        assert_eq!(
            environments[0].deploy_access_levels[0].access_level,
            Some(40)
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_not_quoted() {
        let err = serde_json::from_str::<Variable>(
            r#"{"key":"K","value":12345678,"protected":true,"masked":true}"#,
        )
        .expect_err("number value");
        assert!(!err.to_string().contains("12345678"), "{err}");
    }
}
