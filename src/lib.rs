//! ciguard keeps the credentials of ELT pipelines safe in GitLab CI.
//!
//! The library holds every part of the `ciguard` binary; `main.rs` only parses the command line
//! and maps the result to an exit status. Data flows one way: sources (a child's output) go
//! through analysers (`scrub`) and are supervised by `run`; only `app` knows them all.

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod env;
pub mod findings;
pub mod gitlab;
pub mod lint;
pub mod report;
pub mod run;
pub mod scrub;
pub mod secret;
