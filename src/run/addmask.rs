//! Finds `::add-mask::VALUE` lines in a child's output stream.
//!
//! A child registers a value it made at run time (a token it fetched, a generated password) by
//! printing a line that starts with `::add-mask::`. The line is taken out of the stream, whole:
//! no byte of it reaches the output. Only line starts count, so a log line that quotes the
//! command is printed as is. While a line may still be a command its first bytes are held back;
//! the value itself is held up to [`MAX_VALUE_BYTES`].

use memchr::memmem;

use crate::secret::Secret;

/// What starts an add-mask line.
pub const ADD_MASK_PREFIX: &[u8] = b"::add-mask::";

/// A value as GitHub's toolkit escapes workflow command values (`%` as `%25`, CR as `%0D`, LF as
/// `%0A`) with the escapes resolved, so that a multi-line secret registered in one line is masked
/// line by line. `None` when the value holds no such escape.
pub fn unescape_command_value(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut escaped = false;
    let mut at = 0;
    while at < value.len() {
        let replacement = match value.get(at..at + 3) {
            Some(b"%25") => Some(b'%'),
            Some(b"%0D" | b"%0d") => Some(b'\r'),
            Some(b"%0A" | b"%0a") => Some(b'\n'),
            _ => None,
        };
        match replacement {
            Some(byte) => {
                out.push(byte);
                escaped = true;
                at += 3;
            }
            None => {
                out.push(value[at]);
                at += 1;
            }
        }
    }
    escaped.then_some(out)
}

/// The longest value held; the rest of a longer line is dropped.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// A piece of the stream, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Output to pass on.
    Text(&'a [u8]),
    /// A value to mask from here on (surrounding whitespace removed, never empty).
    Mask {
        /// The value.
        value: Secret<Vec<u8>>,
        /// The line was longer than [`MAX_VALUE_BYTES`]: this is only its start.
        truncated: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a line start, with this many bytes of [`ADD_MASK_PREFIX`] seen and held.
    Prefix(usize),
    /// Inside a line that is not a command.
    MidLine,
    /// Inside the value of a command.
    Value,
    /// Inside a command whose value was too long: dropping until the line ends.
    Discarding,
}

/// Splits one output stream into text and add-mask values.
pub struct AddMaskFilter {
    state: State,
    value: Vec<u8>,
    line_start_command: memmem::Finder<'static>,
}

/// Shows the length of a value being read, never its bytes.
impl std::fmt::Debug for AddMaskFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddMaskFilter")
            .field("state", &self.state)
            .field("value_len", &self.value.len())
            .finish_non_exhaustive()
    }
}

impl Default for AddMaskFilter {
    fn default() -> Self {
        Self {
            state: State::Prefix(0),
            value: Vec::new(),
            line_start_command: memmem::Finder::new(b"\n::"),
        }
    }
}

impl AddMaskFilter {
    /// Passes `input` on to `sink` as pieces, in stream order.
    pub fn feed(&mut self, mut input: &[u8], sink: &mut impl FnMut(Piece<'_>)) {
        while !input.is_empty() {
            input = match self.state {
                State::MidLine => self.skip_text(input, sink),
                State::Prefix(seen) => self.match_prefix(seen, input, sink),
                State::Value => self.take_value(input, sink),
                State::Discarding => match memchr::memchr(b'\n', input) {
                    Some(end) => {
                        self.state = State::Prefix(0);
                        &input[end + 1..]
                    }
                    None => &[],
                },
            };
        }
    }

    /// Ends the stream: releases held bytes, and a value whose line had no newline.
    pub fn finish(&mut self, sink: &mut impl FnMut(Piece<'_>)) {
        match self.state {
            State::Prefix(seen) if seen > 0 => sink(Piece::Text(&ADD_MASK_PREFIX[..seen])),
            State::Value => self.emit_value(false, sink),
            _ => {}
        }
        self.state = State::Prefix(0);
    }

    /// Passes text on up to the next line that may be a command.
    fn skip_text<'a>(&mut self, input: &'a [u8], sink: &mut impl FnMut(Piece<'_>)) -> &'a [u8] {
        let (text, rest) = match self.line_start_command.find(input) {
            Some(newline) => input.split_at(newline + 1),
            None => {
                // No line here starts with "::"; the last one may still, once more bytes come.
                let last_line = memchr::memrchr(b'\n', input).map_or(input.len(), |nl| nl + 1);
                match input.split_at(last_line) {
                    (text, tail) if ADD_MASK_PREFIX.starts_with(tail) => (text, tail),
                    _ => (input, &[][..]),
                }
            }
        };
        if !text.is_empty() {
            sink(Piece::Text(text));
        }
        if text.last() == Some(&b'\n') {
            self.state = State::Prefix(0);
        }
        rest
    }

    fn match_prefix<'a>(
        &mut self,
        seen: usize,
        input: &'a [u8],
        sink: &mut impl FnMut(Piece<'_>),
    ) -> &'a [u8] {
        let wanted = &ADD_MASK_PREFIX[seen..];
        let compared = wanted.len().min(input.len());
        if input[..compared] != wanted[..compared] {
            if seen > 0 {
                sink(Piece::Text(&ADD_MASK_PREFIX[..seen]));
            }
            self.state = State::MidLine;
            return input;
        }
        self.state = if compared == wanted.len() {
            self.value.clear();
            State::Value
        } else {
            State::Prefix(seen + compared)
        };
        &input[compared..]
    }

    fn take_value<'a>(&mut self, input: &'a [u8], sink: &mut impl FnMut(Piece<'_>)) -> &'a [u8] {
        let (part, rest, line_ended) = match memchr::memchr(b'\n', input) {
            Some(end) => (&input[..end], &input[end + 1..], true),
            None => (input, &[][..], false),
        };
        let room = MAX_VALUE_BYTES - self.value.len();
        if part.len() > room {
            self.value.extend_from_slice(&part[..room]);
            self.emit_value(true, sink);
            self.state = if line_ended {
                State::Prefix(0)
            } else {
                State::Discarding
            };
            return rest;
        }
        self.value.extend_from_slice(part);
        if line_ended {
            self.emit_value(false, sink);
            self.state = State::Prefix(0);
        }
        rest
    }

    fn emit_value(&mut self, truncated: bool, sink: &mut impl FnMut(Piece<'_>)) {
        let value = self.value.trim_ascii();
        if !value.is_empty() {
            sink(Piece::Mask {
                value: Secret::new(value.to_vec()),
                truncated,
            });
        }
        self.value.clear();
    }
}

#[cfg(test)]
mod escape_tests {
    use super::unescape_command_value;

    #[test]
    fn the_toolkits_escapes_are_resolved() {
        assert_eq!(
            unescape_command_value(b"line-one%0Aline-two%0D%0A100%25"),
            Some(b"line-one\nline-two\r\n100%".to_vec())
        );
        assert_eq!(unescape_command_value(b"plain-value"), None);
        assert_eq!(unescape_command_value(b"50%off"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a filter made of `input`: text runs merged, values in order.
    #[derive(Debug, PartialEq, Eq)]
    enum Event {
        Text(Vec<u8>),
        Mask(Vec<u8>, bool),
    }

    fn run(input: &[u8], chunk: usize) -> Vec<Event> {
        let mut events = Vec::new();
        let mut sink = |piece: Piece<'_>| match piece {
            Piece::Text(text) => match events.last_mut() {
                Some(Event::Text(previous)) => previous.extend_from_slice(text),
                _ => events.push(Event::Text(text.to_vec())),
            },
            Piece::Mask { value, truncated } => {
                events.push(Event::Mask(value.expose().clone(), truncated));
            }
        };
        let mut filter = AddMaskFilter::default();
        for part in input.chunks(chunk.max(1)) {
            filter.feed(part, &mut sink);
        }
        filter.finish(&mut sink);
        events
    }

    /// Runs `input` at every chunk size and checks all agree with `expected`.
    fn check(input: &[u8], expected: &[Event]) {
        for chunk in 1..=input.len().max(1) {
            assert_eq!(run(input, chunk), expected, "chunk size {chunk}");
        }
    }

    fn text(t: &str) -> Event {
        Event::Text(t.as_bytes().to_vec())
    }

    fn mask(v: &str) -> Event {
        Event::Mask(v.as_bytes().to_vec(), false)
    }

    #[test]
    fn takes_commands_out_of_the_stream() {
        check(
            b"a\n::add-mask::s3cret-1\nb s3cret-1\n",
            &[text("a\n"), mask("s3cret-1"), text("b s3cret-1\n")],
        );
        check(b"::add-mask::first\r\n", &[mask("first")]);
        check(
            b"::add-mask::a-value\n::add-mask::b-value\n",
            &[mask("a-value"), mask("b-value")],
        );
    }

    #[test]
    fn only_line_starts_count() {
        let quoted = "echo ::add-mask::value\n  ::add-mask::x\n";
        check(quoted.as_bytes(), &[text(quoted)]);
    }

    #[test]
    fn near_misses_pass_through_whole() {
        for line in [
            ":::add-mask::v\n",
            "::add-mas\n",
            "::\n",
            ":\n:",
            "::add-mask:",
            "\n\n::x",
        ] {
            check(line.as_bytes(), &[text(line)]);
        }
    }

    #[test]
    fn a_value_at_eof_without_newline_counts() {
        check(
            b"x\n::add-mask::tail-value",
            &[text("x\n"), mask("tail-value")],
        );
    }

    #[test]
    fn empty_values_drop_the_line_and_mask_nothing() {
        check(b"::add-mask::  \nnext\n", &[text("next\n")]);
    }

    #[test]
    fn long_values_are_cut_and_the_rest_of_the_line_dropped() {
        let mut input = b"::add-mask::".to_vec();
        input.extend(std::iter::repeat_n(b'v', MAX_VALUE_BYTES + 10));
        input.extend_from_slice(b"\nafter\n");
        let expected = [
            Event::Mask(vec![b'v'; MAX_VALUE_BYTES], true),
            text("after\n"),
        ];
        for chunk in [1, 7, 4096, input.len()] {
            assert_eq!(run(&input, chunk), expected, "chunk size {chunk}");
        }
    }
}
