//! What tells whether code is reviewed before it runs with protected credentials: the merge
//! request approval settings and rules (Premium), the job token's inbound allowlist, and the
//! default branch's `CODEOWNERS`, CI configuration and `meltano.yml`. What the tier or the role
//! does not give is [`Unavailable`] with why, never a failure of the audit.

use super::client::{Client, Error, PROJECT_MAINTAINER, needs_premium};
use crate::gitlab::types::{
    CODE_OWNERS_PATHS, DEFAULT_CI_CONFIG, ProjectSettings, ProtectedBranch, ReviewedFiles, Reviews,
    Unavailable,
};

/// Why a Premium endpoint gave nothing.
const PREMIUM: &str = "GitLab answered 403 or 404: it needs GitLab Premium or Ultimate";

/// Reads everything [`Reviews`] holds for `project`; the files only when the default branch's
/// protection requires code-owner approval.
pub async fn fetch_reviews(
    client: &Client,
    project: &str,
    settings: &ProjectSettings,
    protected_branches: &[ProtectedBranch],
) -> Result<Reviews, Error> {
    let what = format!("project {project}");
    let approvals_path = ["projects", project, "approvals"];
    let rules_path = ["projects", project, "approval_rules"];
    let scope_path = ["projects", project, "job_token_scope"];
    let (approvals, approval_rules, job_token_scope) = tokio::try_join!(
        optional(
            client.get(&approvals_path, PROJECT_MAINTAINER, &what),
            PREMIUM,
        ),
        optional(
            client.get_all(&rules_path, PROJECT_MAINTAINER, &what),
            PREMIUM,
        ),
        optional(
            client.get(&scope_path, PROJECT_MAINTAINER, &what),
            "GitLab answered 403 or 404 (an instance older than 16.1, or a role that cannot \
             see it)",
        ),
    )?;
    let files = match settings.default_branch.as_deref().filter(|b| !b.is_empty()) {
        // Who owns the files matters only when code owners must approve: otherwise the
        // requests are saved (a group audit reads thousands of projects).
        Some(branch) if code_owners_approve(branch, protected_branches) => {
            reviewed_files(client, project, branch, settings).await?
        }
        Some(_) => Err(Unavailable(
            "not read: code owner approval is not required on the default branch".to_owned(),
        )),
        None => Err(Unavailable(
            "the repository has no default branch to read `CODEOWNERS` from".to_owned(),
        )),
    };
    Ok(Reviews {
        approvals,
        approval_rules,
        job_token_scope,
        files,
    })
}

/// Whether the protected branch rule of `branch` requires code-owner approval.
fn code_owners_approve(branch: &str, rules: &[ProtectedBranch]) -> bool {
    ProtectedBranch::rule_for(rules, branch)
        .is_some_and(|rule| rule.code_owner_approval_required == Some(true))
}

/// The answer, or [`Unavailable`] with `why` when GitLab refuses as it does for a tier or role.
async fn optional<T>(
    request: impl Future<Output = Result<T, Error>>,
    why: &str,
) -> Result<Result<T, Unavailable>, Error> {
    match request.await {
        Ok(answer) => Ok(Ok(answer)),
        Err(err) if needs_premium(&err) => Ok(Err(Unavailable(why.to_owned()))),
        Err(err) => Err(err),
    }
}

/// The files of `branch` that say who reviews the pipeline.
async fn reviewed_files(
    client: &Client,
    project: &str,
    branch: &str,
    settings: &ProjectSettings,
) -> Result<Result<ReviewedFiles, Unavailable>, Error> {
    let mut files = ReviewedFiles::default();
    for path in CODE_OWNERS_PATHS {
        match file(client, project, branch, path).await? {
            Ok(Some(text)) => {
                files.code_owners = Some((path.to_owned(), text));
                break;
            }
            Ok(None) => {}
            Err(unavailable) => return Ok(Err(unavailable)),
        }
    }
    let ci_config = settings
        .ci_config_path
        .as_deref()
        .filter(|path| !path.is_empty())
        .unwrap_or(DEFAULT_CI_CONFIG);
    // `path@group/project` or a URL: the configuration lives elsewhere.
    if !ci_config.contains('@') && !ci_config.contains("://") {
        let ci_config = ci_config.trim_start_matches('/');
        if let Ok(Some(text)) = file(client, project, branch, ci_config).await? {
            files.ci_config = Some((ci_config.to_owned(), text));
        }
    }
    files.meltano = matches!(
        file(client, project, branch, "meltano.yml").await?,
        Ok(Some(_))
    );
    Ok(Ok(files))
}

/// `GET /projects/:id/repository/files/:path/raw?ref=branch`: the text, `None` when the file
/// is not there, [`Unavailable`] when the repository cannot be read.
async fn file(
    client: &Client,
    project: &str,
    branch: &str,
    path: &str,
) -> Result<Result<Option<String>, Unavailable>, Error> {
    let what = format!("file {path} of project {project}");
    let segments = ["projects", project, "repository", "files", path, "raw"];
    match client
        .get_text(&segments, &[("ref", branch)], PROJECT_MAINTAINER, &what)
        .await
    {
        Ok(text) => Ok(Ok(Some(text))),
        Err(Error::NotFound { .. }) => Ok(Ok(None)),
        Err(Error::Forbidden { .. }) => Ok(Err(Unavailable(
            "GitLab answered 403 to reading the repository: the token needs read_api (or \
             read_repository) and a role that can read the code"
                .to_owned(),
        ))),
        Err(err) => Err(err),
    }
}
