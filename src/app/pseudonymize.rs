//! `ciguard pseudonymize`: loads the config, reads the key from the variable it names (before any
//! input is read), filters stdin to stdout, and picks the exit status.

use std::io::{self, BufWriter, ErrorKind};
use std::os::unix::ffi::OsStringExt;

use anyhow::bail;

use crate::cli::PseudonymizeArgs;
use crate::notice::note;
use crate::pseudonymize::{self, FilterError, Hasher, KeyError, MIN_KEY_BYTES};
use crate::secret::Secret;

/// Everything went through.
const EXIT_DONE: u8 = 0;

/// Buffer size for stdout.
const BUFFER_BYTES: usize = 256 * 1024;

/// Runs `ciguard pseudonymize`; returns its exit status.
pub fn pseudonymize(args: &PseudonymizeArgs) -> anyhow::Result<u8> {
    let config = pseudonymize::config::load(&args.config)?;
    let hasher = key(&config.key_env).and_then(|key| Hasher::new(&key, config.key_id.as_deref()));
    let hasher = match hasher {
        Ok(hasher) => hasher,
        Err(err) => bail!(
            "the key variable {} {err}: set it (a masked, protected CI/CD variable) to at \
             least {MIN_KEY_BYTES} random bytes, e.g. the output of `openssl rand -base64 48`",
            config.key_env
        ),
    };
    let output = BufWriter::with_capacity(BUFFER_BYTES, io::stdout().lock());
    match pseudonymize::filter(&config, &hasher, io::stdin(), output) {
        Ok(counts) => {
            note(format_args!(
                "pseudonymize: {} messages, {} records rewritten",
                counts.messages, counts.records_rewritten
            ));
            Ok(EXIT_DONE)
        }
        // The reader went away (the target stopped): nothing left to say to it.
        Err(FilterError::Write(err)) if err.kind() == ErrorKind::BrokenPipe => Ok(EXIT_DONE),
        // Its message already says what its source does.
        Err(err) => bail!("pseudonymize: {err}"),
    }
}

/// The key's bytes from the variable `name`.
fn key(name: &str) -> Result<Secret<Vec<u8>>, KeyError> {
    match std::env::var_os(name) {
        Some(value) if !value.is_empty() => Ok(Secret::new(value.into_vec())),
        _ => Err(KeyError::Missing),
    }
}
