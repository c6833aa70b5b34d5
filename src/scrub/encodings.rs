//! The forms in which a registered secret is masked.
//!
//! A program rarely prints a secret only as it is. For every registered secret the scrubber also
//! masks these forms (each one only when it differs from the others):
//!
//! | form | example for `p@ss w/é` | who writes it |
//! |---|---|---|
//! | raw | `p@ss w/é` | anything |
//! | base64, standard and URL-safe alphabets, padded and unpadded | `cEBzcyB3L8Op` | `base64`, HTTP Basic auth, Kubernetes secrets |
//! | base64 inside longer base64 text, at each of the three byte alignments | the characters that depend on the secret alone | `base64` of `user:password`, of a whole config |
//! | percent-encoded: `%XX` upper and lower case, space as `%20` or `+`, `/` kept or encoded | `p%40ss+w%2F%C3%A9` | URLs, DSNs, form bodies |
//! | JSON string escaped, with `\uXXXX` for non-ASCII (Python's `json.dumps`) and without | `p@ss w/\u00e9` | JSON logs (`--log-format=json`) |
//! | backslashes doubled, and Python `repr` escapes | `C:\\\\dir` | Python `repr`, key-value logs |
//! | shell single-quoted (`'` as `'\''`, or `'"'"'` as Python's `shlex.quote` writes it) | `it'\''s` | `set -x` traces, generated commands |
//! | bash `printf %q` (backslash before each special character) | `p@ss\ w/é` | scripts that re-quote values |
//! | SQL-quoted (`'` doubled) | `it''s` | SQL statements in logs |
//! | XML/HTML-escaped (`&amp; &lt; &gt;`, quotes as `&quot; &apos;` or `&#34; &#39; &#x27;`, or kept) | `a&amp;b` | XML configs, HTML reports |
//! | the value stored in double quotes, printed without them | `p@ss` for `"p@ss"` | `.env` files, YAML |
//! | the value stored with backslash escapes, printed resolved (`\n`, `\t`, `\\`, `\"`, `\xHH`, `\uXXXX`) | a newline for `\n` | `echo -e`, `printf %b`, JSON/YAML parsers |
//! | line-wrapped base64 (the scrubber's `wrapped` module) | 76 or 64 columns, `\n` or `\r\n` | `base64`, `openssl base64` |
//!
//! Every form but the value itself is masked only from 6 bytes on.
//!
//! Base64 inside longer text can only mask the characters that depend on the secret alone: the one
//! or two characters at each edge that mix in a neighbouring byte stay visible (at most 4 bits of
//! the secret each).

const BASE64_STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL_SAFE: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Every form of `secret` listed in the module documentation, raw first, without duplicates.
pub(crate) fn variants(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![secret.to_vec()];
    let mut push = |form: Vec<u8>| {
        if form.len() >= MIN_DERIVED_FORM && !out.contains(&form) {
            out.push(form);
        }
    };
    for form in base64_forms(secret) {
        push(form);
    }
    for style in PERCENT_STYLES {
        push(percent_encode(secret, style));
    }
    if let Ok(text) = std::str::from_utf8(secret) {
        push(json_escape(text, true, false));
        push(json_escape(text, false, false));
        push(json_escape(text, true, true));
    }
    push(replace_bytes(secret, b"\\", b"\\\\"));
    push(python_repr_body(secret));
    push(replace_bytes(secret, b"'", b"'\\''"));
    push(replace_bytes(secret, b"'", b"'\"'\"'"));
    push(replace_bytes(secret, b"'", b"''"));
    if let Some(form) = bash_printf_q(secret) {
        push(form);
    }
    for style in MARKUP_STYLES {
        push(markup_escape(secret, style));
    }
    for form in [
        trim_double_quotes(secret),
        resolve_backslash_escapes(secret),
    ]
    .into_iter()
    .flatten()
    {
        push(form);
    }
    out
}

/// A form other than the value itself is masked only from this length on: the base64 of a short
/// value, or a value with its quotes trimmed, would otherwise mask ordinary words (the runner
/// of GitHub Actions once masked every `e` of a log that way).
const MIN_DERIVED_FORM: usize = 6;

/// Bash's `printf %q` of a value with no control character: a backslash before each character
/// the shell would read specially (a value with control characters is written `$'...'`, not
/// covered). `None` when that is the value itself.
fn bash_printf_q(data: &[u8]) -> Option<Vec<u8>> {
    if data.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 2);
    for (i, &b) in data.iter().enumerate() {
        let after = i.checked_sub(1).map(|j| data[j]);
        let special = match b {
            b' ' | b'\'' | b'"' | b'\\' | b'$' | b'`' | b'!' | b'&' | b';' | b'(' | b')' | b'<'
            | b'>' | b'|' | b'{' | b'}' | b'[' | b']' | b'*' | b'?' | b'^' | b',' => true,
            // A tilde where it would expand, a hash where it would start a comment.
            b'~' => matches!(after, None | Some(b'=' | b':')),
            b'#' => after.is_none(),
            _ => false,
        };
        if special {
            out.push(b'\\');
        }
        out.push(b);
    }
    (out != data).then_some(out)
}

/// How an XML or HTML escaper writes the quotes (`&`, `<` and `>` are always `&amp;`, `&lt;`,
/// `&gt;`): `None` keeps the character.
struct MarkupStyle {
    apostrophe: Option<&'static [u8]>,
    quote: Option<&'static [u8]>,
}

const MARKUP_STYLES: [MarkupStyle; 5] = [
    // XML, .NET `SecurityElement.Escape`.
    MarkupStyle {
        apostrophe: Some(b"&apos;"),
        quote: Some(b"&quot;"),
    },
    // Python `html.escape`.
    MarkupStyle {
        apostrophe: Some(b"&#x27;"),
        quote: Some(b"&quot;"),
    },
    // Go `html.EscapeString`.
    MarkupStyle {
        apostrophe: Some(b"&#39;"),
        quote: Some(b"&#34;"),
    },
    // Ruby `CGI.escapeHTML`, PHP `htmlspecialchars`.
    MarkupStyle {
        apostrophe: Some(b"&#39;"),
        quote: Some(b"&quot;"),
    },
    // Text nodes: Python `xml.sax.saxutils.escape`.
    MarkupStyle {
        apostrophe: None,
        quote: None,
    },
];

fn markup_escape(data: &[u8], style: MarkupStyle) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    for &b in data {
        let escaped: Option<&[u8]> = match b {
            b'&' => Some(b"&amp;"),
            b'<' => Some(b"&lt;"),
            b'>' => Some(b"&gt;"),
            b'\'' => style.apostrophe,
            b'"' => style.quote,
            _ => None,
        };
        match escaped {
            Some(entity) => out.extend_from_slice(entity),
            None => out.push(b),
        }
    }
    out
}

/// The inside of a value stored with its double quotes (`"p@ss"`), as a program that strips them
/// prints it.
fn trim_double_quotes(data: &[u8]) -> Option<Vec<u8>> {
    let inner = data.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    Some(inner.to_vec())
}

/// The value with its backslash escapes resolved (`\n`, `\t`, `\\`, `\"`, `\xHH`, `\uXXXX`...), as
/// `echo -e`, `printf %b` or a JSON or YAML parser prints a value stored escaped. `None` when
/// the value has no escape.
fn resolve_backslash_escapes(data: &[u8]) -> Option<Vec<u8>> {
    memchr::memchr(b'\\', data)?;
    let hex = |digits: &[u8]| {
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| u32::from_str_radix(d, 16).ok())
    };
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] != b'\\' || i + 1 == data.len() {
            out.push(data[i]);
            i += 1;
            continue;
        }
        let simple = match data[i + 1] {
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'0' => Some(0),
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'e' => Some(0x1b),
            b'f' => Some(0x0c),
            b'v' => Some(0x0b),
            b @ (b'\\' | b'"' | b'\'' | b'/') => Some(b),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            i += 2;
            continue;
        }
        let (digits, len) = match data[i + 1] {
            b'x' => (2, 2),
            b'u' => (4, 2),
            _ => (0, 0),
        };
        let code = data
            .get(i + len..i + len + digits)
            .filter(|_| digits > 0)
            .and_then(hex);
        match code.and_then(char::from_u32) {
            Some(c) if data[i + 1] == b'x' => out.push(c as u8),
            Some(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            None => {
                out.push(data[i]);
                i += 1;
                continue;
            }
        }
        i += len + digits;
    }
    Some(out)
}

/// The base64 forms of `secret` (both alphabets, padded and not, inside longer text at each
/// alignment), without duplicates: the forms a program may also wrap over several lines.
pub(crate) fn base64_forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for alphabet in [BASE64_STANDARD, BASE64_URL_SAFE] {
        let full = base64(secret, alphabet);
        let unpadded_len = full.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
        let unpadded = full[..unpadded_len].to_vec();
        let inner = (0..3).map(|offset| base64_inner(secret, offset, alphabet));
        for form in [unpadded, full].into_iter().chain(inner) {
            if form.len() >= MIN_DERIVED_FORM && !out.contains(&form) {
                out.push(form);
            }
        }
    }
    out
}

/// Standard base64 with `=` padding.
fn base64(data: &[u8], alphabet: &[u8; 64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(alphabet[((n >> (18 - 6 * i)) & 0x3f) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

/// The base64 characters that depend only on `data` when `data` starts `offset` bytes into a
/// 3-byte group of a longer encoded text.
fn base64_inner(data: &[u8], offset: usize, alphabet: &[u8; 64]) -> Vec<u8> {
    let mut shifted = vec![0u8; offset];
    shifted.extend_from_slice(data);
    let encoded = base64(&shifted, alphabet);
    let first = (8 * offset).div_ceil(6);
    let last = 8 * (offset + data.len()) / 6;
    if last <= first {
        return Vec::new();
    }
    encoded[first..last].to_vec()
}

/// How a percent-encoder treats the characters that differ between common implementations.
#[derive(Clone, Copy)]
struct PercentStyle {
    space_as_plus: bool,
    keep_slash: bool,
    lower_hex: bool,
    /// `!'()*` kept, as JavaScript's `encodeURIComponent` does.
    keep_sub_delims: bool,
}

const PERCENT_STYLES: [PercentStyle; 6] = [
    // Python `quote(s, safe="")`, Go `url.PathEscape`-like.
    PercentStyle {
        space_as_plus: false,
        keep_slash: false,
        lower_hex: false,
        keep_sub_delims: false,
    },
    // Python `quote(s)` (keeps `/`).
    PercentStyle {
        space_as_plus: false,
        keep_slash: true,
        lower_hex: false,
        keep_sub_delims: false,
    },
    // Python `quote_plus`, Go `url.QueryEscape`, HTML forms.
    PercentStyle {
        space_as_plus: true,
        keep_slash: false,
        lower_hex: false,
        keep_sub_delims: false,
    },
    // JavaScript `encodeURIComponent`.
    PercentStyle {
        space_as_plus: false,
        keep_slash: false,
        lower_hex: false,
        keep_sub_delims: true,
    },
    // Lower-case hex digits, as some encoders write them.
    PercentStyle {
        space_as_plus: false,
        keep_slash: false,
        lower_hex: true,
        keep_sub_delims: false,
    },
    PercentStyle {
        space_as_plus: true,
        keep_slash: false,
        lower_hex: true,
        keep_sub_delims: false,
    },
];

fn percent_encode(data: &[u8], style: PercentStyle) -> Vec<u8> {
    let hex: &[u8; 16] = if style.lower_hex {
        b"0123456789abcdef"
    } else {
        b"0123456789ABCDEF"
    };
    let mut out = Vec::with_capacity(data.len() * 3);
    for &b in data {
        let kept = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (style.keep_slash && b == b'/')
            || (style.keep_sub_delims && matches!(b, b'!' | b'\'' | b'(' | b')' | b'*'));
        if kept {
            out.push(b);
        } else if b == b' ' && style.space_as_plus {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 0xf)]]);
        }
    }
    out
}

/// The inside of a JSON string literal for `text`: `ascii_only` writes non-ASCII as `\uXXXX`
/// (surrogate pairs above U+FFFF, lower-case hex, as Python's `json.dumps` does);
/// `escape_slash` writes `/` as `\/` (PHP, some Java encoders).
fn json_escape(text: &str, ascii_only: bool, escape_slash: bool) -> Vec<u8> {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '/' if escape_slash => out.push_str("\\/"),
            c if (c as u32) < 0x20 || (ascii_only && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.into_bytes()
}

/// The inside of Python's `repr()` of a string: backslash, quote and control characters escaped.
fn python_repr_body(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    for &b in data {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b => out.push(b),
        }
    }
    out
}

fn replace_bytes(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(i) = memchr::memmem::find(rest, from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(secret: &str, form: &str) -> bool {
        variants(secret.as_bytes()).contains(&form.as_bytes().to_vec())
    }

    #[test]
    fn raw_comes_first_and_forms_are_unique() {
        let forms = variants(b"hunter22");
        assert_eq!(forms[0], b"hunter22");
        let mut sorted = forms.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), forms.len());
    }

    #[test]
    fn base64_matches_known_encodings() {
        assert_eq!(base64(b"hunter22", BASE64_STANDARD), b"aHVudGVyMjI=");
        assert!(has("hunter22", "aHVudGVyMjI="));
        assert!(has("hunter22", "aHVudGVyMjI"));
        // "user:hunter22" encodes to dXNlcjpodW50ZXIyMg==; "hunter22" starts at offset 2 of a group.
        let inner = base64_inner(b"hunter22", 5 % 3, BASE64_STANDARD);
        assert!(
            b"dXNlcjpodW50ZXIyMg=="
                .windows(inner.len())
                .any(|w| w == inner)
        );
        assert!(has("\u{fb}\u{ff}?", "w7vDvz8"));
        let high = [0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf];
        assert!(variants(&high).iter().any(|v| v == b"-_-_-_-_"));
        assert!(variants(&high).iter().any(|v| v == b"+/+/+/+/"));
        // The base64 of a 3-byte value is 4 characters: too short to mask without harm.
        assert_eq!(variants(b"abc"), [b"abc".to_vec()]);
    }

    #[test]
    fn base64_inner_is_found_at_every_alignment() {
        let secret = b"s3cr3t-value";
        for prefix_len in 0..6 {
            let mut text = b"xyzwvu"[..prefix_len].to_vec();
            text.extend_from_slice(secret);
            text.extend_from_slice(b"!tail");
            let encoded = base64(&text, BASE64_STANDARD);
            let inner = base64_inner(secret, prefix_len % 3, BASE64_STANDARD);
            assert!(
                encoded.windows(inner.len()).any(|w| w == inner),
                "alignment {prefix_len}"
            );
        }
    }

    #[test]
    fn percent_forms_cover_common_encoders() {
        assert!(has("p@ss w/rd", "p%40ss%20w%2Frd"));
        assert!(has("p@ss w/rd", "p%40ss%20w/rd"));
        assert!(has("p@ss w/rd", "p%40ss+w%2Frd"));
        assert!(has("p@ss w/rd", "p%40ss%20w%2frd"));
        assert!(has("it's(x)", "it's(x)"));
        assert!(has("it's(x)", "it%27s%28x%29"));
        assert!(has("é", "%C3%A9"));
    }

    #[test]
    fn json_forms_match_python_json_dumps() {
        // json.dumps('sp"ec\\ial/é€-pw') == '"sp\\"ec\\\\ial/\\u00e9\\u20ac-pw"'
        assert!(has(
            "sp\"ec\\ial/é€-pw",
            "sp\\\"ec\\\\ial/\\u00e9\\u20ac-pw"
        ));
        assert!(has("sp\"ec\\ial/é€-pw", "sp\\\"ec\\\\ial/é€-pw"));
        assert!(has("a/b\"c", "a\\/b\\\"c"));
        // json.dumps('\U0001f600') == '"\\ud83d\\ude00"'
        assert!(has("x\u{1f600}yz", "x\\ud83d\\ude00yz"));
        assert!(has("line1\nline2", "line1\\nline2"));
    }

    #[test]
    fn backslash_repr_and_shell_forms() {
        assert!(has("C:\\dir\\pw", "C:\\\\dir\\\\pw"));
        assert!(has("it's\n", "it\\'s\\n"));
        assert!(has("it's", "it'\\''s"));
    }

    #[test]
    fn quoted_forms_match_shell_and_sql_quoting() {
        // Outputs of Python 3.11 `shlex.quote` and bash 5.2 `printf %q` for the same value.
        let secret = "p@ss w'rd&<x>\"q";
        assert!(has(secret, "p@ss w'\"'\"'rd&<x>\"q"));
        assert!(has(secret, "p@ss\\ w\\'rd\\&\\<x\\>\\\"q"));
        assert!(has("x~y=z,w#v{}", "x~y=z\\,w#v\\{\\}"));
        assert!(has("~x=~y:~z", "\\~x=\\~y:\\~z"));
        assert!(has("#first", "\\#first"));
        assert_eq!(bash_printf_q(b"plain-value_1.2"), None);
        assert_eq!(bash_printf_q(b"tab\there"), None);
        assert!(has("Tr0ub4dor'3x", "Tr0ub4dor''3x"));
    }

    #[test]
    fn markup_forms_match_common_escapers() {
        // Python `html.escape`, `xml.sax.saxutils.escape`, .NET `SecurityElement.Escape`, Go
        // `html.EscapeString`.
        let secret = "p@ss w'rd&<x>\"q";
        assert!(has(secret, "p@ss w&#x27;rd&amp;&lt;x&gt;&quot;q"));
        assert!(has(secret, "p@ss w'rd&amp;&lt;x&gt;\"q"));
        assert!(has(secret, "p@ss w&apos;rd&amp;&lt;x&gt;&quot;q"));
        assert!(has(secret, "p@ss w&#39;rd&amp;&lt;x&gt;&#34;q"));
    }

    #[test]
    fn shrunk_forms_trim_quotes_and_resolve_escapes() {
        assert!(has("\"quoted-secret\"", "quoted-secret"));
        // `printf %b` of the value prints a tab, `A` and `é`.
        assert!(has("tab\\there\\x41\\u00e9", "tab\there\u{41}\u{e9}"));
        assert!(has("line\\none\\\\x", "line\none\\x"));
        // Too short once shrunk: `"ab"` would make every `ab` a mask.
        assert!(!has("\"ab\"", "ab"));
        assert_eq!(resolve_backslash_escapes(b"no-escape"), None);
        assert_eq!(
            resolve_backslash_escapes(b"bad\\xZZ\\q\\"),
            Some(b"bad\\xZZ\\q\\".to_vec())
        );
    }

    #[test]
    fn invalid_utf8_still_gets_byte_forms() {
        let forms = variants(&[0xff, b'a', b'b', 0xfe, b'c', b'd']);
        assert_eq!(forms[0], [0xff, b'a', b'b', 0xfe, b'c', b'd']);
        assert!(forms.contains(&b"%FFab%FEcd".to_vec()));
    }
}
