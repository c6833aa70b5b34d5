//! `job-token-sent-elsewhere`: a script sends `CI_JOB_TOKEN` to a URL whose host is not the
//! GitLab instance.

use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "job-token-sent-elsewhere",
    severity: Severity::High,
    confidence: Confidence::Medium,
    summary: "A script sends CI_JOB_TOKEN to a host that is not the GitLab instance",
    why: "The job token acts as the user who started the pipeline on this GitLab instance (its API, registries, packages and the projects that allow it) until the job ends; a host that receives it can use it for that long.",
    fix: "Send the job token only to the instance (`$CI_SERVER_URL`, `$CI_API_V4_URL`, `$CI_REGISTRY`). Give another service a credential of its own, or an ID token (`id_tokens:`) with that service as its audience.",
};

/// Variables that name the GitLab instance or its services.
const INSTANCE_VARIABLES: &[&str] = &[
    "CI_SERVER_URL",
    "CI_SERVER_HOST",
    "CI_SERVER_FQDN",
    "CI_API_V4_URL",
    "CI_API_GRAPHQL_URL",
    "CI_PROJECT_URL",
    "CI_REPOSITORY_URL",
    "CI_REGISTRY",
    "CI_DEPENDENCY_PROXY_SERVER",
    "CI_PAGES_URL",
];

/// The host of a URL written in `word`, when it is written out rather than taken from a
/// variable.
fn literal_host(word: &str) -> Option<&str> {
    let (scheme, rest) = super::split_scheme(word)?;
    if !matches!(scheme.rsplit(['"', '\'', '=']).next(), Some("http" | "https")) {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or(host);
    (!host.is_empty() && !host.contains('$')).then_some(host)
}

/// Whether `host` is (likely) the GitLab instance.
fn is_gitlab(host: &str) -> bool {
    host.split('.').any(|label| label.contains("gitlab"))
}

/// Reports each command that sends the job token to a literal host outside GitLab.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for command in cx.script_commands() {
        let words = command.command.words();
        let sends_token = words
            .iter()
            .any(|w| w.variables().contains(&"CI_JOB_TOKEN"));
        if !sends_token {
            continue;
        }
        let to_instance = words
            .iter()
            .any(|w| w.variables().iter().any(|v| INSTANCE_VARIABLES.contains(v)));
        let elsewhere = words
            .iter()
            .filter_map(|w| literal_host(w.text))
            .find(|host| !is_gitlab(host));
        if let Some(host) = elsewhere
            && !to_instance
        {
            let message = format!(
                "{}: `{}` sends `CI_JOB_TOKEN` to `{host}`",
                command.job.title(),
                command.command.program().unwrap_or_default()
            );
            out.push(cx.command_finding(&RULE, &command, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_written_out() {
        assert_eq!(literal_host("https://api.example.com/v1"), Some("api.example.com"));
        assert_eq!(literal_host("--url=https://u:p@x.io:8443/a"), Some("x.io"));
        assert_eq!(literal_host("$CI_API_V4_URL/projects"), None);
        assert_eq!(literal_host("https://$HOST/x"), None);
        assert!(is_gitlab("gitlab.example.com") && is_gitlab("registry.gitlab.com"));
        assert!(!is_gitlab("artifacts.example.com"));
    }
}
