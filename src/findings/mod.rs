//! Findings: what `audit` and `lint` report, and what `report` renders. A leaf: it imports
//! nothing of the crate.
//!
//! A finding never holds a variable's value: only its key, where it is, and why it matters.

pub mod baseline;

use std::fmt;
use std::path::PathBuf;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; not a risk by itself.
    Info,
    /// A weakness that needs another mistake to matter.
    Low,
    /// A risk that matters in some setups.
    Medium,
    /// A credential can leak or be misused.
    High,
    /// A credential is leaking or exposed now.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The severity with this name.
    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure the rule is that the finding is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A pattern that is often harmless.
    Low,
    /// Usually real.
    Medium,
    /// Certain, given the input.
    High,
}

impl Confidence {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// What a rule is, independent of any one finding: listed once per rule in a static registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable kebab-case id, the anchor of its section in `docs/rules.md` or `docs/audit.md`.
    pub id: &'static str,
    /// Severity unless configuration overrides it.
    pub severity: Severity,
    /// How sure the rule usually is.
    pub confidence: Confidence,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
    /// Its findings point at a credential value itself (a literal secret in a file): reports
    /// star out the flagged text in their snippets.
    pub points_at_value: bool,
}

/// Declares one kind's rules (CI rules, Meltano rules, audit checks) the one way rules are
/// added: a module per rule, each with `pub static RULE: Rule` and
/// `pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>)`, listed once, in the order their
/// checks run. Expands to the modules, `Check` (the checks' type), `RULES` and `CHECKS` (in the
/// same order).
///
/// ```text
/// registry!(Context; debug_trace, env_dump);
/// ```
macro_rules! registry {
    ($context:ident; $($rule:ident),* $(,)?) => {
        $(pub mod $rule;)*

        /// A rule's check: reads the context, appends its findings.
        pub type Check = fn(&$context<'_>, &mut Vec<$crate::findings::Finding>);

        /// Every rule of this kind, in the order their checks run.
        pub static RULES: &[&$crate::findings::Rule] = &[$(&$rule::RULE),*];

        /// Every rule's check, in the order of [`RULES`].
        pub static CHECKS: &[Check] = &[$($rule::check),*];
    };
}
pub(crate) use registry;

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// A place in a file of the repository.
    File(FileLocation),
    /// A CI/CD variable or setting read through the GitLab API.
    Api(ApiLocation),
}

/// A place in a file: 1-based line and column, and a logical path that survives edits elsewhere
/// in the file (used for fingerprints).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileLocation {
    /// Relative to the repository root (or as given on the command line).
    pub path: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// 1-based last line of the flagged text (same as `line` for one line).
    pub end_line: u32,
    /// 1-based column just past the flagged text on `end_line`.
    pub end_column: u32,
    /// Where it is in the document's structure, e.g. `deploy.script[2]` or `plugins.extractors[tap-x].config.password`.
    pub logical: String,
}

/// Which level a GitLab object belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiLevel {
    /// Instance-wide (admin).
    Instance,
    /// A group, inherited by its projects.
    Group,
    /// The project itself.
    Project,
}

impl ApiLevel {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiLevel::Instance => "instance",
            ApiLevel::Group => "group",
            ApiLevel::Project => "project",
        }
    }
}

/// A GitLab object: a variable (by key and environment scope) or a setting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiLocation {
    /// Instance, group or project.
    pub level: ApiLevel,
    /// The group or project path (empty for the instance).
    pub owner: String,
    /// The variable key or setting name.
    pub key: String,
    /// The variable's environment scope, if it has one.
    pub environment_scope: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(at) => write!(f, "{}:{}:{}", at.path.display(), at.line, at.column),
            Location::Api(at) => {
                write!(f, "{} {}", at.level.as_str(), at.owner)?;
                write!(f, " {}", at.key)?;
                match &at.environment_scope {
                    Some(scope) => write!(f, " (environment {scope})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that found it.
    pub rule: &'static Rule,
    /// The rule's severity, or what configuration made of it.
    pub severity: Severity,
    /// How sure this finding is.
    pub confidence: Confidence,
    /// One line, specific to this finding (never a value).
    pub message: String,
    /// Where it is.
    pub location: Location,
    /// Why it was suppressed (`# ciguard: ignore[rule] reason`, or configuration), if it was.
    pub suppressed: Option<String>,
    /// The other jobs that run the line it is on (through `extends:`, `!reference`, `default:`
    /// or an anchor): reported once, at the line, naming them. Not part of the fingerprint, so
    /// one more job using a template does not make its findings new.
    pub shared_by: Vec<String>,
}

/// How many of [`Finding::shared_by`] a message names before it counts the rest.
const SHARED_NAMED: usize = 5;

impl Finding {
    /// A finding of `rule` at `location`, with the rule's severity and confidence.
    pub fn new(rule: &'static Rule, location: Location, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.severity,
            confidence: rule.confidence,
            message: message.into(),
            location,
            suppressed: None,
            shared_by: Vec::new(),
        }
    }

    /// The message as reports show it: with the jobs that share its line, if any.
    pub fn text(&self) -> String {
        let Some((last, named)) = self.shared_by.split_last() else {
            return self.message.clone();
        };
        let quote = |names: &[String]| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let jobs = if self.shared_by.len() > SHARED_NAMED {
            let rest = self.shared_by.len() - SHARED_NAMED;
            format!("{} and {rest} more", quote(&self.shared_by[..SHARED_NAMED]))
        } else if named.is_empty() {
            format!("`{last}`")
        } else {
            format!("{} and `{last}`", quote(named))
        };
        format!("{} (also in {jobs})", self.message)
    }

    /// The same finding with another confidence.
    pub fn with_confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    /// The same finding with another severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// A stable id for this finding: its rule, file (or API object) and logical location, so it
    /// survives edits elsewhere in the file. Hex of a 64-bit FNV-1a hash.
    pub fn fingerprint(&self) -> String {
        let mut hash = Fnv::default();
        hash.write(self.rule.id.as_bytes());
        match &self.location {
            Location::File(at) => {
                // `./x.yml` and `x.yml` are the same file.
                let path: PathBuf = at
                    .path
                    .components()
                    .filter(|c| *c != std::path::Component::CurDir)
                    .collect();
                hash.write(path.to_string_lossy().as_bytes());
                hash.write(at.logical.as_bytes());
            }
            Location::Api(at) => {
                hash.write(at.level.as_str().as_bytes());
                hash.write(at.owner.as_bytes());
                hash.write(at.key.as_bytes());
                hash.write(at.environment_scope.as_deref().unwrap_or("").as_bytes());
            }
        }
        hash.write(self.message.as_bytes());
        format!("{:016x}", hash.0)
    }
}

/// 64-bit FNV-1a: stable across Rust versions and platforms (unlike `DefaultHasher`).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// The check name reports give an input that could not be analysed.
pub const NOT_ANALYSED: &str = "not-analysed";

/// An input that could not be analysed (unreadable, not valid YAML, over a limit). No finding
/// about it means nothing, so every report format says it was not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanalysed {
    /// The file, as given or as found by following includes.
    pub path: PathBuf,
    /// 1-based line and column of the problem, when known.
    pub position: Option<(u32, u32)>,
    /// What is wrong and what to do (never a value from the file).
    pub reason: String,
}

impl Unanalysed {
    /// Stable while the file stays unanalysable for the same reason.
    pub fn fingerprint(&self) -> String {
        let mut hash = Fnv::default();
        hash.write(NOT_ANALYSED.as_bytes());
        hash.write(self.path.to_string_lossy().as_bytes());
        hash.write(self.reason.as_bytes());
        format!("{:016x}", hash.0)
    }
}

/// A rule that could not be judged for one project, because what it needs was not available
/// (the tier lacks it, the role cannot see it): said in every report, never taken as clean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    /// The rule.
    pub rule: &'static Rule,
    /// The project it was not judged for.
    pub project: String,
    /// Why (never a value).
    pub reason: String,
}

/// The findings of one run, sorted by location then rule, and the inputs it could not analyse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingSet {
    findings: Vec<Finding>,
    unanalysed: Vec<Unanalysed>,
    unchecked: Vec<Unchecked>,
}

impl FindingSet {
    /// Collects and sorts `findings`.
    pub fn new(mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| {
            (&a.location, a.rule.id, &a.message).cmp(&(&b.location, b.rule.id, &b.message))
        });
        findings.dedup_by(|a, b| {
            a.rule.id == b.rule.id && a.location == b.location && a.message == b.message
        });
        FindingSet {
            findings,
            unanalysed: Vec::new(),
            unchecked: Vec::new(),
        }
    }

    /// The same findings, with the inputs that could not be analysed.
    #[must_use]
    pub fn with_unanalysed(mut self, unanalysed: Vec<Unanalysed>) -> Self {
        self.unanalysed = unanalysed;
        self
    }

    /// The inputs that could not be analysed.
    pub fn unanalysed(&self) -> &[Unanalysed] {
        &self.unanalysed
    }

    /// The same findings, with the rules that could not be judged.
    #[must_use]
    pub fn with_unchecked(mut self, mut unchecked: Vec<Unchecked>) -> Self {
        unchecked.sort_by(|a, b| (&a.project, a.rule.id).cmp(&(&b.project, b.rule.id)));
        self.unchecked = unchecked;
        self
    }

    /// The rules that could not be judged, by project.
    pub fn unchecked(&self) -> &[Unchecked] {
        &self.unchecked
    }

    /// Every finding, suppressed ones included.
    pub fn all(&self) -> &[Finding] {
        &self.findings
    }

    /// The findings not suppressed.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    /// How many were suppressed.
    pub fn suppressed_count(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.suppressed.is_some())
            .count()
    }

    /// Whether an active finding is at or above `threshold` (`None`: never fail).
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| self.active().any(|f| f.severity >= t))
    }

    /// Active findings per severity, lowest first.
    pub fn counts(&self) -> [(Severity, usize); 5] {
        Severity::ALL.map(|s| (s, self.active().filter(|f| f.severity == s).count()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_line_names_the_other_jobs_and_counts_the_rest() {
        let mut finding = Finding::new(&RULE, at(1, ".t.script[0]"), "template `.t`: `env`");
        let plain = finding.fingerprint();
        assert_eq!(finding.text(), "template `.t`: `env`");
        finding.shared_by = vec!["a".into(), "b".into()];
        assert_eq!(finding.text(), "template `.t`: `env` (also in `a` and `b`)");
        finding.shared_by = (1..=7).map(|n| format!("j{n}")).collect();
        assert!(
            finding.text().ends_with("`j4`, `j5` and 2 more)"),
            "{}",
            finding.text()
        );
        assert_eq!(
            finding.fingerprint(),
            plain,
            "who shares a line is not in the fingerprint"
        );
    }

    static RULE: Rule = Rule {
        points_at_value: false,
        id: "debug-trace",
        severity: Severity::High,
        confidence: Confidence::High,
        summary: "CI_DEBUG_TRACE is on",
        why: "it prints every variable",
        fix: "remove it",
    };

    fn at(line: u32, logical: &str) -> Location {
        Location::File(FileLocation {
            path: PathBuf::from(".gitlab-ci.yml"),
            line,
            column: 3,
            end_line: line,
            end_column: 10,
            logical: logical.into(),
        })
    }

    #[test]
    fn fingerprints_survive_line_moves_and_differ_by_place() {
        let a = Finding::new(&RULE, at(4, "deploy.variables.CI_DEBUG_TRACE"), "m");
        let moved = Finding::new(&RULE, at(40, "deploy.variables.CI_DEBUG_TRACE"), "m");
        let other = Finding::new(&RULE, at(4, "test.variables.CI_DEBUG_TRACE"), "m");
        assert_eq!(a.fingerprint(), moved.fingerprint());
        assert_ne!(a.fingerprint(), other.fingerprint());
        assert_eq!(a.fingerprint().len(), 16);
        let mut dotted = a.clone();
        if let Location::File(at) = &mut dotted.location {
            at.path = PathBuf::from("./.gitlab-ci.yml");
        }
        assert_eq!(a.fingerprint(), dotted.fingerprint());
    }

    #[test]
    fn fail_threshold_ignores_suppressed_findings() {
        let mut suppressed = Finding::new(&RULE, at(1, "a"), "m");
        suppressed.suppressed = Some("known".into());
        let low = Finding::new(&RULE, at(2, "b"), "m").with_severity(Severity::Low);
        let set = FindingSet::new(vec![suppressed, low]);
        assert!(!set.fails(Some(Severity::High)));
        assert!(set.fails(Some(Severity::Low)));
        assert!(!set.fails(None));
        assert_eq!(set.suppressed_count(), 1);
        assert_eq!(set.counts()[1], (Severity::Low, 1));
    }

    #[test]
    fn severities_order_and_round_trip() {
        assert!(Severity::Info < Severity::Critical);
        for s in Severity::ALL {
            assert_eq!(Severity::from_name(s.as_str()), Some(s));
        }
    }
}
