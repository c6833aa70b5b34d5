//! The HTTP client: one authenticated request (GET, or POST, PUT or PATCH with a JSON body) with
//! retries, and offset pagination over GET.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;
use tokio::time::Instant;

use crate::secret::Secret;

/// Items asked for per page (GitLab's maximum).
pub const PER_PAGE: usize = 100;
/// Pages followed at most for one list (100,000 items): a guard against a server that never
/// says "last page".
const MAX_PAGES: u32 = 1_000;
/// Attempts at one request (the first and its retries).
const MAX_ATTEMPTS: u32 = 5;
/// The longest wait before a retry, whatever the server asks for.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// The first backoff after a 5xx or a transport error; doubled at each retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Limits of one request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest silence in the middle of a streamed answer.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a streamed answer may take to begin, retries included.
const STREAM_START_LIMIT: Duration = Duration::from_secs(600);
/// A streamed answer has no overall limit beyond this (a day).
const STREAM_LIMIT: Duration = Duration::from_secs(86_400);
/// How much of a server's error message is quoted.
const MAX_QUOTED: usize = 200;

/// A GitLab token, from `GITLAB_TOKEN` or `--token-file`.
pub type Token = Secret<String>;

/// Why no usable token was found; never quotes the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Neither source was given, but the job token was.
    #[error(
        "only CI_JOB_TOKEN is set, and a job token cannot read CI/CD variables, protected \
         branches or project settings: give a personal, project or group access token \
         (Maintainer role, read_api scope) in GITLAB_TOKEN or --token-file"
    )]
    JobTokenOnly,
    /// Neither source was given.
    #[error(
        "no GitLab token: set GITLAB_TOKEN or give --token-file PATH (a personal, project or \
         group access token with the Maintainer role and the read_api scope)"
    )]
    Missing,
    /// The token file could not be read.
    #[error("cannot read the token file {path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Empty, or holding characters no HTTP header can carry.
    #[error("the GitLab token from {0} is empty or holds characters an HTTP header cannot carry")]
    Invalid(&'static str),
}

/// The token: `--token-file` when given, else `GITLAB_TOKEN`; `job_token` tells whether
/// `CI_JOB_TOKEN` is set, for a clear error when it is the only one.
pub fn resolve_token(
    token_file: Option<&Path>,
    env_token: Option<String>,
    job_token: bool,
) -> Result<Token, TokenError> {
    let (token, source) = match (token_file, env_token) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|source| TokenError::Unreadable {
                path: path.display().to_string(),
                source,
            })?;
            (text.trim().to_owned(), "--token-file")
        }
        (None, Some(token)) if !token.is_empty() => (token, "GITLAB_TOKEN"),
        (None, _) if job_token => return Err(TokenError::JobTokenOnly),
        (None, _) => return Err(TokenError::Missing),
    };
    if token.is_empty() || HeaderValue::from_str(&token).is_err() {
        return Err(TokenError::Invalid(source));
    }
    Ok(Secret::new(token))
}

/// An API failure: the request, the status and what to do. Never holds the token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The base URL is not an http(s) URL (not repeated: it may carry a token as its user info).
    #[error(
        "the GitLab URL (--gitlab-url, GITLAB_URL or CI_SERVER_URL) is not an http:// or https:// \
         URL, e.g. https://gitlab.example.com"
    )]
    BadUrl,
    /// The token cannot be sent.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// 401.
    #[error(
        "GitLab answered 401 Unauthorized to {path}: the token is invalid, expired or \
         revoked; create a new one and pass it in GITLAB_TOKEN or --token-file"
    )]
    Unauthorized {
        /// The request's method and path, e.g. `GET /api/v4/projects/1`.
        path: String,
    },
    /// 403.
    #[error("GitLab answered 403 Forbidden to {path}{message}: this needs {needs}")]
    Forbidden {
        /// The request's method and path, e.g. `GET /api/v4/projects/1`.
        path: String,
        /// The role and token scope the call needs.
        needs: &'static str,
        /// The server's message, quoted as `: "..."` (or empty).
        message: String,
    },
    /// 404.
    #[error(
        "GitLab answered 404 Not Found to {path}{message}: {what} does not exist or is not \
         visible to the token's user; check the ID or path and that the user is a member"
    )]
    NotFound {
        /// The request's method and path, e.g. `GET /api/v4/projects/1`.
        path: String,
        /// What was looked for.
        what: String,
        /// The server's message.
        message: String,
    },
    /// Any other status, after retries where they apply.
    #[error("GitLab answered {status} to {path}{message}{advice}")]
    Status {
        /// The request's method and path, e.g. `GET /api/v4/projects/1`.
        path: String,
        /// The status.
        status: StatusCode,
        /// The server's message.
        message: String,
        /// What to do, e.g. after retries.
        advice: &'static str,
    },
    /// No answer (connection, TLS, timeout), after retries.
    #[error("{path} failed: {reason}; check the GitLab URL and the network")]
    Transport {
        /// The request's method and path, e.g. `GET /api/v4/projects/1`.
        path: String,
        /// Why (reqwest's error without the URL).
        reason: String,
    },
    /// An answer that is not what the API returns.
    #[error(
        "GitLab's answer to {path} is not what the API returns ({reason}); check that the \
         GitLab URL points to GitLab"
    )]
    Body {
        /// The request's method and path, e.g. `GET /api/v4/projects/1`.
        path: String,
        /// Why, never quoting the body.
        reason: String,
    },
}

/// An authenticated client for one GitLab instance.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    api: Url,
    token: HeaderValue,
    /// When the instance said its rate limit is used up: no request leaves before this (its
    /// `RateLimit-Reset`). Shared by every clone of the client.
    paused_until: Arc<Mutex<Option<Instant>>>,
    /// Requests sent and not answered yet, by every clone of the client.
    in_flight: Arc<AtomicUsize>,
    /// What the latest answer said of the rate limit, shared by every clone of the client.
    budget: Arc<Mutex<Budget>>,
}

/// The rate limit as the latest answer's `RateLimit-*` headers give it: no more requests are
/// sent at once than it has left, so a project's requests going out together never spend
/// requests on 429s.
#[derive(Debug, Default)]
struct Budget {
    /// `RateLimit-Remaining`: requests left in the window (`None`: no limit announced).
    remaining: Option<usize>,
    /// `RateLimit-Reset`: when the window ends (`None`: a new window, until an answer says).
    window_end: Option<Instant>,
    /// The same as Unix seconds, as the answers say it: answers of one window compare equal.
    window_reset: Option<u64>,
}

impl Budget {
    /// How long a request must wait with `in_flight` requests unanswered (`None`: it may go).
    /// With none in flight a request always goes: no answer would come to lift the wait (a
    /// used-up limit pauses the client until its reset, see `note_rate_limit`).
    fn wait(&mut self, in_flight: usize, now: Instant) -> Option<Duration> {
        if self.window_end.is_some_and(|end| now >= end) {
            // A new window: nothing more goes out while requests are in flight, until the
            // first answer of the new window says what is left of it.
            self.remaining = Some(0);
            self.window_end = None;
            self.window_reset = None;
        }
        if in_flight == 0 || in_flight < self.remaining? {
            return None;
        }
        let wait = self
            .window_end
            .map_or(BUDGET_POLL, |end| end.saturating_duration_since(now));
        Some(wait.clamp(Duration::from_millis(1), MAX_WAIT))
    }
}

/// How often a request waiting for a new window's first answer looks again.
const BUDGET_POLL: Duration = Duration::from_millis(5);

/// One successful answer.
struct Page {
    headers: HeaderMap,
    /// The body, read whole ([`Delivery::Whole`]).
    body: Vec<u8>,
    /// The answer whose body is still to be read ([`Delivery::Streamed`]).
    response: Option<reqwest::Response>,
}

/// How a successful answer's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Whole, within [`REQUEST_TIMEOUT`].
    Whole,
    /// By the caller, piece by piece.
    Streamed,
}

/// What a 403 on a project endpoint lacks.
pub(super) const PROJECT_MAINTAINER: &str = "the Maintainer role on the project and a token with the \
                                  read_api (or api) scope";

/// What a 403 on a change to a project lacks.
pub(super) const PROJECT_MAINTAINER_API: &str = "the Maintainer role on the project and a token \
                                                 with the api scope (read_api cannot change it)";

/// Whether `err` is the way GitLab refuses a Premium endpoint (403 or 404) on Free, or to a user
/// without the role: the caller says so and goes on.
pub fn needs_premium(err: &Error) -> bool {
    matches!(err, Error::Forbidden { .. } | Error::NotFound { .. })
}

impl Client {
    /// `METHOD segments` with `body`, a change to the project (Maintainer, api scope); the answer
    /// is not read.
    pub(super) async fn change(
        &self,
        method: Method,
        segments: &[&str],
        body: &serde_json::Value,
        what: &str,
    ) -> Result<(), Error> {
        self.send_json::<IgnoredAny>(method, segments, &[], body, PROJECT_MAINTAINER_API, what)
            .await?;
        Ok(())
    }

    /// A client for the instance at `url` (e.g. `https://gitlab.com`); sends nothing yet.
    pub fn new(url: &str, token: &Token) -> Result<Self, Error> {
        let bad_url = || Error::BadUrl;
        let mut api = Url::parse(url).map_err(|_| bad_url())?;
        if !matches!(api.scheme(), "http" | "https") || api.cannot_be_a_base() {
            return Err(bad_url());
        }
        api.path_segments_mut()
            .map_err(|()| bad_url())?
            .pop_if_empty()
            .extend(["api", "v4"]);
        let mut token =
            HeaderValue::from_str(token.expose()).map_err(|_| TokenError::Invalid("the token"))?;
        token.set_sensitive(true);
        let http = reqwest::Client::builder()
            .user_agent(concat!("ciguard/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // A redirect would carry `PRIVATE-TOKEN` to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| Error::Setup(describe(err)))?;
        Ok(Self {
            http,
            api,
            token,
            paused_until: Arc::default(),
            in_flight: Arc::default(),
            budget: Arc::default(),
        })
    }

    /// `GET segments` (each URL-encoded, so a path `a/b` becomes `a%2Fb`) as one object.
    /// `needs` says which role and scope a 403 lacks; `what` names the thing a 404 missed.
    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        needs: &'static str,
        what: &str,
    ) -> Result<T, Error> {
        let url = self.url(segments, None);
        let page = self.send(&Method::GET, &url, None, needs, what).await?;
        parse(&display_path(&Method::GET, &url), &page.body)
    }

    /// `GET segments?query` as text (a repository file's raw content; invalid UTF-8 replaced);
    /// `needs` and `what` as for [`Client::get`].
    pub async fn get_text(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        needs: &'static str,
        what: &str,
    ) -> Result<String, Error> {
        let mut url = self.url(segments, None);
        url.query_pairs_mut().extend_pairs(query);
        let page = self.send(&Method::GET, &url, None, needs, what).await?;
        Ok(String::from_utf8_lossy(&page.body).into_owned())
    }

    /// `METHOD segments?query` (POST, PUT or PATCH) with `body` as JSON; the answer read as
    /// `T`. PUT and PATCH are retried like a GET (they are idempotent); a POST is not retried after a 5xx or a timeout (the first attempt may have created
    /// the thing); `needs` and `what` as for [`Client::get`].
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: &serde_json::Value,
        needs: &'static str,
        what: &str,
    ) -> Result<T, Error> {
        let mut url = self.url(segments, None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let body = body.to_string().into_bytes();
        let answer = self.send(&method, &url, Some(&body), needs, what).await?;
        parse(&display_path(&method, &url), &answer.body)
    }

    /// `GET segments` as a list, every page of it: `per_page=100`, following `x-next-page`
    /// (or, without that header, until a short page).
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        needs: &'static str,
        what: &str,
    ) -> Result<Vec<T>, Error> {
        self.get_all_with(segments, &[], needs, what).await
    }

    /// [`get_all`](Self::get_all) with these query parameters added to each page's request.
    pub async fn get_all_with<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        needs: &'static str,
        what: &str,
    ) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        self.get_pages(segments, query, needs, what, |items| {
            all.extend(items);
            true
        })
        .await?;
        Ok(all)
    }

    /// `GET segments?query` page by page, as [`get_all`](Self::get_all) does, giving each page
    /// to `on_page`, until the last page or until `on_page` answers `false`.
    pub async fn get_pages<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        needs: &'static str,
        what: &str,
        mut on_page: impl FnMut(Vec<T>) -> bool,
    ) -> Result<(), Error> {
        let mut page = 1;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(segments, Some(page));
            url.query_pairs_mut().extend_pairs(query);
            let answer = self.send(&Method::GET, &url, None, needs, what).await?;
            let items: Vec<T> = parse(&display_path(&Method::GET, &url), &answer.body)?;
            let full = items.len() >= PER_PAGE;
            if !on_page(items) {
                return Ok(());
            }
            let next = match answer.headers.get("x-next-page") {
                Some(next) => next
                    .to_str()
                    .ok()
                    .and_then(|n| n.trim().parse::<u32>().ok()),
                None => full.then_some(page + 1),
            };
            match next {
                Some(next) if next > page => page = next,
                _ => return Ok(()),
            }
        }
        Err(Error::Body {
            path: display_path(&Method::GET, &self.url(segments, None)),
            reason: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// `GET segments` with its body given to `on_chunk` piece by piece as it arrives, never held
    /// whole (a job log may be larger than memory). Retried as [`get`](Self::get) until the
    /// body begins; a failure after that is a [`Error::Transport`]. No overall time limit: only
    /// [`STALL_TIMEOUT`] between pieces.
    pub async fn get_stream(
        &self,
        segments: &[&str],
        needs: &'static str,
        what: &str,
        mut on_chunk: impl FnMut(&[u8]),
    ) -> Result<(), Error> {
        let url = self.url(segments, None);
        let path = display_path(&Method::GET, &url);
        let answer = self.send_with(&Method::GET, &url, None, needs, what, Delivery::Streamed);
        let page = tokio::time::timeout(STREAM_START_LIMIT, answer)
            .await
            .map_err(|_| Error::Transport {
                path: path.clone(),
                reason: format!(
                    "no answer within {} s, retries included",
                    STREAM_START_LIMIT.as_secs()
                ),
            })??;
        let mut response = page.response.ok_or_else(|| Error::Body {
            path: path.clone(),
            reason: "no body".to_owned(),
        })?;
        loop {
            let chunk = tokio::time::timeout(STALL_TIMEOUT, response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => on_chunk(&bytes),
                Ok(Ok(None)) => return Ok(()),
                Ok(Err(err)) => {
                    return Err(Error::Transport {
                        path,
                        reason: describe(err),
                    });
                }
                Err(_) => {
                    return Err(Error::Transport {
                        path,
                        reason: format!(
                            "no data for {} s in the middle of the answer",
                            STALL_TIMEOUT.as_secs()
                        ),
                    });
                }
            }
        }
    }

    fn url(&self, segments: &[&str], page: Option<u32>) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(segments);
        }
        if let Some(page) = page {
            url.query_pairs_mut()
                .append_pair("per_page", &PER_PAGE.to_string())
                .append_pair("page", &page.to_string());
        }
        url
    }

    /// Sends one request (with `body` as JSON when given), retrying 429 (after `Retry-After` or
    /// `RateLimit-Reset`), 5xx and transport errors with a doubling backoff, at most
    /// [`MAX_ATTEMPTS`] times. A POST is retried only when it surely was not performed: after a
    /// 429 or a failed connection.
    async fn send(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        needs: &'static str,
        what: &str,
    ) -> Result<Page, Error> {
        self.send_with(method, url, body, needs, what, Delivery::Whole)
            .await
    }

    /// [`send`](Self::send), the body of a successful answer read as `delivery` says.
    async fn send_with(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        needs: &'static str,
        what: &str,
        delivery: Delivery,
    ) -> Result<Page, Error> {
        let path = display_path(method, url);
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        let idempotent = *method != Method::POST;
        loop {
            attempt += 1;
            let last = attempt >= MAX_ATTEMPTS;
            self.wait_for_rate_limit().await;
            let answer = self.send_once(method, url, body, delivery).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if let Ok(answer) = &answer {
                self.note_rate_limit(&answer.headers);
            }
            let wait = match answer {
                Ok(answer) if answer.status.is_success() => {
                    return Ok(Page {
                        headers: answer.headers,
                        body: answer.body,
                        response: answer.response,
                    });
                }
                Ok(Answer {
                    status, headers, ..
                }) if !last && status == StatusCode::TOO_MANY_REQUESTS => rate_limit_wait(&headers)
                    .filter(|wait| !wait.is_zero())
                    .unwrap_or(backoff),
                Ok(Answer { status, .. }) if !last && idempotent && status.is_server_error() => {
                    backoff
                }
                Ok(Answer { status, body, .. }) => {
                    let mut err = failure(path, status, &body, needs, what);
                    if let Error::Status { advice, .. } = &mut err
                        && !idempotent
                        && status.is_server_error()
                    {
                        *advice = "; a POST is not retried (GitLab may have performed it): \
                                   run again to see whether it did";
                    }
                    return Err(err);
                }
                Err(err) if !last && (err.is_connect() || (idempotent && err.is_timeout())) => {
                    backoff
                }
                Err(err) => {
                    return Err(Error::Transport {
                        path,
                        reason: describe(err),
                    });
                }
            };
            tokio::time::sleep(wait).await;
            backoff *= 2;
        }
    }

    /// Waits while the instance's rate limit is used up, or while the requests in flight would
    /// use up what is left of it; then counts this request in flight.
    async fn wait_for_rate_limit(&self) {
        loop {
            let until = *self
                .paused_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(until) = until {
                tokio::time::sleep_until(until).await;
            }
            let wait = self
                .budget
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .wait(self.in_flight.load(Ordering::SeqCst), Instant::now());
            match wait {
                None => {
                    self.in_flight.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// After an answer whose `RateLimit-Remaining` the requests already in flight will use up,
    /// pauses every further request until its `RateLimit-Reset`, instead of spending them on
    /// 429s.
    fn note_rate_limit(&self, headers: &HeaderMap) {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let remaining = number("ratelimit-remaining").and_then(|n| usize::try_from(n).ok());
        let reset = number("ratelimit-reset");
        // How long the answer's window has left; `None`: it is over (the answer was on its way
        // while the window turned) and says nothing of the current one.
        let left = reset.map(|reset| {
            (UNIX_EPOCH + Duration::from_secs(reset))
                .duration_since(SystemTime::now())
                .ok()
        });
        if remaining.is_some() && !matches!(left, Some(None)) {
            let mut budget = self.budget.lock().unwrap_or_else(PoisonError::into_inner);
            match budget.window_reset.zip(reset) {
                // Answers of one window arrive in any order: the fewest left is the truth.
                Some((current, answer)) if answer == current => {
                    budget.remaining = budget.remaining.min(remaining);
                }
                Some((current, answer)) if answer < current => {}
                _ => {
                    budget.remaining = remaining;
                    budget.window_reset = reset;
                    budget.window_end = left.flatten().map(|left| Instant::now() + left);
                }
            }
        }
        let in_flight = self.in_flight.load(Ordering::SeqCst);
        if remaining.is_none_or(|remaining| remaining > in_flight) {
            return;
        }
        let Some(wait) = rate_limit_wait(headers) else {
            return;
        };
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// One request: status, headers, and the whole body or the response to stream it from.
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        delivery: Delivery,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header("PRIVATE-TOKEN", self.token.clone());
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        if delivery == Delivery::Streamed {
            request = request.timeout(STREAM_LIMIT);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        if delivery == Delivery::Streamed && status.is_success() {
            return Ok(Answer {
                status,
                headers,
                body: Vec::new(),
                response: Some(response),
            });
        }
        let body = response.bytes().await?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
            response: None,
        })
    }
}

/// One answer: status, headers, and the body read whole or left in the response to stream.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    response: Option<reqwest::Response>,
}

/// A transport error with its causes (e.g. "connection refused"), without the URL.
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The request's method and path, for messages (the host is the user's own setting; the query
/// is left out).
fn display_path(method: &Method, url: &Url) -> String {
    format!("{method} {}", url.path())
}

/// How long a 429 asks to wait: `Retry-After` seconds, else until `RateLimit-Reset` (Unix
/// seconds; zero when past); at most [`MAX_WAIT`].
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let wait = match number(RETRY_AFTER.as_str()) {
        Some(seconds) => Duration::from_secs(seconds),
        None => {
            let reset = UNIX_EPOCH + Duration::from_secs(number("ratelimit-reset")?);
            reset.duration_since(SystemTime::now()).unwrap_or_default()
        }
    };
    Some(wait.min(MAX_WAIT))
}

/// The error for a final non-success answer.
fn failure(
    path: String,
    status: StatusCode,
    body: &[u8],
    needs: &'static str,
    what: &str,
) -> Error {
    let message = server_message(body);
    match status {
        StatusCode::UNAUTHORIZED => Error::Unauthorized { path },
        StatusCode::FORBIDDEN => Error::Forbidden {
            path,
            needs,
            message,
        },
        StatusCode::NOT_FOUND => Error::NotFound {
            path,
            what: what.to_owned(),
            message,
        },
        _ => Error::Status {
            path,
            status,
            message,
            advice: if status == StatusCode::TOO_MANY_REQUESTS {
                "; still rate limited after retries: try again later or with a lower --concurrency"
            } else if status.is_redirection() {
                "; ciguard does not follow redirects (they would carry the token): give the \
                 address GitLab redirects to as --gitlab-url"
            } else if status.is_server_error() {
                "; GitLab failed after retries: try again later"
            } else {
                ""
            },
        },
    }
}

/// GitLab's `message` (or `error_description`) from a JSON error body, as `: "..."`, cut
/// short; empty when the body has none.
fn server_message(body: &[u8]) -> String {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) else {
        return String::new();
    };
    let text = ["error_description", "message", "error"]
        .iter()
        .find_map(|key| match object.get(*key)? {
            serde_json::Value::String(text) => Some(text.clone()),
            serde_json::Value::Object(fields) => Some(field_errors(fields)),
            _ => None,
        });
    text.map(|text| {
        let short: String = text.chars().take(MAX_QUOTED).collect();
        format!(": {short:?}")
    })
    .unwrap_or_default()
}

/// A validation error's fields as one line: `{"value":["is invalid"]}` gives `value is invalid`;
/// `base` errors stand alone.
fn field_errors(fields: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut parts = Vec::new();
    for (field, errors) in fields {
        let errors = errors.as_array().map(Vec::as_slice).unwrap_or_default();
        for error in errors.iter().filter_map(serde_json::Value::as_str) {
            parts.push(if field == "base" {
                error.to_owned()
            } else {
                format!("{field} {error}")
            });
        }
    }
    parts.join("; ")
}

/// A JSON answer to `path` (method and path) as `T`; the error names the shape problem, never
/// quoting the body.
fn parse<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|err| Error::Body {
        path: path.to_owned(),
        reason: Reason(&err).to_string(),
    })
}

/// serde_json's error without any quoted input.
struct Reason<'a>(&'a serde_json::Error);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use serde_json::error::Category;
        let what = match self.0.classify() {
            Category::Syntax | Category::Eof => "not JSON",
            Category::Data => "JSON of an unexpected shape",
            Category::Io => "unreadable",
        };
        write!(
            f,
            "{what} at line {} column {}",
            self.0.line(),
            self.0.column()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_holds_requests_back_only_while_others_are_in_flight() {
        let now = Instant::now();
        let mut budget = Budget {
            remaining: Some(2),
            window_end: Some(now + Duration::from_millis(400)),
            window_reset: Some(1),
        };
        assert_eq!(budget.wait(1, now), None);
        assert_eq!(budget.wait(2, now), Some(Duration::from_millis(400)));
        // Nothing in flight: no answer would lift the wait, so it goes.
        assert_eq!(budget.wait(0, now), None);
        // A new window: one request at a time until an answer says what is left.
        let later = now + Duration::from_millis(500);
        assert_eq!(budget.wait(1, later), Some(BUDGET_POLL));
        assert_eq!(budget.wait(0, later), None);
        // No limit announced: no budget.
        assert_eq!(Budget::default().wait(100, now), None);
    }

    #[test]
    fn the_token_comes_from_the_file_then_the_environment() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("token");
        std::fs::write(&file, "glpat-from-file\n").expect("write");
        let token = resolve_token(Some(&file), Some("glpat-env".into()), false).expect("file");
        assert_eq!(token.expose(), "glpat-from-file");
        let token = resolve_token(None, Some("glpat-env".into()), true).expect("env");
        assert_eq!(token.expose(), "glpat-env");
        assert!(matches!(
            resolve_token(None, None, true),
            Err(TokenError::JobTokenOnly)
        ));
        assert!(matches!(
            resolve_token(None, Some(String::new()), false),
            Err(TokenError::Missing)
        ));
        let bad = resolve_token(None, Some("glpat\nsecret".into()), false).expect_err("newline");
        assert!(!bad.to_string().contains("secret"), "{bad}");
    }

    #[test]
    fn rate_limits_are_honoured_within_a_bound() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(rate_limit_wait(&headers), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("100000"));
        assert_eq!(rate_limit_wait(&headers), Some(MAX_WAIT));
        let mut headers = HeaderMap::new();
        headers.insert("ratelimit-reset", HeaderValue::from_static("1609844400"));
        assert_eq!(rate_limit_wait(&headers), Some(Duration::ZERO));
        assert_eq!(rate_limit_wait(&HeaderMap::new()), None);
    }

    #[test]
    fn error_bodies_are_quoted_short_and_garbage_is_not_quoted() {
        assert_eq!(
            server_message(br#"{"message":"403 Forbidden"}"#),
            r#": "403 Forbidden""#
        );
        assert_eq!(server_message(b"Retry later"), "");
        assert_eq!(
            server_message(br#"{"message":{"value":["is invalid"]}}"#),
            r#": "value is invalid""#
        );
        assert_eq!(
            server_message(
                br#"{"message":{"base":["Only new variables can be set as masked and hidden."]}}"#
            ),
            r#": "Only new variables can be set as masked and hidden.""#
        );
        let err =
            parse::<Vec<u8>>("GET /api/v4/projects", b"<html>s3cr3t</html>").expect_err("garbage");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(err.to_string().contains("not JSON"), "{err}");
    }

    #[test]
    fn paths_are_encoded_and_urls_checked() {
        let token = Secret::new("t".to_owned());
        let client = Client::new("http://127.0.0.1:9/gitlab/", &token).expect("client");
        let secret = Secret::new("glpat-do-not-show".to_owned());
        let shown = format!(
            "{:?}",
            Client::new("https://gitlab.com", &secret).expect("client")
        );
        assert!(!shown.contains("do-not-show"), "{shown}");
        let url = client.url(&["projects", "data/warehouse-elt", "variables"], Some(2));
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/gitlab/api/v4/projects/data%2Fwarehouse-elt/variables?per_page=100&page=2"
        );
        for bad in ["gitlab.com", "ftp://gitlab.com", "mailto:x@y"] {
            let err = Client::new(bad, &token).expect_err(bad);
            assert!(matches!(err, Error::BadUrl), "{bad}");
        }
    }
}
