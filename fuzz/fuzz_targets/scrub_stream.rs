//! Feeds the streaming scrubber arbitrary text and write splits, and checks its output against
//! the whole-input reference scrubber.
//!
//! Input layout: `selector text \xff split-sizes`. Most selectors pick one of a few prebuilt
//! matchers (self-overlapping secrets, characters every encoding escapes, detectors on or off),
//! so the fuzzer spends its time on streams rather than on compiling; the last selector reads
//! the secrets from the text itself (`secret\nsecret\n\xfe text`).

#![no_main]

use std::sync::{Arc, LazyLock};

use ciguard::scrub::{Matcher, MatcherBuilder, Scrubber, reference};
use libfuzzer_sys::fuzz_target;

fn build(secrets: &[&[u8]], detectors: bool) -> Arc<Matcher> {
    let mut builder = MatcherBuilder::new();
    for secret in secrets {
        builder.secret(secret, "fuzz");
    }
    if !detectors {
        builder.disable_all_detectors();
    }
    Arc::new(builder.build())
}

static PREBUILT: LazyLock<Vec<Arc<Matcher>>> = LazyLock::new(|| {
    vec![
        build(&[b"abcabd", b"aab"], false),
        build(&[b"abcabd", b"aaaaab", b"s3cr3t"], true),
        build(&[b"p@ss w/\"\\\xc3\xa9", b"xyzxyz"], true),
        build(&[], true),
        build(&[b"eyJabc", b"glpat-x"], true),
        build(&[b"hunter22", b"\n-----END"], true),
        build(&[b"ab"], true),
        // Long enough for its base64 to be wrapped over lines of 16 characters and more; with a
        // custom token prefix.
        {
            let mut builder = MatcherBuilder::new();
            builder
                .secret(b"a-long-secret-value-for-wrapping", "fuzz")
                .secret(b"xy:z\"q'", "fuzz")
                .token_prefix("acme-");
            Arc::new(builder.build())
        },
    ]
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(2, |&b| b == 0xff);
    let mut text = parts.next().unwrap_or_default();
    let splits = parts.next().unwrap_or_default();

    let index = usize::from(selector) % (PREBUILT.len() + 1);
    let matcher = match PREBUILT.get(index) {
        Some(matcher) => matcher.clone(),
        None => {
            let mut sections = text.splitn(2, |&b| b == 0xfe);
            let secrets = sections.next().unwrap_or_default();
            text = sections.next().unwrap_or_default();
            let secrets: Vec<&[u8]> = secrets
                .split(|&b| b == b'\n')
                .filter(|s| !s.is_empty())
                .take(6)
                .collect();
            build(&secrets, true)
        }
    };

    let mut scrubber = Scrubber::new(matcher.clone());
    let mut out = Vec::new();
    let mut remaining = text;
    let mut sizes = splits.iter().cycle();
    while !remaining.is_empty() {
        let size = sizes
            .next()
            .map_or(remaining.len(), |&s| usize::from(s).max(1))
            .min(remaining.len());
        let (chunk, tail) = remaining.split_at(size);
        scrubber.feed(chunk, &mut out);
        remaining = tail;
    }
    scrubber.finish(&mut out);

    assert_eq!(out, reference::scrub(&matcher, text));
});
