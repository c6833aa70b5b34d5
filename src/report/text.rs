//! The text format, for people: each active finding as `severity[rule-id]: message`, where it
//! is (with the source line and a caret when the file is known), why and how to fix; each input
//! that could not be analysed as an error; then one summary line. Suppressed findings are only
//! counted.

use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Element, Group, Level, Origin, Renderer, Snippet};

use super::Context;
use crate::findings::{
    FileLocation, Finding, FindingSet, Location, NOT_ANALYSED, Severity, Unanalysed,
};

pub(super) fn write(
    findings: &FindingSet,
    context: &Context<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let renderer = if context.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // Each file split into lines once: thousands of findings must not re-read it each time.
    let sources: Vec<(String, Vec<&str>)> = context
        .sources
        .iter()
        .map(|(path, text)| {
            (
                super::display_path(path),
                text.split_inclusive('\n').collect(),
            )
        })
        .collect();
    for finding in findings.active() {
        writeln!(out, "{}\n", renderer.render(&[group(finding, &sources)]))?;
    }
    for input in findings.unanalysed() {
        writeln!(out, "{}\n", renderer.render(&[not_analysed(input)]))?;
    }
    writeln!(out, "{}", summary(findings, context.tool))
}

/// An input that could not be analysed: an error at the file (the text of the file is never
/// shown: the parser stopped where a value may be).
fn not_analysed(input: &Unanalysed) -> Group<'_> {
    let (line, column) = input.position.unwrap_or((1, 1));
    Level::ERROR
        .primary_title(format!("not analysed: {}", input.reason))
        .id(NOT_ANALYSED)
        .element(
            Origin::path(super::display_path(&input.path))
                .line(line as usize)
                .char_column(column as usize),
        )
        .element(
            Level::NOTE
                .with_name("why")
                .message("No finding about this file means nothing: it was not checked."),
        )
}

/// A finding's level: its severity's name, coloured like an error, a warning or a note.
fn level(severity: Severity) -> Level<'static> {
    let level = match severity {
        Severity::Critical | Severity::High => Level::ERROR,
        Severity::Medium => Level::WARNING,
        Severity::Low => Level::NOTE,
        Severity::Info => Level::INFO,
    };
    level.with_name(severity.as_str())
}

/// The files findings point into, by displayed path, as lines (with their line breaks).
type SourceLines<'a> = [(String, Vec<&'a str>)];

fn group<'a>(finding: &'a Finding, sources: &SourceLines<'a>) -> Group<'a> {
    let place: Element<'a> = match &finding.location {
        Location::File(at) => match snippet(at, sources) {
            Some(snippet) => snippet.into(),
            None => Origin::path(super::display_path(&at.path))
                .line(at.line as usize)
                .char_column(at.column as usize)
                .into(),
        },
        Location::Api(_) => Origin::path(finding.location.to_string()).into(),
    };
    level(finding.severity)
        .primary_title(finding.text())
        .id(finding.rule.id)
        .element(place)
        .element(Level::NOTE.with_name("why").message(finding.rule.why))
        .element(Level::HELP.with_name("fix").message(finding.rule.fix))
}

/// The flagged lines of a known file, with the flagged text underlined.
fn snippet<'a>(
    at: &FileLocation,
    sources: &SourceLines<'a>,
) -> Option<Snippet<'a, annotate_snippets::Annotation<'a>>> {
    let shown = super::display_path(&at.path);
    let (_, all) = sources.iter().find(|(path, _)| *path == shown)?;
    let first = usize::try_from(at.line).ok()?.checked_sub(1)?;
    let count = at.end_line.checked_sub(at.line)? as usize + 1;
    let lines: Vec<&str> = all.get(first..)?.iter().take(count).copied().collect();
    if lines.len() != count {
        return None;
    }
    let last = lines.last()?;
    let start = byte_of(lines[0], at.column);
    let before_last: usize = lines[..lines.len() - 1].iter().map(|l| l.len()).sum();
    let end = (before_last + byte_of(last, at.end_column)).max(start);
    Some(
        Snippet::source(lines.concat())
            .line_start(at.line as usize)
            .path(super::display_path(&at.path))
            .annotation(AnnotationKind::Primary.span(start..end)),
    )
}

/// The byte offset of 1-based character `column` in `line`, clamped to its text.
fn byte_of(line: &str, column: u32) -> usize {
    let text = line.trim_end_matches(['\n', '\r']);
    text.char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(text.len(), |(i, _)| i)
}

/// `ciguard lint: 3 findings (1 critical, 2 high), 1 suppressed`.
fn summary(findings: &FindingSet, tool: &str) -> String {
    let counts = findings.counts();
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let counts: Vec<String> = counts
        .iter()
        .rev()
        .filter(|(_, n)| *n > 0)
        .map(|(severity, n)| format!("{n} {severity}"))
        .collect();
    let suppressed = findings.suppressed_count();
    let line = match total {
        0 => format!("{tool}: no findings, {suppressed} suppressed"),
        _ => {
            let noun = if total == 1 { "finding" } else { "findings" };
            let counts = counts.join(", ");
            format!("{tool}: {total} {noun} ({counts}), {suppressed} suppressed")
        }
    };
    let unanalysed: Vec<String> = findings
        .unanalysed()
        .iter()
        .map(|input| super::display_path(&input.path))
        .collect();
    if unanalysed.is_empty() {
        line
    } else {
        // Findings or none, they say nothing of a file that was not checked.
        format!("{line}; NOT ANALYSED: {}", unanalysed.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Format, fixtures};
    use crate::findings::{FindingSet, Location};

    #[test]
    fn renders_snippets_api_places_and_summary() {
        let out = fixtures::render(Format::Text, &fixtures::findings(), false);
        assert_eq!(out, EXPECTED, "\n{out}");
    }

    #[test]
    fn colours_only_when_asked() {
        let plain = fixtures::render(Format::Text, &fixtures::findings(), false);
        let coloured = fixtures::render(Format::Text, &fixtures::findings(), true);
        assert!(!plain.contains('\u{1b}'));
        assert!(coloured.contains('\u{1b}'));
    }

    #[test]
    fn shows_no_value_from_unflagged_lines() {
        let out = fixtures::render(Format::Text, &fixtures::findings(), true);
        assert!(!out.contains(fixtures::VALUE));
    }

    #[test]
    fn says_when_there_is_nothing() {
        let out = fixtures::render(Format::Text, &FindingSet::default(), false);
        assert_eq!(out, "ciguard lint: no findings, 0 suppressed\n");
    }

    #[test]
    fn underlines_several_lines_and_falls_back_to_the_place() {
        let mut unknown = fixtures::only(&["xtrace"]).all()[0].clone();
        let mut long = unknown.clone();
        if let Location::File(at) = &mut unknown.location {
            at.path = "other.yml".into();
        }
        if let Location::File(at) = &mut long.location {
            (at.line, at.column, at.end_line, at.end_column) = (7, 3, 9, 5);
        }
        let out = fixtures::render(Format::Text, &FindingSet::new(vec![unknown, long]), false);
        assert_eq!(out, SEVERAL, "\n{out}");
    }

    #[test]
    fn survives_places_outside_the_text() {
        let places = [
            (4, 30, 4, 30),
            (4, 9, 4, 3),
            (40, 1, 40, 2),
            (9, 1, 10, 1),
            (0, 0, 0, 0),
        ];
        for (line, column, end_line, end_column) in places {
            let mut finding = fixtures::only(&["xtrace"]).all()[0].clone();
            if let Location::File(at) = &mut finding.location {
                (at.line, at.column, at.end_line, at.end_column) =
                    (line, column, end_line, end_column);
            }
            let out = fixtures::render(Format::Text, &FindingSet::new(vec![finding]), false);
            assert!(
                out.contains(&format!("--> .gitlab-ci.yml:{line}:")),
                "{out}"
            );
        }
    }

    const SEVERAL: &str = r#"medium[xtrace]: `set -x` & $DB_PASSWORD in <deploy>
 --> .gitlab-ci.yml:7:3
  |
7 | /   script:
8 | |     - set -x
9 | |     - ./deploy.sh
  | |____^
  |
  = why: it can leak a credential
  = fix: remove it

medium[xtrace]: `set -x` & $DB_PASSWORD in <deploy>
--> other.yml:8:7
 = why: it can leak a credential
 = fix: remove it

ciguard lint: 2 findings (2 medium), 0 suppressed
"#;

    const EXPECTED: &str = r#"info[remote-include]: remote include not analysed
 --> .gitlab-ci.yml:2:5
  |
2 |   - remote: https://example.com/ci.yml
  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  |
  = why: it can leak a credential
  = fix: remove it

high[debug-trace]: CI_DEBUG_TRACE is "true" for every job
 --> .gitlab-ci.yml:4:3
  |
4 |   CI_DEBUG_TRACE: "true"
  |   ^^^^^^^^^^^^^^^^^^^^^^
  |
  = why: it can leak a credential
  = fix: remove it

medium[xtrace]: `set -x` & $DB_PASSWORD in <deploy>
 --> .gitlab-ci.yml:8:7
  |
8 |     - set -x
  |       ^^^^^^
  |
  = why: it can leak a credential
  = fix: remove it

critical[unprotected]: DB_PASSWORD reaches unprotected branches
--> project group/proj DB_PASSWORD (environment production)
 = why: it can leak a credential
 = fix: remove it

ciguard lint: 4 findings (1 critical, 1 high, 1 medium, 1 info), 1 suppressed
"#;
}
