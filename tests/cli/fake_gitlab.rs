//! A fake GitLab REST API on 127.0.0.1, in-process (std threads, HTTP/1.1, one request per
//! connection), behaving as `gitlab/FACTS.md` §6 says: `PRIVATE-TOKEN` checked (401 body from
//! the fixtures), offset pagination with `per_page`/`page` and the `x-*` and `link` headers,
//! error bodies from `gitlab/fixtures/`, and a 429 with `Retry-After` once on a chosen route.
//! `PUT <variables list>/KEY` updates the listed variable as §1.3-§1.4 say (see [`update`]);
//! `POST` to a variables, protected branches or protected environments list creates an item as
//! §1.3 and §5 say (see [`create`]), and `PATCH <protected branches>/NAME` changes a rule. A route
//! keyed `METHOD PATH` (e.g. `POST /api/v4/projects/7/variables`) answers that method instead
//! (a chosen refusal); a route answering an error for a list (e.g. 403 for protected environments
//! on GitLab Free) answers every method.
//! Jobs (FACTS §6 and `gitlab-api/README.md`): a log is `Reply::Text` or a generated
//! `Reply::Log` streamed in pieces (1 GiB without holding it); `POST .../jobs/:id/erase` marks
//! the job erased in every jobs list (201 with the job, 403 "Job is not erasable!" the second
//! time, 404 for an unknown job), and an erased job's log is empty.
//! Review gates are plain routes: `approvals` and `job_token_scope` objects, `approval_rules`
//! lists (absent on GitLab Free: the 404 every unknown path gets), and a repository file's raw
//! content as `Reply::Text` at `.../repository/files/<encoded path>/raw` (404 when absent).
//! [`Options`] add latency to every answer and announce (and enforce) a rate limit.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The token the fake server accepts.
pub const TOKEN: &str = "glpat-FakeServerToken-7f3a9c21";

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/external/gitlab-api"
);

/// A GitLab API fixture's body.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("a GitLab API fixture")
}

/// What a route answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this object.
    Object(Value),
    /// 200 with one page of this list.
    List(Vec<Value>),
    /// This status with a fixture file's content (an error body, or garbage).
    Fixture(u16, &'static str),
    /// The first time this status (429 with `Retry-After: 1`, or a 5xx), then the reply.
    FailOnce(u16, Box<Reply>),
    /// 200 `text/plain` with this body (a job's log).
    Text(String),
    /// 200 `text/plain` announcing 1 KiB more than this body, then the connection closes (a
    /// log cut off in transit).
    Cut(String),
    /// 200 `text/plain`: `line` repeated `times` times, then `last` (a large job log, written
    /// in pieces, never held whole).
    Log {
        /// The repeated line.
        line: String,
        /// How many times.
        times: u64,
        /// What follows (e.g. a leak on the last line, without a line break).
        last: String,
    },
    /// `GET /groups/:id/projects`: pages of the group's own projects, and of its subgroups'
    /// too with `include_subgroups=true`.
    GroupProjects {
        /// Projects directly in the group.
        own: Vec<Value>,
        /// Projects in its subgroups.
        subgroups: Vec<Value>,
    },
}

/// How the server behaves beyond its routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Added before every answer.
    pub latency: Duration,
    /// Requests allowed per second, announced in `RateLimit-*` headers on every answer; one
    /// more in the same second gets a 429 with `Retry-After: 1`.
    pub rate_limit: Option<u32>,
}

#[derive(Debug, Default)]
struct State {
    /// Every request line seen, e.g. `GET /api/v4/projects/1?per_page=100&page=1`.
    requests: Vec<String>,
    /// Routes that already answered their one failure.
    failed: HashSet<String>,
    /// Each PUT's, POST's and PATCH's request line and JSON body.
    writes: Vec<(String, Value)>,
    /// Lists as writes left them, by list path; served instead of the route's list.
    stored: HashMap<String, Vec<Value>>,
    /// The current rate-limit second (Unix time) and the requests counted in it.
    window: (u64, u32),
    /// Requests answered 429 by the rate limit.
    throttled: usize,
    /// Jobs erased, by id.
    erased: HashSet<u64>,
}

/// A running fake server; lives until the test binary ends.
#[derive(Debug)]
pub struct FakeGitlab {
    /// Its base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeGitlab {
    /// Starts a server answering `routes` (keyed by path, e.g. `/api/v4/projects/1`); any other
    /// path gets 404 `{"message":"404 Not Found"}`.
    pub fn start(routes: HashMap<String, Reply>) -> Self {
        Self::start_with(routes, Options::default())
    }

    /// [`start`](Self::start) with these options.
    pub fn start_with(routes: HashMap<String, Reply>, options: Options) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let state = Arc::new(Mutex::new(State::default()));
        let routes = Arc::new(routes);
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let routes = Arc::clone(&routes);
                let state = Arc::clone(&shared);
                thread::spawn(move || serve(stream, &routes, &state, options));
            }
        });
        Self { url, state }
    }

    /// The request lines seen so far.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// Each PUT's request line and JSON body so far.
    pub fn puts(&self) -> Vec<(String, Value)> {
        let mut writes = self.writes();
        writes.retain(|(line, _)| line.starts_with("PUT "));
        writes
    }

    /// Each PUT's, POST's and PATCH's request line and JSON body so far, in order.
    pub fn writes(&self) -> Vec<(String, Value)> {
        self.lock().writes.clone()
    }

    /// The list at `path` as writes left it (`None` before the first change).
    pub fn stored(&self, path: &str) -> Option<Vec<Value>> {
        self.lock().stored.get(path).cloned()
    }

    /// How many requests the rate limit refused.
    pub fn throttled(&self) -> usize {
        self.lock().throttled
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One response.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    content_type: &'static str,
    body: String,
    /// A generated body after `body`.
    generated: Option<Box<Generated>>,
    /// Bytes announced in `content-length` and never sent.
    missing: u64,
}

/// A body written in pieces: `line` `times` times, then `last`.
struct Generated {
    line: String,
    times: u64,
    last: String,
}

impl Response {
    fn json(status: u16, body: String) -> Self {
        Self {
            status,
            headers: Vec::new(),
            content_type: "application/json",
            body,
            generated: None,
            missing: 0,
        }
    }

    fn text(body: String) -> Self {
        Self {
            content_type: "text/plain",
            ..Self::json(200, body)
        }
    }
}

fn serve(
    stream: TcpStream,
    routes: &HashMap<String, Reply>,
    state: &Mutex<State>,
    options: Options,
) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut token = None;
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("private-token") => {
                token = Some(value.trim().to_owned());
            }
            Some((name, value)) if name.eq_ignore_ascii_case("content-length") => {
                length = value.trim().parse().unwrap_or(0);
            }
            _ => {}
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let request_line = request_line.trim().to_owned();
    let target = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    thread::sleep(options.latency);
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    state.requests.push(request_line.clone());
    let request = Request {
        line: &request_line,
        path,
        query,
        token: token.as_deref(),
        body: &body,
    };
    let limited = options
        .rate_limit
        .map(|limit| (limit, rate_limit(limit, &mut state)));
    let response = match limited {
        Some((limit, Ok(remaining))) => {
            let mut response = route(routes, &request, &mut state);
            response
                .headers
                .extend(rate_limit_headers(limit, remaining));
            response
        }
        Some((_, Err(throttled))) => throttled,
        None => route(routes, &request, &mut state),
    };
    drop(state);
    write(&stream, &response);
}

/// What [`route`] needs of one request.
struct Request<'a> {
    line: &'a str,
    path: &'a str,
    query: &'a str,
    token: Option<&'a str>,
    body: &'a str,
}

/// The answer to `request`: 401 without the right token, the route for its method and path, a
/// PUT's update, a POST's creation, a PATCH's change, a list as writes left it, or the route's
/// reply.
fn route(routes: &HashMap<String, Reply>, request: &Request<'_>, state: &mut State) -> Response {
    let Request {
        line,
        path,
        query,
        token,
        body,
    } = *request;
    let method = line.split(' ').next().unwrap_or_default();
    if token != Some(TOKEN) {
        return Response::json(401, fixture("error_401.json"));
    }
    let body = if method == "GET" {
        Value::Null
    } else {
        let body = serde_json::from_str(body).unwrap_or(Value::Null);
        state.writes.push((line.to_owned(), body.clone()));
        body
    };
    // A chosen refusal: a route for this method, or a write to a path whose route is not a list.
    let chosen = routes.get(&format!("{method} {path}")).or_else(|| {
        routes
            .get(path)
            .filter(|reply| method != "GET" && !matches!(reply, Reply::List(_)))
    });
    if let Some(reply) = chosen {
        answer(reply, path, query, state)
    } else if method == "POST" && path.ends_with("/erase") {
        erase(routes, path, state)
    } else if method == "GET" && path.ends_with("/trace") && is_erased(path, state) {
        Response::text(String::new())
    } else if method == "PUT" {
        update(routes, path, query, &body, state)
    } else if method == "POST" {
        create(routes, path, &body, state)
    } else if method == "PATCH" {
        patch(routes, path, &body, state)
    } else if let Some(items) = state.stored.get(path) {
        page(items, path, query)
    } else if path.ends_with("/jobs") && !state.erased.is_empty() {
        match routes.get(path) {
            Some(Reply::List(jobs)) => page(&mark_erased(jobs, &state.erased), path, query),
            _ => answer_or_404(routes, path, query, state),
        }
    } else {
        answer_or_404(routes, path, query, state)
    }
}

fn answer_or_404(
    routes: &HashMap<String, Reply>,
    path: &str,
    query: &str,
    state: &mut State,
) -> Response {
    match routes.get(path) {
        Some(reply) => answer(reply, path, query, state),
        None => Response::json(404, r#"{"message":"404 Not Found"}"#.to_owned()),
    }
}

/// Counts one request against `limit` per second: the requests left in this second, or the
/// 429 GitLab's Rack::Attack answers (FACTS §6.5).
fn rate_limit(limit: u32, state: &mut State) -> Result<u32, Response> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    if state.window.0 != now {
        state.window = (now, 0);
    }
    state.window.1 += 1;
    if state.window.1 <= limit {
        return Ok(limit - state.window.1);
    }
    state.throttled += 1;
    Err(too_many_requests(rate_limit_headers(limit, 0)))
}

/// Rack::Attack's 429: plain text, `Retry-After: 1` added to `headers`.
fn too_many_requests(mut headers: Vec<(String, String)>) -> Response {
    headers.push(("Retry-After".into(), "1".into()));
    Response {
        status: 429,
        headers,
        ..Response::text("Retry later".into())
    }
}

/// The `RateLimit-*` headers GitLab sends on every answer.
fn rate_limit_headers(limit: u32, remaining: u32) -> Vec<(String, String)> {
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        + 1;
    vec![
        ("RateLimit-Name".into(), "throttle_authenticated_api".into()),
        ("RateLimit-Limit".into(), limit.to_string()),
        ("RateLimit-Remaining".into(), remaining.to_string()),
        ("RateLimit-Reset".into(), reset.to_string()),
    ]
}

fn answer(reply: &Reply, path: &str, query: &str, state: &mut State) -> Response {
    match reply {
        Reply::Object(object) => Response::json(200, object.to_string()),
        Reply::List(items) => page(items, path, query),
        Reply::GroupProjects { own, subgroups } => {
            let mut items = own.clone();
            if query
                .split('&')
                .any(|pair| pair == "include_subgroups=true")
            {
                items.extend(subgroups.iter().cloned());
            }
            page(&items, path, query)
        }
        Reply::Fixture(status, name) => Response::json(*status, fixture(name)),
        Reply::Text(body) => Response::text(body.clone()),
        Reply::Cut(body) => Response {
            missing: 1024,
            ..Response::text(body.clone())
        },
        Reply::Log { line, times, last } => Response {
            generated: Some(Box::new(Generated {
                line: line.clone(),
                times: *times,
                last: last.clone(),
            })),
            ..Response::text(String::new())
        },
        Reply::FailOnce(status, then) => {
            if !state.failed.insert(path.to_owned()) {
                return answer(then, path, query, state);
            }
            if *status != 429 {
                return Response::json(*status, format!(r#"{{"message":"{status} Error"}}"#));
            }
            too_many_requests(vec![
                ("RateLimit-Name".into(), "throttle_authenticated_api".into()),
                ("RateLimit-Remaining".into(), "0".into()),
            ])
        }
    }
}

/// `PUT <list>/KEY?filter[environment_scope]=S` with a JSON body, on a variables list route
/// (FACTS §1.3-§1.4) (a route for the exact path answers instead, see [`route`]): 404 for an
/// unknown key, 409 when the key is in several scopes and no filter is given; 400 when the body
/// touches `hidden`, changes `masked` on a hidden variable, or masks a value the regex refuses;
/// otherwise the listed variable takes the body's fields.
fn update(
    routes: &HashMap<String, Reply>,
    path: &str,
    query: &str,
    body: &Value,
    state: &mut State,
) -> Response {
    let error = |status, name| Response::json(status, fixture(name));
    let Some((list, key)) = path.rsplit_once('/') else {
        return error(404, "error_404_variable.json");
    };
    let Some(items) = stored_list(routes, list, state).filter(|_| list.ends_with("/variables"))
    else {
        return error(404, "error_404_variable.json");
    };
    let filter = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| decode(name) == "filter[environment_scope]")
        .map(|(_, scope)| decode(scope));
    let matching: Vec<usize> = (0..items.len())
        .filter(|&i| items[i]["key"] == key)
        .filter(|&i| {
            filter
                .as_ref()
                .is_none_or(|f| items[i]["environment_scope"] == *f)
        })
        .collect();
    let index = match matching[..] {
        [] => return error(404, "error_404_variable.json"),
        [index] => index,
        _ => return error(409, "error_409_multiple_variables.json"),
    };
    let Some(fields) = body.as_object() else {
        return error(400, "error_400_missing_param_grape.json");
    };
    let item = &mut items[index];
    if fields.contains_key("hidden") || fields.contains_key("masked_and_hidden") {
        return error(400, "error_400_hidden_on_update.json");
    }
    if item["hidden"] == true && fields.get("masked").is_some_and(|m| *m != item["masked"]) {
        return Response::json(
            400,
            r#"{"message":{"base":["The visibility setting cannot be changed for masked and hidden variables."]}}"#.to_owned(),
        );
    }
    let mut updated = item.clone();
    for name in [
        "value",
        "protected",
        "masked",
        "raw",
        "variable_type",
        "environment_scope",
        "description",
    ] {
        if let Some(value) = fields.get(name) {
            updated[name] = value.clone();
        }
    }
    if updated["masked"] == true && !maskable(&updated) {
        return error(400, "error_400_masked_value_invalid.json");
    }
    if updated["hidden"] == true {
        updated["value"] = Value::Null;
    }
    *item = updated;
    Response::json(200, item.to_string())
}

/// The list at `list` as writes left it, taken from its `Reply::List` route the first time;
/// `None` when the route is not a list.
fn stored_list<'a>(
    routes: &HashMap<String, Reply>,
    list: &str,
    state: &'a mut State,
) -> Option<&'a mut Vec<Value>> {
    if !state.stored.contains_key(list) {
        let Some(Reply::List(items)) = routes.get(list) else {
            return None;
        };
        state.stored.insert(list.to_owned(), items.clone());
    }
    state.stored.get_mut(list)
}

/// `POST <list>` with a JSON body (FACTS §1.3, §5), the list's kind deciding (a route that is
/// not a list, e.g. 403 for protected environments on Free, answers instead, see [`route`]).
fn create(
    routes: &HashMap<String, Reply>,
    path: &str,
    body: &Value,
    state: &mut State,
) -> Response {
    let Some(items) = stored_list(routes, path, state) else {
        return Response::json(404, r#"{"message":"404 Not Found"}"#.to_owned());
    };
    let Some(fields) = body.as_object() else {
        return Response::json(400, fixture("error_400_missing_param_grape.json"));
    };
    let created = if path.ends_with("/variables") {
        create_variable(items, fields)
    } else if path.ends_with("/protected_branches") {
        create_protected_branch(items, fields)
    } else if path.ends_with("/protected_environments") {
        create_protected_environment(items, fields)
    } else {
        Err(Response::json(
            405,
            r#"{"message":"405 Method Not Allowed"}"#.to_owned(),
        ))
    };
    match created {
        Ok(item) => {
            items.push(item.clone());
            Response::json(201, item.to_string())
        }
        Err(refused) => refused,
    }
}

/// A required string parameter, or Grape's 400 naming it.
fn required<'a>(
    fields: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a str, Response> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Response::json(400, format!(r#"{{"error":"{name} is missing"}}"#)))
}

/// Whether a boolean parameter is true.
fn flag(fields: &serde_json::Map<String, Value>, name: &str) -> bool {
    fields.get(name).is_some_and(|value| *value == true)
}

/// A new project variable (FACTS §1.3): key and value required, the key's characters, unique
/// per scope, `masked_and_hidden` made `masked` and `hidden`, the masked regex; a hidden value is
/// stored as `null`, as GitLab returns it.
fn create_variable(
    items: &[Value],
    fields: &serde_json::Map<String, Value>,
) -> Result<Value, Response> {
    let key = required(fields, "key")?;
    let value = required(fields, "value")?;
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Response::json(400, fixture("error_400_key_invalid.json")));
    }
    let scope = fields
        .get("environment_scope")
        .and_then(Value::as_str)
        .unwrap_or("*");
    if items
        .iter()
        .any(|item| item["key"] == key && item["environment_scope"] == scope)
    {
        return Err(Response::json(
            400,
            serde_json::json!({"message": {"key": [format!("({key}) has already been taken")]}})
                .to_string(),
        ));
    }
    let hidden = flag(fields, "masked_and_hidden");
    let mut item = serde_json::json!({
        "variable_type": fields.get("variable_type").and_then(Value::as_str).unwrap_or("env_var"),
        "key": key,
        "value": value,
        "hidden": hidden,
        "protected": flag(fields, "protected"),
        "masked": hidden || flag(fields, "masked"),
        "raw": flag(fields, "raw"),
        "environment_scope": scope,
        "description": fields.get("description").cloned().unwrap_or(Value::Null),
    });
    if item["masked"] == true && !maskable(&item) {
        return Err(Response::json(
            400,
            fixture("error_400_masked_value_invalid.json"),
        ));
    }
    if hidden {
        item["value"] = Value::Null;
    }
    Ok(item)
}

/// An access-level list of one role, as GitLab answers it.
fn access_levels(level: u64, id: usize) -> Value {
    let description = match level {
        0 => "No one",
        30 => "Developers + Maintainers",
        60 => "Admins",
        _ => "Maintainers",
    };
    serde_json::json!([{"id": id, "access_level": level,
                        "access_level_description": description,
                        "user_id": null, "group_id": null}])
}

/// A new protected branch rule (FACTS §5): 409 when the name is already protected; push and
/// merge levels default to Maintainers.
fn create_protected_branch(
    items: &[Value],
    fields: &serde_json::Map<String, Value>,
) -> Result<Value, Response> {
    let name = required(fields, "name")?;
    if items.iter().any(|item| item["name"] == name) {
        return Err(Response::json(
            409,
            serde_json::json!({"message": format!("Protected branch '{name}' already exists")})
                .to_string(),
        ));
    }
    let level = |field: &str| fields.get(field).and_then(Value::as_u64).unwrap_or(40);
    let id = 100 + items.len();
    Ok(serde_json::json!({
        "id": id,
        "name": name,
        "push_access_levels": access_levels(level("push_access_level"), 1000 + id),
        "merge_access_levels": access_levels(level("merge_access_level"), 2000 + id),
        "allow_force_push": flag(fields, "allow_force_push"),
        "code_owner_approval_required": flag(fields, "code_owner_approval_required"),
    }))
}

/// A new protected environment (FACTS §5, Premium): `deploy_access_levels` required, 409 when
/// the environment is already protected.
fn create_protected_environment(
    items: &[Value],
    fields: &serde_json::Map<String, Value>,
) -> Result<Value, Response> {
    let name = required(fields, "name")?;
    let Some(levels) = fields.get("deploy_access_levels").and_then(Value::as_array) else {
        return Err(Response::json(
            400,
            r#"{"error":"deploy_access_levels is missing"}"#.to_owned(),
        ));
    };
    if items.iter().any(|item| item["name"] == name) {
        return Err(Response::json(
            409,
            serde_json::json!({"message": format!("Protected environment '{name}' already exists")})
                .to_string(),
        ));
    }
    let deploy: Vec<Value> = levels
        .iter()
        .enumerate()
        .flat_map(|(index, level)| {
            let level = level["access_level"].as_u64().unwrap_or(40);
            access_levels(level, 10 + index)
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    Ok(serde_json::json!({
        "name": name,
        "deploy_access_levels": deploy,
        "required_approval_count": 0,
        "approval_rules": [],
    }))
}

/// The job id in `.../jobs/:id/<action>`.
fn job_id(path: &str) -> Option<u64> {
    let mut parts = path.rsplit('/').skip(1);
    parts.next()?.parse().ok()
}

fn is_erased(path: &str, state: &State) -> bool {
    job_id(path).is_some_and(|id| state.erased.contains(&id))
}

/// `jobs` with `erased_at` set on those erased.
fn mark_erased(jobs: &[Value], erased: &HashSet<u64>) -> Vec<Value> {
    jobs.iter()
        .map(|job| {
            let mut job = job.clone();
            if job["id"].as_u64().is_some_and(|id| erased.contains(&id)) {
                job["erased_at"] = Value::from("2026-12-06T00:00:00.000Z");
            }
            job
        })
        .collect()
}

/// `POST /projects/:id/jobs/:job_id/erase`: 201 with the job, erased; 403 when it is erased
/// already (GitLab: `Job is not erasable!`); 404 for a job not in the project's jobs list.
fn erase(routes: &HashMap<String, Reply>, path: &str, state: &mut State) -> Response {
    let not_found = || Response::json(404, r#"{"message":"404 Job Not Found"}"#.to_owned());
    let Some(id) = job_id(path) else {
        return not_found();
    };
    let jobs_path = path
        .rsplitn(3, '/')
        .nth(2)
        .map(str::to_owned)
        .unwrap_or_default();
    let Some(Reply::List(jobs)) = routes.get(&jobs_path) else {
        return not_found();
    };
    let Some(job) = jobs.iter().find(|job| job["id"].as_u64() == Some(id)) else {
        return not_found();
    };
    if !state.erased.insert(id) {
        return Response::json(
            403,
            r#"{"message":"403 Forbidden  - Job is not erasable!"}"#.to_owned(),
        );
    }
    let mut job = job.clone();
    job["erased_at"] = Value::from("2026-12-06T00:00:00.000Z");
    Response::json(201, job.to_string())
}

/// `PATCH <protected branches>/NAME` (FACTS §5): changes `allow_force_push` and
/// `code_owner_approval_required` of the rule; 404 for an unknown name.
fn patch(routes: &HashMap<String, Reply>, path: &str, body: &Value, state: &mut State) -> Response {
    let not_found = || Response::json(404, r#"{"message":"404 Not found"}"#.to_owned());
    let Some((list, name)) = path.rsplit_once('/') else {
        return not_found();
    };
    let name = decode(name);
    let Some(items) =
        stored_list(routes, list, state).filter(|_| list.ends_with("/protected_branches"))
    else {
        return not_found();
    };
    let Some(item) = items.iter_mut().find(|item| item["name"] == name.as_str()) else {
        return not_found();
    };
    for field in ["allow_force_push", "code_owner_approval_required"] {
        if let Some(value) = body.get(field) {
            item[field] = value.clone();
        }
    }
    Response::json(200, item.to_string())
}

/// Whether GitLab accepts a variable's value as masked (FACTS §2.1); a hidden (null) value was
/// checked when it was created.
fn maskable(variable: &Value) -> bool {
    let Some(value) = variable["value"].as_str() else {
        return true;
    };
    let allowed = |c: char| {
        if variable["raw"] == true {
            !matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0c' | '\x0b')
        } else {
            c.is_ascii_alphanumeric() || "_+=/@:.~-".contains(c)
        }
    };
    value.chars().count() >= 8 && value.chars().all(allowed)
}

/// A form-encoded query part, decoded (`+` is a space, `%XX` a byte).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = text
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One page of `items` as GitLab's offset pagination serves it (FACTS §6.3).
fn page(items: &[Value], path: &str, query: &str) -> Response {
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.parse::<usize>().ok())
    };
    let per_page = param("per_page").unwrap_or(20).clamp(1, 100);
    let page = param("page").unwrap_or(1).max(1);
    let total_pages = items.len().div_ceil(per_page).max(1);
    let body: Vec<&Value> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link = |page: usize, rel: &str| {
        format!("<http://gitlab.test{path}?page={page}&per_page={per_page}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    let prev = (page > 1).then(|| page - 1);
    let next = (page < total_pages).then(|| page + 1);
    if let Some(prev) = prev {
        links.push(link(prev, "prev"));
    }
    if let Some(next) = next {
        links.push(link(next, "next"));
    }
    links.push(link(1, "first"));
    links.push(link(total_pages, "last"));
    let number = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut response = Response::json(
        200,
        Value::from(body.into_iter().cloned().collect::<Vec<_>>()).to_string(),
    );
    response.headers = vec![
        ("link".into(), links.join(", ")),
        ("x-next-page".into(), number(next)),
        ("x-page".into(), page.to_string()),
        ("x-per-page".into(), per_page.to_string()),
        ("x-prev-page".into(), number(prev)),
        ("x-total".into(), items.len().to_string()),
        ("x-total-pages".into(), total_pages.to_string()),
    ];
    response
}

fn write(mut stream: &TcpStream, response: &Response) {
    let reason = match response.status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let generated_length = response
        .generated
        .as_ref()
        .map_or(0, |g| g.line.len() as u64 * g.times + g.last.len() as u64);
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len() as u64 + generated_length + response.missing
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // A client that hung up is not the fake server's problem.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(response.body.as_bytes());
    if let Some(generated) = &response.generated {
        let Generated { line, times, last } = generated.as_ref();
        // Pieces of about 64 KiB.
        let per_piece = (65_536 / line.len().max(1)).max(1) as u64;
        let piece = line.repeat(per_piece as usize);
        let mut left = *times;
        while left > 0 {
            let n = left.min(per_piece);
            if stream
                .write_all(&piece.as_bytes()[..line.len() * n as usize])
                .is_err()
            {
                return;
            }
            left -= n;
        }
        let _ = stream.write_all(last.as_bytes());
    }
    let _ = stream.flush();
}
