//! What `audit`, `lint` and `scan` share: loading the configuration, writing the reports (stdout or
//! `--output`, and every `--report`), and the exit status they end with.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::cli::OutputArgs;
use crate::config::{self, Config};
use crate::credentials::Knowledge;
use crate::findings::{FindingSet, Rule};
use crate::report::{self, Format};

/// No finding at or above `--fail-on`.
const EXIT_CLEAN: u8 = 0;
/// Findings at or above `--fail-on`.
const EXIT_FINDINGS: u8 = 1;
/// Could not finish.
pub const EXIT_FAILED: u8 = super::EXIT_USAGE;

/// The configuration named by `--config`, else the one discovered from the working directory
/// (`None` when there is none), with its rule ids checked against every rule ciguard has (one
/// file serves both `audit` and `lint`), and the knowledge it gives (the defaults when none).
pub fn configure(explicit: Option<&Path>) -> anyhow::Result<(Option<Config>, Knowledge)> {
    let config = match explicit {
        Some(path) => Some(config::load(path)?),
        None => {
            let here = std::env::current_dir().context("cannot read the working directory")?;
            config::discover(&here)?.map(|(_, config)| config)
        }
    };
    if let Some(config) = &config {
        config.check_rules(&every_rule())?;
    }
    let knowledge = config
        .as_ref()
        .map_or_else(Knowledge::default, Config::knowledge);
    Ok((config, knowledge))
}

/// Every rule ciguard has: lint's (CI, then Meltano), then audit's, then scan's.
fn every_rule() -> Vec<&'static Rule> {
    crate::lint::rules()
        .into_iter()
        .chain(crate::audit::RULES.iter().copied())
        .chain(crate::scan::RULES.iter().copied())
        .collect()
}

/// Writes the reports and picks the exit status: 2 when writing failed or some input could not
/// be analysed, 1 when a finding is at or above `--fail-on`, else 0.
pub fn finish(
    tool: &str,
    output: &OutputArgs,
    set: &FindingSet,
    sources: &[(PathBuf, String)],
    rules: &[&'static Rule],
) -> anyhow::Result<u8> {
    write_reports(tool, output, set, sources, rules)?;
    Ok(if !set.unanalysed().is_empty() {
        EXIT_FAILED
    } else if set.fails(output.fail_on.0) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// Writes the main report (stdout or `--output`) and every `--report FORMAT=PATH`.
fn write_reports(
    tool: &str,
    output: &OutputArgs,
    set: &FindingSet,
    sources: &[(PathBuf, String)],
    rules: &[&'static Rule],
) -> anyhow::Result<()> {
    let sources: Vec<(&Path, &str)> = sources
        .iter()
        .map(|(path, text)| (path.as_path(), text.as_str()))
        .collect();
    let sources = sources.as_slice();
    let to_terminal = output.output.is_none() && io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os(crate::env::NO_COLOR).is_none_or(|v| v.is_empty());
    let context = |color| report::Context {
        tool,
        version: env!("CARGO_PKG_VERSION"),
        sources,
        rules,
        color,
    };
    match &output.output {
        None => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            report::write(output.format, set, &context(color), &mut lock)
                .and_then(|()| lock.flush())
                .context("cannot write the report to stdout")?;
        }
        Some(path) => write_file(output.format, path, set, &context(false))?,
    }
    for (format, path) in &output.reports {
        write_file(*format, path, set, &context(false))?;
    }
    Ok(())
}

fn write_file(
    format: Format,
    path: &Path,
    set: &FindingSet,
    context: &report::Context<'_>,
) -> anyhow::Result<()> {
    let written = File::create(path)
        .map(io::BufWriter::new)
        .and_then(|mut file| {
            report::write(format, set, context, &mut file)?;
            file.flush()
        });
    written.with_context(|| {
        format!(
            "cannot write the {} report to {}",
            format.as_str(),
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_rules_share_an_id_across_lint_and_audit() {
        let mut ids: Vec<&str> = every_rule().iter().map(|rule| rule.id).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            count,
            "a rule id is used twice (by lint and audit?)"
        );
        assert!(
            !ids.contains(&crate::findings::NOT_ANALYSED),
            "reports use that name for inputs not analysed"
        );
    }
}
