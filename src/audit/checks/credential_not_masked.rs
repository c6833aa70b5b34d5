//! `credential-not-masked`: a credential job logs would show in clear; says whether GitLab can
//! mask it and, when it cannot, the way out.

use super::{Assessed, Context};
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::gitlab::maskable::{self, Maskability};
use crate::gitlab::types::VariableType;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "credential-not-masked",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "A credential variable is not masked: job logs show it in clear",
    why: "The runner replaces only the values of masked variables with `[MASKED]`. An unmasked credential shows in clear wherever a job prints it: an environment dump, `set -x`, debug trace, a traceback holding a connection string.",
    fix: "Set `masked` when GitLab accepts the value (8+ characters, one line; expanded variables only `A-Za-z0-9_+=/@:.~-`). With other special characters, set `raw` and `masked`. A multi-line value (a key file) cannot be masked: make it a `file` variable and run the job under `ciguard run`, which masks the file's content. A value with spaces: store it base64-encoded and masked, and decode it under `ciguard run` with a step that prints `::add-mask::` and the decoded value.",
};

/// What GitLab would make of `variable` as masked (`None`: its value is unknown), and a clause
/// saying so with the way out when it cannot mask it.
pub fn advice(variable: &Assessed<'_>) -> (Option<Maskability>, &'static str) {
    let Some(value) = variable.value() else {
        return (
            None,
            "its value could not be read to tell whether GitLab can mask it",
        );
    };
    let maskability = maskable::assess(value, variable.variable.raw);
    let text = if maskability == Maskability::MultiLine
        && variable.variable.variable_type == VariableType::File
    {
        "GitLab cannot mask it (more than one line): run the jobs that use it under \
         `ciguard run`, which masks the file's content"
    } else {
        maskability.advice()
    };
    (Some(maskability), text)
}

/// Reports each unmasked credential with what GitLab would make of it as masked. A file
/// GitLab cannot mask is low when the pipeline was read and every job it reaches runs under
/// `ciguard run`.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for variable in cx.credentials().filter(|v| !v.variable.masked) {
        let (maskability, advice) = advice(variable);
        let scope = variable.variable.environment_scope.as_deref().unwrap_or("*");
        let scrubbed = variable.variable.variable_type == VariableType::File
            && maskability == Some(Maskability::MultiLine)
            && cx.knowledge.scrubbed_wherever_received(scope) == Some(true);
        let message = if scrubbed {
            format!(
                "{} is {} but not masked; GitLab cannot mask it (more than one line), and every \
                 job of the pipeline that receives it runs under `ciguard run`, which masks the \
                 file's content",
                variable.name(),
                variable.why_credential()
            )
        } else {
            format!(
                "{} is {} but not masked; {advice}",
                variable.name(),
                variable.why_credential()
            )
        };
        let finding = variable.finding(&RULE, message);
        out.push(if scrubbed {
            finding.with_severity(Severity::Low)
        } else {
            finding
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run, variable};
    use crate::gitlab::types::Variable;

    fn unmasked(key: &str, value: &str) -> Variable {
        Variable {
            masked: false,
            ..variable(key, Some(value))
        }
    }

    #[test]
    fn fires_with_the_way_out() {
        let data = project(vec![
            unmasked("DB_PASSWORD", "abcd1234efgh"),
            unmasked("API_TOKEN", "pa$$word!with-specials"),
            unmasked(
                "PRIVATE_KEY",
                "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
            ),
            Variable {
                variable_type: VariableType::File,
                ..unmasked("GCP_CREDENTIALS", "{\n  \"type\": \"service_account\"\n}\n")
            },
            unmasked("SMTP_PASSWORD", "correct horse battery"),
            unmasked("PIN_SECRET", "1234"),
        ]);
        let found = run(check, &data);
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 6, "{messages:#?}");
        assert!(messages[0].contains("set `masked`"), "{}", messages[0]);
        assert!(
            messages[1].contains("`raw` and `masked`"),
            "{}",
            messages[1]
        );
        assert!(messages[2].contains("`file` variable"), "{}", messages[2]);
        assert!(messages[3].contains("file's content"), "{}", messages[3]);
        assert!(!messages[3].contains("`file` variable"), "{}", messages[3]);
        assert!(messages[4].contains("::add-mask::"), "{}", messages[4]);
        assert!(messages[5].contains("shorter than 8"), "{}", messages[5]);
        assert!(
            messages
                .iter()
                .all(|m| !m.contains("horse") && !m.contains("1234"))
        );
    }

    #[test]
    fn a_key_file_is_low_only_when_every_job_receiving_it_is_scrubbed() {
        use crate::credentials::{Knowledge, PipelineJob};
        use crate::audit::checks::Context;
        let data = project(vec![Variable {
            variable_type: VariableType::File,
            environment_scope: Some("production".into()),
            ..unmasked("SNOWFLAKE_PRIVATE_KEY", "-----BEGIN KEY-----\nabc\n-----END KEY-----\n")
        }]);
        let job = |name: &str, environment: Option<&str>, scrubbed| PipelineJob {
            name: name.into(),
            environment: environment.map(str::to_owned),
            scrubbed,
        };
        let severity = |jobs: Option<Vec<PipelineJob>>| {
            let knowledge = Knowledge {
                pipeline_jobs: jobs,
                ..Knowledge::default()
            };
            let cx = Context::new(&data, &knowledge);
            let mut found = Vec::new();
            check(&cx, &mut found);
            assert_eq!(found.len(), 1);
            found[0].severity
        };
        assert_eq!(severity(None), Severity::High, "pipeline not read");
        let scrubbed = vec![job("elt", Some("production"), true), job("lint", None, false)];
        assert_eq!(severity(Some(scrubbed)), Severity::Low);
        let printed = vec![job("elt", Some("production"), true), job("debug", Some("production"), false)];
        assert_eq!(severity(Some(printed)), Severity::High);
    }

    #[test]
    fn quiet_for_masked_credentials_and_plain_settings() {
        let data = project(vec![
            variable("DB_PASSWORD", Some("abcd1234efgh")),
            unmasked("WAREHOUSE_HOST", "db.example.com"),
        ]);
        assert!(run(check, &data).is_empty());
    }
}
