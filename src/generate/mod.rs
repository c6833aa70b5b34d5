//! `ciguard init`: the GitLab CI/CD components in `templates/` (embedded in the binary) rendered
//! into a `.gitlab-ci.yml` for a Meltano project or a single command, and the setup plan that
//! says which CI/CD variables and protections that pipeline needs.

pub mod component;
pub mod diff;
pub mod emit;
pub mod meltano;
pub mod pipeline;
pub mod plan;
