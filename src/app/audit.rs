//! `ciguard audit`: resolves configuration, reads the variables (`--from-file` for now; the API
//! client comes later), runs the checks, applies the configuration, writes the reports, and
//! picks the exit status.

use std::path::Path;

use super::output::{self, EXIT_FAILED};
use crate::audit::model::VariableSet;
use crate::audit::{self, AuditData};
use crate::cli::AuditArgs;
use crate::findings::{ApiLevel, FindingSet};
use crate::run::note;

/// The owner findings name when `--project-name` is not given.
const FILE_OWNER: &str = "(file)";

/// Runs `ciguard audit`; returns its exit status.
pub fn audit(args: AuditArgs) -> u8 {
    let (config, knowledge) = match output::configure(args.config.as_deref()) {
        Ok(configured) => configured,
        Err(message) => {
            note(message);
            return EXIT_FAILED;
        }
    };
    let project = args.project_name.unwrap_or_else(|| FILE_OWNER.to_owned());
    let data = match read_file(&args.from_file, project) {
        Ok(data) => data,
        Err(message) => {
            note(message);
            return EXIT_FAILED;
        }
    };
    let mut findings = audit::audit(&data, &knowledge);
    drop(data);
    if let Some(config) = &config {
        config.apply(&mut findings);
    }
    let set = FindingSet::new(findings);
    output::finish(
        "ciguard audit",
        &args.output,
        &set,
        &[],
        audit::RULES,
        false,
    )
}

/// Reads a variables list as the project's only data.
fn read_file(path: &Path, project: String) -> Result<AuditData, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let variables = audit::parse_variables(&text).map_err(|err| {
        format!(
            "{}:{err}; give a JSON array of variables as `GET /projects/:id/variables` returns it",
            path.display()
        )
    })?;
    Ok(AuditData {
        variable_sets: vec![VariableSet {
            level: ApiLevel::Project,
            owner: project.clone(),
            variables,
        }],
        project,
        settings: None,
        protected_branches: None,
        protected_tags: None,
        protected_environments: None,
    })
}
