//! Renders a [`FindingSet`] in one of five formats, each in its own file, each writing to a
//! `&mut dyn Write`. `report` sees only `findings`: the caller chooses the format, the sink and
//! whether to colour. The formats are documented in `docs/output.md`.

mod codequality;
mod json;
mod junit;
mod sarif;
mod text;

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr;

use crate::findings::{FindingSet, Rule};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// For people: each finding with its source line, coloured on request.
    Text,
    /// ciguard's own versioned JSON.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitLab Code Quality (`artifacts:reports:codequality`), shown in merge requests.
    Codequality,
    /// JUnit XML (`artifacts:reports:junit`), shown in the pipeline's Tests tab.
    Junit,
}

impl Format {
    /// Every format, in the order of `--help`.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Codequality,
        Format::Junit,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Codequality => "codequality",
            Format::Junit => "junit",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a format (not repeated: it may be anything a user typed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format (expected text, json, sarif, codequality or junit)")]
pub struct UnknownFormat;

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .ok_or(UnknownFormat)
    }
}

/// What a report needs besides the findings.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// `"ciguard lint"` or `"ciguard audit"`.
    pub tool: &'a str,
    /// ciguard's version.
    pub version: &'a str,
    /// The files findings point into, as (path as reported, text), for the text format's
    /// snippets. The caller passes them with credential values already redacted.
    pub sources: &'a [(&'a Path, &'a str)],
    /// Every rule that ran: SARIF lists them, JUnit makes a test case of each.
    pub rules: &'a [&'static Rule],
    /// Whether the text format may use ANSI colours.
    pub color: bool,
}

/// Shows the paths of the sources, never their text.
impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sources: Vec<&Path> = self.sources.iter().map(|(path, _)| *path).collect();
        let rules: Vec<&str> = self.rules.iter().map(|rule| rule.id).collect();
        f.debug_struct("Context")
            .field("tool", &self.tool)
            .field("version", &self.version)
            .field("sources", &sources)
            .field("rules", &rules)
            .field("color", &self.color)
            .finish()
    }
}

/// Writes `findings` to `out` in `format`.
pub fn write(
    format: Format,
    findings: &FindingSet,
    context: &Context<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(findings, context, out),
        Format::Json => json::write(findings, context, out),
        Format::Sarif => sarif::write(findings, context, out),
        Format::Codequality => codequality::write(findings, out),
        Format::Junit => junit::write(findings, context, out),
    }
}

/// The rules that ran, then any rule of a finding that is not among them, each once.
fn rules_of(findings: &FindingSet, context: &Context<'_>) -> Vec<&'static Rule> {
    let mut rules = context.rules.to_vec();
    for finding in findings.all() {
        if !rules.iter().any(|r| r.id == finding.rule.id) {
            rules.push(finding.rule);
        }
    }
    rules
}

/// A path as reports show it: `/` as separator, without a leading `./`.
fn display_path(path: &Path) -> String {
    let path = path.to_string_lossy().replace('\\', "/");
    match path.strip_prefix("./") {
        Some(rest) => rest.to_owned(),
        None => path,
    }
}

/// Makes `ids` unique, in order: the second `x` becomes `x{separator}2`, the third
/// `x{separator}3`, and so on (skipping any that already exist).
fn unique(ids: impl IntoIterator<Item = String>, separator: &str) -> Vec<String> {
    let ids: Vec<String> = ids.into_iter().collect();
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.iter()
        .map(|id| {
            let mut candidate = id.clone();
            let mut n = 1;
            while (n > 1 && ids.contains(&candidate)) || !seen.insert(candidate.clone()) {
                n += 1;
                candidate = format!("{id}{separator}{n}");
            }
            candidate
        })
        .collect()
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that could not be analysed shows in every format, and a report with nothing else
    /// does not read as a clean result.
    #[test]
    fn every_format_says_which_input_was_not_analysed() {
        let set = fixtures::with_unanalysed();
        for format in Format::ALL {
            let out = fixtures::render(format, &set, false);
            assert!(out.contains("ci/broken.yml"), "{format}: {out}");
            assert!(out.contains("unclosed bracket"), "{format}: {out}");
        }
        let empty = FindingSet::default().with_unanalysed(set.unanalysed().to_vec());
        let json: serde_json::Value =
            serde_json::from_str(&fixtures::render(Format::Json, &empty, false)).expect("JSON");
        assert_eq!(json["errors"][0]["path"], "ci/broken.yml");
        assert_eq!(json["errors"][0]["line"], 3);
        let sarif: serde_json::Value =
            serde_json::from_str(&fixtures::render(Format::Sarif, &empty, false)).expect("JSON");
        let invocation = &sarif["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        assert_eq!(
            invocation["toolExecutionNotifications"][0]["level"],
            "error"
        );
        let quality: serde_json::Value =
            serde_json::from_str(&fixtures::render(Format::Codequality, &empty, false))
                .expect("JSON");
        assert_eq!(quality[0]["check_name"], crate::findings::NOT_ANALYSED);
        assert_eq!(quality[0]["location"]["lines"]["begin"], 3);
        let junit = fixtures::render(Format::Junit, &empty, false);
        assert!(
            junit.contains(r#"errors="1""#) && junit.contains("<error "),
            "{junit}"
        );
        let text = fixtures::render(Format::Text, &empty, false);
        assert!(text.contains("NOT ANALYSED: ci/broken.yml"), "{text}");
    }

    #[test]
    fn formats_round_trip_by_name() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn unique_suffixes_repeats_only() {
        let ids = ["a", "b", "a", "a-2", "a"].map(String::from);
        assert_eq!(unique(ids, "-"), ["a", "b", "a-3", "a-2", "a-4"]);
    }

    #[test]
    fn paths_use_slashes_without_dot() {
        assert_eq!(display_path(Path::new("./ci/a.yml")), "ci/a.yml");
        assert_eq!(display_path(Path::new(".gitlab-ci.yml")), ".gitlab-ci.yml");
    }

    #[test]
    fn no_value_or_escape_leaks_into_machine_formats() {
        let findings = fixtures::findings();
        for format in [
            Format::Json,
            Format::Sarif,
            Format::Codequality,
            Format::Junit,
        ] {
            let out = fixtures::render(format, &findings, false);
            assert!(!out.contains(fixtures::VALUE), "{format} shows a value");
            assert!(!out.contains('\u{1b}'), "{format} has an escape");
        }
    }

    #[test]
    fn context_debug_hides_source_text() {
        let sources = [(Path::new("a.yml"), fixtures::SOURCE)];
        let context = Context {
            tool: "ciguard lint",
            version: "0",
            sources: &sources,
            rules: &fixtures::RULES,
            color: false,
        };
        let debug = format!("{context:?}");
        assert!(debug.contains("a.yml") && debug.contains("env-dump"));
        assert!(!debug.contains(fixtures::VALUE));
    }
}
