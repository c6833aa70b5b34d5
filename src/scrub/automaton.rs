//! The multi-pattern matcher under the scrubber: anchored walks through an Aho-Corasick trie,
//! started only where the prefilter says a pattern may begin, and carried across writes.
//!
//! A walk starts at one input offset and follows the trie (ignoring ASCII case) until no pattern
//! continues; every pattern it passes through is a match starting there. Because every offset
//! where a pattern may start gets a walk, every occurrence is found, overlapping ones included.
//! The walks still alive at the end of a write are exactly the partial matches the next write
//! may complete: the scrubber holds back the bytes from the oldest one's start.
//!
//! The `aho-corasick` crate's own searches report no overlapping matches across writes and
//! cannot say how many trailing bytes are a partial match, so this module drives the crate's
//! automaton itself through its public [`Automaton`] trait.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous;
use aho_corasick::{Anchored, MatchKind, StartKind, dfa};

use super::prefilter::{Flags, LOOKAHEAD, Needle, Prefilter};

/// Pattern sets up to this many bytes get a DFA (fastest); larger ones a contiguous NFA, whose
/// memory grows with the patterns rather than with patterns times the alphabet.
const DFA_MAX_PATTERN_BYTES: usize = 256 * 1024;

/// A compiled pattern set.
#[derive(Debug)]
pub(crate) struct Engine {
    kind: EngineKind,
    /// `None` when some pattern is too short to filter: then a walk starts at every offset.
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

/// A partial match in progress: where it started and how far into the trie it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Walk {
    /// Absolute input offset where the walk started.
    pub(crate) start: u64,
    state: StateID,
}

impl Engine {
    /// Compiles `needles`, matched ignoring ASCII case (callers verify exact matches themselves;
    /// a needle's `exact_case` says that other spellings never matter to them).
    pub(crate) fn new(needles: &[Needle<'_>]) -> Engine {
        let patterns: Vec<&[u8]> = needles.iter().map(|n| n.bytes).collect();
        let total: usize = patterns.iter().map(|p| p.len()).sum();
        let dfa = (total <= DFA_MAX_PATTERN_BYTES)
            .then(|| {
                dfa::Builder::new()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .prefilter(false)
                    .start_kind(StartKind::Anchored)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        let kind = match dfa {
            Some(dfa) => EngineKind::Dfa(dfa),
            None => EngineKind::Nfa(
                contiguous::NFA::builder()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .prefilter(false)
                    .build(&patterns)
                    // Fails only beyond the crate's state-id space, which the secret-size cap
                    // keeps far away.
                    .unwrap_or_else(|e| panic!("building the scrubber automaton: {e}")),
            ),
        };
        Engine {
            kind,
            prefilter: Prefilter::new(needles),
        }
    }

    /// Feeds `bytes`, which start at absolute offset `base`: continues the live `walks`, starts
    /// one wherever a pattern may begin in `bytes`, and calls `on_match(pattern, end)` for every
    /// match with its absolute end offset. Leaves in `walks` those that the next bytes may
    /// still complete.
    pub(crate) fn advance(
        &self,
        walks: &mut Vec<Walk>,
        bytes: &[u8],
        base: u64,
        on_match: &mut impl FnMut(usize, u64),
    ) {
        with_automaton!(self.kind, aut => {
            walks.retain_mut(|walk| step(aut, walk, bytes, 0, base, on_match));
            let len = bytes.len();
            // Near the end the prefilter cannot see enough bytes: every offset there is a start.
            let sure = len.saturating_sub(LOOKAHEAD);
            let mut flags = Flags::default();
            let mut at = 0;
            while at < sure {
                let start = match &self.prefilter {
                    Some(prefilter) => flags.next(prefilter, bytes, at, sure),
                    None => at,
                };
                if start >= sure {
                    break;
                }
                start_walk(aut, walks, bytes, start, base, on_match);
                at = start + 1;
            }
            for start in sure..len {
                start_walk(aut, walks, bytes, start, base, on_match);
            }
            // A whole pattern that nothing extends needs no more bytes.
            walks.retain(|walk| !aut.is_match(walk.state) || can_continue(aut, walk.state));
        })
    }
}

fn start_walk<A: Automaton>(
    aut: &A,
    walks: &mut Vec<Walk>,
    bytes: &[u8],
    start: usize,
    base: u64,
    on_match: &mut impl FnMut(usize, u64),
) {
    let Ok(state) = aut.start_state(Anchored::Yes) else {
        return;
    };
    let mut walk = Walk {
        start: base + start as u64,
        state,
    };
    if step(aut, &mut walk, bytes, start, base, on_match) {
        walks.push(walk);
    }
}

/// Walks `bytes[from..]`; false once no pattern continues.
#[inline(always)]
fn step<A: Automaton>(
    aut: &A,
    walk: &mut Walk,
    bytes: &[u8],
    from: usize,
    base: u64,
    on_match: &mut impl FnMut(usize, u64),
) -> bool {
    for (i, &byte) in bytes[from..].iter().enumerate() {
        walk.state = aut.next_state(Anchored::Yes, walk.state, byte);
        if aut.is_special(walk.state) {
            if aut.is_dead(walk.state) {
                return false;
            }
            if aut.is_match(walk.state) {
                let end = base + (from + i + 1) as u64;
                for k in 0..aut.match_len(walk.state) {
                    let pattern = aut.match_pattern(walk.state, k);
                    // A state also lists the patterns that end here but start later (its
                    // suffixes): their own walks report them.
                    if aut.pattern_len(pattern) as u64 == end - walk.start {
                        on_match(pattern.as_usize(), end);
                    }
                }
            }
        }
    }
    true
}

fn can_continue<A: Automaton>(aut: &A, state: StateID) -> bool {
    (0..=255u8).any(|byte| !aut.is_dead(aut.next_state(Anchored::Yes, state, byte)))
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

    /// Matches (pattern, end) over `chunks`, and how many trailing bytes are held.
    fn run(engine: &Engine, chunks: &[&[u8]]) -> (Vec<(usize, u64)>, u64) {
        let mut matches = Vec::new();
        let mut walks = Vec::new();
        let mut offset = 0;
        for chunk in chunks {
            engine.advance(&mut walks, chunk, offset, &mut |p, end| {
                matches.push((p, end))
            });
            offset += chunk.len() as u64;
        }
        matches.sort_by_key(|&(p, end)| (end, p));
        let held = walks.iter().map(|w| offset - w.start).max().unwrap_or(0);
        (matches, held)
    }

    #[test]
    fn overlapping_matches_across_chunks() {
        let engine = Engine::new(&needles(&[b"abcabd", b"cab", b"xyz"]));
        let (matches, held) = run(&engine, &[b"zzabcab", b"cabdxy"]);
        assert_eq!(matches, vec![(1, 7), (1, 10), (0, 11)]);
        assert_eq!(held, 2);
    }

    #[test]
    fn holds_the_longest_partial_match() {
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
        let (matches, held) = run(&engine, &[b"x secret-01234-pad", b"ding y secret-0"]);
        assert_eq!(matches, vec![(1234, 22)]);
        assert_eq!(held, 8);
    }

    #[test]
    fn without_a_prefilter_every_offset_starts_a_walk() {
        let engine = Engine::new(&needles(&[b"ab", b"bab"]));
        assert!(engine.prefilter.is_none());
        assert_eq!(
            run(&engine, &[b"xbabab"]).0,
            vec![(0, 4), (1, 4), (0, 6), (1, 6)]
        );
    }
}
