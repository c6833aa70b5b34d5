//! `production-image-unpinned`: a production job runs an image by a tag, not by a digest.

use super::production_job_unprotected::production_because;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::Context;
use crate::yaml::ci::Node;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "production-image-unpinned",
    severity: Severity::Low,
    confidence: Confidence::Medium,
    summary: "A production job runs an image that is not pinned by digest",
    why: "A tag can be moved to another image by whoever can push to the registry; the production job then runs that image with the production credentials, and nothing in the repository changes.",
    fix: "Pin the image by digest (`image: python:3.12@sha256:...`) and update the digest deliberately, for example with Renovate.",
};

/// The image name of an `image:` node (a string or `name:`).
fn image_name(image: &Node) -> Option<&Node> {
    if image.as_str().is_some() {
        Some(image)
    } else {
        image.get("name")
    }
}

/// Reports production jobs whose image has no digest.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (job, _) in cx.jobs() {
        let Some(name_node) = job.get("image").and_then(image_name) else {
            continue;
        };
        let name = name_node.as_str().unwrap_or_default();
        if name.contains("@sha256:") || name.contains('$') || name.is_empty() {
            continue;
        }
        if let Some(because) = production_because(cx, job) {
            let message = format!(
                "job `{}` is a production job ({because}) and runs image `{name}` by tag, not by digest",
                job.name
            );
            out.push(cx.finding(&RULE, name_node.at, name, job.logical("image"), message));
        }
    }
}
