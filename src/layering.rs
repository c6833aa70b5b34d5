//! The import rules of `docs/development.md` ("Who may import whom"), checked on the source: every
//! `crate::` and `super::` path in a file's code (tests left out) against what its module may not
//! reach, and no circle among sibling modules. A path counts whether it is in a `use` or written
//! out, and `use crate::{a, b::c}` groups are read in full.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// A rule: the modules `importer` (and everything under it) may not reach, apart from `except`.
/// `*` stands for every other module of the crate; a module never breaks a rule by importing
/// its own parts.
struct ImportRule {
    importer: &'static str,
    may_not: &'static [&'static [&'static str]],
    except: &'static [&'static str],
}

/// What turns input into findings, output or a child process: the commands and their parts.
const COMMANDS: &[&str] = &[
    "app",
    "cli",
    "run",
    "lint",
    "audit",
    "generate",
    "pseudonymize",
    "scan",
    "report",
];

/// What may read only the ground floor: no command module, no GitLab client, no configuration.
const NO_COMMAND_CLIENT_OR_CONFIG: &[&[&str]] = &[COMMANDS, &["gitlab", "config"]];

/// What analysers may read of `gitlab`: the API's types and GitLab's masking rules.
const GITLAB_PURE: &[&str] = &["gitlab::types", "gitlab::maskable"];

const RULES: &[ImportRule] = &[
    // Leaves: nothing of the crate.
    rule("findings", &[&["*"]], &[]),
    rule("scrub", &[&["*"]], &[]),
    rule("notice", &[&["*"]], &[]),
    rule("diagnostic", &[&["*"]], &[]),
    rule("secret", &[&["*"]], &[]),
    rule("env", &[&["*"]], &[]),
    // The ground floor.
    rule("credentials", NO_COMMAND_CLIENT_OR_CONFIG, &[]),
    rule("yaml", NO_COMMAND_CLIENT_OR_CONFIG, &[]),
    rule("meltano", NO_COMMAND_CLIENT_OR_CONFIG, &[]),
    rule("gitlab", &[COMMANDS, &["findings", "config"]], &[]),
    rule("config", &[COMMANDS], &[]),
    // Analysers read the ground floor and the API's types, never the client or each other.
    rule("audit", &[COMMANDS, &["gitlab"]], GITLAB_PURE),
    rule("lint", &[COMMANDS, &["gitlab"]], GITLAB_PURE),
    rule("generate", &[COMMANDS, &["gitlab"]], GITLAB_PURE),
    // `run` receives a built scrubber; `pseudonymize` filters a stream; `report` renders findings.
    rule("run", NO_COMMAND_CLIENT_OR_CONFIG, &[]),
    rule("pseudonymize", NO_COMMAND_CLIENT_OR_CONFIG, &[]),
    rule("report", &[&["*"]], &["findings"]),
    // `scan` runs the scrubber over stored text and makes findings of what it masked.
    rule("scan", &[&["*"]], &["scrub", "findings"]),
];

const fn rule(
    importer: &'static str,
    may_not: &'static [&'static [&'static str]],
    except: &'static [&'static str],
) -> ImportRule {
    ImportRule {
        importer,
        may_not,
        except,
    }
}

/// Whether `path` is `module` or inside it.
fn within(path: &str, module: &str) -> bool {
    path == module
        || path
            .strip_prefix(module)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// The rules `importer` breaks by reaching `target` (both module paths from the crate root).
fn broken(importer: &str, target: &str) -> Vec<String> {
    let own = importer.split("::").next().unwrap_or_default();
    if within(target, own) {
        return Vec::new();
    }
    RULES
        .iter()
        .filter(|rule| within(importer, rule.importer))
        .filter(|rule| {
            rule.may_not
                .iter()
                .flat_map(|modules| modules.iter())
                .any(|&module| module == "*" || within(target, module))
        })
        .filter(|rule| !rule.except.iter().any(|&module| within(target, module)))
        .map(|rule| format!("{importer} imports {target} (rule for {})", rule.importer))
        .collect()
}

/// The code of a file without comments and without what follows its first `#[cfg(test)]`
/// (test modules sit at the end of a file).
fn code_of(source: &str) -> String {
    let mut code = String::new();
    for line in source.lines() {
        if line.trim_start() == "#[cfg(test)]" {
            break;
        }
        let line = line.split("//").next().unwrap_or_default();
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// Every path in the code of `module` that starts at `crate::` or climbs with `super::`,
/// expanded out of `{...}` groups, from the crate root (`a::b::c`).
fn paths_in(module: &str, code: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let bytes = code.as_bytes();
    for (at, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        let preceded = at
            .checked_sub(1)
            .map(|i| bytes[i])
            .is_some_and(|b| b == b'$' || b == b'_' || b == b':' || b.is_ascii_alphanumeric());
        if preceded {
            continue;
        }
        let mut rest = &code[at..];
        let mut base: Vec<&str> = Vec::new();
        if let Some(after) = rest.strip_prefix("crate::") {
            rest = after;
        } else {
            base = module.split("::").collect();
            while let Some(after) = rest.strip_prefix("super::") {
                base.pop();
                rest = after;
            }
        }
        expand(rest, base.join("::"), &mut paths);
    }
    paths
}

/// Where `module` reaching `target` makes one sibling depend on another: below their deepest
/// common module, the part each is in (`app::audit` -> `app::selection` for
/// `app::audit` reaching `app::selection::fetch_selected`); `None` within one module.
fn sibling_edge(
    module: &str,
    target: &str,
    modules: &BTreeSet<String>,
) -> Option<(String, String)> {
    let from: Vec<&str> = module.split("::").collect();
    let to: Vec<&str> = target.split("::").collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let (Some(a), Some(b)) = (from.get(common), to.get(common)) else {
        return None;
    };
    let parent = from[..common].join("::");
    let (a, b) = (join(&parent, a), join(&parent, b));
    modules.contains(&b).then_some((a, b))
}

/// The cycles among sibling modules: each as `a -> b -> ... -> a`.
fn sibling_cycles(edges: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut cycles = Vec::new();
    for (start, _) in edges {
        // Depth-first from `start`, reporting a path back to it once (from its smallest member).
        let mut stack = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            let last = path.last().expect("a path is never empty");
            for (_, next) in edges.range((last.clone(), String::new())..) {
                if !edges.contains(&(last.clone(), next.clone())) {
                    break;
                }
                if next == start {
                    cycles.push(format!("{} -> {start}", path.join(" -> ")));
                } else if next > start && !path.contains(next) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
    }
    cycles.sort();
    cycles.dedup();
    cycles
}

/// Reads one path (or group) at the start of `rest`, below `prefix`, into `paths`.
fn expand(rest: &str, prefix: String, paths: &mut BTreeSet<String>) {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        for item in split_group(group) {
            expand(item, prefix.clone(), paths);
        }
        return;
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    if name.is_empty() || name == "self" {
        if !prefix.is_empty() {
            paths.insert(prefix);
        }
        return;
    }
    let path = if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}::{name}")
    };
    match after.strip_prefix("::") {
        Some(after) => expand(after, path, paths),
        None => {
            paths.insert(path);
        }
    }
}

/// The items of a `{...}` group whose opening brace is already consumed.
fn split_group(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0_usize, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
}

/// Every source file of `dir` with its module path (`lint::ci::rules::env_dump`), test-only
/// files (declared under `#[cfg(test)]`) left out.
fn modules(root: &Path, dir: &Path, module: &str, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read src")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if path.is_dir() {
            let below = join(module, &name);
            modules(root, &path, &below, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = fs::read_to_string(&path).expect("read a source file");
            let own = match name.as_str() {
                "lib" | "main" => String::new(),
                "mod" => module.to_owned(),
                _ => join(module, &name),
            };
            if !is_test_only(root, &own) {
                out.push((own, source));
            }
        }
    }
}

fn join(module: &str, name: &str) -> String {
    if module.is_empty() {
        name.to_owned()
    } else {
        format!("{module}::{name}")
    }
}

/// Whether `module` is declared under `#[cfg(test)]` in its parent.
fn is_test_only(root: &Path, module: &str) -> bool {
    let (parent, name) = module.rsplit_once("::").unwrap_or(("", module));
    let parent_dir = root.join(parent.replace("::", "/"));
    let candidates = if parent.is_empty() {
        vec![root.join("lib.rs")]
    } else {
        vec![parent_dir.join("mod.rs"), parent_dir.with_extension("rs")]
    };
    candidates
        .iter()
        .filter_map(|file| fs::read_to_string(file).ok())
        .any(|source| {
            let lines: Vec<&str> = source.lines().map(str::trim).collect();
            lines.windows(2).any(|pair| {
                pair[0] == "#[cfg(test)]"
                    && (pair[1] == format!("mod {name};") || pair[1] == format!("pub mod {name};"))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_keeps_the_import_rules() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        modules(&root, &root, "", &mut files);
        assert!(files.len() > 50, "found only {} files", files.len());
        let broken: Vec<String> = files
            .iter()
            .flat_map(|(module, source)| {
                paths_in(module, &code_of(source))
                    .into_iter()
                    .flat_map(|target| broken(module, &target))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(broken.is_empty(), "{}", broken.join("\n"));
    }

    #[test]
    fn no_two_sibling_modules_import_each_other() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        modules(&root, &root, "", &mut files);
        let names: BTreeSet<String> = files.iter().map(|(module, _)| module.clone()).collect();
        let edges: BTreeSet<(String, String)> = files
            .iter()
            .flat_map(|(module, source)| {
                paths_in(module, &code_of(source))
                    .into_iter()
                    .filter_map(|target| sibling_edge(module, &target, &names))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(edges.len() > 20, "found only {} edges", edges.len());
        let cycles = sibling_cycles(&edges);
        assert!(cycles.is_empty(), "import circles:\n{}", cycles.join("\n"));
    }

    #[test]
    fn circles_and_super_paths_are_seen() {
        let code = code_of("use super::selection::fetch;\nuse super::super::cli::Args;\n");
        let paths: Vec<String> = paths_in("app::audit", &code).into_iter().collect();
        assert_eq!(paths, ["app::selection::fetch", "cli::Args"]);
        let names: BTreeSet<String> = ["app", "app::audit", "app::selection", "cli"]
            .map(str::to_owned)
            .into();
        assert_eq!(
            sibling_edge("app::audit", "app::selection::fetch", &names),
            Some(("app::audit".to_owned(), "app::selection".to_owned()))
        );
        assert_eq!(sibling_edge("app::audit", "app::EXIT_USAGE", &names), None);
        let edge = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        let edges: BTreeSet<_> = [
            edge("a::x", "a::y"),
            edge("a::y", "a::z"),
            edge("a::z", "a::x"),
            edge("b", "c"),
        ]
        .into();
        assert_eq!(sibling_cycles(&edges), ["a::x -> a::y -> a::z -> a::x"]);
    }

    #[test]
    fn the_checker_sees_groups_written_paths_and_breaches() {
        let code = code_of(
            "use crate::{findings::Finding, lint::{self, ci::Pos}};\n\
             // use crate::report;\n\
             fn f() { crate::gitlab::types::Level::Group; $crate::x; }\n\
             #[cfg(test)]\nmod tests { use crate::app; }\n",
        );
        let paths: Vec<String> = paths_in("x", &code).into_iter().collect();
        assert_eq!(
            paths,
            [
                "findings::Finding",
                "gitlab::types::Level::Group",
                "lint",
                "lint::ci::Pos"
            ]
        );
        assert!(broken("audit::checks", "gitlab::types::Level").is_empty());
        assert_eq!(broken("audit::checks", "gitlab::Client").len(), 1);
        assert_eq!(broken("audit", "lint::ci").len(), 1);
        assert_eq!(broken("scrub::detectors", "secret").len(), 1);
        assert!(broken("scrub::detectors", "scrub::encodings").is_empty());
        assert_eq!(broken("report::sarif", "lint").len(), 1);
        assert!(broken("report::sarif", "findings::Rule").is_empty());
        assert_eq!(broken("config", "lint::ci").len(), 1);
        assert!(broken("app::lint", "lint").is_empty());
    }
}
