//! What the benchmarks in `examples/` share: their settings from the environment and the
//! ciguard binary they measure.

use std::path::PathBuf;

/// The number in environment variable `name`, or `default`.
pub fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// `$CIGUARD_BIN`, else the `ciguard` of the profile this example was built with.
pub fn ciguard_binary() -> PathBuf {
    std::env::var_os("CIGUARD_BIN").map_or_else(
        || {
            let example = std::env::current_exe().expect("the example's path");
            let profile = example.parent().and_then(|dir| dir.parent());
            profile.expect("target/<profile>").join("ciguard")
        },
        PathBuf::from,
    )
}
