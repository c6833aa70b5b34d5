//! `artifacts-may-hold-secrets`: a job keeps files as artifacts that usually hold credentials
//! (`.env`, `.meltano/`, `*.config.json`, key files), all untracked files, a `dotenv` report
//! written by an environment dump, or public artifacts of a job that holds credentials.

use super::credential_echoed::is_credential_file;
use super::env_dump::dump_kind;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::yaml::ci::Node;
use crate::lint::ci::pipeline::Job;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "artifacts-may-hold-secrets",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    summary: "Job artifacts may hold credentials",
    why: "Artifacts can be downloaded by everyone who can see the pipeline (in public projects, by anyone) for as long as they are kept, and a `dotenv` report passes its variables to later jobs and to downstream pipelines.",
    fix: "List only the files later jobs need. Keep `.env` files, the `.meltano/` directory, generated plugin configuration and key files out of `artifacts:paths`, and write only the variables you mean to pass into a `dotenv` report.",
};

/// Why an artifact path may hold secrets.
fn risky_path(path: &str) -> Option<&'static str> {
    let trimmed = path.trim_start_matches("./").trim_end_matches('/');
    let name = trimmed.rsplit('/').next().unwrap_or(trimmed);
    if matches!(trimmed, "" | "." | "*" | "**" | "**/*") {
        return Some("the whole working directory");
    }
    if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
        return Some("an environment file");
    }
    if trimmed.split('/').any(|part| part == ".meltano") {
        return Some("Meltano's working directory (logs, generated plugin configuration)");
    }
    if name.ends_with(".config.json") || name == "config.json" || name == "profiles.yml" {
        return Some("generated plugin configuration");
    }
    if name.ends_with(".tfstate") || name == ".terraform" {
        return Some("Terraform state");
    }
    if is_credential_file(trimmed) {
        return Some("a key or credential file");
    }
    None
}

/// Reports risky artifact paths, `untracked: true` and `dotenv` reports from env dumps.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for job in cx.all_jobs() {
        let Some(artifacts) = job.get("artifacts") else {
            continue;
        };
        for path in artifacts
            .get("paths")
            .map(Node::scalars)
            .unwrap_or_default()
        {
            let text = path.as_str().unwrap_or_default();
            if let Some(why) = risky_path(text) {
                let message = format!("{} keeps `{text}` as an artifact: {why}", job.title());
                out.push(cx.finding(
                    &RULE,
                    path.at,
                    text,
                    job.logical("artifacts.paths"),
                    message,
                ));
            }
        }
        if let Some(untracked) = artifacts.entry("untracked")
            && untracked.value.as_str() == Some("true")
        {
            let message = format!(
                "{} keeps every untracked file as an artifact, generated configuration and `.env` files included",
                job.title()
            );
            let logical = job.logical("artifacts.untracked");
            out.push(cx.finding(&RULE, untracked.key_at, "untracked", logical, message));
        }
        check_dotenv(cx, job, artifacts, out);
        check_public(cx, job, artifacts, out);
    }
}

/// Artifacts made public on purpose (`access: all`, `public: true`) by a job that holds
/// credentials: anyone who can see the pipeline downloads what it wrote.
fn check_public(cx: &Context<'_>, job: &Job, artifacts: &Node, out: &mut Vec<Finding>) {
    let public = ["access", "public"].into_iter().find_map(|key| {
        artifacts
            .entry(key)
            .filter(|e| matches!(e.value.as_str(), Some("all" | "true")))
    });
    let Some(public) = public else {
        return;
    };
    let credentials = cx.credentials_used(job);
    if credentials.is_empty() {
        return;
    }
    let message = format!(
        "{} uses credentials {} and makes its artifacts public with `{}: {}`",
        job.title(),
        super::name_list(credentials),
        public.key,
        public.value.as_str().unwrap_or_default()
    );
    let logical = job.logical(&format!("artifacts.{}", public.key));
    out.push(cx.finding(&RULE, public.key_at, &public.key, logical, message));
}

/// A `dotenv` report that an environment dump writes.
fn check_dotenv(cx: &Context<'_>, job: &Job, artifacts: &Node, out: &mut Vec<Finding>) {
    let reports = artifacts.get("reports").and_then(|r| r.get("dotenv"));
    for report in reports.map(Node::scalars).unwrap_or_default() {
        let file = report.as_str().unwrap_or_default();
        let dumped = cx.commands_of(job).any(|command| {
            let target = command.command.redirected_to_file().unwrap_or_default();
            target.trim_start_matches("./") == file.trim_start_matches("./")
                && dump_kind(&command.command).is_some()
        });
        if dumped {
            let message = format!(
                "{} writes an environment dump into its dotenv report `{file}`",
                job.title()
            );
            let logical = job.logical("artifacts.reports.dotenv");
            out.push(
                cx.finding(&RULE, report.at, file, logical, message)
                    .with_severity(Severity::High)
                    .with_confidence(Confidence::High),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risky_paths() {
        for path in [
            ".env",
            "prod.env",
            ".meltano/",
            ".meltano/logs/elt",
            "tap.config.json",
            ".",
        ] {
            assert!(risky_path(path).is_some(), "{path}");
        }
        for path in ["dist/", "output/*.jsonl", "report.xml", "environment.md"] {
            assert!(risky_path(path).is_none(), "{path}");
        }
    }
}
