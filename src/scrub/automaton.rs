//! The multi-pattern automaton under the scrubber: Aho-Corasick with overlapping matches, a
//! state carried across writes, and how many trailing bytes may still be a partial match.
//!
//! The `aho-corasick` crate's own stream search does not report overlapping matches and cannot
//! say how many trailing bytes are a partial match, so this module walks the crate's automaton
//! itself through its public [`Automaton`] trait.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous;
use aho_corasick::{Anchored, MatchKind, dfa};

use super::prefilter::{Needle, Prefilter};

/// Pattern sets up to this many bytes get a DFA (fastest); larger ones a contiguous NFA, whose
/// memory grows with the patterns rather than with patterns times the alphabet.
const DFA_MAX_PATTERN_BYTES: usize = 256 * 1024;

/// A compiled pattern set.
#[derive(Debug)]
pub(crate) struct Engine {
    kind: EngineKind,
    start: StateID,
    max_pattern_len: usize,
    /// `None` when some pattern is too short to filter: then every byte is walked.
    prefilter: Option<Prefilter>,
}

#[derive(Debug)]
enum EngineKind {
    Dfa(dfa::DFA),
    Nfa(contiguous::NFA),
}

/// Runs `$body` with `$aut` bound to the concrete automaton, so the hot loop is monomorphised.
macro_rules! with_automaton {
    ($kind:expr, $aut:ident => $body:expr) => {
        match &$kind {
            EngineKind::Dfa($aut) => $body,
            EngineKind::Nfa($aut) => $body,
        }
    };
}

impl Engine {
    /// Compiles `needles`, matched ignoring ASCII case (callers verify exact matches themselves;
    /// a needle's `exact_case` says that other spellings never matter to them).
    pub(crate) fn new(needles: &[Needle<'_>]) -> Engine {
        let patterns: Vec<&[u8]> = needles.iter().map(|n| n.bytes).collect();
        let patterns = patterns.as_slice();
        let total: usize = patterns.iter().map(|p| p.len()).sum();
        let kind = if total <= DFA_MAX_PATTERN_BYTES {
            let built = dfa::Builder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .prefilter(false)
                .start_kind(aho_corasick::StartKind::Both)
                .build(patterns);
            match built {
                Ok(dfa) => EngineKind::Dfa(dfa),
                Err(_) => EngineKind::Nfa(build_nfa(patterns)),
            }
        } else {
            EngineKind::Nfa(build_nfa(patterns))
        };
        let start = with_automaton!(kind, aut => aut.start_state(Anchored::No))
            .unwrap_or_else(|e| panic!("unanchored start state: {e}"));
        Engine {
            kind,
            start,
            max_pattern_len: patterns.iter().map(|p| p.len()).max().unwrap_or(0),
            prefilter: Prefilter::new(needles),
        }
    }

    /// The state before any input.
    pub(crate) fn start(&self) -> StateID {
        self.start
    }

    /// How many of the last bytes of `input` some pattern may still continue: the longest
    /// suffix that is a prefix of a pattern (ignoring ASCII case).
    pub(crate) fn partial_len(&self, input: &[u8]) -> usize {
        let window = &input[input
            .len()
            .saturating_sub(self.max_pattern_len.saturating_sub(1))..];
        with_automaton!(self.kind, aut => {
            (0..window.len())
                .find(|&i| is_pattern_prefix(aut, &window[i..]))
                .map_or(0, |i| window.len() - i)
        })
    }

    /// Feeds `haystack` from `state`; calls `on_match(pattern, end)` for every match, overlapping
    /// ones included, with `end` the offset in `haystack` just past the match. Returns the state.
    pub(crate) fn scan(
        &self,
        state: StateID,
        haystack: &[u8],
        on_match: &mut impl FnMut(usize, usize),
    ) -> StateID {
        with_automaton!(self.kind, aut => match &self.prefilter {
            Some(prefilter) => scan_filtered(aut, self, prefilter, state, haystack, on_match),
            None => walk(aut, state, haystack, 0, on_match),
        })
    }
}

fn build_nfa(patterns: &[&[u8]]) -> contiguous::NFA {
    contiguous::NFA::builder()
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(true)
        .prefilter(false)
        .build(patterns)
        // An empty pattern set or a set beyond the crate's state-id space is the only failure;
        // callers never pass empty patterns, and the size is bounded by the secret-size cap.
        .unwrap_or_else(|e| panic!("building the scrubber automaton: {e}"))
}

/// Walks every byte of `haystack` from `sid`, reporting matches with offsets shifted by `base`.
#[inline(always)]
fn walk<A: Automaton>(
    aut: &A,
    mut sid: StateID,
    haystack: &[u8],
    base: usize,
    on_match: &mut impl FnMut(usize, usize),
) -> StateID {
    for (i, &byte) in haystack.iter().enumerate() {
        sid = aut.next_state(Anchored::No, sid, byte);
        if aut.is_special(sid) && aut.is_match(sid) {
            for k in 0..aut.match_len(sid) {
                on_match(aut.match_pattern(sid, k).as_usize(), base + i + 1);
            }
        }
    }
    sid
}

/// Walks only the bytes where a match may be in progress: from each place the prefilter flags,
/// for the length of the longest pattern, and always the last bytes of the haystack, so the
/// state at its end knows every partial match the next write may complete.
fn scan_filtered<A: Automaton>(
    aut: &A,
    engine: &Engine,
    prefilter: &Prefilter,
    mut sid: StateID,
    haystack: &[u8],
    on_match: &mut impl FnMut(usize, usize),
) -> StateID {
    let len = haystack.len();
    let max_len = engine.max_pattern_len;
    let tail = len.saturating_sub(max_len.saturating_sub(1));
    let mut flags = Flags::default();
    // A match carried over from the previous write ends within the longest pattern.
    let mut walk_until = if sid == engine.start {
        0
    } else {
        max_len.saturating_sub(1)
    };
    let mut next_flag = flags.next(prefilter, haystack, 0, tail);
    let mut at = 0;
    while at < len {
        if at == next_flag {
            if at >= tail {
                walk_until = len;
                next_flag = len;
            } else {
                walk_until = walk_until.max(at + max_len);
                next_flag = flags.next(prefilter, haystack, at + 1, tail);
            }
        }
        let end = walk_until.min(next_flag.max(at + 1)).min(len);
        if at >= walk_until {
            // Nothing can be in progress: jump to the next flag, from a fresh state.
            sid = engine.start;
            at = next_flag;
            continue;
        }
        sid = walk(aut, sid, &haystack[at..end], at, on_match);
        at = end;
    }
    sid
}

/// The prefilter's last answers, reused while they lie ahead (queries only move forward).
#[derive(Default)]
struct Flags {
    long: Option<usize>,
    short: Option<usize>,
}

impl Flags {
    fn next(&mut self, prefilter: &Prefilter, haystack: &[u8], from: usize, limit: usize) -> usize {
        let long = match self.long {
            Some(at) if at >= from => at,
            _ => prefilter.next_long(haystack, from, limit),
        };
        let short = match self.short {
            Some(at) if at >= from => at,
            _ => prefilter.next_short(haystack, from, limit),
        };
        self.long = Some(long);
        self.short = Some(short);
        long.min(short)
    }
}

/// Whether some pattern starts with `bytes` and goes on past them: an anchored walk that does
/// not die, and that one more byte can continue.
fn is_pattern_prefix<A: Automaton>(aut: &A, bytes: &[u8]) -> bool {
    let Ok(mut sid) = aut.start_state(Anchored::Yes) else {
        return true;
    };
    for &byte in bytes {
        sid = aut.next_state(Anchored::Yes, sid, byte);
        if aut.is_dead(sid) {
            return false;
        }
    }
    (0..=255u8).any(|byte| !aut.is_dead(aut.next_state(Anchored::Yes, sid, byte)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles<'a>(patterns: &[&'a [u8]]) -> Vec<Needle<'a>> {
        patterns
            .iter()
            .map(|&bytes| Needle {
                bytes,
                exact_case: false,
            })
            .collect()
    }

    fn run(engine: &Engine, chunks: &[&[u8]]) -> (Vec<(usize, usize)>, usize) {
        let mut matches = Vec::new();
        let mut state = engine.start();
        let mut offset = 0;
        for chunk in chunks {
            state = engine.scan(state, chunk, &mut |p, end| matches.push((p, offset + end)));
            offset += chunk.len();
        }
        (matches, engine.partial_len(&chunks.concat()))
    }

    #[test]
    fn overlapping_matches_across_chunks() {
        let engine = Engine::new(&needles(&[b"abcabd", b"cab", b"xyz"]));
        let (matches, depth) = run(&engine, &[b"zzabcab", b"cabdxy"]);
        assert_eq!(matches, vec![(1, 7), (1, 10), (0, 11)]);
        assert_eq!(depth, 2);
    }

    #[test]
    fn depth_is_the_longest_pending_prefix() {
        let engine = Engine::new(&needles(&[b"hello", b"help!"]));
        assert_eq!(run(&engine, &[b"say hel"]).1, 3);
        assert_eq!(run(&engine, &[b"say HeL"]).1, 3);
        assert_eq!(run(&engine, &[b"say hex"]).1, 0);
        // A whole pattern that nothing extends is not held: it is reported as a match.
        assert_eq!(run(&engine, &[b"hello"]).1, 0);
        assert_eq!(run(&engine, &[b"help"]).1, 4);
    }

    #[test]
    fn large_sets_use_the_nfa_and_agree() {
        let many: Vec<Vec<u8>> = (0..20_000)
            .map(|i| format!("secret-{i:05}-padding").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = many.iter().map(|p| p.as_slice()).collect();
        let engine = Engine::new(&needles(&refs));
        assert!(matches!(engine.kind, EngineKind::Nfa(_)));
        let (matches, depth) = run(&engine, &[b"x secret-01234-pad", b"ding y secret-0"]);
        assert_eq!(matches, vec![(1234, 22)]);
        assert_eq!(depth, 8);
    }
}
