//! The CI rules, one file each: a `pub static RULE` and a `check` that appends findings, listed
//! once in the [`registry`] below; and what several rules share.

use super::Context;
use super::pipeline::{Variable, variables_of};
use super::shell::{Command, Words};
use crate::findings::registry;
use crate::yaml::ci::Node;

registry!(
    Context;
    debug_trace,
    env_dump,
    xtrace_with_credentials,
    credential_echoed,
    credential_on_command_line,
    job_token_sent_elsewhere,
    hardcoded_credential,
    production_job_unprotected,
    production_image_unpinned,
    credentials_in_mr_pipeline,
    elt_not_scrubbed,
    meltano_debug_logging,
    meltano_config_dump,
    artifacts_may_hold_secrets,
    pipeline_variables_forwarded,
    credentials_forwarded_downstream,
    unpinned_include,
    include_not_analysed,
);

/// Every `variables:` entry of the file: global, per job (after `extends:`), in `rules:` and in
/// `services:`, with where its mapping is; read one mapping at a time.
pub fn all_variables<'c>(
    cx: &'c Context<'_>,
) -> impl Iterator<Item = (Variable, VariablePath<'c>)> + 'c {
    let root = cx.file().map(|pipeline| &pipeline.root);
    let workflow_rules = root
        .and_then(|r| r.get("workflow"))
        .and_then(|w| w.get("rules"));
    let global = std::iter::once((root.and_then(|r| r.get("variables")), "", "")).chain(
        workflow_rules
            .and_then(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|rule| (rule.get("variables"), "", "workflow.rules.")),
    );
    let per_job = cx.all_jobs().flat_map(|job| {
        let name = job.name.as_str();
        let rules = job.get("rules").and_then(Node::items).unwrap_or_default();
        let services = job
            .get("services")
            .and_then(Node::items)
            .unwrap_or_default();
        std::iter::once((job.get("variables"), name, ""))
            .chain(
                rules
                    .iter()
                    .map(move |rule| (rule.get("variables"), name, "rules.")),
            )
            .chain(
                services
                    .iter()
                    .map(move |service| (service.get("variables"), name, "services.")),
            )
    });
    global.chain(per_job).flat_map(|(mapping, job, section)| {
        mapping
            .map(variables_of)
            .unwrap_or_default()
            .into_iter()
            .map(move |variable| (variable, VariablePath { job, section }))
    })
}

/// Where a `variables:` mapping is: the job (empty for the file's own) and the part of it.
#[derive(Debug, Clone, Copy)]
pub struct VariablePath<'c> {
    job: &'c str,
    section: &'static str,
}

impl VariablePath<'_> {
    /// The logical path of variable `name` in this mapping, e.g. `deploy.rules.variables.X`.
    pub fn logical(&self, name: &str) -> String {
        if self.job.is_empty() {
            format!("{}variables.{name}", self.section)
        } else {
            format!("{}.{}variables.{name}", self.job, self.section)
        }
    }
}

/// A `meltano` command line, possibly behind `ciguard run --` or a Python runner.
#[derive(Debug)]
pub struct MeltanoCall<'a> {
    /// Whether `ciguard run --` scrubs its output.
    pub scrubbed: bool,
    /// The subcommand (`run`, `el`, `invoke`, `config`, ...), if any.
    pub subcommand: Option<&'a str>,
    /// Every word after `meltano`.
    pub args: Words<'a>,
}

/// Meltano's global options that take a separate value.
const MELTANO_VALUE_OPTIONS: &[&str] = &["--log-level", "--environment", "--cwd", "--log-config"];

/// The words of `command` past a `ciguard run ... --` prefix and Python runners
/// (`poetry run`, `uv run`, `python -m`, ...), and whether `ciguard run` scrubs it.
pub fn unwrapped<'s>(command: &Command<'s>) -> Option<(bool, Words<'s>)> {
    let mut words = command.words();
    let mut scrubbed = false;
    if words.first().is_some_and(|w| w.text == "ciguard")
        && words.get(1).is_some_and(|w| w.text == "run")
    {
        let separator = words.iter().position(|w| w.text == "--")?;
        words = words.from(separator + 1);
        scrubbed = true;
    }
    while let (Some(runner), Some(run)) = (words.get(0), words.get(1))
        && matches!(
            runner.text,
            "poetry" | "uv" | "pipenv" | "pdm" | "hatch" | "pipx" | "python" | "python3"
        )
        && (run.text == "run" || run.text == "-m")
    {
        words = words.from(2);
    }
    Some((scrubbed, words))
}

/// The `meltano` call in `command`, if it is one.
pub fn meltano_call<'s>(command: &Command<'s>) -> Option<MeltanoCall<'s>> {
    let (scrubbed, words) = unwrapped(command)?;
    let (program, args) = words.split_first()?;
    if program.text.rsplit('/').next() != Some("meltano") {
        return None;
    }
    let mut subcommand = None;
    let mut index = 0;
    while let Some(word) = args.get(index) {
        if MELTANO_VALUE_OPTIONS.contains(&word.text) {
            index += 2;
        } else if word.text.starts_with('-') {
            index += 1;
        } else {
            subcommand = Some(word.text);
            break;
        }
    }
    Some(MeltanoCall {
        scrubbed,
        subcommand,
        args,
    })
}

/// `text` split around its first `://` (a URL's scheme, and what follows), found by a byte scan:
/// rules ask it of every word.
pub fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(colon) = bytes.get(from..)?.iter().position(|&b| b == b':') {
        let at = from + colon;
        if bytes.get(at + 1..)?.starts_with(b"//") {
            return Some((text.get(..at)?, text.get(at + 3..)?));
        }
        from = at + 1;
    }
    None
}

/// Up to three names, for a message: `A`, `B`, `C` and 2 more.
pub fn name_list(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(3).map(|n| format!("`{n}`")).collect();
    match names.len().saturating_sub(3) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case_and_each_has_a_check() {
        assert_eq!(RULES.len(), CHECKS.len());
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id} is not kebab-case"
            );
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "duplicate rule id");
    }

    #[test]
    fn schemes_split_at_the_first_double_slash_after_a_colon() {
        assert_eq!(split_scheme("https://u:p@h/x"), Some(("https", "u:p@h/x")));
        assert_eq!(split_scheme("a:b:c://d"), Some(("a:b:c", "d")));
        assert_eq!(split_scheme("host:5432/db"), None);
        assert_eq!(split_scheme("ends:"), None);
        assert_eq!(split_scheme("é://x"), Some(("é", "x")));
    }

    #[test]
    fn meltano_calls_see_through_wrappers() {
        let scanned = super::super::shell::Commands::of(
            "ciguard run -- meltano --log-level=debug run tap target\npoetry run meltano el a b\n",
        );
        let commands: Vec<_> = scanned.iter().collect();
        let first = meltano_call(&commands[0]).expect("meltano");
        assert!(first.scrubbed);
        assert_eq!(first.subcommand, Some("run"));
        let second = meltano_call(&commands[1]).expect("meltano");
        assert!(!second.scrubbed);
        assert_eq!(second.subcommand, Some("el"));
    }
}
