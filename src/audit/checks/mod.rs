//! The audit checks, one file each: a `RULE` and a pure `check` over the [`Context`], listed
//! once in the [`registry`] below. A check
//! reads values only to judge them, and its messages name keys, never values.

use crate::audit::classify::{Classifier, Evidence};
use crate::credentials::Knowledge;
use std::cell::RefCell;

use crate::findings::{
    ApiLevel, ApiLocation, Confidence, Finding, Location, Rule, Unchecked, registry,
};
use crate::gitlab::types::{AuditData, Level, ProtectedBranch, Reviews, Unavailable, Variable};

registry!(
    Context;
    credential_not_protected,
    non_production_credential_unprotected,
    credential_not_masked,
    masked_not_hidden,
    production_credential_all_environments,
    expanded_value_with_dollar,
    shadowed_variable,
    debug_trace_variable,
    public_job_logs,
    default_branch_unprotected,
    developers_can_push_protected,
    pipeline_variables_overridable,
    fork_pipelines_in_parent,
    production_environment_unprotected,
    protected_branch_direct_push,
    merge_request_approvals_not_required,
    merge_request_self_approval,
    approvals_not_reset_on_push,
    ci_config_without_code_owner,
    protected_variables_in_merge_request_pipelines,
    job_token_allowlist_disabled,
    static_cloud_credential,
);

/// What every check sees: the data, the knowledge, and each variable classified once.
#[derive(Debug)]
pub struct Context<'a> {
    /// What was read.
    pub data: &'a AuditData,
    /// Credential names and production environments.
    pub knowledge: &'a Knowledge,
    /// Every variable, lowest precedence first.
    pub variables: Vec<Assessed<'a>>,
    /// The rules a check could not judge, and why.
    unchecked: RefCell<Vec<Unchecked>>,
}

impl From<Level> for ApiLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Instance => ApiLevel::Instance,
            Level::Group => ApiLevel::Group,
            Level::Project => ApiLevel::Project,
        }
    }
}

/// A variable with where it is and what it is.
#[derive(Debug)]
pub struct Assessed<'a> {
    /// Its set's index in [`AuditData::variable_sets`]: a higher rank overrides a lower one.
    pub rank: usize,
    /// Instance, group or project.
    pub level: ApiLevel,
    /// The group or project path.
    pub owner: &'a str,
    /// The variable.
    pub variable: &'a Variable,
    /// Why it is a credential, if it is.
    pub credential: Option<Evidence>,
    /// Whether its scope or key names production.
    pub production: bool,
}

impl<'a> Context<'a> {
    /// Classifies every variable of `data`.
    pub fn new(data: &'a AuditData, knowledge: &'a Knowledge) -> Self {
        let classifier = Classifier::new(knowledge);
        let variables = data
            .variable_sets
            .iter()
            .enumerate()
            .flat_map(|(rank, set)| {
                set.variables
                    .iter()
                    .map(move |variable| (rank, set, variable))
            })
            .map(|(rank, set, variable)| Assessed {
                rank,
                level: set.level.into(),
                owner: &set.owner,
                variable,
                credential: classifier.classify_variable(variable),
                production: classifier
                    .is_production(&variable.key, variable.environment_scope.as_deref()),
            })
            .collect();
        Context {
            data,
            knowledge,
            variables,
            unchecked: RefCell::default(),
        }
    }

    /// Says that `rule` could not be judged for this project, and why.
    pub fn unknown(&self, rule: &'static Rule, why: &Unavailable) {
        self.unchecked.borrow_mut().push(Unchecked {
            rule,
            project: self.data.project.clone(),
            reason: why.0.clone(),
        });
    }

    /// The part of the reviews `rule` needs: `None` offline, or after saying that the rule
    /// could not be judged.
    pub fn review<T>(
        &self,
        rule: &'static Rule,
        part: impl FnOnce(&'a Reviews) -> &'a Result<T, Unavailable>,
    ) -> Option<&'a T> {
        self.reviews()
            .and_then(|reviews| self.available(rule, part(reviews)))
    }

    /// What `rule` needs, or `None` after saying that the rule could not be judged.
    pub fn available<'b, T>(
        &self,
        rule: &'static Rule,
        read: &'b Result<T, Unavailable>,
    ) -> Option<&'b T> {
        match read {
            Ok(value) => Some(value),
            Err(why) => {
                self.unknown(rule, why);
                None
            }
        }
    }

    /// The rules the checks could not judge.
    pub fn into_unchecked(self) -> Vec<Unchecked> {
        self.unchecked.into_inner()
    }

    /// What was read about reviews (`None`: offline, nothing to judge).
    pub fn reviews(&self) -> Option<&'a Reviews> {
        self.data.reviews.as_ref()
    }

    /// The default branch, when known.
    pub fn default_branch(&self) -> Option<&'a str> {
        self.data
            .settings
            .as_ref()?
            .default_branch
            .as_deref()
            .filter(|branch| !branch.is_empty())
    }

    /// The protected branch rule GitLab applies to the default branch (`None`: unprotected, or
    /// not read).
    pub fn default_branch_rule(&self) -> Option<&'a ProtectedBranch> {
        let rules = self.data.protected_branches.as_ref()?;
        ProtectedBranch::rule_for(rules, self.default_branch()?)
    }

    /// The variables that are credentials.
    pub fn credentials(&self) -> impl Iterator<Item = &Assessed<'a>> {
        self.variables.iter().filter(|v| v.credential.is_some())
    }

    /// A finding about the project setting (or object) `key`.
    pub fn setting_finding(&self, rule: &'static Rule, key: &str, message: String) -> Finding {
        let location = Location::Api(ApiLocation {
            level: ApiLevel::Project,
            owner: self.data.project.clone(),
            key: key.to_owned(),
            environment_scope: None,
        });
        Finding::new(rule, location, message)
    }
}

impl Assessed<'_> {
    /// The value, to judge it (never to show it); `None` when hidden.
    pub fn value(&self) -> Option<&str> {
        self.variable.value.as_ref().map(|v| v.expose().as_str())
    }

    /// `` `KEY` (environment SCOPE) at LEVEL OWNER ``, for messages.
    pub fn name(&self) -> String {
        let scope = match &self.variable.environment_scope {
            Some(scope) => format!(" (environment `{scope}`)"),
            None => String::new(),
        };
        let owner = if self.owner.is_empty() {
            String::new()
        } else {
            format!(" {}", self.owner)
        };
        format!(
            "`{}`{scope} at {}{owner}",
            self.variable.key,
            self.level.as_str()
        )
    }

    /// A finding of `rule` on this variable; no more confident than its classification.
    pub fn finding(&self, rule: &'static Rule, message: String) -> Finding {
        let location = Location::Api(ApiLocation {
            level: self.level,
            owner: self.owner.to_owned(),
            key: self.variable.key.clone(),
            environment_scope: self.variable.environment_scope.clone(),
        });
        let confidence = match self.credential {
            Some(evidence) if evidence.is_guess() => rule.confidence.min(Confidence::Medium),
            _ => rule.confidence,
        };
        Finding::new(rule, location, message).with_confidence(confidence)
    }

    /// Whether it is scoped to one environment (no wildcard) that is not production, and
    /// neither its scope nor its key says production: a copy for that environment, such as the
    /// staging credentials `ciguard init` plans for merge-request pipelines.
    pub fn is_non_production_copy(&self) -> bool {
        !self.production
            && self
                .variable
                .environment_scope
                .as_deref()
                .is_some_and(|scope| !scope.is_empty() && !scope.contains('*'))
    }

    /// "a credential (its name says so)", for messages.
    pub fn why_credential(&self) -> String {
        match self.credential {
            Some(evidence) => format!("a credential ({})", evidence.describe()),
            None => "not a credential".to_owned(),
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Typed model values for the checks' tests.

    use super::*;
    use crate::gitlab::types::{VariableSet, VariableType};
    use crate::secret::Secret;

    /// A well-configured env variable scoped to `*`: protected, masked, hidden, expanded.
    pub fn variable(key: &str, value: Option<&str>) -> Variable {
        Variable {
            key: key.to_owned(),
            value: value.map(|v| Secret::new(v.to_owned())),
            variable_type: VariableType::EnvVar,
            protected: true,
            masked: true,
            hidden: Some(false),
            raw: false,
            environment_scope: Some("*".to_owned()),
            description: None,
        }
    }

    /// A plain setting scoped to `*`: neither protected, masked nor hidden.
    pub fn plain(key: &str, value: &str) -> Variable {
        Variable {
            protected: false,
            masked: false,
            ..variable(key, Some(value))
        }
    }

    /// A set of variables at `level` of `owner`.
    pub fn set(level: Level, owner: &str, variables: Vec<Variable>) -> VariableSet {
        VariableSet {
            level,
            owner: owner.to_owned(),
            variables,
        }
    }

    /// The project `data/elt` with these variable sets and nothing else read.
    pub fn data(variable_sets: Vec<VariableSet>) -> AuditData {
        AuditData {
            project: "data/elt".to_owned(),
            variable_sets,
            settings: None,
            protected_branches: None,
            protected_tags: None,
            protected_environments: None,
            reviews: None,
        }
    }

    /// The project `data/elt` with only these project variables.
    pub fn project(variables: Vec<Variable>) -> AuditData {
        data(vec![set(Level::Project, "data/elt", variables)])
    }

    /// Runs one check with the default knowledge.
    pub fn run(check: Check, data: &AuditData) -> Vec<Finding> {
        let knowledge = Knowledge::default();
        let cx = Context::new(data, &knowledge);
        let mut out = Vec::new();
        check(&cx, &mut out);
        out
    }

    /// The rules one check could not judge.
    pub fn unchecked(check: Check, data: &AuditData) -> Vec<&'static str> {
        let knowledge = Knowledge::default();
        let cx = Context::new(data, &knowledge);
        check(&cx, &mut Vec::new());
        cx.into_unchecked().iter().map(|u| u.rule.id).collect()
    }

    /// A project whose reviews are all in order: `main` protected (no one pushes, Maintainers
    /// merge, code owners approve), one approval required, neither authors nor committers
    /// approving, approvals reset on push, the job token allowlist on, and a `CODEOWNERS` that
    /// owns `.gitlab-ci.yml` and `meltano.yml`.
    pub fn reviewed() -> AuditData {
        use crate::gitlab::types::{
            AccessLevel, ApprovalRule, ApprovalSettings, JobTokenScope, ProjectSettings,
            ReviewedFiles,
        };
        let level = |access_level| {
            vec![AccessLevel {
                access_level: Some(access_level),
                ..AccessLevel::default()
            }]
        };
        let mut data = project(Vec::new());
        data.settings = Some(ProjectSettings {
            default_branch: Some("main".into()),
            ..ProjectSettings::default()
        });
        data.protected_branches = Some(vec![ProtectedBranch {
            name: "main".into(),
            push_access_levels: level(0),
            merge_access_levels: level(40),
            allow_force_push: Some(false),
            code_owner_approval_required: Some(true),
        }]);
        data.reviews = Some(Reviews {
            approvals: Ok(ApprovalSettings {
                approvals_before_merge: Some(0),
                reset_approvals_on_push: Some(true),
                merge_requests_author_approval: Some(false),
                merge_requests_disable_committers_approval: Some(true),
            }),
            approval_rules: Ok(vec![ApprovalRule {
                name: "All Members".into(),
                rule_type: Some("any_approver".into()),
                approvals_required: 1,
                applies_to_all_protected_branches: Some(true),
                protected_branches: Vec::new(),
            }]),
            job_token_scope: Ok(JobTokenScope {
                inbound_enabled: true,
            }),
            files: Ok(ReviewedFiles {
                code_owners: Some((
                    "CODEOWNERS".into(),
                    "/.gitlab-ci.yml @data-platform\n/meltano.yml @data-platform\n".into(),
                )),
                ci_config: Some((".gitlab-ci.yml".into(), "job:\n  script: [true]\n".into())),
                meltano: true,
            }),
        });
        data
    }

    #[test]
    fn a_reviewed_project_gets_no_review_finding_and_nothing_unchecked() {
        let knowledge = Knowledge::default();
        let data = reviewed();
        let cx = Context::new(&data, &knowledge);
        let mut found = Vec::new();
        for check in CHECKS {
            check(&cx, &mut found);
        }
        assert!(found.is_empty(), "{found:#?}");
        assert!(cx.into_unchecked().is_empty());
    }
}
