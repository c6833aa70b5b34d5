//! Tests of the streaming scrubber: every split of the input gives the reference's output.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;

fn matcher(secrets: &[&str]) -> Arc<Matcher> {
    let mut builder = MatcherBuilder::new();
    for secret in secrets {
        builder.secret(secret.as_bytes(), "test");
    }
    Arc::new(builder.build())
}

fn stream(matcher: &Arc<Matcher>, chunks: impl IntoIterator<Item = impl AsRef<[u8]>>) -> Vec<u8> {
    let mut scrubber = Scrubber::new(matcher.clone());
    let mut out = Vec::new();
    for chunk in chunks {
        scrubber.feed(chunk.as_ref(), &mut out);
    }
    scrubber.finish(&mut out);
    out
}

/// Scrubs `input` whole, then split into chunks of every size from 1 to its length, and checks
/// each result against the reference (ripgrep's every-buffer-size pattern).
fn scrub_every_split(matcher: &Arc<Matcher>, input: &[u8]) -> String {
    let expected = reference::scrub(matcher, input);
    assert_eq!(matcher.scrub_all(input), expected, "whole input");
    for size in 1..=input.len().max(1) {
        let got = stream(matcher, input.chunks(size));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "chunk size {size}"
        );
    }
    String::from_utf8_lossy(&expected).into_owned()
}

#[test]
fn masks_a_secret_whatever_the_split() {
    let m = matcher(&["hunter22"]);
    assert_eq!(
        scrub_every_split(&m, b"pw=hunter22 ok\n"),
        "pw=[MASKED] ok\n"
    );
}

#[test]
fn self_overlapping_secret_split_inside_its_repeat() {
    let m = matcher(&["abcabd"]);
    assert_eq!(stream(&m, [&b"xxabcab"[..], b"cabd!"]), b"xxabc[MASKED]!");
    assert_eq!(stream(&m, [&b"aab"[..], b"cabcabd"]), b"aabc[MASKED]");
    assert_eq!(
        scrub_every_split(&m, b"abcabcabd abcabd abcab"),
        "abc[MASKED] [MASKED] abcab"
    );
}

#[test]
fn secret_at_end_of_input_without_newline() {
    let m = matcher(&["tail-secret"]);
    assert_eq!(
        scrub_every_split(&m, b"last words: tail-secret"),
        "last words: [MASKED]"
    );
}

#[test]
fn overlapping_and_adjacent_matches_merge() {
    let m = matcher(&["abcdef", "defghi", "xyz123"]);
    assert_eq!(scrub_every_split(&m, b"<abcdefghi>"), "<[MASKED]>");
    assert_eq!(scrub_every_split(&m, b"<abcdefxyz123>"), "<[MASKED]>");
    assert_eq!(
        scrub_every_split(&m, b"<abcdef-xyz123>"),
        "<[MASKED]-[MASKED]>"
    );
}

#[test]
fn masks_every_encoding() {
    let secret = "sp\"ec\\ial/é€-pw";
    let m = matcher(&[secret]);
    let mut text = String::new();
    for form in encodings::variants(secret.as_bytes()) {
        text.push('<');
        text.push_str(&String::from_utf8(form).expect("utf-8 form"));
        text.push_str(">\n");
    }
    let out = scrub_every_split(&m, text.as_bytes());
    for line in out.lines() {
        assert_eq!(line, "<[MASKED]>", "in {out}");
    }
}

#[test]
fn masks_base64_inside_longer_base64() {
    let m = matcher(&["s3cr3t-value"]);
    // base64("user:s3cr3t-value:more") from Python's base64.b64encode
    let out = scrub_every_split(&m, b"auth dXNlcjpzM2NyM3QtdmFsdWU6bW9yZQ== end");
    assert!(out.contains("[MASKED]"), "{out}");
    assert!(!out.contains("zM2NyM3QtdmFsdWU"), "{out}");
}

#[test]
fn detectors_keep_token_prefixes() {
    let m = matcher(&[]);
    assert_eq!(
        scrub_every_split(
            &m,
            b"token glpat-AbCdEf123456 and postgresql://u:pw9@h/db\n"
        ),
        "token glpat-[MASKED] and postgresql://u:[MASKED]@h/db\n"
    );
}

#[test]
fn pem_block_is_masked_across_lines() {
    let m = matcher(&[]);
    let text = b"key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAAAA==\n-----END OPENSSH PRIVATE KEY-----\nnext\n";
    assert_eq!(scrub_every_split(&m, text), "key:\n[MASKED]\nnext\n");
}

#[test]
fn secret_and_detector_overlap_merge() {
    let m = matcher(&["pw9@h"]);
    assert_eq!(
        scrub_every_split(&m, b"postgresql://u:pw9@h/db\n"),
        "postgresql://u:[MASKED]/db\n"
    );
}

#[test]
fn binary_and_invalid_utf8_pass_unchanged() {
    let m = matcher(&["needle!"]);
    let input: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    assert_eq!(stream(&m, input.chunks(7)), input);
}

#[test]
fn a_line_without_secret_prefix_is_not_held_back() {
    let m = matcher(&["hunter22"]);
    let mut scrubber = Scrubber::new(m);
    let mut out = Vec::new();
    scrubber.feed(b"plain progress line\n", &mut out);
    assert_eq!(out, b"plain progress line\n");
    assert_eq!(scrubber.held_back(), 0);
    scrubber.feed(b"almost hunt", &mut out);
    assert_eq!(scrubber.held_back(), 4);
    assert_eq!(out, b"plain progress line\nalmost ");
    scrubber.feed(b"ing\n", &mut out);
    assert_eq!(scrubber.held_back(), 0);
    assert_eq!(out, b"plain progress line\nalmost hunting\n");
}

#[test]
fn memory_stays_bounded_on_a_long_line() {
    let m = matcher(&["aaaaaaab"]);
    let mut scrubber = Scrubber::new(m);
    let chunk = vec![b'a'; 64 * 1024];
    let mut out = Vec::new();
    for _ in 0..64 {
        scrubber.feed(&chunk, &mut out);
        assert!(scrubber.held_back() < 16, "held {}", scrubber.held_back());
        out.clear();
    }
    // A keyword on a line without end waits at most for its window.
    let mut scrubber = Scrubber::new(matcher(&[]));
    scrubber.feed(b"postgresql://", &mut out);
    for _ in 0..64 {
        scrubber.feed(&chunk, &mut out);
        assert!(scrubber.held_back() <= 2 * 64 * 1024);
    }
}

#[test]
fn runtime_secret_masks_held_back_bytes_from_then_on() {
    let old = matcher(&["first-secret"]);
    let new = matcher(&["first-secret", "late-secret"]);
    let mut scrubber = Scrubber::new(old);
    let mut out = Vec::new();
    scrubber.feed(b"late-secret before\nfirst-sec", &mut out);
    scrubber.replace_matcher(new);
    scrubber.feed(b"ret then late-secret\n", &mut out);
    scrubber.finish(&mut out);
    assert_eq!(
        String::from_utf8_lossy(&out),
        "late-secret before\n[MASKED] then [MASKED]\n"
    );
}

#[test]
fn counts_masks_by_origin() {
    let m = matcher(&["hunter22"]);
    let mut scrubber = Scrubber::new(m);
    let mut out = Vec::new();
    scrubber.feed(b"hunter22 glpat-xyz12345\nhunter22\n", &mut out);
    scrubber.finish(&mut out);
    assert_eq!(scrubber.stats().by_source["test"], 2);
    assert_eq!(scrubber.stats().by_detector[&Detector::GitlabToken], 1);
    assert_eq!(scrubber.stats().total(), 3);
}

#[test]
fn disabled_detectors_do_not_mask() {
    let mut builder = MatcherBuilder::new();
    builder.disable_detector(Detector::GitlabToken);
    let m = Arc::new(builder.build());
    assert_eq!(m.scrub_all(b"glpat-abcdef\n"), b"glpat-abcdef\n");
    let m = Arc::new(MatcherBuilder::new().disable_all_detectors().build());
    assert_eq!(
        m.scrub_all(b"postgresql://u:p@h\n"),
        b"postgresql://u:p@h\n"
    );
}

/// Secrets: 6 to 16 characters, with the characters encodings treat specially.
fn secret_strategy() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"[a-z0-9@:/ "\\'é%+=_-]{6,16}"#).expect("valid regex")
}

/// Text mixing filler with secrets and their encoded forms.
fn text_with(secrets: &[String], picks: &[(usize, usize, String)]) -> Vec<u8> {
    let mut text = Vec::new();
    for (secret, form, filler) in picks {
        text.extend_from_slice(filler.as_bytes());
        let secret = &secrets[secret % secrets.len()];
        let forms = encodings::variants(secret.as_bytes());
        text.extend_from_slice(&forms[form % forms.len()]);
    }
    text
}

fn split_at_points(input: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        chunks.push(input[last..cut].to_vec());
        last = cut;
    }
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_secret_or_encoding_survives_any_split(
        secrets in proptest::collection::vec(secret_strategy(), 1..4),
        picks in proptest::collection::vec((0usize..8, 0usize..32, "[a-z \n:=]{0,12}"), 1..8),
        points in proptest::collection::vec(0usize..10_000, 0..12),
    ) {
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let m = matcher(&refs);
        let input = text_with(&secrets, &picks);
        let out = stream(&m, split_at_points(&input, &points));
        prop_assert_eq!(&out, &reference::scrub(&m, &input));
        for piece in out.split(|&b| b == b'[') {
            for secret in &secrets {
                for form in encodings::variants(secret.as_bytes()) {
                    prop_assert!(
                        !piece.windows(form.len()).any(|w| w == &form[..]),
                        "a form of {:?} survived in {:?}", secret, String::from_utf8_lossy(&out)
                    );
                }
            }
        }
    }

    #[test]
    fn wrapped_base64_agrees_with_reference_on_any_split(
        secret in proptest::string::string_regex("[a-zA-Z0-9 @:/\"é-]{12,60}").expect("valid regex"),
        prefix in "[a-z:]{0,2}",
        groups in 4usize..20,
        crlf in any::<bool>(),
        before in "([a-z ]{0,6}\n)?",
        points in proptest::collection::vec(0usize..10_000, 0..12),
    ) {
        let m = matcher(&[secret.as_str()]);
        let eol = if crlf { "\r\n" } else { "\n" };
        let block = wrapped_base64(format!("{prefix}{secret}").as_bytes(), 4 * groups, eol);
        let input = [before.as_bytes(), &block, b"after\n"].concat();
        let out = stream(&m, split_at_points(&input, &points));
        prop_assert_eq!(&out, &reference::scrub(&m, &input));
        prop_assert!(longest_base64_run(&String::from_utf8_lossy(&out)) <= 5.max(before.len()));
    }

    #[test]
    fn text_without_secrets_is_unchanged(
        text in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b' '), 0x30u8..0x3a, 0x80u8..=0xff], 0..400),
        points in proptest::collection::vec(0usize..10_000, 0..12),
    ) {
        let m = matcher(&["QQQQQQ-secret", "XYZXYZ"]);
        prop_assert_eq!(stream(&m, split_at_points(&text, &points)), text);
    }

    #[test]
    fn detectors_agree_with_reference_on_any_split(
        parts in proptest::collection::vec(prop_oneof![
            Just("postgresql://etl:pw@db/x".to_string()),
            Just(" password=hunter2;".to_string()),
            Just("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----".to_string()),
            Just("glpat-abc".to_string()),
            Just("Authorization: Bearer t0k".to_string()),
            Just("eyJhbGciOi.eyJzdWIiOi.sig".to_string()),
            Just("curl -k https://x \\\n  -u etl:pw9 ".to_string()),
            Just("?private_token=Zk3mP9qL2x&".to_string()),
            Just(r#"curl -u "d2LkV78zLx!t:" -H "Token: 3fea6af1349166ea" "#.to_string()),
            Just(r#"curl --user "me":"{ZqL5kVrX1n8tA2}" "#.to_string()),
            "[a-z:/@= \n-]{0,10}",
        ], 1..10),
        points in proptest::collection::vec(0usize..10_000, 0..12),
    ) {
        let m = matcher(&[]);
        let input = parts.concat().into_bytes();
        prop_assert_eq!(stream(&m, split_at_points(&input, &points)), reference::scrub(&m, &input));
    }
}

#[test]
fn debug_output_shows_no_secret() {
    let m = matcher(&["hunter22-secret"]);
    let mut scrubber = Scrubber::new(m.clone());
    let mut out = Vec::new();
    scrubber.feed(b"value hunter22-sec", &mut out);
    let shown = format!(
        "{scrubber:?} {m:?} {:?}",
        MatcherBuilder::new().secret(b"hunter22-secret", "x")
    );
    assert!(!shown.contains("hunter22"), "{shown}");
    assert!(shown.contains("held_back: 12"), "{shown}");
}

#[test]
fn redaction_keeps_length_and_columns() {
    let m = matcher(&["hunter22", "22-more"]);
    let input = b"pw=hunter22-more and glpat-abcdef1234 end\npostgresql://u:pw9@h\n";
    let out = m.redact_all(input);
    assert_eq!(out.len(), input.len());
    assert_eq!(
        String::from_utf8_lossy(&out),
        "pw=************* and glpat-********** end\npostgresql://u:***@h\n"
    );
}

/// `text` base64-encoded (standard alphabet, padded) and broken every `width` characters by `eol`.
fn wrapped_base64(text: &[u8], width: usize, eol: &str) -> Vec<u8> {
    let full = &encodings::base64_forms(text)[1];
    let lines: Vec<&[u8]> = full.chunks(width).collect();
    let mut out = lines.join(eol.as_bytes());
    out.extend_from_slice(eol.as_bytes());
    out
}

/// The longest run of base64 characters left in `out`, `[MASKED]` aside.
fn longest_base64_run(out: &str) -> usize {
    out.replace("[MASKED]", " ")
        .split(|c: char| !(c.is_ascii_alphanumeric() || "+/=".contains(c)))
        .map(str::len)
        .max()
        .unwrap_or(0)
}

#[test]
fn wrapped_base64_is_masked_at_every_width_and_alignment() {
    let secret =
        r#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQ\n"}"#;
    let m = matcher(&[secret]);
    for prefix in ["", "u", "u:"] {
        for width in [16, 64, 76] {
            for eol in ["\n", "\r\n"] {
                let text = [prefix.as_bytes(), secret.as_bytes(), b"\n"].concat();
                let input = wrapped_base64(&text, width, eol);
                let out = scrub_every_split(&m, &input);
                assert!(
                    out.contains("[MASKED]") && longest_base64_run(&out) <= 4,
                    "prefix {prefix:?}, width {width}, {eol:?}: {out}"
                );
            }
        }
    }
}

#[test]
fn wrapped_base64_may_be_indented() {
    let secret = "a-long-secret-value-that-wraps-over-lines";
    let m = matcher(&[secret]);
    let wrapped =
        String::from_utf8(wrapped_base64(secret.as_bytes(), 20, "\n    ")).expect("ascii");
    let out = scrub_every_split(&m, format!("key: |\n    {wrapped}next: x\n").as_bytes());
    assert_eq!(out, "key: |\n    [MASKED]\n    next: x\n");
}

#[test]
fn only_wrap_lines_are_read_through() {
    let secret = "a-long-secret-value-that-wraps-over-lines";
    let m = matcher(&[secret]);
    let full =
        String::from_utf8(encodings::base64_forms(secret.as_bytes())[1].clone()).expect("ascii");
    // A line of 18 characters is no encoder's wrap width: the halves are not one text.
    let (head, tail) = full.split_at(18);
    let out = scrub_every_split(&m, format!("{head}\n{tail}\n").as_bytes());
    assert_eq!(out, format!("{head}\n{tail}\n"));
    // Prose in between ends the encoded text.
    let (head, tail) = full.split_at(20);
    let out = scrub_every_split(&m, format!("{head}\nnot base64\n{tail}\n").as_bytes());
    assert_eq!(out, format!("{head}\nnot base64\n{tail}\n"));
}

#[test]
fn a_wrap_line_holds_only_its_tail_and_prose_nothing() {
    let m = matcher(&["a-long-secret-value-that-wraps-over-lines"]);
    let mut scrubber = Scrubber::new(m);
    let mut out = Vec::new();
    scrubber.feed(b"INFO done in 3s, a sha: 3f2a9c\n", &mut out);
    assert_eq!(scrubber.held_back(), 0);
    let full = encodings::base64_forms(b"a-long-secret-value-that-wraps-over-lines")[1].clone();
    scrubber.feed(&full[..20], &mut out);
    scrubber.feed(b"\n", &mut out);
    assert!(scrubber.held_back() <= 21, "held {}", scrubber.held_back());
    scrubber.feed(&full[20..], &mut out);
    scrubber.feed(b"\n", &mut out);
    scrubber.finish(&mut out);
    assert_eq!(
        String::from_utf8_lossy(&out),
        "INFO done in 3s, a sha: 3f2a9c\n[MASKED]\n"
    );
}

#[test]
fn a_detected_value_longer_than_the_window_is_masked_to_its_end() {
    let m = matcher(&[]);
    let value = "0123456789abcdef".repeat(257);
    let input = format!("url ?x-amz-credential={value} still masked\nglpat-{value}\n");
    let expected = reference::scrub(&m, input.as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&expected),
        "url ?x-amz-credential=[MASKED] still masked\nglpat-[MASKED]\n"
    );
    for size in [13, 4095, 4096, 5000, input.len()] {
        assert_eq!(
            stream(&m, input.as_bytes().chunks(size)),
            expected,
            "chunk size {size}"
        );
    }
}

#[test]
fn token_prefixes_at_any_split_and_at_the_end_of_input() {
    let mut builder = MatcherBuilder::new();
    builder.token_prefix("acme-");
    let m = Arc::new(builder.build());
    // The fuzzer's first find: the reference read past a short input for a prefix keyword.
    assert_eq!(scrub_every_split(&m, b"\x0e"), "\x0e");
    assert_eq!(scrub_every_split(&m, b"k acme-"), "k acme-");
    assert_eq!(
        scrub_every_split(&m, b"k acme-Zq81.x_Y9 ACME-nope\n"),
        "k acme-[MASKED] ACME-nope\n"
    );
}

#[test]
fn every_detector_keyword_leaves_the_prefilter_on() {
    // Too many short keywords (case variants included) turn the prefilter off, and every byte
    // of every line is then walked: several times slower on an ordinary log.
    let m = matcher(&["hunter22-secret"]);
    assert!(m.engine.as_ref().expect("an engine").has_prefilter());
}

#[test]
fn recorded_masks_give_offsets_and_origins_whatever_the_split() {
    let mut builder = MatcherBuilder::new();
    builder.secret(b"first-secret", "test");
    builder.secret(b"hunter22", "test");
    builder.secret(b"0123456789", "test");
    let m = Arc::new(builder.build());
    // The GitLab token detector's hit (its prefix stays visible) merges with the registered
    // secret inside it, and is attributed to the secret.
    let input = b"a hunter22 b\nglpat-abcdefghij0123456789 c first-secretaaa\nhunter22";
    let secret = |index| MaskOrigin::Secret {
        index,
        source: "test",
    };
    let expected = vec![
        (2, 10, secret(1)),
        (19, 39, secret(2)),
        (42, 54, secret(0)),
        (58, 66, secret(1)),
    ];
    for size in 1..=input.len() {
        let mut scrubber = Scrubber::new(m.clone());
        scrubber.record_masks();
        let mut out = Vec::new();
        let mut got = Vec::new();
        for chunk in input.chunks(size) {
            scrubber.feed(chunk, &mut out);
            got.extend(scrubber.take_masks());
        }
        scrubber.finish(&mut out);
        got.extend(scrubber.take_masks());
        let got: Vec<_> = got.iter().map(|k| (k.start, k.end, k.origin)).collect();
        assert_eq!(got, expected, "chunk size {size}");
    }
}

#[test]
fn a_mask_reported_open_is_not_taken_until_it_cannot_grow() {
    let m = matcher(&["secret-one", "one-more"]);
    let mut scrubber = Scrubber::new(m);
    scrubber.record_masks();
    let mut out = Vec::new();
    scrubber.feed(b"secret-one", &mut out);
    assert_eq!(scrubber.take_masks(), vec![], "it may still grow");
    scrubber.feed(b"-more tail\n", &mut out);
    let masks = scrubber.take_masks();
    assert_eq!(masks.len(), 1);
    assert_eq!((masks[0].start, masks[0].end), (0, 15));
    assert_eq!(String::from_utf8_lossy(&out), "[MASKED] tail\n");
}

/// The detectors alone, built once for the property below.
static DETECTORS_ONLY: std::sync::LazyLock<Matcher> =
    std::sync::LazyLock::new(|| MatcherBuilder::new().build());

#[test]
fn may_change_says_whether_a_keyword_or_secret_occurs() {
    assert!(!DETECTORS_ONLY.may_change(b"echo building part 7 && make target-3"));
    assert!(DETECTORS_ONLY.may_change(b"export TOKEN=glpat-AbCdEfGhIjKlMnOpQrSt"));
    assert!(
        !MatcherBuilder::new()
            .disable_all_detectors()
            .build()
            .may_change(b"glpat-AbCdEfGhIjKlMnOpQrSt")
    );
    assert!(matcher(&["s3cr3t-value"]).may_change(b"nothing here"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// What the detectors may not change, scrubbing leaves as it is.
    #[test]
    fn what_may_not_change_is_left_as_it_is(
        text in "[ -~\n]{0,120}",
        token in proptest::sample::select(vec![
            "",
            "glpat-AbCdEfGhIjKlMnOpQrSt",
            "AKIAIOSFODNN7REALKEY",
            "password=hunter2hunter2",
            "https://user:p4ssw0rdXYZ@db.example.org",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlc2lnbmF0dXJl",
        ]),
    ) {
        let input = format!("{text}{token}{text}");
        if !DETECTORS_ONLY.may_change(input.as_bytes()) {
            prop_assert_eq!(DETECTORS_ONLY.scrub_all(input.as_bytes()), input.as_bytes());
        }
    }
}
