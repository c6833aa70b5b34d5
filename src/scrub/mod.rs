//! Streaming secret redaction: a pure library (no I/O, no environment, prints nothing).
//!
//! A [`Matcher`] is compiled once from registered secrets (each with every form listed in
//! [`encodings`]) and a set of [`Detector`]s for secrets nobody registered. A [`Scrubber`] holds
//! the state of one stream: feed it bytes and it appends scrubbed bytes to an output buffer.
//!
//! Guarantees:
//! - the output is byte-identical for every split of the input into writes;
//! - every byte of every match (any registered form, any detector hit) is replaced: overlapping
//!   and adjacent matches merge into one [`MASK`], so no fragment of a secret survives beside it;
//! - bytes are held back only while they may still be part of a secret: the longest tail that is
//!   a prefix of some pattern, and for a detector keyword the rest of its line (or its PEM block),
//!   within a fixed window; memory is bounded whatever the line length;
//! - bytes that are not masked pass through unchanged, invalid UTF-8 and binary included.

mod automaton;
mod detectors;
pub mod encodings;
mod prefilter;
#[doc(hidden)]
pub mod reference;
mod wrapped;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use automaton::{Engine, Partial};
use detectors::Decision;
pub use detectors::Detector;
use prefilter::Needle;
use wrapped::{WrappedForms, WrappedWalk};

/// The text that replaces a secret, as GitLab's runner writes it.
pub const MASK: &[u8] = b"[MASKED]";

/// Checks a custom token prefix: 3 to 64 printable ASCII characters, no space. The message
/// does not repeat the prefix.
pub fn check_token_prefix(prefix: &str) -> Result<(), String> {
    if !(3..=64).contains(&prefix.len()) {
        return Err("a token prefix has 3 to 64 characters (e.g. `mycorp_`)".to_owned());
    }
    if !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a token prefix has only printable ASCII characters, no space".to_owned());
    }
    Ok(())
}

/// Counts of masks written, by where the secret came from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Masks per source label given to [`MatcherBuilder::secret`].
    pub by_source: BTreeMap<&'static str, u64>,
    /// Masks per detector.
    pub by_detector: BTreeMap<Detector, u64>,
}

impl Stats {
    /// All masks written.
    pub fn total(&self) -> u64 {
        self.by_source
            .values()
            .chain(self.by_detector.values())
            .sum()
    }

    fn count(&mut self, origin: Origin) {
        match origin {
            Origin::Secret(tag) => *self.by_source.entry(tag.source).or_default() += 1,
            Origin::Detector(detector) => *self.by_detector.entry(detector).or_default() += 1,
        }
    }
}

/// Collects secrets and detectors, then compiles a [`Matcher`].
#[derive(Clone)]
pub struct MatcherBuilder {
    secrets: Vec<(Vec<u8>, &'static str)>,
    detectors: Vec<Detector>,
    token_prefixes: Vec<String>,
}

impl std::fmt::Debug for MatcherBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatcherBuilder")
            .field("secrets", &self.secrets.len())
            .field("detectors", &self.detectors)
            .finish()
    }
}

impl Default for MatcherBuilder {
    fn default() -> Self {
        MatcherBuilder {
            secrets: Vec::new(),
            detectors: Detector::ALL.to_vec(),
            token_prefixes: Vec::new(),
        }
    }
}

impl MatcherBuilder {
    /// A builder with no secrets and every detector on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `value` and all its encoded forms; `source` labels the counts in [`Stats`].
    /// Secrets are numbered from 0 in the order registered ([`MaskOrigin::Secret`] gives the
    /// number back); an empty value is ignored and takes no number. A minimum length is the
    /// caller's policy.
    pub fn secret(&mut self, value: &[u8], source: &'static str) -> &mut Self {
        if !value.is_empty() {
            self.secrets.push((value.to_vec(), source));
        }
        self
    }

    /// Masks what follows `prefix` (an organisation's own token prefix), as
    /// [`Detector::TokenPrefix`] does; the prefix itself stays visible.
    pub fn token_prefix(&mut self, prefix: &str) -> &mut Self {
        if !prefix.is_empty() && !self.token_prefixes.iter().any(|p| p == prefix) {
            self.token_prefixes.push(prefix.to_owned());
        }
        self
    }

    /// Turns one detector off.
    pub fn disable_detector(&mut self, detector: Detector) -> &mut Self {
        self.detectors.retain(|&d| d != detector);
        self
    }

    /// Turns every detector off.
    pub fn disable_all_detectors(&mut self) -> &mut Self {
        self.detectors.clear();
        self
    }

    /// How many secrets are registered.
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Compiles the patterns.
    pub fn build(&self) -> Matcher {
        let mut patterns = Vec::new();
        let mut seen = HashSet::new();
        let mut wrappable = Vec::new();
        for (index, (value, source)) in self.secrets.iter().enumerate() {
            let tag = SecretTag { index, source };
            for form in encodings::base64_forms(value) {
                wrappable.push((form.into_boxed_slice(), tag));
            }
            for form in encodings::variants(value) {
                if seen.insert(form.clone()) {
                    patterns.push(Pattern::Literal {
                        bytes: form.into(),
                        tag,
                    });
                }
            }
        }
        for &detector in &self.detectors {
            for keyword in detector.keywords() {
                patterns.push(Pattern::Keyword {
                    keyword: keyword.as_bytes().into(),
                    detector,
                });
            }
        }
        if self.detectors.contains(&Detector::TokenPrefix) {
            for prefix in &self.token_prefixes {
                patterns.push(Pattern::Keyword {
                    keyword: prefix.as_bytes().into(),
                    detector: Detector::TokenPrefix,
                });
            }
        }
        let needles: Vec<Needle<'_>> = patterns
            .iter()
            .map(|p| match p {
                Pattern::Literal { bytes, .. } => Needle {
                    bytes,
                    exact_case: true,
                },
                Pattern::Keyword { keyword, detector } => Needle {
                    bytes: keyword,
                    exact_case: !detector.ignores_keyword_case(),
                },
            })
            .collect();
        let engine = (!needles.is_empty()).then(|| Engine::new(&needles));
        let wrapped = WrappedForms::new(wrappable);
        Matcher {
            patterns,
            engine,
            wrapped,
        }
    }
}

/// One pattern of the automaton.
#[derive(Debug)]
enum Pattern {
    /// A form of a registered secret: masked where it occurs exactly.
    Literal { bytes: Box<[u8]>, tag: SecretTag },
    /// A detector keyword (in any ASCII case if the detector says so): asks the detector to
    /// decide.
    Keyword {
        keyword: Box<[u8]>,
        detector: Detector,
    },
}

/// Compiled, immutable patterns; share it between streams with `Arc`.
pub struct Matcher {
    patterns: Vec<Pattern>,
    /// `None` when there is nothing to look for.
    engine: Option<Engine>,
    /// The base64 forms again, matched across the breaks of wrapped lines; `None` without secrets.
    wrapped: Option<WrappedForms>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl Matcher {
    /// Whether scrubbing `input` may change it: a form of a registered secret or a detector's
    /// keyword occurs in it (in any ASCII case). When not, [`Matcher::scrub_all`] returns it
    /// as it is; this answers without allocating, for callers that check many short texts.
    pub fn may_change(&self, input: &[u8]) -> bool {
        if self.wrapped.is_some() {
            return true;
        }
        let Some(engine) = &self.engine else {
            return false;
        };
        let mut partial = None;
        let mut hit = false;
        engine.advance(&mut partial, input, 0, 0, &mut |_, _| hit = true);
        hit
    }

    /// Scrubs a whole input at once (for messages ciguard itself writes about a child).
    pub fn scrub_all(&self, input: &[u8]) -> Vec<u8> {
        self.whole(input, Style::Mask)
    }

    /// Replaces every byte of every secret in `input` with `*`, keeping its length: for showing
    /// source lines whose columns must stay right.
    pub fn redact_all(&self, input: &[u8]) -> Vec<u8> {
        self.whole(input, Style::Stars)
    }

    fn whole(&self, input: &[u8], style: Style) -> Vec<u8> {
        let mut stream = Stream {
            style,
            ..Stream::new()
        };
        let mut out = Vec::with_capacity(input.len());
        stream.feed(self, input, &mut out);
        stream.finish(&mut out);
        out
    }
}

/// How masked bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// One [`MASK`] per merged run.
    Mask,
    /// One `*` per masked byte.
    Stars,
}

/// Which registered secret a pattern is a form of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SecretTag {
    /// Its number, in the order of [`MatcherBuilder::secret`].
    index: usize,
    /// Its source label.
    source: &'static str,
}

/// Where a masked span came from; orders the attribution of a merged mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    Secret(SecretTag),
    Detector(Detector),
}

impl Origin {
    fn public(self) -> MaskOrigin {
        match self {
            Origin::Secret(tag) => MaskOrigin::Secret {
                index: tag.index,
                source: tag.source,
            },
            Origin::Detector(detector) => MaskOrigin::Detector(detector),
        }
    }
}

/// What a mask hid, as [`Scrubber::take_masks`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MaskOrigin {
    /// A form of the registered secret with this number (see [`MatcherBuilder::secret`]).
    Secret {
        /// The secret's number.
        index: usize,
        /// Its source label.
        source: &'static str,
    },
    /// A detector's hit.
    Detector(Detector),
}

/// One mask written: the input offsets it covers (overlapping and touching matches merged) and
/// what it hid (a registered secret rather than a detector when both matched there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask {
    /// Absolute offset of its first byte in the stream's input.
    pub start: u64,
    /// Absolute offset just past its last byte.
    pub end: u64,
    /// What it hid.
    pub origin: MaskOrigin,
}

/// A range of absolute input offsets to mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    start: u64,
    end: u64,
    origin: Origin,
}

/// A detector keyword waiting for enough input to decide.
#[derive(Debug, Clone, Copy)]
struct Pending {
    start: u64,
    detector: Detector,
    /// The rest of a value that ran past the detector's window: masked up to the next space.
    tail: bool,
}

/// The redaction state of one output stream.
pub struct Scrubber {
    matcher: Arc<Matcher>,
    stream: Stream,
}

/// Shows no byte of the stream: held-back bytes may be a secret not yet masked.
impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("held_back", &self.held_back())
            .field("stats", self.stats())
            .finish_non_exhaustive()
    }
}

impl Scrubber {
    /// A scrubber at the start of a stream.
    pub fn new(matcher: Arc<Matcher>) -> Self {
        let stream = Stream::new();
        Scrubber { matcher, stream }
    }

    /// Scrubs the next bytes of the stream, appending what can be written now to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        self.stream.feed(&self.matcher, input, out);
    }

    /// Ends the stream: appends every byte still held back, scrubbed. The scrubber can then
    /// start a new stream.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.stream.finish(out);
    }

    /// Swaps in a matcher with more secrets (learnt while the stream runs). Bytes still held back
    /// are matched again with it; bytes already written are not.
    pub fn replace_matcher(&mut self, matcher: Arc<Matcher>) {
        self.matcher = matcher;
        self.stream.rescan(&self.matcher);
    }

    /// What has been masked so far.
    pub fn stats(&self) -> &Stats {
        &self.stream.stats
    }

    /// How many bytes are held back, waiting to be known safe.
    pub fn held_back(&self) -> usize {
        self.stream.pending.len()
    }

    /// From now on, records every mask written, for [`take_masks`](Self::take_masks).
    pub fn record_masks(&mut self) {
        self.stream.masks.get_or_insert_with(Vec::new);
    }

    /// The masks written since the last call, in input order (none unless
    /// [`record_masks`](Self::record_masks) was called). The last one may still grow while its
    /// end is held back: it is reported once its end is written. A mask never starts before
    /// the input still held back at the previous call.
    pub fn take_masks(&mut self) -> Vec<Mask> {
        let open = usize::from(self.open_mask_start().is_some());
        let Some(masks) = &mut self.stream.masks else {
            return Vec::new();
        };
        let done = masks.len() - open;
        masks.drain(..done).collect()
    }

    /// Where the mask that [`take_masks`](Self::take_masks) holds back (written, but it may
    /// still grow) starts, if there is one.
    pub fn open_mask_start(&self) -> Option<u64> {
        let open = self
            .stream
            .mask_end
            .is_some_and(|end| end >= self.stream.consumed);
        let last = self.stream.masks.as_ref()?.last()?;
        open.then_some(last.start)
    }
}

/// The state of one stream, apart from the matcher it runs. No `Debug`: it holds raw output.
#[allow(missing_debug_implementations)]
struct Stream {
    /// The partial match the next bytes may complete.
    partial: Option<Partial>,
    /// The walk over wrapped base64.
    wrapped: WrappedWalk,
    /// Input not yet written out, from absolute offset `consumed` to `seen`.
    pending: Vec<u8>,
    consumed: u64,
    seen: u64,
    last_newline: Option<u64>,
    waiting: Vec<Pending>,
    spans: Vec<Span>,
    /// End of the last mask written; a span starting at or before it extends that mask.
    mask_end: Option<u64>,
    stats: Stats,
    style: Style,
    /// The masks written and not yet taken, when recording.
    masks: Option<Vec<Mask>>,
}

impl Stream {
    fn new() -> Self {
        Stream {
            partial: None,
            wrapped: WrappedWalk::new(),
            pending: Vec::new(),
            consumed: 0,
            seen: 0,
            last_newline: None,
            waiting: Vec::new(),
            spans: Vec::new(),
            mask_end: None,
            stats: Stats::default(),
            style: Style::Mask,
            masks: None,
        }
    }

    fn feed(&mut self, matcher: &Matcher, input: &[u8], out: &mut Vec<u8>) {
        if input.is_empty() {
            return;
        }
        let scan_from = self.pending.len();
        self.pending.extend_from_slice(input);
        self.seen += input.len() as u64;
        let newline = memchr::memrchr(b'\n', input).map(|i| self.seen - (input.len() - i) as u64);
        if newline.is_some() {
            self.last_newline = newline;
        }
        self.scan(matcher, scan_from);
        self.decide(false, newline.is_some());
        let frontier = self.frontier();
        self.emit(frontier, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        self.decide(true, true);
        self.emit(self.seen, out);
        let stats = std::mem::take(&mut self.stats);
        let masks = self.masks.take();
        *self = Stream {
            stats,
            style: self.style,
            masks,
            ..Stream::new()
        };
    }

    /// Matches the held-back bytes again from scratch, with a new matcher.
    fn rescan(&mut self, matcher: &Matcher) {
        self.partial = None;
        // Where the held-back bytes start within their line is unknown.
        self.wrapped = WrappedWalk::mid_line();
        self.waiting.clear();
        self.spans.clear();
        self.scan(matcher, 0);
        self.decide(false, true);
    }

    /// Runs the automaton over `pending[from..]`, recording masks and detector keywords.
    fn scan(&mut self, matcher: &Matcher, from: usize) {
        if let Some(forms) = &matcher.wrapped {
            let spans = &mut self.spans;
            self.wrapped.scan(
                forms,
                &self.pending,
                from,
                self.consumed,
                &mut |start, end, tag| {
                    spans.push(Span {
                        start,
                        end,
                        origin: Origin::Secret(tag),
                    });
                },
            );
        }
        let Some(engine) = &matcher.engine else {
            return;
        };
        let pending = &self.pending;
        let consumed = self.consumed;
        let (spans, waiting) = (&mut self.spans, &mut self.waiting);
        engine.advance(
            &mut self.partial,
            pending,
            from,
            consumed,
            &mut |pattern, end| {
                match &matcher.patterns[pattern] {
                    Pattern::Literal { bytes, tag } => {
                        // The automaton ignores ASCII case; a secret matches only exactly.
                        let start = end - bytes.len() as u64;
                        let from = (start - consumed) as usize;
                        if pending[from..from + bytes.len()] == bytes[..] {
                            spans.push(Span {
                                start,
                                end,
                                origin: Origin::Secret(*tag),
                            });
                        }
                    }
                    Pattern::Keyword { keyword, detector } => {
                        let start = end - keyword.len() as u64;
                        let from = (start - consumed) as usize;
                        let spelt = &pending[from..from + keyword.len()];
                        if detector.ignores_keyword_case() || spelt == &keyword[..] {
                            waiting.push(Pending {
                                start: if detector.looks_past_keyword() {
                                    end
                                } else {
                                    start
                                },
                                detector: *detector,
                                tail: false,
                            });
                        }
                    }
                }
            },
        );
    }

    /// Asks waiting detectors to decide, when their input may have become complete.
    fn decide(&mut self, at_eof: bool, newline_arrived: bool) {
        if self.waiting.is_empty() {
            return;
        }
        let (consumed, seen, last_newline) = (self.consumed, self.seen, self.last_newline);
        let pending = &self.pending;
        let spans = &mut self.spans;
        let mut tails = Vec::new();
        self.waiting.retain(|w| {
            let window = &pending[(w.start - consumed) as usize..];
            let line_ended = newline_arrived && last_newline.is_some_and(|n| n >= w.start);
            let window_full = seen - w.start >= w.detector.window_len() as u64;
            if !(at_eof || line_ended || window_full) {
                return true;
            }
            let decision = if w.tail {
                detectors::decide_tail(window, at_eof)
            } else {
                w.detector.decide(window, at_eof)
            };
            match decision {
                Decision::NeedMore => true,
                Decision::NoMatch => false,
                Decision::Mask(range) => {
                    if w.detector.runs_past_window(&range) {
                        tails.push(Pending {
                            start: w.start + range.end as u64,
                            detector: w.detector,
                            tail: true,
                        });
                    }
                    spans.push(Span {
                        start: w.start + range.start as u64,
                        end: w.start + range.end as u64,
                        origin: Origin::Detector(w.detector),
                    });
                    false
                }
            }
        });
        if !tails.is_empty() {
            // A tail may fill its own window and leave a tail in turn: at most one per window of
            // held-back input.
            self.waiting.extend(tails);
            self.decide(at_eof, newline_arrived);
        }
    }

    /// The offset before which every byte's fate is known: no pattern and no waiting detector
    /// can start a mask there any more.
    fn frontier(&self) -> u64 {
        let partial = self.partial.iter().map(|p| p.start);
        let wrapped = self.wrapped.held_from();
        let waiting = self.waiting.iter().map(|w| w.start);
        partial
            .chain(wrapped)
            .chain(waiting)
            .min()
            .unwrap_or(self.seen)
            .min(self.seen)
    }

    /// Writes out everything before `frontier`, masks merged.
    fn emit(&mut self, frontier: u64, out: &mut Vec<u8>) {
        // Bytes before `at` are written or inside a written mask.
        let mut at = self.consumed.max(self.mask_end.unwrap_or(0));
        if !self.spans.is_empty() {
            self.spans.sort_unstable();
            let ready = self.spans.partition_point(|s| s.start < frontier);
            let spans = std::mem::take(&mut self.spans);
            for span in &spans[..ready] {
                match self.mask_end {
                    Some(end) if span.start <= end => {
                        self.mask_end = Some(end.max(span.end));
                        if let Some(last) = self.masks.as_mut().and_then(|m| m.last_mut()) {
                            last.end = last.end.max(span.end);
                            if let (MaskOrigin::Detector(_), Origin::Secret(_)) =
                                (last.origin, span.origin)
                            {
                                last.origin = span.origin.public();
                            }
                        }
                    }
                    _ => {
                        self.copy_verbatim(at, span.start, out);
                        if self.style == Style::Mask {
                            out.extend_from_slice(MASK);
                        }
                        self.stats.count(span.origin);
                        self.mask_end = Some(span.end);
                        if let Some(masks) = &mut self.masks {
                            masks.push(Mask {
                                start: span.start,
                                end: span.end,
                                origin: span.origin.public(),
                            });
                        }
                    }
                }
                if self.style == Style::Stars && at < span.end {
                    let stars = span.end - at.max(span.start);
                    out.resize(out.len() + stars as usize, b'*');
                }
                at = at.max(span.end);
            }
            self.spans = spans;
            self.spans.drain(..ready);
        }
        self.copy_verbatim(at, frontier, out);
        let done = (frontier - self.consumed) as usize;
        self.pending.drain(..done);
        self.consumed = frontier;
    }

    fn copy_verbatim(&self, from: u64, to: u64, out: &mut Vec<u8>) {
        if from < to {
            let base = self.consumed;
            out.extend_from_slice(&self.pending[(from - base) as usize..(to - base) as usize]);
        }
    }
}

#[cfg(test)]
mod tests;
