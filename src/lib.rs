//! ciguard keeps the credentials of ELT pipelines safe in GitLab CI.
//!
//! The library holds every part of the `ciguard` binary; `main.rs` only parses the command line
//! and maps the result to an exit status. Data flows one way: sources (the GitLab API through
//! `gitlab`, YAML files, a child's output) go to analysers (`audit`, `lint`, `scrub`), whose
//! `findings` `report` renders; `run` supervises a child through a scrubber; `pseudonymize`
//! filters a Singer stream. Only `app` knows them all.

// The library is ciguard's own insides, not an API: its documentation is built with
// `--document-private-items`, where links to private items resolve.
#![allow(rustdoc::private_intra_doc_links)]

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod diagnostic;
pub mod env;
pub mod findings;
pub mod generate;
pub mod gitlab;
#[cfg(test)]
mod layering;
pub mod lint;
pub mod meltano;
pub mod notice;
pub mod pseudonymize;
pub mod report;
pub mod run;
pub mod scan;
pub mod scrub;
pub mod secret;
pub mod yaml;
