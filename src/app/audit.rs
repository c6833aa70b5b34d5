//! `ciguard audit`: resolves configuration, reads the variables (through the GitLab API for
//! `--project` and `--group`, or from `--from-file`), runs the checks, applies the
//! configuration, writes the reports, and picks the exit status (2 when a `--fix --apply`
//! change failed).

use std::path::Path;

use anyhow::Context as _;

use super::connection::{client, non_empty_env, runtime};
use super::output::{self, EXIT_FAILED};
use super::selection;
use crate::audit::{self, AuditData};
use crate::cli::AuditArgs;
use crate::credentials::{Knowledge, PipelineJob};
use crate::diagnostic::FileError;
use crate::env::CI_PROJECT_ID;
use crate::findings::FindingSet;
use crate::gitlab::types::{Level, VariableSet};
use crate::notice::note;

/// The pipeline read when `--pipeline` is not given.
const DEFAULT_PIPELINE: &str = ".gitlab-ci.yml";

/// The owner findings name when `--project-name` is not given.
const FILE_OWNER: &str = "(file)";

/// Runs `ciguard audit`; returns its exit status.
pub fn audit(args: AuditArgs) -> anyhow::Result<u8> {
    let (config, mut knowledge) = output::configure(args.config.as_deref())?;
    knowledge.pipeline_jobs = pipeline_jobs(&args, &knowledge)?;
    let data = read(&args)?;
    let mut findings = Vec::new();
    let mut unchecked = Vec::new();
    for data in &data {
        let audit = audit::audit(data, &knowledge);
        findings.extend(audit.findings);
        unchecked.extend(audit.unchecked);
    }
    let fixed = !args.fix || super::fix::fix(&args, &data, &knowledge);
    drop(data);
    if let Some(config) = &config {
        config.apply(&mut findings);
    }
    for rule in &unchecked {
        note(format_args!(
            "{}: not checked for {}: {}",
            rule.rule.id, rule.project, rule.reason
        ));
    }
    let set = FindingSet::new(findings).with_unchecked(unchecked);
    let status = output::finish("ciguard audit", &args.output, &set, &[], audit::RULES)?;
    Ok(if fixed { status } else { EXIT_FAILED })
}

/// What the command line asks to audit: the file, or each project through the API.
fn read(args: &AuditArgs) -> anyhow::Result<Vec<AuditData>> {
    if let Some(path) = &args.from_file {
        let project = args.project_name.as_deref().unwrap_or(FILE_OWNER);
        return Ok(vec![read_file(path, project.to_owned())?]);
    }
    let projects = if args.project.is_empty() && args.group.is_empty() {
        let id = non_empty_env(CI_PROJECT_ID).context(
            "nothing to audit: give --project ID|PATH or --group ID|PATH (or set CI_PROJECT_ID), \
             or --from-file PATH",
        )?;
        vec![id]
    } else {
        args.project.clone()
    };
    let client = client(&args.connection)?;
    runtime()?.block_on(selection::fetch_selected(client, args, projects))
}

/// The jobs of the project's pipeline: `--pipeline`, or `.gitlab-ci.yml` of the working
/// directory when it is the audited project's checkout (`$CI_PROJECT_ID` or `--from-file`).
fn pipeline_jobs(
    args: &AuditArgs,
    knowledge: &Knowledge,
) -> anyhow::Result<Option<Vec<PipelineJob>>> {
    let own_checkout =
        args.from_file.is_some() || (args.project.is_empty() && args.group.is_empty());
    if let Some(path) = &args.pipeline {
        let jobs = crate::lint::ci::pipeline_jobs(path, knowledge).context(
            "cannot read the pipeline that tells which jobs receive each variable (--pipeline)",
        )?;
        return Ok(Some(jobs));
    }
    if !own_checkout || !Path::new(DEFAULT_PIPELINE).is_file() {
        return Ok(None);
    }
    // The checkout's own pipeline, not asked for: when it cannot be read, the audit goes on as
    // if it had none (nothing is judged lower), and says so.
    match crate::lint::ci::pipeline_jobs(Path::new(DEFAULT_PIPELINE), knowledge) {
        Ok(jobs) => Ok(Some(jobs)),
        Err(err) => {
            note(format_args!(
                "{err}; audited without the pipeline (ciguard lint says more)"
            ));
            Ok(None)
        }
    }
}

/// Reads a variables list as the project's only data.
fn read_file(path: &Path, project: String) -> anyhow::Result<AuditData> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let variables = audit::parse_variables(&text).map_err(|err| {
        FileError::new(
            path,
            format!(
                "{}; give a JSON array of variables as `GET /projects/:id/variables` returns it",
                err.reason
            ),
        )
        .at(err.line, err.column)
    })?;
    Ok(AuditData {
        variable_sets: vec![VariableSet {
            level: Level::Project,
            owner: project.clone(),
            variables,
        }],
        project,
        settings: None,
        protected_branches: None,
        protected_tags: None,
        protected_environments: None,
        reviews: None,
    })
}
