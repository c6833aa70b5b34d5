//! Singer message filter: keyed hashing and dropping of fields, schema rewrite.
//!
//! [`filter`] reads Singer messages (one JSON object per line) and writes them with the
//! configured fields of each RECORD hashed ([`hash`]) or dropped, and each SCHEMA rewritten to
//! match ([`rules`]). STATE, ACTIVATE_VERSION and message types it does not know pass through
//! byte for byte; BATCH passes only for streams whose records it would not change (it cannot
//! rewrite the files a BATCH points at). In a rewritten RECORD, members keep their order and
//! values no rule reaches are copied as they came (`raw`). Batches of whole lines are
//! pseudonymised on worker threads (`batch`) and written in input order; a bounded number of
//! batches is in flight, so memory does not grow with the number of records. It takes any
//! reader and writer and chooses no exit status.
//!
//! Errors name the line, the stream and the field path, never a value: a value may be personal
//! data.

mod batch;
pub mod config;
pub mod hash;
mod raw;
pub mod rules;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::mpsc::{self, SyncSender};
use std::thread;

pub use config::Config;
pub use hash::{Hasher, KeyError, MIN_KEY_BYTES};

use batch::{Batch, Done};

/// The longest line read; a longer one is an error rather than a growing buffer.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// The most worker threads [`filter`] starts.
pub const MAX_WORKERS: usize = 4;

/// Bytes asked for by each read: a batch holds at most this much (plus a line begun before).
const READ_BYTES: usize = 256 * 1024;

/// Batches waiting for each worker, and results waiting for the writer, per worker.
const QUEUED: usize = 2;

/// Why the filter stopped.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A line that is not a Singer message ciguard can handle.
    #[error("line {line}: {problem}")]
    Input { line: u64, problem: String },
    /// Reading the input failed.
    #[error("cannot read the input: {0}")]
    Read(#[source] io::Error),
    /// Writing the output failed (a closed pipe among others).
    #[error("cannot write the output: {0}")]
    Write(#[source] io::Error),
    /// A thread of the filter panicked (its message is withheld: it may hold a value).
    #[error("internal error in a filter thread; please report it")]
    Internal,
}

/// What went through the filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Messages read.
    pub messages: u64,
    /// RECORD messages whose fields were rewritten.
    pub records_rewritten: u64,
}

/// Copies the Singer messages of `input` to `output`, pseudonymised as `config` says.
///
/// A reader thread cuts the input into batches of whole lines as they arrive; worker threads (one
/// per core, at most [`MAX_WORKERS`]) pseudonymise the batches, each with its own copy of
/// `hasher`; the calling thread writes their output in input order, flushes after each batch
/// that holds a STATE, and checks that every stream's SCHEMA came before its RECORDs. On an
/// error it returns at once; the reader may still be waiting for input then, and ends with the
/// process.
pub fn filter(
    config: &Config,
    hasher: &Hasher,
    input: impl Read + Send + 'static,
    mut output: impl Write,
) -> Result<Counts, FilterError> {
    let workers = thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, MAX_WORKERS);
    let config = Arc::new(config.clone());
    let mut to_workers = Vec::with_capacity(workers);
    let mut from_workers = Vec::with_capacity(workers);
    let mut handles = Vec::with_capacity(workers + 1);
    for _ in 0..workers {
        let (to_worker, batches) = mpsc::sync_channel::<Result<Batch, FilterError>>(QUEUED);
        let (done, from_worker) = mpsc::sync_channel::<Done>(QUEUED);
        let config = Arc::clone(&config);
        let mut hasher = hasher.clone();
        handles.push(thread::spawn(move || {
            for batch in batches {
                let result = match batch {
                    Ok(batch) => batch::process(&config, &mut hasher, &batch),
                    Err(err) => Done::failed(err),
                };
                if done.send(result).is_err() {
                    break;
                }
            }
        }));
        to_workers.push(to_worker);
        from_workers.push(from_worker);
    }
    handles.push(thread::spawn(move || read_batches(input, &to_workers)));

    let mut counts = Counts::default();
    let mut schemas: HashSet<String> = HashSet::new();
    for turn in (0..workers).cycle() {
        let Ok(done) = from_workers[turn].recv() else {
            break;
        };
        counts.messages += done.counts.messages;
        counts.records_rewritten += done.counts.records_rewritten;
        for event in &done.events {
            if event.is_schema {
                schemas.insert(event.stream.clone());
            } else if !schemas.contains(&event.stream) {
                let failure = FilterError::Input {
                    line: event.line,
                    problem: format!("stream `{}`: a RECORD before its SCHEMA", event.stream),
                };
                return Err(write_until(&mut output, &done.output[..event.at], failure));
            }
        }
        if let Some((at, failure)) = done.failure {
            return Err(write_until(&mut output, &done.output[..at], failure));
        }
        output.write_all(&done.output).map_err(FilterError::Write)?;
        if done.holds_state {
            // Out at once, not when the buffer fills: the target checkpoints on it.
            output.flush().map_err(FilterError::Write)?;
        }
    }
    // Every channel is closed: the threads have ended, or one of them panicked.
    if handles.into_iter().any(|handle| handle.join().is_err()) {
        return Err(FilterError::Internal);
    }
    output.flush().map_err(FilterError::Write)?;
    Ok(counts)
}

/// Writes what came before the line that failed, and hands back the failure (or the write
/// error, if writing fails too).
fn write_until(output: &mut impl Write, before: &[u8], failure: FilterError) -> FilterError {
    match output.write_all(before).and_then(|()| output.flush()) {
        Ok(()) => failure,
        Err(err) => FilterError::Write(err),
    }
}

/// Reads `input` and deals batches of whole lines to the workers in turn, one batch per read, so
/// that a STATE is not held back waiting for more input. Ends at the end of the input, on a
/// read error or an overlong line (sent on as the next batch), or when the workers are gone.
fn read_batches(mut input: impl Read, workers: &[SyncSender<Result<Batch, FilterError>>]) {
    let mut buffer = vec![0; READ_BYTES];
    let mut partial: Vec<u8> = Vec::new();
    let mut next_line: u64 = 1;
    let mut turns = (0..workers.len()).cycle();
    let mut send = |item| {
        turns
            .next()
            .is_some_and(|turn| workers[turn].send(item).is_ok())
    };
    loop {
        let read = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                send(Err(FilterError::Read(err)));
                return;
            }
        };
        let chunk = &buffer[..read];
        let Some(last_end) = memchr::memrchr(b'\n', chunk) else {
            partial.extend_from_slice(chunk);
            // A line end may still follow: `\r\n` is not part of the line.
            if partial.len() > MAX_LINE_BYTES + 1 {
                send(Err(FilterError::Input {
                    line: next_line,
                    problem: format!(
                        "the line is longer than {} MiB",
                        MAX_LINE_BYTES / (1024 * 1024)
                    ),
                }));
                return;
            }
            continue;
        };
        let mut bytes = std::mem::take(&mut partial);
        bytes.extend_from_slice(&chunk[..=last_end]);
        partial.extend_from_slice(&chunk[last_end + 1..]);
        let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
        if !send(Ok(Batch {
            first_line: next_line,
            bytes,
        })) {
            return;
        }
        next_line += lines;
    }
    if !partial.is_empty() {
        send(Ok(Batch {
            first_line: next_line,
            bytes: partial,
        }));
    }
}
