//! What `run` masks and `scan` looks for: the policy that `SecretArgs` and `.ciguard.yml` set,
//! and the matcher built from the values found with it.

use std::collections::BTreeSet;

use crate::cli::SecretArgs;
use crate::config::Config;
use crate::notice::note;
use crate::run::secrets::{Collection, Policy};
use crate::scrub::MatcherBuilder;

/// The policy: which variables hold secrets (the default patterns unless turned off, the
/// configuration's credential names, `--secret-env`) and how short a secret may be.
pub fn policy(args: &SecretArgs, config: &Config, meltano_names: BTreeSet<String>) -> Policy {
    let extra_names = config
        .credential_names
        .iter()
        .chain(&args.secret_env)
        .cloned();
    Policy {
        name_patterns: if args.no_default_patterns {
            extra_names.collect()
        } else {
            Policy::default_name_patterns()
                .into_iter()
                .chain(extra_names)
                .collect()
        },
        required_names: args
            .secret_env
            .iter()
            .filter(|pattern| pattern.is_literal())
            .map(ToString::to_string)
            .collect(),
        meltano_names,
        min_length: args.min_secret_length,
        read_files: true,
    }
}

/// The matcher for `collection`'s values, with the detectors and token prefixes asked for.
pub fn matcher(args: &SecretArgs, config: &Config, collection: &Collection) -> MatcherBuilder {
    let mut matcher = MatcherBuilder::new();
    if args.no_detectors {
        matcher.disable_all_detectors();
    }
    for &detector in &args.disable_detector {
        matcher.disable_detector(detector);
    }
    collection.register(&mut matcher);
    for prefix in config.token_prefixes.iter().chain(&args.token_prefix) {
        matcher.token_prefix(prefix);
    }
    matcher
}

/// Says which variables were too short to count and what else went wrong finding values.
pub fn tell(collection: &Collection, min_length: usize) {
    if !collection.too_short.is_empty() {
        note(format_args!(
            "not taking the values of {} as secrets (shorter than {min_length} bytes; see \
             --min-secret-length)",
            collection.too_short.join(", "),
        ));
    }
    for warning in &collection.warnings {
        note(warning);
    }
}
