//! `ciguard lint`: resolves configuration and paths, runs the CI and Meltano analyses, applies
//! suppressions and configuration, writes the reports, and picks the exit status.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::cli::{LintArgs, OutputArgs};
use crate::config::{self, Config};
use crate::findings::{FileLocation, Finding, FindingSet, Location, Rule};
use crate::lint::{self, Knowledge, LoadError, SourceFile};
use crate::report::{self, Format};
use crate::run::note;
use crate::scrub::MatcherBuilder;

/// No finding at or above `--fail-on`.
const EXIT_CLEAN: u8 = 0;
/// Findings at or above `--fail-on`.
const EXIT_FINDINGS: u8 = 1;
/// Could not finish.
const EXIT_FAILED: u8 = super::EXIT_USAGE;

/// What a path is linted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GitlabCi,
    Meltano,
}

impl Kind {
    /// Files named `meltano.yml` (or ending so, like `cicd.meltano.yml`) are Meltano projects;
    /// anything else is taken for GitLab CI configuration.
    fn of(path: &Path) -> Kind {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.ends_with("meltano.yml") || name.ends_with("meltano.yaml") {
            Kind::Meltano
        } else {
            Kind::GitlabCi
        }
    }
}

/// Runs `ciguard lint`; returns its exit status.
pub fn lint(args: LintArgs) -> u8 {
    let config = match load_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(message) => {
            note(message);
            return EXIT_FAILED;
        }
    };
    let rules = lint::rules();
    if let Some(Err(err)) = config.as_ref().map(|c| c.check_rules(&rules)) {
        note(err);
        return EXIT_FAILED;
    }
    let knowledge = config
        .as_ref()
        .map_or_else(Knowledge::default, Config::knowledge);
    let paths = match lint_paths(args.paths) {
        Ok(paths) => paths,
        Err(message) => {
            note(message);
            return EXIT_FAILED;
        }
    };

    let mut findings = Vec::new();
    let mut sources: Vec<SourceFile> = Vec::new();
    let mut failed = false;
    for path in &paths {
        let analysis = match Kind::of(path) {
            Kind::GitlabCi => lint::ci::analyse(path, &knowledge).map(|a| (a.findings, a.sources)),
            Kind::Meltano => {
                lint::meltano::analyse(path, &knowledge).map(|a| (a.findings, a.sources))
            }
        };
        match analysis {
            Ok((found, read)) => {
                findings.extend(found);
                sources.extend(read);
            }
            Err(err) => {
                report_load_error(&err);
                failed = true;
            }
        }
    }
    lint::suppress::apply(&mut findings, &sources);
    if let Some(config) = &config {
        config.apply(&mut findings);
    }
    let shown = redacted_sources(&sources, &findings);
    let set = FindingSet::new(findings);
    if let Err(message) = write_reports(&args.output, &set, &shown, &rules) {
        note(message);
        return EXIT_FAILED;
    }
    if failed {
        EXIT_FAILED
    } else if set.fails(args.output.fail_on.0) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

fn load_config(explicit: Option<&Path>) -> Result<Option<Config>, String> {
    match explicit {
        Some(path) => config::load(path).map(Some).map_err(|e| e.to_string()),
        None => {
            let here = std::env::current_dir()
                .map_err(|e| format!("cannot read the working directory: {e}"))?;
            config::discover(&here)
                .map(|found| found.map(|(_, c)| c))
                .map_err(|e| e.to_string())
        }
    }
}

/// The paths given, or `.gitlab-ci.yml` and `meltano.yml` in the working directory.
fn lint_paths(given: Vec<PathBuf>) -> Result<Vec<PathBuf>, String> {
    if !given.is_empty() {
        return Ok(given);
    }
    let found: Vec<PathBuf> = [".gitlab-ci.yml", "meltano.yml"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    if found.is_empty() {
        return Err(
            "no .gitlab-ci.yml or meltano.yml in the working directory: \
                    give the files to lint as arguments"
                .into(),
        );
    }
    Ok(found)
}

fn report_load_error(err: &LoadError) {
    note(err);
}

/// The sources as the text report may show them: every credential value starred out, column for
/// column (those the findings flag, and whatever the scrubber's detectors recognise).
fn redacted_sources(sources: &[SourceFile], findings: &[Finding]) -> Vec<(PathBuf, String)> {
    let detectors = MatcherBuilder::new().build();
    let mut values = MatcherBuilder::new();
    for finding in findings
        .iter()
        .filter(|f| lint::VALUE_RULES.contains(&f.rule.id))
    {
        let Location::File(at) = &finding.location else {
            continue;
        };
        let flagged = sources
            .iter()
            .find(|s| s.path == at.path)
            .and_then(|source| flagged_text(&source.text, at));
        // Where a detector recognises the secret inside the flagged text (a token in a URL on
        // a long command line), star out just that, not the whole line.
        if let Some(value) = flagged.filter(|v| detectors.redact_all(v.as_bytes()) == v.as_bytes())
        {
            values.secret(value.as_bytes(), "lint");
        }
    }
    let matcher = values.build();
    sources
        .iter()
        .map(|source| {
            let redacted = matcher.redact_all(source.text.as_bytes());
            (
                source.path.clone(),
                String::from_utf8_lossy(&redacted).into_owned(),
            )
        })
        .collect()
}

/// The text a one-line location covers (columns count characters, 1-based, end exclusive).
fn flagged_text<'a>(text: &'a str, at: &FileLocation) -> Option<&'a str> {
    if at.line != at.end_line {
        return None;
    }
    let line = text.lines().nth(at.line.checked_sub(1)? as usize)?;
    let byte = |column: u32| {
        line.char_indices()
            .map(|(i, _)| i)
            .chain([line.len()])
            .nth(column.checked_sub(1)? as usize)
    };
    line.get(byte(at.column)?..byte(at.end_column)?)
        .filter(|value| !value.is_empty())
}

/// Writes the main report (stdout or `--output`) and every `--report FORMAT=PATH`.
fn write_reports(
    output: &OutputArgs,
    set: &FindingSet,
    sources: &[(PathBuf, String)],
    rules: &[&'static Rule],
) -> Result<(), String> {
    let sources: Vec<(&Path, &str)> = sources
        .iter()
        .map(|(path, text)| (path.as_path(), text.as_str()))
        .collect();
    let sources = sources.as_slice();
    let to_terminal = output.output.is_none() && io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os(crate::env::NO_COLOR).is_none_or(|v| v.is_empty());
    let context = |color| report::Context {
        tool: "ciguard lint",
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
                .map_err(|e| format!("cannot write the report to stdout: {e}"))?;
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
) -> Result<(), String> {
    let fail = |e: io::Error| {
        format!(
            "cannot write the {} report to {}: {e}",
            format.as_str(),
            path.display()
        )
    };
    let mut file = io::BufWriter::new(File::create(path).map_err(fail)?);
    report::write(format, set, context, &mut file).map_err(fail)?;
    file.flush().map_err(fail)
}
