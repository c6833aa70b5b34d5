//! `ciguard init`: the GitLab CI/CD components in `templates/` (embedded in the binary) rendered
//! into a `.gitlab-ci.yml` for a Meltano project or a single command, and the setup plan that
//! says which CI/CD variables and protections that pipeline needs, and the steps that bring a
//! GitLab project in line with it (`init --apply`).

pub mod component;
pub mod diff;
pub mod emit;
pub mod meltano;
pub mod pipeline;
pub mod plan;
pub mod secrets;
pub mod setup;

/// Where this project publishes ciguard (`.gitlab-ci.yml`'s release jobs): the container image
/// the lint and audit jobs run, without tag. `--ciguard-image` (and the components' `image`
/// input) point elsewhere for a self-managed mirror.
pub const OFFICIAL_IMAGE: &str = "registry.gitlab.com/ciguard/ciguard";

/// The official image of this version of ciguard (`OFFICIAL_IMAGE:VERSION`).
pub fn official_image() -> String {
    format!("{OFFICIAL_IMAGE}:{}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::component::{self, InputValue};
    use super::*;

    /// The default of `input` of `component`, as a string.
    fn default(component: component::Component, input: &str) -> String {
        let inputs = component::inputs(component).expect("the component's spec");
        match inputs.into_iter().find(|spec| spec.name == input) {
            Some(component::InputSpec {
                default: Some(InputValue::String(value)),
                ..
            }) => value,
            other => panic!("no string default for {input}: {other:?}"),
        }
    }

    #[test]
    fn the_components_point_at_what_this_version_publishes() {
        for component in [component::LINT, component::AUDIT] {
            assert_eq!(default(component, "image"), official_image());
        }
        assert_eq!(
            default(component::ELT, "ciguard_requirement"),
            format!("ciguard=={}", env!("CARGO_PKG_VERSION"))
        );
    }
}
