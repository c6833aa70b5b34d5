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
use aho_corasick::{Anchored, MatchKind};

use super::prefilter::{Flags, LOOKAHEAD, Needle, Prefilter};

/// A compiled pattern set.
///
/// A contiguous NFA rather than a DFA: walks are short and start all over the input, so what
/// matters is that the states they touch stay in cache, and the NFA is many times smaller
/// (measured: 1.5x the throughput of the DFA on the benchmark log with 100 secrets).
#[derive(Debug)]
pub(crate) struct Engine {
    nfa: contiguous::NFA,
    /// Where every walk starts.
    start: StateID,
    /// `None` when some pattern is too short to filter: then a walk starts at every offset.
    prefilter: Option<Prefilter>,
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
        let nfa = contiguous::NFA::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .prefilter(false)
            .build(&patterns)
            // Fails only beyond the crate's state-id space, which the secret-size cap keeps far
            // away.
            .unwrap_or_else(|e| panic!("building the scrubber automaton: {e}"));
        let start = nfa
            .start_state(Anchored::Yes)
            .unwrap_or_else(|e| panic!("anchored start state: {e}"));
        Engine {
            nfa,
            start,
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
        let nfa = &self.nfa;
        walks.retain_mut(|walk| step(nfa, walk, bytes, 0, base, on_match));
        let len = bytes.len();
        // Near the end the prefilter cannot see enough bytes: every offset there is a start.
        let sure = len.saturating_sub(LOOKAHEAD);
        let mut flags = Flags::default();
        let mut at = 0;
        let mut start_walk = |walks: &mut Vec<Walk>, start: usize| {
            let mut walk = Walk {
                start: base + start as u64,
                state: self.start,
            };
            if step(nfa, &mut walk, bytes, start, base, on_match) {
                walks.push(walk);
            }
        };
        while at < sure {
            let start = match &self.prefilter {
                Some(prefilter) => flags.next(prefilter, bytes, at, sure),
                None => at,
            };
            if start >= sure {
                break;
            }
            start_walk(walks, start);
            at = start + 1;
        }
        for start in sure..len {
            start_walk(walks, start);
        }
        // A whole pattern that nothing extends needs no more bytes.
        walks.retain(|walk| !nfa.is_match(walk.state) || can_continue(nfa, walk.state));
    }
}

/// Walks `bytes[from..]`; false once no pattern continues.
#[inline(always)]
fn step(
    aut: &contiguous::NFA,
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

fn can_continue(aut: &contiguous::NFA, state: StateID) -> bool {
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
    fn large_sets() {
        let many: Vec<Vec<u8>> = (0..20_000)
            .map(|i| format!("secret-{i:05}-padding").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = many.iter().map(|p| p.as_slice()).collect();
        let engine = Engine::new(&needles(&refs));
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
