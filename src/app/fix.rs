//! `ciguard audit --fix [--apply]`: prints the plan on stderr and, with `--apply`, performs it
//! through the API one variable at a time; a refusal is reported and the others go on. Messages
//! name keys and scopes, never values.

use super::connection::{client, runtime};
use crate::audit::AuditData;
use crate::audit::fix::{self, Step};
use crate::cli::AuditArgs;
use crate::credentials::Knowledge;
use crate::gitlab;
use crate::notice::note;

/// Prints the plan over `data` and, with `--apply`, performs it; `false` when a change failed.
pub fn fix(args: &AuditArgs, data: &[AuditData], knowledge: &Knowledge) -> bool {
    let plan = fix::plan(data, knowledge);
    for step in &plan {
        if !step.set.is_empty() {
            note(format_args!(
                "--fix: {}: set {}",
                step.name,
                step.set.join(", ")
            ));
        }
        for (what, why) in &step.left {
            note(format_args!("--fix: {}: {what}: {why}", step.name));
        }
    }
    let todo: Vec<&Step> = plan.iter().filter(|step| step.applies()).collect();
    if todo.is_empty() {
        note("--fix: nothing to change");
        return true;
    }
    if !args.apply {
        note(format_args!(
            "--fix: {} variable(s) to change; run again with --apply to change them",
            todo.len()
        ));
        return true;
    }
    let applied = client(&args.connection).and_then(|client| Ok((client, runtime()?)));
    let (client, runtime) = match applied {
        Ok(connected) => connected,
        Err(err) => {
            note(format_args!("--fix: nothing changed: {err:#}"));
            return false;
        }
    };
    let failed = runtime.block_on(apply(&client, &todo));
    note(format_args!(
        "--fix: {} variable(s) changed, {failed} failed",
        todo.len() - failed
    ));
    failed == 0
}

/// Performs each step, reporting each change and each refusal; the number that failed.
async fn apply(client: &gitlab::Client, todo: &[&Step]) -> usize {
    let mut failed = 0;
    for step in todo {
        let flags: Vec<(&str, serde_json::Value)> = step
            .set
            .iter()
            .map(|flag| (*flag, serde_json::Value::Bool(true)))
            .collect();
        let scope = step.scope.as_deref().unwrap_or("*");
        let update =
            gitlab::update_project_variable(client, &step.owner, &step.key, scope, &flags, None);
        match update.await {
            Ok(()) => note(format_args!(
                "--fix: changed {}: set {}",
                step.name,
                step.set.join(", ")
            )),
            Err(err) => {
                failed += 1;
                note(format_args!("--fix: not changed {}: {err}", step.name));
            }
        }
    }
    failed
}
