//! The repository stands alone: no code, test, script or CI file reads a path outside it, so a
//! plain clone builds and passes its tests.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::REPO;

/// The reference tree that lies beside the repository on developers' machines and in CI
/// (spelled in two parts, so that this file does not itself name it).
const BESIDE: &str = concat!("..", "/shared");

/// Where nothing of the repository's own is: build output, installed tools, git's store.
const SKIPPED_DIRS: &[&str] = &[".git", "target", ".tools", "node_modules", ".venv"];

/// Files that are read as code by something: Rust, shell scripts, CI and packaging files.
fn is_code(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let extension = path.extension().and_then(|e| e.to_str());
    match extension {
        Some("rs" | "toml" | "yml" | "yaml" | "sh" | "py" | "cfg" | "json") => true,
        Some(_) => false,
        // Scripts without an extension (`scripts/test`, `.ci/run`), Dockerfile.
        None => name == "Dockerfile" || fs::read(path).is_ok_and(|bytes| bytes.starts_with(b"#!")),
    }
}

fn code_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a directory").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !SKIPPED_DIRS.iter().any(|skipped| name == *skipped) {
                code_files(&path, out);
            }
        } else if is_code(&path) && !path.starts_with(Path::new(REPO).join("tests/fixtures")) {
            out.push(path);
        }
    }
}

/// The places in `text` (a file `depth` directories below the root) that reach outside the
/// repository: a path appended to the root that climbs (`"/../x"` after `CARGO_MANIFEST_DIR`,
/// `$root/../x`); in scripts and CI files, which run from the root, any path that climbs; in
/// Rust, an `include_str!`, `include_bytes!` or `#[path]` that climbs above the root from the
/// file's directory, and any path into [`BESIDE`], the reference tree beside the repository.
fn escapes(text: &str, depth: usize, rust: bool) -> Vec<String> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if rust && line.trim_start().starts_with("//") {
            continue;
        }
        let bytes = line.as_bytes();
        let mut at = 0;
        while let Some(offset) = line[at..].find("../") {
            let start = at + offset;
            let mut climbs = 0;
            let mut end = start;
            while line[end..].starts_with("../") {
                climbs += 1;
                end += 3;
            }
            at = end;
            // A path that starts climbing: at a quote, a space, `(` or `=`; or right after a
            // root such as `"`, `$root/` or `$(...)/` (`"/../x"` appended to
            // CARGO_MANIFEST_DIR). `docs/../x` stays where it was.
            let before = |back: usize| start.checked_sub(back).map(|i| bytes[i]);
            let from_root = before(1) == Some(b'/')
                && matches!(before(2), None | Some(b'"' | b'\'' | b'}' | b')'));
            let starts_path = matches!(before(1), None | Some(b'"' | b'\'' | b' ' | b'(' | b'='));
            if !starts_path && !from_root {
                continue;
            }
            let file_relative = ["include_str!", "include_bytes!", "#[path"]
                .iter()
                .any(|form| line.contains(form));
            let out = if from_root {
                true
            } else if !rust {
                // Scripts and CI files run from the root.
                starts_path
            } else if file_relative {
                climbs > depth
            } else {
                // Other Rust strings with `../` are data or relative to a test's own directory;
                // the tree that lies beside the repository is named.
                line[start..].starts_with(BESIDE) || line[start..].contains(&format!("/{BESIDE}"))
            };
            if out {
                found.push(format!("line {}: {}", number + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn no_file_reads_a_path_outside_the_repository() {
    let root = Path::new(REPO);
    let mut files = Vec::new();
    code_files(root, &mut files);
    assert!(files.len() > 100, "found only {} files", files.len());
    let mut outside = Vec::new();
    for path in &files {
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        let relative = path.strip_prefix(root).expect("below the root");
        let depth = relative.components().count() - 1;
        let rust = path.extension().is_some_and(|e| e == "rs");
        for place in escapes(&text, depth, rust) {
            outside.push(format!("{}: {place}", relative.display()));
        }
    }
    assert!(
        outside.is_empty(),
        "these read outside the repository (copy what they need into it, with its source):\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_check_sees_each_way_out() {
    let rust = |text: &str, depth: usize| escapes(text, depth, true).len();
    assert_eq!(
        rust(
            &format!(r#"concat!(env!("CARGO_MANIFEST_DIR"), "/{BESIDE}/x")"#),
            2
        ),
        1
    );
    assert_eq!(
        rust(&format!(r#"Path::new(REPO).join("{BESIDE}/corpus")"#), 2),
        1
    );
    assert_eq!(rust(r#"include_str!("../../templates/lint.yml")"#, 2), 0);
    let three_up = format!(r#"include_str!("{}elsewhere.yml")"#, "../".repeat(3));
    assert_eq!(rust(&three_up, 2), 1);
    assert_eq!(rust(r#"let p = "docs/../README.md";"#, 0), 0);
    let script = |text: &str| escapes(text, 1, false).len();
    assert_eq!(script(&format!("corpus=({BESIDE}/corpus/*.yml)")), 1);
    assert_eq!(script(r#"cd "$(dirname "${BASH_SOURCE[0]}")/..""#), 0);
    assert_eq!(script("cp tests/fixtures/a b"), 0);
}
