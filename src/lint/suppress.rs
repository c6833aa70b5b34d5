//! Inline suppressions: `# ciguard: ignore[rule-id] reason` (or `ignore[rule-a,rule-b]`) in a
//! YAML file suppresses those rules' findings
//! - on its own line (a trailing comment),
//! - on the line below it, when it is alone on its line (with only comments between), and
//! - anywhere inside the key it is written on: a comment on a job key (`deploy: # ciguard:
//!   ...`) or a plugin item (`- name: tap-x # ciguard: ...`) covers everything nested under it.
//!
//! Nesting is read from indentation, so it also works inside block scalars (a shell comment in
//! a `script: |` block). A suppressed finding stays in the list, marked with its reason.
//!
//! A suppression may end: `ignore[rule] until 2027-03-31 reason` suppresses nothing after that
//! day. One without a reason, one past its day, and one a merge request adds are findings of
//! their own ([`RULE`]), so that silencing a leak is never itself silent.

use crate::findings::{Confidence, FileLocation, Finding, Location, Rule, Severity};
use crate::lint::SourceFile;
use std::collections::HashMap;
use std::path::Path;

/// The rule about suppressions themselves.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "suppression-unjustified",
    severity: Severity::Medium,
    confidence: Confidence::High,
    summary: "A suppression comment gives no reason, has expired, or is added by the merge request under review",
    why: "A `# ciguard: ignore[...]` comment silences a finding for good. Without a reason nobody can tell later whether the risk was judged; past its date the judgement has lapsed; added in a merge request it silences the finding that merge request would have raised, which its reviewers should see.",
    fix: "Give the reason after the rule ids (`# ciguard: ignore[env-dump] the image prints nothing secret`), renew or remove an expired one (`until YYYY-MM-DD`), and have a reviewer confirm a suppression a merge request adds; better, fix what it suppresses.",
};

/// A file's text before the merge request under review; `None` when it did not exist.
pub type TextBefore<'a> = &'a dyn Fn(&Path) -> Option<String>;

/// A `# ciguard: ignore[...]` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Directive {
    /// The rule ids it names.
    rules: Vec<String>,
    /// Its reason, `until DATE` taken off; empty when none is given.
    reason: String,
    /// `until YYYY-MM-DD`: the last day it suppresses.
    until: Option<String>,
    /// 1-based column of its `#`.
    column: usize,
}

impl Directive {
    /// Whether it still suppresses on `today` (`YYYY-MM-DD`): an `until` that is not such a
    /// date suppresses nothing.
    fn in_force(&self, today: &str) -> bool {
        self.until
            .as_deref()
            .is_none_or(|until| is_date(until) && today <= until)
    }
}

/// Whether `text` is a `YYYY-MM-DD` date.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(at, b)| match at {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}
/// The reason recorded when a suppression gives none.
pub const NO_REASON: &str = "no reason given";

/// Marks the findings that a `# ciguard: ignore[...]` comment in `sources` covers and that is
/// still in force on `today` (`YYYY-MM-DD`): sets `suppressed` to the comment's reason. Findings
/// already suppressed keep their reason.
pub fn apply(findings: &mut [Finding], sources: &[SourceFile], today: &str) {
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
        finding.suppressed = covering_lines(lines, line).into_iter().find_map(|index| {
            directives(lines[index])
                .into_iter()
                .find(|d| d.in_force(today) && d.rules.iter().any(|r| r == finding.rule.id))
                .map(|d| {
                    if d.reason.is_empty() {
                        NO_REASON.to_owned()
                    } else {
                        d.reason
                    }
                })
        });
    }
}

/// Findings about the suppressions of `sources` themselves: each one without a reason, each one
/// past its `until` day on `today`, and each one `added` by the merge request under review (for
/// a file, its text on the target branch, `None` when the file is new there).
pub fn unjustified(
    sources: &[SourceFile],
    today: &str,
    before: Option<TextBefore<'_>>,
) -> Vec<Finding> {
    let mut found = Vec::new();
    for source in sources {
        let earlier: Option<Vec<Directive>> = before.map(|text_before| {
            text_before(&source.path)
                .map(|text| text.lines().flat_map(directives).collect())
                .unwrap_or_default()
        });
        let mut unmatched = earlier.unwrap_or_default();
        let comparing = before.is_some();
        for (index, line) in source.text.lines().enumerate() {
            for directive in directives(line) {
                let ids = directive.rules.join(",");
                let mut problems = Vec::new();
                if directive.reason.is_empty() {
                    problems.push("gives no reason".to_owned());
                }
                match directive.until.as_deref() {
                    Some(until) if !is_date(until) => problems.push(
                        "has an `until` that is not a YYYY-MM-DD date, so it suppresses nothing"
                            .to_owned(),
                    ),
                    Some(until) if !directive.in_force(today) => {
                        problems.push(format!("expired after {until} and suppresses nothing"));
                    }
                    _ => {}
                }
                if comparing {
                    match unmatched.iter().position(|d| same_judgement(d, &directive)) {
                        Some(at) => {
                            unmatched.remove(at);
                        }
                        None => problems.push("is added by this merge request".to_owned()),
                    }
                }
                if problems.is_empty() {
                    continue;
                }
                let message = format!("`ignore[{ids}]` {}", problems.join(", and "));
                let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
                let column = u32::try_from(directive.column).unwrap_or(u32::MAX);
                let location = Location::File(FileLocation {
                    path: source.path.clone(),
                    line,
                    column,
                    end_line: line,
                    end_column: column.saturating_add(1),
                    logical: format!("ignore[{ids}]"),
                });
                found.push(Finding::new(&RULE, location, message));
            }
        }
    }
    found
}

/// Whether two directives silence the same rules for the same reason (where they are may move).
fn same_judgement(a: &Directive, b: &Directive) -> bool {
    a.rules == b.rules && a.reason == b.reason && a.until == b.until
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

/// The directives in the comments of `line`.
fn directives(line: &str) -> Vec<Directive> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(hash) = rest.find('#') {
        let column = line[..line.len() - rest.len() + hash].chars().count() + 1;
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
        let reason = reason.trim();
        let (until, reason) = match reason.strip_prefix("until ") {
            Some(dated) => {
                let dated = dated.trim_start();
                let (date, rest) = dated.split_once(' ').unwrap_or((dated, ""));
                (Some(date.to_owned()), rest.trim())
            }
            None => (None, reason),
        };
        found.push(Directive {
            rules: ids.split(',').map(|id| id.trim().to_owned()).collect(),
            reason: reason.to_owned(),
            until,
            column,
        });
    }
    found
}

/// The reason of a directive on `line` that names `rule`, if there is one.
#[cfg(test)]
fn directive(line: &str, rule: &str) -> Option<String> {
    directives(line)
        .into_iter()
        .find(|d| d.rules.iter().any(|r| r == rule))
        .map(|d| {
            if d.reason.is_empty() {
                NO_REASON.to_owned()
            } else {
                d.reason
            }
        })
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
        apply(&mut findings, &sources, "2026-06-01");
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
    fn unjustified_suppressions_are_findings() {
        let text = "\
a:
  script:
    - env # ciguard: ignore[env-dump]
    - set # ciguard: ignore[env-dump] until 2026-01-31 vendor fix pending
    - printenv # ciguard: ignore[env-dump] until 2099-12-31 vendor fix pending
    - export -p # ciguard: ignore[env-dump] until soon the vendor fixes it
    - declare -x # ciguard: ignore[env-dump] prints only public settings
";
        let sources = [SourceFile {
            path: PathBuf::from(".gitlab-ci.yml"),
            text: text.to_owned(),
        }];
        let messages = |before: Option<TextBefore<'_>>| -> Vec<String> {
            unjustified(&sources, "2026-06-01", before)
                .iter()
                .map(|f| f.message.clone())
                .collect()
        };
        assert_eq!(
            messages(None),
            [
                "`ignore[env-dump]` gives no reason",
                "`ignore[env-dump]` expired after 2026-01-31 and suppresses nothing",
                "`ignore[env-dump]` has an `until` that is not a YYYY-MM-DD date, so it suppresses nothing",
            ]
        );
        // Compared with the target branch: only what the merge request adds is new.
        let base = |_: &Path| Some(text.lines().take(5).collect::<Vec<_>>().join("\n"));
        let added = messages(Some(&base));
        assert_eq!(added.len(), 4, "{added:?}");
        assert!(
            added[3].ends_with("is added by this merge request"),
            "{added:?}"
        );
        let new_file = |_: &Path| None;
        assert_eq!(messages(Some(&new_file)).len(), 5);

        let mut findings = vec![
            finding(&ENV_DUMP, ".gitlab-ci.yml", 4),
            finding(&ENV_DUMP, ".gitlab-ci.yml", 5),
            finding(&ENV_DUMP, ".gitlab-ci.yml", 6),
        ];
        apply(&mut findings, &sources, "2026-06-01");
        let reasons: Vec<Option<String>> = findings.into_iter().map(|f| f.suppressed).collect();
        assert_eq!(reasons, [None, Some("vendor fix pending".into()), None]);
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
