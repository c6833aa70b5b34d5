//! `expanded-value-with-dollar`: an expanded variable whose value holds `$`.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "expanded-value-with-dollar",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "An expanded variable's value holds `$`",
    why: "GitLab expands `$NAME` and `${NAME}` in the values of variables that are not raw: a password with `$` in it reaches the job changed (and then fails, or is logged while debugging), and the value may pull in another variable's value. Expanded masked values cannot hold `$` at all. For variables that are not credentials this is often on purpose: those findings are low.",
    fix: "Set `raw` on the variable so its value is passed literally (raw values may also be masked with any non-whitespace characters). If the reference is meant, write `$$` for a literal dollar. `ciguard audit --fix` does not set `raw`: it would change what jobs get.",
};

/// Reports each expanded variable whose value holds `$`: medium for credentials, low (and
/// low confidence) for others.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for variable in cx
        .variables
        .iter()
        .filter(|v| !v.variable.raw && v.value().is_some_and(|value| value.contains('$')))
    {
        let finding = variable.finding(
            &RULE,
            format!(
                "{} is expanded and its value holds `$`: GitLab replaces what follows it with \
                 another variable's value; set `raw`",
                variable.name()
            ),
        );
        out.push(match variable.credential {
            Some(_) => finding,
            None => finding
                .with_severity(Severity::Low)
                .with_confidence(Confidence::Low),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{plain, project, run, variable};
    use crate::gitlab::types::Variable;

    #[test]
    fn fires_for_expanded_dollars() {
        let data = project(vec![
            variable("DB_PASSWORD", Some("pa$$w0rd-long")),
            plain("OUTPUT_DIR", "$CI_PROJECT_DIR/out"),
        ]);
        let found = run(check, &data);
        let severities: Vec<Severity> = found.iter().map(|f| f.severity).collect();
        assert_eq!(severities, [Severity::Medium, Severity::Low]);
        assert!(found.iter().all(|f| !f.message.contains("pa$$")));
    }

    #[test]
    fn quiet_when_raw_hidden_or_without_dollar() {
        let data = project(vec![
            Variable {
                raw: true,
                ..variable("DB_PASSWORD", Some("pa$$w0rd-long"))
            },
            variable("API_TOKEN", None),
            plain("WAREHOUSE_HOST", "db.example.com"),
        ]);
        assert!(run(check, &data).is_empty());
    }
}
