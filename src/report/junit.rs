//! The JUnit XML format, for GitLab's Tests tab: one test suite named after the tool; a passing
//! test case per rule that ran without an active finding; a failing one per active finding and
//! a skipped one per suppressed finding, named after the rule and the finding's stable place;
//! an error test case per input that could not be analysed.

use std::io::{self, Write};

use super::Context;
use crate::findings::{Finding, FindingSet, Location, NOT_ANALYSED, Unanalysed};

pub(super) fn write(
    findings: &FindingSet,
    context: &Context<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let passing: Vec<&str> = super::rules_of(findings, context)
        .into_iter()
        .filter(|rule| !findings.active().any(|f| f.rule.id == rule.id))
        .map(|rule| rule.id)
        .collect();
    let names = super::unique(findings.all().iter().map(name), " #");
    let failures = findings.active().count();
    let skipped = findings.suppressed_count();
    let errors = findings.unanalysed().len();
    let tests = passing.len() + failures + skipped + errors;
    let suite = escape(context.tool, true);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="{suite}" tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="0">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{suite}" tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="0">"#
    )?;
    for id in passing {
        let id = escape(id, true);
        writeln!(
            out,
            r#"    <testcase classname="{id}" name="{id}" time="0"/>"#
        )?;
    }
    for (finding, name) in findings.all().iter().zip(&names) {
        case(finding, name, out)?;
    }
    for input in findings.unanalysed() {
        error_case(input, out)?;
    }
    writeln!(out, "  </testsuite>\n</testsuites>")
}

/// An input that could not be analysed: an error test case, so the Tests tab shows it was not
/// checked.
fn error_case(input: &Unanalysed, out: &mut dyn Write) -> io::Result<()> {
    let path = super::display_path(&input.path);
    let place = match input.position {
        Some((line, column)) => format!("{path}:{line}:{column}"),
        None => path.clone(),
    };
    writeln!(
        out,
        r#"    <testcase classname="{NOT_ANALYSED}" name="{NOT_ANALYSED} {}" file="{}" time="0">"#,
        escape(&path, true),
        escape(&path, true),
    )?;
    writeln!(
        out,
        r#"      <error message="{}" type="{NOT_ANALYSED}">{}</error>"#,
        escape(&format!("not analysed: {}", input.reason), true),
        escape(&format!("{place}: {}", input.reason), false),
    )?;
    writeln!(out, "    </testcase>")
}

/// `rule-id at path logical`: stable across edits elsewhere in the file, like a fingerprint.
fn name(finding: &Finding) -> String {
    match &finding.location {
        Location::File(at) => format!(
            "{} at {} {}",
            finding.rule.id,
            super::display_path(&at.path),
            at.logical
        ),
        Location::Api(_) => format!("{} at {}", finding.rule.id, finding.location),
    }
}

fn case(finding: &Finding, name: &str, out: &mut dyn Write) -> io::Result<()> {
    let file = match &finding.location {
        Location::File(at) => format!(
            r#" file="{}""#,
            escape(&super::display_path(&at.path), true)
        ),
        Location::Api(_) => String::new(),
    };
    writeln!(
        out,
        r#"    <testcase classname="{}" name="{}"{file} time="0">"#,
        escape(finding.rule.id, true),
        escape(name, true),
    )?;
    let place = match &finding.location {
        Location::File(at) => format!(
            "{}:{}:{} ({})",
            super::display_path(&at.path),
            at.line,
            at.column,
            at.logical
        ),
        Location::Api(_) => finding.location.to_string(),
    };
    let body = format!(
        "{}\nat {place}\nseverity {}, confidence {}\n\nWhy: {}\nFix: {}",
        finding.text(),
        finding.severity,
        finding.confidence.as_str(),
        finding.rule.why,
        finding.rule.fix,
    );
    match &finding.suppressed {
        None => writeln!(
            out,
            r#"      <failure message="{}">{}</failure>"#,
            escape(&finding.text(), true),
            escape(&body, false),
        )?,
        Some(reason) => writeln!(
            out,
            r#"      <skipped message="suppressed">{}</skipped>"#,
            escape(&format!("suppressed: {reason}\n\n{body}"), false),
        )?,
    }
    writeln!(out, "    </testcase>")
}

/// Escapes XML markup; in an attribute also line breaks and tabs, which parsers would
/// otherwise turn into spaces. Characters XML 1.0 cannot hold become U+FFFD.
fn escape(text: &str, attribute: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' if attribute => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            '\t' if attribute => escaped.push_str("&#9;"),
            '\n' | '\t' => escaped.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::super::{Format, fixtures};
    use super::escape;
    use crate::findings::FindingSet;

    #[test]
    fn one_case_per_clean_rule_and_per_finding() {
        let out = fixtures::render(Format::Junit, &fixtures::findings(), false);
        assert_eq!(out, EXPECTED, "\n{out}");
    }

    #[test]
    fn every_rule_passes_when_clean() {
        let out = fixtures::render(Format::Junit, &FindingSet::default(), false);
        assert_eq!(out.matches("<testcase ").count(), fixtures::RULES.len());
        assert!(out.contains(r#"tests="6" failures="0""#));
        assert!(!out.contains("<failure"));
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("a<b>&\"c'\n", true),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;"
        );
        assert_eq!(escape("x\ny\u{7}", false), "x\ny\u{fffd}");
    }

    const EXPECTED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ciguard lint" tests="7" failures="4" errors="0" skipped="1" time="0">
  <testsuite name="ciguard lint" tests="7" failures="4" errors="0" skipped="1" time="0">
    <testcase classname="mr-credentials" name="mr-credentials" time="0"/>
    <testcase classname="env-dump" name="env-dump" time="0"/>
    <testcase classname="remote-include" name="remote-include at .gitlab-ci.yml include[0]" file=".gitlab-ci.yml" time="0">
      <failure message="remote include not analysed">remote include not analysed
at .gitlab-ci.yml:2:5 (include[0])
severity info, confidence high

Why: it can leak a credential
Fix: remove it</failure>
    </testcase>
    <testcase classname="debug-trace" name="debug-trace at .gitlab-ci.yml variables.CI_DEBUG_TRACE" file=".gitlab-ci.yml" time="0">
      <failure message="CI_DEBUG_TRACE is &quot;true&quot; for every job">CI_DEBUG_TRACE is &quot;true&quot; for every job
at .gitlab-ci.yml:4:3 (variables.CI_DEBUG_TRACE)
severity high, confidence high

Why: it can leak a credential
Fix: remove it</failure>
    </testcase>
    <testcase classname="xtrace" name="xtrace at .gitlab-ci.yml deploy.script[0]" file=".gitlab-ci.yml" time="0">
      <failure message="`set -x` &amp; $DB_PASSWORD in &lt;deploy&gt;">`set -x` &amp; $DB_PASSWORD in &lt;deploy&gt;
at .gitlab-ci.yml:8:7 (deploy.script[0])
severity medium, confidence high

Why: it can leak a credential
Fix: remove it</failure>
    </testcase>
    <testcase classname="mr-credentials" name="mr-credentials at .gitlab-ci.yml deploy.script[1]" file=".gitlab-ci.yml" time="0">
      <skipped message="suppressed">suppressed: reviewed in #12

runs in MRs
at .gitlab-ci.yml:9:7 (deploy.script[1])
severity low, confidence high

Why: it can leak a credential
Fix: remove it</skipped>
    </testcase>
    <testcase classname="unprotected" name="unprotected at project group/proj DB_PASSWORD (environment production)" time="0">
      <failure message="DB_PASSWORD reaches unprotected branches">DB_PASSWORD reaches unprotected branches
at project group/proj DB_PASSWORD (environment production)
severity critical, confidence high

Why: it can leak a credential
Fix: remove it</failure>
    </testcase>
  </testsuite>
</testsuites>
"#;
}
