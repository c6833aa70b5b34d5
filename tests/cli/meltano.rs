//! End to end with real Meltano: `ciguard run -- meltano ...` on the project in
//! `tests/fixtures/meltano` (the leaky test tap, `ciguard pseudonymize` as a mapper, and
//! `target-jsonl`), with the credentials given as environment variables the way a GitLab job
//! gives them.
//!
//! These tests need Meltano and the fixture's plugins, installed by `scripts/install-test-tools`
//! (`.ci/run` does it). They look for them where `CIGUARD_TEST_MELTANO_VENV` and
//! `CIGUARD_TEST_MELTANO_PROJECT` point, by default `.tools/venv` and `.tools/meltano-project`.
//! When they are missing the tests fail and say how to install them: they never skip.
//!
//! Each test copies the prepared project into a temporary directory and symlinks its plugin venvs,
//! so tests run in parallel without sharing Meltano's system database or `.meltano/run`.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::common::{join, read_all, show, text};
use crate::pseudonymize;

/// A DSN with a password, as a tap's driver puts it in an error message.
const DSN: &str = "postgresql://etl:S3cr3t-Pw!x@db.example:5432/prod";
/// The password inside [`DSN`]: it must not survive on its own either.
const DSN_PASSWORD: &str = "S3cr3t-Pw!x";
/// A password with characters that JSON and Python escape: `"`, `\`, `/`, and non-ASCII.
const PASSWORD: &str = r#"sp"ec\ial/é€-pw"#;
/// The value of `account`, a `sensitive: true` setting whose env var (`TAP_LEAKY_ACCOUNT`) does not
/// look like a credential: only ciguard's `meltano.yml` lookup finds it.
const ACCOUNT: &str = "acct-7Q2x9Lm4";

const MASK: &str = "[MASKED]";

/// Longest a single `ciguard run -- meltano ...` may take (Meltano alone needs 2-3 s).
const TIMEOUT: Duration = Duration::from_secs(180);

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn tap_crash_with_dsn_in_error_is_masked_and_exit_status_passes_through() {
    let project = Project::new();
    let out = project.ciguard_meltano(
        &["run", "tap-leaky", "target-jsonl"],
        &[("TAP_LEAKY_CRASH", "true")],
    );

    assert_no_secret(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "Meltano exits 1 when the extractor fails\n{}",
        show(&out)
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ConnectionError: could not connect to server using [MASKED]"),
        "the traceback line is still there, with the DSN masked whole\n{}",
        show(&out)
    );
}

#[test]
fn tap_crash_during_discovery_is_masked_in_both_copies_of_the_traceback() {
    let project = Project::new();
    let out = project.ciguard_meltano(
        &["run", "tap-leaky", "target-jsonl"],
        &[("TAP_LEAKY_CRASH_DISCOVER", "true")],
    );

    assert_no_secret(&out);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    // Meltano prints a failed discovery twice: as `[info] tap-leaky ...` lines and as raw lines.
    let stderr = text(&out.stderr);
    let masked = stderr
        .matches("could not connect to server using [MASKED]")
        .count();
    assert!(
        masked >= 2,
        "both copies of the error are there, masked ({masked} found)\n{}",
        show(&out)
    );
}

#[test]
fn echoed_password_in_json_logs_is_masked_and_records_land() {
    let project = Project::new();
    let out = project.ciguard_meltano(
        &["--log-format=json", "run", "tap-leaky", "target-jsonl"],
        &[("TAP_LEAKY_ECHO_PASSWORD", "true"), ("TAP_LEAKY_ROWS", "5")],
    );

    assert_no_secret(&out);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stderr = text(&out.stderr);
    // Meltano writes the password JSON-escaped: `sp\"ec\\ial/\u00e9\u20ac-pw`.
    assert!(stderr.contains("using password [MASKED]"), "{}", show(&out));
    // Masking inside a JSON string keeps every JSON log line valid JSON.
    for line in stderr.lines().filter(|line| line.starts_with('{')) {
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
        assert!(
            parsed.is_ok(),
            "a JSON log line is no longer JSON after masking: {line}"
        );
    }
    assert_eq!(
        project.records(),
        (1..=5).collect::<Vec<_>>(),
        "the records landed in target-jsonl's output"
    );
}

#[test]
fn echoed_password_in_key_value_logs_is_masked() {
    let project = Project::new();
    let out = project.ciguard_meltano(
        &["--log-format=key-value", "run", "tap-leaky", "target-jsonl"],
        &[("TAP_LEAKY_ECHO_PASSWORD", "true")],
    );

    assert_no_secret(&out);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    // Meltano writes the password with its backslash doubled (Python repr).
    assert!(
        text(&out.stderr).contains("using password [MASKED]"),
        "{}",
        show(&out)
    );
    assert_eq!(
        project.records(),
        vec![1, 2, 3],
        "the records landed in target-jsonl's output"
    );
}

#[test]
fn dump_config_is_masked_including_settings_only_meltano_yml_marks_sensitive() {
    let project = Project::new();
    let out = project.ciguard_meltano(&["invoke", "--dump=config", "tap-leaky"], &[]);

    assert_no_secret(&out);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "--dump=config still prints JSON after masking ({err})\n{}",
            show(&out)
        )
    });
    for setting in ["password", "dsn", "account"] {
        assert_eq!(
            config.get(setting).and_then(serde_json::Value::as_str),
            Some(MASK),
            "setting {setting} is masked in the dumped config\n{}",
            show(&out)
        );
    }
}

#[test]
fn scan_finds_in_meltano_s_raw_log_what_run_masks_and_nothing_in_run_s_log() {
    let project = Project::new();
    let meltano = ["--log-format=json", "run", "tap-leaky", "target-jsonl"];
    // One run echoes the password (JSON-escaped in Meltano's log), one crashes with the DSN.
    let (mut raw_log, mut masked_log) = (Vec::new(), Vec::new());
    for leak in ["TAP_LEAKY_ECHO_PASSWORD", "TAP_LEAKY_CRASH"] {
        let raw = project
            .meltano_without_ciguard(&meltano)
            .env(leak, "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run meltano");
        raw_log.extend([raw.stdout, raw.stderr].concat());
        let masked = project.ciguard_meltano(&meltano, &[(leak, "true")]);
        masked_log.extend([masked.stdout, masked.stderr].concat());
    }
    assert!(
        text(&raw_log).contains(DSN),
        "the tap prints its DSN without ciguard"
    );
    fs::write(project.root().join("raw.log"), &raw_log).expect("write");
    fs::write(project.root().join("masked.log"), &masked_log).expect("write");

    let scan = |log: &str| {
        let run = project.command(&[], &[]);
        let mut scan = Command::new(env!("CARGO_BIN_EXE_ciguard"));
        scan.current_dir(project.root()).args([
            "scan",
            log,
            "--format",
            "json",
            "--fail-on",
            "never",
        ]);
        for (name, value) in run.get_envs() {
            match value {
                Some(value) => scan.env(name, value),
                None => scan.env_remove(name),
            };
        }
        let out = scan.output().expect("run ciguard scan");
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        assert_no_secret(&out);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let mut found: Vec<String> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["message"].as_str().unwrap_or_default().to_owned())
            .collect();
        found.sort();
        found.dedup();
        found
    };
    let found = scan("raw.log");
    for variable in ["TAP_LEAKY_DSN", "TAP_LEAKY_PASSWORD"] {
        assert!(
            found
                .iter()
                .any(|m| m.starts_with(&format!("the value of `{variable}`"))),
            "{variable}: {found:#?}"
        );
    }
    assert_eq!(
        scan("masked.log"),
        Vec::<String>::new(),
        "run left nothing to find"
    );
}

#[test]
fn exit_status_of_a_failing_meltano_command_passes_through() {
    let project = Project::new();
    // A usage error: Meltano exits 2 (the crash tests cover 1, the kill test 137).
    let args = ["--no-such-flag"];
    let direct = project
        .meltano_without_ciguard(&args)
        .status()
        .expect("run meltano");
    assert_eq!(direct.code(), Some(2), "meltano {args:?} itself exits 2");

    let out = project.ciguard_meltano(&args, &[]);
    assert_no_secret(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "ciguard run -- meltano {args:?}\n{}",
        show(&out)
    );
}

#[test]
fn stale_config_files_left_before_the_run_are_removed_and_reported() {
    let project = Project::new();
    let stale = [
        project
            .run_dir()
            .join("tap-leaky/tap.01a206d7-0000-7000-8000-000000000001.config.json"),
        project
            .run_dir()
            .join("target-jsonl/target.01a206d7-0000-7000-8000-000000000002.config.json"),
    ];
    let secret_config = serde_json::json!({ "password": PASSWORD, "dsn": DSN }).to_string();
    for path in &stale {
        write_file(path, &secret_config);
    }
    // Not a resolved config: ciguard leaves it alone.
    let other = project.run_dir().join("tap-leaky/notes.txt");
    write_file(&other, "not a config\n");

    let out = project.ciguard_meltano(&["run", "tap-leaky", "target-jsonl"], &[]);

    assert_no_secret(&out);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    for path in &stale {
        assert!(
            !path.exists(),
            "{} was removed\n{}",
            path.display(),
            show(&out)
        );
    }
    assert!(
        other.exists(),
        "only *.config.json files are removed\n{}",
        show(&out)
    );
    assert_eq!(
        project.config_files(),
        Vec::<PathBuf>::new(),
        "no resolved config is left\n{}",
        show(&out)
    );
    assert_reports_cleanup(&out);
    assert_eq!(
        project.records(),
        vec![1, 2, 3],
        "the records landed in target-jsonl's output"
    );
}

#[test]
fn config_files_left_by_a_killed_meltano_are_removed_and_reported() {
    let project = Project::new();
    let mut running = project.spawn_ciguard_meltano(
        &["run", "tap-leaky", "target-jsonl"],
        &[("TAP_LEAKY_SLEEP", "60")],
    );

    // Wait until Meltano has written the resolved configs and started the tap, then kill Meltano
    // alone with SIGKILL (as the OOM killer would): it cannot delete them.
    let started = Instant::now();
    while project.config_files().len() < 2 || project.processes_matching("tap-leaky").is_empty() {
        if started.elapsed() > TIMEOUT || running.has_exited() {
            let out = running.finish();
            panic!(
                "Meltano never got as far as running the tap\n{}",
                show(&out)
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
    let ciguard = running.pid();
    let meltano = processes()
        .into_iter()
        .find(|(pid, cmdline)| parent_of(*pid) == Some(ciguard) && cmdline.contains("meltano"));
    let Some((meltano, _)) = meltano else {
        let out = running.finish();
        panic!(
            "found no meltano process under ciguard (pid {ciguard})\n{}",
            show(&out)
        );
    };
    send_sigkill(meltano);
    // The orphaned tap would sleep on; end it too (the project's Drop would, later).
    project.kill_leftovers();

    let out = running.finish();
    assert_no_secret(&out);
    assert_eq!(
        out.status.code(),
        Some(128 + 9),
        "a child killed by signal 9 gives 137\n{}",
        show(&out)
    );
    assert_eq!(
        project.config_files(),
        Vec::<PathBuf>::new(),
        "no resolved config is left\n{}",
        show(&out)
    );
    assert_reports_cleanup(&out);
}

#[test]
fn pseudonymize_as_a_meltano_mapper_lands_keyed_hashes_and_no_dropped_field() {
    let project = Project::new();
    let out = project.ciguard_meltano(
        &["run", "tap-leaky", "pseudonymize-customers", "target-jsonl"],
        &[
            ("TAP_LEAKY_CUSTOMERS", "true"),
            ("TAP_LEAKY_ROWS", "4"),
            (pseudonymize::KEY_ENV, pseudonymize::KEY),
        ],
    );

    assert_no_secret(&out);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let customers = project.landed("customers");
    assert_eq!(customers.len(), 4, "{}", show(&out));
    for (customer, id) in customers.iter().zip(1..) {
        // tap-leaky writes ` Customer{id}@Example.COM ` and `+1 (555) 010-{id:04}`; the mapping
        // normalises both before hashing.
        let email = pseudonymize::python_hmac(&format!("customer{id}@example.com"));
        let phone = pseudonymize::python_hmac(&format!("1555010{id:04}"));
        let expected = serde_json::json!({
            "id": id,
            "email": format!("k1:{email}"),
            "phone": format!("k1:{phone}"),
            "name": format!("customer{id}"),
            "address": {"city": "Springfield"},
        });
        assert_eq!(customer, &expected, "{}", show(&out));
    }
    let landed = fs::read_dir(project.root().join("output"))
        .expect("the output directory")
        .map(|entry| fs::read_to_string(entry.expect("an entry").path()).expect("a file"))
        .collect::<String>();
    for clear in [
        "Example.COM",
        "example.com",
        "(555)",
        "078-05-",
        "Main Street",
    ] {
        for (what, content) in [
            ("landed records", landed.as_str()),
            ("stdout", &text(&out.stdout)),
            ("stderr", &text(&out.stderr)),
        ] {
            assert!(
                !content.contains(clear),
                "{what} hold {clear:?}\n{}",
                show(&out)
            );
        }
    }
    assert_eq!(
        project.records(),
        vec![1, 2, 3, 4],
        "the users stream passed the mapper unchanged"
    );
}

/// ciguard installed the way a Meltano user installs it, from the wheel with `pip_url`: the
/// mapper as its own executable (no wrapper, no ciguard on `PATH`), and ciguard as a utility whose
/// `ciguard run` masks an ELT step.
#[test]
fn the_wheel_installs_ciguard_as_a_meltano_mapper_and_utility() {
    let wheel = crate::wheel::dist().wheel;
    let project = Project::new();
    let file = project.root().join("meltano.yml");
    let yaml = fs::read_to_string(&file).expect("read meltano.yml");
    let (plugins, rest) = yaml
        .split_once("project_id:")
        .expect("project_id ends the file");
    let wheel = wheel.display();
    let declared = format!(
        "{plugins}  - name: ciguard-wheel\n    namespace: ciguard_wheel\n    pip_url: {wheel}\n    \
         executable: ciguard-pseudonymize\n    mappings:\n    - name: pseudonymize-wheel\n      \
         config:\n        key_env: {key_env}\n        streams:\n          customers:\n            \
         hash: [email]\n            drop: [ssn, phone, address]\n  utilities:\n  - name: ciguard\n    \
         namespace: ciguard\n    pip_url: {wheel}\n    executable: ciguard\nproject_id:{rest}",
        key_env = pseudonymize::KEY_ENV,
    );
    write_file(&file, &declared);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = crate::wheel::path_without_rust(&project.tools.venv_bin);
    let meltano = |args: &[&str], extra: &[(&str, &str)]| -> Output {
        let mut cmd = project.meltano_without_ciguard(args);
        cmd.env("PATH", &path)
            .env("HOME", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in extra {
            cmd.env(name, value);
        }
        cmd.output().expect("run meltano")
    };
    for (kind, name) in [("mapper", "ciguard-wheel"), ("utility", "ciguard")] {
        let out = meltano(&["install", "--plugin-type", kind, name], &[]);
        assert_eq!(out.status.code(), Some(0), "install {name}: {}", show(&out));
    }

    let out = meltano(
        &["run", "tap-leaky", "pseudonymize-wheel", "target-jsonl"],
        &[
            ("TAP_LEAKY_CUSTOMERS", "true"),
            ("TAP_LEAKY_ROWS", "2"),
            (pseudonymize::KEY_ENV, pseudonymize::KEY),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let customers = project.landed("customers");
    assert_eq!(customers.len(), 2, "{}", show(&out));
    for customer in &customers {
        let email = customer["email"].as_str().expect("a hashed email");
        assert!(
            email.len() == 64 && email.bytes().all(|b| b.is_ascii_hexdigit()),
            "{email}"
        );
        assert!(customer.get("ssn").is_none() && customer.get("phone").is_none());
    }

    // The ELT step under the utility's `ciguard run`: the tap prints its password, the log must not.
    let out = meltano(
        &[
            "invoke",
            "ciguard",
            "run",
            "--",
            "meltano",
            "run",
            "tap-leaky",
            "target-jsonl",
        ],
        &[("TAP_LEAKY_ECHO_PASSWORD", "true")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_no_secret(&out);
    assert!(
        text(&out.stderr).contains("ciguard: masked"),
        "the installed ciguard ran the step: {}",
        show(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Assertions

/// Every form in which Meltano, a tap or Python could print `secret`.
pub fn printed_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![
        secret.to_owned(),
        json_escaped(secret, true),
        json_escaped(secret, false),
        secret.replace('\\', r"\\"),
        percent_encoded(secret),
    ];
    forms.sort();
    forms.dedup();
    forms
}

/// The inside of a JSON string holding `value`, as Python's `json.dumps` writes it (with
/// `ensure_ascii`: non-ASCII as `\uXXXX`, surrogate pairs above the BMP).
fn json_escaped(value: &str, ensure_ascii: bool) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '"' => out.push_str(r#"\""#),
            '\\' => out.push_str(r"\\"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c if (c as u32) < 0x20 || (ensure_ascii && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn percent_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// No secret given to the run, in any form Meltano prints, is in stdout or stderr.
fn assert_no_secret(out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let content = text(bytes);
        for secret in [DSN, DSN_PASSWORD, PASSWORD, ACCOUNT] {
            for form in printed_forms(secret) {
                assert!(
                    !content.contains(&form),
                    "{stream} holds the secret {secret:?} as {form:?}\n{}",
                    show(out)
                );
            }
        }
    }
}

/// ciguard says on stderr that it removed resolved configs (it names the files or the directory).
fn assert_reports_cleanup(out: &Output) {
    let stderr = text(&out.stderr);
    let said = stderr.lines().any(|line| {
        line.contains("ciguard") && (line.contains("config.json") || line.contains(".meltano/run"))
    });
    assert!(
        said,
        "ciguard says on stderr that it removed the stale config files\n{}",
        show(out)
    );
}

/// Meltano did not reinstall a plugin: that would mean the prepared project is stale, and
/// parallel tests would be writing into the same shared venvs.
fn assert_not_reinstalled(out: &Output) {
    assert!(
        !text(&out.stderr).contains("Installing "),
        "Meltano reinstalled a plugin: .tools/meltano-project is stale; run scripts/install-test-tools\n{}",
        show(out)
    );
}

// ---------------------------------------------------------------------------------------------
// The tools and the per-test project

/// Meltano's venv and the prepared project, or a panic that says how to get them.
pub struct Tools {
    /// The venv's `bin`, with `meltano`.
    pub venv_bin: PathBuf,
    prepared: PathBuf,
}

pub fn tools() -> Tools {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let from_env = |name: &str, default: &str| -> PathBuf {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map_or_else(|| repo.join(default), PathBuf::from)
    };
    let venv = from_env("CIGUARD_TEST_MELTANO_VENV", ".tools/venv");
    let prepared = from_env("CIGUARD_TEST_MELTANO_PROJECT", ".tools/meltano-project");
    let needed = [
        venv.join("bin/meltano"),
        prepared.join("meltano.yml"),
        prepared.join(".meltano/extractors/tap-leaky/venv/bin/tap-leaky"),
        prepared.join(".meltano/loaders/target-jsonl/venv/bin/target-jsonl"),
        prepared.join("plugins/ciguard-pseudonymize"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|p| !p.exists())
        .map(|p| format!("  {}", p.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "the Meltano end-to-end tests need Meltano and the fixture's plugins; missing:\n{}\n\
         Install them with `scripts/install-test-tools` (or run `.ci/run`), or point \
         CIGUARD_TEST_MELTANO_VENV and CIGUARD_TEST_MELTANO_PROJECT at an installation.",
        missing.join("\n")
    );
    Tools {
        venv_bin: venv.join("bin"),
        prepared,
    }
}

/// Copies the prepared project's `meltano.yml` and `plugins/` to `root` and links its plugin
/// venvs there, so Meltano runs its plugins without installing them.
pub fn copy_prepared_project(tools: &Tools, root: &Path) {
    fs::create_dir_all(root.join(".meltano")).expect("create the project directory");
    fs::copy(tools.prepared.join("meltano.yml"), root.join("meltano.yml"))
        .expect("copy meltano.yml");
    copy_tree(&tools.prepared.join("plugins"), &root.join("plugins"));
    for kind in ["extractors", "loaders"] {
        symlink(
            tools.prepared.join(".meltano").join(kind),
            root.join(".meltano").join(kind),
        )
        .expect("link the prepared plugin venvs");
    }
}

/// The records target-jsonl wrote for `stream` under `root/output`, file by file in name order.
pub fn landed_records(root: &Path, stream: &str) -> Vec<serde_json::Value> {
    let output = root.join("output");
    let prefix = format!("{stream}-");
    let mut files: Vec<PathBuf> = fs::read_dir(&output)
        .unwrap_or_else(|err| panic!("target-jsonl wrote no {} ({err})", output.display()))
        .map(|entry| entry.expect("read the output directory").path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "jsonl")
                && path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with(&prefix))
        })
        .collect();
    files.sort();
    let mut records = Vec::new();
    for file in files {
        let content = fs::read_to_string(&file).expect("read a target-jsonl file");
        for line in content.lines().filter(|line| !line.trim().is_empty()) {
            records.push(serde_json::from_str(line).expect("a record is JSON"));
        }
    }
    records
}

/// A fresh copy of the prepared Meltano project, in a temporary directory.
struct Project {
    tools: Tools,
    dir: TempDir,
}

impl Project {
    fn new() -> Self {
        let tools = tools();
        let dir = tempfile::Builder::new()
            .prefix("ciguard-meltano-")
            .tempdir()
            .expect("create a temporary directory");
        copy_prepared_project(&tools, &dir.path().join("project"));
        fs::create_dir_all(dir.path().join("state")).expect("create the state directory");
        Self { tools, dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    fn run_dir(&self) -> PathBuf {
        self.root().join(".meltano/run")
    }

    /// `ciguard run -- meltano ARGS...` in the project, with the test credentials and `extra` set.
    fn command(&self, meltano_args: &[&str], extra: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ciguard"));
        cmd.current_dir(self.root())
            .arg("run")
            .arg("--")
            .arg("meltano")
            .args(meltano_args);
        // Nothing from the caller's environment may configure Meltano or the plugins.
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if ["MELTANO_", "TAP_LEAKY_", "TARGET_JSONL_"]
                .iter()
                .any(|prefix| name_text.starts_with(prefix))
                || name_text == "VIRTUAL_ENV"
            {
                cmd.env_remove(&name);
            }
        }
        // Meltano finds ciguard there when it runs it as a mapper (plugins/ciguard-pseudonymize).
        let ciguard_dir = Path::new(env!("CARGO_BIN_EXE_ciguard"))
            .parent()
            .expect("the ciguard binary's directory");
        let mut path = OsString::from(&self.tools.venv_bin);
        path.push(":");
        path.push(ciguard_dir);
        if let Some(rest) = std::env::var_os("PATH") {
            path.push(":");
            path.push(rest);
        }
        cmd.env("PATH", path)
            .env("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env("MELTANO_CLI_DISABLE_VERSION_CHECK", "true")
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .env("TAP_LEAKY_DSN", DSN)
            .env("TAP_LEAKY_PASSWORD", PASSWORD)
            .env("TAP_LEAKY_ACCOUNT", ACCOUNT);
        for (name, value) in extra {
            cmd.env(name, value);
        }
        cmd
    }

    /// `meltano ARGS...` alone, in the same environment, to compare with.
    fn meltano_without_ciguard(&self, meltano_args: &[&str]) -> Command {
        let ciguard = self.command(meltano_args, &[]);
        let mut cmd = Command::new(self.tools.venv_bin.join("meltano"));
        cmd.args(meltano_args)
            .current_dir(self.root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in ciguard.get_envs() {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        cmd
    }

    /// Runs `ciguard run -- meltano ARGS...` to the end.
    fn ciguard_meltano(&self, meltano_args: &[&str], extra: &[(&str, &str)]) -> Output {
        let out = self.spawn_ciguard_meltano(meltano_args, extra).finish();
        assert_not_reinstalled(&out);
        out
    }

    fn spawn_ciguard_meltano(&self, meltano_args: &[&str], extra: &[(&str, &str)]) -> Running {
        Running::spawn(self.command(meltano_args, extra))
    }

    /// The ids of the `users` records target-jsonl wrote, in order.
    fn records(&self) -> Vec<u64> {
        self.landed("users")
            .iter()
            .map(|record| record["id"].as_u64().expect("a record has an integer id"))
            .collect()
    }

    /// The records target-jsonl wrote for `stream`, in order.
    fn landed(&self, stream: &str) -> Vec<serde_json::Value> {
        landed_records(&self.root(), stream)
    }

    /// Every `*.config.json` under `.meltano/run`.
    fn config_files(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut dirs = vec![self.run_dir()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    dirs.push(path);
                } else if path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().ends_with(".config.json"))
                {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }

    /// Processes whose command line names this project and contains `word`.
    fn processes_matching(&self, word: &str) -> Vec<u32> {
        let root = self.root().to_string_lossy().into_owned();
        processes()
            .into_iter()
            .filter(|(_, cmdline)| cmdline.contains(&root) && cmdline.contains(word))
            .map(|(pid, _)| pid)
            .collect()
    }

    /// Kills what is left of a run in this project (a tap orphaned by a killed Meltano).
    fn kill_leftovers(&self) {
        let root = self.root().to_string_lossy().into_owned();
        let own = std::process::id();
        for (pid, cmdline) in processes() {
            if pid != own && cmdline.contains(&root) {
                send_sigkill(pid);
            }
        }
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        self.kill_leftovers();
    }
}

/// A running `ciguard`, its output read by two threads.
struct Running {
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
}

impl Running {
    fn spawn(mut cmd: Command) -> Self {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the ciguard binary");
        let stdout = read_all(child.stdout.take().expect("piped stdout"));
        let stderr = read_all(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits for ciguard (at most [`TIMEOUT`]) and returns what it printed.
    fn finish(mut self) -> Output {
        let started = Instant::now();
        let status: ExitStatus = loop {
            if let Some(status) = self.child.try_wait().expect("wait for ciguard") {
                break status;
            }
            if started.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                let status = self.child.wait().expect("wait for the killed ciguard");
                let out = Output {
                    status,
                    stdout: join(self.stdout),
                    stderr: join(self.stderr),
                };
                panic!("ciguard did not finish within {TIMEOUT:?}\n{}", show(&out));
            }
            thread::sleep(Duration::from_millis(20));
        };
        Output {
            status,
            stdout: join(self.stdout),
            stderr: join(self.stderr),
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create a directory");
    for entry in fs::read_dir(from).unwrap_or_else(|err| panic!("read {} ({err})", from.display()))
    {
        let entry = entry.expect("read a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

fn write_file(path: &Path, content: &str) {
    fs::create_dir_all(path.parent().expect("a parent directory")).expect("create a directory");
    fs::write(path, content).expect("write a file");
}

// ---------------------------------------------------------------------------------------------
// Processes, through /proc (Linux)

/// Every process with its command line (arguments joined by spaces).
fn processes() -> Vec<(u32, String)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            Some((pid, cmdline))
        })
        .collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

fn send_sigkill(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // The process may be gone already: nothing to do then.
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}
