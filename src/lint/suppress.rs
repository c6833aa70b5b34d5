//! Inline suppressions: `# ciguard: ignore[rule-id] reason` (or `ignore[rule-a,rule-b]`) in a
//! YAML file suppresses those rules' findings
//! - on its own line (a trailing comment),
//! - on the line below it, when it is alone on its line (with only comments between), and
//! - anywhere inside the key it is written on: a comment on a job key (`deploy: # ciguard:
//!   ...`) or a plugin item (`- name: tap-x # ciguard: ...`) covers everything nested under it.
//!
//! Nesting is read from indentation, so it also works inside block scalars (a shell comment in
//! a `script: |` block). A suppressed finding stays in the list, marked with its reason.

use crate::findings::{Finding, Location};
use crate::lint::SourceFile;
use std::collections::HashMap;
use std::path::Path;

/// The reason recorded when a suppression gives none.
pub const NO_REASON: &str = "no reason given";

/// Marks the findings that a `# ciguard: ignore[...]` comment in `sources` covers: sets
/// `suppressed` to the comment's reason. Findings already suppressed keep their reason.
pub fn apply(findings: &mut [Finding], sources: &[SourceFile]) {
    // Each file split once: thousands of findings in one file must not re-read it each time.
    let by_path: HashMap<&Path, Vec<&str>> = sources
        .iter()
        .map(|source| (source.path.as_path(), source.text.lines().collect()))
        .collect();
    for finding in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
        let Location::File(at) = &finding.location else {
            continue;
        };
        let Some(lines) = by_path.get(at.path.as_path()) else {
            continue;
        };
        let line = usize::try_from(at.line).unwrap_or(usize::MAX);
        finding.suppressed = covering_lines(lines, line)
            .into_iter()
            .find_map(|index| directive(lines[index], finding.rule.id));
    }
}

/// 0-based indexes of the lines whose directives cover 1-based `line`: itself, the comment
/// lines right above it, and the lines of the keys it is nested in.
fn covering_lines(lines: &[&str], line: usize) -> Vec<usize> {
    let Some(own) = line.checked_sub(1).filter(|&index| index < lines.len()) else {
        return Vec::new();
    };
    let mut covering = vec![own];
    let mut above = own;
    while above > 0 && is_comment(lines[above - 1]) {
        above -= 1;
        covering.push(above);
    }
    let mut level = nesting(lines[own]);
    for index in (0..own).rev() {
        if level == 0 {
            break;
        }
        let text = lines[index];
        if text.trim().is_empty() || is_comment(text) {
            continue;
        }
        let rank = nesting(text);
        if rank < level {
            covering.push(index);
            level = rank;
        }
    }
    covering
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// How deep a line is: twice its indentation, plus one for a sequence item (`- `), which
/// nests inside a key at the same indentation.
fn nesting(line: &str) -> usize {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let item = line[indent..].starts_with("- ") || &line[indent..] == "-";
    2 * indent + usize::from(item)
}

/// The reason of a directive on `line` that names `rule`, if there is one.
fn directive(line: &str, rule: &str) -> Option<String> {
    let mut rest = line;
    while let Some(hash) = rest.find('#') {
        rest = &rest[hash + 1..];
        let Some(body) = rest.trim_start().strip_prefix("ciguard:") else {
            continue;
        };
        let Some(body) = body.trim_start().strip_prefix("ignore[") else {
            continue;
        };
        let Some((ids, reason)) = body.split_once(']') else {
            continue;
        };
        if ids.split(',').any(|id| id.trim() == rule) {
            let reason = reason.trim();
            return Some(if reason.is_empty() {
                NO_REASON.to_owned()
            } else {
                reason.to_owned()
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::findings::{FileLocation, Rule};
    use crate::lint::ci::rules::debug_trace::RULE as DEBUG_TRACE;
    use crate::lint::ci::rules::env_dump::RULE as ENV_DUMP;

    const CI: &str = "\
build:
  script:
    - env # ciguard: ignore[env-dump] needed to debug the runner
    # ciguard: ignore[debug-trace,env-dump]
    # another comment
    - printenv
    - set
deploy: # ciguard: ignore[env-dump]
  script:
    - |
      export -p
other:
  script:
    - env  # ciguard:ignore[ debug-trace ] wrong rule
";

    fn finding(rule: &'static Rule, path: &str, line: u32) -> Finding {
        let location = Location::File(FileLocation {
            path: PathBuf::from(path),
            line,
            column: 7,
            end_line: line,
            end_column: 10,
            logical: String::new(),
        });
        Finding::new(rule, location, "m")
    }

    fn suppressed(findings: Vec<Finding>) -> Vec<Option<String>> {
        let mut findings = findings;
        let sources = [SourceFile {
            path: PathBuf::from(".gitlab-ci.yml"),
            text: CI.to_owned(),
        }];
        apply(&mut findings, &sources);
        findings.into_iter().map(|f| f.suppressed).collect()
    }

    #[test]
    fn suppresses_on_the_line_above_and_in_the_key() {
        let reasons = suppressed(vec![
            finding(&ENV_DUMP, ".gitlab-ci.yml", 3),
            finding(&ENV_DUMP, ".gitlab-ci.yml", 6),
            finding(&DEBUG_TRACE, ".gitlab-ci.yml", 6),
            finding(&ENV_DUMP, ".gitlab-ci.yml", 7),
            finding(&ENV_DUMP, ".gitlab-ci.yml", 11),
            finding(&ENV_DUMP, ".gitlab-ci.yml", 14),
            finding(&DEBUG_TRACE, ".gitlab-ci.yml", 14),
            finding(&ENV_DUMP, "meltano.yml", 3),
        ]);
        assert_eq!(
            reasons,
            [
                Some("needed to debug the runner".to_owned()),
                Some(NO_REASON.to_owned()),
                Some(NO_REASON.to_owned()),
                None,
                Some(NO_REASON.to_owned()),
                None,
                Some("wrong rule".to_owned()),
                None,
            ]
        );
    }

    #[test]
    fn keeps_earlier_reasons_and_ignores_out_of_range_lines() {
        let mut earlier = finding(&ENV_DUMP, ".gitlab-ci.yml", 7);
        earlier.suppressed = Some("disabled in .ciguard.yml".into());
        let reasons = suppressed(vec![
            earlier,
            finding(&ENV_DUMP, ".gitlab-ci.yml", 0),
            finding(&ENV_DUMP, ".gitlab-ci.yml", 999),
        ]);
        assert_eq!(
            reasons,
            [Some("disabled in .ciguard.yml".to_owned()), None, None]
        );
    }

    #[test]
    fn sequence_items_nest_in_their_key() {
        let lines: Vec<&str> =
            "environments: # ciguard: ignore[x]\n- name: prod\n  env:\n    K: v\n"
                .lines()
                .collect();
        assert_eq!(covering_lines(&lines, 4), [3, 2, 1, 0]);
        assert_eq!(directive(lines[0], "x"), Some(NO_REASON.to_owned()));
        assert_eq!(
            directive("a: '#' # ciguard: ignore[x] why", "x"),
            Some("why".into())
        );
        assert_eq!(directive("# ciguard: ignore[x", "x"), None);
    }
}
