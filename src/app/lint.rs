//! `ciguard lint`: resolves configuration and paths, runs the CI and Meltano analyses, applies
//! suppressions and configuration, writes the reports, and picks the exit status.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::connection::{client, runtime};
use super::{clock, output};
use crate::cli::LintArgs;
use crate::credentials::KnownVariable;
use crate::env::{CI_MERGE_REQUEST_DIFF_BASE_SHA, CI_PROJECT_ID};
use crate::findings::baseline::Baseline;
use crate::findings::{FileLocation, Finding, FindingSet, Location, Unanalysed};
use crate::gitlab;
use crate::lint::suppress::TextBefore;
use crate::lint::{self, SourceFile};
use crate::notice;
use crate::scrub::MatcherBuilder;

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
pub fn lint(args: LintArgs) -> anyhow::Result<u8> {
    let rules = lint::rules();
    let (config, mut knowledge) = output::configure(args.config.as_deref())?;
    if args.gitlab {
        (
            knowledge.project_variables,
            knowledge.protected_variables_in_merge_requests,
        ) = project_variables(&args)?;
    }
    let paths = lint_paths(args.paths.clone())?;

    let mut findings = Vec::new();
    let mut sources: Vec<SourceFile> = Vec::new();
    let mut unanalysed = Vec::new();
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
                // The other files are still linted; the exit status and every report say this
                // one was not.
                notice::error(&err);
                unanalysed.push(Unanalysed {
                    path: err.path,
                    position: err.position,
                    reason: err.reason,
                });
            }
        }
    }
    let today = clock::today();
    lint::suppress::apply(&mut findings, &sources, &today);
    let base = merge_request_base(&args, &sources)?;
    let text_before = |path: &Path| base.as_deref().and_then(|rev| git_show(rev, path));
    let compare: Option<TextBefore<'_>> = base.is_some().then_some(&text_before);
    findings.extend(lint::suppress::unjustified(&sources, &today, compare));
    if let Some(config) = &config {
        config.apply(&mut findings);
    }
    if let Some(path) = &args.baseline {
        read_baseline(path)?.apply(&mut findings);
    }
    if let Some(path) = &args.write_baseline {
        let baseline = Baseline::of(&findings);
        std::fs::write(path, baseline.to_json())
            .with_context(|| format!("writing the baseline {}", path.display()))?;
        notice::note(format!(
            "wrote {} finding(s) to the baseline {}",
            baseline.findings.len(),
            path.display()
        ));
        return Ok(if unanalysed.is_empty() { 0 } else { 2 });
    }
    let shown = redacted_sources(&sources, &findings);
    let set = FindingSet::new(findings).with_unanalysed(unanalysed);
    output::finish("ciguard lint", &args.output, &set, &shown, &rules)
}

/// The commit to compare suppressions with: `--suppressions-since`, else in a merge-request
/// pipeline `$CI_MERGE_REQUEST_DIFF_BASE_SHA`. A commit git cannot find is an error when asked
/// for, and a note in a pipeline (a shallow clone may lack it).
fn merge_request_base(args: &LintArgs, sources: &[SourceFile]) -> anyhow::Result<Option<String>> {
    let (rev, asked) = match (
        &args.suppressions_since,
        std::env::var(CI_MERGE_REQUEST_DIFF_BASE_SHA),
    ) {
        (Some(rev), _) => (rev.clone(), true),
        (None, Ok(rev)) if !rev.is_empty() => (rev, false),
        _ => return Ok(None),
    };
    // Given to git as an argument: never let it read as one of git's options.
    if rev.starts_with('-') {
        bail!("--suppressions-since: not a commit; name one by its hash, branch or tag");
    }
    let dir = sources
        .first()
        .and_then(|s| s.path.parent())
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let found = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--quiet", "--verify"])
        .arg(format!("{rev}^{{commit}}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    match (found, asked) {
        (true, _) => Ok(Some(rev)),
        (false, true) => bail!(
            "--suppressions-since: git cannot find that commit here; fetch it (a deeper clone) or name another"
        ),
        (false, false) => {
            notice::note(
                "the merge request's base commit is not in this clone (raise GIT_DEPTH): \
                 suppressions it adds are not reported",
            );
            Ok(None)
        }
    }
}

/// The text of `path` at commit `rev`, `None` when the file did not exist there.
fn git_show(rev: &str, path: &Path) -> Option<String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name()?.to_string_lossy();
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .arg("show")
        .arg(format!("{rev}:./{name}"))
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The baseline at `path`, or why it cannot be used.
fn read_baseline(path: &Path) -> anyhow::Result<Baseline> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the baseline {}", path.display()))?;
    Baseline::parse(&text).map_err(|why| anyhow::anyhow!("the baseline {}: {why}", path.display()))
}

/// The paths given, or `.gitlab-ci.yml` and `meltano.yml` in the working directory.
fn lint_paths(given: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given);
    }
    let found: Vec<PathBuf> = [".gitlab-ci.yml", "meltano.yml"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    if found.is_empty() {
        bail!(
            "no .gitlab-ci.yml or meltano.yml in the working directory: \
             give the files to lint as arguments"
        );
    }
    Ok(found)
}

/// The flags of every variable that reaches the project (its own and its groups'), read
/// through the GitLab API, and whether merge-request pipelines between protected branches get
/// protected variables (`protect_merge_request_pipelines`, on unless the answer says off).
/// Values are dropped here: the rules never see them.
fn project_variables(args: &LintArgs) -> anyhow::Result<(Vec<KnownVariable>, bool)> {
    let project = args
        .project
        .clone()
        .or_else(|| {
            std::env::var(CI_PROJECT_ID)
                .ok()
                .filter(|id| !id.is_empty())
        })
        .context("--gitlab needs the project: give --project ID|PATH (or set CI_PROJECT_ID)")?;
    let client = client(&args.connection)?;
    let data = runtime()?.block_on(gitlab::fetch_project(
        &client,
        &gitlab::GroupVariables::default(),
        &project,
    ))?;
    let variables = data
        .variable_sets
        .iter()
        .flat_map(|set| &set.variables)
        .map(|variable| KnownVariable {
            key: variable.key.clone(),
            protected: variable.protected,
            masked: variable.masked,
            environment_scope: variable
                .environment_scope
                .clone()
                .unwrap_or_else(|| "*".to_owned()),
        })
        .collect();
    let protected_in_merge_requests = data
        .settings
        .and_then(|settings| settings.protect_merge_request_pipelines)
        != Some(false);
    Ok((variables, protected_in_merge_requests))
}

/// The sources as the text report may show them: every credential value starred out, column for
/// column (those the findings flag, and whatever the scrubber's detectors recognise).
fn redacted_sources(sources: &[SourceFile], findings: &[Finding]) -> Vec<(PathBuf, String)> {
    let detectors = MatcherBuilder::new().build();
    let mut values = MatcherBuilder::new();
    for finding in findings.iter().filter(|f| f.rule.points_at_value) {
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
