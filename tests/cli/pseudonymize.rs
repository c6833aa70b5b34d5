//! `ciguard pseudonymize` through the binary: a Singer stream in, hashed and dropped fields out;
//! YAML and JSON configs; the key checked before any input is read; bad input stops with exit 2,
//! the line number and no value; STATE is let through at once; a closed stdout ends quietly.

use std::io::Write;
use std::process::{Output, Stdio};
use std::thread;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{PATIENCE, Started, ciguard, lines_of, text, wait_for_line};

/// The key, as a CI/CD variable would hold it.
pub const KEY: &str = "k3y-for-tests-only-0123456789abcdef-0123456789";
/// The variable the configs name.
pub const KEY_ENV: &str = "PII_HMAC_KEY";

const YAML_CONFIG: &str = r#"
key_env: PII_HMAC_KEY
key_id: k1
streams:
  users:
    hash: [email, phone, customer.id]
    drop: [ssn, address.street]
    normalize: {email: email, phone: phone}
    unlisted: keep
  "*":
    unlisted: keep
"#;

/// Personal values in the input: none may reach stdout or stderr.
const CLEAR: [&str; 4] = [
    "Ann.Lee@Example.com",
    "+1 555-0100",
    "078-05-1120",
    "1 Main St",
];

fn schema() -> Value {
    json!({"type": "SCHEMA", "stream": "users", "key_properties": ["id"], "schema": {
    "type": "object", "properties": {
        "id": {"type": "integer"}, "email": {"type": "string"}, "phone": {"type": "string"},
        "ssn": {"type": "string"}, "name": {"type": "string"},
        "customer": {"type": "object", "properties": {"id": {"type": "integer"}}},
        "address": {"type": "object", "properties": {
            "street": {"type": "string"}, "city": {"type": "string"}}}
    }}})
}

fn record() -> Value {
    json!({"type": "RECORD", "stream": "users", "record": {
        "id": 1, "email": CLEAR[0], "phone": CLEAR[1], "ssn": CLEAR[2], "name": "Ann",
        "customer": {"id": 42}, "address": {"street": CLEAR[3], "city": "Springfield"}}})
}

fn stream(messages: &[Value]) -> String {
    messages.iter().map(|m| format!("{m}\n")).collect()
}

/// HMAC-SHA-256 of `message` with [`KEY`], computed by Python's own `hmac` module.
pub fn python_hmac(message: &str) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; \
             print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())",
            KEY,
            message,
        ])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "python3 failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

struct Setup {
    dir: TempDir,
}

impl Setup {
    fn new(name: &str, config: &str) -> Self {
        let dir = TempDir::new().expect("a temporary directory");
        std::fs::write(dir.path().join(name), config).expect("write the config");
        Self { dir }
    }

    fn config(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// Runs `ciguard pseudonymize --config CONFIG` with `key` in [`KEY_ENV`] and `input` on stdin.
fn pseudonymize(config: &str, key: Option<&str>, input: &str) -> Output {
    let mut command = ciguard();
    command
        .args(["pseudonymize", "--config", config])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = key {
        command.env(KEY_ENV, key);
    }
    let mut child = command.spawn().expect("start ciguard");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_owned();
    // ciguard may stop reading early (an error): a failed write is no failure of the test.
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().expect("wait for ciguard");
    writer.join().expect("the stdin writer");
    output
}

fn assert_no_clear_value(output: &Output) {
    for stream in [&output.stdout, &output.stderr] {
        let stream = text(stream);
        for clear in CLEAR {
            assert!(
                !stream.contains(clear),
                "{clear:?} is in the output: {stream}"
            );
        }
    }
}

fn check_landed(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    assert_no_clear_value(output);
    let messages: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON out"))
        .collect();
    assert_eq!(messages.len(), 3);
    let properties = &messages[0]["schema"]["properties"];
    assert!(properties.get("ssn").is_none());
    assert_eq!(properties["email"], json!({"type": "string"}));
    let record = &messages[1]["record"];
    assert_eq!(
        record["email"],
        json!(format!("k1:{}", python_hmac("ann.lee@example.com")))
    );
    assert_eq!(
        record["phone"],
        json!(format!("k1:{}", python_hmac("15550100")))
    );
    assert_eq!(
        record["customer"]["id"],
        json!(format!("k1:{}", python_hmac("42")))
    );
    assert_eq!(record["address"], json!({"city": "Springfield"}));
    assert_eq!(record["name"], "Ann");
    assert!(record.get("ssn").is_none());
    assert_eq!(
        messages[2],
        json!({"type": "STATE", "value": {"done": true}})
    );
}

#[test]
fn a_yaml_config_hashes_and_drops_as_an_independent_hmac_says() {
    let setup = Setup::new("pii.yml", YAML_CONFIG);
    let input = stream(&[
        schema(),
        record(),
        json!({"type": "STATE", "value": {"done": true}}),
    ]);
    check_landed(&pseudonymize(&setup.config("pii.yml"), Some(KEY), &input));
}

#[test]
fn a_json_config_as_meltano_writes_it_works_the_same() {
    let config = json!({
        "key_env": KEY_ENV, "key_id": "k1",
        "streams": {"users": {
            "hash": ["email", "phone", "customer.id"], "drop": ["ssn", "address.street"],
            "normalize": {"email": "email", "phone": "phone"}
        }}
    });
    let setup = Setup::new(
        "mapper.config.json",
        &serde_json::to_string_pretty(&config).expect("JSON"),
    );
    let input = stream(&[
        schema(),
        record(),
        json!({"type": "STATE", "value": {"done": true}}),
    ]);
    check_landed(&pseudonymize(
        &setup.config("mapper.config.json"),
        Some(KEY),
        &input,
    ));
}

#[test]
fn a_missing_or_short_key_stops_before_any_input_is_read() {
    let setup = Setup::new("pii.yml", YAML_CONFIG);
    for key in [None, Some(""), Some("short-key-1234")] {
        let mut command = ciguard();
        command
            .args(["pseudonymize", "--config", &setup.config("pii.yml")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(key) = key {
            command.env(KEY_ENV, key);
        }
        // stdin stays open: ciguard must not wait for it.
        let mut started = Started(command.spawn().expect("start ciguard"));
        let began = std::time::Instant::now();
        let status = loop {
            if let Some(status) = started.0.try_wait().expect("wait") {
                break status;
            }
            assert!(
                began.elapsed() < PATIENCE,
                "ciguard waited for input with key {key:?}"
            );
            thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(2));
        let mut stderr = String::new();
        std::io::Read::read_to_string(
            &mut started.0.stderr.take().expect("piped stderr"),
            &mut stderr,
        )
        .expect("read stderr");
        assert!(stderr.contains(KEY_ENV), "{stderr}");
        assert!(stderr.contains("32"), "{stderr}");
        if let Some(key) = key.filter(|key| !key.is_empty()) {
            assert!(!stderr.contains(key), "{stderr}");
        }
    }
}

#[test]
fn a_key_in_the_config_is_refused_without_echoing_it() {
    let setup = Setup::new(
        "pii.yml",
        &format!("key_env: {KEY_ENV}\nhmac_key: {KEY}\nstreams: {{}}\n"),
    );
    let output = pseudonymize(&setup.config("pii.yml"), Some(KEY), "");
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("pii.yml:2:"), "{stderr}");
    assert!(
        stderr.contains("must never be written in the config"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY), "{stderr}");
}

#[test]
fn bad_input_exits_2_with_the_line_number_and_no_value() {
    let setup = Setup::new("pii.yml", YAML_CONFIG);
    let schema = schema().to_string();
    let record = record().to_string();
    let cases = [
        (
            format!("{schema}\n{}\n", &record[..record.len() - 5]),
            "line 2: the JSON ends early",
        ),
        (
            format!("{record}\n"),
            "line 1: stream `users`: a RECORD before its SCHEMA",
        ),
        (
            format!(
                "{schema}\n\n{}\n",
                json!({"type": "RECORD", "stream": "users", "record": [CLEAR[0]]})
            ),
            "line 3: stream `users`: `record` is an array, not an object",
        ),
    ];
    for (input, expected) in cases {
        let output = pseudonymize(&setup.config("pii.yml"), Some(KEY), &input);
        assert_eq!(output.status.code(), Some(2), "{expected}");
        assert!(
            text(&output.stderr).contains(expected),
            "{}",
            text(&output.stderr)
        );
        assert_no_clear_value(&output);
    }
}

#[test]
fn state_is_let_through_before_the_input_ends() {
    let setup = Setup::new("pii.yml", YAML_CONFIG);
    let mut command = ciguard();
    command
        .args(["pseudonymize", "--config", &setup.config("pii.yml")])
        .env(KEY_ENV, KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut started = Started(command.spawn().expect("start ciguard"));
    let mut stdin = started.0.stdin.take().expect("piped stdin");
    let lines = lines_of(started.0.stdout.take().expect("piped stdout"));
    let state = json!({"type": "STATE", "value": {"n": 1}}).to_string();
    stdin
        .write_all(stream(&[schema(), record()]).as_bytes())
        .and_then(|()| writeln!(stdin, "{state}"))
        .expect("write to ciguard");
    let before = wait_for_line(&lines, &state);
    assert_eq!(before.len(), 2, "{before:?}");
    drop(stdin);
    assert_eq!(started.0.wait().expect("wait").code(), Some(0));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let setup = Setup::new("pii.yml", YAML_CONFIG);
    let mut input = schema().to_string();
    input.push('\n');
    let record = format!("{}\n", record());
    for _ in 0..20_000 {
        input.push_str(&record);
    }
    let mut command = ciguard();
    command
        .args(["pseudonymize", "--config", &setup.config("pii.yml")])
        .env(KEY_ENV, KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start ciguard");
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().expect("wait");
    writer.join().expect("the stdin writer");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn help_names_the_config_and_the_exit_statuses() {
    let output = ciguard()
        .args(["pseudonymize", "--help"])
        .output()
        .expect("run ciguard");
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    assert!(help.contains("--config <FILE>"), "{help}");
    assert!(help.contains("docs/pseudonymize.md"), "{help}");
}
