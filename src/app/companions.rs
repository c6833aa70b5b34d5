//! `ciguard completions SHELL` and `ciguard man [COMMAND]`: clap's companions, generated from the
//! same command-line definition the parser uses, written on stdout.

use std::io::{self, Write};

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// Prints the completion script for the shell asked for.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "ciguard", &mut script);
    write_out(&script)
}

/// Prints the manual page of ciguard, or of one of its commands (`ciguard-run(1)`).
pub fn man(args: &ManArgs) -> anyhow::Result<u8> {
    let root = Cli::command();
    let command = match &args.command {
        None => root,
        Some(name) => root
            .find_subcommand(name)
            .with_context(|| format!("internal error: no command {name}"))?
            .clone()
            .bin_name(format!("ciguard {name}"))
            .display_name(format!("ciguard-{name}"))
            .version(env!("CARGO_PKG_VERSION")),
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .context("cannot render the manual page")?;
    write_out(&page)
}

fn write_out(bytes: &[u8]) -> anyhow::Result<u8> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")?;
    Ok(0)
}
