//! The parts of a Meltano project file the rules look at: every `config:` block of a plugin (at
//! plugin level, in a mapper's `mappings`, and per environment), every `env:` block, and which
//! settings of which plugin are sensitive (from `run::meltano`, which reads lock files too).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::tree::{Node, Value};
use crate::diagnostic::FileError;
use crate::meltano::to_env_var;

/// A `config:` mapping that configures one plugin.
#[derive(Debug)]
pub(crate) struct ConfigBlock<'a> {
    /// `extractors`, `loaders`, ...
    pub(crate) plugin_type: &'a str,
    /// The plugin it configures.
    pub(crate) plugin_name: &'a str,
    /// Logical path of the block, e.g. `plugins.extractors[tap-x].config`.
    pub(crate) logical: String,
    /// The mapping.
    pub(crate) node: &'a Node,
}

/// An `env:` mapping: variables Meltano sets for the project, an environment or a plugin.
#[derive(Debug)]
pub(crate) struct EnvBlock<'a> {
    /// Logical path of the block, e.g. `environments[prod].env`.
    pub(crate) logical: String,
    /// The mapping.
    pub(crate) node: &'a Node,
}

/// The `value:` (default) of a setting declared in a plugin's `settings:`.
#[derive(Debug)]
pub(crate) struct SettingDefault<'a> {
    /// `extractors`, `loaders`, ...
    pub(crate) plugin_type: &'a str,
    /// The plugin that declares it.
    pub(crate) plugin_name: &'a str,
    /// The setting's name.
    pub(crate) setting: &'a str,
    /// Logical path of the value, e.g. `plugins.extractors[tap-x].settings[password].value`.
    pub(crate) logical: String,
    /// The value.
    pub(crate) node: &'a Node,
}

/// A scalar somewhere below a node.
#[derive(Debug)]
pub(crate) struct Leaf<'a> {
    /// The scalar.
    pub(crate) node: &'a Node,
    /// Its logical path.
    pub(crate) logical: String,
    /// The keys leading to it from where the walk started, joined by `.` (Meltano's name of a
    /// nested setting).
    pub(crate) setting: String,
}

/// A parsed project file.
#[derive(Debug)]
pub(crate) struct Project<'a> {
    /// The root node.
    pub(crate) root: &'a Node,
    /// Every plugin `config:` block.
    pub(crate) configs: Vec<ConfigBlock<'a>>,
    /// Every `env:` block.
    pub(crate) envs: Vec<EnvBlock<'a>>,
    /// Every default value of a declared setting.
    pub(crate) defaults: Vec<SettingDefault<'a>>,
    /// Names and aliases of sensitive settings, by plugin type and name.
    sensitive: BTreeMap<(String, String), BTreeSet<String>>,
}

impl<'a> Project<'a> {
    /// Finds the blocks of the file `path` (text `text`, parsed as `root`); plugin lock files are
    /// looked for beside it.
    pub(crate) fn new(path: &Path, text: &str, root: &'a Node) -> Result<Self, FileError> {
        let project_root = path.parent().unwrap_or(Path::new("."));
        let sensitive = crate::meltano::sensitive_settings(project_root, path, text)?;
        let mut project = Project {
            root,
            configs: Vec::new(),
            envs: Vec::new(),
            defaults: Vec::new(),
            sensitive,
        };
        project.add_env("env".to_owned(), root.get("env"));
        project.add_plugins("plugins", root.get("plugins"));
        for (index, environment) in items(root.get("environments")) {
            let logical = format!("environments{}", label(index, environment));
            project.add_env(format!("{logical}.env"), environment.get("env"));
            let plugins = environment.get("config").and_then(|c| c.get("plugins"));
            project.add_plugins(&format!("{logical}.config.plugins"), plugins);
        }
        Ok(project)
    }

    fn add_plugins(&mut self, logical: &str, plugins: Option<&'a Node>) {
        for entry in plugins.and_then(Node::entries).unwrap_or_default() {
            let plugin_type = &entry.key;
            for (index, plugin) in items(Some(&entry.value)) {
                let Some(plugin_name) = plugin.get("name").and_then(Node::as_string_scalar) else {
                    continue;
                };
                let at = format!("{logical}.{plugin_type}{}", label(index, plugin));
                self.add_config(plugin_type, plugin_name, format!("{at}.config"), plugin);
                self.add_env(format!("{at}.env"), plugin.get("env"));
                for (index, setting) in items(plugin.get("settings")) {
                    let name = setting.get("name").and_then(Node::as_string_scalar);
                    if let Some((name, node)) = name.zip(setting.get("value")) {
                        self.defaults.push(SettingDefault {
                            plugin_type,
                            plugin_name,
                            setting: name,
                            logical: format!("{at}.settings{}.value", label(index, setting)),
                            node,
                        });
                    }
                }
                for (index, mapping) in items(plugin.get("mappings")) {
                    let at = format!("{at}.mappings{}.config", label(index, mapping));
                    self.add_config(plugin_type, plugin_name, at, mapping);
                }
            }
        }
    }

    fn add_config(
        &mut self,
        plugin_type: &'a str,
        plugin_name: &'a str,
        logical: String,
        owner: &'a Node,
    ) {
        if let Some(node) = owner.get("config") {
            self.configs.push(ConfigBlock {
                plugin_type,
                plugin_name,
                logical,
                node,
            });
        }
    }

    fn add_env(&mut self, logical: String, node: Option<&'a Node>) {
        if let Some(node) = node {
            self.envs.push(EnvBlock { logical, node });
        }
    }

    /// Whether the plugin declares `setting` (or an alias of it) sensitive, itself, through
    /// `inherit_from` or in its lock file.
    pub(crate) fn is_sensitive(&self, plugin_type: &str, plugin_name: &str, setting: &str) -> bool {
        self.sensitive
            .get(&(plugin_type.to_owned(), plugin_name.to_owned()))
            .is_some_and(|names| names.contains(setting))
    }

    /// Whether `variable` is one Meltano reads a sensitive setting from (`<PLUGIN>_<SETTING>`).
    pub(crate) fn is_sensitive_variable(&self, variable: &str) -> bool {
        self.sensitive.iter().any(|((_, plugin), settings)| {
            settings
                .iter()
                .any(|setting| to_env_var(&[plugin, setting]) == variable)
        })
    }
}

/// Every scalar below `node`, with its logical path (`logical` is that of `node`) and setting
/// name (`setting` is that of `node`, empty at the start of a block).
pub(crate) fn leaves<'a>(node: &'a Node, logical: &str, setting: &str) -> Vec<Leaf<'a>> {
    let mut found = Vec::new();
    walk(node, logical, setting, &mut found);
    found
}

fn walk<'a>(node: &'a Node, logical: &str, setting: &str, found: &mut Vec<Leaf<'a>>) {
    match &node.value {
        Value::Map(entries) => {
            for entry in entries {
                let child_logical = join(logical, &entry.key);
                let child_setting = join(setting, &entry.key);
                walk(&entry.value, &child_logical, &child_setting, found);
            }
        }
        Value::Seq(children) => {
            for (index, child) in children.iter().enumerate() {
                walk(
                    child,
                    &format!("{logical}{}", label(index, child)),
                    setting,
                    found,
                );
            }
        }
        Value::Null | Value::Scalar(_) => found.push(Leaf {
            node,
            logical: logical.to_owned(),
            setting: setting.to_owned(),
        }),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `[name]` for an item with a `name:` (stable when items move), else `[index]`.
fn label(index: usize, item: &Node) -> String {
    match item.get("name").and_then(Node::as_string_scalar) {
        Some(name) => format!("[{name}]"),
        None => format!("[{index}]"),
    }
}

fn items(node: Option<&Node>) -> impl Iterator<Item = (usize, &Node)> {
    node.and_then(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
}
