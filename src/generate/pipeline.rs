//! A `.gitlab-ci.yml` assembled from the components: workflow rules (merge-request pipelines,
//! the default branch and tags; no duplicate branch and merge-request pipelines), the lint and
//! audit jobs, and one job per ELT run, each rendered from `templates/elt.yml`.

use std::collections::BTreeSet;

use super::component::{self, Component, InputValue, RenderError};
use super::emit::{self, Section, map, seq, string};
use super::secrets::{self, ExternalSecret, Provider};
use crate::yaml::{Entry, Value};

/// The audit component's job that scans job logs (left out unless asked for).
const SCAN_JOB: &str = "ciguard-scan-job-logs";

/// The stage of the lint and audit jobs.
const CHECK_STAGE: &str = "test";
/// The stage of the ELT jobs: after the checks, so a failing lint or audit stops them.
const ELT_STAGE: &str = "deploy";

/// What the generated pipeline holds.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Comment lines at the top of the file.
    pub header: Vec<String>,
    /// Pipeline-wide variables (names and plain values, never a credential).
    pub variables: Vec<(String, String)>,
    /// The image of the lint and audit jobs.
    pub ciguard_image: String,
    /// The lint job, in merge-request pipelines and on the default branch.
    pub lint: bool,
    /// The audit job, on the protected default branch.
    pub audit: bool,
    /// With the audit job: scheduled pipelines also scan the project's job logs.
    pub scan_job_logs: bool,
    /// The ELT jobs.
    pub elt: Vec<EltJob>,
}

/// One ELT job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EltJob {
    /// The job's name.
    pub name: String,
    /// The command `ciguard run --` runs.
    pub command: String,
    /// Commands before it (e.g. `meltano install`).
    pub setup: Vec<String>,
    /// The job's image.
    pub image: String,
    /// How the image calls ciguard.
    pub ciguard: String,
    /// The GitLab environment.
    pub environment: String,
    /// Its deployment tier.
    pub tier: Tier,
    /// Production: protected default branch only. Else: merge-request pipelines.
    pub production: bool,
    /// The pipeline schedule (its MELTANO_SCHEDULE value) that runs it, if any.
    pub schedule: Option<String>,
    /// The credentials it fetches from a secret store with `secrets:` (production jobs of
    /// `init --secrets`), instead of CI/CD variables.
    pub external: Option<(Provider, Vec<ExternalSecret>)>,
}

/// A GitLab deployment tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// `production`.
    Production,
    /// `staging`.
    Staging,
}

impl Tier {
    fn as_str(self) -> &'static str {
        match self {
            Tier::Production => "production",
            Tier::Staging => "staging",
        }
    }
}

/// The pipeline as YAML text.
pub fn render(pipeline: &Pipeline) -> Result<String, RenderError> {
    let mut sections = vec![workflow(), stages()];
    if !pipeline.variables.is_empty() {
        sections.push(Section {
            comment: Vec::new(),
            key: "variables".to_owned(),
            value: map(pipeline
                .variables
                .iter()
                .map(|(name, value)| (name.as_str(), string(value)))
                .collect()),
        });
    }
    let mut jobs: Vec<Entry> = Vec::new();
    let check_inputs = |extra: Vec<(&'static str, InputValue)>| {
        let mut inputs = vec![
            ("stage", InputValue::from(CHECK_STAGE)),
            ("image", pipeline.ciguard_image.as_str().into()),
        ];
        inputs.extend(extra);
        inputs
    };
    if pipeline.lint {
        add_jobs(&mut jobs, component::LINT, &check_inputs(Vec::new()))?;
    }
    if pipeline.audit {
        let scan = if pipeline.scan_job_logs {
            "schedules"
        } else {
            "off"
        };
        add_jobs(
            &mut jobs,
            component::AUDIT,
            &check_inputs(vec![("scan_job_logs", scan.into())]),
        )?;
        if !pipeline.scan_job_logs {
            jobs.retain(|job| job.key != SCAN_JOB);
        }
    }
    for job in &pipeline.elt {
        let inputs: Vec<(&str, InputValue)> = vec![
            ("job_name", job.name.as_str().into()),
            ("stage", ELT_STAGE.into()),
            ("image", job.image.as_str().into()),
            ("command", job.command.as_str().into()),
            ("setup", job.setup.clone().into()),
            ("environment", job.environment.as_str().into()),
            ("deployment_tier", job.tier.as_str().into()),
            ("production", job.production.into()),
            ("schedule", job.schedule.clone().unwrap_or_default().into()),
            ("ciguard", job.ciguard.as_str().into()),
        ];
        add_jobs(&mut jobs, component::ELT, &inputs)?;
        if let Some((provider, secrets)) = &job.external {
            add_external_secrets(&mut jobs, &job.name, *provider, secrets);
        }
    }
    drop_unused_templates(&mut jobs);
    sections.extend(jobs.into_iter().map(|entry| Section {
        comment: job_comment(&entry.key, pipeline),
        key: entry.key.to_string(),
        value: entry.value,
    }));
    Ok(emit::document(&pipeline.header, &sections))
}

fn workflow() -> Section {
    let rule = |condition: &str| map(vec![("if", string(condition))]);
    Section {
        comment: lines(&[
            "Pipelines for merge requests, the default branch (pushes and schedules) and tags.",
            "A branch with a merge request gets only its merge-request pipeline, never a second",
            "branch pipeline; other branches get none.",
        ]),
        key: "workflow".to_owned(),
        value: map(vec![(
            "rules",
            seq(vec![
                rule("$CI_PIPELINE_SOURCE == \"merge_request_event\""),
                rule("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"),
                rule("$CI_COMMIT_TAG"),
            ]),
        )]),
    }
}

fn stages() -> Section {
    Section {
        comment: lines(&["The checks run first: a failing lint or audit stops the ELT jobs."]),
        key: "stages".to_owned(),
        value: seq(vec![string(CHECK_STAGE), string(ELT_STAGE)]),
    }
}

/// Adds the jobs `component` renders to `jobs`; a hidden template rendered twice must come out
/// the same.
fn add_jobs(
    jobs: &mut Vec<Entry>,
    component: Component,
    inputs: &[(&str, InputValue)],
) -> Result<(), RenderError> {
    let rendered = component::render(component, inputs)?;
    let Value::Map(entries) = rendered.value else {
        return Ok(());
    };
    for entry in entries {
        match jobs.iter().find(|job| job.key == entry.key) {
            Some(existing) if entry.key.starts_with('.') && same(existing, &entry) => {}
            Some(_) => {
                return Err(RenderError::duplicate_job(component, &entry.key));
            }
            None => jobs.push(entry),
        }
    }
    Ok(())
}

/// Gives job `name` the `id_tokens:` and `secrets:` that fetch `secrets`, before its scripts.
fn add_external_secrets(
    jobs: &mut [Entry],
    name: &str,
    provider: Provider,
    secrets: &[ExternalSecret],
) {
    let Some(Value::Map(keys)) = jobs
        .iter_mut()
        .find(|job| job.key == name)
        .map(|job| &mut job.value.value)
    else {
        return;
    };
    let at = keys
        .iter()
        .position(|entry| entry.key == "before_script" || entry.key == "script")
        .unwrap_or(keys.len());
    let Value::Map(added) = map(secrets::job_keys(provider, secrets)).value else {
        return;
    };
    keys.splice(at..at, added);
}

/// Two renderings of a hidden template are the same when their content is (positions aside).
fn same(a: &Entry, b: &Entry) -> bool {
    emit::document(&[], &[section_of(a)]) == emit::document(&[], &[section_of(b)])
}

fn section_of(entry: &Entry) -> Section {
    Section {
        comment: Vec::new(),
        key: entry.key.to_string(),
        value: entry.value.clone(),
    }
}

/// Removes the hidden templates no job `extends`.
fn drop_unused_templates(jobs: &mut Vec<Entry>) {
    let extended: BTreeSet<String> = jobs
        .iter()
        .filter_map(|job| job.value.get("extends"))
        .flat_map(|extends| extends.scalars().into_iter().filter_map(|s| s.as_str()))
        .map(str::to_owned)
        .collect();
    jobs.retain(|job| !job.key.starts_with('.') || extended.contains(job.key.as_str()));
}

fn job_comment(key: &str, pipeline: &Pipeline) -> Vec<String> {
    if key.starts_with(".ciguard-elt-production-true") {
        return lines(&[
            "Production ELT runs only on the protected default branch (a push or a schedule",
            "there), never in a merge-request pipeline: production variables are protected and",
            "scoped to the production environment, so no other job can read them.",
        ]);
    }
    if key.starts_with(".ciguard-elt-production-false") {
        return lines(&[
            "Non-production ELT runs in merge-request pipelines, with only the variables scoped",
            "to its environment (low-privilege credentials: merge requests run unreviewed code).",
        ]);
    }
    let Some(job) = pipeline.elt.iter().find(|job| job.name == key) else {
        return Vec::new();
    };
    match &job.schedule {
        Some(schedule) => vec![format!(
            "Runs in the pipeline schedule that sets MELTANO_SCHEDULE={schedule} (Build > \
             Pipeline schedules, on the default branch); a manual job otherwise."
        )],
        None => Vec::new(),
    }
}

fn lines(text: &[&str]) -> Vec<String> {
    text.iter().map(|line| (*line).to_owned()).collect()
}
