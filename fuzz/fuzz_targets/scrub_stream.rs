//! Feeds the streaming scrubber arbitrary secrets, text and write splits, and checks its output
//! against the whole-input reference scrubber.
//!
//! Input layout: `secrets \xff text \xff split-sizes`; secrets are separated by `\n`.

#![no_main]

use std::sync::Arc;

use ciguard::scrub::{MatcherBuilder, Scrubber, reference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0xff);
    let secrets = parts.next().unwrap_or_default();
    let text = parts.next().unwrap_or_default();
    let splits = parts.next().unwrap_or_default();

    let mut builder = MatcherBuilder::new();
    for secret in secrets.split(|&b| b == b'\n').filter(|s| s.len() >= 3).take(8) {
        builder.secret(secret, "fuzz");
    }
    let matcher = Arc::new(builder.build());

    let mut scrubber = Scrubber::new(matcher.clone());
    let mut out = Vec::new();
    let mut rest = text;
    let mut sizes = splits.iter().cycle();
    while !rest.is_empty() {
        let size = sizes.next().map_or(rest.len(), |&s| usize::from(s).max(1)).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        scrubber.feed(chunk, &mut out);
        rest = tail;
    }
    scrubber.finish(&mut out);

    assert_eq!(out, reference::scrub(&matcher, text));
});
