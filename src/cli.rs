//! The command line, as clap types. `app` turns them into settings; nothing below `app` sees
//! them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::audit::shard::Shard;
use crate::credentials::{DEFAULT_NAME_PATTERNS, NamePattern};
use crate::env::{
    CIGUARD_KILL_AFTER, CIGUARD_LOG_FILE, CIGUARD_MIN_SECRET_LENGTH, GITLAB_JOB_CREDENTIALS,
    GITLAB_URL,
};
use crate::findings::Severity;
use crate::report::Format;
use crate::scrub::Detector;

/// Keeps ELT pipeline credentials safe in GitLab CI.
#[derive(Debug, Parser)]
#[command(name = "ciguard", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command with every secret masked in its stdout and stderr.
    Run(RunArgs),
    /// Check .gitlab-ci.yml and meltano.yml for credential-exposure risks.
    Lint(LintArgs),
    /// Check CI/CD variables (their flags, scopes and values' shape) for credential exposure.
    Audit(AuditArgs),
    /// Write a .gitlab-ci.yml that keeps production credentials on protected refs, and the
    /// plan of the variables and protections it needs.
    Init(InitArgs),
    /// Hash or drop personal fields in a Singer stream (stdin to stdout): a Meltano mapper.
    Pseudonymize(PseudonymizeArgs),
    /// Find secrets that already leaked, in files and saved logs or in the job logs GitLab
    /// keeps, and erase those jobs.
    Scan(ScanArgs),
    /// Print a shell completion script, e.g. `ciguard completions bash > ~/.local/share/bash-completion/completions/ciguard`.
    Completions(CompletionsArgs),
    /// Print ciguard's manual page (roff), e.g. `ciguard man | man -l -`.
    Man(ManArgs),
}

/// `ciguard completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `ciguard man [COMMAND]`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The page of one command (`ciguard-run(1)`, ...) instead of ciguard's own.
    #[arg(value_name = "COMMAND", value_parser = PossibleValuesParser::new(COMMAND_NAMES))]
    pub command: Option<String>,
}

/// The commands that have a manual page of their own.
const COMMAND_NAMES: [&str; 5] = ["run", "lint", "audit", "init", "pseudonymize"];

/// `ciguard pseudonymize --config FILE`.
#[derive(Debug, Args)]
#[command(after_long_help = PSEUDONYMIZE_AFTER_HELP)]
pub struct PseudonymizeArgs {
    /// The config (YAML, or the JSON file Meltano gives a mapper): the variable that holds the
    /// key, and per stream the fields to hash, drop and keep.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
}

const PSEUDONYMIZE_AFTER_HELP: &str = "\
Reads Singer messages (one JSON object per line) on stdin and writes them on stdout, with the
configured fields of each record replaced by HMAC-SHA-256 hashes or dropped, and each SCHEMA
rewritten to match. The key comes from the environment variable the config names in `key_env`
(at least 32 bytes), never from the config itself.

Exit status: 0 done; 2 bad config, missing or short key, or bad input (the message gives the
line number, never a value). Config reference and the Meltano mapper setup: docs/pseudonymize.md.";

/// `ciguard run [OPTIONS] -- COMMAND [ARGS...]`.
#[derive(Debug, Args)]
#[command(after_long_help = RUN_AFTER_HELP)]
pub struct RunArgs {
    #[command(flatten)]
    pub secrets: SecretArgs,

    /// After forwarding a signal, wait this long (e.g. 10s, 500ms, 2m) before SIGKILL.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10s",
        value_parser = parse_duration,
        env = CIGUARD_KILL_AFTER,
        hide_env_values = true
    )]
    pub kill_after: Duration,

    /// Also write the scrubbed output of both streams to this file (replacing it).
    #[arg(long, value_name = "PATH", env = CIGUARD_LOG_FILE, hide_env_values = true)]
    pub log_file: Option<PathBuf>,

    /// The command to run and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1.., value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

const RUN_AFTER_HELP: &str = "\
Exit status: the command's own; 128+N when a signal N killed it; 127 when it was not found;
126 when it is not executable; 125 when ciguard itself failed.

Secrets masked: values of variables whose names look like credentials; the content of the file
a credential variable points to (GitLab file-type variables); values of the variables Meltano
reads sensitive settings from (when meltano.yml is in the working directory, or in
$MELTANO_PROJECT_ROOT); values the command prints on a line
`::add-mask::VALUE` (that line is not printed). Each in every encoding the scrubber knows.";

fn no_default_patterns_help() -> String {
    format!(
        "Do not pick variables by the default credential name patterns: {}. \
         GitLab's job credentials ({}) and --secret-env still apply.",
        DEFAULT_NAME_PATTERNS.join(", "),
        GITLAB_JOB_CREDENTIALS.join(", ")
    )
}

fn detector_parser() -> impl TypedValueParser<Value = Detector> {
    PossibleValuesParser::new(Detector::ALL.iter().map(|detector| detector.id()))
        .try_map(|id| Detector::from_id(&id).ok_or_else(|| format!("unknown detector id `{id}`")))
}

fn parse_token_prefix(text: &str) -> Result<String, String> {
    crate::scrub::check_token_prefix(text).map(|()| text.to_owned())
}

/// Parses `10s`, `500ms`, `2m`, `1h`, `30d`, or a bare number of seconds (fractions allowed).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => {
            return Err("not a duration: use a number with ms, s, m, h or d (e.g. 10s)".to_owned());
        }
    };
    let number: f64 = number
        .parse()
        .map_err(|_| "not a duration: use e.g. 10s, 500ms or 2m".to_owned())?;
    Duration::try_from_secs_f64(number * seconds_per_unit)
        .map_err(|_| "a duration out of range".to_owned())
}

/// Which values are secrets, and which detectors run: shared by `run` and `scan`.
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// Also take as secrets the values of the variables whose names match NAME_OR_GLOB (`*` and
    /// `?`, any case); repeatable.
    #[arg(long = "secret-env", value_name = "NAME_OR_GLOB")]
    pub secret_env: Vec<NamePattern>,

    /// Do not pick variables by the default credential name patterns.
    #[arg(long, long_help = no_default_patterns_help())]
    pub no_default_patterns: bool,

    /// Turn off one detector of secrets nobody registered; repeatable.
    #[arg(long = "disable-detector", value_name = "ID", value_parser = detector_parser())]
    pub disable_detector: Vec<Detector>,

    /// Also take as a secret what follows PREFIX, your organisation's own token prefix (as
    /// GitLab's runner does for an instance's custom prefixes); the prefix itself is not secret;
    /// repeatable. Adds to `token_prefixes` in .ciguard.yml.
    #[arg(long = "token-prefix", value_name = "PREFIX", value_parser = parse_token_prefix)]
    pub token_prefix: Vec<String>,

    /// Turn off every detector: look only for the values ciguard was given.
    #[arg(long, conflicts_with = "disable_detector")]
    pub no_detectors: bool,

    /// Values shorter than this many bytes are not taken as secrets (`yes` or `dev` would be
    /// found everywhere); their variables are named at start.
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = 6,
        env = CIGUARD_MIN_SECRET_LENGTH,
        hide_env_values = true
    )]
    pub min_secret_length: usize,
}

/// `ciguard scan [PATH...]` or `ciguard scan --gitlab`.
#[derive(Debug, Args)]
#[command(after_long_help = SCAN_AFTER_HELP)]
pub struct ScanArgs {
    /// Files or folders to scan (folders recursively, hidden ones included, `.git` left out);
    /// `-` for standard input.
    #[arg(
        value_name = "PATH",
        required_unless_present = "gitlab",
        conflicts_with = "gitlab"
    )]
    pub paths: Vec<PathBuf>,

    /// Scan the job logs GitLab keeps, through the API (token with the read_api scope; api to
    /// erase), with the values of the CI/CD variables that reach each project.
    #[arg(long)]
    pub gitlab: bool,

    /// With --gitlab: scan this project (ID or full path; repeatable). Default: $CI_PROJECT_ID.
    #[arg(long, value_name = "ID|PATH", requires = "gitlab")]
    pub project: Vec<String>,

    /// With --gitlab: scan every project of this group (ID or full path; repeatable); archived
    /// ones are skipped.
    #[arg(long, value_name = "ID|PATH", requires = "gitlab")]
    pub group: Vec<String>,

    /// With --group: also the projects of its subgroups, at any depth.
    #[arg(long, requires = "group")]
    pub include_subgroups: bool,

    /// With --gitlab: the jobs created within this long before now (e.g. 30d, 12h).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30d",
        value_parser = parse_duration,
        requires = "gitlab"
    )]
    pub since: Duration,

    /// With --gitlab: the jobs of the last N pipelines of each project instead of --since.
    #[arg(long, value_name = "N", requires = "gitlab", value_parser = clap::value_parser!(u32).range(1..))]
    pub pipelines: Option<u32>,

    /// With --gitlab: scan only shard I of N of the sorted project list (1-based), e.g. in a
    /// `parallel:` job --shard $CI_NODE_INDEX/$CI_NODE_TOTAL.
    #[arg(long, value_name = "I/N", requires = "gitlab")]
    pub shard: Option<Shard>,

    /// With --gitlab: job logs read at the same time.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64), requires = "gitlab")]
    pub concurrency: u16,

    /// With --gitlab: list the jobs whose logs leaked and would be erased (on stderr).
    #[arg(long, requires = "gitlab")]
    pub erase: bool,

    /// With --erase: erase those jobs (their logs and artifacts; token with the api scope).
    #[arg(long, requires = "erase")]
    pub apply: bool,

    #[command(flatten)]
    pub secrets: SecretArgs,

    /// The configuration file. Default: `.ciguard.yml` from the working directory up to the
    /// repository root.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub connection: GitlabArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

const SCAN_AFTER_HELP: &str = "\
Secrets are the values of the credential variables in the environment (by name, as `run` picks
them; a file-type variable's file content), of the variables Meltano reads sensitive settings
from, and, with --gitlab, of the project's and its groups' CI/CD variables that are masked or
named like credentials; each in every form `run` masks. Every detector runs too. Findings:
`leaked-variable` names the variable, `leaked-secret` the detector; never the value.
Exit status: 0 nothing at or above --fail-on, 1 some, 2 could not finish (an input unread, a
job log not fetched, an erase refused). Details: docs/scan.md.";

/// `ciguard lint [PATH...]`.
#[derive(Debug, Args)]
#[command(after_long_help = LINT_AFTER_HELP)]
pub struct LintArgs {
    /// Files to lint: a `.gitlab-ci.yml` (with what it includes locally) or a `meltano.yml`
    /// each. Default: those two in the working directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The configuration file. Default: `.ciguard.yml` from the working directory up to the
    /// repository root.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Also read the project's CI/CD variables through the GitLab API (flags and scopes only):
    /// masked ones count as credentials whatever their names, protected ones never reach
    /// merge-request pipelines.
    #[arg(long)]
    pub gitlab: bool,

    /// The project for --gitlab. Default: $CI_PROJECT_ID.
    #[arg(long, value_name = "ID|PATH", requires = "gitlab")]
    pub project: Option<String>,

    /// Accept the findings of this baseline (written by --write-baseline): they count as
    /// suppressed, so only new findings fail the run.
    #[arg(long, value_name = "PATH", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,

    /// Report the suppression comments added since this commit (default in a merge-request
    /// pipeline: $CI_MERGE_REQUEST_DIFF_BASE_SHA), so that reviewers see what a change silences.
    #[arg(long, value_name = "COMMIT")]
    pub suppressions_since: Option<String>,

    /// Write this run's findings (those not suppressed) to PATH as a baseline, and exit 0
    /// (2 when a file could not be analysed).
    #[arg(long, value_name = "PATH")]
    pub write_baseline: Option<PathBuf>,

    #[command(flatten)]
    pub connection: GitlabArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

const LINT_AFTER_HELP: &str = "\
Exit status: 0 no finding at or above --fail-on; 1 findings at or above it; 2 could not finish
(bad usage, unreadable or invalid file, configuration error).

Suppress a finding with a comment on its line or on the line of its job's key:
  # ciguard: ignore[rule-id] reason
Gate only new findings: `ciguard lint --write-baseline .ciguard-baseline.json` once, then
`ciguard lint --baseline .ciguard-baseline.json`.
Rules: docs/rules.md.";

/// Where the GitLab API is and how to authenticate (audit, lint --gitlab).
#[derive(Debug, Args)]
pub struct GitlabArgs {
    /// The GitLab instance. Default: $CI_SERVER_URL, else `https://gitlab.com`.
    #[arg(long, value_name = "URL", env = GITLAB_URL, hide_env_values = true)]
    pub gitlab_url: Option<String>,

    /// Read the GitLab token from this file instead of $GITLAB_TOKEN (never give it as a flag).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

/// `ciguard audit --project ID|PATH...` or `ciguard audit --from-file vars.json`.
#[derive(Debug, Args)]
#[command(after_long_help = AUDIT_AFTER_HELP)]
pub struct AuditArgs {
    /// Audit this project through the GitLab API (ID or full path; repeatable). Default:
    /// $CI_PROJECT_ID.
    #[arg(long, value_name = "ID|PATH", conflicts_with = "from_file")]
    pub project: Vec<String>,

    /// Audit every project of this group (ID or full path; repeatable); archived ones are skipped.
    #[arg(long, value_name = "ID|PATH", conflicts_with = "from_file")]
    pub group: Vec<String>,

    /// With --group: also the projects of its subgroups, at any depth.
    #[arg(long, requires = "group")]
    pub include_subgroups: bool,

    /// Audit only shard I of N of the sorted project list (1-based), e.g. in a `parallel:` job
    /// --shard $CI_NODE_INDEX/$CI_NODE_TOTAL.
    #[arg(long, value_name = "I/N", conflicts_with = "from_file")]
    pub shard: Option<Shard>,

    /// Also read the instance's variables (`GET /admin/ci/variables`; needs an administrator).
    #[arg(long, conflicts_with = "from_file")]
    pub instance: bool,

    /// A JSON array of variables as `GET /projects/:id/variables` returns it, audited as the
    /// variables of one project (flags, scopes and value shapes; no settings).
    #[arg(long, value_name = "PATH")]
    pub from_file: Option<PathBuf>,

    /// The project the file's variables belong to, as findings name it. Default: `(file)`.
    #[arg(long, value_name = "PATH", requires = "from_file")]
    pub project_name: Option<String>,

    /// The project's pipeline (.gitlab-ci.yml), to tell which jobs receive each variable and
    /// whether they run under `ciguard run`. Default: .gitlab-ci.yml of the working directory
    /// when auditing $CI_PROJECT_ID or --from-file.
    #[arg(long, value_name = "PATH")]
    pub pipeline: Option<PathBuf>,

    #[command(flatten)]
    pub connection: GitlabArgs,

    /// Projects read at the same time (a project's independent requests go out together).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// The configuration file. Default: `.ciguard.yml` from the working directory up to the
    /// repository root.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Print what `--apply` would change: `protected` and `masked` on credential variables
    /// (on stderr; see docs/audit.md).
    #[arg(long)]
    pub fix: bool,

    /// With --fix: make those changes to the project's variables through the API (token with
    /// the api scope); never changes a value.
    #[arg(long, requires = "fix", conflicts_with = "from_file")]
    pub apply: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

const AUDIT_AFTER_HELP: &str = "\
Exit status: 0 no finding at or above --fail-on; 1 findings at or above it; 2 could not finish
(bad usage, unreadable or invalid file, configuration error, GitLab API failure).

Through the API (--project, --group, or $CI_PROJECT_ID): reads the project's settings, variables,
protected branches, tags and environments, and the variables of every ancestor group. The token
comes from $GITLAB_TOKEN or --token-file: a personal, project or group access token with the
read_api scope and the Maintainer role on the project (Owner on its groups). CI_JOB_TOKEN cannot
read variables. --instance also reads the instance's variables (administrators only). Checks:
docs/audit.md.";

/// A secret store `init --secrets` can fetch production credentials from: HashiCorp Vault,
/// Google Cloud Secret Manager, AWS Secrets Manager, Azure Key Vault, GitLab's secrets manager.
/// (The variants have no doc comments: clap would then list them one per line instead of in
/// `[possible values: ...]`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretStore {
    Vault,
    GcpSecretManager,
    AwsSecretsManager,
    AzureKeyVault,
    Gitlab,
}

/// `ciguard init [--meltano PATH | --command CMD]`.
#[derive(Debug, Args)]
#[command(after_long_help = INIT_AFTER_HELP)]
pub struct InitArgs {
    /// The Meltano project file. Default: meltano.yml in the working directory.
    #[arg(long, value_name = "PATH", conflicts_with = "command")]
    pub meltano: Option<PathBuf>,

    /// Not a Meltano project: the ELT command the production job runs (e.g. `dbt build`).
    #[arg(long, value_name = "COMMAND")]
    pub command: Option<String>,

    /// The Meltano environment production jobs run. Default: the first of prod, production,
    /// prd in meltano.yml.
    #[arg(long, value_name = "NAME")]
    pub production_env: Option<String>,

    /// What the production run (and the staging one) runs: a Meltano job, or blocks such as
    /// `tap-x target-y`. Default: the project's job (among several: `elt`), else each extractor
    /// into the first loader. Schedules run what they name.
    #[arg(long, value_name = "TASKS", conflicts_with = "command")]
    pub run: Option<String>,

    /// Another CI/CD variable the jobs need, planned like the credentials found (repeatable).
    #[arg(long = "variable", value_name = "NAME", value_parser = parse_variable_name)]
    pub variables: Vec<String>,

    /// The image of the ELT jobs: Meltano (or your tool), the plugins, and ciguard (docs/init.md
    /// has a Dockerfile). Pin it by digest (`NAME@sha256:...`): production runs it.
    #[arg(long, value_name = "IMAGE")]
    pub image: String,

    /// A command the ELT jobs run before the ELT command (repeatable). Default for a Meltano
    /// project: `meltano install`.
    #[arg(long, value_name = "COMMAND")]
    pub setup: Vec<String>,

    /// The image of the lint and audit jobs: this version's official one, or a mirror of it.
    #[arg(long, value_name = "IMAGE", default_value_t = crate::generate::official_image())]
    pub ciguard_image: String,

    /// How the ELT image calls ciguard.
    #[arg(long, value_name = "PATH", default_value = "ciguard")]
    pub ciguard: String,

    /// Leave out the audit job (it needs a token variable, see the plan).
    #[arg(long)]
    pub no_audit: bool,

    /// Production jobs fetch their credentials from this store with `secrets:` and an OIDC
    /// `id_tokens:` token of their own, instead of CI/CD variables (docs/init.md).
    #[arg(long, value_name = "STORE")]
    pub secrets: Option<SecretStore>,

    /// Who must approve changes to the pipeline and meltano.yml (`@group`, `@user`; repeatable):
    /// the plan's CODEOWNERS entries name them. Default: a placeholder to replace.
    #[arg(long, value_name = "@OWNER", value_parser = parse_code_owner)]
    pub code_owner: Vec<String>,

    /// Also scan the project's job logs for leaked secrets in scheduled pipelines (a job beside
    /// the audit, with its token; `ciguard scan --gitlab`).
    #[arg(long, conflicts_with = "no_audit")]
    pub scan_job_logs: bool,

    /// Where to write the pipeline.
    #[arg(long, value_name = "PATH", default_value = ".gitlab-ci.yml")]
    pub output: PathBuf,

    /// Where to write the setup plan (Markdown).
    #[arg(long, value_name = "PATH", default_value = "CREDENTIALS.md")]
    pub plan_file: PathBuf,

    /// Print the pipeline on stdout; write no file.
    #[arg(long, conflicts_with_all = ["dry_run", "force"])]
    pub stdout: bool,

    /// Print what would be written (and how it differs from the files there); write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Replace existing files.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub apply: InitApplyArgs,
}

/// `ciguard init --apply`: the plan made so through the GitLab API.
#[derive(Debug, Args)]
pub struct InitApplyArgs {
    /// Show what the project lacks in GitLab (protected default branch and environment, the
    /// planned variables and their flags) and, with --yes, make it so.
    #[arg(long)]
    pub apply: bool,

    /// With --apply: make the changes (without it, only the plan is shown).
    #[arg(long, requires = "apply")]
    pub yes: bool,

    /// With --apply: create missing variables with the values of the same-named variables of
    /// ciguard's environment (never printed).
    #[arg(long, requires = "apply")]
    pub values_from_env: bool,

    /// With --values-from-env: also replace the values of variables that exist.
    #[arg(long, requires = "values_from_env")]
    pub overwrite_values: bool,

    /// The project for --apply. Default: $CI_PROJECT_ID.
    #[arg(long, value_name = "ID|PATH", requires = "apply")]
    pub project: Option<String>,

    #[command(flatten)]
    pub connection: GitlabArgs,
}

const INIT_AFTER_HELP: &str = "\
Exit status: 0 written (or shown); 2 could not finish (no meltano.yml, a file exists and --force
was not given, a GitLab API failure).

Writes .gitlab-ci.yml (rendered from ciguard's CI/CD components: templates/ in its source) and
CREDENTIALS.md, the setup plan: every variable the pipeline reads (Meltano's sensitive and
credential-named settings), with its environment scope and flags. --apply shows what the
project lacks in GitLab; --apply --yes makes it so (token with the api scope, Maintainer):
docs/init-apply.md.";

/// `@user`, `@group/subgroup` or `name@example.com`, as `CODEOWNERS` names owners.
fn parse_code_owner(text: &str) -> Result<String, String> {
    let name = |part: &str, extra: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c) || extra.contains(c))
    };
    let valid = match text.split_once('@') {
        Some(("", user_or_group)) => name(user_or_group, "/"),
        Some((local, domain)) => name(local, "+%") && name(domain, "") && domain.contains('.'),
        None => false,
    };
    if valid {
        Ok(text.to_owned())
    } else {
        Err("not a code owner: give `@group`, `@user` or an email address".to_owned())
    }
}

fn parse_variable_name(text: &str) -> Result<String, String> {
    let valid = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(
            "not a variable name: letters, digits and `_` only (give the name, not its value)"
                .to_owned(),
        )
    }
}

/// How findings are reported and when they fail the command (audit, lint).
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = format_parser())]
    pub format: Format,

    /// Write the report here instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Also write a report in FORMAT to PATH (repeatable), e.g. `codequality=gl-code-quality.json`.
    #[arg(
        long = "report",
        value_name = "FORMAT=PATH",
        value_parser = parse_report,
        long_help = report_help()
    )]
    pub reports: Vec<(Format, PathBuf)>,

    /// Exit 1 when a finding is at or above this severity (`never`: always exit 0).
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = fail_on_parser())]
    pub fail_on: FailOn,
}

/// The `--fail-on` threshold: a severity, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn(pub Option<Severity>);

fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::ALL.iter().map(|format| format.as_str()))
        .try_map(|name| name.parse::<Format>().map_err(|e| e.to_string()))
}

fn parse_report(text: &str) -> Result<(Format, PathBuf), String> {
    let (format, path) = text
        .split_once('=')
        .ok_or("not FORMAT=PATH (e.g. sarif=ciguard.sarif)")?;
    let format = format.parse::<Format>().map_err(|e| e.to_string())?;
    if path.is_empty() {
        return Err("no path after `=`: give FORMAT=PATH".to_owned());
    }
    Ok((format, PathBuf::from(path)))
}

fn report_help() -> String {
    let formats: Vec<&str> = Format::ALL.iter().map(|format| format.as_str()).collect();
    format!(
        "Also write a report in FORMAT to PATH (repeatable), e.g. \
         `codequality=gl-code-quality.json`.\n\n[possible formats: {}]",
        formats.join(", ")
    )
}

fn fail_on_parser() -> impl TypedValueParser<Value = FailOn> {
    let names = Severity::ALL.iter().map(|severity| severity.as_str());
    PossibleValuesParser::new(names.chain(["never"])).map(|name| FailOn(Severity::from_name(&name)))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn lint_output_options_parse() {
        let cli = Cli::try_parse_from([
            "ciguard",
            "lint",
            "--format",
            "sarif",
            "--report",
            "codequality=gl-code-quality.json",
            "--fail-on",
            "never",
            "a.yml",
        ])
        .expect("parses");
        let Command::Lint(args) = cli.command else {
            panic!("not lint");
        };
        assert_eq!(args.output.format, Format::Sarif);
        assert_eq!(
            args.output.reports,
            [(Format::Codequality, PathBuf::from("gl-code-quality.json"))]
        );
        assert_eq!(args.output.fail_on, FailOn(None));
        assert_eq!(args.paths, [PathBuf::from("a.yml")]);
        assert!(Cli::try_parse_from(["ciguard", "lint", "--report", "sarif"]).is_err());
        assert!(Cli::try_parse_from(["ciguard", "lint", "--fail-on", "severe"]).is_err());
    }

    #[test]
    fn audit_takes_projects_or_a_file_but_not_both() {
        let cli = Cli::try_parse_from([
            "ciguard",
            "audit",
            "--from-file",
            "vars.json",
            "--format",
            "json",
        ])
        .expect("parses");
        let Command::Audit(args) = cli.command else {
            panic!("not audit");
        };
        assert_eq!(args.from_file, Some(PathBuf::from("vars.json")));
        assert_eq!(args.output.format, Format::Json);
        let cli = Cli::try_parse_from(["ciguard", "audit", "--project", "a/b", "--project", "7"])
            .expect("parses");
        let Command::Audit(args) = cli.command else {
            panic!("not audit");
        };
        assert_eq!(args.project, ["a/b", "7"]);
        assert!(
            Cli::try_parse_from([
                "ciguard",
                "audit",
                "--project",
                "7",
                "--from-file",
                "v.json"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["ciguard", "audit", "--token", "glpat-x"]).is_err());
    }

    #[test]
    fn audit_apply_needs_fix_and_the_api() {
        let parse = |args: &[&str]| Cli::try_parse_from(["ciguard", "audit"].iter().chain(args));
        assert!(parse(&["--fix", "--apply"]).is_ok());
        assert!(parse(&["--fix", "--from-file", "v.json"]).is_ok());
        assert!(parse(&["--apply"]).is_err());
        assert!(parse(&["--fix", "--apply", "--from-file", "v.json"]).is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86400)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn run_takes_the_command_after_double_dash() {
        let cli = Cli::try_parse_from([
            "ciguard",
            "run",
            "--secret-env",
            "X_*",
            "--",
            "sh",
            "-c",
            "exit 3",
        ])
        .expect("valid command line");
        let Command::Run(args) = cli.command else {
            panic!("not run");
        };
        assert_eq!(args.command, ["sh", "-c", "exit 3"]);
        assert_eq!(args.secrets.secret_env.len(), 1);
        assert!(Cli::try_parse_from(["ciguard", "run"]).is_err());
    }

    #[test]
    fn help_lists_the_values_of_every_enumerated_option() {
        let mut root = Cli::command();
        root.build();
        let mut listed = 0;
        for command in root.get_subcommands() {
            // Long lists wrap: compare with the whitespace folded.
            let help = command.clone().render_long_help().to_string();
            let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
            for arg in command.get_arguments() {
                let values: Vec<String> = arg
                    .get_possible_values()
                    .iter()
                    .filter(|value| !value.is_hide_set())
                    .map(|value| value.get_name().to_owned())
                    .collect();
                if values.is_empty() {
                    continue;
                }
                let line = format!("[possible values: {}]", values.join(", "));
                assert!(
                    help.contains(&line),
                    "`ciguard {} --help` does not list {line}",
                    command.get_name()
                );
                listed += 1;
            }
        }
        assert!(listed >= 7, "only {listed} enumerated options");
        let lint = root.find_subcommand("lint").expect("lint");
        let help = lint.clone().render_long_help().to_string();
        assert!(
            help.contains("[possible formats: text, json, sarif, codequality, junit]"),
            "--report FORMAT=PATH lists the formats"
        );
    }

    #[test]
    fn help_hides_environment_values() {
        let mut command = Cli::command();
        for arg in command
            .find_subcommand_mut("run")
            .expect("run subcommand")
            .get_arguments()
        {
            if arg.get_env().is_some() {
                assert!(arg.is_hide_env_values_set(), "{}", arg.get_id());
            }
        }
    }
}
