//! Which values `ciguard run` masks before the child starts: variables found by name, the
//! content of file-type variables, and the variables Meltano maps its sensitive settings to.
//!
//! The minimum-length policy lives here too: values shorter than it are not masked (masking `yes`
//! or `dev` everywhere would ruin the log), and the names of those variables are reported.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::credentials::{DEFAULT_NAME_PATTERNS, NamePattern};
use crate::env::GITLAB_JOB_CREDENTIALS;
use crate::scrub::MatcherBuilder;
use crate::secret::Secret;

/// The most of a file-type variable's file that is read; a larger file is not a credential.
pub const MAX_SECRET_FILE_BYTES: u64 = 1024 * 1024;

/// Where a secret came from. The label is what the summary line counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The value of a variable whose name looks like a credential.
    Variable,
    /// The content of the file a credential variable points to (GitLab file-type variables).
    File,
    /// The value of a variable Meltano reads a sensitive setting from.
    Meltano,
    /// A value the child registered with `::add-mask::VALUE`.
    AddMask,
}

impl Source {
    /// Every source, in the order the summary line lists them.
    pub const ALL: &'static [Source] = &[Self::Variable, Self::File, Self::Meltano, Self::AddMask];

    /// The label of this source in the scrubber's statistics and the summary line.
    pub fn label(self) -> &'static str {
        match self {
            Self::Variable => "variables",
            Self::File => "files",
            Self::Meltano => "meltano",
            Self::AddMask => "add-mask",
        }
    }
}

/// Which variables hold secrets, and how short a secret may be.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Name patterns in force: the defaults (unless turned off) and `--secret-env`.
    pub name_patterns: Vec<NamePattern>,
    /// Names given literally with `--secret-env`, reported when no such variable exists.
    pub required_names: Vec<String>,
    /// Variables Meltano reads its sensitive settings from.
    pub meltano_names: BTreeSet<String>,
    /// Values (and lines) shorter than this many bytes are not masked.
    pub min_length: usize,
    /// Whether a value that is the absolute path of a file stands for that file's content (as
    /// GitLab's file-type variables do in a job's environment; not for values read elsewhere).
    pub read_files: bool,
}

impl Policy {
    /// The default name patterns, parsed.
    pub fn default_name_patterns() -> Vec<NamePattern> {
        DEFAULT_NAME_PATTERNS
            .iter()
            .filter_map(|pattern| pattern.parse().ok())
            .collect()
    }

    /// Whether the variable `name` holds a secret by its name (or Meltano's settings).
    pub fn covers(&self, name: &str) -> bool {
        self.source_of(name).is_some()
    }

    /// Why the variable `name` holds a secret, if it does.
    fn source_of(&self, name: &str) -> Option<Source> {
        if self.meltano_names.contains(name) {
            Some(Source::Meltano)
        } else if GITLAB_JOB_CREDENTIALS.contains(&name)
            || self.name_patterns.iter().any(|p| p.matches(name))
        {
            Some(Source::Variable)
        } else {
            None
        }
    }
}

/// One value to mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The value.
    pub value: Secret<Vec<u8>>,
    /// Where it came from.
    pub source: Source,
    /// The variable it came from (the first by name, when several hold it).
    pub name: String,
}

/// What [`collect`] found. Nothing in it prints a value.
#[derive(Debug, Default)]
pub struct Collection {
    /// The values to mask, each once.
    pub secrets: Vec<Found>,
    /// Variables whose value is shorter than the minimum length, so not masked.
    pub too_short: Vec<String>,
    /// Problems to tell the user about, such as a `--secret-env` name that is not set.
    pub warnings: Vec<String>,
}

impl Collection {
    /// Registers every value with the scrubber's builder, in the order of
    /// [`Collection::secrets`], so the builder's secret numbers index it.
    pub fn register(&self, builder: &mut MatcherBuilder) {
        for found in &self.secrets {
            builder.secret(found.value.expose(), found.source.label());
        }
    }
}

/// Finds the secrets in `vars` (the process environment, as `std::env::vars_os` gives it).
pub fn collect(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    policy: &Policy,
) -> Collection {
    let vars: BTreeMap<String, OsString> = vars
        .into_iter()
        .map(|(name, value)| (name.to_string_lossy().into_owned(), value))
        .collect();
    let mut collection = Collection::default();
    let mut seen: BTreeMap<Vec<u8>, (Source, &str)> = BTreeMap::new();
    for (name, value) in &vars {
        let Some(source) = policy.source_of(name) else {
            continue;
        };
        let value = value.as_bytes();
        let file = if policy.read_files {
            read_secret_file(value)
        } else {
            Ok(None)
        };
        let (content, source) = match file {
            Ok(Some(content)) => (content, Source::File),
            Ok(None) => (value.to_vec(), source),
            Err(FileTooLarge) => {
                collection.warnings.push(format!(
                    "{name} points to a file larger than {MAX_SECRET_FILE_BYTES} bytes: \
                     its content is not masked"
                ));
                (value.to_vec(), source)
            }
        };
        let whole = content.trim_ascii();
        if whole.is_empty() {
            continue;
        }
        if whole.len() < policy.min_length {
            collection.too_short.push(name.clone());
            continue;
        }
        for candidate in maskable_parts(&content, policy.min_length) {
            seen.entry(candidate.to_vec()).or_insert((source, name));
        }
    }
    for name in &policy.required_names {
        if !vars.contains_key(name) {
            collection
                .warnings
                .push(format!("--secret-env {name}: no such variable is set"));
        }
    }
    collection.secrets = seen
        .into_iter()
        .map(|(value, (source, name))| Found {
            value: Secret::new(value),
            source,
            name: name.to_owned(),
        })
        .collect();
    collection
}

/// The parts of `value` worth masking: the value without surrounding whitespace, and each line
/// of a multi-line value; only those at least `min_length` long. Surrounding whitespace is left
/// out: a key file's last newline is not secret, and masking it glues the next line onto the mask.
pub fn maskable_parts(value: &[u8], min_length: usize) -> Vec<&[u8]> {
    let mut parts = vec![value.trim_ascii()];
    if value.contains(&b'\n') {
        parts.extend(value.split(|&b| b == b'\n').map(<[u8]>::trim_ascii));
    }
    parts.retain(|part| part.len() >= min_length.max(1));
    parts.sort_unstable();
    parts.dedup();
    parts
}

/// A file-type variable's file is larger than [`MAX_SECRET_FILE_BYTES`].
struct FileTooLarge;

/// When `value` is the absolute path of a readable regular file (as GitLab's file-type
/// variables are), that file's content. Relative paths are taken as values: a password that
/// happens to name a file in the working directory must still be masked.
fn read_secret_file(value: &[u8]) -> Result<Option<Vec<u8>>, FileTooLarge> {
    let path = Path::new(std::ffi::OsStr::from_bytes(value));
    if !path.is_absolute() || !path.is_file() {
        return Ok(None);
    }
    let Ok(file) = File::open(path) else {
        return Ok(None);
    };
    let mut content = Vec::new();
    if file
        .take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut content)
        .is_err()
    {
        return Ok(None);
    }
    if content.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(FileTooLarge);
    }
    Ok(Some(content))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn policy() -> Policy {
        Policy {
            name_patterns: Policy::default_name_patterns(),
            required_names: Vec::new(),
            meltano_names: BTreeSet::new(),
            min_length: 6,
            read_files: true,
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value)))
            .collect()
    }

    fn values(collection: &Collection) -> Vec<(String, Source)> {
        collection
            .secrets
            .iter()
            .map(|found| {
                let value = String::from_utf8_lossy(found.value.expose()).into_owned();
                (value, found.source)
            })
            .collect()
    }

    #[test]
    fn every_default_pattern_parses() {
        assert_eq!(
            Policy::default_name_patterns().len(),
            DEFAULT_NAME_PATTERNS.len()
        );
    }

    #[test]
    fn finds_credentials_by_name_and_skips_the_rest() {
        let found = collect(
            vars(&[
                ("DB_PASSWORD", "pg-secret-1"),
                ("snowflake_private_key", "pk-value-22"),
                ("SENTRY_DSN", "https://k@sentry.example/1"),
                ("TAP_GITHUB_TOKEN", "ghp_abcdef"),
                ("CI_JOB_TOKEN", "job-token-333"),
                ("PWD", "/builds/acme/elt"),
                ("HOME", "/root/home-dir"),
                ("TARGET_HOST", "db.example.com"),
            ]),
            &policy(),
        );
        let mut expected = vec![
            ("pg-secret-1".to_owned(), Source::Variable),
            ("pk-value-22".to_owned(), Source::Variable),
            ("https://k@sentry.example/1".to_owned(), Source::Variable),
            ("ghp_abcdef".to_owned(), Source::Variable),
            ("job-token-333".to_owned(), Source::Variable),
        ];
        expected.sort();
        assert_eq!(values(&found), expected);
        assert!(found.too_short.is_empty());
    }

    #[test]
    fn gitlab_job_credentials_survive_no_default_patterns() {
        let policy = Policy {
            name_patterns: Vec::new(),
            ..policy()
        };
        let found = collect(
            vars(&[
                ("CI_JOB_TOKEN", "job-token-333"),
                ("DB_PASSWORD", "pg-secret-1"),
            ]),
            &policy,
        );
        assert_eq!(
            values(&found),
            vec![("job-token-333".to_owned(), Source::Variable)]
        );
    }

    #[test]
    fn meltano_names_are_their_own_source() {
        let policy = Policy {
            meltano_names: BTreeSet::from(["TAP_X_CLIENT_KEY".to_owned()]),
            ..policy()
        };
        let found = collect(vars(&[("TAP_X_CLIENT_KEY", "client-key-1")]), &policy);
        assert_eq!(
            values(&found),
            vec![("client-key-1".to_owned(), Source::Meltano)]
        );
    }

    #[test]
    fn short_values_are_named_not_masked() {
        let found = collect(
            vars(&[
                ("API_TOKEN", "abc"),
                ("DB_PASSWORD", ""),
                ("X_SECRET", "long-enough"),
            ]),
            &policy(),
        );
        assert_eq!(found.too_short, vec!["API_TOKEN".to_owned()]);
        assert_eq!(
            values(&found),
            vec![("long-enough".to_owned(), Source::Variable)]
        );
    }

    #[test]
    fn literal_secret_env_names_that_are_missing_are_reported() {
        let policy = Policy {
            name_patterns: vec!["MY_KEY".parse().expect("pattern")],
            required_names: vec!["MY_KEY".to_owned()],
            ..policy()
        };
        let found = collect(vars(&[]), &policy);
        assert_eq!(
            found.warnings,
            vec!["--secret-env MY_KEY: no such variable is set".to_owned()]
        );
    }

    #[test]
    fn file_variables_give_their_content_whole_and_by_line() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"line-one-secret\nab\n  line-three-secret  \n")
            .expect("write");
        let path = file.path().to_str().expect("utf-8 path").to_owned();
        let found = collect(vars(&[("GOOGLE_CREDENTIALS", &path)]), &policy());
        let found = values(&found);
        assert!(found.iter().all(|(_, source)| *source == Source::File));
        let found: Vec<String> = found.into_iter().map(|(value, _)| value).collect();
        assert!(!found.contains(&"line-one-secret\nab\n  line-three-secret  \n".to_owned()));
        assert!(found.contains(&"line-one-secret\nab\n  line-three-secret".to_owned()));
        assert!(found.contains(&"line-one-secret".to_owned()));
        assert!(found.contains(&"line-three-secret".to_owned()));
        assert!(!found.contains(&"ab".to_owned()), "short line kept");
        assert!(!found.contains(&path), "the path is not a secret");
    }

    #[test]
    fn relative_paths_and_directories_are_values() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dir = dir.path().to_str().expect("utf-8 path").to_owned();
        let found = collect(
            vars(&[("DB_PASSWORD", "Cargo.toml"), ("X_SECRET", &dir)]),
            &policy(),
        );
        let mut expected = vec![
            ("Cargo.toml".to_owned(), Source::Variable),
            (dir, Source::Variable),
        ];
        expected.sort();
        assert_eq!(values(&found), expected);
    }

    #[test]
    fn a_value_in_two_variables_is_registered_once() {
        let found = collect(
            vars(&[("A_PASSWORD", "same-value"), ("B_PASSWORD", "same-value")]),
            &policy(),
        );
        assert_eq!(found.secrets.len(), 1);
    }

    #[test]
    fn maskable_parts_drop_short_and_duplicate_parts() {
        assert_eq!(maskable_parts(b"abcdef", 6), vec![&b"abcdef"[..]]);
        // Surrounding whitespace is not masked: the line after a key file stays on its own line.
        assert_eq!(maskable_parts(b" abcdef\n", 6), vec![&b"abcdef"[..]]);
        assert_eq!(maskable_parts(b"abc", 6), Vec::<&[u8]>::new());
        assert_eq!(maskable_parts(b"a", 0), vec![&b"a"[..]]);
    }
}
