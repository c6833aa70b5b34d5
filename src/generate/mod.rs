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
pub mod setup;
