//! A fast first pass that finds where a pattern may start, so the automaton only walks the bytes
//! around those places.
//!
//! Two filters, each conservative (it may flag a place where nothing starts, never miss one):
//! - patterns of at least [`LONG`] bytes: their 4-byte grams at offsets 0, 1 and 2, with every
//!   byte OR-ed with `0x20` (which folds ASCII case), hashed into a bit set. Every occurrence of
//!   such a pattern covers a gram that starts at a multiple of 3 from where the search began, so
//!   the filter reads one gram every 3 bytes.
//! - shorter patterns (3 to 5 bytes, a few dozen at most): a SIMD multi-substring search over
//!   their exact bytes, plus every ASCII-case variant of those whose case does not matter.

use aho_corasick::Span;
use aho_corasick::packed;

/// Patterns at least this long go through the gram filter.
const LONG: usize = 6;
const GRAM: usize = 4;
const STRIDE: usize = LONG - GRAM + 1;
/// How many bytes past an offset the prefilter reads to judge it; offsets closer than this to
/// the end of the input must be taken as possible starts.
pub(crate) const LOOKAHEAD: usize = STRIDE - 1 + GRAM;
/// Beyond this many short patterns (case variants included) the SIMD search gives up.
const MAX_SHORT: usize = 64;

/// A pattern for the prefilter: its bytes and whether only this exact ASCII case can matter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Needle<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) exact_case: bool,
}

/// Where patterns may start.
#[derive(Debug)]
pub(crate) struct Prefilter {
    grams: Vec<u64>,
    gram_shift: u32,
    short: Option<packed::Searcher>,
}

impl Prefilter {
    /// A prefilter for `needles`, or `None` when one is too short to filter.
    pub(crate) fn new(needles: &[Needle<'_>]) -> Option<Prefilter> {
        let long_count = needles.iter().filter(|n| n.bytes.len() >= LONG).count();
        let bits = (long_count * STRIDE * 64)
            .next_power_of_two()
            .clamp(1 << 16, 1 << 24);
        let mut prefilter = Prefilter {
            grams: vec![0; bits / 64],
            gram_shift: 32 - bits.trailing_zeros(),
            short: None,
        };
        let mut short = Vec::new();
        for needle in needles {
            match needle.bytes.len() {
                0..3 => return None,
                3..LONG => {
                    if needle.exact_case {
                        short.push(needle.bytes.to_vec());
                    } else {
                        short.extend(case_variants(needle.bytes));
                    }
                }
                _ => {
                    for offset in 0..STRIDE {
                        prefilter.insert(&needle.bytes[offset..offset + GRAM]);
                    }
                }
            }
        }
        short.sort();
        short.dedup();
        if short.len() > MAX_SHORT {
            return None;
        }
        if !short.is_empty() {
            let searcher = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(&short)
                .build()?;
            prefilter.short = Some(searcher);
        }
        Some(prefilter)
    }

    fn slot(&self, gram: &[u8]) -> (usize, u64) {
        let mut word = [0u8; GRAM];
        word.copy_from_slice(gram);
        let folded = u32::from_le_bytes(word) | 0x2020_2020;
        let hash = folded.wrapping_mul(0x9E37_79B1) >> self.gram_shift;
        ((hash / 64) as usize, 1u64 << (hash % 64))
    }

    fn insert(&mut self, gram: &[u8]) {
        let (word, bit) = self.slot(gram);
        self.grams[word] |= bit;
    }

    /// The first block at `from`, `from + STRIDE`, ... whose gram is in the set, among the
    /// blocks that can hold a gram of an occurrence starting before `limit`.
    fn next_long_hit(&self, haystack: &[u8], from: usize, limit: usize) -> Option<usize> {
        // An occurrence starting just before `limit` may have its gram up to STRIDE - 1 later.
        let last = limit + STRIDE - 1;
        let mut at = from;
        while at < last {
            let gram = haystack.get(at..at + GRAM)?;
            let (word, bit) = self.slot(gram);
            if self.grams[word] & bit != 0 {
                return Some(at);
            }
            at += STRIDE;
        }
        None
    }

    /// The first offset in `from..limit` where a short pattern starts, else `limit`.
    pub(crate) fn next_short(&self, haystack: &[u8], from: usize, limit: usize) -> usize {
        let Some(searcher) = &self.short else {
            return limit;
        };
        let end = (limit + MAX_SHORT_LEN).min(haystack.len());
        match searcher.find_in(haystack, Span::from(from..end)) {
            Some(m) => m.start().min(limit),
            None => limit,
        }
    }
}

/// The longest short pattern.
const MAX_SHORT_LEN: usize = LONG - 1;

/// Where the prefilter has got to in one haystack. Queries only move forward; the gram blocks
/// keep one alignment from the first query, so no byte is read twice.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    /// The next gram block to read.
    next_block: usize,
    /// A block whose gram is in the set, not yet passed: occurrences may start up to
    /// `STRIDE - 1` bytes before it.
    long_hit: Option<usize>,
    /// The next start of a short pattern, once searched for.
    short: Option<usize>,
}

impl Flags {
    /// The first offset in `from..limit` where a pattern may start, else `limit`.
    pub(crate) fn next(
        &mut self,
        prefilter: &Prefilter,
        haystack: &[u8],
        from: usize,
        limit: usize,
    ) -> usize {
        let long = loop {
            if let Some(block) = self.long_hit
                && block >= from
            {
                break block.saturating_sub(STRIDE - 1).max(from);
            }
            match prefilter.next_long_hit(haystack, self.next_block, limit) {
                Some(block) => {
                    self.long_hit = Some(block);
                    self.next_block = block + STRIDE;
                }
                None => {
                    self.long_hit = None;
                    self.next_block = usize::MAX - STRIDE;
                    break limit;
                }
            }
        };
        let short = match self.short {
            Some(at) if at >= from => at,
            _ => prefilter.next_short(haystack, from, limit),
        };
        self.short = Some(short);
        long.min(short).min(limit)
    }
}

/// Every ASCII-case spelling of `bytes`.
fn case_variants(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut variants = vec![Vec::with_capacity(bytes.len())];
    for &byte in bytes {
        let (lower, upper) = (byte.to_ascii_lowercase(), byte.to_ascii_uppercase());
        if lower == upper {
            variants.iter_mut().for_each(|v| v.push(byte));
        } else {
            let mut uppers = variants.clone();
            variants.iter_mut().for_each(|v| v.push(lower));
            uppers.iter_mut().for_each(|v| v.push(upper));
            variants.extend(uppers);
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(prefilter: &Prefilter, haystack: &[u8]) -> usize {
        Flags::default().next(prefilter, haystack, 0, haystack.len())
    }

    #[test]
    fn finds_long_patterns_at_every_alignment_and_case() {
        let prefilter = Prefilter::new(&[Needle {
            bytes: b"Secret-Value",
            exact_case: true,
        }])
        .expect("built");
        for pad in 0..7 {
            let text = format!("{}SECRET-value and more text", "x".repeat(pad));
            assert!(next(&prefilter, text.as_bytes()) <= pad, "pad {pad}");
        }
        assert_eq!(next(&prefilter, b"nothing to see here at all"), 26);
    }

    #[test]
    fn finds_short_patterns_with_their_case_rule() {
        let prefilter = Prefilter::new(&[
            Needle {
                bytes: b"pwd",
                exact_case: false,
            },
            Needle {
                bytes: b"eyJ",
                exact_case: true,
            },
        ])
        .expect("built");
        assert_eq!(next(&prefilter, b"abc PwD="), 4);
        assert_eq!(next(&prefilter, b"abc eyJhb"), 4);
        assert_eq!(next(&prefilter, b"abc EYJhb"), 9);
    }

    #[test]
    fn too_short_patterns_disable_it() {
        assert!(
            Prefilter::new(&[Needle {
                bytes: b"ab",
                exact_case: true
            }])
            .is_none()
        );
    }

    #[test]
    fn case_variants_of_mixed_text() {
        let mut variants = case_variants(b"a:b");
        variants.sort();
        assert_eq!(variants, [b"A:B", b"A:b", b"a:B", b"a:b"]);
    }
}
