//! The command line as a user meets it: refusals that never repeat what was typed, the `--`
//! hint of `run`, one prefix on every message, shell completions and the manual pages.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use clap::CommandFactory;
use clap::builder::ValueRange;

use crate::common::{REPO, ciguard, text};

/// Looks like a secret and is refused by every option that checks its value (`=`, `@` and `:`
/// are in no name, number, duration, shard, format or shell).
const TYPED_SECRET: &str = "DB_PASSWORD=hunter2@typed:secret";

#[test]
fn every_option_that_checks_its_value_refuses_without_repeating_it() {
    let root = ciguard::cli::Cli::command();
    let mut checked = Vec::new();
    for command in root.get_subcommands() {
        let name = command.get_name();
        for arg in command.get_arguments() {
            let takes_value = arg
                .get_num_args()
                .unwrap_or(ValueRange::SINGLE)
                .takes_values()
                && arg.get_action().takes_values();
            if !takes_value || arg.is_last_set() {
                continue;
            }
            let mut words: Vec<String> = vec![name.to_owned()];
            if let Some(long) = arg.get_long() {
                words.push(format!("--{long}"));
            }
            words.push(TYPED_SECRET.to_owned());
            let dir = tempfile::tempdir().expect("temp dir");
            let out = ciguard()
                .args(&words)
                .current_dir(dir.path())
                .output()
                .expect("run ciguard");
            if !text(&out.stderr).contains("invalid value") {
                // Taken as given: a name, or a path that error messages name.
                continue;
            }
            let expected = if name == "run" { 125 } else { 2 };
            let stderr = refused(ciguard().args(&words).current_dir(dir.path()), expected);
            assert!(
                stderr.starts_with("ciguard: error: ") && stderr.contains("not repeated"),
                "{words:?}: {stderr}"
            );
            checked.push(words[1..words.len() - 1].join(" "));
        }
    }
    // The ones that matter most are among them (a change in the model must not skip them).
    for option in [
        "--format",
        "--fail-on",
        "--report",
        "--secret-env",
        "--disable-detector",
        "--min-secret-length",
        "--kill-after",
        "--shard",
        "--concurrency",
        "--variable",
        "--code-owner",
    ] {
        assert!(checked.iter().any(|c| c == option), "{option} not checked");
    }
    assert!(
        checked.iter().any(String::is_empty),
        "no positional checked"
    );
}

/// Runs `command`; checks it ends with `status` and that nothing it printed holds `hunter2` (part
/// of every secret these tests type); its stderr.
fn refused(command: &mut Command, status: i32) -> String {
    let out = command.output().expect("run ciguard");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(status), "{command:?}: {stderr}");
    assert!(
        !stdout.contains("hunter2") && !stderr.contains("hunter2"),
        "{command:?} repeated the value: {stderr}"
    );
    stderr
}

#[test]
fn a_gitlab_url_that_is_refused_is_not_repeated() {
    let url = "ftp://oauth2:glpat-hunter2typedsecret@gitlab.example.com";
    let stderr = refused(
        ciguard()
            .args(["audit", "--project", "7", "--gitlab-url", url])
            .env("GITLAB_TOKEN", "glpat-abcdefghij0123456789"),
        2,
    );
    assert!(
        stderr.contains("not an http:// or https:// URL"),
        "{stderr}"
    );
}

#[test]
fn an_environment_name_meltano_yml_lacks_is_not_repeated() {
    let project = Path::new(REPO).join("tests/fixtures/init/environments/meltano.yml");
    let stderr = refused(
        ciguard().args([
            "init",
            "--stdout",
            "--image",
            "registry.example.com/elt@sha256:0",
            "--meltano",
            project.to_str().expect("UTF-8 path"),
            "--production-env",
            "glpat-hunter2typedsecret",
        ]),
        2,
    );
    assert!(stderr.contains("has no environment"), "{stderr}");
}

#[test]
fn a_value_set_in_the_environment_is_refused_without_repeating_it() {
    let stderr = refused(
        ciguard()
            .args(["run", "--", "true"])
            .env("CIGUARD_MIN_SECRET_LENGTH", TYPED_SECRET),
        125,
    );
    assert!(stderr.contains("--min-secret-length"), "{stderr}");
}

#[test]
fn words_that_are_not_options_are_not_repeated() {
    let stderr = refused(ciguard().args(["completions", "bash", TYPED_SECRET]), 2);
    assert!(
        stderr.starts_with("ciguard: error: unexpected argument"),
        "{stderr}"
    );
    let stderr = refused(ciguard().arg(TYPED_SECRET), 2);
    assert!(
        stderr.starts_with("ciguard: error: unrecognized command"),
        "{stderr}"
    );
    let stderr = refused(ciguard().arg("lnit"), 2);
    assert!(
        stderr.contains("did you mean") && stderr.contains("'lint'"),
        "{stderr}"
    );
    let token = format!("--token={TYPED_SECRET}");
    let stderr = refused(ciguard().args(["audit", &token]), 2);
    assert!(
        stderr.contains("'--token'") && stderr.contains("--token-file"),
        "{stderr}"
    );
}

#[test]
fn run_without_double_dash_says_where_the_command_goes() {
    for words in [
        &["run", "psql", "postgres://etl:hunter2@db/warehouse"][..],
        &["run", "--secret-env", "X_*", "meltano", "run", "tap-x"],
        &["run"],
    ] {
        let stderr = refused(ciguard().args(words), 125);
        assert!(
            stderr.contains("goes after `--`") && stderr.contains("ciguard run -- meltano"),
            "{words:?}: {stderr}"
        );
    }
}

#[test]
fn every_message_of_a_failed_command_starts_the_same_way() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [&[&str]; 4] = [
        &["lint", "--nope"],
        &["lint", "missing.yml"],
        &["audit", "--from-file", "missing.json"],
        &["init", "--image", "x@sha256:0", "--stdout"],
    ];
    for words in cases {
        let out = ciguard()
            .args(words)
            .current_dir(dir.path())
            .output()
            .expect("run ciguard");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{words:?}: {stderr}");
        let first = stderr
            .lines()
            .find(|line| line.contains("error"))
            .unwrap_or("");
        assert!(first.starts_with("ciguard: error: "), "{words:?}: {stderr}");
    }
}

#[test]
fn completions_are_scripts_each_shell_reads() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = ciguard()
            .args(["completions", shell])
            .output()
            .expect("run ciguard");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        for word in ["lint", "audit", "pseudonymize", "fail-on"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(
                script.contains("sarif"),
                "{shell} completion lacks --format's values"
            );
        }
    }
    let out = ciguard()
        .args(["completions", "bash"])
        .output()
        .expect("run ciguard");
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
        .expect("bash");
    bash.stdin
        .take()
        .expect("stdin")
        .write_all(&out.stdout)
        .expect("write the script");
    assert!(
        bash.wait().expect("bash -n").success(),
        "bash cannot parse it"
    );
}

#[test]
fn manual_pages_cover_ciguard_and_each_command() {
    let out = ciguard().arg("man").output().expect("run ciguard");
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout);
    assert!(page.contains(".TH ciguard 1"), "{page}");
    for command in [
        "ciguard\\-run(1)",
        "ciguard\\-lint(1)",
        "ciguard\\-audit(1)",
    ] {
        assert!(page.contains(command), "the page does not link {command}");
    }
    let out = ciguard()
        .args(["man", "lint"])
        .output()
        .expect("run ciguard");
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout);
    assert!(page.contains(".TH ciguard-lint 1"), "{page}");
    assert!(page.contains("\\-\\-fail\\-on"), "{page}");
    assert!(page.contains("never"), "the page lists --fail-on's values");
}
