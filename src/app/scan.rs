//! `ciguard scan`: builds the matcher `run` would (the environment's credential values,
//! Meltano's sensitive settings, every detector), then streams files, standard input, or, with
//! `--gitlab`, the job logs of each project (with the values of the variables that reach it)
//! through it; reports what it found like `lint`, and with `--erase` erases the jobs that leaked.

use std::env;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use super::connection::{client, non_empty_env, runtime};
use super::output::{self, EXIT_FAILED};
use super::secrets;
use crate::audit::shard::Shard;
use crate::cli::ScanArgs;
use crate::config::Config;
use crate::env::{CI_PROJECT_ID, MELTANO_PROJECT_ROOT};
use crate::findings::{Finding, FindingSet, Unanalysed};
use crate::gitlab::types::{Level, VariableSet};
use crate::gitlab::{self, Client, Job};
use crate::meltano;
use crate::notice::note;
use crate::run::secrets::{self as run_secrets, Collection, Policy, maskable_parts};
use crate::scan::{self, JobLog, Leaks, Place, Scanner};
use crate::scrub::{Matcher, MatcherBuilder};
use crate::secret::Secret;

/// The folder name never descended into: git's object store is compressed, so nothing in it
/// could be found, and its size would dominate.
const GIT_DIR: &str = ".git";

/// Runs `ciguard scan`; returns its exit status.
pub fn scan(args: ScanArgs) -> anyhow::Result<u8> {
    let (config, _) = output::configure(args.config.as_deref())?;
    let config = config.unwrap_or_default();
    let project_root =
        env::var_os(MELTANO_PROJECT_ROOT).map_or_else(|| PathBuf::from("."), PathBuf::from);
    let meltano_names = meltano::sensitive_env_names(&project_root)?;
    let policy = secrets::policy(&args.secrets, &config, meltano_names);
    let collection = run_secrets::collect(env::vars_os(), &policy);
    secrets::tell(&collection, policy.min_length);
    let base = Base {
        args: &args,
        config: &config,
        policy: &policy,
        collection: &collection,
    };
    let (mut findings, unanalysed, erase_failed) = if args.gitlab {
        scan_gitlab(&base)?
    } else {
        let (findings, unanalysed) = scan_paths(&args.paths, &base);
        (findings, unanalysed, false)
    };
    // Severity overrides, disabled rules and ignored paths of `.ciguard.yml`, as for lint.
    config.apply(&mut findings);
    let set = FindingSet::new(findings).with_unanalysed(unanalysed);
    let status = output::finish("ciguard scan", &args.output, &set, &[], scan::RULES)?;
    Ok(if erase_failed { EXIT_FAILED } else { status })
}

/// What every input's matcher starts from: the environment's values and the detectors asked for.
struct Base<'a> {
    args: &'a ScanArgs,
    config: &'a Config,
    policy: &'a Policy,
    collection: &'a Collection,
}

impl Base<'_> {
    /// The matcher for the environment's values and `more` (each with the name findings give
    /// it), and the names of all of them by secret number.
    fn matcher(&self, more: &[NamedValue]) -> (Arc<Matcher>, Vec<String>) {
        let mut builder: MatcherBuilder =
            secrets::matcher(&self.args.secrets, self.config, self.collection);
        let mut names: Vec<String> = self
            .collection
            .secrets
            .iter()
            .map(|found| format!("`{}`", found.name))
            .collect();
        for (value, name) in more {
            builder.secret(value.expose(), "gitlab");
            names.push(name.clone());
        }
        // Secret numbers index `names`: every value registered is non-empty, so takes one.
        debug_assert_eq!(builder.secret_count(), names.len());
        (Arc::new(builder.build()), names)
    }
}

/// Scans files, folders and standard input.
fn scan_paths(paths: &[PathBuf], base: &Base<'_>) -> (Vec<Finding>, Vec<Unanalysed>) {
    let (matcher, names) = base.matcher(&[]);
    let mut walk = Walk {
        matcher,
        names,
        findings: Vec::new(),
        unanalysed: Vec::new(),
        files: 0,
        bytes: 0,
        skipped: 0,
        set_aside: 0,
    };
    for path in paths {
        if path.as_os_str() == "-" {
            walk.scan(path, io::stdin().lock());
        } else {
            walk.visit(path, true);
        }
    }
    let skipped = if walk.skipped == 0 {
        String::new()
    } else {
        format!(
            "; {} not followed (symbolic links, pipes, devices)",
            count(walk.skipped, "item")
        )
    };
    note(format_args!(
        "scanned {}, {}{skipped}{}",
        count(walk.files, "file"),
        count(walk.bytes, "byte"),
        set_aside(walk.set_aside)
    ));
    (walk.findings, walk.unanalysed)
}

/// The state of a walk over paths.
struct Walk {
    matcher: Arc<Matcher>,
    names: Vec<String>,
    findings: Vec<Finding>,
    unanalysed: Vec<Unanalysed>,
    files: u64,
    bytes: u64,
    /// Entries of folders that are neither files nor folders.
    skipped: u64,
    set_aside: u64,
}

impl Walk {
    /// Scans a file, or a folder's entries in name order; `given` when the user named it.
    fn visit(&mut self, path: &Path, given: bool) {
        let meta = match fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(err) => return self.unreadable(path, &err),
        };
        let kind = meta.file_type();
        // Inside a folder only files and folders are read: a link may lead anywhere (a loop),
        // and a pipe or a device may never end.
        if !(given || kind.is_file() || kind.is_dir()) {
            self.skipped += 1;
        } else if meta.is_dir() || (kind.is_symlink() && path.is_dir()) {
            if !given && path.file_name().is_some_and(|name| name == GIT_DIR) {
                return;
            }
            let entries = match fs::read_dir(path) {
                Ok(entries) => entries,
                Err(err) => return self.unreadable(path, &err),
            };
            let mut children: Vec<PathBuf> = Vec::new();
            for entry in entries {
                match entry {
                    Ok(entry) => children.push(entry.path()),
                    Err(err) => return self.unreadable(path, &err),
                }
            }
            children.sort();
            for child in children {
                self.visit(&child, false);
            }
        } else {
            match File::open(path) {
                Ok(file) => self.scan(path, file),
                Err(err) => self.unreadable(path, &err),
            }
        }
    }

    /// Streams one input through the matcher.
    fn scan(&mut self, path: &Path, input: impl Read) {
        match read_leaks(&self.matcher, input) {
            Ok(leaks) => {
                self.files += 1;
                self.bytes += leaks.bytes;
                self.set_aside += leaks.set_aside;
                let place = Place::File(path.to_owned());
                self.findings.extend(leaks.findings(&place, &self.names));
            }
            Err(err) => self.unreadable(path, &err),
        }
    }

    fn unreadable(&mut self, path: &Path, err: &io::Error) {
        self.unanalysed.push(Unanalysed {
            path: path.to_owned(),
            position: None,
            reason: format!("cannot read it: {err}; check that it exists and is readable"),
        });
    }
}

/// Streams `input` through a scanner.
fn read_leaks(matcher: &Arc<Matcher>, mut input: impl Read) -> io::Result<Leaks> {
    let mut scanner = Scanner::new(Arc::clone(matcher));
    let mut buffer = vec![0; scan::CHUNK];
    loop {
        match input.read(&mut buffer) {
            Ok(0) => return Ok(scanner.finish()),
            Ok(n) => scanner.feed(&buffer[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

/// A value to look for, with the name findings give it.
type NamedValue = (Secret<Vec<u8>>, String);

/// What `--gitlab` found: findings, logs not read, and whether an erase failed.
type GitlabResult = (Vec<Finding>, Vec<Unanalysed>, bool);

/// Scans the job logs of every selected project, then erases the leaking jobs if asked.
fn scan_gitlab(base: &Base<'_>) -> anyhow::Result<GitlabResult> {
    let args = base.args;
    let mut projects = args.project.clone();
    if projects.is_empty() && args.group.is_empty() {
        projects.push(non_empty_env(CI_PROJECT_ID).context(
            "nothing to scan: give paths, or --gitlab with --project ID|PATH or --group ID|PATH \
             (or set CI_PROJECT_ID)",
        )?);
    }
    let client = client(&args.connection)?;
    runtime()?.block_on(async {
        for group in &args.group {
            projects.extend(gitlab::group_projects(&client, group, args.include_subgroups).await?);
        }
        let projects = args.shard.unwrap_or(Shard::ALL).select(projects);
        let groups = gitlab::GroupVariables::default();
        let mut found = Found::default();
        for project in &projects {
            scan_project(&client, &groups, project, base, &mut found).await?;
        }
        let erase_failed = if args.erase {
            erase(&client, &found.leaked, args.apply).await
        } else {
            false
        };
        Ok((found.findings, found.unanalysed, erase_failed))
    })
}

/// What the scan of the projects found so far.
#[derive(Default)]
struct Found {
    findings: Vec<Finding>,
    unanalysed: Vec<Unanalysed>,
    /// The jobs whose logs leaked, by project id or path as given.
    leaked: Vec<(String, JobLog)>,
}

/// Scans the logs of one project's jobs in range, `--concurrency` at a time.
async fn scan_project(
    client: &Client,
    groups: &gitlab::GroupVariables,
    project: &str,
    base: &Base<'_>,
    found: &mut Found,
) -> anyhow::Result<()> {
    let args = base.args;
    let (path, sets) = gitlab::project_variables_reaching(client, groups, project).await?;
    let (values, hidden) = api_secrets(&sets, base.policy);
    if !hidden.is_empty() {
        note(format_args!(
            "{path}: the values of {} are hidden (GitLab does not give them back): only the \
             detectors can find them",
            hidden.join(", ")
        ));
    }
    let (matcher, names) = base.matcher(&values);
    // The values live on only in the matcher, which this project's scan drops at its end.
    drop((values, sets));
    let jobs = match args.pipelines {
        Some(count) => gitlab::jobs_of_last_pipelines(client, project, count as usize).await?,
        None => {
            let since = super::clock::timestamp_before_now(args.since);
            gitlab::jobs_since(client, project, &since).await?
        }
    };
    let jobs: Vec<Job> = jobs.into_iter().filter(|j| j.erased_at.is_none()).collect();
    let running: Vec<String> = jobs
        .iter()
        .filter(|job| job.is_running())
        .map(|job| job.id.to_string())
        .collect();
    if !running.is_empty() {
        let (jobs, are) = if running.len() == 1 {
            ("job", "is")
        } else {
            ("jobs", "are")
        };
        note(format_args!(
            "{path}: {jobs} {} {are} still running: scanned as far as the log goes",
            running.join(", ")
        ));
    }
    let total = jobs.len();
    let permits = Arc::new(tokio::sync::Semaphore::new(args.concurrency.into()));
    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs {
        let client = client.clone();
        let matcher = Arc::clone(&matcher);
        let permits = Arc::clone(&permits);
        let project = project.to_owned();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let mut scanner = Scanner::new(matcher);
            let read = gitlab::stream_job_log(&client, &project, job.id, |chunk| {
                scanner.feed(chunk);
            })
            .await;
            (job, scanner.finish(), read)
        });
    }
    let (mut bytes, mut fakes) = (0, 0);
    let mut leaked = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (job, leaks, read) = joined.context("internal error: reading a job log stopped")?;
        bytes += leaks.bytes;
        fakes += leaks.set_aside;
        if let Err(err) = read {
            // What arrived before the failure is reported too.
            found.unanalysed.push(Unanalysed {
                path: PathBuf::from(&job.web_url),
                position: None,
                reason: format!(
                    "its log could not be read to its end (scanned its first {}): {err}",
                    count(leaks.bytes, "byte")
                ),
            });
        }
        if !leaks.is_empty() {
            let log = JobLog {
                project: path.clone(),
                pipeline: job.pipeline.id,
                job: job.id,
                name: job.name,
                web_url: job.web_url,
            };
            let place = Place::JobLog(log.clone());
            found.findings.extend(leaks.findings(&place, &names));
            leaked.push((project.to_owned(), log));
        }
    }
    leaked.sort_by_key(|(_, log)| log.job);
    found.leaked.extend(leaked);
    note(format_args!(
        "{path}: scanned {}, {}{}",
        count(total as u64, "job log"),
        count(bytes, "byte"),
        set_aside(fakes)
    ));
    Ok(())
}

/// The values to look for among the variables that reach a project: those masked or named
/// like credentials, each with a name for findings (key, and where it is defined); and the
/// keys of hidden ones, whose values the API does not give.
fn api_secrets(sets: &[VariableSet], policy: &Policy) -> (Vec<NamedValue>, Vec<String>) {
    let mut values = Vec::new();
    let mut hidden = Vec::new();
    for set in sets {
        for variable in &set.variables {
            if !(variable.masked || policy.covers(&variable.key)) {
                continue;
            }
            let Some(value) = &variable.value else {
                hidden.push(format!("`{}`", variable.key));
                continue;
            };
            let level = match set.level {
                Level::Instance => "instance",
                Level::Group => "group",
                Level::Project => "project",
            };
            let scope = match variable.environment_scope.as_deref() {
                None | Some("*") => String::new(),
                Some(scope) => format!(", environment {scope}"),
            };
            let name = format!("`{}` ({level} {}{scope})", variable.key, set.owner);
            for part in maskable_parts(value.expose().as_bytes(), policy.min_length) {
                values.push((Secret::new(part.to_vec()), name.clone()));
            }
        }
    }
    hidden.sort();
    hidden.dedup();
    (values, hidden)
}

/// Lists the jobs whose logs leaked, and erases them when `apply`; whether an erase failed.
async fn erase(client: &Client, leaked: &[(String, JobLog)], apply: bool) -> bool {
    let mut failed = false;
    for (project, job) in leaked {
        let what = format!(
            "job {} `{}` of {} ({})",
            job.job, job.name, job.project, job.web_url
        );
        if !apply {
            note(format_args!("would erase {what} (add --apply)"));
            continue;
        }
        match gitlab::erase_job(client, project, job.job).await {
            Ok(()) => note(format_args!("erased the log and artifacts of {what}")),
            Err(err) => {
                failed = true;
                note(format_args!("could not erase {what}: {err}"));
            }
        }
    }
    if leaked.is_empty() && apply {
        note("nothing to erase");
    }
    failed
}

/// `; set aside 2 detector hits ...`, or nothing.
fn set_aside(hits: u64) -> String {
    if hits == 0 {
        return String::new();
    }
    format!(
        "; set aside {} that look like placeholders or examples",
        count(hits, "detector hit")
    )
}

/// `1 file`, `2 files`.
fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
