//! The plan of `ciguard audit --fix`: for each credential variable, the flags to set
//! (`protected` when it is not; `masked` when it is not and GitLab accepts its value as it is,
//! per [`maskable::assess`](crate::gitlab::maskable::assess)), and what `--fix` leaves, with why and the
//! way out. `hidden` is never planned: GitLab sets it only when a variable is created. No network
//! here, and no value kept.

use std::collections::HashSet;

use super::AuditData;
use super::checks::{Assessed, Context, credential_not_masked};
use crate::credentials::Knowledge;
use crate::findings::ApiLevel;
use crate::gitlab::maskable::Maskability;

/// Why `hidden` is never planned.
const HIDDEN: (&str, &str) = (
    "cannot set hidden",
    "GitLab sets `hidden` only when a variable is created; create a new masked and hidden \
     variable with the value, then delete this one",
);

/// Why a group or instance variable is planned but not changed.
const NOT_PROJECT: (&str, &str) = (
    "will not apply this",
    "`--fix --apply` changes project variables only: set these flags in the CI/CD settings \
     where the variable is defined",
);

/// One variable's part of the plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// Instance, group or project.
    pub level: ApiLevel,
    /// The group or project path.
    pub owner: String,
    /// The variable's key.
    pub key: String,
    /// Its environment scope (`None` on instance variables).
    pub scope: Option<String>,
    /// `` `KEY` (environment `SCOPE`) at LEVEL OWNER ``, for messages.
    pub name: String,
    /// The flags to set, e.g. `["protected", "masked"]`.
    pub set: Vec<&'static str>,
    /// What `--fix` leaves (e.g. `cannot set masked`), each with why and the way out.
    pub left: Vec<(&'static str, &'static str)>,
}

impl Step {
    /// Whether `--fix --apply` performs this step.
    pub fn applies(&self) -> bool {
        self.level == ApiLevel::Project && !self.set.is_empty()
    }
}

/// The plan over every audited project; a variable several projects share (an ancestor
/// group's) appears once.
pub fn plan(data: &[AuditData], knowledge: &Knowledge) -> Vec<Step> {
    let mut seen = HashSet::new();
    data.iter()
        .flat_map(|data| {
            let cx = Context::new(data, knowledge);
            cx.credentials().filter_map(step).collect::<Vec<_>>()
        })
        .filter(|step| seen.insert(step.name.clone()))
        .collect()
}

/// What `--fix` does for one credential, or `None` when there is nothing to say.
fn step(variable: &Assessed<'_>) -> Option<Step> {
    let flags = variable.variable;
    let mut set = Vec::new();
    let mut left = Vec::new();
    // A copy for one non-production environment stays unprotected: merge-request pipelines
    // use it (`non-production-credential-unprotected`).
    if !flags.protected && !variable.is_non_production_copy() {
        set.push("protected");
    }
    if !flags.masked {
        match credential_not_masked::advice(variable) {
            (Some(Maskability::Maskable), _) => set.push("masked"),
            (_, why) => left.push(("cannot set masked", why)),
        }
    }
    let masked = flags.masked || set.contains(&"masked");
    if masked && flags.hidden == Some(false) {
        left.push(HIDDEN);
    }
    if variable.level != ApiLevel::Project && !set.is_empty() {
        left.push(NOT_PROJECT);
    }
    (!set.is_empty() || !left.is_empty()).then(|| Step {
        level: variable.level,
        owner: variable.owner.to_owned(),
        key: flags.key.clone(),
        scope: flags.environment_scope.clone(),
        name: variable.name(),
        set,
        left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{data, plain, project, set};
    use crate::gitlab::types::{Level, Variable};

    fn variable(key: &str, value: Option<&str>, protected: bool, masked: bool) -> Variable {
        Variable {
            protected,
            masked,
            hidden: Some(false),
            ..crate::audit::checks::testing::variable(key, value)
        }
    }

    #[test]
    fn plans_only_what_gitlab_accepts_and_never_hidden() {
        let data = project(vec![
            variable("DB_PASSWORD", Some("abcd1234efgh"), false, false),
            variable("API_TOKEN", Some("pa$$word!with-specials"), true, false),
            variable("PIN_SECRET", Some("1234"), false, false),
            variable("OK_PASSWORD", Some("abcd1234efgh"), true, true),
            Variable {
                hidden: Some(true),
                ..variable("HIDDEN_PASSWORD", None, true, true)
            },
            plain("DBT_TARGET", "dev"),
        ]);
        let plan = plan(&[data], &Knowledge::default());
        let got: Vec<(&str, &[&str], usize)> = plan
            .iter()
            .map(|s| (s.key.as_str(), s.set.as_slice(), s.left.len()))
            .collect();
        assert_eq!(
            got,
            [
                ("DB_PASSWORD", &["protected", "masked"][..], 1),
                ("API_TOKEN", &[][..], 1),
                ("PIN_SECRET", &["protected"][..], 1),
                ("OK_PASSWORD", &[][..], 1),
            ]
        );
        assert!(plan[1].left[0].1.contains("`raw` and `masked`"));
        assert!(plan[2].left[0].1.contains("shorter than 8"));
        assert_eq!(plan[3].left, [HIDDEN]);
        assert!(plan[0].applies() && !plan[1].applies());
    }

    #[test]
    fn group_variables_are_planned_once_and_not_applied() {
        let group = set(
            Level::Group,
            "data",
            vec![variable(
                "GROUP_PASSWORD",
                Some("abcd1234efgh"),
                false,
                true,
            )],
        );
        let plan = plan(
            &[data(vec![group.clone()]), data(vec![group])],
            &Knowledge::default(),
        );
        assert_eq!(plan.len(), 1, "{plan:?}");
        assert_eq!(plan[0].set, ["protected"]);
        assert!(!plan[0].applies());
        assert!(plan[0].left.contains(&NOT_PROJECT));
    }
}
