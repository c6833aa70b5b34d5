//! `include-not-analysed`: includes ciguard does not follow (project, remote, template,
//! component) and local includes that match no file.

use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::lint::ci::pipeline::{Include, IncludeKind};

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "include-not-analysed",
    severity: Severity::Info,
    confidence: Confidence::High,
    summary: "Included configuration was not analysed",
    why: "ciguard lint reads only files of this repository. Jobs, scripts and variables that come from other projects, URLs, templates or components, or from a local file it could not find, were not checked.",
    fix: "Lint the included project too, or vendor the configuration into this repository. Check that a missing local include exists in the branch that runs the pipeline.",
};

fn finding(cx: &Context<'_>, include: &Include, message: String) -> Finding {
    let keyword = include.kind.keyword();
    let target = include.kind.target();
    let logical = format!("include.{keyword}.{target}");
    cx.finding(&RULE, include.node.at, target, logical, message)
}

/// Reports each include that was not followed.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(pipeline) = cx.file() else {
        return;
    };
    for include in &pipeline.includes {
        if !matches!(include.kind, IncludeKind::Local(_)) {
            let message = format!(
                "include:{} `{}` is not analysed",
                include.kind.keyword(),
                include.kind.target()
            );
            out.push(finding(cx, include, message));
        }
    }
    for include in &pipeline.missing_includes {
        let message = format!(
            "include:local `{}` matches no file, so it is not analysed",
            include.kind.target()
        );
        out.push(finding(cx, include, message));
    }
}
