//! Synthetic findings shared by the format tests: every severity, file and API locations, a
//! suppressed finding, text that needs escaping, and a rule that ran without findings.

use std::path::{Path, PathBuf};

use super::{Context, Format};
use crate::findings::{
    ApiLevel, ApiLocation, Confidence, FileLocation, Finding, FindingSet, Location, Rule, Severity,
};

/// A credential value in the source that no report may show.
pub const VALUE: &str = "hunter2-secret";

pub const SOURCE: &str = "include:
  - remote: https://example.com/ci.yml
variables:
  CI_DEBUG_TRACE: \"true\"
  DB_PASSWORD: hunter2-secret
deploy:
  script:
    - set -x
    - ./deploy.sh
";

const fn rule(id: &'static str, severity: Severity, summary: &'static str) -> Rule {
    Rule {
        id,
        points_at_value: false,
        severity,
        confidence: Confidence::High,
        summary,
        why: "it can leak a credential",
        fix: "remove it",
    }
}

static DEBUG_TRACE: Rule = rule("debug-trace", Severity::High, "CI_DEBUG_TRACE is on");
static XTRACE: Rule = rule("xtrace", Severity::Medium, "set -x & <credentials>");
static REMOTE: Rule = rule("remote-include", Severity::Info, "include not analysed");
static MR_JOB: Rule = rule("mr-credentials", Severity::Low, "credential in MR job");
static UNPROTECTED: Rule = rule(
    "unprotected",
    Severity::Critical,
    "credential not protected",
);
static ENV_DUMP: Rule = rule("env-dump", Severity::High, "environment dumped");

/// Every rule that ran, `env-dump` without findings.
pub static RULES: [&Rule; 6] = [
    &DEBUG_TRACE,
    &XTRACE,
    &REMOTE,
    &MR_JOB,
    &UNPROTECTED,
    &ENV_DUMP,
];

fn at(line: u32, column: u32, end_column: u32, logical: &str) -> Location {
    Location::File(FileLocation {
        path: PathBuf::from("./.gitlab-ci.yml"),
        line,
        column,
        end_line: line,
        end_column,
        logical: logical.into(),
    })
}

/// Five findings, one per severity; the low one suppressed.
pub fn findings() -> FindingSet {
    let mut suppressed = Finding::new(&MR_JOB, at(9, 7, 18, "deploy.script[1]"), "runs in MRs");
    suppressed.suppressed = Some("reviewed in #12".into());
    let api = Location::Api(ApiLocation {
        level: ApiLevel::Project,
        owner: "group/proj".into(),
        key: "DB_PASSWORD".into(),
        environment_scope: Some("production".into()),
    });
    FindingSet::new(vec![
        Finding::new(
            &DEBUG_TRACE,
            at(4, 3, 25, "variables.CI_DEBUG_TRACE"),
            "CI_DEBUG_TRACE is \"true\" for every job",
        ),
        Finding::new(
            &XTRACE,
            at(8, 7, 13, "deploy.script[0]"),
            "`set -x` & $DB_PASSWORD in <deploy>",
        ),
        Finding::new(
            &REMOTE,
            at(2, 5, 40, "include[0]"),
            "remote include not analysed",
        ),
        Finding::new(
            &UNPROTECTED,
            api,
            "DB_PASSWORD reaches unprotected branches",
        ),
        suppressed,
    ])
}

/// `findings` rendered by `ciguard lint` with the fixture source.
pub fn render(format: Format, findings: &FindingSet, color: bool) -> String {
    let sources = [(Path::new("./.gitlab-ci.yml"), SOURCE)];
    let context = Context {
        tool: "ciguard lint",
        version: "0.1.0",
        sources: &sources,
        rules: &RULES,
        color,
    };
    let mut out = Vec::new();
    super::write(format, findings, &context, &mut out).expect("writing to a Vec");
    String::from_utf8(out).expect("UTF-8")
}

/// The findings of `findings()` whose rule is one of `ids`.
pub fn only(ids: &[&str]) -> FindingSet {
    let all = findings().all().to_vec();
    FindingSet::new(
        all.into_iter()
            .filter(|f| ids.contains(&f.rule.id))
            .collect(),
    )
}

/// The fixture findings, with one file that could not be analysed.
pub fn with_unanalysed() -> FindingSet {
    findings().with_unanalysed(vec![crate::findings::Unanalysed {
        path: PathBuf::from("ci/broken.yml"),
        position: Some((3, 7)),
        reason: "invalid YAML: unclosed bracket".to_owned(),
    }])
}
