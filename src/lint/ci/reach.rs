//! Reachability: on which kinds of ref a job can run, judged by evaluating `workflow:rules`,
//! `rules:` and `only:`/`except:` in a few typical pipeline contexts with three-valued logic
//! (an expression ciguard cannot decide counts as "may run").

use std::borrow::Cow;

use super::pipeline::{Job, Pipeline};
use crate::yaml::ci::{Node, Value};

/// Where a job can run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// On a branch nobody protected (any developer's push, web or API pipeline).
    pub unprotected_branches: bool,
    /// In merge-request pipelines.
    pub merge_requests: bool,
    /// It runs on the default branch, protected only if the project protects it.
    pub default_branch: bool,
    /// Branches named in its rules it runs on, protected only if the project protects them.
    pub named_branches: Vec<String>,
    /// It runs for tags, protected only if the project protects them.
    pub tags: bool,
    /// The unprotected reach rests on conditions ciguard cannot decide (`$DEPLOY == "yes"`,
    /// `$CI_COMMIT_BRANCH =~ /^release/`).
    pub undecided: bool,
}

impl Reach {
    /// Whether the job can run where protected variables are not meant to go.
    pub fn unprotected(&self) -> bool {
        self.unprotected_branches || self.merge_requests
    }

    /// Refs it is limited to that are protected only if the project protects them, e.g.
    /// `the default branch`, `` branch `release` ``, `tags`.
    pub fn named_refs(&self) -> Vec<Cow<'static, str>> {
        let mut refs = Vec::new();
        if self.default_branch {
            refs.push(Cow::Borrowed("the default branch"));
        }
        refs.extend(
            self.named_branches
                .iter()
                .map(|name| Cow::Owned(format!("branch `{name}`"))),
        );
        if self.tags {
            refs.push(Cow::Borrowed("tags"));
        }
        refs
    }

    /// Where it can run, for a finding's message.
    pub fn describe(&self) -> String {
        let may = if self.undecided {
            "may run (by conditions ciguard cannot decide) "
        } else {
            "runs "
        };
        if self.unprotected_branches && self.merge_requests {
            format!("{may}on any unprotected branch and in merge-request pipelines")
        } else if self.unprotected_branches {
            format!("{may}on any unprotected branch")
        } else if self.merge_requests {
            format!("{may}in merge-request pipelines")
        } else {
            format!(
                "runs only on {}, which is protected only if the project protects it",
                self.named_refs().join(", ")
            )
        }
    }
}

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn from_bool(value: bool) -> Tri {
        if value { Tri::True } else { Tri::False }
    }

    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }

    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    fn or(self, other: Tri) -> Tri {
        self.not().and(other.not()).not()
    }
}

/// The kind of ref a pipeline runs for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RefKind {
    /// Some developer's branch.
    FeatureBranch,
    /// A merge-request pipeline.
    MergeRequest,
    /// The default branch (assumed to be `main`).
    DefaultBranch,
    /// A branch the configuration names.
    NamedBranch(String),
    /// A tag.
    Tag,
}

/// One pipeline context. Every context judged is for an unprotected ref: the question is
/// whether a job can run where protected variables are not meant to go.
#[derive(Debug, Clone)]
struct Context {
    kind: RefKind,
}

/// A variable's value in a context.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Unset,
    Text(String),
    /// Some branch name equal to no literal of the configuration.
    OtherName,
    /// Any value but this one (`CI_PIPELINE_SOURCE` outside merge-request pipelines).
    AnythingBut(&'static str),
    Unknown,
}

const ASSUMED_DEFAULT_BRANCH: &str = "main";
const MERGE_REQUEST_EVENT: &str = "merge_request_event";

impl Context {
    fn variable(&self, name: &str) -> Val {
        let text = |s: &str| Val::Text(s.to_owned());
        let branch = match &self.kind {
            RefKind::FeatureBranch => Val::OtherName,
            RefKind::DefaultBranch => text(ASSUMED_DEFAULT_BRANCH),
            RefKind::NamedBranch(name) => text(name),
            RefKind::MergeRequest | RefKind::Tag => Val::Unset,
        };
        let is_mr = self.kind == RefKind::MergeRequest;
        match name {
            "CI_COMMIT_BRANCH" => branch,
            "CI_COMMIT_REF_NAME" | "CI_COMMIT_REF_SLUG" => match branch {
                Val::Unset => Val::OtherName,
                other => other,
            },
            "CI_DEFAULT_BRANCH" => text(ASSUMED_DEFAULT_BRANCH),
            "CI_COMMIT_TAG" => {
                if self.kind == RefKind::Tag {
                    Val::OtherName
                } else {
                    Val::Unset
                }
            }
            "CI_COMMIT_REF_PROTECTED" => text("false"),
            "CI_PIPELINE_SOURCE" if is_mr => text(MERGE_REQUEST_EVENT),
            "CI_PIPELINE_SOURCE" => Val::AnythingBut(MERGE_REQUEST_EVENT),
            _ if name.starts_with("CI_MERGE_REQUEST_") && !is_mr => Val::Unset,
            _ if name.starts_with("CI_MERGE_REQUEST_") => Val::OtherName,
            "CI_EXTERNAL_PULL_REQUEST_IID" => Val::Unset,
            _ => Val::Unknown,
        }
    }

    fn ref_name(&self) -> Option<&str> {
        match &self.kind {
            RefKind::DefaultBranch => Some(ASSUMED_DEFAULT_BRANCH),
            RefKind::NamedBranch(name) => Some(name),
            RefKind::FeatureBranch | RefKind::MergeRequest | RefKind::Tag => None,
        }
    }
}

/// The pipeline-wide conditions every job runs under, worked out once for a pipeline: its
/// `workflow:rules`, and whether it has merge-request pipelines at all.
#[derive(Debug, Clone, Copy)]
pub struct Workflow<'a> {
    rules: Option<&'a Node>,
    merge_request_pipelines: bool,
}

impl<'a> Workflow<'a> {
    /// The workflow of `pipeline` (the root of a pipeline of many jobs is a long mapping, and
    /// finding whether merge-request pipelines exist may ask every job).
    pub fn of(pipeline: &'a Pipeline) -> Self {
        let rules = pipeline.root.get("workflow").and_then(|w| w.get("rules"));
        Workflow {
            rules,
            merge_request_pipelines: merge_request_pipelines_exist(pipeline, rules),
        }
    }
}

/// Where each of `jobs` can run under `workflow`, in their order.
pub fn reaches(workflow: Workflow<'_>, jobs: &[Job]) -> Vec<Reach> {
    jobs.iter()
        .map(|job| reach(job, workflow.rules, workflow.merge_request_pipelines))
        .collect()
}

/// Where `job` can run in `pipeline`.
fn reach(job: &Job, workflow_rules: Option<&Node>, mr_pipelines_exist: bool) -> Reach {
    let mut named: Vec<String> = Vec::new();
    for node in [job.get("rules"), job.get("only"), workflow_rules]
        .into_iter()
        .flatten()
    {
        collect_branch_literals(node, &mut named);
    }
    named.retain(|n| n != ASSUMED_DEFAULT_BRANCH);
    named.sort();
    named.dedup();
    let runs = |kind: RefKind| {
        let context = Context { kind };
        if context.kind == RefKind::MergeRequest && !mr_pipelines_exist {
            return Tri::False;
        }
        workflow_allows(workflow_rules, &context).and(job_runs(job, &context))
    };
    let feature = runs(RefKind::FeatureBranch);
    let merge_request = runs(RefKind::MergeRequest);
    let mut reach = Reach {
        unprotected_branches: feature != Tri::False,
        merge_requests: merge_request != Tri::False,
        default_branch: false,
        named_branches: Vec::new(),
        tags: false,
        undecided: feature.or(merge_request) == Tri::Unknown,
    };
    if runs(RefKind::DefaultBranch) != Tri::False {
        reach.default_branch = true;
    }
    for name in named {
        if runs(RefKind::NamedBranch(name.clone())) != Tri::False {
            reach.named_branches.push(name);
        }
    }
    if runs(RefKind::Tag) != Tri::False {
        reach.tags = true;
    }
    reach
}

/// Without `workflow:rules`, GitLab creates merge-request pipelines only when some job's
/// `rules:` (or `only: [merge_requests]`) admit them.
fn merge_request_pipelines_exist(pipeline: &Pipeline, workflow_rules: Option<&Node>) -> bool {
    let context = Context {
        kind: RefKind::MergeRequest,
    };
    match workflow_rules {
        Some(rules) => evaluate_rules(rules, &context) != Tri::False,
        None => pipeline
            .jobs
            .iter()
            .any(|job| job_runs(job, &context) == Tri::True),
    }
}

fn workflow_allows(workflow_rules: Option<&Node>, context: &Context) -> Tri {
    match workflow_rules {
        Some(rules) => evaluate_rules(rules, context),
        None => Tri::True,
    }
}

fn job_runs(job: &Job, context: &Context) -> Tri {
    if let Some(rules) = job.get("rules") {
        return evaluate_rules(rules, context);
    }
    let is_mr = context.kind == RefKind::MergeRequest;
    let included = match job.get("only") {
        Some(only) => matches_only(only, context, Tri::from_bool(!is_mr)),
        None => Tri::from_bool(!is_mr),
    };
    let except = job.get("except");
    let excluded = except.map_or(Tri::False, |except| {
        matches_only(except, context, Tri::True)
    });
    included.and(excluded.not())
}

/// `rules:`: the first rule whose conditions hold decides; none holding means the job is not
/// added.
fn evaluate_rules(rules: &Node, context: &Context) -> Tri {
    let mut result = Tri::False;
    for rule in rules.items().unwrap_or_default() {
        let mut condition = rule
            .get_str("if")
            .map_or(Tri::True, |e| evaluate(e, context));
        if rule.get("changes").is_some() || rule.get("exists").is_some() {
            condition = condition.and(Tri::Unknown);
        }
        let never = rule.get_str("when") == Some("never");
        match (condition, never) {
            (Tri::True, true) => return result,
            (Tri::True, false) => return Tri::True,
            (Tri::Unknown, false) => result = Tri::Unknown,
            (Tri::Unknown, true) | (Tri::False, _) => {}
        }
    }
    result
}

/// `only:`/`except:` as a list of refs, or a mapping of `refs:` and `variables:`.
/// `refs_by_default`: what a mapping without `refs:` matches (for `only:`, GitLab's default
/// `branches` and `tags`; for `except:`, every ref).
fn matches_only(node: &Node, context: &Context, refs_by_default: Tri) -> Tri {
    match &node.value {
        Value::Map(_) => {
            let refs = node
                .get("refs")
                .map_or(refs_by_default, |r| matches_refs(r, context));
            let variables = node.get("variables").map_or(Tri::True, |v| {
                v.scalars()
                    .into_iter()
                    .filter_map(Node::as_str)
                    .fold(Tri::False, |acc, e| acc.or(evaluate(e, context)))
            });
            let changes = if node.get("changes").is_some() || node.get("kubernetes").is_some() {
                Tri::Unknown
            } else {
                Tri::True
            };
            refs.and(variables).and(changes)
        }
        _ => matches_refs(node, context),
    }
}

fn matches_refs(node: &Node, context: &Context) -> Tri {
    node.scalars()
        .into_iter()
        .filter_map(Node::as_str)
        .fold(Tri::False, |acc, r| acc.or(matches_ref(r, context)))
}

fn matches_ref(reference: &str, context: &Context) -> Tri {
    let is_branch = matches!(
        context.kind,
        RefKind::FeatureBranch | RefKind::DefaultBranch | RefKind::NamedBranch(_)
    );
    let is_mr = context.kind == RefKind::MergeRequest;
    let reference = reference.split('@').next().unwrap_or(reference);
    match reference {
        "branches" => Tri::from_bool(is_branch),
        "tags" => Tri::from_bool(context.kind == RefKind::Tag),
        "merge_requests" => Tri::from_bool(is_mr),
        "api"
        | "chat"
        | "external"
        | "external_pull_requests"
        | "pipelines"
        | "pushes"
        | "schedules"
        | "triggers"
        | "web" => {
            if is_mr {
                Tri::False
            } else {
                Tri::Unknown
            }
        }
        _ if is_mr => Tri::False,
        _ if reference.starts_with('/') => match context.ref_name() {
            Some(name) => regex_matches(reference, name),
            None => Tri::Unknown,
        },
        _ => match context.ref_name() {
            Some(name) => Tri::from_bool(name == reference),
            None => Tri::False,
        },
    }
}

/// Branch names the configuration compares against, so each gets its own context.
fn collect_branch_literals(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Scalar(scalar) => {
            let text = scalar.text();
            for token in tokens(text) {
                if let Token::Text(literal) = token
                    && !literal.is_empty()
                    && !literal.contains(' ')
                {
                    out.push(literal);
                }
            }
            if !text.starts_with('$') && !text.starts_with('/') && !text.contains(' ') {
                out.push(text.split('@').next().unwrap_or(text).to_owned());
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| collect_branch_literals(i, out)),
        Value::Map(entries) => entries
            .iter()
            .filter(|e| matches!(e.key.as_str(), "rules" | "if" | "refs"))
            .for_each(|e| collect_branch_literals(&e.value, out)),
        Value::Null => {}
    }
    out.retain(|name| {
        !matches!(
            name.as_str(),
            "branches" | "tags" | "merge_requests" | "true" | "false" | "merge_request_event"
        )
    });
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Variable(String),
    Text(String),
    Regex(String),
    Null,
    Op(&'static str),
    Open,
    Close,
}

fn tokens(expression: &str) -> Vec<Token> {
    let chars: Vec<char> = expression.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if c.is_whitespace() {
            i += 1;
        } else if let Some(op) = ["==", "!=", "=~", "!~", "&&", "||"]
            .into_iter()
            .find(|op| rest == *op)
        {
            out.push(Token::Op(op));
            i += 2;
        } else if c == '(' || c == ')' {
            out.push(if c == '(' { Token::Open } else { Token::Close });
            i += 1;
        } else if c == '$' {
            let braced = chars.get(i + 1) == Some(&'{');
            let start = i + 1 + usize::from(braced);
            let mut end = start;
            while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            out.push(Token::Variable(chars[start..end].iter().collect()));
            i = end + usize::from(braced);
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&q| q == c)
                .map_or(chars.len(), |p| i + 1 + p);
            out.push(Token::Text(chars[i + 1..end].iter().collect()));
            i = end + 1;
        } else if c == '/' {
            let mut end = i + 1;
            while end < chars.len() && chars[end] != '/' {
                end += usize::from(chars[end] == '\\') + 1;
            }
            let mut flags_end = end + 1;
            while flags_end < chars.len() && chars[flags_end].is_ascii_alphabetic() {
                flags_end += 1;
            }
            out.push(Token::Regex(
                chars[i..flags_end.min(chars.len())].iter().collect(),
            ));
            i = flags_end;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()".contains(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(if word == "null" {
                Token::Null
            } else {
                Token::Text(word)
            });
        }
    }
    out
}

/// Evaluates a CI/CD expression (`$A == "x" && ($B =~ /re/ || $C)`) in `context`.
fn evaluate(expression: &str, context: &Context) -> Tri {
    let tokens = tokens(expression);
    let mut parser = Parser {
        tokens: &tokens,
        next: 0,
        context,
    };
    let value = parser.or();
    if parser.next == tokens.len() {
        value
    } else {
        Tri::Unknown
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
    context: &'a Context,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn or(&mut self) -> Tri {
        let mut value = self.and();
        while self.peek() == Some(&Token::Op("||")) {
            self.next += 1;
            value = value.or(self.and());
        }
        value
    }

    fn and(&mut self) -> Tri {
        let mut value = self.comparison();
        while self.peek() == Some(&Token::Op("&&")) {
            self.next += 1;
            value = value.and(self.comparison());
        }
        value
    }

    fn comparison(&mut self) -> Tri {
        if self.peek() == Some(&Token::Open) {
            self.next += 1;
            let value = self.or();
            if self.peek() == Some(&Token::Close) {
                self.next += 1;
            }
            return value;
        }
        let Some(left) = self.operand() else {
            self.next = self.tokens.len() + 1;
            return Tri::Unknown;
        };
        let op = match self.peek() {
            Some(Token::Op(op)) if matches!(*op, "==" | "!=" | "=~" | "!~") => *op,
            _ => return truthy(&left),
        };
        self.next += 1;
        let Some(right) = self.operand() else {
            self.next = self.tokens.len() + 1;
            return Tri::Unknown;
        };
        match op {
            "==" => equals(&left, &right),
            "!=" => equals(&left, &right).not(),
            "=~" => regex_compare(&left, &right),
            _ => regex_compare(&left, &right).not(),
        }
    }

    fn operand(&mut self) -> Option<Operand> {
        let operand = match self.tokens.get(self.next)? {
            Token::Variable(name) => Operand::Value(self.context.variable(name)),
            Token::Text(text) => Operand::Value(Val::Text(text.clone())),
            Token::Null => Operand::Value(Val::Unset),
            Token::Regex(regex) => Operand::Regex(regex.clone()),
            Token::Op(_) | Token::Open | Token::Close => return None,
        };
        self.next += 1;
        Some(operand)
    }
}

enum Operand {
    Value(Val),
    Regex(String),
}

fn truthy(operand: &Operand) -> Tri {
    match operand {
        Operand::Value(Val::Unset) => Tri::False,
        Operand::Value(Val::Text(text)) => Tri::from_bool(!text.is_empty()),
        Operand::Value(Val::OtherName | Val::AnythingBut(_)) => Tri::True,
        Operand::Value(Val::Unknown) | Operand::Regex(_) => Tri::Unknown,
    }
}

fn equals(left: &Operand, right: &Operand) -> Tri {
    let (Operand::Value(left), Operand::Value(right)) = (left, right) else {
        return Tri::Unknown;
    };
    match (left, right) {
        (Val::Unknown, _) | (_, Val::Unknown) => Tri::Unknown,
        (Val::AnythingBut(excluded), Val::Text(t)) | (Val::Text(t), Val::AnythingBut(excluded)) => {
            if t == excluded {
                Tri::False
            } else {
                Tri::Unknown
            }
        }
        (Val::AnythingBut(_), _) | (_, Val::AnythingBut(_)) => Tri::Unknown,
        (Val::Unset, Val::Unset) => Tri::True,
        (Val::Unset, Val::Text(t)) | (Val::Text(t), Val::Unset) => Tri::from_bool(t.is_empty()),
        (Val::Text(a), Val::Text(b)) => Tri::from_bool(a == b),
        (Val::OtherName, Val::OtherName) => Tri::Unknown,
        (Val::OtherName, _) | (_, Val::OtherName) => Tri::False,
    }
}

fn regex_compare(left: &Operand, right: &Operand) -> Tri {
    match (left, right) {
        (Operand::Value(Val::Text(text)), Operand::Regex(regex))
        | (Operand::Regex(regex), Operand::Value(Val::Text(text))) => regex_matches(regex, text),
        (Operand::Value(Val::Unset), Operand::Regex(_)) => Tri::False,
        _ => Tri::Unknown,
    }
}

/// `/pattern/flags` against `text`; a pattern the regex crate does not accept is unknown.
fn regex_matches(literal: &str, text: &str) -> Tri {
    let Some(body) = literal.strip_prefix('/') else {
        return Tri::Unknown;
    };
    let Some((pattern, flags)) = body.rsplit_once('/') else {
        return Tri::Unknown;
    };
    let case = if flags.contains('i') { "(?i)" } else { "" };
    regex::Regex::new(&format!("{case}{pattern}"))
        .map_or(Tri::Unknown, |re| Tri::from_bool(re.is_match(text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::ci::pipeline;

    fn reach_of(text: &str) -> Reach {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".gitlab-ci.yml");
        std::fs::write(&path, text).expect("write");
        let (pipeline, _) = pipeline::load(&path).expect("loads");
        let index = pipeline
            .jobs
            .iter()
            .position(|j| j.name == "job")
            .expect("job");
        reaches(Workflow::of(&pipeline), &pipeline.jobs).swap_remove(index)
    }

    #[test]
    fn no_rules_runs_on_every_branch_but_not_in_merge_requests() {
        let reach = reach_of("job:\n  script: [x]\n");
        assert!(reach.unprotected_branches);
        assert!(!reach.merge_requests);
    }

    #[test]
    fn protected_ref_rule_restricts_to_protected_refs() {
        let reach = reach_of(
            "job:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_REF_PROTECTED == \"true\"\n",
        );
        assert_eq!(reach, Reach::default());
    }

    #[test]
    fn default_branch_rule_is_protected_only_if_the_project_protects_it() {
        let reach = reach_of(
            "job:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n",
        );
        assert!(!reach.unprotected());
        assert_eq!(reach.named_refs(), vec!["the default branch"]);
        let only = reach_of("job:\n  script: [x]\n  only: [release]\n");
        assert!(!only.unprotected());
        assert_eq!(only.named_refs(), vec!["branch `release`"]);
    }

    #[test]
    fn merge_request_rules_reach_merge_requests() {
        let reach = reach_of(
            "job:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n",
        );
        assert!(reach.merge_requests);
        assert!(!reach.unprotected_branches);
    }

    #[test]
    fn only_merge_requests_creates_merge_request_pipelines() {
        let reach = reach_of(
            "lint:\n  script: [x]\n  only: [merge_requests]\njob:\n  script: [x]\n  rules:\n    - when: always\n",
        );
        assert!(reach.merge_requests);
    }

    #[test]
    fn never_rules_exclude_and_tags_are_named() {
        let reach = reach_of(
            "job:\n  script: [x]\n  rules:\n    - if: $CI_MERGE_REQUEST_IID\n      when: never\n    - if: $CI_COMMIT_TAG\n",
        );
        assert!(!reach.unprotected());
        assert_eq!(reach.named_refs(), vec!["tags"]);
    }

    #[test]
    fn only_variables_keeps_the_default_refs() {
        let reach = reach_of("job:\n  script: [x]\n  only:\n    variables: [$RUN]\n");
        assert!(reach.unprotected_branches);
        assert!(!reach.merge_requests);
        let except = reach_of("job:\n  script: [x]\n  except:\n    variables: [$RUN]\n");
        assert!(except.unprotected_branches);
    }

    #[test]
    fn main_by_name_is_the_default_branch() {
        for config in [
            "  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n",
            "  only: [main]\n",
        ] {
            let reach = reach_of(&format!("job:\n  script: [x]\n{config}"));
            assert!(!reach.unprotected(), "{config}");
            assert_eq!(reach.named_refs(), vec!["the default branch"], "{config}");
        }
    }

    #[test]
    fn undecidable_expressions_may_run() {
        let reach = reach_of("job:\n  script: [x]\n  rules:\n    - if: $DEPLOY == \"yes\"\n");
        assert!(reach.unprotected_branches);
        assert!(reach.undecided);
        assert!(!reach_of("job:\n  script: [x]\n").undecided);
    }
}
