//! The multi-pattern matcher under the scrubber: one Aho-Corasick walk (overlapping matches,
//! ASCII case ignored) carried across writes, skipping ahead with the prefilter whenever no
//! partial match is in progress.
//!
//! The walk is in the state of the longest suffix of the input that begins some pattern, and
//! every state lists every pattern that ends there, so every occurrence is found, overlapping
//! ones included, and no byte is read twice: time is linear in the input whatever the patterns
//! (a walk started at every candidate offset cost up to a pattern's length each, quadratic for a
//! long secret of one repeated byte). At the end of a write the scrubber holds back the longest
//! suffix that a pattern may still complete.
//!
//! The `aho-corasick` crate's own searches report no overlapping matches across writes and
//! cannot say how many trailing bytes are a partial match, so this module drives the crate's
//! automaton itself through its public [`Automaton`] trait.

use std::collections::HashMap;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous;
use aho_corasick::{Anchored, MatchKind};

use super::prefilter::{Flags, LOOKAHEAD, Needle, Prefilter};

/// A compiled pattern set.
///
/// A contiguous NFA rather than a DFA: the states a log touches stay in cache, and the NFA is
/// many times smaller (measured: 1.5x the throughput of the DFA on the benchmark log with 100
/// secrets).
#[derive(Debug)]
pub(crate) struct Engine {
    nfa: contiguous::NFA,
    /// Where the walk starts, and returns when no pattern has begun.
    start: StateID,
    /// The root of the trie alone (no failure transitions): to test what a suffix may become.
    anchored_start: StateID,
    /// How many bytes each trie state stands for.
    depth: HashMap<StateID, usize>,
    /// `None` when some pattern is too short to filter: then every byte is walked.
    prefilter: Option<Prefilter>,
}

/// The partial match in progress at the end of a write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Partial {
    /// Absolute input offset of its first byte: the scrubber holds back from here.
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
            .start_state(Anchored::No)
            .unwrap_or_else(|e| panic!("unanchored start state: {e}"));
        let anchored_start = nfa
            .start_state(Anchored::Yes)
            .unwrap_or_else(|e| panic!("anchored start state: {e}"));
        let depth = trie_depths(&nfa, anchored_start, &patterns);
        Engine {
            nfa,
            start,
            anchored_start,
            depth,
            prefilter: Prefilter::new(needles),
        }
    }

    /// Feeds `haystack[from..]`, where `haystack` starts at absolute offset `base` and holds at
    /// least the bytes the scrubber held back: continues `partial`, calls `on_match(pattern,
    /// end)` for every match with its absolute end offset, and leaves in `partial` what the next
    /// bytes may still complete.
    pub(crate) fn advance(
        &self,
        partial: &mut Option<Partial>,
        haystack: &[u8],
        from: usize,
        base: u64,
        on_match: &mut impl FnMut(usize, u64),
    ) {
        let nfa = &self.nfa;
        let mut state = partial.take().map_or(self.start, |p| p.state);
        let len = haystack.len();
        // Near the end the prefilter cannot see enough bytes: every offset there may start one.
        let sure = len.saturating_sub(LOOKAHEAD).max(from);
        let mut flags = Flags::default();
        let mut at = from;
        while at < len {
            if state == self.start
                && at < sure
                && let Some(prefilter) = &self.prefilter
            {
                at = flags.next(prefilter, haystack, at, sure);
                if at >= len {
                    break;
                }
            }
            state = nfa.next_state(Anchored::No, state, haystack[at]);
            at += 1;
            let end = base + at as u64;
            self.matches_at(state, &mut |pattern| on_match(pattern, end));
        }
        let held = self.held(state, haystack).min(len);
        if held > 0 {
            *partial = Some(Partial {
                start: base + (len - held) as u64,
                state,
            });
        }
    }

    /// Whether a prefilter skips ahead (otherwise every byte is walked).
    #[cfg(test)]
    pub(crate) fn has_prefilter(&self) -> bool {
        self.prefilter.is_some()
    }

    /// The state of an unanchored walk that has read nothing yet.
    pub(crate) fn start_state(&self) -> StateID {
        self.start
    }

    /// One step of the unanchored walk, for callers that choose which bytes to feed.
    pub(crate) fn step(&self, state: StateID, byte: u8) -> StateID {
        self.nfa.next_state(Anchored::No, state, byte)
    }

    /// Calls `on_match(pattern)` for every pattern that ends in `state`.
    pub(crate) fn matches_at(&self, state: StateID, on_match: &mut impl FnMut(usize)) {
        if self.nfa.is_special(state) && self.nfa.is_match(state) {
            for k in 0..self.nfa.match_len(state) {
                on_match(self.nfa.match_pattern(state, k).as_usize());
            }
        }
    }

    /// How many of the bytes fed last the walk in `state` stands for.
    pub(crate) fn depth(&self, state: StateID) -> usize {
        self.depth.get(&state).copied().unwrap_or(0)
    }

    /// How many trailing bytes of `input` (which ends in `state`) a pattern may still complete:
    /// the state's own depth, unless it is a whole pattern that nothing extends, then the
    /// longest shorter suffix that something extends.
    fn held(&self, state: StateID, input: &[u8]) -> usize {
        let depth = self.depth.get(&state).copied().unwrap_or(0);
        if depth == 0 || self.can_continue(state) {
            return depth;
        }
        (1..depth.min(input.len()))
            .rev()
            .find(|&suffix| {
                let mut trie = self.anchored_start;
                for &byte in &input[input.len() - suffix..] {
                    trie = self.nfa.next_state(Anchored::Yes, trie, byte);
                    if self.nfa.is_dead(trie) {
                        return false;
                    }
                }
                self.can_continue(trie)
            })
            .unwrap_or(0)
    }

    fn can_continue(&self, state: StateID) -> bool {
        (0..=255u8).any(|byte| {
            !self
                .nfa
                .is_dead(self.nfa.next_state(Anchored::Yes, state, byte))
        })
    }
}

/// The depth of every state of the trie under `root`: each pattern walked through it once (every
/// state is a prefix of some pattern), which costs the patterns' total length.
fn trie_depths(
    nfa: &contiguous::NFA,
    root: StateID,
    patterns: &[&[u8]],
) -> HashMap<StateID, usize> {
    let mut depth = HashMap::from([(root, 0)]);
    for pattern in patterns {
        let mut state = root;
        for (index, &byte) in pattern.iter().enumerate() {
            state = nfa.next_state(Anchored::Yes, state, byte);
            depth.entry(state).or_insert(index + 1);
        }
    }
    depth
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
        let mut partial = None;
        let mut input = Vec::new();
        for chunk in chunks {
            let from = input.len();
            input.extend_from_slice(chunk);
            engine.advance(&mut partial, &input, from, 0, &mut |p, end| {
                matches.push((p, end))
            });
        }
        matches.sort_by_key(|&(p, end)| (end, p));
        let held = partial.map_or(0, |p| input.len() as u64 - p.start);
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
    fn a_long_secret_of_one_repeated_byte_costs_one_step_a_byte() {
        let secret = vec![b'C'; 8192];
        let engine = Engine::new(&needles(&[&secret]));
        let line: Vec<u8> = [vec![b'C'; 8000], b"\n".to_vec()].concat();
        let chunks: Vec<&[u8]> = std::iter::repeat_n(line.as_slice(), 50).collect();
        let (matches, held) = run(&engine, &chunks);
        assert!(matches.is_empty());
        assert_eq!(held, 0);
        let (matches, held) = run(&engine, &[&secret[..5000], &secret[5000..], b"C"]);
        assert_eq!(matches, vec![(0, 8192), (0, 8193)]);
        assert_eq!(held, 8191);
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
