//! `ciguard init`: reads the Meltano project (or takes the command), renders the pipeline and
//! the setup plan, and writes them: never over a different file without `--force`, whose
//! difference it shows; `--apply` then brings the GitLab project in line with the plan
//! (`init_apply`; with `--stdout` its plan goes to stderr, with `--dry-run` nothing changes).

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context as _, bail};

use super::init_apply;
use crate::cli::{InitArgs, SecretStore};
use crate::diagnostic::FileError;
use crate::generate::component::{self, InputValue};
use crate::generate::diff;
use crate::generate::meltano::MeltanoProject;
use crate::generate::pipeline::{self, EltJob, Pipeline, Tier};
use crate::generate::plan::{Need, SetupPlan};
use crate::generate::secrets::{ExternalSecret, Provider};
use crate::meltano::PROJECT_FILE;
use crate::notice::note;

/// The GitLab environment production ELT jobs deploy to.
const PRODUCTION_ENVIRONMENT: &str = "production";

/// Runs `ciguard init`; returns its exit status.
pub fn init(args: InitArgs) -> anyhow::Result<u8> {
    let generated = generate(&args)?;
    deliver(&args, &generated)?;
    if args.apply.apply {
        if args.dry_run && args.apply.yes {
            note("--dry-run: nothing is changed in GitLab (--yes is ignored)");
        }
        let mode = init_apply::Mode {
            to_stderr: args.stdout,
            dry_run: args.dry_run,
        };
        init_apply::apply(&args.apply, &generated.plan, mode)?;
    }
    Ok(0)
}

/// The files `init` writes and the plan behind them.
struct Generated {
    pipeline: String,
    plan: SetupPlan,
    plan_markdown: String,
}

fn generate(args: &InitArgs) -> anyhow::Result<Generated> {
    let (_, knowledge) = super::output::configure(None)?;
    if !args.image.contains("@sha256:") {
        note(format_args!(
            "the ELT image is not pinned by digest: production jobs run whatever the tag \
             points to when they start (ciguard lint reports it: production-image-unpinned); \
             give --image NAME@sha256:DIGEST"
        ));
    }
    let (elt, needs, header) = match &args.command {
        Some(command) => command_jobs(args, command),
        None => meltano_jobs(args, &knowledge.credential_names)?,
    };
    let mut needs = needs;
    needs.extend(args.variables.iter().map(|name| Need {
        key: name.clone(),
        source: "--variable".to_owned(),
        file: false,
    }));
    let mut audit_needs = Vec::new();
    if !args.no_audit {
        audit_needs.push(Need {
            key: audit_default("token_variable")?,
            source: "the ciguard-audit job: a project access token with read_api, Maintainer"
                .to_owned(),
            file: false,
        });
    }
    let audit_environment = audit_default("environment")?;
    let review = elt
        .iter()
        .find(|job| !job.production)
        .map(|job| job.environment.clone());
    let mut code_owned = vec![args.output.to_string_lossy().into_owned()];
    if args.command.is_none() {
        let meltano = args.meltano.as_deref().unwrap_or(Path::new(PROJECT_FILE));
        code_owned.push(meltano.to_string_lossy().into_owned());
    }
    let mut plan = SetupPlan::new(
        &needs,
        (&audit_environment, &audit_needs),
        PRODUCTION_ENVIRONMENT,
        review.as_deref(),
    )
    .with_code_owners(code_owned, args.code_owner.clone());
    let mut elt = elt;
    if let Some(store) = args.secrets {
        let provider = provider(store);
        let secrets: Vec<ExternalSecret> = needs
            .iter()
            .map(|need| ExternalSecret {
                variable: need.key.clone(),
                file: need.file,
            })
            .collect();
        for job in elt.iter_mut().filter(|job| job.production) {
            job.external = Some((provider, secrets.clone()));
        }
        plan = plan.with_external(provider, secrets);
    }
    let meltano_variables = args.command.is_none().then(|| {
        vec![
            (
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS".to_owned(),
                "false".to_owned(),
            ),
            (
                "MELTANO_CLI_DISABLE_VERSION_CHECK".to_owned(),
                "true".to_owned(),
            ),
        ]
    });
    let pipeline = pipeline::render(&Pipeline {
        header,
        variables: meltano_variables.unwrap_or_default(),
        ciguard_image: args.ciguard_image.clone(),
        lint: true,
        audit: !args.no_audit,
        scan_job_logs: args.scan_job_logs,
        elt,
    })
    .context("internal error")?;
    let pipeline_name = args.output.file_name().map_or_else(
        || ".gitlab-ci.yml".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    let plan_markdown = plan.markdown(&pipeline_name);
    Ok(Generated {
        pipeline,
        plan,
        plan_markdown,
    })
}

/// The store `--secrets` names.
fn provider(store: SecretStore) -> Provider {
    match store {
        SecretStore::Vault => Provider::Vault,
        SecretStore::GcpSecretManager => Provider::GcpSecretManager,
        SecretStore::AwsSecretsManager => Provider::AwsSecretsManager,
        SecretStore::AzureKeyVault => Provider::AzureKeyVault,
        SecretStore::Gitlab => Provider::Gitlab,
    }
}

/// The default of the audit component's input `name` (its token variable, its environment).
fn audit_default(name: &str) -> anyhow::Result<String> {
    component::inputs(component::AUDIT)
        .context("internal error")?
        .into_iter()
        .find(|input| input.name == name)
        .and_then(|input| match input.default {
            Some(InputValue::String(value)) => Some(value),
            _ => None,
        })
        .with_context(|| format!("internal error: the audit component has no {name} default"))
}

type Jobs = (Vec<EltJob>, Vec<Need>, Vec<String>);

fn command_jobs(args: &InitArgs, command: &str) -> Jobs {
    let job = EltJob {
        name: "elt-production".to_owned(),
        command: command.to_owned(),
        setup: args.setup.clone(),
        image: args.image.clone(),
        ciguard: args.ciguard.clone(),
        environment: PRODUCTION_ENVIRONMENT.to_owned(),
        tier: Tier::Production,
        production: true,
        schedule: None,
        external: None,
    };
    let header = header_lines(&format!("for the command `{command}`"));
    (vec![job], Vec::new(), header)
}

fn meltano_jobs(
    args: &InitArgs,
    credential_names: &[crate::credentials::NamePattern],
) -> anyhow::Result<Jobs> {
    let path = args
        .meltano
        .clone()
        .unwrap_or_else(|| Path::new(PROJECT_FILE).to_owned());
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound && args.meltano.is_none() => bail!(
            "no {PROJECT_FILE} in the working directory: run ciguard init in a Meltano \
             project, give --meltano PATH, or --command COMMAND (with --image) for another tool"
        ),
        Err(err) => return Err(err).with_context(|| format!("{}: cannot read it", path.display())),
    };
    let project = MeltanoProject::read(&path, &text, credential_names)?;
    let production = project
        .production_environment(args.production_env.as_deref())
        .map_err(|message| FileError::new(&path, message))?;
    if production.is_none() {
        note(format_args!(
            "{}: no environment named prod, production or prd: production jobs run Meltano's \
             default environment (add one, or name it with --production-env)",
            path.display()
        ));
    }
    let review = project
        .review_environment()
        .filter(|r| Some(*r) != production);
    // With schedules, they say what production runs: several jobs need no --run then (the
    // merge-request run takes the first schedule's).
    let default_run = match (&args.run, project.default_run()) {
        (Some(run), _) => Some(run.split_whitespace().map(str::to_owned).collect()),
        (None, Ok(run)) => run,
        (None, Err(_)) if !project.schedules.is_empty() => None,
        (None, Err(message)) => return Err(FileError::new(&path, message).into()),
    };
    let job = |name: String, run: &[String], schedule: Option<&str>, review: Option<&str>| {
        let meltano_environment = review.or(production);
        let mut command = vec!["meltano".to_owned()];
        command.extend(meltano_environment.map(|e| format!("--environment={e}")));
        command.push("run".to_owned());
        command.extend(run.iter().cloned());
        EltJob {
            name,
            command: command.join(" "),
            setup: if args.setup.is_empty() {
                vec!["meltano install".to_owned()]
            } else {
                args.setup.clone()
            },
            image: args.image.clone(),
            ciguard: args.ciguard.clone(),
            environment: review.unwrap_or(PRODUCTION_ENVIRONMENT).to_owned(),
            tier: if review.is_some() {
                Tier::Staging
            } else {
                Tier::Production
            },
            production: review.is_none(),
            schedule: schedule.map(str::to_owned),
            external: None,
        }
    };
    let mut jobs = Vec::new();
    if project.schedules.is_empty() {
        let run = default_run.as_ref().ok_or_else(|| {
            FileError::new(
                &path,
                "nothing to run: the project has no job, no schedule, and not both an \
                 extractor and a loader",
            )
        })?;
        jobs.push(job("elt-production".to_owned(), run, None, None));
    }
    for schedule in &project.schedules {
        let name = format!("elt-production-{}", schedule.name);
        jobs.push(job(name, &schedule.run, Some(&schedule.name), None));
    }
    if let Some(review) = review {
        let run = default_run
            .or_else(|| project.schedules.first().map(|s| s.run.clone()))
            .unwrap_or_default();
        jobs.push(job(format!("elt-{review}"), &run, None, Some(review)));
    }
    let mut needs: Vec<Need> = project.secrets.iter().map(Need::of_setting).collect();
    needs.extend(project.pseudonymizers.iter().map(|p| Need {
        key: p.key_env.clone(),
        source: format!(
            "mappers {}: the HMAC key of mapping {} (ciguard pseudonymize; 32 bytes or more)",
            p.mapper, p.mapping
        ),
        file: false,
    }));
    let header = header_lines(&format!("from {}", path.display()));
    Ok((jobs, needs, header))
}

fn header_lines(from: &str) -> Vec<String> {
    vec![
        format!(
            "Generated by ciguard init {} {from}.",
            env!("CARGO_PKG_VERSION")
        ),
        "Production credentials reach only the protected default branch and the production"
            .to_owned(),
        "environment; every ELT job runs under `ciguard run`, which masks secrets in its output."
            .to_owned(),
        "The CI/CD variables and protections this needs: CREDENTIALS.md (ciguard init --apply)."
            .to_owned(),
    ]
}

/// Writes (or prints) what was generated, then applies the plan when asked.
fn deliver(args: &InitArgs, generated: &Generated) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    let mut say = |text: &str| {
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .context("cannot write to stdout")
    };
    if args.stdout {
        return say(&generated.pipeline);
    }
    let files = [
        (args.output.as_path(), generated.pipeline.as_str()),
        (args.plan_file.as_path(), generated.plan_markdown.as_str()),
    ];
    let mut to_write = Vec::new();
    let mut refused = Vec::new();
    for (path, content) in files {
        let shown = path.display();
        match fs::read_to_string(path) {
            Ok(existing) if existing == content => say(&format!("{shown}: unchanged\n"))?,
            Ok(existing) => {
                say(&format!(
                    "{shown}: differs from what ciguard generates:\n{}",
                    diff::lines(&existing, content)
                ))?;
                if args.force {
                    to_write.push((path, content));
                } else {
                    refused.push(shown.to_string());
                }
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                if args.dry_run {
                    say(&format!("{shown}: would be written:\n{content}"))?;
                }
                to_write.push((path, content));
            }
            Err(err) => return Err(err).with_context(|| format!("{shown}: cannot read it")),
        }
    }
    if !refused.is_empty() && !args.dry_run {
        let (them, verb) = if refused.len() == 1 {
            ("it", "exists and differs")
        } else {
            ("them", "exist and differ")
        };
        bail!(
            "{} {verb} (shown above): nothing was written; give --force to replace {them}, \
             or --dry-run to only compare",
            refused.join(" and "),
        );
    }
    if !args.dry_run {
        for (path, content) in to_write {
            let shown = path.display();
            fs::write(path, content).with_context(|| format!("{shown}: cannot write it"))?;
            say(&format!("{shown}: written\n"))?;
        }
    }
    say(&format!(
        "\nSetup plan: the CI/CD variables this pipeline reads and how to keep them\n\n{}",
        generated.plan.table()
    ))?;
    Ok(())
}
