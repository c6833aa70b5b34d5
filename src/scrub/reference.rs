//! A slow scrubber that sees the whole input at once: the model that tests and the fuzz target
//! hold the streaming [`Scrubber`](super::Scrubber) to. Not for production use.

use super::wrapped::{MIN_WRAP, WrappedForms, is_base64};
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
                        && if detector.ignores_keyword_case() {
                            rest[..keyword.len()].eq_ignore_ascii_case(keyword)
                        } else {
                            rest[..keyword.len()] == keyword[..]
                        };
                    if !hit {
                        continue;
                    }
                    let from = if detector.looks_past_keyword() {
                        at + keyword.len()
                    } else {
                        at
                    };
                    if let Decision::Mask(range) = detector.decide(&input[from..], true) {
                        covered[from + range.start..from + range.end].fill(true);
                        if detector.runs_past_window(&range) {
                            let rest = &input[from + range.end..];
                            let tail = rest.iter().position(|&b| b <= b' ').unwrap_or(rest.len());
                            covered[from + range.end..from + range.end + tail].fill(true);
                        }
                    }
                }
            }
        }
    }
    if let Some(forms) = &matcher.wrapped {
        cover_wrapped(forms, input, &mut covered);
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

/// Covers every base64 form found in the text joined at the breaks after wrap lines: a line of
/// indentation then base64 characters only, at least [`MIN_WRAP`] and a multiple of 4, followed
/// by a line that starts (after indentation) with a base64 character.
fn cover_wrapped(forms: &WrappedForms, input: &[u8], covered: &mut [bool]) {
    let indent = |line: &[u8]| {
        line.iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count()
    };
    let mut skip = vec![false; input.len()];
    let mut line_start = 0;
    while let Some(newline) = memchr::memchr(b'\n', &input[line_start..]) {
        let end = line_start + newline;
        let content_end = if end > line_start && input[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        let body = &input[line_start + indent(&input[line_start..content_end])..content_end];
        let next = end + 1;
        let next_indent = indent(&input[next..]);
        let wrap_line = body.len() >= MIN_WRAP
            && body.len().is_multiple_of(4)
            && body.iter().all(|&b| is_base64(b))
            && input.get(next + next_indent).is_some_and(|&b| is_base64(b));
        if wrap_line {
            skip[content_end..next + next_indent].fill(true);
        }
        line_start = next;
    }
    let origin: Vec<usize> = (0..input.len()).filter(|&i| !skip[i]).collect();
    let joined: Vec<u8> = origin.iter().map(|&i| input[i]).collect();
    for form in forms.forms() {
        for at in 0..joined.len() {
            if joined[at..].starts_with(form) {
                covered[origin[at]..=origin[at + form.len() - 1]].fill(true);
            }
        }
    }
}
