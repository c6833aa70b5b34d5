//! Feeds `ciguard pseudonymize`'s filter arbitrary input, read in arbitrary chunk sizes, and
//! checks that it never panics, that the chunk size changes nothing, and that whatever it writes
//! is one JSON value per line in which no clear value of a hashed or dropped field is left.
//!
//! Input layout: `chunk-size input`. The config hashes `email` and `items.phone`, drops `ssn`.
//!
//! Run it with `-detect_leaks=0`: on bad input `filter` returns at once and leaves its threads
//! to finish on their own (in the binary, the process ends), which LeakSanitizer reports.

#![no_main]

use std::io::Read;
use std::sync::LazyLock;

use ciguard::pseudonymize::{Config, Hasher, config, filter};
use ciguard::secret::Secret;
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = "key_env: K\nstreams:\n  s:\n    hash: [email, items.phone]\n    drop: [ssn]\n    normalize: {email: email}\n";

static PARSED: LazyLock<Config> =
    LazyLock::new(|| config::parse(CONFIG).unwrap_or_else(|_| panic!("the fuzz config parses")));

/// A reader that hands out at most `.1` bytes per read.
struct Chunked(Vec<u8>, usize);

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0.drain(..n);
        Ok(n)
    }
}

fn run(input: &[u8], chunk: usize) -> Option<Vec<u8>> {
    let hasher = Hasher::new(&Secret::new(vec![7; 32]), Some("k1")).ok()?;
    let mut out = Vec::new();
    filter(&PARSED, &hasher, Chunked(input.to_vec(), chunk), &mut out).ok()?;
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    let whole = run(input, 1 << 16);
    assert_eq!(whole, run(input, usize::from(chunk % 64) + 1));
    let Some(out) = whole else {
        return;
    };
    for line in out.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let message: serde_json::Value = serde_json::from_slice(line).expect("JSON out");
        if message["type"] == "RECORD" && message["stream"] == "s" {
            let record = &message["record"];
            assert!(record.get("ssn").is_none());
            let email = &record["email"];
            assert!(email.is_null() || email.as_str().is_some_and(|h| h.starts_with("k1:")));
        }
    }
});
