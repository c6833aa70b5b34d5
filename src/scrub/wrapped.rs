//! Base64 wrapped over several lines: GNU `base64` breaks its output every 76 columns, `openssl
//! base64` and PEM bodies every 64. The base64 forms of every registered secret are matched across
//! those line breaks, at every alignment, streaming.
//!
//! A line break is read through only after a *wrap line*: a line holding nothing but base64
//! characters (after optional indentation), at least [`MIN_WRAP`] of them and a multiple of 4, as
//! every encoder writes every line but the last. The break (`\n` or `\r\n`) and the next line's
//! indentation are skipped, so the walk sees the encoded text joined; any other byte ends the
//! joined text.
//!
//! Matches inside one line are left to the main automaton, which holds the same forms; this walk
//! reports only the matches that cross a break. So it steps its automaton only where a match may
//! cross one: over a wrap line's last bytes (at most the longest form, read back at the break:
//! the main automaton holds back every line tail that may begin a form), and from a break on for
//! as long as the partial match reaches back past it. The rest of a line costs a table lookup a
//! byte, an ordinary log line a scan to its first space and a jump to its end. A wrap line's tail
//! is held back until the next line shows whether the encoded text goes on.

use std::collections::VecDeque;

use aho_corasick::automaton::StateID;

use super::SecretTag;
use super::automaton::Engine;
use super::prefilter::Needle;

/// The fewest base64 characters a line needs before its line break is read through.
pub(crate) const MIN_WRAP: usize = 16;

/// The base64 forms of the registered secrets, compiled for the walk across line breaks.
pub(crate) struct WrappedForms {
    engine: Engine,
    /// The length of the longest form.
    longest: usize,
    /// Each form, with the secret it encodes.
    forms: Vec<(Box<[u8]>, SecretTag)>,
}

impl WrappedForms {
    /// Compiles `forms`; `None` when there are none.
    pub(crate) fn new(forms: Vec<(Box<[u8]>, SecretTag)>) -> Option<WrappedForms> {
        if forms.is_empty() {
            return None;
        }
        let needles: Vec<Needle<'_>> = forms
            .iter()
            .map(|(bytes, _)| Needle {
                bytes,
                exact_case: true,
            })
            .collect();
        let engine = Engine::new(&needles);
        let longest = forms
            .iter()
            .map(|(bytes, _)| bytes.len())
            .max()
            .unwrap_or(0);
        Some(WrappedForms {
            engine,
            longest,
            forms,
        })
    }

    /// The forms, for the reference scrubber.
    pub(crate) fn forms(&self) -> impl Iterator<Item = &[u8]> {
        self.forms.iter().map(|(bytes, _)| &bytes[..])
    }
}

/// Whether `byte` is a base64 character of the standard or the URL-safe alphabet (not `=`).
pub(crate) fn is_base64(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'-' | b'_')
}

/// Where the walk stands in the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// At the line's start or in its indentation.
    Leading,
    /// `count` base64 characters from absolute offset `start`, and nothing else so far.
    Base64 { start: u64, count: usize },
    /// Base64 then `=` padding: the encoded text ends on this line.
    Padded,
    /// Base64 then `\r`: a `\n` makes it a CRLF line end.
    CarriageReturn { start: u64, count: usize },
    /// Anything else: nothing to walk before the next line.
    Other,
}

/// The walk of one stream. No `Debug`: it reaches the stream's bytes.
#[allow(missing_debug_implementations)]
pub(crate) struct WrappedWalk {
    line: Line,
    /// The automaton's state while a partial match reaches back past a line break; `None`
    /// otherwise.
    state: Option<StateID>,
    /// Absolute offset just past the last byte fed.
    fed_end: u64,
    /// Absolute byte ranges skipped inside the text the walk stands for: line breaks and the
    /// indentation after them, oldest first.
    skipped: VecDeque<(u64, u64)>,
    /// Start of a break being skipped, whose end (the next line's first base64 character) has not
    /// arrived yet.
    open_break: Option<u64>,
    /// Where the bytes the walk may still need begin: the scrubber holds back from here.
    held_from: Option<u64>,
}

impl WrappedWalk {
    /// A walk at the start of a stream.
    pub(crate) fn new() -> WrappedWalk {
        WrappedWalk {
            line: Line::Leading,
            state: None,
            fed_end: 0,
            skipped: VecDeque::new(),
            open_break: None,
            held_from: None,
        }
    }

    /// A walk that starts somewhere inside a line: nothing is walked before the next line.
    pub(crate) fn mid_line() -> WrappedWalk {
        WrappedWalk {
            line: Line::Other,
            ..WrappedWalk::new()
        }
    }

    /// The offset from which the scrubber must hold bytes back for this walk.
    pub(crate) fn held_from(&self) -> Option<u64> {
        self.held_from
    }

    /// Walks `pending[from..]`, where `pending` starts at absolute offset `base` and holds every
    /// byte from [`held_from`](Self::held_from) on; calls `on_match(start, end, source)` for every
    /// form that crosses a line break.
    pub(crate) fn scan(
        &mut self,
        forms: &WrappedForms,
        pending: &[u8],
        from: usize,
        base: u64,
        on_match: &mut impl FnMut(u64, u64, SecretTag),
    ) {
        let mut i = from;
        while i < pending.len() {
            let byte = pending[i];
            let at = base + i as u64;
            match self.line {
                Line::Other => {
                    match memchr::memchr(b'\n', &pending[i..]) {
                        Some(k) => {
                            i += k + 1;
                            self.line = Line::Leading;
                        }
                        None => i = pending.len(),
                    }
                    continue;
                }
                Line::Base64 { start, count } if is_base64(byte) && self.state.is_none() => {
                    // No match can cross a break here: count the run, read it back at the break.
                    let run = pending[i..].iter().take_while(|&&b| is_base64(b)).count();
                    self.line = Line::Base64 {
                        start,
                        count: count + run,
                    };
                    i += run;
                    continue;
                }
                Line::Leading if byte == b' ' || byte == b'\t' => {}
                Line::Leading if is_base64(byte) => {
                    if let Some(start) = self.open_break.take() {
                        self.skipped.push_back((start, at));
                    }
                    self.line = Line::Base64 {
                        start: at,
                        count: 1,
                    };
                    self.feed(forms, pending, base, i, on_match);
                }
                Line::Base64 { start, count } if is_base64(byte) => {
                    self.line = Line::Base64 {
                        start,
                        count: count + 1,
                    };
                    self.feed(forms, pending, base, i, on_match);
                }
                Line::Base64 { .. } | Line::Padded if byte == b'=' => {
                    self.line = Line::Padded;
                    self.feed(forms, pending, base, i, on_match);
                }
                Line::Base64 { start, count } if byte == b'\r' => {
                    self.line = Line::CarriageReturn { start, count };
                }
                Line::Base64 { start, count } if byte == b'\n' => {
                    self.end_line(forms, pending, base, start, count, at);
                }
                Line::CarriageReturn { start, count } if byte == b'\n' => {
                    self.end_line(forms, pending, base, start, count, at - 1);
                }
                _ => {
                    self.reset();
                    self.line = if byte == b'\n' {
                        Line::Leading
                    } else {
                        Line::Other
                    };
                }
            }
            i += 1;
        }
        // The main automaton holds back a line's tail that may begin a form, but not once a `\r`
        // follows it: until the `\n` comes, this walk holds that tail itself.
        let before_crlf = match self.line {
            Line::CarriageReturn { start, count } if count >= MIN_WRAP => {
                let end = start + count as u64;
                // Bytes already written out began no form.
                Some(
                    start
                        .max(end.saturating_sub(forms.longest as u64))
                        .max(base),
                )
            }
            _ => None,
        };
        self.held_from = self
            .partial_start(forms)
            .into_iter()
            .chain(before_crlf)
            .min();
    }

    /// Feeds `pending[i]` to the automaton and reports the matches that cross a break.
    fn feed(
        &mut self,
        forms: &WrappedForms,
        pending: &[u8],
        base: u64,
        i: usize,
        on_match: &mut impl FnMut(u64, u64, SecretTag),
    ) {
        let engine = &forms.engine;
        let Some(state) = self.state else {
            return;
        };
        let state = engine.step(state, pending[i]);
        self.fed_end = base + i as u64 + 1;
        self.state = Some(state);
        let Some(&(last_break, last_break_end)) = self.skipped.back() else {
            return;
        };
        // Once the partial match lies after the last break, nothing can cross one any more.
        let depth = engine.depth(state) as u64;
        if depth <= self.fed_end - last_break_end {
            self.reset();
            return;
        }
        engine.matches_at(state, &mut |pattern| {
            let (bytes, source) = &forms.forms[pattern];
            let start = self.start_of(bytes.len());
            // The automaton ignores ASCII case; a secret matches only exactly.
            if start < last_break && self.fed_bytes_equal(pending, base, start, bytes) {
                on_match(start, self.fed_end, *source);
            }
        });
    }

    /// At a line's end: reads through the break after a wrap line, otherwise starts afresh. The
    /// line's content is `count` base64 characters from `start` to `break_start`.
    fn end_line(
        &mut self,
        forms: &WrappedForms,
        pending: &[u8],
        base: u64,
        start: u64,
        count: usize,
        break_start: u64,
    ) {
        self.line = Line::Leading;
        if count < MIN_WRAP || !count.is_multiple_of(4) {
            self.reset();
            return;
        }
        if self.state.is_none() {
            // The state after this line depends only on its last `longest` bytes, which are still
            // held back when they may begin a form.
            let engine = &forms.engine;
            // (Bytes already written out, a `\r` among them, began no form.)
            let to = break_start.max(base);
            let from = start
                .max(base)
                .max(break_start.saturating_sub(forms.longest as u64))
                .min(to);
            let tail = &pending[(from - base) as usize..(to - base) as usize];
            let state = tail.iter().fold(engine.start_state(), |state, &byte| {
                engine.step(state, byte)
            });
            self.skipped.clear();
            self.fed_end = break_start;
            self.state = Some(state);
        }
        match self.partial_start(forms) {
            Some(keep_from) => {
                while self
                    .skipped
                    .front()
                    .is_some_and(|&(_, end)| end <= keep_from)
                {
                    self.skipped.pop_front();
                }
                self.open_break = Some(break_start);
            }
            None => self.reset(),
        }
    }

    fn reset(&mut self) {
        self.state = None;
        self.skipped.clear();
        self.open_break = None;
    }

    /// The absolute offset of the first of the last `depth` bytes of the walk's partial match.
    fn partial_start(&self, forms: &WrappedForms) -> Option<u64> {
        let depth = forms.engine.depth(self.state?);
        (depth > 0).then(|| self.start_of(depth))
    }

    /// Where the last `fed` bytes fed begin, counting back over the skipped ranges.
    fn start_of(&self, fed: usize) -> u64 {
        let mut at = self.fed_end;
        let mut left = fed as u64;
        for &(start, end) in self.skipped.iter().rev() {
            let run = at - end;
            if left <= run {
                return at - left;
            }
            left -= run;
            at = start;
        }
        at - left
    }

    /// Whether the bytes fed from `start` to the end of the walk are exactly `form`.
    fn fed_bytes_equal(&self, pending: &[u8], base: u64, start: u64, form: &[u8]) -> bool {
        let slice = |from: u64, to: u64| &pending[(from - base) as usize..(to - base) as usize];
        let mut rest = form;
        let mut at = start;
        for &(skip_start, skip_end) in self.skipped.iter().filter(|&&(_, end)| end > start) {
            let run = slice(at, skip_start);
            match rest.strip_prefix(run) {
                Some(tail) => rest = tail,
                None => return false,
            }
            at = skip_end;
        }
        rest == slice(at, self.fed_end)
    }
}
