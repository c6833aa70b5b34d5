//! What `ciguard run` knows about Meltano projects: the variables Meltano reads sensitive
//! settings from, and the resolved configs with secrets in clear it leaves in `.meltano/run`.
//!
//! Meltano 4 reads a setting of plugin `P` from `<P>_<SETTING>` and `<NAMESPACE>_<SETTING>` (each
//! part upper-cased, every non-alphanumeric character turned into `_`), from the same forms of
//! each of the setting's `aliases`, and from its `env_aliases`; it also exports the setting to
//! the plugin as the setting's `env:`. A setting is sensitive when it says `sensitive: true` or
//! has `kind: password` or `kind: oauth`. Settings come from the plugin's entry in
//! `meltano.yml`, the entries it inherits from (`inherit_from`), and the plugin lock files
//! `plugins/<type>/<name>--<variant>.lock` that `meltano add` writes for Meltano Hub plugins.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::FileError;

/// The project file Meltano reads from its project root.
pub const PROJECT_FILE: &str = "meltano.yml";

/// Where Meltano keeps the resolved config of running plugins, relative to the project root.
pub const RUN_DIR: &str = ".meltano/run";

/// Suffix of the resolved config files Meltano writes under [`RUN_DIR`].
const RUN_CONFIG_SUFFIX: &str = ".config.json";

/// Limits how far an `inherit_from` chain is followed (it also stops a cycle).
const MAX_INHERITANCE_DEPTH: usize = 16;

/// A Meltano project file or plugin lock file that cannot be read: what is wrong (never a value
/// from the file), where when known, and that Meltano would refuse it too.
fn project_error(
    path: &Path,
    line_column: Option<(u64, u64)>,
    message: impl fmt::Display,
) -> FileError {
    let err = FileError::new(
        path,
        format!("{message}; fix it (Meltano cannot load it either)"),
    );
    match line_column {
        Some((line, column)) => err.at(line, column),
        None => err,
    }
}

#[derive(Debug, Deserialize)]
struct ProjectFile {
    #[serde(default)]
    plugins: Option<BTreeMap<String, Option<Vec<PluginEntry>>>>,
}

#[derive(Debug, Deserialize)]
struct PluginEntry {
    name: String,
    #[serde(default)]
    config: Option<BTreeMap<String, ConfigValue>>,
    /// A mapper's mappings: `ciguard pseudonymize` ones name their key's variable (`key_env`).
    #[serde(default)]
    mappings: Option<Vec<Mapping>>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    inherit_from: Option<String>,
    #[serde(default)]
    settings: Option<Vec<Setting>>,
}

#[derive(Debug, Deserialize)]
struct Mapping {
    #[serde(default)]
    config: Option<BTreeMap<String, ConfigValue>>,
}

/// A value under a plugin's `config:`: only a whole `$VAR` / `${VAR}` reference is kept.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ConfigValue {
    Text(String),
    Other(serde::de::IgnoredAny),
}

impl ConfigValue {
    /// The variable a value such as `$PG_PASSWORD` or `${PG_PASSWORD}` reads.
    fn reference(&self) -> Option<&str> {
        let ConfigValue::Text(text) = self else {
            return None;
        };
        let name = text.strip_prefix('$')?;
        let name = name
            .strip_prefix('{')
            .and_then(|n| n.strip_suffix('}'))
            .unwrap_or(name);
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        valid.then_some(name)
    }
}

/// A plugin lock file: the Hub definition `meltano add` saved.
#[derive(Debug, Deserialize)]
struct LockFile {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    settings: Option<Vec<Setting>>,
}

#[derive(Debug, Clone, Deserialize)]
struct Setting {
    name: String,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    env: Option<String>,
    #[serde(default)]
    env_aliases: Option<Vec<String>>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    sensitive: Option<bool>,
}

impl Setting {
    fn is_sensitive(&self) -> bool {
        self.sensitive == Some(true) || matches!(self.kind.as_deref(), Some("password" | "oauth"))
    }
}

/// The variables Meltano reads the sensitive settings of the project in `project_root` from;
/// empty when there is no `meltano.yml`.
pub fn sensitive_env_names(project_root: &Path) -> Result<BTreeSet<String>, FileError> {
    let path = project_root.join(PROJECT_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(err) => {
            return Err(project_error(&path, None, format!("cannot read it: {err}")));
        }
    };
    let mut names = BTreeSet::new();
    for_each_entry(project_root, &path, &text, |_, entry, definition| {
        let prefixes = [Some(entry.name.as_str()), definition.namespace.as_deref()];
        for setting in definition.settings.iter().filter(|s| s.is_sensitive()) {
            add_env_names(&mut names, &prefixes, setting);
        }
        // The HMAC key of a pseudonymizing mapping is as secret as a password.
        let mapping_configs = entry
            .mappings
            .iter()
            .flatten()
            .filter_map(|m| m.config.as_ref());
        for config in mapping_configs {
            if let Some(ConfigValue::Text(name)) = config.get("key_env") {
                names.insert(name.clone());
            }
        }
    })?;
    Ok(names)
}

/// The names and aliases of the sensitive settings of each plugin of the project file `path`
/// (read as `text`), keyed by plugin type and plugin name. Shared with `lint`.
pub(crate) fn sensitive_settings(
    project_root: &Path,
    path: &Path,
    text: &str,
) -> Result<BTreeMap<(String, String), BTreeSet<String>>, FileError> {
    let mut settings = BTreeMap::new();
    for_each_definition(project_root, path, text, |plugin_type, name, definition| {
        let names: &mut BTreeSet<String> = settings
            .entry((plugin_type.to_owned(), name.to_owned()))
            .or_default();
        for setting in definition.settings.iter().filter(|s| s.is_sensitive()) {
            names.insert(setting.name.clone());
            names.extend(setting.aliases.iter().flatten().cloned());
        }
    })?;
    Ok(settings)
}

/// A plugin setting that holds a credential: declared sensitive (`sensitive: true`, `kind:
/// password` or `oauth`), or named like a credential (`is_credential`, on the variable name) in
/// the plugin's settings or its `config:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSetting {
    /// `extractors`, `loaders`, ...
    pub plugin_type: String,
    /// The plugin's name.
    pub plugin: String,
    /// The setting's name.
    pub setting: String,
    /// The variable it comes from: the one its `config:` value references (`$PG_PASSWORD`),
    /// else `<PLUGIN>_<SETTING>`, which Meltano reads (as `meltano config` shows).
    pub env_var: String,
    /// Whether the plugin declares it sensitive (else it is only named like a credential).
    pub declared_sensitive: bool,
    /// Its `kind:`, when declared.
    pub kind: Option<String>,
}

/// The settings of every plugin of the project file `path` (read as `text`) that hold
/// credentials, in file order.
pub fn secret_settings(
    project_root: &Path,
    path: &Path,
    text: &str,
    is_credential: impl Fn(&str) -> bool,
) -> Result<Vec<SecretSetting>, FileError> {
    let mut found: Vec<SecretSetting> = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for_each_entry(
        project_root,
        path,
        text,
        |plugin_type, entry, definition| {
            let mut add = |setting: &str, declared_sensitive: bool, kind: Option<&String>| {
                let reference = entry
                    .config
                    .as_ref()
                    .and_then(|config| config.get(setting))
                    .and_then(ConfigValue::reference);
                let env_var =
                    reference.map_or_else(|| to_env_var(&[&entry.name, setting]), str::to_owned);
                let is_secret = declared_sensitive || is_credential(&env_var);
                if is_secret && seen.insert((entry.name.clone(), setting.to_owned())) {
                    found.push(SecretSetting {
                        plugin_type: plugin_type.to_owned(),
                        plugin: entry.name.clone(),
                        setting: setting.to_owned(),
                        env_var,
                        declared_sensitive,
                        kind: kind.cloned(),
                    });
                }
            };
            for setting in &definition.settings {
                // A flag or a count named `echo_password` holds no credential.
                let not_text = matches!(setting.kind.as_deref(), Some("boolean" | "integer"));
                if setting.is_sensitive() || !not_text {
                    add(&setting.name, setting.is_sensitive(), setting.kind.as_ref());
                }
            }
            for key in entry.config.iter().flat_map(BTreeMap::keys) {
                add(key, false, None);
            }
        },
    )?;
    Ok(found)
}

/// Calls `visit(plugin_type, plugin_name, definition)` for every plugin of the project file.
fn for_each_definition(
    project_root: &Path,
    path: &Path,
    text: &str,
    mut visit: impl FnMut(&str, &str, &Definition),
) -> Result<(), FileError> {
    for_each_entry(
        project_root,
        path,
        text,
        |plugin_type, entry, definition| {
            visit(plugin_type, &entry.name, definition);
        },
    )
}

/// Calls `visit(plugin_type, entry, definition)` for every plugin entry of the project file.
fn for_each_entry(
    project_root: &Path,
    path: &Path,
    text: &str,
    mut visit: impl FnMut(&str, &PluginEntry, &Definition),
) -> Result<(), FileError> {
    let project: ProjectFile = parse_project(path, text)?;
    for (plugin_type, entries) in project.plugins.unwrap_or_default() {
        let entries = entries.unwrap_or_default();
        let by_name: BTreeMap<&str, &PluginEntry> = entries
            .iter()
            .map(|entry| (entry.name.as_str(), entry))
            .collect();
        for entry in &entries {
            let definition = resolve(project_root, &plugin_type, entry, &by_name)?;
            visit(&plugin_type, entry, &definition);
        }
    }
    Ok(())
}

/// Reads the project file `path` (its text given) as `T`: errors name the line and column, never
/// quote the file. Shared with `generate`.
pub(crate) fn parse_project<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, FileError> {
    crate::yaml::deserialize(text).map_err(|err| {
        let location = err.location().map(|at| (at.line(), at.column()));
        let what = crate::yaml::describe_error(&err);
        project_error(
            path,
            location,
            format!("invalid Meltano project file: {what}"),
        )
    })
}

/// A plugin's settings and namespace, with what it inherits and what its lock files say.
struct Definition {
    namespace: Option<String>,
    settings: Vec<Setting>,
}

fn resolve(
    project_root: &Path,
    plugin_type: &str,
    entry: &PluginEntry,
    by_name: &BTreeMap<&str, &PluginEntry>,
) -> Result<Definition, FileError> {
    let mut definition = Definition {
        namespace: None,
        settings: Vec::new(),
    };
    let mut name = Some(entry.name.as_str());
    let mut current = Some(entry);
    for _ in 0..MAX_INHERITANCE_DEPTH {
        let Some(plugin_name) = name else { break };
        if let Some(entry) = current {
            definition.namespace = definition.namespace.or_else(|| entry.namespace.clone());
            definition
                .settings
                .extend(entry.settings.iter().flatten().cloned());
        }
        for lock in read_lock_files(project_root, plugin_type, plugin_name)? {
            definition.namespace = definition.namespace.or(lock.namespace);
            definition
                .settings
                .extend(lock.settings.unwrap_or_default());
        }
        name = current.and_then(|entry| entry.inherit_from.as_deref());
        current = name.and_then(|parent| by_name.get(parent).copied());
    }
    Ok(definition)
}

/// The lock files of plugin `name`: `plugins/<type>/<name>--<variant>.lock`, any variant.
fn read_lock_files(
    project_root: &Path,
    plugin_type: &str,
    name: &str,
) -> Result<Vec<LockFile>, FileError> {
    let dir = project_root.join("plugins").join(plugin_type);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}--");
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|file| file.to_str())
                .is_some_and(|file| file.starts_with(&prefix) && file.ends_with(".lock"))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = fs::read_to_string(path).map_err(|err| {
                project_error(
                    path,
                    None,
                    format!("cannot read this plugin lock file: {err}"),
                )
            })?;
            serde_json::from_str(&text).map_err(|err| {
                let location = (err.line() as u64, err.column() as u64);
                project_error(
                    path,
                    Some(location),
                    format!("invalid plugin lock file: {}", describe_json_error(&err)),
                )
            })
        })
        .collect()
}

/// serde_json's category of error: its full message may quote a value from the file.
fn describe_json_error(err: &serde_json::Error) -> &'static str {
    match err.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "unexpected structure",
        serde_json::error::Category::Eof => "unexpected end of file",
    }
}

fn add_env_names(names: &mut BTreeSet<String>, prefixes: &[Option<&str>], setting: &Setting) {
    let setting_names = std::iter::once(setting.name.as_str())
        .chain(setting.aliases.iter().flatten().map(String::as_str));
    for setting_name in setting_names {
        for prefix in prefixes.iter().flatten() {
            names.insert(to_env_var(&[prefix, setting_name]));
        }
    }
    names.extend(setting.env.iter().cloned());
    names.extend(setting.env_aliases.iter().flatten().cloned());
}

/// Meltano's `to_env_var`: each non-empty part upper-cased with every character outside
/// `[A-Za-z0-9]` turned into `_`, joined by `_`.
pub fn to_env_var(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// What [`remove_stale_run_configs`] did.
#[derive(Debug, Default)]
pub struct Cleanup {
    /// Files removed, relative to the project root.
    pub removed: Vec<PathBuf>,
    /// Files that could not be removed, and why.
    pub failed: Vec<(PathBuf, io::Error)>,
}

/// Removes every `.meltano/run/**/*.config.json` under `project_root`: resolved plugin configs,
/// secrets in clear, that Meltano leaves behind when it is killed.
pub fn remove_stale_run_configs(project_root: &Path) -> Cleanup {
    let mut cleanup = Cleanup::default();
    remove_run_configs_in(project_root, &project_root.join(RUN_DIR), &mut cleanup);
    cleanup.removed.sort();
    cleanup
}

fn remove_run_configs_in(project_root: &Path, dir: &Path, cleanup: &mut Cleanup) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            remove_run_configs_in(project_root, &path, cleanup);
        } else if entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.ends_with(RUN_CONFIG_SUFFIX))
        {
            let shown = path.strip_prefix(project_root).unwrap_or(&path).to_owned();
            match fs::remove_file(&path) {
                Ok(()) => cleanup.removed.push(shown),
                Err(err) => cleanup.failed.push((shown, err)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(yaml: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(PROJECT_FILE), yaml).expect("write meltano.yml");
        dir
    }

    fn names(dir: &tempfile::TempDir) -> Vec<String> {
        sensitive_env_names(dir.path())
            .expect("valid project")
            .into_iter()
            .collect()
    }

    #[test]
    fn to_env_var_matches_meltano() {
        assert_eq!(to_env_var(&["tap-leaky", "password"]), "TAP_LEAKY_PASSWORD");
        assert_eq!(
            to_env_var(&["tap_leaky", "auth.token"]),
            "TAP_LEAKY_AUTH_TOKEN"
        );
        assert_eq!(to_env_var(&["", "x"]), "X");
        assert_eq!(to_env_var(&["tap.é", "a b"]), "TAP___A_B");
    }

    #[test]
    fn maps_sensitive_settings_to_their_variables() {
        let dir = project(
            r#"
plugins:
  extractors:
  - name: tap-leaky
    namespace: tap_leaky
    settings:
    - name: password
      sensitive: true
    - name: client.key
      kind: password
      aliases: [key]
    - name: oauth_token
      kind: oauth
      env: LEAKY_OAUTH
      env_aliases: [OLD_LEAKY_OAUTH]
    - name: rows
      kind: integer
    - name: host
      sensitive: false
  - name: tap-leaky--eu
    inherit_from: tap-leaky
  loaders:
  - name: target-jsonl
    settings:
    - name: destination_path
"#,
        );
        assert_eq!(
            names(&dir),
            [
                "LEAKY_OAUTH",
                "OLD_LEAKY_OAUTH",
                "TAP_LEAKY_CLIENT_KEY",
                "TAP_LEAKY_KEY",
                "TAP_LEAKY_OAUTH_TOKEN",
                "TAP_LEAKY_PASSWORD",
                "TAP_LEAKY__EU_CLIENT_KEY",
                "TAP_LEAKY__EU_KEY",
                "TAP_LEAKY__EU_OAUTH_TOKEN",
                "TAP_LEAKY__EU_PASSWORD",
            ]
        );
    }

    #[test]
    fn reads_settings_from_plugin_lock_files() {
        let dir =
            project("plugins:\n  loaders:\n  - name: target-snowflake\n    variant: meltanolabs\n");
        let locks = dir.path().join("plugins/loaders");
        fs::create_dir_all(&locks).expect("mkdir");
        fs::write(
            locks.join("target-snowflake--meltanolabs.lock"),
            r#"{"plugin_type": "loaders", "name": "target-snowflake", "namespace": "target_sf",
                "settings": [{"name": "private_key", "kind": "password"}, {"name": "user"}]}"#,
        )
        .expect("write lock");
        assert_eq!(
            names(&dir),
            ["TARGET_SF_PRIVATE_KEY", "TARGET_SNOWFLAKE_PRIVATE_KEY"]
        );
    }

    #[test]
    fn the_key_variable_of_a_pseudonymizing_mapping_is_sensitive() {
        let dir = project(
            "plugins:\n  mappers:\n  - name: ciguard-pseudonymize\n    mappings:\n    - name: pii\n      config:\n        key_env: PII_HMAC_KEY\n        streams: {}\n",
        );
        let names = sensitive_env_names(dir.path()).expect("reads");
        assert!(names.contains("PII_HMAC_KEY"), "{names:?}");
    }

    #[test]
    fn no_project_file_means_no_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let names = sensitive_env_names(dir.path()).expect("no project is fine");
        assert!(names.is_empty());
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let dir = project("plugins:\n  extractors:\n  - name: tap-x\n    settings: [\n");
        let err = sensitive_env_names(dir.path()).expect_err("invalid YAML");
        let message = err.to_string();
        assert!(message.contains("meltano.yml:"), "{message}");
        assert!(matches!(err.position, Some((4 | 5, _))), "{message}");
    }

    #[test]
    fn type_errors_do_not_quote_values() {
        let dir = project(
            "plugins:\n  extractors:\n  - name: tap-x\n    settings:\n    - name: password\n      sensitive: hunter2-secret\n",
        );
        let message = sensitive_env_names(dir.path())
            .expect_err("sensitive must be a boolean")
            .to_string();
        assert!(message.contains("meltano.yml:6:"), "{message}");
        assert!(!message.contains("hunter2-secret"), "{message}");
    }

    #[test]
    fn real_world_projects_parse() {
        let corpus =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/external/corpus/meltano");
        let files: Vec<PathBuf> = fs::read_dir(&corpus)
            .expect("the corpus at tests/fixtures/external/corpus/meltano")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
            .collect();
        assert!(!files.is_empty());
        for file in files {
            let text = fs::read_to_string(&file).expect("read corpus file");
            let result = parse_project::<ProjectFile>(&file, &text);
            assert!(result.is_ok(), "{}: {:?}", file.display(), result.err());
        }
    }

    #[test]
    fn removes_stale_configs_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = dir.path().join(RUN_DIR);
        fs::create_dir_all(run.join("tap-leaky")).expect("mkdir");
        fs::write(run.join("tap-leaky/tap.1234.config.json"), "{}").expect("write");
        fs::write(run.join("tap-leaky/tap.properties.json"), "{}").expect("write");
        fs::write(run.join("elt.config.json"), "{}").expect("write");
        let cleanup = remove_stale_run_configs(dir.path());
        assert_eq!(
            cleanup.removed,
            [
                PathBuf::from(".meltano/run/elt.config.json"),
                PathBuf::from(".meltano/run/tap-leaky/tap.1234.config.json"),
            ]
        );
        assert!(cleanup.failed.is_empty());
        assert!(run.join("tap-leaky/tap.properties.json").exists());
        assert!(!run.join("tap-leaky/tap.1234.config.json").exists());
    }
}
