//! The one integration test binary: drives the real `ciguard` binary on real processes.

mod audit;
mod audit_api;
mod audit_fix;
mod audit_group;
mod command_line;
mod common;
mod fake_gitlab;
mod gitlab_ci_local;
mod init;
mod init_apply;
mod init_audit;
mod init_pipelines;
mod lint;
mod meltano;
mod peer_maskers;
mod pre_commit;
mod pseudonymize;
mod release_pipeline;
mod repository;
mod run;
mod scan;
mod wheel;
