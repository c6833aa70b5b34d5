//! The GitLab CI half of `ciguard lint`: loads a `.gitlab-ci.yml` and its local includes with
//! source positions ([`crate::yaml::ci`], [`pipeline`]), judges where each job can run ([`reach`]),
//! scans its scripts ([`shell`]) and runs every rule under [`rules`], one file per rule.

pub mod pipeline;
pub mod reach;
pub mod rules;
pub mod shell;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::credentials::{Knowledge, PipelineJob};
use crate::diagnostic::FileError;
use crate::findings::{FileLocation, Finding, Location, Rule};
use crate::lint::SourceFile;
use crate::yaml::Pos;
use pipeline::{Job, Pipeline, ScriptLine};
use reach::{Reach, Workflow};
use shell::{Command, Commands};

pub use rules::RULES;

/// Predefined job-scoped tokens: the runner always masks them and they expire with the job.
const JOB_SCOPED_TOKENS: &[&str] = &[
    "CI_JOB_TOKEN",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "CI_JOB_JWT",
    "CI_JOB_JWT_V1",
    "CI_JOB_JWT_V2",
];

/// Whether `name` is one of the runner's job-scoped tokens (masked, expiring with the job).
pub fn is_job_scoped_token(name: &str) -> bool {
    JOB_SCOPED_TOKENS.contains(&name)
}

/// Prefixes of settings whose names contain a credential word but hold none.
const SETTING_PREFIXES: &[&str] = &["SECRET_DETECTION_"];

/// Suffixes of settings whose names contain a credential word but hold none.
const SETTING_SUFFIXES: &[&str] = &[
    "_ENABLED",
    "_DISABLED",
    "_PATHS",
    "_NAME",
    "_IMAGE",
    "_VERSION",
    "_TYPE",
    "_LENGTH",
];

/// What `analyse` found, and the files it read (the top file first).
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Every finding of every CI rule, sorted by location.
    pub findings: Vec<Finding>,
    /// The files the findings point into.
    pub sources: Vec<SourceFile>,
}

/// Loads `path` (a .gitlab-ci.yml) and what it includes locally, runs every CI rule.
pub fn analyse(path: &Path, knowledge: &Knowledge) -> Result<Analysis, FileError> {
    analyse_in_batches(path, knowledge, JOBS_PER_BATCH)
}

/// [`analyse`], checking `batch_size` templates and jobs at a time.
fn analyse_in_batches(
    path: &Path,
    knowledge: &Knowledge,
    batch_size: usize,
) -> Result<Analysis, FileError> {
    let (pipeline, sources) = pipeline::load(path)?;
    let whole = Whole::new(&pipeline, knowledge, &sources);
    let mut findings = Vec::new();
    for batch in Batch::all(&pipeline, batch_size) {
        let context = Context::new(&whole, batch);
        findings.extend(run_checks(&context, rules::CHECKS));
    }
    let mut findings = report_shared_lines_once(findings, &pipeline);
    findings.sort_by(|a, b| (&a.location, a.rule.id).cmp(&(&b.location, b.rule.id)));
    Ok(Analysis { findings, sources })
}

/// Templates and jobs are checked this many at a time: what the rules hold of their scripts
/// stays bounded, whatever the size of the pipeline.
const JOBS_PER_BATCH: usize = 4096;

/// Templates and jobs checked together: a run of [`Pipeline::templates`] then
/// [`Pipeline::jobs`], in that order; the first batch also checks the file's own parts.
#[derive(Debug, Clone)]
struct Batch {
    templates: Range<usize>,
    jobs: Range<usize>,
    first: bool,
}

impl Batch {
    /// Every template and job of `pipeline`, `size` at a time (one batch for an empty one).
    fn all(pipeline: &Pipeline, size: usize) -> Vec<Batch> {
        let templates = pipeline.templates.len();
        let total = templates + pipeline.jobs.len();
        let size = size.max(1);
        let mut batches = Vec::new();
        let mut start = 0_usize;
        loop {
            let end = start.saturating_add(size).min(total);
            batches.push(Batch {
                templates: start.min(templates)..end.min(templates),
                jobs: start.saturating_sub(templates)..end.saturating_sub(templates),
                first: start == 0,
            });
            if end >= total {
                return batches;
            }
            start = end;
        }
    }
}

/// What every batch's context shares: the pipeline and what is worked out once for it.
#[derive(Debug)]
struct Whole<'a> {
    pipeline: &'a Pipeline,
    knowledge: &'a Knowledge,
    sources: &'a [SourceFile],
    /// Where each line of each file starts, found when the first finding in it is located.
    line_starts: Vec<OnceLock<Vec<u32>>>,
    workflow: Workflow<'a>,
    /// [`Pipeline::service_hosts`], when first asked.
    service_hosts: OnceLock<Vec<String>>,
}

impl<'a> Whole<'a> {
    fn new(pipeline: &'a Pipeline, knowledge: &'a Knowledge, sources: &'a [SourceFile]) -> Self {
        Whole {
            pipeline,
            knowledge,
            sources,
            line_starts: sources.iter().map(|_| OnceLock::new()).collect(),
            workflow: Workflow::of(pipeline),
            service_hosts: OnceLock::new(),
        }
    }
}

/// Runs `checks` over `context` on up to 4 threads (the checks only read it), each taking the
/// next check when it is done with one; the findings come out in the order of `checks`.
fn run_checks(context: &Context<'_>, checks: &[rules::Check]) -> Vec<Finding> {
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, 4);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(check) = checks.get(index) else {
                break;
            };
            let mut found = Vec::new();
            check(context, &mut found);
            done.push((index, found));
        }
        done
    };
    let mut by_check: Vec<(usize, Vec<Finding>)> = Vec::new();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let own = work();
        for helper in helpers {
            by_check.extend(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        by_check.extend(own);
    });
    by_check.sort_by_key(|(index, _)| *index);
    by_check.into_iter().flat_map(|(_, found)| found).collect()
}

/// The rules about a job printing secrets to its log: a job none of them fires in, and that
/// runs `ciguard run --`, is scrubbed.
const PRINTING: &[rules::Check] = &[
    rules::debug_trace::check,
    rules::env_dump::check,
    rules::xtrace_with_credentials::check,
    rules::credential_echoed::check,
    rules::elt_not_scrubbed::check,
    rules::meltano_debug_logging::check,
    rules::meltano_config_dump::check,
];

/// The jobs of the pipeline at `path` that run (templates left out), each with its
/// environment and whether its output is scrubbed: it runs `ciguard run --` and no rule about
/// printing secrets fires in it. What `ciguard audit --pipeline` asks of a pipeline.
pub fn pipeline_jobs(path: &Path, knowledge: &Knowledge) -> Result<Vec<PipelineJob>, FileError> {
    let (pipeline, sources) = pipeline::load(path)?;
    let whole = Whole::new(&pipeline, knowledge, &sources);
    let mut found = Vec::with_capacity(pipeline.jobs.len());
    for batch in Batch::all(&pipeline, JOBS_PER_BATCH) {
        let context = Context::new(&whole, batch);
        found.extend(batch_jobs(&context));
    }
    Ok(found)
}

/// [`pipeline_jobs`] for the jobs of one batch.
fn batch_jobs(context: &Context<'_>) -> Vec<PipelineJob> {
    let printing = run_checks(context, PRINTING);
    let prints = |job: &Job| {
        printing.iter().any(|finding| match &finding.location {
            Location::File(at) => at
                .logical
                .strip_prefix(job.name.as_str())
                .is_some_and(|rest| rest.starts_with('.')),
            Location::Api(_) => false,
        })
    };
    let wraps = |job: &Job| {
        context
            .commands_of(job)
            .any(|script| rules::unwrapped(&script.command).is_some_and(|(scrubbed, _)| scrubbed))
    };
    context
        .jobs()
        .map(|(job, _)| PipelineJob {
            name: job.name.clone(),
            environment: job.environment().map(|environment| environment.name),
            scrubbed: wraps(job) && !prints(job),
        })
        .collect()
}

/// A line shared through `extends:`, `!reference`, `default:` or an anchor is reported once: the
/// first finding at it (a template's, since templates are checked first) names the other jobs
/// that run it.
fn report_shared_lines_once(findings: Vec<Finding>, pipeline: &Pipeline) -> Vec<Finding> {
    let names: Vec<&str> = pipeline
        .templates
        .iter()
        .chain(&pipeline.jobs)
        .map(|job| job.name.as_str())
        .collect();
    // The job a finding is in: the longest name its logical path starts with.
    let job_of = |logical: &str| {
        names
            .iter()
            .filter(|name| {
                logical
                    .strip_prefix(**name)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
            .max_by_key(|name| name.len())
            .copied()
    };
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut first_at: HashMap<(&str, PathBuf, u32, u32), usize> = HashMap::new();
    for finding in findings {
        let Location::File(at) = &finding.location else {
            kept.push(finding);
            continue;
        };
        let key = (finding.rule.id, at.path.clone(), at.line, at.column);
        let Some(&index) = first_at.get(&key) else {
            first_at.insert(key, kept.len());
            kept.push(finding);
            continue;
        };
        let first = &mut kept[index];
        let Location::File(first_at) = &first.location else {
            continue;
        };
        let (Some(owner), Some(other)) = (job_of(&first_at.logical), job_of(&at.logical)) else {
            continue;
        };
        let other = other.to_owned();
        if other != owner && !other.starts_with('.') && !first.shared_by.contains(&other) {
            first.shared_by.push(other);
        }
    }
    kept
}

/// What a rule's check sees.
#[derive(Debug)]
pub struct Context<'a> {
    /// The whole pipeline. Rules read its file-level parts through [`Context::file`], so that
    /// they are checked once and not in every batch, and its jobs through [`Context::jobs`] and
    /// [`Context::all_jobs`].
    pub pipeline: &'a Pipeline,
    /// Credential names and production environments.
    pub knowledge: &'a Knowledge,
    /// The files, indexed by [`Pos::file`].
    pub sources: &'a [SourceFile],
    /// Where each line of each file starts, found when the first finding is located.
    whole: &'a Whole<'a>,
    /// The templates and jobs this context checks.
    batch: Batch,
    /// Where each job of `pipeline.jobs` can run, by index.
    reaches: Vec<Reach>,
    /// Every script line of every template and job, in that order.
    script_lines: Vec<ScriptLine<'a>>,
    /// The commands of those lines, scanned once for every rule.
    commands: Commands,
    /// What rules ask of each template and job, in [`Context::all_jobs`] order.
    facts: Vec<JobFacts>,
}

/// What the rules ask of one template or job, worked out once.
#[derive(Debug, Default)]
struct JobFacts {
    /// Its commands in [`Context::commands`].
    commands: Range<usize>,
    /// The credentials it uses ([`Context::credentials_used`]), when first asked.
    credentials: OnceLock<Vec<String>>,
}

/// One simple command of a job's script.
#[derive(Debug, Clone, Copy)]
pub struct ScriptCommand<'c> {
    /// The job.
    pub job: &'c Job,
    /// The script line it is on.
    pub line: &'c ScriptLine<'c>,
    /// The command.
    pub command: Command<'c>,
}

impl ScriptCommand<'_> {
    /// E.g. `deploy.script[2]`.
    pub fn logical(&self) -> String {
        self.line.logical(&self.job.name)
    }

    /// The script text from the command's first word to the end of its line.
    pub fn source_text(&self) -> &str {
        let start = self
            .command
            .words()
            .first()
            .or(self.command.assignments().first())
            .map_or(0, |w| w.offset);
        let rest = self.line.text.get(start..).unwrap_or_default();
        rest.lines().next().unwrap_or_default().trim_end()
    }
}

impl<'a> Context<'a> {
    /// The context of `pipeline`: where each job can run, and every script scanned once.
    fn new(whole: &'a Whole<'a>, batch: Batch) -> Self {
        let jobs = whole
            .pipeline
            .jobs
            .get(batch.jobs.clone())
            .unwrap_or_default();
        Context {
            pipeline: whole.pipeline,
            knowledge: whole.knowledge,
            sources: whole.sources,
            whole,
            reaches: reach::reaches(whole.workflow, jobs),
            batch,
            script_lines: Vec::new(),
            commands: Commands::default(),
            facts: Vec::new(),
        }
        .with_scripts_scanned()
    }

    /// Every script line of the batch's templates and jobs split into commands, once.
    fn with_scripts_scanned(mut self) -> Self {
        for job in self.all_jobs() {
            let first = self.commands.len();
            for line in job.script_lines() {
                self.commands.scan(line.text, self.script_lines.len());
                self.script_lines.push(line);
            }
            self.facts.push(JobFacts {
                commands: first..self.commands.len(),
                credentials: OnceLock::new(),
            });
        }
        self.commands.shrink_to_fit();
        self.script_lines.shrink_to_fit();
        self
    }

    /// Every job with where it can run.
    pub fn jobs(&self) -> impl Iterator<Item = (&'a Job, &Reach)> {
        let jobs = self.pipeline.jobs.get(self.batch.jobs.clone());
        jobs.unwrap_or_default().iter().zip(&self.reaches)
    }

    /// The pipeline, for its file-level parts (includes, global `variables:`, `workflow:`):
    /// given to one batch only, so that what they hold is reported once.
    pub fn file(&self) -> Option<&'a Pipeline> {
        self.batch.first.then_some(self.pipeline)
    }

    /// Every job and every template (hidden job): what rules about a job's content check. A
    /// template is checked once, at its own lines, not again in each job that uses it.
    pub fn all_jobs(&self) -> impl Iterator<Item = &'a Job> + use<'a> {
        let templates = self.pipeline.templates.get(self.batch.templates.clone());
        let jobs = self.pipeline.jobs.get(self.batch.jobs.clone());
        templates
            .unwrap_or_default()
            .iter()
            .chain(jobs.unwrap_or_default())
    }

    /// Every command of every job's and template's scripts.
    pub fn script_commands(&self) -> impl Iterator<Item = ScriptCommand<'_>> {
        self.all_jobs().flat_map(|job| self.commands_of(job))
    }

    /// Every command of one job's scripts.
    pub fn commands_of<'c>(
        &'c self,
        job: &'c Job,
    ) -> impl DoubleEndedIterator<Item = ScriptCommand<'c>> + Clone + 'c {
        let range = self
            .facts_of(job)
            .map(|facts| facts.commands.clone())
            .unwrap_or_default();
        self.commands.range(range).filter_map(move |command| {
            Some(ScriptCommand {
                job,
                line: self.script_lines.get(command.line())?,
                command,
            })
        })
    }

    /// The host names of the pipeline's service containers ([`Pipeline::service_hosts`]).
    pub fn service_hosts(&self) -> &'a [String] {
        let whole = self.whole;
        whole
            .service_hosts
            .get_or_init(|| whole.pipeline.service_hosts())
    }

    /// What the rules ask of `job`, found by where it lives: its place among the batch's
    /// templates or jobs (a job outside the batch has none).
    fn facts_of(&self, job: &Job) -> Option<&JobFacts> {
        let address = std::ptr::from_ref(job).addr();
        let place = |jobs: Option<&[Job]>| {
            let jobs = jobs?;
            let index = address.checked_sub(jobs.as_ptr().addr())? / size_of::<Job>();
            jobs.get(index)
                .is_some_and(|found| std::ptr::eq(found, job))
                .then_some(index)
        };
        let templates = self.pipeline.templates.get(self.batch.templates.clone());
        let jobs = self.pipeline.jobs.get(self.batch.jobs.clone());
        let index = place(templates)
            .or_else(|| place(jobs).map(|index| self.batch.templates.len() + index))?;
        self.facts.get(index)
    }

    /// Whether `name` holds a credential: it matches a credential pattern, is not one of the
    /// runner's own job-scoped tokens, and is not a setting named after secrets
    /// (`SECRET_DETECTION_EXCLUDED_PATHS`).
    pub fn is_credential(&self, name: &str) -> bool {
        let upper = name.to_ascii_uppercase();
        let is_setting = SETTING_PREFIXES.iter().any(|p| upper.starts_with(p))
            || SETTING_SUFFIXES.iter().any(|s| upper.ends_with(s));
        !is_setting && !is_job_scoped_token(name) && self.knowledge.is_credential(name)
    }

    /// The credential variables a job defines or expands, and those it fetches from a secret
    /// store (`secrets:`, whatever their names), sorted.
    pub fn credentials_used(&self, job: &Job) -> &[String] {
        match self.facts_of(job) {
            Some(facts) => facts
                .credentials
                .get_or_init(|| self.find_credentials_used(job)),
            None => &[],
        }
    }

    fn find_credentials_used(&self, job: &Job) -> Vec<String> {
        let fetched = job
            .get("secrets")
            .and_then(|secrets| secrets.entries())
            .unwrap_or_default()
            .iter()
            .map(|entry| entry.key.to_string());
        let mut names: Vec<String> = job
            .variables()
            .into_iter()
            .map(|v| v.name)
            .chain(self.commands_of(job).flat_map(|script| {
                let command = script.command;
                command
                    .words()
                    .iter()
                    .chain(command.assignments().iter())
                    .flat_map(|word| word.variables().into_iter().map(str::to_owned))
                    .collect::<Vec<_>>()
            }))
            .filter(|name| self.is_credential(name))
            .chain(fetched)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// A finding of `rule` on `needle` inside the node at `at` (a multi-line scalar is searched
    /// for the line that holds it).
    pub fn finding(
        &self,
        rule: &'static Rule,
        at: Pos,
        needle: &str,
        logical: String,
        message: String,
    ) -> Finding {
        let start = self.locate(at, needle);
        let width = needle.lines().next().unwrap_or_default().chars().count();
        let width = u32::try_from(width).unwrap_or(u32::MAX).max(1);
        let path = self
            .sources
            .get(at.file_index())
            .map(|s| s.path.clone())
            .unwrap_or_default();
        Finding::new(
            rule,
            Location::File(FileLocation {
                path,
                line: start.line,
                column: start.column,
                end_line: start.line,
                end_column: start.column.saturating_add(width),
                logical,
            }),
            message,
        )
    }

    /// A finding of `rule` on a script command.
    pub fn command_finding(
        &self,
        rule: &'static Rule,
        command: &ScriptCommand<'_>,
        message: String,
    ) -> Finding {
        self.finding(
            rule,
            command.line.at,
            command.source_text(),
            command.logical(),
            message,
        )
    }

    /// Where `needle` is, searching from `at` over the following lines of a block scalar.
    fn locate(&self, at: Pos, needle: &str) -> Pos {
        let needle = needle.lines().next().unwrap_or_default().trim();
        let (Some(source), Some(starts)) = (
            self.sources.get(at.file_index()),
            self.whole.line_starts.get(at.file_index()),
        ) else {
            return at;
        };
        if needle.is_empty() || at.line == 0 {
            return at;
        }
        let starts = starts.get_or_init(|| line_starts(&source.text));
        let first = usize::try_from(at.line - 1).unwrap_or(usize::MAX);
        let following = starts
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take(200)
            .map(|&start| {
                let rest = usize::try_from(start)
                    .ok()
                    .and_then(|start| source.text.get(start..))
                    .unwrap_or_default();
                rest.lines().next().unwrap_or_default()
            });
        for (index, line) in (first..).zip(following) {
            let from = if index == first {
                line.char_indices()
                    .nth(usize::try_from(at.column.saturating_sub(1)).unwrap_or(0))
                    .map_or(line.len(), |(byte, _)| byte)
            } else {
                0
            };
            if let Some(found) = line.get(from..).and_then(|rest| rest.find(needle)) {
                let column = line[..from + found].chars().count() + 1;
                return Pos {
                    file: at.file,
                    line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                    column: u32::try_from(column).unwrap_or(u32::MAX),
                };
            }
        }
        at
    }
}

/// The byte offset where each line of `text` starts.
fn line_starts(text: &str) -> Vec<u32> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(at, _)| at + 1))
        .map(|start| u32::try_from(start).unwrap_or(u32::MAX))
        .collect()
}

#[cfg(test)]
mod tests;
