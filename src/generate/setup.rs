//! The steps of `ciguard init --apply`: the [`SetupPlan`] compared with what the project has in
//! GitLab (default branch, protected branches and environments, variables) and with the values
//! ciguard was given, giving one [`Step`] per thing to change, to leave (with why and what to do
//! by hand), already right, or worth a note. Pure: no network, nothing printed; values stay in
//! [`Secret`]s and no step's text holds one. A value from the environment goes only into
//! protected variables: it is the production credential, and unprotected (review) variables
//! reach merge-request pipelines.

use std::collections::HashMap;

use serde_json::Value;

use super::plan::{PlannedVariable, SetupPlan, Storage};
use crate::credentials::wildcard_matches;
use crate::gitlab::maskable::{Maskability, assess};
use crate::gitlab::types::{
    AccessLevel, NewVariable, ProtectedBranch, ProtectedEnvironment, Variable, VariableType,
};
use crate::secret::Secret;

/// What the project has in GitLab now.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    /// The default branch (`None` in an empty repository).
    pub default_branch: Option<&'a str>,
    /// Its protected branch rules.
    pub protected_branches: &'a [ProtectedBranch],
    /// Its protected environments, or why they could not be read (Premium).
    pub protected_environments: Result<&'a [ProtectedEnvironment], &'a str>,
    /// Its variables (every scope).
    pub variables: &'a [Variable],
}

/// The values ciguard may put in variables.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    /// By key: the non-empty variables of ciguard's environment named like a planned one.
    pub by_key: &'a HashMap<String, Secret<String>>,
    /// Whether `--values-from-env` was given (for the advice when a value is missing).
    pub from_env: bool,
    /// `--overwrite-values`: replace the values of variables that exist.
    pub overwrite: bool,
}

/// One line of the plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// What it is about, e.g. ``variable `TAP_PASSWORD` (environment `production`)``.
    pub subject: String,
    /// What happens.
    pub kind: Kind,
    /// What is (or would be) done, e.g. `create it protected, masked and hidden, raw`.
    pub what: String,
    /// Why, and what to do by hand when ciguard leaves it.
    pub why: String,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A change through the API (made with `--yes`).
    Change(Change),
    /// Something wrong or missing that ciguard does not change.
    Left,
    /// Already as planned.
    Right,
    /// Not part of the plan, but worth knowing.
    Note,
}

/// A change through the API.
#[derive(Debug, Clone)]
pub enum Change {
    /// Protect the branch: push by no one, merge by Maintainers, code-owner approval, no force
    /// push.
    ProtectBranch(String),
    /// Set `allow_force_push` to false on this protected branch rule.
    ForbidForcePush(String),
    /// Set `code_owner_approval_required` on this protected branch rule (Premium).
    RequireCodeOwnerApproval(String),
    /// Protect the environment: deploy by Maintainers.
    ProtectEnvironment(String),
    /// Create a variable.
    CreateVariable(NewVariable),
    /// Change a variable's flags and maybe its value.
    UpdateVariable {
        /// Its key.
        key: String,
        /// Its environment scope.
        scope: String,
        /// The flags to set to true.
        set: Vec<Flag>,
        /// The new value (`--overwrite-values`).
        value: Option<Secret<String>>,
    },
}

/// A variable flag `init --apply` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// `protected`.
    Protected,
    /// `masked`.
    Masked,
    /// `raw` (needed to mask a value with characters the expanded alphabet lacks).
    Raw,
}

impl Flag {
    /// The API field.
    pub fn field(self) -> &'static str {
        match self {
            Flag::Protected => "protected",
            Flag::Masked => "masked",
            Flag::Raw => "raw",
        }
    }

    /// The field and its new value, for the request body.
    pub fn set(self) -> (&'static str, Value) {
        (self.field(), Value::Bool(true))
    }
}

impl Change {
    /// The request, e.g. `POST /projects/7/protected_branches` (the project as given).
    pub fn request(&self, project: &str) -> String {
        match self {
            Change::ProtectBranch(_) => format!("POST /projects/{project}/protected_branches"),
            Change::ForbidForcePush(name) | Change::RequireCodeOwnerApproval(name) => {
                format!("PATCH /projects/{project}/protected_branches/{name}")
            }
            Change::ProtectEnvironment(_) => {
                format!("POST /projects/{project}/protected_environments")
            }
            Change::CreateVariable(_) => format!("POST /projects/{project}/variables"),
            Change::UpdateVariable { key, scope, .. } => {
                format!("PUT /projects/{project}/variables/{key}?filter[environment_scope]={scope}")
            }
        }
    }
}

impl Step {
    /// Whether `--yes` performs it.
    pub fn change(&self) -> Option<&Change> {
        match &self.kind {
            Kind::Change(change) => Some(change),
            _ => None,
        }
    }

    /// One line: a tag, the subject, what and why, and for a change its request.
    pub fn line(&self, project: &str) -> String {
        let tag = match self.kind {
            Kind::Change(_) => "change",
            Kind::Left => "left",
            Kind::Right => "ok",
            Kind::Note => "note",
        };
        let mut line = format!("{tag:<6} {}: {}", self.subject, self.what);
        if !self.why.is_empty() {
            line.push_str(" (");
            line.push_str(&self.why);
            line.push(')');
        }
        if let Some(change) = self.change() {
            line.push_str(&format!(" [{}]", change.request(project)));
        }
        line
    }
}

/// Where the variables are kept by hand.
const VARIABLES_SETTINGS: &str = "Settings > CI/CD > Variables";

/// Every step, in order: the default branch, the production environment, each planned
/// variable, then notes on same-named variables of other scopes.
pub fn steps(plan: &SetupPlan, current: &Current<'_>, values: &Values<'_>) -> Vec<Step> {
    let mut steps = branch_steps(current);
    steps.push(environment_step(&plan.production_environment, current));
    for planned in &plan.variables {
        let existing = current
            .variables
            .iter()
            .find(|v| v.key == planned.key && scope_of(v) == planned.environment_scope);
        // The environment's value is the production one: never copied into a variable that
        // merge-request pipelines receive.
        let value = values
            .by_key
            .get(&planned.key)
            .filter(|_| planned.protected);
        match existing {
            None => steps.push(create_step(planned, value, values.from_env)),
            Some(existing) => {
                let value = value.filter(|_| values.overwrite);
                steps.extend(update_steps(planned, existing, value));
            }
        }
    }
    steps.extend(other_scopes(plan, current.variables));
    steps
}

fn scope_of(variable: &Variable) -> &str {
    variable.environment_scope.as_deref().unwrap_or("*")
}

fn step(subject: &str, kind: Kind, what: impl Into<String>, why: impl Into<String>) -> Step {
    Step {
        subject: subject.to_owned(),
        kind,
        what: what.into(),
        why: why.into(),
    }
}

fn branch_steps(current: &Current<'_>) -> Vec<Step> {
    let Some(branch) = current.default_branch else {
        return vec![step(
            "default branch",
            Kind::Left,
            "cannot protect it",
            "the project has no default branch yet (an empty repository): push one, then run \
             again",
        )];
    };
    let subject = format!("default branch `{branch}`");
    let rules: Vec<&ProtectedBranch> = current
        .protected_branches
        .iter()
        .filter(|rule| wildcard_matches(&rule.name, branch))
        .collect();
    if rules.is_empty() {
        return vec![step(
            &subject,
            Kind::Change(Change::ProtectBranch(branch.to_owned())),
            "protect it: push by no one, merge by Maintainers, code owner approval (Premium), no \
             force push",
            "it is not protected: production variables are protected, so whoever can push to \
             it can run code of their choosing with the production credentials; with push by \
             no one, every change arrives through a reviewed merge request",
        )];
    }
    let mut steps = Vec::new();
    for rule in &rules {
        let open: Vec<&str> = [
            ("push", &rule.push_access_levels),
            ("merge", &rule.merge_access_levels),
        ]
        .into_iter()
        .filter(|(_, levels)| levels.iter().any(AccessLevel::admits_developers))
        .map(|(what, _)| what)
        .collect();
        if !open.is_empty() {
            steps.push(step(
                &subject,
                Kind::Left,
                format!(
                    "rule `{}` lets Developers {}",
                    rule.name,
                    open.join(" and ")
                ),
                "set \"Allowed to push and merge\" and \"Allowed to merge\" to Maintainers in \
                 Settings > Repository > Protected branches; ciguard does not change access \
                 levels (on GitLab Free the API can only delete and re-create the rule, which \
                 leaves the branch unprotected in between)",
            ));
        }
        let direct = rule
            .push_access_levels
            .iter()
            .any(AccessLevel::lets_someone_in);
        if open.is_empty() && direct {
            steps.push(step(
                &subject,
                Kind::Left,
                format!(
                    "rule `{}` lets Maintainers push without a merge request",
                    rule.name
                ),
                "set \"Allowed to push and merge\" to No one in Settings > Repository > \
                 Protected branches, so every change is reviewed in a merge request; ciguard \
                 does not change access levels",
            ));
        }
        if rule.allow_force_push == Some(true) {
            steps.push(step(
                &subject,
                Kind::Change(Change::ForbidForcePush(rule.name.clone())),
                format!("forbid force pushes on rule `{}`", rule.name),
                "a force push rewrites the history production jobs ran, and hides what they ran",
            ));
        }
        match rule.code_owner_approval_required {
            Some(false) => steps.push(step(
                &subject,
                Kind::Change(Change::RequireCodeOwnerApproval(rule.name.clone())),
                format!("require code owner approval on rule `{}`", rule.name),
                "changes to the pipeline and meltano.yml then need their owners' approval \
                 (CODEOWNERS, see the plan)",
            )),
            Some(true) => {}
            None => steps.push(step(
                &subject,
                Kind::Note,
                format!("rule `{}`: code owner approval unknown", rule.name),
                "GitLab's answer does not say: code owner approval needs GitLab Premium or \
                 Ultimate",
            )),
        }
    }
    if steps.iter().all(|step| matches!(step.kind, Kind::Note)) {
        let names: Vec<String> = rules
            .iter()
            .map(|rule| format!("`{}`", rule.name))
            .collect();
        steps.push(step(
            &subject,
            Kind::Right,
            format!(
                "protected (rule {}): push by no one, merge by Maintainers, no force push",
                names.join(", ")
            ),
            "",
        ));
    }
    steps
}

fn environment_step(environment: &str, current: &Current<'_>) -> Step {
    let subject = format!("environment `{environment}`");
    let environments = match current.protected_environments {
        Ok(environments) => environments,
        Err(why) => {
            return step(
                &subject,
                Kind::Left,
                "cannot protect it here",
                format!(
                    "{why}: protected environments need GitLab Premium or Ultimate (or the \
                     token's user lacks the Maintainer role); without one, production variables \
                     still reach only protected branches (`protected`) and jobs deploying to \
                     `{environment}` (their environment scope)"
                ),
            );
        }
    };
    match environments.iter().find(|e| e.name == environment) {
        None => step(
            &subject,
            Kind::Change(Change::ProtectEnvironment(environment.to_owned())),
            "protect it: deploy by Maintainers only",
            "it is not protected: any Developer may run or retry a job that deploys to it with \
             the production credentials",
        ),
        Some(protected)
            if protected
                .deploy_access_levels
                .iter()
                .any(AccessLevel::admits_developers) =>
        {
            step(
                &subject,
                Kind::Left,
                "it lets Developers deploy",
                "set \"Allowed to deploy\" to Maintainers in Settings > CI/CD > Protected \
                 environments; ciguard does not change existing access levels",
            )
        }
        Some(_) => step(&subject, Kind::Right, "protected", ""),
    }
}

fn variable_subject(planned: &PlannedVariable) -> String {
    format!(
        "variable `{}` (environment `{}`)",
        planned.key, planned.environment_scope
    )
}

/// The flags a new variable gets, in words.
fn describe_new(planned: &PlannedVariable, masked_and_hidden: bool) -> String {
    let mut flags = vec![if planned.protected {
        "protected"
    } else {
        "not protected"
    }];
    flags.push(if masked_and_hidden {
        "masked and hidden"
    } else {
        "not masked"
    });
    flags.push("raw");
    if planned.storage == Storage::File {
        flags.push("file");
    }
    flags.join(", ")
}

/// Why GitLab cannot mask a value, and the way out.
fn unmaskable(maskability: Maskability, storage: Storage) -> &'static str {
    match (maskability, storage) {
        (Maskability::MultiLine, Storage::File) => {
            "GitLab cannot mask it (more than one line); `ciguard run` masks the file's content \
             in the ELT job's output"
        }
        (maskability, _) => maskability.advice(),
    }
}

fn create_step(planned: &PlannedVariable, value: Option<&Secret<String>>, from_env: bool) -> Step {
    let subject = variable_subject(planned);
    let key = &planned.key;
    let Some(value) = value else {
        let flags = describe_new(planned, false).replace(
            "not masked",
            "masked and hidden when GitLab accepts the value",
        );
        let why = if !planned.protected {
            format!(
                "create it in {VARIABLES_SETTINGS} ({flags}) with a credential that reaches only \
                 non-production data: merge-request pipelines receive it, so ciguard never puts \
                 the value of ${key} (the production one) there"
            )
        } else if from_env {
            format!(
                "{key} is not set in ciguard's environment: set it and run again, or create it \
                 in {VARIABLES_SETTINGS} ({flags})"
            )
        } else {
            format!(
                "create it in {VARIABLES_SETTINGS} ({flags}), or set {key} in the environment \
                 and use --values-from-env"
            )
        };
        return step(&subject, Kind::Left, "missing, no value given", why);
    };
    let maskability = assess(value.expose(), true);
    let masked_and_hidden = maskability == Maskability::Maskable;
    let why = if masked_and_hidden {
        format!(
            "missing; the pipeline reads it: {}",
            planned.sources.join("; ")
        )
    } else {
        format!(
            "missing; not masked: {}",
            unmaskable(maskability, planned.storage)
        )
    };
    step(
        &subject,
        Kind::Change(Change::CreateVariable(NewVariable {
            key: key.clone(),
            environment_scope: planned.environment_scope.clone(),
            protected: planned.protected,
            masked_and_hidden,
            file: planned.storage == Storage::File,
            raw: true,
            value: value.clone(),
        })),
        format!(
            "create it {}, with the value of ${key}",
            describe_new(planned, masked_and_hidden)
        ),
        why,
    )
}

fn update_steps(
    planned: &PlannedVariable,
    existing: &Variable,
    value: Option<&Secret<String>>,
) -> Vec<Step> {
    let subject = variable_subject(planned);
    let mut set = Vec::new();
    let mut why = Vec::new();
    let mut left: Vec<(String, String)> = Vec::new();
    if planned.protected && !existing.protected {
        set.push(Flag::Protected);
        why.push("not protected: pipelines of every branch, merge requests included, receive it");
    } else if !planned.protected && existing.protected {
        left.push((
            "it is protected".to_owned(),
            "merge-request pipelines of unprotected branches will not receive it; if it only \
             reaches non-production data, clear `protected` in Settings > CI/CD > Variables"
                .to_owned(),
        ));
    }
    let file = existing.variable_type == VariableType::File;
    if file != (planned.storage == Storage::File) {
        let (is, wanted) = if file {
            ("file", "env_var")
        } else {
            ("env_var", "file")
        };
        left.push((
            format!("it is a{} {is} variable", if file { "" } else { "n" }),
            format!(
                "the pipeline expects a{} {wanted} variable: change its type in \
                 {VARIABLES_SETTINGS}",
                if file { "n" } else { "" }
            ),
        ));
    }
    // Replacing a value that is already the same changes nothing; a hidden one cannot be read.
    let value = value.filter(|new| existing.value.as_ref() != Some(*new));
    let mut value = value.cloned();
    if let Some(new) = &value {
        let maskability = assess(new.expose(), existing.raw);
        if existing.masked && maskability != Maskability::Maskable {
            left.push((
                "cannot replace its value".to_owned(),
                format!(
                    "it is masked and {}",
                    unmaskable(maskability, planned.storage)
                ),
            ));
            value = None;
        }
    }
    let known = value.as_ref().or(existing.value.as_ref());
    if !existing.masked
        && let Some(known) = known
    {
        match assess(known.expose(), existing.raw) {
            Maskability::Maskable => {
                set.push(Flag::Masked);
                why.push("not masked: a job that prints it shows it in the log");
            }
            Maskability::OnlyRaw => {
                set.extend([Flag::Raw, Flag::Masked]);
                why.push(
                    "not masked: a job that prints it shows it in the log; GitLab masks \
                     its value only as a raw variable",
                );
            }
            other => left.push((
                "cannot mask it".to_owned(),
                unmaskable(other, planned.storage).to_owned(),
            )),
        }
    }
    let maskable = existing.masked || set.contains(&Flag::Masked);
    if planned.storage == Storage::MaskedAndHidden && maskable && existing.hidden == Some(false) {
        left.push((
            "cannot make it hidden".to_owned(),
            format!(
                "GitLab sets `hidden` only when a variable is created: to hide it, delete it in \
                 {VARIABLES_SETTINGS} and run again with --values-from-env (ciguard never \
                 deletes a variable)"
            ),
        ));
    }
    let mut steps = Vec::new();
    if !set.is_empty() || value.is_some() {
        let mut what: Vec<String> = Vec::new();
        if !set.is_empty() {
            let fields: Vec<&str> = set.iter().map(|flag| flag.field()).collect();
            what.push(format!("set {}", fields.join(", ")));
        }
        if value.is_some() {
            what.push(format!(
                "replace its value with the value of ${} (--overwrite-values)",
                planned.key
            ));
        }
        steps.push(step(
            &subject,
            Kind::Change(Change::UpdateVariable {
                key: planned.key.clone(),
                scope: planned.environment_scope.clone(),
                set,
                value,
            }),
            what.join(", "),
            why.join("; "),
        ));
    }
    for (what, why) in left {
        steps.push(step(&subject, Kind::Left, what, why));
    }
    if steps.is_empty() {
        steps.push(step(&subject, Kind::Right, "exists as planned", ""));
    }
    steps
}

/// Notes on variables named like a planned one in a scope the plan does not use: they reach
/// other jobs.
fn other_scopes(plan: &SetupPlan, variables: &[Variable]) -> Vec<Step> {
    let mut notes = Vec::new();
    for variable in variables {
        let planned: Vec<&PlannedVariable> = plan
            .variables
            .iter()
            .filter(|planned| planned.key == variable.key)
            .collect();
        let scope = scope_of(variable);
        if planned.is_empty() || planned.iter().any(|p| p.environment_scope == scope) {
            continue;
        }
        let subject = format!("variable `{}` (environment `{scope}`)", variable.key);
        let reach = if scope == "*" {
            if variable.protected {
                "it reaches every job of protected branches without a more specific variable of \
                 the same name (the lint and audit jobs too)"
            } else {
                "it reaches every job without a more specific variable of the same name, \
                 merge-request jobs included"
            }
        } else {
            "jobs deploying to that environment receive it"
        };
        notes.push(step(
            &subject,
            Kind::Note,
            "also exists, outside the plan; ciguard leaves it",
            format!(
                "{reach}: if it holds a production credential, delete it or give it another \
                 value in {VARIABLES_SETTINGS}"
            ),
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::plan::Need;
    use crate::gitlab::types::AccessLevel;

    fn plan() -> SetupPlan {
        let needs = [
            Need {
                key: "TAP_PASSWORD".to_owned(),
                source: "extractors tap: password (sensitive)".to_owned(),
                file: false,
            },
            Need {
                key: "TAP_KEYFILE".to_owned(),
                source: "extractors tap: keyfile (sensitive)".to_owned(),
                file: true,
            },
        ];
        SetupPlan::new(&needs, ("ciguard-audit", &[]), "production", None)
    }

    fn variable(key: &str, scope: &str, value: Option<&str>) -> Variable {
        Variable {
            key: key.to_owned(),
            value: value.map(|v| Secret::new(v.to_owned())),
            variable_type: VariableType::EnvVar,
            protected: true,
            masked: value.is_none(),
            hidden: Some(value.is_none()),
            raw: true,
            environment_scope: Some(scope.to_owned()),
            description: None,
        }
    }

    fn levels(level: u32) -> Vec<AccessLevel> {
        vec![AccessLevel {
            access_level: Some(level),
            ..AccessLevel::default()
        }]
    }

    /// A rule whose merge level is `level`: Maintainers merging means no one pushes (as
    /// planned); Developers merging, that they push too.
    fn branch(name: &str, level: u32, force: bool) -> ProtectedBranch {
        ProtectedBranch {
            name: name.to_owned(),
            push_access_levels: levels(if level == 40 { 0 } else { level }),
            merge_access_levels: levels(level),
            allow_force_push: Some(force),
            code_owner_approval_required: Some(true),
        }
    }

    fn environment(level: u32) -> ProtectedEnvironment {
        ProtectedEnvironment {
            name: "production".to_owned(),
            deploy_access_levels: levels(level),
        }
    }

    fn run(
        branches: &[ProtectedBranch],
        environments: Result<&[ProtectedEnvironment], &str>,
        variables: &[Variable],
        values: &[(&str, &str)],
        overwrite: bool,
    ) -> Vec<Step> {
        let by_key: HashMap<String, Secret<String>> = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Secret::new((*v).to_owned())))
            .collect();
        let current = Current {
            default_branch: Some("main"),
            protected_branches: branches,
            protected_environments: environments,
            variables,
        };
        let values = Values {
            by_key: &by_key,
            from_env: true,
            overwrite,
        };
        steps(&plan(), &current, &values)
    }

    fn lines(steps: &[Step]) -> Vec<String> {
        steps.iter().map(|s| s.line("7")).collect()
    }

    #[test]
    fn an_empty_project_gets_everything_and_values_stay_hidden() {
        let steps = run(
            &[],
            Ok(&[]),
            &[],
            &[
                ("TAP_PASSWORD", "s3cret-Passw0rd"),
                ("TAP_KEYFILE", "short"),
            ],
            false,
        );
        let requests: Vec<String> = steps
            .iter()
            .filter_map(|s| s.change().map(|c| c.request("7")))
            .collect();
        assert_eq!(
            requests,
            [
                "POST /projects/7/protected_branches",
                "POST /projects/7/protected_environments",
                "POST /projects/7/variables",
                "POST /projects/7/variables",
            ]
        );
        let Some(Change::CreateVariable(password)) = steps[3].change() else {
            panic!("{steps:?}");
        };
        assert!(password.masked_and_hidden && password.protected && !password.file);
        let Some(Change::CreateVariable(keyfile)) = steps[2].change() else {
            panic!("{steps:?}");
        };
        assert!(!keyfile.masked_and_hidden && keyfile.file);
        let text = format!("{:?}\n{}", steps, lines(&steps).join("\n"));
        assert!(
            !text.contains("s3cret") && !text.contains("short\""),
            "{text}"
        );
        assert!(text.contains("shorter than 8"), "{text}");
    }

    #[test]
    fn a_project_as_planned_needs_nothing() {
        let variables = [
            variable("TAP_KEYFILE", "production", None),
            variable("TAP_PASSWORD", "production", None),
        ];
        let variables = [
            Variable {
                variable_type: VariableType::File,
                ..variables[0].clone()
            },
            variables[1].clone(),
        ];
        let steps = run(
            &[branch("main", 40, false)],
            Ok(&[environment(40)]),
            &variables,
            &[("TAP_PASSWORD", "another-Passw0rd")],
            false,
        );
        assert!(
            steps.iter().all(|s| matches!(s.kind, Kind::Right)),
            "{:#?}",
            lines(&steps)
        );
    }

    #[test]
    fn review_gates_of_the_default_branch_are_set_or_explained() {
        let branch_lines = |rule: ProtectedBranch| -> Vec<String> {
            lines(&run(&[rule], Ok(&[environment(40)]), &[], &[], false))
                .into_iter()
                .filter(|line| line.contains("default branch"))
                .collect()
        };
        let direct = ProtectedBranch {
            push_access_levels: levels(40),
            ..branch("main", 40, false)
        };
        assert_eq!(
            branch_lines(direct)[0].split(" (").next(),
            Some(
                "left   default branch `main`: rule `main` lets Maintainers push without a merge request"
            )
        );
        let no_code_owners = ProtectedBranch {
            code_owner_approval_required: Some(false),
            ..branch("main", 40, false)
        };
        let found = branch_lines(no_code_owners);
        assert!(
            found[0].starts_with("change default branch `main`: require code owner approval")
                && found[0].ends_with("[PATCH /projects/7/protected_branches/main]"),
            "{found:?}"
        );
        let free = ProtectedBranch {
            code_owner_approval_required: None,
            ..branch("main", 40, false)
        };
        let found = branch_lines(free);
        assert!(
            found[0].starts_with(
                "note   default branch `main`: rule `main`: code owner approval unknown"
            ),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("ok     default branch `main`: protected"),
            "{found:?}"
        );
    }

    #[test]
    fn wrong_flags_are_set_and_what_cannot_change_is_explained() {
        let variables = [
            Variable {
                protected: false,
                variable_type: VariableType::File,
                ..variable("TAP_KEYFILE", "production", Some("multi\nline\nkey"))
            },
            Variable {
                protected: false,
                raw: false,
                ..variable("TAP_PASSWORD", "production", Some("pa$$word-1234"))
            },
            Variable {
                protected: false,
                ..variable("TAP_PASSWORD", "*", Some("leaky-Passw0rd"))
            },
        ];
        let steps = run(
            &[branch("*", 30, true)],
            Err("GitLab answered 403 Forbidden"),
            &variables,
            &[],
            false,
        );
        let lines = lines(&steps);
        let expected = [
            "left   default branch `main`: rule `*` lets Developers push and merge",
            "change default branch `main`: forbid force pushes on rule `*`",
            "left   environment `production`: cannot protect it here (GitLab answered 403 \
             Forbidden: protected environments need GitLab Premium",
            "change variable `TAP_KEYFILE` (environment `production`): set protected (",
            "left   variable `TAP_KEYFILE` (environment `production`): cannot mask it (GitLab \
             cannot mask it (more than one line); `ciguard run` masks the file's content",
            "change variable `TAP_PASSWORD` (environment `production`): set protected, raw, \
             masked (",
            "left   variable `TAP_PASSWORD` (environment `production`): cannot make it hidden",
            "note   variable `TAP_PASSWORD` (environment `*`): also exists, outside the plan",
        ];
        assert_eq!(lines.len(), expected.len(), "{lines:#?}");
        for (line, expected) in lines.iter().zip(expected) {
            assert!(line.starts_with(expected), "{line}\n  !=\n{expected}");
        }
        assert!(lines[1].ends_with("[PATCH /projects/7/protected_branches/*]"));
        assert!(lines[5].ends_with(
            "[PUT /projects/7/variables/TAP_PASSWORD?filter[environment_scope]=production]"
        ));
        assert!(
            lines[7].contains("merge-request jobs included"),
            "{}",
            lines[7]
        );
    }

    #[test]
    fn values_are_replaced_only_when_asked_and_when_gitlab_can_mask_them() {
        let variables = [
            Variable {
                variable_type: VariableType::File,
                ..variable("TAP_KEYFILE", "production", None)
            },
            variable("TAP_PASSWORD", "production", None),
        ];
        let values = [("TAP_PASSWORD", "new-Passw0rd-1"), ("TAP_KEYFILE", "a b")];
        let kept = run(
            &[branch("main", 40, false)],
            Ok(&[environment(40)]),
            &variables,
            &values,
            false,
        );
        assert!(kept.iter().all(|s| s.change().is_none()), "{kept:?}");
        let replaced = run(
            &[branch("main", 40, false)],
            Ok(&[environment(40)]),
            &variables,
            &values,
            true,
        );
        let lines = lines(&replaced);
        assert!(
            lines[2].starts_with(
                "left   variable `TAP_KEYFILE` (environment `production`): cannot replace its \
                 value (it is masked and GitLab cannot mask it (it holds whitespace)"
            ),
            "{lines:#?}"
        );
        let Some(Change::UpdateVariable { set, value, .. }) = replaced[3].change() else {
            panic!("{lines:#?}");
        };
        assert!(set.is_empty());
        assert_eq!(
            value.as_ref().map(|v| v.expose().as_str()),
            Some("new-Passw0rd-1")
        );
    }

    #[test]
    fn missing_values_say_where_to_set_them() {
        let steps = run(
            &[branch("main", 40, false)],
            Ok(&[environment(40)]),
            &[],
            &[],
            false,
        );
        let lines = lines(&steps);
        assert!(
            lines[2].starts_with(
                "left   variable `TAP_KEYFILE` (environment `production`): missing, no value \
                 given (TAP_KEYFILE is not set in ciguard's environment"
            ),
            "{lines:#?}"
        );
        assert!(lines[3].contains("masked and hidden when GitLab accepts the value"));
    }

    #[test]
    fn production_values_never_go_to_the_review_environment() {
        let needs = [Need {
            key: "TAP_PASSWORD".to_owned(),
            source: "extractors tap: password (sensitive)".to_owned(),
            file: false,
        }];
        let plan = SetupPlan::new(
            &needs,
            ("ciguard-audit", &[]),
            "production",
            Some("staging"),
        );
        let by_key = HashMap::from([(
            "TAP_PASSWORD".to_owned(),
            Secret::new("s3cret-Passw0rd".to_owned()),
        )]);
        let current = Current {
            default_branch: Some("main"),
            protected_branches: &[],
            protected_environments: Ok(&[]),
            variables: &[],
        };
        let values = Values {
            by_key: &by_key,
            from_env: true,
            overwrite: true,
        };
        let steps = steps(&plan, &current, &values);
        let lines = lines(&steps);
        assert!(matches!(
            steps[2].change(),
            Some(Change::CreateVariable(NewVariable {
                protected: true,
                ..
            }))
        ));
        assert!(
            lines[3].starts_with(
                "left   variable `TAP_PASSWORD` (environment `staging`): missing, no value given"
            ) && lines[3].contains("reaches only non-production data"),
            "{lines:#?}"
        );
    }
}
