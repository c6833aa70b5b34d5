//! `shadowed-variable`: a variable that one with the same key at a level of higher precedence
//! (instance < ancestor groups, top down < project) overrides in every environment it reaches.

use super::{Assessed, Context};
use crate::credentials::wildcard_matches;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "shadowed-variable",
    severity: Severity::Low,
    confidence: Confidence::High,
    summary: "A variable is shadowed by one with the same key at a level of higher precedence",
    why: "Project variables override group variables, a subgroup's override its parent's, and groups' override the instance's, whatever their environment scopes. A shadowed variable is never used where the other one reaches: a protected, masked, production-scoped group credential can be silently replaced by a weaker project variable, and people rotate or audit the wrong one. Medium when the one that wins is a credential less protected or less masked than the one it shadows.",
    fix: "Delete the variable that is not meant to be used, or rename one of them. If the winner is meant, give it the same protection and masking. `ciguard audit --fix` does not delete or rename variables.",
};

/// Whether `upper`'s scope covers every environment `lower`'s scope reaches (no scope: all).
fn covers(upper: &Assessed<'_>, lower: &Assessed<'_>) -> bool {
    match (
        upper.variable.environment_scope.as_deref(),
        lower.variable.environment_scope.as_deref(),
    ) {
        (None | Some("*"), _) => true,
        (Some(_), None) => false,
        (Some(upper), Some(lower)) => wildcard_matches(upper, lower),
    }
}

/// What the winner lacks that the shadowed variable has.
fn weaker(upper: &Assessed<'_>, lower: &Assessed<'_>) -> Vec<&'static str> {
    let mut lacks = Vec::new();
    if lower.variable.protected && !upper.variable.protected {
        lacks.push("not protected");
    }
    if lower.variable.masked && !upper.variable.masked {
        lacks.push("not masked");
    }
    lacks
}

/// Reports each variable overridden everywhere it reaches, once, naming the nearest winner.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for lower in &cx.variables {
        let Some(upper) = cx
            .variables
            .iter()
            .filter(|upper| {
                upper.rank > lower.rank
                    && upper.variable.key == lower.variable.key
                    && covers(upper, lower)
            })
            .min_by_key(|upper| upper.rank)
        else {
            continue;
        };
        let lacks = weaker(upper, lower);
        let mut message = format!(
            "{} is shadowed by {}: jobs get that one's value wherever this one would reach",
            lower.name(),
            upper.name()
        );
        let worse = (lower.credential.is_some() || upper.credential.is_some()) && !lacks.is_empty();
        if worse {
            message.push_str(&format!(", and that one is {}", lacks.join(" and ")));
        }
        let finding = lower.finding(&RULE, message);
        out.push(if worse {
            finding.with_severity(Severity::Medium)
        } else {
            finding
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{data, run, set, variable};
    use crate::findings::{ApiLevel, Location};
    use crate::gitlab::types::{Level, Variable};

    #[test]
    fn fires_across_levels_worse_when_the_winner_is_weaker() {
        let group = set(
            Level::Group,
            "data",
            vec![Variable {
                environment_scope: Some("production".into()),
                ..variable("DB_PASSWORD", None)
            }],
        );
        let project = set(
            Level::Project,
            "data/elt",
            vec![Variable {
                protected: false,
                ..variable("DB_PASSWORD", Some("abcd1234efgh"))
            }],
        );
        let found = run(check, &data(vec![group, project]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Medium);
        assert!(
            found[0].message.contains("not protected"),
            "{}",
            found[0].message
        );
        let Location::Api(at) = &found[0].location else {
            panic!("not an API location");
        };
        assert_eq!((at.level, at.owner.as_str()), (ApiLevel::Group, "data"));
    }

    #[test]
    fn names_the_nearest_winner_once() {
        let sets = vec![
            set(
                Level::Instance,
                "",
                vec![variable("LOG_LEVEL", Some("info"))],
            ),
            set(
                Level::Group,
                "data",
                vec![variable("LOG_LEVEL", Some("warn"))],
            ),
            set(
                Level::Project,
                "data/elt",
                vec![variable("LOG_LEVEL", Some("debug"))],
            ),
        ];
        let found = run(check, &data(sets));
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|f| f.severity == Severity::Low));
        assert!(
            found[0].message.contains("at group data"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn quiet_for_scopes_side_by_side_and_partial_overrides() {
        let same_level = vec![
            variable("DB_PASSWORD", None),
            Variable {
                environment_scope: Some("production".into()),
                ..variable("DB_PASSWORD", None)
            },
        ];
        assert!(run(check, &crate::audit::checks::testing::project(same_level)).is_empty());
        let group = set(Level::Group, "data", vec![variable("DB_PASSWORD", None)]);
        let project = set(
            Level::Project,
            "data/elt",
            vec![Variable {
                environment_scope: Some("production".into()),
                ..variable("DB_PASSWORD", None)
            }],
        );
        assert!(run(check, &data(vec![group, project])).is_empty());
    }
}
