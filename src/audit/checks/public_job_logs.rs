//! `public-job-logs`: job logs open to everyone (or every signed-in user) while credentials
//! are not masked.

use super::Context;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::gitlab::types::Visibility;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "public-job-logs",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "Job logs are public while credential variables are not masked",
    why: "With \"Public pipelines\" (`public_jobs`) on a public project everyone, and on an internal project every signed-in user, reads the job logs. Any unmasked credential a job prints is then readable far beyond the project's members.",
    fix: "Turn off Settings > CI/CD > General pipelines > Public pipelines, or mask every credential (see credential-not-masked). `ciguard audit --fix` does not change project settings.",
};

/// Reports the setting when it is on, the project is public or internal, and a credential is
/// not masked.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(settings) = &cx.data.settings else {
        return;
    };
    let visibility = match settings.visibility {
        Some(Visibility::Public) => "public",
        Some(Visibility::Internal) => "internal",
        _ => return,
    };
    let unmasked = cx.credentials().filter(|v| !v.variable.masked).count();
    if settings.public_jobs == Some(true) && unmasked > 0 {
        out.push(cx.setting_finding(
            &RULE,
            "public_jobs",
            format!(
                "job logs of this {visibility} project are public and {unmasked} credential \
                 variable(s) are not masked"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checks::testing::{project, run, variable};
    use crate::gitlab::types::{ProjectSettings, Variable};

    fn with(visibility: Visibility, public_jobs: bool, masked: bool) -> Vec<Finding> {
        let mut data = project(vec![Variable {
            masked,
            ..variable("DB_PASSWORD", Some("abcd1234efgh"))
        }]);
        data.settings = Some(ProjectSettings {
            visibility: Some(visibility),
            public_jobs: Some(public_jobs),
            ..ProjectSettings::default()
        });
        run(check, &data)
    }

    #[test]
    fn fires_for_public_logs_with_unmasked_credentials() {
        assert_eq!(with(Visibility::Public, true, false).len(), 1);
        assert_eq!(with(Visibility::Internal, true, false).len(), 1);
    }

    #[test]
    fn quiet_otherwise() {
        assert!(with(Visibility::Private, true, false).is_empty());
        assert!(with(Visibility::Public, false, false).is_empty());
        assert!(with(Visibility::Public, true, true).is_empty());
        let unknown = project(vec![Variable {
            masked: false,
            ..variable("DB_PASSWORD", None)
        }]);
        assert!(run(check, &unknown).is_empty());
    }
}
