//! What `scripts/release` builds, used as a user would: the wheel installed with pip into a
//! fresh venv on a `PATH` with no Rust, the tarball `cargo binstall` unpacks, their checksums, and
//! the oldest glibc the binaries run on. (`meltano.rs` installs the wheel as Meltano plugins.)

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::{REPO, text};
use crate::pseudonymize;

/// The newest glibc the binaries may need: manylinux2014's.
const MAX_GLIBC: (u32, u32) = (2, 17);

/// The release's files, or a panic that says how to build them.
pub struct Dist {
    pub dir: PathBuf,
    pub wheel: PathBuf,
    pub tarball: PathBuf,
}

pub fn dist() -> Dist {
    let dir = std::env::var_os("CIGUARD_TEST_DIST")
        .filter(|value| !value.is_empty())
        .map_or_else(|| Path::new(REPO).join("dist"), PathBuf::from);
    let version = env!("CARGO_PKG_VERSION");
    let find = |prefix: &str, suffix: &str| {
        fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .find(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
            })
            .unwrap_or_else(|| {
                panic!(
                    "no {prefix}*{suffix} in {}: build the release with `scripts/release` (or run \
                     `scripts/test`), or point CIGUARD_TEST_DIST at its output",
                    dir.display()
                )
            })
    };
    Dist {
        wheel: find(&format!("ciguard-{version}-"), ".whl"),
        tarball: find(
            &format!("ciguard-{version}-x86_64-unknown-linux-gnu"),
            ".tar.gz",
        ),
        dir,
    }
}

/// A `PATH` with the system's programs and none of Rust's (`~/.cargo/bin` is not on it).
pub fn path_without_rust(first: &Path) -> String {
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", first.display());
    for dir in path.split(':') {
        assert!(
            !Path::new(dir).join("cargo").exists(),
            "cargo is in {dir}: the check would not show that no Rust is needed"
        );
    }
    path
}

fn python3() -> String {
    // The interpreter the tests' tools were made with, else the system's.
    ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map_or_else(|| "python3".to_owned(), str::to_owned)
}

fn run(command: &mut Command) -> Output {
    let out = command.output().expect("start a command");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

#[test]
fn the_wheel_installs_ciguard_and_the_mapper_with_no_rust() {
    let dist = dist();
    let dir = tempfile::tempdir().expect("temp dir");
    let venv = dir.path().join("venv");
    run(Command::new(python3()).args(["-m", "venv"]).arg(&venv));
    let bin = venv.join("bin");
    let path = path_without_rust(&bin);
    run(Command::new(bin.join("pip"))
        .args([
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(&dist.wheel)
        .env_clear()
        .env("PATH", &path));

    let version = run(Command::new(bin.join("ciguard"))
        .arg("--version")
        .env_clear()
        .env("PATH", &path));
    assert_eq!(
        text(&version.stdout).trim(),
        format!("ciguard {}", env!("CARGO_PKG_VERSION"))
    );

    // The mapper's executable, as Meltano runs it: `--config FILE`, Singer on stdin.
    let config = dir.path().join("mapper.yml");
    fs::write(
        &config,
        format!(
            "key_env: {}\nstreams:\n  users:\n    hash: [email]\n",
            pseudonymize::KEY_ENV
        ),
    )
    .expect("write the mapper config");
    let mut mapper = Command::new(bin.join("ciguard-pseudonymize"))
        .arg("--config")
        .arg(&config)
        .env_clear()
        .env("PATH", &path)
        .env(pseudonymize::KEY_ENV, pseudonymize::KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ciguard-pseudonymize");
    mapper
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            b"{\"type\":\"SCHEMA\",\"stream\":\"users\",\"schema\":{\"properties\":{\"email\":{\"type\":\"string\"}}},\"key_properties\":[]}\n\
              {\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"email\":\"ann@example.com\"}}\n",
        )
        .expect("write Singer messages");
    let out = mapper.wait_with_output().expect("wait for the mapper");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let record: serde_json::Value =
        serde_json::from_str(stdout.lines().nth(1).expect("a record")).expect("JSON");
    assert_eq!(
        record["record"]["email"],
        pseudonymize::python_hmac("ann@example.com")
    );
    assert!(!stdout.contains("ann@example.com"), "{stdout}");
}

#[test]
fn the_tarball_and_wheel_match_their_checksums_and_run_on_glibc_2_17() {
    let dist = dist();
    run(Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dist.dir));
    let sums = fs::read_to_string(dist.dir.join("SHA256SUMS")).expect("SHA256SUMS");
    for file in [&dist.wheel, &dist.tarball] {
        let name = file.file_name().and_then(|n| n.to_str()).expect("a name");
        assert!(sums.contains(name), "SHA256SUMS lacks {name}");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&dist.tarball)
        .arg("-C")
        .arg(dir.path()));
    // Where `cargo binstall` looks: bin-dir in Cargo.toml's [package.metadata.binstall].
    let unpacked = dir.path().join(format!(
        "ciguard-{}-x86_64-unknown-linux-gnu",
        env!("CARGO_PKG_VERSION")
    ));
    for file in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(unpacked.join(file).is_file(), "the tarball lacks {file}");
    }
    for binary in ["ciguard", "ciguard-pseudonymize"] {
        let binary = unpacked.join(binary);
        let help = run(Command::new(&binary).arg("--help").env_clear());
        assert!(text(&help.stdout).contains("Usage:"));
        let symbols = run(Command::new("objdump").arg("-T").arg(&binary));
        let needed = text(&symbols.stdout)
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .filter_map(|word| word.strip_prefix("GLIBC_"))
            .filter_map(|version| {
                let (major, minor) = version.split_once('.')?;
                let minor = minor.split('.').next()?;
                Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?))
            })
            .max()
            .expect("a dynamically linked binary names its GLIBC versions");
        assert!(
            needed <= MAX_GLIBC,
            "{} needs GLIBC {}.{}",
            binary.display(),
            needed.0,
            needed.1
        );
        let sections = run(Command::new("objdump").arg("-h").arg(&binary));
        assert!(
            !text(&sections.stdout).contains(".debug_info"),
            "{} is not stripped",
            binary.display()
        );
    }
}
