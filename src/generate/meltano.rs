//! What `init` reads from `meltano.yml`: the plugins, the environments (which one is production,
//! which one merge requests may use), the schedules and jobs (what each production run runs),
//! and the settings that hold credentials (the variables the pipeline needs).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::credentials::NamePattern;
use crate::diagnostic::FileError;
use crate::meltano::{self as project_file, SecretSetting};

/// Meltano environment names taken for production, in order of preference.
const PRODUCTION_NAMES: [&str; 3] = ["prod", "production", "prd"];

/// Meltano environment names taken for merge-request runs, in order of preference.
const REVIEW_NAMES: [&str; 8] = [
    "staging", "stage", "stg", "preprod", "uat", "qa", "test", "testing",
];

/// A Meltano project as `init` needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeltanoProject {
    /// Extractor names, in file order.
    pub extractors: Vec<String>,
    /// Loader names, in file order.
    pub loaders: Vec<String>,
    /// Environment names, in file order.
    pub environments: Vec<String>,
    /// Schedules, in file order.
    pub schedules: Vec<Schedule>,
    /// Job names, in file order.
    pub jobs: Vec<String>,
    /// Settings holding credentials.
    pub secrets: Vec<SecretSetting>,
    /// Mappings of `ciguard pseudonymize` (the project declares personal fields to hash or
    /// drop): runs put them between extractor and loader.
    pub pseudonymizers: Vec<Pseudonymizer>,
}

/// A mapping run by `ciguard pseudonymize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudonymizer {
    /// The mapping's name, as `meltano run` takes it.
    pub mapping: String,
    /// The mapper plugin's name.
    pub mapper: String,
    /// The variable holding its HMAC key (`key_env`).
    pub key_env: String,
}

/// A `schedules:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Its name.
    pub name: String,
    /// What `meltano run` runs for it: a job, or an extractor and a loader.
    pub run: Vec<String>,
    /// Its interval (`@daily`, a cron expression), as written.
    pub interval: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProjectFile {
    #[serde(default)]
    plugins: Option<Plugins>,
    #[serde(default)]
    environments: Option<Vec<Named>>,
    #[serde(default)]
    schedules: Option<Vec<ScheduleEntry>>,
    #[serde(default)]
    jobs: Option<Vec<Named>>,
}

#[derive(Debug, Default, Deserialize)]
struct Plugins {
    #[serde(default)]
    extractors: Option<Vec<Named>>,
    #[serde(default)]
    loaders: Option<Vec<Named>>,
    #[serde(default)]
    mappers: Option<Vec<MapperEntry>>,
    #[serde(flatten)]
    _other: BTreeMap<String, IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct MapperEntry {
    name: String,
    #[serde(default)]
    executable: Option<String>,
    #[serde(default)]
    mappings: Option<Vec<MappingEntry>>,
    #[serde(flatten)]
    _rest: BTreeMap<String, IgnoredAny>,
}

impl MapperEntry {
    /// Whether the mapper runs `ciguard pseudonymize` (its name or executable says ciguard).
    fn is_ciguard(&self) -> bool {
        std::iter::once(self.name.as_str())
            .chain(self.executable.as_deref())
            .any(|name| name.contains("ciguard"))
    }
}

#[derive(Debug, Deserialize)]
struct MappingEntry {
    name: String,
    #[serde(default)]
    config: Option<MappingConfig>,
}

#[derive(Debug, Deserialize)]
struct MappingConfig {
    #[serde(default)]
    key_env: Option<String>,
    #[serde(flatten)]
    _rest: BTreeMap<String, IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: String,
    #[serde(flatten)]
    _rest: BTreeMap<String, IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct ScheduleEntry {
    name: String,
    #[serde(default)]
    job: Option<String>,
    #[serde(default)]
    extractor: Option<String>,
    #[serde(default)]
    loader: Option<String>,
    #[serde(default)]
    interval: Option<String>,
}

impl MeltanoProject {
    /// Reads the project file `path` (its text given); settings are credentials when declared
    /// sensitive or when their variable matches one of `credential_names`.
    pub fn read(
        path: &Path,
        text: &str,
        credential_names: &[NamePattern],
    ) -> Result<Self, FileError> {
        let file: ProjectFile = project_file::parse_project(path, text)?;
        let root = path.parent().unwrap_or(Path::new("."));
        let secrets = project_file::secret_settings(root, path, text, |name| {
            credential_names.iter().any(|pattern| pattern.matches(name))
        })?;
        let plugins = file.plugins.unwrap_or_default();
        let pseudonymizers: Vec<Pseudonymizer> = plugins
            .mappers
            .unwrap_or_default()
            .into_iter()
            .filter(MapperEntry::is_ciguard)
            .flat_map(|mapper| {
                let name = mapper.name;
                mapper
                    .mappings
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(move |mapping| {
                        Some(Pseudonymizer {
                            key_env: mapping.config?.key_env?,
                            mapping: mapping.name,
                            mapper: name.clone(),
                        })
                    })
            })
            .collect();
        let names = |entries: Option<Vec<Named>>| -> Vec<String> {
            entries
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.name)
                .collect()
        };
        Ok(MeltanoProject {
            extractors: names(plugins.extractors),
            loaders: names(plugins.loaders),
            environments: names(file.environments),
            jobs: names(file.jobs),
            schedules: file
                .schedules
                .unwrap_or_default()
                .into_iter()
                .map(|entry| Schedule {
                    run: match (entry.job, entry.extractor, entry.loader) {
                        (Some(job), _, _) => vec![job],
                        (None, Some(extractor), Some(loader)) => {
                            Self::pair(&extractor, &loader, &pseudonymizers)
                        }
                        (None, extractor, loader) => extractor.into_iter().chain(loader).collect(),
                    },
                    name: entry.name,
                    interval: entry.interval,
                })
                .collect(),
            secrets,
            pseudonymizers,
        })
    }

    /// `extractor [mappings...] loader`: the pseudonymizing mappings sit between them.
    fn pair(extractor: &str, loader: &str, pseudonymizers: &[Pseudonymizer]) -> Vec<String> {
        std::iter::once(extractor)
            .chain(pseudonymizers.iter().map(|p| p.mapping.as_str()))
            .chain(std::iter::once(loader))
            .map(str::to_owned)
            .collect()
    }

    /// The production environment: `wanted` when given (it must exist), else the first of
    /// `prod`, `production`, `prd` the project has.
    pub fn production_environment(&self, wanted: Option<&str>) -> Result<Option<&str>, String> {
        match wanted {
            Some(name) => self
                .environments
                .iter()
                .find(|e| *e == name)
                .map(|e| Some(e.as_str()))
                .ok_or_else(|| {
                    format!(
                        "meltano.yml has no environment of the name --production-env gives (it has: {})",
                        self.environments.join(", ")
                    )
                }),
            None => Ok(self.first_environment(&PRODUCTION_NAMES)),
        }
    }

    /// The environment merge-request pipelines run in: the first of `staging`, `stage`, ...
    pub fn review_environment(&self) -> Option<&str> {
        self.first_environment(&REVIEW_NAMES)
    }

    fn first_environment(&self, preferred: &[&str]) -> Option<&str> {
        preferred
            .iter()
            .find_map(|name| self.environments.iter().find(|e| e == name))
            .map(String::as_str)
    }

    /// What a run without a schedule runs: the project's one job, or among several the one
    /// named `elt`, `el`, `default` or `main`, else each extractor into the first loader.
    /// `Err` lists the jobs when none of them stands out; `Ok(None)` when there is nothing to
    /// run at all.
    pub fn default_run(&self) -> Result<Option<Vec<String>>, String> {
        const USUAL_JOB_NAMES: [&str; 4] = ["elt", "el", "default", "main"];
        match self.jobs.as_slice() {
            [] => {}
            [job] => return Ok(Some(vec![job.clone()])),
            jobs => {
                return USUAL_JOB_NAMES
                    .iter()
                    .find_map(|usual| jobs.iter().find(|job| job == usual))
                    .map(|job| Some(vec![job.clone()]))
                    .ok_or_else(|| {
                        format!(
                            "the project has several jobs ({}): name what production runs with \
                             --run (a job, or `tap-x target-y`)",
                            jobs.join(", ")
                        )
                    });
            }
        }
        let (Some(loader), false) = (self.loaders.first(), self.extractors.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(
            self.extractors
                .iter()
                .flat_map(|extractor| Self::pair(extractor, loader, &self.pseudonymizers))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::DEFAULT_NAME_PATTERNS;

    fn read(text: &str) -> MeltanoProject {
        let patterns: Vec<NamePattern> = DEFAULT_NAME_PATTERNS
            .iter()
            .map(|p| p.parse().expect("pattern"))
            .collect();
        MeltanoProject::read(Path::new("/nonexistent/meltano.yml"), text, &patterns).expect("reads")
    }

    const PROJECT: &str = r#"
default_environment: dev
environments: [{name: dev}, {name: staging}, {name: prod}]
plugins:
  extractors:
  - name: tap-postgres
    settings:
    - {name: password, sensitive: true}
    - {name: host}
    config:
      client_secret: $SECRET
      password: ${PG_PASSWORD}
  - name: tap-github
    settings:
    - {name: auth_token, kind: password}
  loaders:
  - name: target-snowflake
    config:
      private_key_path: /keys/sf.p8
jobs:
- name: nightly
  tasks: [tap-postgres target-snowflake]
schedules:
- {name: daily, job: nightly, interval: "@daily"}
- {name: hourly-github, extractor: tap-github, loader: target-snowflake, interval: "0 * * * *"}
"#;

    #[test]
    fn plugins_environments_schedules_and_jobs_are_read() {
        let project = read(PROJECT);
        assert_eq!(project.extractors, ["tap-postgres", "tap-github"]);
        assert_eq!(project.loaders, ["target-snowflake"]);
        assert_eq!(project.environments, ["dev", "staging", "prod"]);
        assert_eq!(project.jobs, ["nightly"]);
        assert_eq!(project.schedules[0].run, ["nightly"]);
        assert_eq!(project.schedules[1].run, ["tap-github", "target-snowflake"]);
        assert_eq!(project.schedules[1].interval.as_deref(), Some("0 * * * *"));
        assert_eq!(project.production_environment(None), Ok(Some("prod")));
        assert_eq!(project.review_environment(), Some("staging"));
        assert_eq!(project.default_run(), Ok(Some(vec!["nightly".to_owned()])));
        assert!(project.production_environment(Some("live")).is_err());
    }

    #[test]
    fn declared_and_credential_named_settings_are_secrets() {
        let project = read(PROJECT);
        let vars: Vec<(&str, bool)> = project
            .secrets
            .iter()
            .map(|s| (s.env_var.as_str(), s.declared_sensitive))
            .collect();
        assert_eq!(
            vars,
            [
                ("PG_PASSWORD", true),
                ("SECRET", false),
                ("TAP_GITHUB_AUTH_TOKEN", true),
                ("TARGET_SNOWFLAKE_PRIVATE_KEY_PATH", false),
            ]
        );
    }

    #[test]
    fn without_jobs_each_extractor_loads_into_the_first_loader() {
        let project = read(
            "plugins:\n  extractors: [{name: tap-a}, {name: tap-b}]\n  loaders: [{name: target-x}]\n",
        );
        assert_eq!(
            project.default_run(),
            Ok(Some(
                ["tap-a", "target-x", "tap-b", "target-x"]
                    .map(str::to_owned)
                    .to_vec()
            ))
        );
        assert_eq!(project.production_environment(None), Ok(None));
        assert_eq!(read("plugins: {}\n").default_run(), Ok(None));
    }

    #[test]
    fn among_several_jobs_the_usual_one_runs_else_the_user_says() {
        let jobs = |names: &str| read(&format!("jobs: [{names}]\n")).default_run();
        assert_eq!(
            jobs("{name: el}, {name: t}, {name: elt}, {name: docs}"),
            Ok(Some(vec!["elt".to_owned()]))
        );
        let err = jobs("{name: a}, {name: b}").expect_err("ambiguous");
        assert!(err.contains("(a, b)") && err.contains("--run"), "{err}");
    }
}
