//! Lint of a Meltano project file (`meltano.yml`, or an included `*.meltano.yml`): secrets typed
//! into it, URIs with passwords, committed hash seeds.
//!
//! [`tree`] parses the file into nodes with positions, [`project`] finds its `config:` and `env:`
//! blocks and which settings are sensitive (plugin lock files beside it included), and
//! [`rules`] holds one file per rule. A finding points at the offending value, with a logical
//! path such as `plugins.extractors[tap-postgres].config.password`.

mod project;
mod rules;
mod tree;

use std::collections::BTreeSet;
use std::path::Path;

use crate::credentials::Knowledge;
use crate::diagnostic::FileError;
use crate::findings::{Finding, Location};
use crate::lint::SourceFile;

/// Every `meltano.yml` rule.
pub use rules::RULES;

/// What [`analyse`] found, and the file it read (for snippets and suppressions).
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Findings in file order, none suppressed yet.
    pub findings: Vec<Finding>,
    /// The file analysed.
    pub sources: Vec<SourceFile>,
}

/// Stack of the thread that analyses a file: deserialising 64 levels of nesting (the parser's
/// limit) takes about 3 MB in a debug build, more than a test thread or a small main thread has.
const ANALYSIS_STACK: usize = 32 * 1024 * 1024;

/// Lints the Meltano project file at `path`. Plugin lock files are looked for under
/// `plugins/` beside it.
pub fn analyse(path: &Path, knowledge: &Knowledge) -> Result<Analysis, FileError> {
    let failed = |reason: String| FileError {
        path: path.to_owned(),
        position: None,
        reason,
    };
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("ciguard-lint-meltano".into())
            .stack_size(ANALYSIS_STACK)
            .spawn_scoped(scope, || analyse_here(path, knowledge))
            .map_err(|err| failed(format!("cannot start a thread to analyse it: {err}")))?
            .join()
            .unwrap_or_else(|_| {
                Err(failed(
                    "ciguard failed while analysing it; please report this".into(),
                ))
            })
    })
}

fn analyse_here(path: &Path, knowledge: &Knowledge) -> Result<Analysis, FileError> {
    let bytes = std::fs::read(path).map_err(|err| FileError {
        path: path.to_owned(),
        position: None,
        reason: format!("cannot read it: {err}"),
    })?;
    let (text, root) = tree::parse(path, &bytes)?;
    let project = project::Project::new(path, &text, &root)?;
    let ctx = rules::Context {
        path,
        text: &text,
        project: &project,
        knowledge,
    };
    let mut findings = Vec::new();
    for check in rules::CHECKS {
        check(&ctx, &mut findings);
    }
    findings.sort_by_key(|f| (position(f), f.rule.id));
    // A value reached twice through an alias or a merge key is one finding, at its text.
    let mut seen = BTreeSet::new();
    findings.retain(|f| seen.insert((position(f), f.rule.id)));
    Ok(Analysis {
        findings,
        sources: vec![SourceFile {
            path: path.to_owned(),
            text,
        }],
    })
}

fn position(finding: &Finding) -> (u32, u32) {
    match &finding.location {
        Location::File(at) => (at.line, at.column),
        Location::Api(_) => (0, 0),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;

    /// `line:logical` of each finding of `rule` in a project file holding `yaml`.
    pub(crate) fn fired(yaml: &str, rule: &str) -> Vec<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("meltano.yml");
        fs::write(&path, yaml).expect("write meltano.yml");
        let analysis = analyse(&path, &Knowledge::default()).expect("valid project");
        analysis
            .findings
            .iter()
            .filter(|f| f.rule.id == rule)
            .map(|f| match &f.location {
                Location::File(at) => format!("{}:{}", at.line, at.logical),
                Location::Api(at) => format!("api:{}", at.key),
            })
            .collect()
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lint/meltano")
            .join(name)
    }

    /// `rule@line` of every finding in a fixture.
    fn fixture_findings(name: &str) -> Vec<String> {
        let analysis = analyse(&fixture(name), &Knowledge::default()).expect("valid fixture");
        analysis
            .findings
            .iter()
            .map(|f| format!("{}@{}", f.rule.id, position(f).0))
            .collect()
    }

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let ids: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), RULES.len());
        for id in ids {
            assert!(id.starts_with("meltano-"), "{id}");
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
    }

    #[test]
    fn firing_fixture_fires_exactly_where_expected() {
        assert_eq!(
            fixture_findings("fires/meltano.yml"),
            [
                "meltano-uri-with-password@9",
                "meltano-literal-secret@11",
                "meltano-literal-secret@12",
                "meltano-uri-with-password@13",
                "meltano-committed-hash-seed@26",
                "meltano-committed-hash-seed@30",
                "meltano-literal-secret@39",
                "meltano-literal-secret@41",
                "meltano-literal-secret@42",
            ]
        );
    }

    #[test]
    fn quiet_fixture_is_quiet() {
        assert_eq!(fixture_findings("quiet/meltano.yml"), Vec::<String>::new());
    }

    #[test]
    fn findings_never_hold_values() {
        let analysis =
            analyse(&fixture("fires/meltano.yml"), &Knowledge::default()).expect("valid fixture");
        for finding in &analysis.findings {
            for value in [
                "Sup3r-S3cret",
                "pw-in-url",
                "ghp_0123456789",
                "k3y",
                "01AWZh7A6D",
            ] {
                assert!(!finding.message.contains(value), "{}", finding.message);
            }
        }
    }

    #[test]
    fn positions_span_the_value() {
        let analysis =
            analyse(&fixture("fires/meltano.yml"), &Knowledge::default()).expect("valid fixture");
        let Location::File(at) = &analysis.findings[1].location else {
            panic!("a file location");
        };
        assert_eq!(
            (at.line, at.column, at.end_line, at.end_column),
            (11, 17, 11, 29)
        );
        assert_eq!(
            at.logical,
            "plugins.extractors[tap-postgres].config.password"
        );
    }

    #[test]
    fn sensitivity_comes_from_lock_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("meltano.yml");
        fs::write(
            &path,
            "plugins:\n  loaders:\n  - name: target-sf\n    variant: v\n    config:\n      pk: abc-123-def\n",
        )
        .expect("write");
        let locks = dir.path().join("plugins/loaders");
        fs::create_dir_all(&locks).expect("mkdir");
        fs::write(
            locks.join("target-sf--v.lock"),
            r#"{"settings": [{"name": "pk", "kind": "password"}]}"#,
        )
        .expect("write lock");
        let analysis = analyse(&path, &Knowledge::default()).expect("valid project");
        assert_eq!(analysis.findings.len(), 1);
        assert_eq!(analysis.findings[0].rule.id, "meltano-literal-secret");
    }

    #[test]
    fn aliased_secrets_are_one_finding() {
        let yaml = "\
plugins:
  extractors:
  - name: tap-a
    config: &shared
      password: hunter2-longer
  - name: tap-b
    config: *shared
";
        assert_eq!(
            fired(yaml, "meltano-literal-secret"),
            ["5:plugins.extractors[tap-a].config.password"]
        );
    }

    fn load_error(bytes: &[u8]) -> FileError {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("meltano.yml");
        fs::write(&path, bytes).expect("write");
        analyse(&path, &Knowledge::default()).expect_err("bad input")
    }

    #[test]
    fn bad_inputs_are_load_errors_with_positions() {
        let err = load_error(b"plugins:\n  extractors:\n  - name: [\n");
        assert!(err.position.is_some(), "{err}");
        assert!(err.to_string().contains("meltano.yml:"), "{err}");

        let err = load_error(b"plugins:\n  extractors:\n  - name: tap-\xff\n");
        assert_eq!(err.position, Some((3, 15)), "{err}");

        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let prev = level - 1;
            bomb.push_str(&format!(
                "l{level}: &l{level} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
                p = if prev == 0 { "a".to_owned() } else { format!("l{prev}") }
            ));
        }
        let err = load_error(bomb.as_bytes());
        assert!(err.reason.contains("analyse safely"), "{err}");

        let err = load_error(b"plugins:\n\textractors: []\n");
        assert!(err.position.is_some(), "{err}");

        let err = load_error(b"plugins:\n  extractors:\n  - settings:\n    - name: pw\n      sensitive: hunter2-value\n");
        assert!(!err.to_string().contains("hunter2-value"), "{err}");
    }

    #[test]
    fn inline_suppressions_cover_a_plugin_or_a_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("meltano.yml");
        let yaml = "\
plugins:
  extractors:
  - name: tap-demo  # ciguard: ignore[meltano-literal-secret] public demo database
    config:
      password: demo-password-1
  - name: tap-real
    config:
      # ciguard: ignore[meltano-literal-secret]
      password: real-password-1
      api_token: real-token-1
";
        fs::write(&path, yaml).expect("write");
        let mut analysis = analyse(&path, &Knowledge::default()).expect("valid project");
        crate::lint::suppress::apply(&mut analysis.findings, &analysis.sources, "2026-06-01");
        let reasons: Vec<(u32, Option<&str>)> = analysis
            .findings
            .iter()
            .map(|f| (position(f).0, f.suppressed.as_deref()))
            .collect();
        assert_eq!(
            reasons,
            [
                (5, Some("public demo database")),
                (9, Some(crate::lint::suppress::NO_REASON)),
                (10, None),
            ]
        );
    }

    #[test]
    fn deep_nesting_is_analysed_or_refused_cleanly() {
        let nested = |depth: usize| {
            let mut yaml = String::new();
            for level in 0..depth {
                yaml.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
            }
            yaml.push_str(&format!("{}password: deep-secret-1\n", "  ".repeat(depth)));
            yaml
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("meltano.yml");
        fs::write(&path, nested(50)).expect("write");
        analyse(&path, &Knowledge::default()).expect("50 levels are fine");
        fs::write(&path, nested(500)).expect("write");
        let err = analyse(&path, &Knowledge::default()).expect_err("500 levels are refused");
        assert!(err.position.is_some(), "{err}");
    }

    #[test]
    fn missing_file_is_a_load_error() {
        let err = analyse(Path::new("/nonexistent/meltano.yml"), &Knowledge::default())
            .expect_err("missing file");
        assert!(err.reason.starts_with("cannot read it"), "{err}");
    }

    #[test]
    fn real_world_projects_analyse() {
        let corpus = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/external/corpus/meltano"
        ));
        let mut files: Vec<PathBuf> = fs::read_dir(corpus)
            .expect("the corpus in tests/fixtures/external")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
            .collect();
        files.sort();
        assert!(!files.is_empty());
        let mut summary = Vec::new();
        for file in &files {
            let analysis =
                analyse(file, &Knowledge::default()).unwrap_or_else(|err| panic!("{err}"));
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            for finding in &analysis.findings {
                summary.push(format!(
                    "{}: {}@{}",
                    name.as_deref().unwrap_or_default(),
                    finding.rule.id,
                    position(finding).0
                ));
            }
        }
        // Reviewed: none of these projects commits a secret.
        assert_eq!(summary, Vec::<String>::new());
    }
}
