//! A pipeline as GitLab evaluates it: local includes merged, `!reference` tags resolved,
//! `extends:` and `default:` applied, so each job holds its effective configuration, and every
//! node still points at the file and line it came from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::FileError;
use crate::lint::SourceFile;
use crate::yaml::ci::{self, Entry, Node, Pos, Value};
use crate::yaml::{Tag, Text};

/// Top-level keys that are not jobs.
const GLOBAL_KEYWORDS: &[&str] = &[
    "after_script",
    "before_script",
    "cache",
    "default",
    "image",
    "include",
    "services",
    "spec",
    "stages",
    "types",
    "variables",
    "workflow",
];

/// Keys a job takes from `default:` when it does not set them.
const DEFAULT_KEYWORDS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "hooks",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
];

/// Legacy top-level keys that act as defaults.
const LEGACY_DEFAULT_KEYWORDS: &[&str] = &[
    "after_script",
    "before_script",
    "cache",
    "image",
    "services",
];

/// GitLab stops following `extends:` and `!reference` this deep.
const MAX_NESTING: usize = 11;

/// GitLab rejects a pipeline whose `extends:` or `!reference` chains are deeper than this.
const MAX_CHAIN: usize = 10;

/// A pipeline GitLab itself rejects: where, and why in GitLab's terms.
struct Rejected {
    at: Pos,
    reason: String,
}

/// GitLab allows at most this many included files.
const MAX_INCLUDED_FILES: usize = 150;

/// A loaded pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The top-level keys that are not jobs (`variables`, `workflow`, `default`, ...) after
    /// merging includes and resolving references; the jobs moved to `jobs` and `templates`.
    pub root: Node,
    /// The jobs (not hidden ones), with `extends:` and `default:` applied.
    pub jobs: Vec<Job>,
    /// The hidden jobs (`.name`), templates for others, with `extends:` applied: they never
    /// run themselves, but what they hold runs in every job that uses them.
    pub templates: Vec<Job>,
    /// Every `include:` entry found, local ones included.
    pub includes: Vec<Include>,
    /// Local includes that matched no file.
    pub missing_includes: Vec<Include>,
}

/// One job with its effective configuration.
#[derive(Debug, Clone)]
pub struct Job {
    /// The job's name.
    pub name: String,
    /// Where its key is.
    pub at: Pos,
    /// Its merged mapping.
    pub body: Node,
    /// Global variables it inherits.
    pub global_variables: Vec<Variable>,
    /// A hidden job (`.name`): a template that never runs itself.
    pub hidden: bool,
}

/// An `include:` entry.
#[derive(Debug, Clone)]
pub struct Include {
    /// What it includes.
    pub kind: IncludeKind,
    /// The entry (a string or a mapping).
    pub node: Node,
}

/// The kinds of include GitLab knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncludeKind {
    /// A file of this repository.
    Local(String),
    /// A file of another project, at `ref` if given.
    Project {
        /// The project path.
        project: String,
        /// The ref, if pinned.
        git_ref: Option<String>,
    },
    /// A URL, with an `integrity` hash if given.
    Remote {
        /// The URL, userinfo masked and query dropped.
        url: String,
        /// Whether `integrity:` is set.
        has_integrity: bool,
    },
    /// A GitLab-provided template.
    Template(String),
    /// A CI/CD component `host/path/name@version`.
    Component(String),
}

impl IncludeKind {
    /// The keyword GitLab uses for it.
    pub fn keyword(&self) -> &'static str {
        match self {
            IncludeKind::Local(_) => "local",
            IncludeKind::Project { .. } => "project",
            IncludeKind::Remote { .. } => "remote",
            IncludeKind::Template(_) => "template",
            IncludeKind::Component(_) => "component",
        }
    }

    /// What it names: a path, project, URL, template or component.
    pub fn target(&self) -> &str {
        match self {
            IncludeKind::Local(path)
            | IncludeKind::Template(path)
            | IncludeKind::Component(path) => path,
            IncludeKind::Project { project, .. } => project,
            IncludeKind::Remote { url, .. } => url,
        }
    }
}

/// A CI/CD variable defined in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Its key.
    pub name: String,
    /// Where the key is.
    pub name_at: Pos,
    /// Its value as written, when it is a scalar.
    pub value: Option<String>,
    /// Where the value is (the key when there is none).
    pub value_at: Pos,
}

/// One command line of a job's script.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptLine<'a> {
    /// `before_script`, `script` or `after_script`.
    pub section: &'static str,
    /// Its index in the flattened section.
    pub index: usize,
    /// The text (a block scalar may hold several shell lines).
    pub text: &'a str,
    /// Where the scalar starts.
    pub at: Pos,
}

/// A job's environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// Its name as written (may contain variables).
    pub name: String,
    /// `deployment_tier:`, if set.
    pub tier: Option<String>,
}

impl ScriptLine<'_> {
    /// Its logical path in job `job_name`, e.g. `deploy.script[2]`.
    pub fn logical(&self, job_name: &str) -> String {
        format!("{job_name}.{}[{}]", self.section, self.index)
    }
}

impl Pipeline {
    /// The host names of every service container in the pipeline, as GitLab names them: the alias,
    /// and the image's path with `/` as `-` and as `__`, and its last part.
    pub fn service_hosts(&self) -> Vec<String> {
        let mut hosts = Vec::new();
        let default_services = self.root.get("default").and_then(|d| d.get("services"));
        let job_services = self
            .templates
            .iter()
            .chain(&self.jobs)
            .filter_map(|job| job.get("services"));
        for services in [self.root.get("services"), default_services]
            .into_iter()
            .flatten()
            .chain(job_services)
        {
            for service in services.items().unwrap_or_default() {
                let image = service.as_str().or_else(|| service.get_str("name"));
                if let Some(image) = image {
                    let untagged = image.split('@').next().unwrap_or(image);
                    // A tag follows the last `:` after the last `/`; a registry's port comes before.
                    let path = match untagged.rsplit_once(':') {
                        Some((path, tag)) if !tag.contains('/') => path,
                        _ => untagged,
                    };
                    let name = path.rsplit('/').next().unwrap_or(path);
                    hosts.extend([
                        name.to_owned(),
                        path.replace('/', "-"),
                        path.replace('/', "__"),
                    ]);
                }
                let aliases = service.get_str("alias").unwrap_or_default();
                hosts.extend(
                    aliases
                        .split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        hosts.iter_mut().for_each(|h| h.make_ascii_lowercase());
        hosts.sort();
        hosts.dedup();
        hosts
    }
}

impl Job {
    /// `before_script`, `script` and `after_script`, flattened, in the order they run.
    pub fn script_lines(&self) -> Vec<ScriptLine<'_>> {
        let mut lines = Vec::new();
        for section in ["before_script", "script", "after_script"] {
            if let Some(node) = self.body.get(section) {
                let mut texts = Vec::new();
                flatten_scalars(node, 0, &mut texts);
                lines.extend(
                    texts
                        .into_iter()
                        .enumerate()
                        .map(|(index, line)| ScriptLine {
                            section,
                            index,
                            text: line.as_str().unwrap_or_default(),
                            at: line.at,
                        }),
                );
            }
        }
        lines
    }

    /// Global variables it inherits, then its own (a job's own wins on a shared key).
    pub fn variables(&self) -> Vec<Variable> {
        let own = self
            .body
            .get("variables")
            .map(variables_of)
            .unwrap_or_default();
        let mut all: Vec<Variable> = self
            .global_variables
            .iter()
            .filter(|g| !own.iter().any(|o| o.name == g.name))
            .cloned()
            .collect();
        all.extend(own);
        all
    }

    /// Its environment, if it deploys to one.
    pub fn environment(&self) -> Option<Environment> {
        let node = self.body.get("environment")?;
        match &node.value {
            Value::Scalar(name) => Some(Environment {
                name: name.text().to_owned(),
                tier: None,
            }),
            Value::Map(_) => Some(Environment {
                name: node.get_str("name")?.to_owned(),
                tier: node.get_str("deployment_tier").map(str::to_owned),
            }),
            Value::Null | Value::Seq(_) => None,
        }
    }

    /// The value of `key` in its configuration.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.body.get(key)
    }

    /// How messages name it: ``job `deploy` `` or ``template `.deploy` ``.
    pub fn title(&self) -> String {
        let kind = if self.hidden { "template" } else { "job" };
        format!("{kind} `{}`", self.name)
    }

    /// `logical` path of a node inside this job, e.g. `deploy.script[2]`.
    pub fn logical(&self, what: &str) -> String {
        format!("{}.{what}", self.name)
    }
}

/// The variables of a `variables:` mapping.
pub fn variables_of(node: &Node) -> Vec<Variable> {
    node.entries()
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            let value_node = match &entry.value.value {
                Value::Map(_) => entry.value.get("value"),
                _ => Some(&entry.value),
            };
            Variable {
                name: entry.key.to_string(),
                name_at: entry.key_at,
                value: value_node.and_then(Node::as_str).map(str::to_owned),
                value_at: value_node.map_or(entry.key_at, |n| n.at),
            }
        })
        .collect()
}

/// The scalars of a script, nested sequences flattened (as GitLab does, 10 levels deep).
fn flatten_scalars<'a>(node: &'a Node, depth: usize, out: &mut Vec<&'a Node>) {
    match &node.value {
        Value::Scalar(_) => out.push(node),
        Value::Seq(items) if depth < MAX_NESTING => {
            items
                .iter()
                .for_each(|item| flatten_scalars(item, depth + 1, out));
        }
        _ => {}
    }
}

/// Loads `path` and the local files it includes (from the repository root, as GitLab does).
pub fn load(path: &Path) -> Result<(Pipeline, Vec<SourceFile>), FileError> {
    let root_dir = repository_root(path);
    let mut loader = Loader {
        root_dir,
        sources: Vec::new(),
        includes: Vec::new(),
        missing_includes: Vec::new(),
        stack: Vec::new(),
    };
    let merged = loader.load_file(path)?;
    // A name missing here may be defined by an include that was not read, or, in a file other
    // than the project's `.gitlab-ci.yml` (a fragment, a template library), by the files that
    // include it: only a whole pipeline can name nothing.
    let is_root = path
        .file_name()
        .is_some_and(|name| name == ".gitlab-ci.yml" || name == ".gitlab-ci.yaml");
    let complete = is_root
        && loader.missing_includes.is_empty()
        && loader
            .includes
            .iter()
            .all(|include| matches!(include.kind, IncludeKind::Local(_)));
    let rejected = |rejected: Rejected| {
        let file = loader
            .sources
            .get(rejected.at.file_index())
            .map_or(path, |source| source.path.as_path());
        FileError::new(
            file,
            format!("{}; GitLab rejects this pipeline", rejected.reason),
        )
        .at(rejected.at.line, rejected.at.column)
    };
    // Without a `!reference` tag there is nothing to resolve, and no second copy to make.
    let has_references = loader.sources.iter().any(|s| s.text.contains("!reference"));
    let resolved = if has_references {
        let mut resolver = ReferenceResolver {
            root: &merged,
            nodes_left: MAX_RESOLVED_NODES,
            complete,
        };
        resolver
            .resolve(&merged, 0)
            .map_err(|refused| match refused {
                Refused::TooLarge => FileError::new(
                    path,
                    format!(
                        "`!reference` tags expand the pipeline to more than {MAX_RESOLVED_NODES} nodes"
                    ),
                ),
                Refused::Rejected(why) => rejected(why),
            })?
    } else {
        merged
    };
    let mut resolved = resolved;
    let (templates, jobs) = jobs_of(&mut resolved, complete).map_err(rejected)?;
    Ok((
        Pipeline {
            root: resolved,
            jobs,
            templates,
            includes: loader.includes,
            missing_includes: loader.missing_includes,
        },
        loader.sources,
    ))
}

/// Where `include: local` paths start: the repository the linted file is in (the nearest
/// directory up from it that holds `.git`), as a path relative to the linted file's so that the
/// reports name files as the user would; the file's own directory outside a repository. Empty
/// for the working directory.
fn repository_root(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new(""));
    let here = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(absolute) = here.canonicalize() else {
        return dir.to_path_buf();
    };
    let Some(levels) = absolute
        .ancestors()
        .position(|ancestor| ancestor.join(".git").exists())
    else {
        return dir.to_path_buf();
    };
    let mut parts: Vec<std::path::Component<'_>> = dir
        .components()
        .filter(|part| *part != std::path::Component::CurDir)
        .collect();
    let mut root = PathBuf::new();
    for _ in 0..levels {
        if matches!(parts.last(), Some(std::path::Component::Normal(_))) {
            parts.pop();
        } else {
            root.push("..");
        }
    }
    parts.iter().collect::<PathBuf>().join(root)
}

struct Loader {
    /// Where `include: local` paths start (empty: the working directory).
    root_dir: PathBuf,
    sources: Vec<SourceFile>,
    includes: Vec<Include>,
    missing_includes: Vec<Include>,
    /// Files being loaded, to catch include cycles.
    stack: Vec<PathBuf>,
}

impl Loader {
    /// The file's content with what it includes merged underneath it.
    fn load_file(&mut self, path: &Path) -> Result<Node, FileError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            let chain: Vec<String> = self
                .stack
                .iter()
                .chain([&canonical])
                .map(|p| p.display().to_string())
                .collect();
            return Err(FileError {
                path: path.to_path_buf(),
                position: None,
                reason: format!("include cycle: {}", chain.join(" includes ")),
            });
        }
        if self.sources.len() >= MAX_INCLUDED_FILES {
            return Err(FileError {
                path: path.to_path_buf(),
                position: None,
                reason: format!("more than {MAX_INCLUDED_FILES} included files (GitLab's limit)"),
            });
        }
        let text = read_text(path)?;
        let file = self.sources.len();
        let documents = ci::parse(&text, path, file)?;
        self.sources.push(SourceFile {
            path: path.to_path_buf(),
            text,
        });
        let own = pipeline_document(documents, path)?;
        self.stack.push(canonical);
        let mut merged = Node::new(Value::Map(Vec::new()), own.at);
        if let Some(include) = own.get("include") {
            for entry in include_entries(include) {
                if let IncludeKind::Local(local) = &entry.kind {
                    let found = self.local_files(local);
                    if found.is_empty() {
                        self.missing_includes.push(entry.clone());
                    }
                    for included in found {
                        let content = self.load_file(&included)?;
                        merged = deep_merge(merged, content);
                    }
                }
                self.includes.push(entry);
            }
        }
        self.stack.pop();
        Ok(deep_merge(merged, without_key(own, "include")))
    }

    /// Files a local include names: a path from the repository root, possibly a glob.
    fn local_files(&self, pattern: &str) -> Vec<PathBuf> {
        let relative = pattern.trim_start_matches('/');
        if relative.contains('$') {
            return Vec::new();
        }
        if !relative.contains('*') {
            let path = self.root_dir.join(relative);
            return if path.is_file() {
                vec![path]
            } else {
                Vec::new()
            };
        }
        let Ok(matcher) = glob_regex(relative) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        // `read_dir("")` fails: the working directory is `.`, left out of the paths found.
        let start = if self.root_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.root_dir
        };
        walk(start, start, 0, &mut |rel| {
            if matcher.is_match(rel) {
                found.push(self.root_dir.join(rel));
            }
        });
        found.sort();
        found
    }
}

fn read_text(path: &Path) -> Result<String, FileError> {
    let error = |reason: String, position| FileError {
        path: path.to_path_buf(),
        position,
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read: {e}"), None))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        error(
            "not valid UTF-8 (a YAML file must be UTF-8 text)".to_owned(),
            Some((
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(u32::MAX),
            )),
        )
    })
}

/// The pipeline document of a file: the only one, or the one after a `spec:` header.
fn pipeline_document(documents: Vec<Node>, path: &Path) -> Result<Node, FileError> {
    let mut documents: Vec<Node> = documents
        .into_iter()
        .filter(|d| !matches!(d.value, Value::Null))
        .collect();
    if documents.len() > 1 && documents[0].get("spec").is_some() {
        documents.remove(0);
    }
    match documents.len() {
        0 => Ok(Node::new(Value::Map(Vec::new()), Pos::default())),
        1 => {
            let document = documents.remove(0);
            if document.entries().is_some() {
                Ok(document)
            } else {
                Err(FileError {
                    path: path.to_path_buf(),
                    position: Some((document.at.line, document.at.column)),
                    reason: "a GitLab CI file must be a mapping of keywords and jobs".to_owned(),
                })
            }
        }
        _ => Err(FileError {
            path: path.to_path_buf(),
            position: Some((documents[1].at.line, documents[1].at.column)),
            reason: "more than one YAML document; GitLab accepts only a `spec:` header followed by the pipeline".to_owned(),
        }),
    }
}

/// The entries of `include:` (a string, a mapping, or a list of them).
fn include_entries(include: &Node) -> Vec<Include> {
    let items: Vec<&Node> = match &include.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![include],
    };
    items.into_iter().filter_map(include_of).collect()
}

fn include_of(node: &Node) -> Option<Include> {
    let kind = match &node.value {
        Value::Scalar(scalar) => {
            let text = scalar.text();
            if text.starts_with("http://") || text.starts_with("https://") {
                IncludeKind::Remote {
                    url: without_secrets(text),
                    has_integrity: false,
                }
            } else {
                IncludeKind::Local(text.to_owned())
            }
        }
        Value::Map(_) => {
            if let Some(local) = node.get_str("local") {
                IncludeKind::Local(local.to_owned())
            } else if let Some(project) = node.get_str("project") {
                IncludeKind::Project {
                    project: project.to_owned(),
                    git_ref: node.get_str("ref").map(str::to_owned),
                }
            } else if let Some(url) = node.get_str("remote") {
                IncludeKind::Remote {
                    url: without_secrets(url),
                    has_integrity: node.get("integrity").is_some(),
                }
            } else if let Some(template) = node.get_str("template") {
                IncludeKind::Template(template.to_owned())
            } else {
                IncludeKind::Component(node.get_str("component")?.to_owned())
            }
        }
        Value::Null | Value::Seq(_) => return None,
    };
    Some(Include {
        kind,
        node: node.clone(),
    })
}

/// A URL for messages: userinfo replaced by `****`, query and fragment dropped (either may
/// carry a token).
fn without_secrets(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://****@{host}{path}"),
        None => url.to_owned(),
    }
}

/// `base` with `over` merged on top: mappings merge key by key, anything else is replaced.
/// Both are taken, so that a file of many jobs is moved into the pipeline, not copied.
pub fn deep_merge(base: Node, mut over: Node) -> Node {
    let over_value = std::mem::replace(&mut over.value, Value::Null);
    over.value = match (base.value, over_value) {
        (Value::Map(mut entries), Value::Map(over_entries)) => {
            // By key, so that merging two pipelines of many jobs stays linear.
            let mut index: HashMap<Text, usize> = entries
                .iter()
                .enumerate()
                .map(|(at, e)| (e.key.clone(), at))
                .collect();
            for entry in over_entries {
                match index.get(&entry.key) {
                    Some(&at) => {
                        let existing = &mut entries[at];
                        let earlier = std::mem::replace(
                            &mut existing.value,
                            Node::new(Value::Null, entry.key_at),
                        );
                        existing.value = deep_merge(earlier, entry.value);
                        existing.key_at = entry.key_at;
                    }
                    None => {
                        index.insert(entry.key.clone(), entries.len());
                        entries.push(entry);
                    }
                }
            }
            Value::Map(entries)
        }
        (_, over_value) => over_value,
    };
    over
}

/// `node` without `key`, if it is a mapping.
fn without_key(mut node: Node, key: &str) -> Node {
    if let Value::Map(entries) = &mut node.value {
        entries.retain(|e| e.key != key);
    }
    node
}

/// Resolves `!reference [key, ...]` tags against the merged pipeline, within a node budget so
/// that references to references cannot multiply without bound.
struct ReferenceResolver<'a> {
    root: &'a Node,
    nodes_left: usize,
    /// Every include was read: a reference to nothing is an error, not a gap.
    complete: bool,
}

/// `!reference` tags may expand the pipeline to at most this many nodes.
const MAX_RESOLVED_NODES: usize = 2_000_000;

/// Why references could not be resolved.
enum Refused {
    /// The node budget ran out.
    TooLarge,
    /// GitLab would reject the pipeline.
    Rejected(Rejected),
}

impl ReferenceResolver<'_> {
    /// `node` with every reference replaced by what it names; a reference inside a sequence
    /// that names a sequence is spliced in.
    fn resolve(&mut self, node: &Node, depth: usize) -> Result<Node, Refused> {
        self.nodes_left = self.nodes_left.checked_sub(1).ok_or(Refused::TooLarge)?;
        if node.tag == Tag::Reference {
            if depth >= MAX_CHAIN {
                return Err(Refused::Rejected(Rejected {
                    at: node.at,
                    reason: format!("`!reference` tags nest more than {MAX_CHAIN} levels deep"),
                }));
            }
            return match lookup_reference(node, self.root) {
                Some(target) => self.resolve(target, depth + 1),
                None if self.complete => Err(Refused::Rejected(Rejected {
                    at: node.at,
                    reason: format!(
                        "`!reference [{}]` names nothing in the pipeline",
                        reference_path(node)
                    ),
                })),
                None => Ok(Node::new(Value::Null, node.at)),
            };
        }
        let value = match &node.value {
            Value::Seq(items) => {
                let mut resolved = Vec::with_capacity(items.len());
                for item in items {
                    let is_reference = item.tag == Tag::Reference;
                    let value = self.resolve(item, depth)?;
                    match value.value {
                        Value::Seq(spliced) if is_reference => resolved.extend(spliced),
                        _ => resolved.push(value),
                    }
                }
                Value::Seq(resolved)
            }
            Value::Map(entries) => {
                let mut resolved = Vec::with_capacity(entries.len());
                for entry in entries {
                    resolved.push(Entry {
                        key: entry.key.clone(),
                        key_at: entry.key_at,
                        value: self.resolve(&entry.value, depth)?,
                    });
                }
                Value::Map(resolved)
            }
            Value::Null | Value::Scalar(_) => return Ok(node.clone()),
        };
        Ok(node.with_value(value))
    }
}

/// `a, b` for `!reference [a, b]`.
fn reference_path(reference: &Node) -> String {
    reference
        .items()
        .unwrap_or_default()
        .iter()
        .map(|key| key.as_str().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `!reference [a, b, ...]` points at: keys of mappings, or indexes into sequences (as
/// gitlab-ci-local resolves `!reference [.services, 0]`).
fn lookup_reference<'a>(reference: &Node, root: &'a Node) -> Option<&'a Node> {
    let mut target = root;
    for key in reference.items()? {
        let key = key.as_str()?;
        target = match (&target.value, key.parse::<usize>()) {
            (Value::Seq(items), Ok(index)) => items.get(index)?,
            _ => target.get(key)?,
        };
    }
    Some(target)
}

/// The hidden jobs (templates) and the jobs of a resolved pipeline, with `extends:` applied,
/// and `default:` and global variables to the visible ones (a template receives them only
/// through the jobs that use it); an `extends:` GitLab rejects is an error when every include
/// was read (`complete`).
fn jobs_of(root: &mut Node, complete: bool) -> Result<(Vec<Job>, Vec<Job>), Rejected> {
    let defaults = defaults_of(root);
    let global_variables = root.get("variables").map(variables_of).unwrap_or_default();
    let is_job =
        |e: &Entry| !GLOBAL_KEYWORDS.contains(&e.key.as_str()) && e.value.entries().is_some();
    // First, with the whole file to look parents up in, the jobs that `extends:` others.
    let mut extender = Extender::new(root, complete);
    let mut extended: Vec<Option<Node>> = Vec::new();
    for entry in root
        .entries()
        .unwrap_or_default()
        .iter()
        .filter(|e| is_job(e))
    {
        let body = if entry.value.get("extends").is_some() {
            Some(extender.extend(&entry.key, &entry.value, 0)?)
        } else {
            None
        };
        extended.push(body);
    }
    drop(extender);
    // Then the jobs leave the root (which keeps the global keywords): a job without
    // `extends:` is moved, not copied.
    let Value::Map(entries) = &mut root.value else {
        return Ok((Vec::new(), Vec::new()));
    };
    // Sized first: a pipeline of many jobs is a long mapping, and growing vectors double.
    let job_count = entries.iter().filter(|e| is_job(e)).count();
    let mut job_entries = Vec::with_capacity(job_count);
    let mut globals = Vec::with_capacity(entries.len() - job_count);
    for entry in std::mem::take(entries) {
        if is_job(&entry) {
            job_entries.push(entry);
        } else {
            globals.push(entry);
        }
    }
    *entries = globals;
    let hidden_count = job_entries
        .iter()
        .filter(|e| e.key.starts_with('.'))
        .count();
    let mut templates = Vec::with_capacity(hidden_count);
    let mut jobs = Vec::with_capacity(job_entries.len() - hidden_count);
    for (entry, extended) in job_entries.into_iter().zip(extended) {
        let hidden = entry.key.starts_with('.');
        let extended = extended.unwrap_or(entry.value);
        let (body, global_variables) = if hidden {
            (extended, Vec::new())
        } else {
            let body = apply_defaults(extended, &defaults);
            let inherited = if inherits(&body, "variables", None) {
                global_variables.clone()
            } else {
                Vec::new()
            };
            (body, inherited)
        };
        let job = Job {
            name: entry.key.to_string(),
            at: entry.key_at,
            body,
            global_variables,
            hidden,
        };
        if hidden {
            templates.push(job);
        } else {
            jobs.push(job);
        }
    }
    Ok((templates, jobs))
}

/// `default:` merged over the legacy top-level keywords.
fn defaults_of(root: &Node) -> Vec<Entry> {
    let mut defaults: Vec<Entry> = root
        .entries()
        .unwrap_or_default()
        .iter()
        .filter(|e| LEGACY_DEFAULT_KEYWORDS.contains(&e.key.as_str()))
        .cloned()
        .collect();
    if let Some(entries) = root.get("default").and_then(Node::entries) {
        for entry in entries
            .iter()
            .filter(|e| DEFAULT_KEYWORDS.contains(&e.key.as_str()))
        {
            defaults.retain(|d| d.key != entry.key);
            defaults.push(entry.clone());
        }
    }
    defaults
}

/// Applies `extends:`, each parent extended once however many jobs use it.
struct Extender<'a> {
    by_name: HashMap<&'a str, &'a Node>,
    extended: HashMap<String, Node>,
    /// The chain being extended, to name a cycle.
    in_progress: Vec<String>,
    /// Every include was read: a parent that is nowhere is an error, not a gap.
    complete: bool,
}

impl<'a> Extender<'a> {
    fn new(root: &'a Node, complete: bool) -> Self {
        let by_name = root
            .entries()
            .unwrap_or_default()
            .iter()
            .filter(|e| e.value.entries().is_some())
            .map(|e| (e.key.as_str(), &e.value))
            .collect();
        Extender {
            by_name,
            extended: HashMap::new(),
            in_progress: Vec::new(),
            complete,
        }
    }

    /// `body` (of job `name`) with its `extends:` parents merged underneath it (in order,
    /// later parents winning). A cycle, a chain deeper than GitLab follows, or (when every
    /// include was read) a parent that is nowhere is what GitLab rejects.
    fn extend(&mut self, name: &str, body: &Node, depth: usize) -> Result<Node, Rejected> {
        let Some(parents) = body.get("extends") else {
            return Ok(body.clone());
        };
        if depth >= MAX_CHAIN {
            return Err(Rejected {
                at: parents.at,
                reason: format!("`extends:` of `{name}` nests more than {MAX_CHAIN} levels deep"),
            });
        }
        self.in_progress.push(name.to_owned());
        let mut merged = Node::new(Value::Map(Vec::new()), body.at);
        for parent in parents.scalars() {
            let parent_name = parent.as_str().unwrap_or_default();
            if let Some(parent_extended) = self.extended_parent(parent, parent_name, depth + 1)? {
                merged = deep_merge(merged, parent_extended);
            }
        }
        self.in_progress.pop();
        Ok(without_key(deep_merge(merged, body.clone()), "extends"))
    }

    fn extended_parent(
        &mut self,
        at: &Node,
        name: &str,
        depth: usize,
    ) -> Result<Option<Node>, Rejected> {
        if let Some(done) = self.extended.get(name) {
            return Ok(Some(done.clone()));
        }
        if self.in_progress.iter().any(|seen| seen == name) {
            let mut chain = self.in_progress.clone();
            chain.push(name.to_owned());
            return Err(Rejected {
                at: at.at,
                reason: format!("circular `extends:`: {}", chain.join(" -> ")),
            });
        }
        let Some(body) = self.by_name.get(name).copied() else {
            return if self.complete {
                Err(Rejected {
                    at: at.at,
                    reason: format!("`extends: {name}` names no job or template of the pipeline"),
                })
            } else {
                Ok(None)
            };
        };
        let extended = self.extend(name, body, depth)?;
        self.extended.insert(name.to_owned(), extended.clone());
        Ok(Some(extended))
    }
}

fn apply_defaults(mut job: Node, defaults: &[Entry]) -> Node {
    let missing: Vec<Entry> = match &job.value {
        Value::Map(entries) => defaults
            .iter()
            .filter(|d| !entries.iter().any(|e| e.key == d.key))
            .filter(|d| inherits(&job, "default", Some(&d.key)))
            .cloned()
            .collect(),
        _ => return job,
    };
    if let Value::Map(entries) = &mut job.value {
        entries.extend(missing);
    }
    job
}

/// Whether `inherit:<what>` lets the job inherit (`key`: one keyword of it).
fn inherits(job: &Node, what: &str, key: Option<&str>) -> bool {
    let Some(setting) = job.get("inherit").and_then(|i| i.get(what)) else {
        return true;
    };
    match &setting.value {
        Value::Scalar(flag) => flag.text() != "false",
        Value::Seq(items) => key.is_some_and(|k| items.iter().any(|i| i.as_str() == Some(k))),
        Value::Null | Value::Map(_) => true,
    }
}

/// A regex for a GitLab include glob: `**` any path, `*` within one directory.
fn glob_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    let mut out = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    out.push_str("(?:.*/)?");
                } else {
                    out.push_str(".*");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    regex::Regex::new(&out)
}

/// Visits the files under `dir` (not hidden directories but `.gitlab`, 8 levels deep at most),
/// with their path relative to `root` in `/` form.
fn walk(root: &Path, dir: &Path, depth: usize, visit: &mut dyn FnMut(&str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < 8 {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name != ".git" && name != "target" && name != "node_modules" {
                walk(root, &path, depth + 1, visit);
            }
        } else if kind.is_file()
            && let Ok(relative) = path.strip_prefix(root)
        {
            let relative: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            visit(&relative.join("/"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline(files: &[(&str, &str)]) -> Pipeline {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        load(&dir.path().join(files[0].0)).expect("loads").0
    }

    fn job<'a>(pipeline: &'a Pipeline, name: &str) -> &'a Job {
        pipeline.jobs.iter().find(|j| j.name == name).expect("job")
    }

    fn script_texts(job: &Job) -> Vec<String> {
        job.script_lines()
            .into_iter()
            .map(|l| l.text.to_owned())
            .collect()
    }

    #[test]
    fn extends_merges_hashes_and_replaces_arrays() {
        let p = pipeline(&[(
            ".gitlab-ci.yml",
            ".a:\n  variables: {A: '1', B: '1'}\n  script: [a]\n.b:\n  extends: .a\n  variables: {B: '2'}\njob:\n  extends: [.b]\n  script: [mine]\n",
        )]);
        let job = job(&p, "job");
        let vars: Vec<_> = job
            .variables()
            .into_iter()
            .map(|v| (v.name, v.value))
            .collect();
        assert_eq!(
            vars,
            vec![
                ("A".into(), Some("1".into())),
                ("B".into(), Some("2".into()))
            ]
        );
        assert_eq!(script_texts(job), vec!["mine"]);
        assert_eq!(p.jobs.len(), 1, "hidden jobs are not jobs");
    }

    #[test]
    fn references_resolve_and_splice_into_scripts() {
        let p = pipeline(&[(
            ".gitlab-ci.yml",
            ".setup:\n  script: [one, two]\njob:\n  script:\n    - !reference [.setup, script]\n    - three\n",
        )]);
        let job = job(&p, "job");
        assert_eq!(script_texts(job), vec!["one", "two", "three"]);
        assert_eq!(job.script_lines()[0].at.line, 2);
    }

    #[test]
    fn defaults_apply_unless_set_or_not_inherited() {
        let p = pipeline(&[(
            ".gitlab-ci.yml",
            "default:\n  before_script: [setup]\nvariables: {G: x}\na:\n  script: [a]\nb:\n  inherit: {default: false, variables: false}\n  script: [b]\n",
        )]);
        assert_eq!(script_texts(job(&p, "a")), vec!["setup", "a"]);
        assert_eq!(script_texts(job(&p, "b")), vec!["b"]);
        assert!(job(&p, "b").variables().is_empty());
    }

    #[test]
    fn local_includes_are_followed_with_globs_and_positions() {
        let p = pipeline(&[
            (
                ".gitlab-ci.yml",
                "include:\n  - local: /ci/*.yml\n  - project: g/p\n    file: x.yml\njob:\n  extends: .base\n",
            ),
            ("ci/base.yml", ".base:\n  script: [from-include]\n"),
        ]);
        let job = job(&p, "job");
        let line = &job.script_lines()[0];
        assert_eq!(
            (line.text, line.at.file, line.at.line),
            ("from-include", 1, 2)
        );
        assert_eq!(p.includes.len(), 2);
    }

    #[test]
    fn reference_and_extends_fan_out_stays_bounded() {
        let mut text = String::from(".l0:\n  script: [a, b, c, d, e, f, g, h, i, j]\n");
        for level in 1..=10 {
            let refs = vec![format!("!reference [.l{}, script]", level - 1); 10].join(", ");
            let parents = vec![format!(".l{}", level - 1); 10].join(", ");
            text.push_str(&format!(
                ".l{level}:\n  extends: [{parents}]\n  script: [{refs}]\n"
            ));
        }
        text.push_str("job:\n  extends: .l10\n");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".gitlab-ci.yml");
        std::fs::write(&path, text).expect("write");
        let error = load(&path).expect_err("a reference bomb is refused");
        assert!(error.reason.contains("!reference"), "{error}");
    }

    #[test]
    fn remote_include_urls_lose_their_secrets() {
        assert_eq!(
            without_secrets("https://u:tok@host/a/b.yml?private_token=x"),
            "https://****@host/a/b.yml"
        );
        assert_eq!(without_secrets("https://host/a.yml"), "https://host/a.yml");
    }

    #[test]
    fn spec_headers_are_skipped() {
        let p = pipeline(&[(
            "t.yml",
            "spec:\n  inputs:\n    stage: {default: test}\n---\njob:\n  script: [run]\n",
        )]);
        assert_eq!(p.jobs.len(), 1);
    }

    #[test]
    fn include_cycles_and_missing_includes_do_not_loop() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.yml"), "include: b.yml\n").expect("write");
        std::fs::write(dir.path().join("b.yml"), "include: a.yml\n").expect("write");
        let error = load(&dir.path().join("a.yml")).expect_err("cycle");
        assert!(error.reason.contains("include cycle"), "{error}");
        let p = pipeline(&[(".gitlab-ci.yml", "include: missing.yml\n")]);
        assert_eq!(p.missing_includes.len(), 1);
    }
}
