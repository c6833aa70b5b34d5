//! Whole-analysis tests: every fixture under `tests/fixtures/lint/ci/<rule-id>/` fires exactly
//! where its `# expect: rule-id` markers say, the real pipelines of the corpus load, and bad
//! inputs fail cleanly.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Analysis, RULES, analyse};
use crate::credentials::Knowledge;
use crate::diagnostic::FileError;
use crate::findings::Location;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lint/ci");
const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/external/corpus/pipelines"
);

/// (file, line, rule id) of each finding.
fn fired(analysis: &Analysis) -> BTreeSet<(PathBuf, u32, String)> {
    analysis
        .findings
        .iter()
        .filter_map(|f| match &f.location {
            Location::File(at) => Some((at.path.clone(), at.line, f.rule.id.to_owned())),
            Location::Api(_) => None,
        })
        .collect()
}

/// (file, line, rule id) of each `# expect: a, b` marker in the analysed files.
fn expected(analysis: &Analysis) -> BTreeSet<(PathBuf, u32, String)> {
    let mut markers = BTreeSet::new();
    for source in &analysis.sources {
        for (index, line) in source.text.lines().enumerate() {
            if let Some((_, ids)) = line.split_once("# expect: ") {
                for id in ids.split(',').map(str::trim).filter(|id| !id.is_empty()) {
                    let line = u32::try_from(index + 1).expect("small file");
                    markers.insert((source.path.clone(), line, id.to_owned()));
                }
            }
        }
    }
    markers
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_fires_exactly_where_its_markers_say() {
    let knowledge = Knowledge::default();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for rule in RULES {
        let dir = Path::new(FIXTURES).join(rule.id);
        let fixtures = yaml_files(&dir);
        let names: Vec<String> = fixtures
            .iter()
            .map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("fires-")),
            "{}: no fires-*.yml fixture",
            rule.id
        );
        assert!(
            names.iter().any(|n| n.starts_with("quiet-")),
            "{}: no quiet-*.yml fixture",
            rule.id
        );
        for (fixture, name) in fixtures.iter().zip(&names) {
            let analysis = analyse(fixture, &knowledge)
                .unwrap_or_else(|e| panic!("{}: {e}", fixture.display()));
            let expected = expected(&analysis);
            let own = expected.iter().filter(|(_, _, id)| id == rule.id).count();
            if name.starts_with("fires-") {
                assert!(
                    own > 0,
                    "{}: a fires- fixture needs a marker for {}",
                    fixture.display(),
                    rule.id
                );
            } else {
                assert_eq!(
                    own,
                    0,
                    "{}: a quiet- fixture has a marker for its rule",
                    fixture.display()
                );
            }
            let fired = fired(&analysis);
            if fired != expected {
                let unexpected: Vec<_> = fired
                    .difference(&expected)
                    .map(|(_, l, id)| (l, id))
                    .collect();
                let missing: Vec<_> = expected
                    .difference(&fired)
                    .map(|(_, l, id)| (l, id))
                    .collect();
                mismatches.push(format!(
                    "{}: unexpected {unexpected:?}, missing {missing:?}",
                    fixture.display()
                ));
            }
            checked += 1;
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(checked >= 2 * RULES.len());
}

#[test]
fn every_corpus_pipeline_loads() {
    let knowledge = Knowledge::default();
    let mut total = 0;
    for file in yaml_files(Path::new(CORPUS)) {
        let analysis = analyse(&file, &knowledge).unwrap_or_else(|e| panic!("{e}"));
        let mut by_rule: Vec<(&str, usize)> = Vec::new();
        for finding in &analysis.findings {
            match by_rule.iter_mut().find(|(id, _)| *id == finding.rule.id) {
                Some((_, count)) => *count += 1,
                None => by_rule.push((finding.rule.id, 1)),
            }
        }
        #[allow(
            clippy::print_stdout,
            reason = "the per-file counts are the test's report"
        )]
        {
            println!(
                "{}: {by_rule:?}",
                file.file_name().unwrap_or_default().to_string_lossy()
            );
            for finding in &analysis.findings {
                println!(
                    "  {} {} {}",
                    finding.location, finding.rule.id, finding.message
                );
            }
        }
        total += 1;
    }
    assert!(total > 0, "no corpus files in {CORPUS}");
}

/// Writes `files` into a temporary directory and analyses the first.
fn analyse_files(files: &[(&str, &[u8])]) -> Result<Analysis, FileError> {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    analyse(&dir.path().join(files[0].0), &Knowledge::default())
}

#[test]
fn bad_inputs_fail_cleanly() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let refs = vec![format!("*a{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
    }
    let error = analyse_files(&[("bomb.yml", bomb.as_bytes())]).expect_err("alias bomb");
    // The limit in plain words, never the parser's internal names.
    assert!(
        error.reason.contains("aliases expand to more than"),
        "{error}"
    );
    assert!(!error.reason.contains('{'), "{error}");
}

#[test]
fn deep_nesting_is_bounded() {
    let deep = format!(
        "job:\n  script: [x]\n  variables: {}1{}\n",
        "{a: ".repeat(50),
        "}".repeat(50)
    );
    analyse_files(&[("deep.yml", deep.as_bytes())]).expect("50-deep nesting loads");
    let deeper = format!("a: {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    analyse_files(&[("deeper.yml", deeper.as_bytes())]).expect_err("5000-deep nesting is refused");
}

#[test]
fn tabs_utf8_cycles_missing_and_huge_files_fail_cleanly() {
    let tabs = analyse_files(&[("tabs.yml", b"job:\n\tscript: [x]\n")]).expect_err("tabs");
    assert!(tabs.position.is_some(), "{tabs}");

    let utf8 = analyse_files(&[("bad.yml", b"job:\n  script: [\xff]\n")]).expect_err("utf-8");
    assert_eq!(utf8.position, Some((2, 12)), "{utf8}");

    let cycle = analyse_files(&[
        ("a.yml", b"include: b.yml\n"),
        ("b.yml", b"include: a.yml\n"),
    ])
    .expect_err("cycle");
    assert!(cycle.reason.contains("include cycle"), "{cycle}");

    let missing = analyse_files(&[("m.yml", b"include: nowhere.yml\n")]).expect("missing include");
    assert_eq!(missing.findings.len(), 1);
    assert_eq!(missing.findings[0].rule.id, "include-not-analysed");

    let huge = "# padding\n".repeat(crate::yaml::ci::MAX_FILE_BYTES / 10 + 1);
    let error = analyse_files(&[("huge.yml", huge.as_bytes())]).expect_err("huge");
    assert!(error.reason.contains("larger than"), "{error}");

    analyse_files(&[("list.yml", b"- a\n- b\n")]).expect_err("not a mapping");
    analyse_files(&[("empty.yml", b"")]).expect("an empty file is an empty pipeline");
}

#[test]
fn truncated_corpus_files_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knowledge = Knowledge::default();
    for file in yaml_files(Path::new(CORPUS)) {
        let text = std::fs::read_to_string(&file).expect("corpus files are UTF-8");
        for quarter in 1..4 {
            let mut cut = text.len() * quarter / 4;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let path = dir.path().join("truncated.yml");
            std::fs::write(&path, &text[..cut]).expect("write");
            // Either result is fine; a panic fails the test.
            let _ = analyse(&path, &knowledge);
        }
    }
}

/// Jobs are checked in batches; the findings are the same whatever their size (what belongs to
/// the file is reported once, what a template shares once, each job's in it).
#[test]
fn findings_do_not_depend_on_the_batch_size() {
    let knowledge = Knowledge::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .flatten()
        .flat_map(|dir| yaml_files(&dir.path()))
        .collect();
    files.extend(yaml_files(Path::new(CORPUS)));
    let mut compared = 0;
    for file in &files {
        let (Ok(whole), Ok(one_by_one)) = (
            super::analyse_in_batches(file, &knowledge, usize::MAX),
            super::analyse_in_batches(file, &knowledge, 1),
        ) else {
            continue;
        };
        assert_eq!(one_by_one.findings, whole.findings, "{}", file.display());
        compared += usize::from(!whole.findings.is_empty());
    }
    assert!(compared > 20, "only {compared} files had findings");
}

/// The checks run on several threads; what they find comes out as if they ran one after the
/// other (a line several jobs share is then reported at the first check's first finding).
#[test]
fn checks_spread_over_threads_report_in_the_order_of_the_checks() {
    let knowledge = Knowledge::default();
    let mut compared = 0;
    for dir in std::fs::read_dir(FIXTURES).expect("fixtures").flatten() {
        for file in yaml_files(&dir.path()) {
            let Ok((pipeline, sources)) = super::pipeline::load(&file) else {
                continue;
            };
            let whole = super::Whole::new(&pipeline, &knowledge, &sources);
            let batch = super::Batch::all(&pipeline, usize::MAX).remove(0);
            let context = super::Context::new(&whole, batch);
            let mut one_by_one = Vec::new();
            for check in super::rules::CHECKS {
                check(&context, &mut one_by_one);
            }
            let spread = super::run_checks(&context, super::rules::CHECKS);
            assert_eq!(spread, one_by_one, "{}", file.display());
            compared += usize::from(!spread.is_empty());
        }
    }
    assert!(compared > 10, "only {compared} fixtures had findings");
}
