//! Copies one of the child's output pipes to ciguard's own stream (and the log file), scrubbed.
//!
//! Each pipe has its own pump thread, [`Scrubber`] and add-mask filter. The two share one
//! [`SharedMatcher`]: a value registered with `::add-mask::` on either stream is masked on both
//! from the next line on.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::notice::note;
use crate::run::addmask::{AddMaskFilter, MAX_VALUE_BYTES, Piece, unescape_command_value};
use crate::run::secrets::{Source, maskable_parts};
use crate::scrub::{Matcher, MatcherBuilder, Scrubber, Stats};
use crate::secret::Secret;

/// Bytes read from a pipe at a time.
const CHUNK_BYTES: usize = 64 * 1024;

/// The matcher in force for both streams, rebuilt when the child adds a value.
#[derive(Debug)]
pub struct SharedMatcher {
    /// Bumped on every rebuild, so a pump can check for one without taking the lock.
    generation: AtomicU64,
    state: Mutex<MatcherState>,
    min_length: usize,
}

#[derive(Debug)]
struct MatcherState {
    builder: MatcherBuilder,
    current: Arc<Matcher>,
    added: BTreeSet<Secret<Vec<u8>>>,
}

/// What became of a value the child asked to mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Added {
    /// Masked from now on.
    New,
    /// Already registered at run time.
    Known,
    /// Shorter than the minimum length: not masked.
    TooShort,
}

impl SharedMatcher {
    /// Starts from `builder`, already built into `current`.
    pub fn new(builder: MatcherBuilder, current: Arc<Matcher>, min_length: usize) -> Self {
        Self {
            generation: AtomicU64::new(0),
            state: Mutex::new(MatcherState {
                builder,
                current,
                added: BTreeSet::new(),
            }),
            min_length,
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The matcher in force and its generation.
    fn current(&self) -> (u64, Arc<Matcher>) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (self.generation(), Arc::clone(&state.current))
    }

    fn add(&self, value: Secret<Vec<u8>>) -> Added {
        if value.expose().len() < self.min_length {
            return Added::TooShort;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.added.contains(&value) {
            return Added::Known;
        }
        state
            .builder
            .secret(value.expose(), Source::AddMask.label());
        state.current = Arc::new(state.builder.build());
        state.added.insert(value);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Added::New
    }
}

/// The scrubbing state of one stream.
#[derive(Debug)]
struct Stream {
    scrubber: Scrubber,
    /// The [`SharedMatcher`] generation the scrubber uses.
    generation: u64,
    /// Whether the last byte fed ended a line (a matcher may only change there).
    at_line_start: bool,
    /// Scrubbed bytes not yet written.
    out: Vec<u8>,
}

impl Stream {
    fn new(shared: &SharedMatcher) -> Self {
        let (generation, matcher) = shared.current();
        Self {
            scrubber: Scrubber::new(matcher),
            generation,
            at_line_start: true,
            out: Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4),
        }
    }

    /// Scrubs `text`, switching to a newer matcher at the first line boundary.
    fn text(&mut self, shared: &SharedMatcher, mut text: &[u8]) {
        if shared.generation() != self.generation {
            if !self.at_line_start {
                let Some(newline) = memchr::memchr(b'\n', text) else {
                    self.feed(text);
                    return;
                };
                self.feed(&text[..=newline]);
                text = &text[newline + 1..];
            }
            self.adopt(shared);
        }
        self.feed(text);
    }

    fn feed(&mut self, text: &[u8]) {
        if let Some(&last) = text.last() {
            self.scrubber.feed(text, &mut self.out);
            self.at_line_start = last == b'\n';
        }
    }

    fn adopt(&mut self, shared: &SharedMatcher) {
        let (generation, matcher) = shared.current();
        self.scrubber.replace_matcher(matcher);
        self.generation = generation;
    }

    /// Registers an add-mask value; its line was dropped, so the stream is at a line start.
    fn mask(&mut self, shared: &SharedMatcher, value: Secret<Vec<u8>>, truncated: bool) {
        self.at_line_start = true;
        // As written, and with the toolkit's `%0A` escapes resolved: each line of it then.
        let unescaped = unescape_command_value(value.expose()).map(Secret::new);
        let parts = unescaped.as_ref().map(|multi| {
            maskable_parts(multi.expose(), shared.min_length)
                .into_iter()
                .map(|part| Secret::new(part.to_vec()))
                .collect::<Vec<_>>()
        });
        let added: Vec<Added> = std::iter::once(value)
            .chain(parts.into_iter().flatten())
            .map(|part| shared.add(part))
            .collect();
        if added.iter().any(|a| matches!(a, Added::New | Added::Known)) {
            self.adopt(shared);
        } else {
            note(format_args!(
                "ignored an ::add-mask:: value shorter than {} bytes (see --min-secret-length)",
                shared.min_length
            ));
        }
        if truncated {
            note(format_args!(
                "an ::add-mask:: line was longer than {MAX_VALUE_BYTES} bytes: only its start is masked"
            ));
        }
    }
}

/// Where scrubbed output goes: one of ciguard's streams, and the log file if any.
#[derive(Debug)]
pub struct Sink<W> {
    /// ciguard's stdout or stderr.
    pub output: W,
    /// What `--log-file` opened, shared by both pumps.
    pub log: Option<Arc<Mutex<File>>>,
    /// Names the stream in messages: "stdout" or "stderr".
    pub name: &'static str,
    /// Whether what was written last does not end its line.
    pub mid_line: bool,
}

impl<W: Write> Sink<W> {
    /// Writes `bytes` out now. `false` when the output is gone and reading should stop.
    fn write(&mut self, bytes: &[u8]) -> bool {
        if let Some(&last) = bytes.last() {
            self.mid_line = last != b'\n';
        }
        if let Some(log) = &self.log {
            let mut file = log.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(err) = file.write_all(bytes) {
                note(format_args!("stopped writing the log file: {err}"));
                drop(file);
                self.log = None;
            }
        }
        match self
            .output
            .write_all(bytes)
            .and_then(|()| self.output.flush())
        {
            Ok(()) => true,
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => false,
            Err(err) => {
                note(format_args!(
                    "cannot write the child's {}: {err}",
                    self.name
                ));
                false
            }
        }
    }
}

/// What a pump did: what it masked, and whether its output stopped in the middle of a line.
#[derive(Debug)]
pub struct Pumped {
    /// What was masked.
    pub stats: Stats,
    /// The last line written has no newline yet.
    pub mid_line: bool,
}

/// Copies `input` to `sink` until end of file, scrubbed; says what it masked.
///
/// When the output is closed it stops reading, so the child meets a closed pipe as it would
/// without ciguard.
pub fn pump<W: Write>(mut input: impl Read, mut sink: Sink<W>, shared: &SharedMatcher) -> Pumped {
    let mut stream = Stream::new(shared);
    let mut filter = AddMaskFilter::default();
    let mut buffer = vec![0; CHUNK_BYTES];
    let on_piece = |stream: &mut Stream, piece: Piece<'_>| match piece {
        Piece::Text(text) => stream.text(shared, text),
        Piece::Mask { value, truncated } => stream.mask(shared, value, truncated),
    };
    loop {
        let read = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                note(format_args!("cannot read the child's {}: {err}", sink.name));
                break;
            }
        };
        filter.feed(&buffer[..read], &mut |piece| on_piece(&mut stream, piece));
        let written = sink.write(&stream.out);
        stream.out.clear();
        if !written {
            return Pumped {
                stats: stream.scrubber.stats().clone(),
                mid_line: sink.mid_line,
            };
        }
    }
    filter.finish(&mut |piece| on_piece(&mut stream, piece));
    stream.scrubber.finish(&mut stream.out);
    sink.write(&stream.out);
    Pumped {
        stats: stream.scrubber.stats().clone(),
        mid_line: sink.mid_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrub::MASK;

    fn shared() -> SharedMatcher {
        let mut builder = MatcherBuilder::new();
        builder.disable_all_detectors();
        let matcher = Arc::new(builder.build());
        SharedMatcher::new(builder, matcher, 6)
    }

    fn value(text: &str) -> Secret<Vec<u8>> {
        Secret::new(text.as_bytes().to_vec())
    }

    #[test]
    fn the_other_stream_switches_matchers_at_its_next_line_start() {
        let shared = shared();
        let mut stream = Stream::new(&shared);
        stream.text(&shared, b"start ");
        assert_eq!(shared.add(value("late-value-1")), Added::New);
        stream.text(&shared, b"end\nlate-value-1\n");
        stream.scrubber.finish(&mut stream.out);
        let mut expected = b"start end\n".to_vec();
        expected.extend_from_slice(MASK);
        expected.push(b'\n');
        assert_eq!(stream.out, expected);
        assert_eq!(stream.generation, 1);
    }

    #[test]
    fn short_and_repeated_values_do_not_rebuild() {
        let shared = shared();
        assert_eq!(shared.add(value("abc")), Added::TooShort);
        assert_eq!(shared.generation(), 0);
        assert_eq!(shared.add(value("runtime-token")), Added::New);
        assert_eq!(shared.add(value("runtime-token")), Added::Known);
        assert_eq!(shared.generation(), 1);
    }
}
