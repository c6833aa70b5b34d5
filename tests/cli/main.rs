//! The one integration test binary: drives the real `ciguard` binary on real processes.

mod audit;
mod common;
mod lint;
mod meltano;
mod run;
