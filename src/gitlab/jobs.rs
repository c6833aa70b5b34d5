//! Jobs and their logs, for `ciguard scan --gitlab`: the jobs created since a moment
//! (`GET /projects/:id/jobs`, newest first, paged until older ones begin) or those of the last
//! pipelines (`GET /projects/:id/pipelines`, then `GET /projects/:id/pipelines/:id/jobs` with
//! retried jobs), a job's log streamed (`GET /projects/:id/jobs/:job_id/trace`), and erasing a
//! job (`POST /projects/:id/jobs/:job_id/erase`: its log and artifacts).

use reqwest::Method;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::client::{Client, Error, PER_PAGE};

/// What reading job logs needs.
const READ_JOBS: &str = "the Reporter role on the project (or public pipelines) and a token with \
                         the read_api scope";

/// What erasing a job needs.
const ERASE_JOBS: &str = "the Maintainer role on the project (a Developer may erase only their \
                          own jobs) and a token with the api scope";

/// A job, as `GET /projects/:id/jobs` lists it (the fields scan reads).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Job {
    /// The job's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// `created`, `pending`, `running`, `success`, `failed`, `canceled`, `skipped`, `manual`...
    pub status: String,
    /// When it was created (ISO 8601).
    pub created_at: String,
    /// When its log and artifacts were erased, if they were.
    #[serde(default)]
    pub erased_at: Option<String>,
    /// Its page.
    pub web_url: String,
    /// Its pipeline.
    pub pipeline: PipelineRef,
}

impl Job {
    /// Whether it may still write to its log.
    pub fn is_running(&self) -> bool {
        matches!(
            self.status.as_str(),
            "running" | "pending" | "created" | "waiting_for_resource" | "preparing"
        )
    }
}

/// The pipeline a job belongs to.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PipelineRef {
    /// The pipeline's id.
    pub id: u64,
}

/// The jobs of `project` created at or after `since` (`YYYY-MM-DDTHH:MM:SSZ`), newest first.
pub async fn jobs_since(client: &Client, project: &str, since: &str) -> Result<Vec<Job>, Error> {
    let what = format!("project {project}");
    let mut jobs = Vec::new();
    client
        .get_pages(
            &["projects", project, "jobs"],
            &[],
            READ_JOBS,
            &what,
            |page: Vec<Job>| {
                let before = jobs.len();
                jobs.extend(page.into_iter().filter(|job| is_at_or_after(job, since)));
                // Newest first: a page with an older job is the last one needed. A full page
                // of recent jobs asks for the next.
                jobs.len() - before == PER_PAGE
            },
        )
        .await?;
    Ok(jobs)
}

/// Whether `job` was created at or after `since`, comparing the seconds GitLab writes first.
fn is_at_or_after(job: &Job, since: &str) -> bool {
    let seconds = |at: &str| at.get(..19).map(str::to_owned).unwrap_or_default();
    seconds(&job.created_at) >= seconds(since)
}

/// A pipeline, as `GET /projects/:id/pipelines` lists it.
#[derive(Debug, Deserialize)]
struct Pipeline {
    id: u64,
}

/// The jobs (retried ones included) of the last `count` pipelines of `project`.
pub async fn jobs_of_last_pipelines(
    client: &Client,
    project: &str,
    count: usize,
) -> Result<Vec<Job>, Error> {
    let what = format!("project {project}");
    let mut pipelines = Vec::new();
    client
        .get_pages(
            &["projects", project, "pipelines"],
            &[("order_by", "id"), ("sort", "desc")],
            READ_JOBS,
            &what,
            |page: Vec<Pipeline>| {
                pipelines.extend(page.into_iter().map(|p| p.id));
                pipelines.len() < count
            },
        )
        .await?;
    pipelines.truncate(count);
    let mut jobs = Vec::new();
    for pipeline in pipelines {
        let id = pipeline.to_string();
        let listed: Vec<Job> = client
            .get_all_with(
                &["projects", project, "pipelines", &id, "jobs"],
                &[("include_retried", "true")],
                READ_JOBS,
                &format!("pipeline {id} of project {project}"),
            )
            .await?;
        jobs.extend(listed);
    }
    Ok(jobs)
}

/// Streams the log of job `job` of `project` to `on_chunk`.
pub async fn stream_job_log(
    client: &Client,
    project: &str,
    job: u64,
    on_chunk: impl FnMut(&[u8]),
) -> Result<(), Error> {
    let id = job.to_string();
    client
        .get_stream(
            &["projects", project, "jobs", &id, "trace"],
            READ_JOBS,
            &format!("job {id} of project {project}"),
            on_chunk,
        )
        .await
}

/// Erases job `job` of `project`: its log and artifacts.
pub async fn erase_job(client: &Client, project: &str, job: u64) -> Result<(), Error> {
    let id = job.to_string();
    client
        .send_json::<IgnoredAny>(
            Method::POST,
            &["projects", project, "jobs", &id, "erase"],
            &[],
            &serde_json::json!({}),
            ERASE_JOBS,
            &format!("job {id} of project {project}"),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(created_at: &str) -> Job {
        Job {
            id: 1,
            name: "elt".into(),
            status: "success".into(),
            created_at: created_at.into(),
            erased_at: None,
            web_url: String::new(),
            pipeline: PipelineRef { id: 1 },
        }
    }

    #[test]
    fn a_job_is_in_range_by_the_second_it_was_created() {
        let since = "2026-11-06T07:00:00Z";
        assert!(is_at_or_after(&job("2026-11-06T07:00:00.000Z"), since));
        assert!(is_at_or_after(&job("2026-12-01T00:00:00.123Z"), since));
        assert!(!is_at_or_after(&job("2026-11-06T06:59:59.999Z"), since));
    }

    #[test]
    fn a_job_body_as_the_api_lists_it_parses() {
        let body = r#"{"id":7,"name":"tap","status":"running","stage":"elt",
            "created_at":"2026-12-01T10:00:00.000Z","erased_at":null,
            "web_url":"https://gitlab.example.com/data/elt/-/jobs/7",
            "pipeline":{"id":3,"project_id":1,"ref":"main","sha":"a","status":"running"}}"#;
        let job: Job = serde_json::from_str(body).expect("a job");
        assert_eq!(job.pipeline.id, 3);
        assert!(job.is_running());
    }
}
