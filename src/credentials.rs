//! What counts as a credential: case-insensitive glob patterns over variable names (`*` and
//! `?`) and the default list, shared by `run`, `audit`, `lint` and `init`; GitLab's own
//! wildcards, for protected ref names and environment scopes; and [`Knowledge`], what the
//! analysers know beyond their input (credential names, production environments, ELT commands,
//! the project's variable flags).

use std::fmt;
use std::str::FromStr;

/// Names that look like credentials, matched ignoring case. On unless `--no-default-patterns`.
/// `*_PWD` does not match the shell's own `PWD` and `OLDPWD`.
pub const DEFAULT_NAME_PATTERNS: &[&str] = &[
    "*PASSWORD*",
    "*PASSWD*",
    "*PASSPHRASE*",
    "*SECRET*",
    "*TOKEN*",
    "*API_KEY*",
    "*APIKEY*",
    "*PRIVATE_KEY*",
    "*ACCESS_KEY*",
    "*CREDENTIAL*",
    "*DSN*",
    "*DATABASE_URL*",
    "*DATABASE_URI*",
    "*CONNECTION_STRING*",
    "*_PWD",
];

/// Hosts that are the machine a job runs on: a credential sent there crosses no network and
/// protects a throwaway service at most.
pub const LOCAL_HOSTS: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "[::1]",
    "0.0.0.0",
    "host.docker.internal",
];

/// Whether `name` matches a GitLab wildcard (protected ref names, environment scopes): each `*`
/// matches any run of characters, `/` included; case-sensitive; anchored at both ends.
pub fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
    regex::Regex::new(&format!("^{}$", parts.join(".*?"))).is_ok_and(|re| re.is_match(name))
}

/// A pattern such as `*PASSWORD*` or `SNOWFLAKE_?EY`, matched against whole variable names,
/// ignoring ASCII case. `*` matches any run of characters, `?` exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    /// The pattern as given, for messages.
    original: String,
    /// The pattern in ASCII upper case, as chars (so `?` matches one char of a non-ASCII name).
    upper: Vec<char>,
}

/// Why a string is not a valid [`NamePattern`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPattern {
    /// An empty pattern would match nothing.
    #[error("a variable name pattern cannot be empty")]
    Empty,
    /// A name cannot hold `=` or NUL; the pattern was probably `NAME=value`.
    #[error("a variable name pattern cannot contain '=' or NUL (give the name, not NAME=value)")]
    ForbiddenChar,
}

impl NamePattern {
    /// Whether `name` matches the whole pattern, ignoring ASCII case.
    pub fn matches(&self, name: &str) -> bool {
        self.matches_upper(&upper_chars(name))
    }

    /// Whether `name`, given as [`upper_chars`], matches the whole pattern: for matching one
    /// name against many patterns.
    pub fn matches_upper(&self, name: &[char]) -> bool {
        glob_match(&self.upper, name)
    }

    /// Whether the pattern has no wildcard, so it names exactly one variable.
    pub fn is_literal(&self) -> bool {
        !self.upper.iter().any(|&c| c == '*' || c == '?')
    }
}

impl FromStr for NamePattern {
    type Err = InvalidPattern;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        if pattern.is_empty() {
            return Err(InvalidPattern::Empty);
        }
        if pattern.contains(['=', '\0']) {
            return Err(InvalidPattern::ForbiddenChar);
        }
        Ok(Self {
            original: pattern.to_owned(),
            upper: pattern.chars().map(|c| c.to_ascii_uppercase()).collect(),
        })
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Iterative glob matching (`*` any run, `?` one char) with one backtrack point (the last `*`):
/// linear in practice, at worst `pattern.len() * name.len()`. Case-sensitive: callers fold case.
/// `name`'s characters with ASCII letters upper-cased, as [`NamePattern::matches_upper`] takes them.
pub fn upper_chars(name: &str) -> Vec<char> {
    name.chars().map(|c| c.to_ascii_uppercase()).collect()
}

pub(crate) fn glob_match(pattern: &[char], name: &[char]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                last_star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match last_star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    last_star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// What ciguard knows beyond the files and data it reads: which names are credentials, which
/// environments are production, which commands run ELT steps, and the project's variable flags.
/// Built from the defaults and `.ciguard.yml`; read by `lint`, `audit` and `init`.
#[derive(Debug, Clone)]
pub struct Knowledge {
    /// Variable names that hold credentials (defaults plus configuration).
    pub credential_names: Vec<NamePattern>,
    /// Environment names (globs) that count as production, besides `deployment_tier: production`.
    pub production_environments: Vec<NamePattern>,
    /// Commands, as their first words (`["dbt", "run"]`), that run ELT steps whose output must
    /// go through `ciguard run --`, besides Meltano's `run`, `el`, `elt` and `invoke`.
    pub elt_commands: Vec<Vec<String>>,
    /// The project's CI/CD variables as GitLab knows them (`lint --gitlab`; empty otherwise).
    pub project_variables: Vec<KnownVariable>,
    /// GitLab's `protect_merge_request_pipelines` is on (or may be): merge-request pipelines
    /// between protected branches get protected variables.
    pub protected_variables_in_merge_requests: bool,
    /// The jobs of the project's pipeline (`audit --pipeline`; `None`: not read).
    pub pipeline_jobs: Option<Vec<PipelineJob>>,
}

/// A job of the project's pipeline as far as an audit of its variables asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineJob {
    /// Its name.
    pub name: String,
    /// The environment it deploys to, as written (`None`: none).
    pub environment: Option<String>,
    /// Whether its output goes through `ciguard run --` and nothing in it prints outside it.
    pub scrubbed: bool,
}

/// Whether a variable of environment scope `scope` reaches a job in `environment` (`None`: a
/// job without one gets only `*`-scoped variables). An environment name with variables in it
/// could match any scope.
pub fn scope_reaches(scope: &str, environment: Option<&str>) -> bool {
    match environment {
        None => scope == "*",
        Some(environment) if environment.contains('$') => true,
        Some(environment) => wildcard_matches(scope, environment),
    }
}

/// A CI/CD variable's flags as the GitLab API reports them, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownVariable {
    /// Its key.
    pub key: String,
    /// Only protected refs get it.
    pub protected: bool,
    /// GitLab masks it in job logs: someone declared it a secret.
    pub masked: bool,
    /// The environments whose jobs get it (`*`: every job; a GitLab wildcard).
    pub environment_scope: String,
}

impl Default for Knowledge {
    fn default() -> Self {
        Knowledge {
            credential_names: DEFAULT_NAME_PATTERNS
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
            production_environments: [
                "production",
                "prod",
                "prd",
                "live",
                "production/*",
                "prod/*",
            ]
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect(),
            elt_commands: Vec::new(),
            project_variables: Vec::new(),
            protected_variables_in_merge_requests: false,
            pipeline_jobs: None,
        }
    }
}

impl Knowledge {
    /// Whether a variable of this name holds a credential: by its name, or because the project
    /// has it as a masked variable.
    pub fn is_credential(&self, name: &str) -> bool {
        // Names are short: folded on the stack, once for every pattern.
        let mut folded = ['\0'; 64];
        let long;
        let upper: &[char] = if name.len() <= folded.len() {
            let mut count = 0;
            for (slot, c) in folded.iter_mut().zip(name.chars()) {
                *slot = c.to_ascii_uppercase();
                count += 1;
            }
            &folded[..count]
        } else {
            long = upper_chars(name);
            &long
        };
        self.credential_names.iter().any(|p| p.matches_upper(upper))
            || self
                .project_variables
                .iter()
                .any(|v| v.masked && v.key == name)
    }

    /// Whether the project has a variable of this name that a job in `environment` (`None`:
    /// a job without one) receives, and every such one is protected, so that no unprotected
    /// ref, merge-request pipelines included, gives it to that job. A job without an environment
    /// receives only `*`-scoped rows; a job with one, the rows whose scope matches its name
    /// ([`scope_reaches`]). Never when the project lets protected variables reach
    /// merge-request pipelines.
    pub fn is_protected_variable(&self, name: &str, environment: Option<&str>) -> bool {
        if self.protected_variables_in_merge_requests {
            return false;
        }
        let mut received = self
            .project_variables
            .iter()
            .filter(|v| v.key == name && scope_reaches(&v.environment_scope, environment))
            .peekable();
        received.peek().is_some() && received.all(|v| v.protected)
    }

    /// Whether every job of the pipeline that a variable of environment scope `scope` reaches
    /// runs under `ciguard run` (`None`: the pipeline was not read).
    pub fn scrubbed_wherever_received(&self, scope: &str) -> Option<bool> {
        let jobs = self.pipeline_jobs.as_ref()?;
        Some(
            jobs.iter()
                .filter(|job| scope_reaches(scope, job.environment.as_deref()))
                .all(|job| job.scrubbed),
        )
    }

    /// Whether an environment of this name is production.
    pub fn is_production(&self, environment: &str) -> bool {
        self.production_environments
            .iter()
            .any(|p| p.matches(environment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_wildcards_match_as_gitlab_does() {
        assert!(wildcard_matches("*", "production/eu"));
        assert!(wildcard_matches("release/*", "release/1.2"));
        assert!(wildcard_matches("*-stable", "14-stable"));
        assert!(wildcard_matches("main", "main"));
        assert!(!wildcard_matches("main", "Main"));
        assert!(!wildcard_matches("release/*", "hotfix/release/1"));
        assert!(wildcard_matches("prod.*", "prod.eu"));
        assert!(!wildcard_matches("prod.eu", "prodxeu"));
    }

    fn pattern(p: &str) -> NamePattern {
        p.parse().expect("valid pattern")
    }

    #[test]
    fn matches_whole_names_ignoring_case() {
        let cases = [
            ("*PASSWORD*", "DB_PASSWORD", true),
            ("*PASSWORD*", "password_file", true),
            ("*PASSWORD*", "PASSWORD", true),
            ("*PASSWORD*", "PASSWD", false),
            ("*_PWD", "SNOWFLAKE_PWD", true),
            ("*_PWD", "PWD", false),
            ("*_PWD", "OLDPWD", false),
            ("*_PWD", "SNOWFLAKE_PWD_FILE", false),
            ("TAP_?EY", "tap_key", true),
            ("TAP_?EY", "TAP_KKEY", false),
            ("EXACT", "EXACT", true),
            ("EXACT", "EXACTLY", false),
            ("*", "", true),
            ("A*B*C", "AXXBYYBZC", true),
            ("A*B*C", "AXXBYYBZ", false),
            ("**TOKEN", "MY_TOKEN", true),
            ("?", "É", true),
        ];
        for (p, name, expected) in cases {
            assert_eq!(pattern(p).matches(name), expected, "{p} vs {name}");
        }
    }

    #[test]
    fn rejects_empty_and_assignments() {
        assert_eq!("".parse::<NamePattern>(), Err(InvalidPattern::Empty));
        assert_eq!(
            "DB_PASSWORD=x".parse::<NamePattern>(),
            Err(InvalidPattern::ForbiddenChar)
        );
    }

    #[test]
    fn knows_literal_names() {
        assert!(pattern("SNOWFLAKE_KEY").is_literal());
        assert!(!pattern("SNOWFLAKE_*").is_literal());
        assert!(!pattern("SNOWFLAKE_?").is_literal());
        assert_eq!(pattern("Snow*").to_string(), "Snow*");
    }

    #[test]
    fn a_variable_is_protected_for_the_environments_its_scopes_reach() {
        let row = |scope: &str, protected: bool| KnownVariable {
            key: "DB_PASSWORD".to_owned(),
            protected,
            masked: true,
            environment_scope: scope.to_owned(),
        };
        let knowledge = Knowledge {
            project_variables: vec![row("*", true), row("staging", false), row("prod*", true)],
            ..Knowledge::default()
        };
        let protected = |environment| knowledge.is_protected_variable("DB_PASSWORD", environment);
        assert!(
            protected(None),
            "a job without environment gets only the `*` row"
        );
        assert!(
            protected(Some("production")),
            "`*` and `prod*`, both protected"
        );
        assert!(
            !protected(Some("staging")),
            "the staging row is not protected"
        );
        assert!(
            !protected(Some("review/$CI_COMMIT_REF_SLUG")),
            "could be any scope"
        );
        assert!(
            !knowledge.is_protected_variable("OTHER", None),
            "unknown: not known protected"
        );
    }
}
