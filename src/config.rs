//! `.ciguard.yml`: credential name patterns and production environment names added to the
//! defaults, rule severity overrides and disables, and ignored paths. Found from the working
//! directory up to the repository root ([`discover`]) or named with `--config` ([`load`]).
//!
//! Unknown keys, unknown rule ids and invalid patterns are errors that point at the line; the
//! file is documented in `docs/configuration.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::credentials::Knowledge;
use crate::credentials::NamePattern;
use crate::diagnostic::FileError;
use crate::findings::{Finding, Location, Rule, Severity};

/// The configuration file's name.
pub const FILE_NAME: &str = ".ciguard.yml";

/// The reason given to findings of a rule disabled in the configuration.
pub const DISABLED_REASON: &str = "disabled in .ciguard.yml";

/// The reason given to findings in an ignored path.
pub const IGNORED_REASON: &str = "path ignored in .ciguard.yml";

/// A loaded `.ciguard.yml` (the default is an empty one).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Credential name patterns, added to the defaults.
    pub credential_names: Vec<NamePattern>,
    /// Production environment names (globs), added to the defaults.
    pub production_environments: Vec<NamePattern>,
    /// Per rule id: a severity override, or disabled.
    pub rules: BTreeMap<String, RuleSetting>,
    /// Paths whose findings are suppressed.
    pub ignore_paths: Vec<PathPattern>,
    /// Commands (as words, e.g. `dbt run`) that run ELT steps, besides Meltano's.
    pub elt_commands: Vec<Vec<String>>,
    /// The organisation's own token prefixes, whose tokens `run` masks.
    pub token_prefixes: Vec<String>,
    /// The file it came from (empty for the default).
    path: PathBuf,
}

/// What the configuration says about one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSetting {
    /// The severity its findings get instead of the rule's.
    pub severity: Option<Severity>,
    /// Its findings are suppressed.
    pub disabled: bool,
    /// Where the setting is in the file, for errors.
    position: Option<(u32, u32)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    credentials: Vec<Spanned<String>>,
    #[serde(default)]
    production_environments: Vec<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<String, Spanned<RawRule>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    elt_commands: Vec<Spanned<String>>,
    #[serde(default)]
    token_prefixes: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    disabled: bool,
}

/// Looks for [`FILE_NAME`] in `start` (a directory, or a file's directory) and each directory
/// above it up to the repository root (the first directory holding `.git`); outside a
/// repository, only in `start`. `None` when there is none.
pub fn discover(start: &Path) -> Result<Option<(PathBuf, Config)>, FileError> {
    let start = std::path::absolute(start).map_err(|err| FileError {
        path: start.to_owned(),
        position: None,
        reason: format!("cannot resolve this path to look for {FILE_NAME}: {err}"),
    })?;
    let start = if start.is_dir() {
        start
    } else {
        start.parent().map(Path::to_owned).unwrap_or(start)
    };
    let in_repository = start.ancestors().any(|dir| dir.join(".git").exists());
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            let config = load(&candidate)?;
            return Ok(Some((candidate, config)));
        }
        if !in_repository || dir.join(".git").exists() {
            break;
        }
    }
    Ok(None)
}

/// Reads and validates the configuration file at `path` (rule ids are checked separately, by
/// [`Config::check_rules`], against every rule the caller knows).
pub fn load(path: &Path) -> Result<Config, FileError> {
    let error = |position: Option<(u32, u32)>, reason: String| FileError {
        path: path.to_owned(),
        position,
        reason,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|err| error(None, format!("cannot read it: {err}")))?;
    let raw: Option<RawConfig> = crate::yaml::deserialize(&text).map_err(|err| {
        let what = crate::yaml::describe_error(&err);
        error(
            err.location().map(|at| position(&at)),
            format!("invalid {FILE_NAME}: {what}; see docs/configuration.md"),
        )
    })?;
    let Some(raw) = raw else {
        return Ok(Config {
            path: path.to_owned(),
            ..Config::default()
        });
    };
    let patterns = |list: Vec<Spanned<String>>, what: &str| {
        list.into_iter()
            .map(|item| {
                item.value.parse::<NamePattern>().map_err(|err| {
                    error(
                        Some(position(&item.referenced)),
                        format!("invalid {what}: {err}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let credential_names = patterns(raw.credentials, "credential name pattern")?;
    let production_environments = patterns(
        raw.production_environments,
        "production environment pattern",
    )?;
    let ignore_paths = raw
        .ignore
        .into_iter()
        .map(|item| {
            item.value
                .parse::<PathPattern>()
                .map_err(|reason| error(Some(position(&item.referenced)), reason))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let elt_commands = raw
        .elt_commands
        .into_iter()
        .map(|item| {
            let words: Vec<String> = item.value.split_whitespace().map(str::to_owned).collect();
            if words.is_empty() {
                Err(error(
                    Some(position(&item.referenced)),
                    "an empty command in `elt_commands`: give the words that start it, e.g. \"dbt run\"".to_owned(),
                ))
            } else {
                Ok(words)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let token_prefixes = raw
        .token_prefixes
        .into_iter()
        .map(|item| {
            crate::scrub::check_token_prefix(&item.value)
                .map(|()| item.value)
                .map_err(|reason| {
                    error(
                        Some(position(&item.referenced)),
                        format!("invalid entry in `token_prefixes`: {reason}"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rules = raw
        .rules
        .into_iter()
        .map(|(id, setting)| {
            let at = position(&setting.referenced);
            (
                id,
                RuleSetting {
                    severity: setting.value.severity,
                    disabled: setting.value.disabled,
                    position: Some(at),
                },
            )
        })
        .collect();
    Ok(Config {
        credential_names,
        production_environments,
        rules,
        ignore_paths,
        elt_commands,
        token_prefixes,
        path: path.to_owned(),
    })
}

fn position(at: &serde_saphyr::Location) -> (u32, u32) {
    (
        u32::try_from(at.line()).unwrap_or(u32::MAX),
        u32::try_from(at.column()).unwrap_or(u32::MAX),
    )
}

impl Config {
    /// The default knowledge plus this file's credential names and production environments.
    pub fn knowledge(&self) -> Knowledge {
        let mut knowledge = Knowledge::default();
        knowledge
            .credential_names
            .extend(self.credential_names.iter().cloned());
        knowledge
            .production_environments
            .extend(self.production_environments.iter().cloned());
        knowledge
            .elt_commands
            .extend(self.elt_commands.iter().cloned());
        knowledge
    }

    /// An error for the first rule id in `rules:` that is not one of `known`.
    pub fn check_rules(&self, known: &[&Rule]) -> Result<(), FileError> {
        match self
            .rules
            .iter()
            .find(|(id, _)| !known.iter().any(|rule| rule.id == id.as_str()))
        {
            Some((id, setting)) => Err(FileError {
                path: self.path.clone(),
                position: setting.position,
                reason: format!(
                    "unknown rule `{id}` in `rules:`; use a rule id from docs/rules.md (lint) or docs/audit.md (audit)"
                ),
            }),
            None => Ok(()),
        }
    }

    /// Applies severity overrides, and marks suppressed (never drops) the findings of disabled
    /// rules and in ignored paths. Findings already suppressed keep their reason.
    pub fn apply(&self, findings: &mut [Finding]) {
        for finding in findings {
            let setting = self.rules.get(finding.rule.id);
            if let Some(severity) = setting.and_then(|s| s.severity) {
                finding.severity = severity;
            }
            if finding.suppressed.is_some() {
                continue;
            }
            if setting.is_some_and(|s| s.disabled) {
                finding.suppressed = Some(DISABLED_REASON.to_owned());
            } else if let Location::File(at) = &finding.location
                && self.is_ignored(&at.path)
            {
                finding.suppressed = Some(IGNORED_REASON.to_owned());
            }
        }
    }

    /// Whether `path` (relative to the repository root, or absolute under the configuration's
    /// directory) is under an ignored path.
    fn is_ignored(&self, path: &Path) -> bool {
        let base = self.path.parent().unwrap_or(Path::new(""));
        let relative = path.strip_prefix(base).unwrap_or(path);
        self.ignore_paths
            .iter()
            .any(|pattern| pattern.matches(relative))
    }
}

/// A path glob relative to the repository root: `*` and `?` within one path segment, `**` for
/// any number of segments. A pattern that matches a directory matches everything under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    original: String,
    segments: Vec<String>,
}

impl FromStr for PathPattern {
    type Err = String;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        let segments: Vec<String> = pattern
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_owned)
            .collect();
        if segments.is_empty() {
            return Err(
                "an ignored path cannot be empty; give a path such as `tests/fixtures/**`".into(),
            );
        }
        if segments.iter().any(|s| s == "..") {
            return Err(
                "an ignored path cannot contain `..`; give it relative to the repository root"
                    .into(),
            );
        }
        Ok(PathPattern {
            original: pattern.to_owned(),
            segments,
        })
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl PathPattern {
    /// Whether `path`, or a directory it is in, matches.
    pub fn matches(&self, path: &Path) -> bool {
        let parts: Vec<String> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let segments: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        (1..=parts.len()).any(|len| match_segments(&segments, &parts[..len]))
    }
}

fn match_segments(pattern: &[&str], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((&"**", rest)) => (0..=parts.len()).any(|skip| match_segments(rest, &parts[skip..])),
        Some((first, rest)) => parts
            .split_first()
            .is_some_and(|(part, others)| match_one(first, part) && match_segments(rest, others)),
    }
}

/// `*` and `?` within one segment, case-sensitive.
fn match_one(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    crate::credentials::glob_match(&pattern, &name)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::findings::FileLocation;
    use crate::lint::ci::rules::elt_not_scrubbed::RULE as SCRUB;
    use crate::lint::ci::rules::env_dump::RULE as ENV_DUMP;

    const EXAMPLE: &str = "\
credentials: [ \"*_KEYFILE\", \"SNOWFLAKE_*\" ]
production_environments: [ \"prod-*\", \"live\" ]
rules:
  env-dump: { severity: medium }
  elt-not-scrubbed: { disabled: true }
ignore: [ \"tests/fixtures/**\" ]
";

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join(FILE_NAME);
        fs::write(&path, text).expect("write config");
        path
    }

    fn load_text(text: &str) -> Result<Config, FileError> {
        let dir = tempfile::tempdir().expect("temp dir");
        load(&write(dir.path(), text))
    }

    fn finding(rule: &'static Rule, path: &str) -> Finding {
        let location = Location::File(FileLocation {
            path: PathBuf::from(path),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            logical: String::new(),
        });
        Finding::new(rule, location, "m")
    }

    #[test]
    fn loads_the_documented_example() {
        let config = load_text(EXAMPLE).expect("valid config");
        config
            .check_rules(&[&ENV_DUMP, &SCRUB])
            .expect("known rules");
        let knowledge = config.knowledge();
        assert!(knowledge.is_credential("GCP_KEYFILE"));
        assert!(knowledge.is_credential("snowflake_account"));
        assert!(knowledge.is_credential("DB_PASSWORD"));
        assert!(knowledge.is_production("prod-eu"));
        assert!(knowledge.is_production("production"));
        assert!(!knowledge.is_production("staging"));

        let mut findings = vec![
            finding(&ENV_DUMP, ".gitlab-ci.yml"),
            finding(&SCRUB, ".gitlab-ci.yml"),
            finding(&ENV_DUMP, "tests/fixtures/ci/a.yml"),
        ];
        config.apply(&mut findings);
        assert_eq!(findings[0].severity, Severity::Medium);
        assert_eq!(findings[0].suppressed, None);
        assert_eq!(findings[1].suppressed.as_deref(), Some(DISABLED_REASON));
        assert_eq!(findings[2].suppressed.as_deref(), Some(IGNORED_REASON));
        assert_eq!(findings[2].severity, Severity::Medium);
    }

    #[test]
    fn empty_files_are_empty_configs() {
        let config = load_text("# nothing yet\n").expect("empty config");
        assert!(config.rules.is_empty() && config.credential_names.is_empty());
    }

    #[test]
    fn unknown_keys_point_at_their_line() {
        let err = load_text("credentials: []\nrulez:\n  env-dump: {}\n").expect_err("unknown key");
        assert_eq!(err.position.map(|p| p.0), Some(2), "{err}");
        assert!(err.reason.contains("rulez"), "{err}");

        let err = load_text("rules:\n  env-dump:\n    severity: medium\n    disable: true\n")
            .expect_err("unknown rule key");
        assert_eq!(err.position.map(|p| p.0), Some(4), "{err}");

        let err =
            load_text("rules:\n  env-dump: { severity: urgent }\n").expect_err("bad severity");
        assert_eq!(err.position.map(|p| p.0), Some(2), "{err}");
    }

    #[test]
    fn unknown_rule_ids_are_errors() {
        let config = load_text("rules:\n  env-dump: {}\n  no-such-rule:\n    disabled: true\n")
            .expect("valid syntax");
        let err = config.check_rules(&[&ENV_DUMP]).expect_err("unknown rule");
        assert!(err.reason.contains("`no-such-rule`"), "{err}");
        assert_eq!(err.position.map(|p| p.0), Some(4), "{err}");
        assert!(err.to_string().contains(".ciguard.yml:4:"), "{err}");
    }

    #[test]
    fn invalid_patterns_point_at_the_item() {
        let err = load_text("credentials:\n  - OK_*\n  - \"A=b\"\n").expect_err("bad pattern");
        assert_eq!(err.position.map(|p| p.0), Some(3), "{err}");
        let err = load_text("ignore: [\"../x\"]\n").expect_err("bad path");
        assert_eq!(err.position.map(|p| p.0), Some(1), "{err}");
    }

    #[test]
    fn discovery_walks_up_to_the_repository_root() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outer = dir.path();
        let repo = outer.join("repo");
        let deep = repo.join("a/b");
        fs::create_dir_all(&deep).expect("mkdir");
        fs::create_dir_all(repo.join(".git")).expect("mkdir .git");
        write(outer, "rules: {}\n");
        assert!(
            discover(&deep).expect("no config").is_none(),
            "stops at the repository root"
        );

        let found = write(&repo, EXAMPLE);
        let (path, config) = discover(&deep).expect("config").expect("found");
        assert_eq!(path, found);
        assert_eq!(config.rules.len(), 2);
        let (path, _) = discover(&deep.join("meltano.yml"))
            .expect("config")
            .expect("found");
        assert_eq!(path, found);

        write(&deep, "credentials: [\"X_*\"]\n");
        let (path, _) = discover(&deep).expect("config").expect("found");
        assert_eq!(path, deep.join(FILE_NAME));

        fs::write(deep.join(FILE_NAME), "bogus: 1\n").expect("write");
        assert!(discover(&deep).is_err());
    }

    #[test]
    fn path_patterns() {
        let cases = [
            ("tests/fixtures/**", "tests/fixtures/ci/a.yml", true),
            ("tests/fixtures", "tests/fixtures/ci/a.yml", true),
            ("tests/fixtures/**", "tests/other.yml", false),
            ("**/generated/*.yml", "x/y/generated/p.yml", true),
            ("**/generated/*.yml", "generated/p.yml", true),
            ("*.yml", "meltano.yml", true),
            ("*.yml", "sub/meltano.yml", false),
            ("./ci/?.yml", "ci/a.yml", true),
            ("ci/?.yml", "./ci/ab.yml", false),
        ];
        for (pattern, path, expected) in cases {
            let pattern: PathPattern = pattern.parse().expect("valid pattern");
            assert_eq!(
                pattern.matches(Path::new(path)),
                expected,
                "{pattern} vs {path}"
            );
        }
    }
}
