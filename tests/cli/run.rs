//! `ciguard run` on real processes: masking, streams, add-mask, files, exit statuses, signals.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};

use assert_cmd::assert::OutputAssertExt;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::common::{Started, ciguard_run, lines_of, run_python, run_sh, wait_for_line};

const MASK: &str = "[MASKED]";

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails unless ciguard exited with `code`, showing what it printed.
fn expect_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

/// The summary line ciguard ends with.
fn summary(output: &Output) -> String {
    let stderr = stderr(output);
    let line = stderr
        .lines()
        .rfind(|line| line.starts_with("ciguard: masked "))
        .unwrap_or_else(|| panic!("no summary line in {stderr:?}"));
    line.to_owned()
}

#[test]
fn a_secret_written_one_byte_at_a_time_is_masked() {
    let secret = "Byte-by-byte-9f2";
    let output = run_python(
        "import os, sys, time\n\
         out = sys.stdout.buffer\n\
         out.write(b'pw=')\n\
         for b in os.environ['DB_PASSWORD'].encode():\n\
         \x20   out.write(bytes([b])); out.flush(); time.sleep(0.005)\n\
         out.write(b' end\\n')\n",
    )
    .env("DB_PASSWORD", secret)
    .output()
    .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(stdout(&output), format!("pw={MASK} end\n"));
    assert!(
        summary(&output).contains("variables 1"),
        "{}",
        summary(&output)
    );
}

#[test]
fn a_self_overlapping_secret_split_inside_its_repeat_is_masked() {
    // "abcab" could start the secret "abcabdQ7"; the real one starts 3 bytes later, and the
    // first write ends inside it.
    let output = run_sh("printf 'xx abcab'; sleep 0.05; printf 'cabdQ7 yy\\n'")
        .env("DB_PASSWORD", "abcabdQ7")
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(stdout(&output), format!("xx abc{MASK} yy\n"));
}

#[test]
fn every_encoding_of_a_secret_is_masked() {
    let secret = "Sp\"ec\\ial/\u{e9}\u{20ac} pw'&<+9";
    let dir = tempfile::tempdir().expect("temp dir");
    let forms_file = dir.path().join("forms.json");
    // The child prints each form through ciguard, and writes them to a file beside it, so the
    // test knows what must not appear.
    let output = run_python(
        "import base64, html, json, os, shlex, subprocess, urllib.parse, xml.sax.saxutils\n\
         s = os.environ['DB_PASSWORD']\n\
         b = s.encode()\n\
         forms = [\n\
         \x20   s,\n\
         \x20   base64.b64encode(b).decode(),\n\
         \x20   base64.b64encode(b).decode().rstrip('='),\n\
         \x20   base64.urlsafe_b64encode(b).decode(),\n\
         \x20   base64.b64encode(b'x' + b + b'tail').decode(),\n\
         \x20   base64.b64encode(b'xy' + b + b'tail').decode(),\n\
         \x20   urllib.parse.quote(s, safe=''),\n\
         \x20   urllib.parse.quote_plus(s),\n\
         \x20   json.dumps(s),\n\
         \x20   json.dumps(s, ensure_ascii=False),\n\
         \x20   repr(s),\n\
         \x20   shlex.quote(s),\n\
         \x20   subprocess.run(['bash', '-c', 'printf %q \"$DB_PASSWORD\"'], capture_output=True).stdout.decode(),\n\
         \x20   s.replace(\"'\", \"''\"),\n\
         \x20   html.escape(s),\n\
         \x20   xml.sax.saxutils.escape(s),\n\
         ]\n\
         json.dump(forms, open(os.environ['FORMS_FILE'], 'w'))\n\
         for form in forms:\n\
         \x20   print('form:', form)\n",
    )
    .env("DB_PASSWORD", secret)
    .env("FORMS_FILE", &forms_file)
    .output()
    .expect("run ciguard");
    expect_code(&output, 0);
    let forms: Vec<String> =
        serde_json::from_slice(&std::fs::read(&forms_file).expect("forms file")).expect("json");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), forms.len(), "{text}");
    for (line, form) in lines.iter().zip(&forms) {
        assert!(line.contains(MASK), "not masked: {line}");
        assert!(!line.contains(form.as_str()), "{form} leaked: {line}");
    }
}

#[test]
fn stderr_is_masked_and_stays_on_stderr() {
    let output = run_sh("echo out-line; echo \"err $DB_PASSWORD\" >&2")
        .env("DB_PASSWORD", "stderr-secret-1")
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(stdout(&output), "out-line\n");
    assert!(
        stderr(&output).contains(&format!("err {MASK}\n")),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("stderr-secret-1"));
}

#[test]
fn a_secret_at_eof_without_newline_is_masked() {
    let output = run_sh("printf %s \"$DB_PASSWORD\"")
        .env("DB_PASSWORD", "eof-secret-22")
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(stdout(&output), MASK);
}

#[test]
fn add_mask_registers_a_value_for_both_streams_and_hides_its_line() {
    let mut ciguard = Started(
        run_sh(
            "echo before runtime-value-77; echo ::add-mask::runtime-value-77; \
             echo out runtime-value-77; read go; echo err runtime-value-77 >&2",
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ciguard"),
    );
    let out_lines = lines_of(ciguard.0.stdout.take().expect("stdout"));
    let err_lines = lines_of(ciguard.0.stderr.take().expect("stderr"));
    let before = wait_for_line(&out_lines, &format!("out {MASK}"));
    assert_eq!(before, ["before runtime-value-77"]);
    // stdout's pump has registered the value: now let the child use it on stderr.
    writeln!(ciguard.0.stdin.take().expect("stdin"), "go").expect("write stdin");
    let before = wait_for_line(&err_lines, &format!("err {MASK}"));
    assert!(before.is_empty(), "{before:?}");
    assert!(ciguard.0.wait().expect("wait for ciguard").success());
    let rest: Vec<String> = out_lines.iter().collect();
    assert!(rest.is_empty(), "{rest:?}");
    let summary: Vec<String> = err_lines.iter().collect();
    assert_eq!(
        summary,
        ["ciguard: masked 2: variables 0, files 0, meltano 0, add-mask 2; detectors: none"]
    );
}

#[test]
fn a_multi_line_file_variable_is_masked_whole_and_by_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "first-line-secret-aa1\nsecond-line-secret-bb2\n").expect("write");
    let output = run_sh("cat \"$SERVICE_PRIVATE_KEY\"; sed -n 2p \"$SERVICE_PRIVATE_KEY\"; echo \"path=$SERVICE_PRIVATE_KEY\"")
        .env("SERVICE_PRIVATE_KEY", &key_file)
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    let text = stdout(&output);
    assert!(!text.contains("first-line-secret"), "{text}");
    assert!(!text.contains("second-line-secret"), "{text}");
    assert!(
        text.contains(&format!("path={}\n", key_file.display())),
        "the path is no secret: {text}"
    );
    assert!(summary(&output).contains("files "), "{}", summary(&output));
    assert!(
        !summary(&output).contains("files 0"),
        "{}",
        summary(&output)
    );
}

#[test]
fn add_mask_with_the_toolkits_escapes_masks_each_line() {
    let output = run_sh(
        "echo '::add-mask::line-one-secret%0Aline-two-secret'; \
         echo 'a line-one-secret'; echo 'b line-two-secret'; printf 'line-one-secret\\nline-two-secret\\n'",
    )
    .output()
    .expect("run ciguard");
    expect_code(&output, 0);
    let text = stdout(&output);
    assert!(
        !text.contains("line-one-secret") && !text.contains("line-two-secret"),
        "{text}"
    );
    assert_eq!(text, format!("a {MASK}\nb {MASK}\n{MASK}\n"));
}

#[test]
fn a_key_files_last_newline_is_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "-----key-material-0123456789-----\n").expect("write");
    let output = run_sh("cat \"$SERVICE_PRIVATE_KEY\"; echo NEXT")
        .env("SERVICE_PRIVATE_KEY", &key_file)
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(stdout(&output), format!("{MASK}\nNEXT\n"));
}

#[test]
fn the_summary_starts_its_own_line_after_output_without_a_newline() {
    for stream in ["", " >&2"] {
        let output = run_sh(&format!("printf 'no newline'{stream}"))
            .output()
            .expect("run ciguard");
        expect_code(&output, 0);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(!all.contains("no newlineciguard"), "{all:?}");
        assert!(
            stderr(&output)
                .lines()
                .any(|l| l.starts_with("ciguard: masked ")),
            "{all:?}"
        );
    }
}

#[test]
fn binary_output_passes_byte_exact() {
    let output = run_python(
        "import sys\n\
         sys.stdout.buffer.write(bytes(range(256)) * 300 + b'\\xff\\xfe\\n\\x00\\r\\n\\xc3')\n",
    )
    .env("DB_PASSWORD", "not-in-the-output")
    .output()
    .expect("run ciguard");
    expect_code(&output, 0);
    let mut expected: Vec<u8> = (0..=255).cycle().take(256 * 300).collect();
    expected.extend_from_slice(b"\xff\xfe\n\x00\r\n\xc3");
    assert!(output.stdout == expected, "binary output changed");
}

#[test]
fn the_exit_status_is_the_childs() {
    run_sh("exit 7").assert().code(7);
    run_sh("exit 0").assert().code(0);
}

#[test]
fn a_child_killed_by_a_signal_gives_128_plus_its_number() {
    run_sh("kill -9 $$").assert().code(128 + 9);
}

#[test]
fn a_command_not_found_gives_127() {
    let output = ciguard_run(&[], &["ciguard-no-such-command"])
        .output()
        .expect("run ciguard");
    expect_code(&output, 127);
    assert!(
        stderr(&output).contains("command not found"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_command_not_executable_gives_126() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho never\n").expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let script = script.to_str().expect("utf-8 path");
    let output = ciguard_run(&[], &[script]).output().expect("run ciguard");
    expect_code(&output, 126);
    assert!(stdout(&output).is_empty());
}

#[test]
fn a_secret_in_the_command_line_of_a_spawn_failure_is_masked() {
    let output = ciguard_run(&[], &["/nonexistent-dir/tool", "--password=spawn-secret-5"])
        .env("DB_PASSWORD", "spawn-secret-5")
        .output()
        .expect("run ciguard");
    expect_code(&output, 127);
    let stderr = stderr(&output);
    assert!(stderr.contains(&format!("--password={MASK}")), "{stderr}");
    assert!(!stderr.contains("spawn-secret-5"), "{stderr}");
}

#[test]
fn sigterm_sent_to_ciguard_reaches_the_child() {
    let mut ciguard = Started(
        run_sh("trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ciguard"),
    );
    let lines = lines_of(ciguard.0.stdout.take().expect("stdout"));
    wait_for_line(&lines, "ready");
    let pid = Pid::from_raw(i32::try_from(ciguard.0.id()).expect("pid"));
    kill(pid, Signal::SIGTERM).expect("signal ciguard");
    wait_for_line(&lines, "got-term");
    let status = ciguard.0.wait().expect("wait for ciguard");
    assert_eq!(status.code(), Some(42), "the child's own exit code");
}

#[test]
fn a_line_appears_while_the_child_is_still_running() {
    // The child blocks on its stdin until the test has seen its first line.
    let mut ciguard = Started(
        run_sh("echo live-line; read answer; echo \"got $answer\"")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ciguard"),
    );
    let lines = lines_of(ciguard.0.stdout.take().expect("stdout"));
    wait_for_line(&lines, "live-line");
    writeln!(ciguard.0.stdin.take().expect("stdin"), "yes").expect("write stdin");
    wait_for_line(&lines, "got yes");
    assert!(ciguard.0.wait().expect("wait for ciguard").success());
}

#[test]
fn short_values_are_named_on_stderr_never_shown() {
    let output = run_sh("echo \"token=$API_TOKEN\"")
        .env("API_TOKEN", "q9z")
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    let stderr = stderr(&output);
    assert!(stderr.contains("API_TOKEN"), "{stderr}");
    assert!(!stderr.contains("q9z"), "{stderr}");
    assert_eq!(stdout(&output), "token=q9z\n", "too short to mask");
}

#[test]
fn the_log_file_gets_the_scrubbed_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("job.log");
    let output = ciguard_run(
        &["--log-file", log.to_str().expect("utf-8 path")],
        &[
            "sh",
            "-c",
            "echo \"out $DB_PASSWORD\"; echo \"err $DB_PASSWORD\" >&2",
        ],
    )
    .env("DB_PASSWORD", "log-secret-33")
    .output()
    .expect("run ciguard");
    expect_code(&output, 0);
    let logged = std::fs::read_to_string(&log).expect("log file");
    assert!(logged.contains(&format!("out {MASK}\n")), "{logged}");
    assert!(logged.contains(&format!("err {MASK}\n")), "{logged}");
    assert!(!logged.contains("log-secret-33"), "{logged}");
}

#[test]
fn columns_is_wide_unless_the_caller_set_it() {
    let output = run_sh("echo \"$COLUMNS\"").output().expect("run ciguard");
    assert_eq!(stdout(&output), "500\n");
    let output = run_sh("echo \"$COLUMNS\"")
        .env("COLUMNS", "91")
        .output()
        .expect("run ciguard");
    assert_eq!(stdout(&output), "91\n");
}

#[test]
fn secret_env_adds_names_and_no_default_patterns_drops_the_defaults() {
    let output = ciguard_run(
        &["--no-default-patterns", "--secret-env", "my_*"],
        &["sh", "-c", "echo \"$MY_THING $DB_PASSWORD\""],
    )
    .env("MY_THING", "value-one-1")
    .env("DB_PASSWORD", "value-two-2")
    .output()
    .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(stdout(&output), format!("{MASK} value-two-2\n"));
}

#[test]
fn detectors_mask_unregistered_secrets_unless_turned_off() {
    let script = "echo postgresql://etl:unregistered-pw@db.example/prod";
    let output = run_sh(script).output().expect("run ciguard");
    assert!(
        !stdout(&output).contains("unregistered-pw"),
        "{}",
        stdout(&output)
    );
    assert!(
        summary(&output).contains("uri-password 1"),
        "{}",
        summary(&output)
    );
    let output = ciguard_run(&["--no-detectors"], &["sh", "-c", script])
        .output()
        .expect("run ciguard");
    assert_eq!(
        stdout(&output),
        "postgresql://etl:unregistered-pw@db.example/prod\n"
    );
}

#[test]
fn bad_usage_of_run_gives_125() {
    ciguard_run(&["--disable-detector", "no-such-detector"], &["true"])
        .assert()
        .code(125);
    ciguard_run(&["--kill-after", "soon"], &["true"])
        .assert()
        .code(125);
}

#[test]
fn sensitive_meltano_settings_are_masked() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("meltano.yml"),
        "plugins:\n  extractors:\n  - name: tap-foo\n    settings:\n    - name: client_key\n      sensitive: true\n",
    )
    .expect("write meltano.yml");
    let output = run_sh("echo \"key=$TAP_FOO_CLIENT_KEY\"")
        .current_dir(dir.path())
        .env("TAP_FOO_CLIENT_KEY", "meltano-key-44")
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(stdout(&output), format!("key={MASK}\n"));
    assert!(
        summary(&output).contains("meltano 1"),
        "{}",
        summary(&output)
    );
}

#[test]
fn an_invalid_meltano_project_gives_125_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("meltano.yml"),
        "plugins:\n  extractors: [\n",
    )
    .expect("write");
    let output = run_sh("echo never")
        .current_dir(dir.path())
        .output()
        .expect("run ciguard");
    expect_code(&output, 125);
    assert!(stdout(&output).is_empty(), "the command must not run");
    assert!(
        stderr(&output).contains("meltano.yml:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn stale_meltano_configs_are_removed_after_meltano_ends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let meltano = dir.path().join("meltano");
    std::fs::write(&meltano, "#!/bin/sh\necho fake meltano\n").expect("write");
    std::fs::set_permissions(&meltano, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let stale = dir
        .path()
        .join(".meltano/run/tap-leaky/tap.1234.config.json");
    std::fs::create_dir_all(stale.parent().expect("parent")).expect("mkdir");
    std::fs::write(&stale, "{\"password\": \"x\"}").expect("write");
    let output = ciguard_run(&[], &[meltano.to_str().expect("utf-8 path")])
        .current_dir(dir.path())
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    assert!(!stale.exists(), "stale config left behind");
    let stderr = stderr(&output);
    assert!(
        stderr.contains("removed .meltano/run/tap-leaky/tap.1234.config.json"),
        "{stderr}"
    );
}

#[test]
fn a_value_given_where_a_name_belongs_is_refused_without_repeating_it() {
    let out = ciguard_run(
        &["--secret-env", "DB_PASSWORD=hunter2-typed-secret"],
        &["true"],
    )
    .output()
    .expect("run ciguard");
    assert_eq!(out.status.code(), Some(125), "a usage error of run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("'--secret-env <NAME_OR_GLOB>'"), "{stderr}");
    assert!(!stderr.contains("hunter2-typed-secret"), "{stderr}");
}

#[test]
fn line_wrapped_base64_of_a_secret_is_masked() {
    // A GCP service-account key, as it is usually stored: far longer than one wrapped line.
    let secret = r#"{"type": "service_account", "project_id": "etl-prod", "private_key_id": "5f2b9c0e7d1a", "client_email": "loader@etl-prod.iam.gserviceaccount.com"}"#;
    let output = run_sh(
        "printf %s \"$SA_KEY_PASSWORD\" | base64; \
         printf 'user:%s' \"$SA_KEY_PASSWORD\" | base64 -w 64; \
         printf %s \"$SA_KEY_PASSWORD\" | base64 | sed 's/$/\\r/'; \
         echo done",
    )
    .env("SA_KEY_PASSWORD", secret)
    .output()
    .expect("run ciguard");
    expect_code(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"done"), "{text}");
    // What is left of each block: `user:` encoded (`dXNlcjp`) and the padding.
    for line in &lines[..lines.len() - 1] {
        let line = line.trim_end_matches('\r');
        assert!(
            line.is_empty() || line.contains(MASK) && line.len() <= MASK.len() + 10,
            "{text}"
        );
    }
    assert_eq!(text.matches(MASK).count(), 3, "{text}");
}

#[test]
fn an_organisations_token_prefixes_are_masked_from_flag_and_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join(".ciguard.yml"),
        "token_prefixes: [\"acmecfg_\"]\n",
    )
    .expect("write .ciguard.yml");
    let output = ciguard_run(
        &["--token-prefix", "acme-pat-"],
        &["sh", "-c", "echo 'a acme-pat-Zq81.x_Y9 b acmecfg_K2j-33 c'"],
    )
    .current_dir(dir.path())
    .output()
    .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("a acme-pat-{MASK} b acmecfg_{MASK} c\n")
    );
    assert!(
        summary(&output).contains("token-prefix 2"),
        "{}",
        summary(&output)
    );
    // Too short to mask only tokens, or not a prefix: refused, and not repeated.
    for prefix in ["h2", "hunter2 x"] {
        let output = ciguard_run(&["--token-prefix", prefix], &["true"])
            .output()
            .expect("run ciguard");
        expect_code(&output, 125);
        assert!(!stderr(&output).contains(prefix), "{}", stderr(&output));
    }
    std::fs::write(
        dir.path().join(".ciguard.yml"),
        "token_prefixes: [\"hunter2 x\"]\n",
    )
    .expect("write .ciguard.yml");
    let output = ciguard_run(&[], &["true"])
        .current_dir(dir.path())
        .output()
        .expect("run ciguard");
    expect_code(&output, 125);
    let err = stderr(&output);
    assert!(
        err.contains(".ciguard.yml:1:") && err.contains("token_prefixes"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn credentials_in_urls_curl_and_encoded_jwts_are_masked_and_placeholders_kept() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let script = format!(
        "echo 'GET /api/v4/jobs?private_token=Zk3mP9qL2x&per_page=100'; \
         echo '+ curl -sS -u admin:Tr0ub4dor-x https://api.example.com'; \
         printf %s '{jwt}' | base64 -w0; echo; \
         echo 'curl -u \"$API_USER:$API_PASSWORD\" AKIAIOSFODNN7EXAMPLE password=<password>'"
    );
    let output = ciguard_run(&[], &["sh", "-c", &script])
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    assert_eq!(
        stdout(&output),
        format!(
            "GET /api/v4/jobs?private_token={MASK}&per_page=100\n\
             + curl -sS -u admin:{MASK} https://api.example.com\n\
             {MASK}\n\
             curl -u \"$API_USER:$API_PASSWORD\" AKIAIOSFODNN7EXAMPLE password=<password>\n"
        )
    );
}

/// What `secrets:` delivers to the production job `init --secrets` writes, delivered as the
/// runner does (a `file: true` secret as a file in the build's temporary folder, its path in the
/// variable; a `file: false` one as the value), then printed by the job raw, by line and in
/// base64: `ciguard run` masks every form.
#[test]
fn what_secrets_delivers_is_masked_in_files_and_values() {
    use crate::init::{PINNED_IMAGE, fixture_copy, init_ok};

    let dir = fixture_copy("environments");
    init_ok(dir.path(), &["--image", PINNED_IMAGE, "--secrets", "vault"]);
    let pipeline = std::fs::read_to_string(dir.path().join(".gitlab-ci.yml")).expect("pipeline");
    let document: serde_json::Value = serde_saphyr::from_str(&pipeline).expect("YAML");
    let secrets = document["elt-production"]["secrets"]
        .as_object()
        .expect("the production job's secrets")
        .clone();
    let build_tmp = dir.path().join("project.tmp");
    std::fs::create_dir(&build_tmp).expect("the runner's temporary folder");
    let mut command = run_sh(
        "for name in $NAMES; do eval \"v=\\$$name\"; if [ -f \"$v\" ]; then cat \"$v\"; \
         base64 -w0 < \"$v\"; echo; else echo \"$name=$v\"; printf %s \"$v\" | base64; fi; done",
    );
    let mut values = Vec::new();
    for (index, (name, secret)) in secrets.iter().enumerate() {
        let value = format!("Fetched-{index}-Secret-Value-9x7Q");
        if secret["file"] == true {
            let content = format!(
                "-----BEGIN PRIVATE KEY-----\n{value}\nline-two-{value}\n-----END PRIVATE KEY-----\n"
            );
            let path = build_tmp.join(name);
            std::fs::write(&path, content).expect("write the secret's file");
            command.env(name, &path);
        } else {
            command.env(name, &value);
        }
        values.push(value);
    }
    assert!(secrets.values().any(|secret| secret["file"] == true));
    let names: Vec<&str> = secrets.keys().map(String::as_str).collect();
    let output = command
        .env("NAMES", names.join(" "))
        .current_dir(dir.path())
        .output()
        .expect("run ciguard");
    expect_code(&output, 0);
    let text = stdout(&output);
    for value in &values {
        assert!(!text.contains(value.as_str()), "{value} in:\n{text}");
    }
    for (name, value) in secrets.keys().zip(&values) {
        let delivered = match std::fs::read(build_tmp.join(name)) {
            Ok(content) => content,
            Err(_) => value.as_bytes().to_vec(),
        };
        let encoded = crate::common::base64(&delivered);
        assert!(
            !text.contains(&encoded[..encoded.len() - 4]),
            "{name} in base64:\n{text}"
        );
    }
    assert!(text.contains("TAP_POSTGRES_PASSWORD=[MASKED]"), "{text}");
}
