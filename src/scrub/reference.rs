//! A slow scrubber that sees the whole input at once: the model that tests and the fuzz target
//! hold the streaming [`Scrubber`](super::Scrubber) to. Not for production use.

use super::{MASK, Matcher, Pattern};
use crate::scrub::detectors::Decision;

/// Scrubs `input` by brute force: every exact occurrence of every registered form, every
/// detector decision at every keyword (any ASCII case), byte coverage merged into masks.
pub fn scrub(matcher: &Matcher, input: &[u8]) -> Vec<u8> {
    let mut covered = vec![false; input.len()];
    for pattern in &matcher.patterns {
        for at in 0..input.len() {
            match pattern {
                Pattern::Literal { bytes, .. } => {
                    if input[at..].starts_with(bytes) {
                        covered[at..at + bytes.len()].fill(true);
                    }
                }
                Pattern::Keyword { keyword, detector } => {
                    let rest = &input[at..];
                    let hit = rest.len() >= keyword.len()
                        && rest[..keyword.len()].eq_ignore_ascii_case(keyword.as_bytes());
                    if let (true, Decision::Mask(range)) = (hit, detector.decide(rest, true)) {
                        covered[at + range.start..at + range.end].fill(true);
                    }
                }
            }
        }
    }
    let mut out = Vec::with_capacity(input.len());
    for (at, &byte) in input.iter().enumerate() {
        if !covered[at] {
            out.push(byte);
        } else if at == 0 || !covered[at - 1] {
            out.extend_from_slice(MASK);
        }
    }
    out
}
