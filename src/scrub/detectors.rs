//! Detectors for secrets nobody registered: connection strings, keys and tokens by their shape.
//!
//! Each detector has keywords (matched case-insensitively by the scrubber's automaton, so a line
//! without any keyword costs nothing extra) and a decision taken on a window of input that starts
//! at the keyword. A decision depends only on the bytes of that window, never on how the input was
//! split into writes: a detector answers [`Decision::NeedMore`] whenever more input could change
//! its answer.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

/// A built-in detector of secrets that were not registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Detector {
    /// A password in the userinfo of a URI of any scheme (`postgresql://user:PW@host`).
    UriPassword,
    /// `password=`, `pwd=` in libpq, JDBC and ODBC strings, and `"password": "..."` keys.
    PasswordAssignment,
    /// A PEM private-key block, across lines or with `\n` escapes.
    PemPrivateKey,
    /// A JSON Web Token.
    Jwt,
    /// A GitLab token by its prefix (`glpat-`, `gldt-`, `glrt-`, ...); the prefix is kept.
    GitlabToken,
    /// An AWS access key id (`AKIA...`); the prefix is kept.
    AwsAccessKeyId,
    /// An AWS secret access key after its keyword.
    AwsSecretAccessKey,
    /// The `private_key` of a GCP service-account JSON key.
    GcpPrivateKey,
    /// A Slack token (`xoxb-`, `xoxp-`, `xapp-`, ...); the prefix is kept.
    SlackToken,
    /// A GitHub token (`ghp_`, `github_pat_`, ...); the prefix is kept.
    GithubToken,
    /// A Stripe secret or restricted key, live or test (`sk_live_`, `rk_test_`, ...); the prefix
    /// is kept.
    StripeKey,
    /// The credentials of an `Authorization`, `PRIVATE-TOKEN`, `JOB-TOKEN`, `X-API-Key` or
    /// `X-Auth-Token` header.
    HttpAuthorization,
    /// A Google API key (`AIza...`); the prefix is kept.
    GoogleApiKey,
    /// The secret path of a Slack incoming webhook URL.
    SlackWebhook,
    /// A credential in a URL's query: `?private_token=`, `&access_token=`, the signature and
    /// credential of a pre-signed S3, GCS or Azure URL, ...
    UrlQueryCredential,
    /// The password of `curl -u user:password` (`--user`, `--proxy-user`).
    CurlUser,
    /// A JSON Web Token, base64-encoded once more (`ZXlK...`).
    JwtBase64,
    /// What follows one of the organisation's own token prefixes (`--token-prefix`,
    /// `token_prefixes` in `.ciguard.yml`); the prefix is kept.
    TokenPrefix,
}

/// What a detector concluded about the window that starts at one of its keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// More input could change the answer.
    NeedMore,
    /// No secret starts here.
    NoMatch,
    /// Mask this range of the window.
    Mask(Range<usize>),
}

/// Base64 characters a private key holds at the least (the smallest RSA or EC key is far longer):
/// fewer, and a `private_key` value holds only markers.
const MIN_KEY_CHARACTERS: usize = 64;

/// Single-line detectors look at most this far past their keyword.
const LINE_WINDOW: usize = 4096;
/// A PEM block must end within this many bytes of its `-----BEGIN` line.
const PEM_WINDOW: usize = 64 * 1024;

impl Detector {
    /// Every detector, in documentation order.
    pub const ALL: &'static [Detector] = &[
        Detector::UriPassword,
        Detector::PasswordAssignment,
        Detector::PemPrivateKey,
        Detector::Jwt,
        Detector::GitlabToken,
        Detector::AwsAccessKeyId,
        Detector::AwsSecretAccessKey,
        Detector::GcpPrivateKey,
        Detector::SlackToken,
        Detector::GithubToken,
        Detector::StripeKey,
        Detector::HttpAuthorization,
        Detector::GoogleApiKey,
        Detector::SlackWebhook,
        Detector::UrlQueryCredential,
        Detector::CurlUser,
        Detector::JwtBase64,
        Detector::TokenPrefix,
    ];

    /// The stable kebab-case id used on the command line and in counts.
    pub fn id(self) -> &'static str {
        match self {
            Detector::UriPassword => "uri-password",
            Detector::PasswordAssignment => "password-assignment",
            Detector::PemPrivateKey => "pem-private-key",
            Detector::Jwt => "jwt",
            Detector::GitlabToken => "gitlab-token",
            Detector::AwsAccessKeyId => "aws-access-key-id",
            Detector::AwsSecretAccessKey => "aws-secret-access-key",
            Detector::GcpPrivateKey => "gcp-private-key",
            Detector::SlackToken => "slack-token",
            Detector::GithubToken => "github-token",
            Detector::StripeKey => "stripe-key",
            Detector::HttpAuthorization => "http-authorization",
            Detector::GoogleApiKey => "google-api-key",
            Detector::SlackWebhook => "slack-webhook",
            Detector::UrlQueryCredential => "url-query-credential",
            Detector::CurlUser => "curl-user",
            Detector::JwtBase64 => "encoded-jwt",
            Detector::TokenPrefix => "token-prefix",
        }
    }

    /// The detector with this id.
    pub fn from_id(id: &str) -> Option<Detector> {
        Detector::ALL.iter().copied().find(|d| d.id() == id)
    }

    /// How far past its keyword this detector may look before it must decide.
    pub(crate) fn window_len(self) -> usize {
        if self == Detector::PemPrivateKey {
            PEM_WINDOW
        } else {
            LINE_WINDOW
        }
    }

    /// Whether the detector accepts its keywords in any ASCII case (otherwise only as written).
    pub(crate) fn ignores_keyword_case(self) -> bool {
        matches!(
            self,
            Detector::PasswordAssignment
                | Detector::AwsSecretAccessKey
                | Detector::HttpAuthorization
                | Detector::UrlQueryCredential
        )
    }

    /// Whether the window this detector decides on starts after its keyword rather than at it:
    /// so for prefixes given at run time, whose length the decision cannot know.
    pub(crate) fn looks_past_keyword(self) -> bool {
        self == Detector::TokenPrefix
    }

    /// The keywords that make the scrubber ask this detector; matched ignoring ASCII case.
    pub(crate) fn keywords(self) -> &'static [&'static str] {
        match self {
            Detector::UriPassword => &["://"],
            Detector::PasswordAssignment => &["password", "passwd", "pwd"],
            Detector::PemPrivateKey => &["-----BEGIN"],
            Detector::Jwt => &["eyJ"],
            Detector::GitlabToken => GITLAB_TOKEN_PREFIXES,
            Detector::AwsAccessKeyId => &["AKIA", "ASIA", "ABIA", "ACCA"],
            Detector::AwsSecretAccessKey => {
                &["secret_access_key", "secretaccesskey", "secret-access-key"]
            }
            Detector::GcpPrivateKey => &["private_key"],
            Detector::SlackToken => &[
                "xoxa-", "xoxb-", "xoxe-", "xoxo-", "xoxp-", "xoxr-", "xoxs-", "xapp-",
            ],
            Detector::GithubToken => &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            Detector::StripeKey => &[
                "sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_",
            ],
            Detector::HttpAuthorization => &[
                "authorization",
                "private-token",
                "job-token",
                "x-api-key",
                "x-auth-token",
                "apikey",
                "api-token",
                "-h \"token:",
                "-h 'token:",
                "--header \"token:",
                "--header 'token:",
            ],
            Detector::GoogleApiKey => &["AIza"],
            Detector::SlackWebhook => &["hooks.slack.com/"],
            Detector::UrlQueryCredential => URL_QUERY_KEYWORDS,
            Detector::CurlUser => &["curl"],
            Detector::JwtBase64 => &["ZXlK"],
            // Given at run time: `MatcherBuilder::token_prefix`.
            Detector::TokenPrefix => &[],
        }
    }

    /// Decides whether a secret starts in `window`, which begins at one of this detector's
    /// keywords; `at_eof` says the input ends where the window does.
    pub(crate) fn decide(self, window: &[u8], at_eof: bool) -> Decision {
        if self == Detector::PemPrivateKey {
            return decide_pem(window, at_eof);
        }
        // A shell command goes on past a line that ends in `\` (`curl ... \` then `-u ...`).
        let continued = self == Detector::CurlUser;
        let Some(line) = complete_line(window, at_eof, continued) else {
            return Decision::NeedMore;
        };
        let Some(caps) = self.regex().captures(line) else {
            return Decision::NoMatch;
        };
        let Some(value) = ["v", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"]
            .iter()
            .find_map(|name| caps.name(name))
        else {
            return Decision::NoMatch;
        };
        // A user with an empty password is a key only when it looks like one (`-u elastic:` is a
        // user name curl sends without a password).
        let user_as_key = ["v8", "v9", "v10"]
            .iter()
            .any(|name| caps.name(name).is_some());
        if user_as_key && !looks_like_key(value.as_bytes()) {
            return Decision::NoMatch;
        }
        // One or two characters hide nothing worth a mask (`PuttyPassword=0`); after a token prefix
        // everything is masked, as GitLab's runner does.
        // A value that runs on past its first word (a header's) is a placeholder when that word is
        // one: `-apiKey=$SERVICE_KEY upload`.
        let first_word = value.as_bytes().split(|b| b.is_ascii_whitespace()).next();
        if value.len() < 3 && !self.masks_any_token()
            || is_placeholder(value.as_bytes())
            || first_word.is_some_and(|word| word.len() < value.len() && is_placeholder(word))
            || self.is_false_positive(value.as_bytes())
        {
            return Decision::NoMatch;
        }
        Decision::Mask(value.range())
    }

    /// Whether every value after its keyword is a token, however short or plain: GitLab's own
    /// prefixes and the organisation's, as GitLab's runner masks them.
    fn masks_any_token(self) -> bool {
        matches!(self, Detector::GitlabToken | Detector::TokenPrefix)
    }

    /// Whether a value masked over `range` of a window reaches the window's end, so it may go
    /// on past it: the scrubber then masks the rest of it with [`decide_tail`].
    pub(crate) fn runs_past_window(self, range: &Range<usize>) -> bool {
        self != Detector::PemPrivateKey && range.end >= LINE_WINDOW
    }

    fn regex(self) -> &'static Regex {
        static REGEXES: LazyLock<Vec<Regex>> =
            LazyLock::new(|| Detector::ALL.iter().map(|d| compile(d.pattern())).collect());
        let index = Detector::ALL
            .iter()
            .position(|&d| d == self)
            .unwrap_or_default();
        &REGEXES[index]
    }

    /// The regex run at the keyword; the named group `v` is what gets masked.
    fn pattern(self) -> &'static str {
        match self {
            // A password may hold `'` (`https://user:pass4'x@host`).
            Detector::UriPassword => r#"\A://[^\s/?#@:'"<>]*:(?P<v>[^\s/?#"<>]+)@"#,
            Detector::PasswordAssignment => concat!(
                r#"\A(?i:password|passwd|pwd)(?:\s*=|["']\s*[:=])\s*"#,
                r#"(?:"(?P<v>(?:[^"\\\n]|\\.)+)"|'(?P<v2>(?:[^'\\\n]|\\.|'')+)'|\{(?P<v3>[^}\n]+)\}|(?P<v4>\$\{[^}\s]*\}|[^\s;&,'"}{)]+))"#
            ),
            // Decided by `decide_pem`; this regex only recognises the header line.
            Detector::PemPrivateKey => r"\A-----BEGIN[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----",
            Detector::Jwt => r"\A(?P<v>eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*)",
            Detector::GitlabToken => concat!(
                r"\A(?:glpat-|gloas-|gldt-|glrt-|glrtr-|glcbt-|glptt-|glft-|glimt-|glagent-|",
                r"glsoat-|glffct-|gltok-|glwt-|_gitlab_session=|GR1348941)(?P<v>[0-9A-Za-z_.=-]+)"
            ),
            Detector::AwsAccessKeyId => {
                r"\A(?:AKIA|ASIA|ABIA|ACCA)(?P<v>[A-Z0-9]{16})(?:[^A-Za-z0-9]|\z)"
            }
            Detector::AwsSecretAccessKey => concat!(
                r#"\A(?i:secret[_-]?access[_-]?key)["']?\s*[:=]\s*["']?"#,
                r"(?P<v>[A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|\z)"
            ),
            Detector::GcpPrivateKey => {
                r#"\Aprivate_key["']\s*:\s*(?:"(?P<v>(?:[^"\\]|\\.)+)"|'(?P<v2>(?:[^'\\]|\\.)+)')"#
            }
            // Tokens carry a numeric part of 8 digits or more first (`xoxb-12345678-...`), or a
            // one-digit version and a long body (`xapp-1-A05...`, `xoxe.xoxp-1-Mi0y...`), or three
            // numeric parts (legacy `xoxo-523423-234243-234233-e039...`):
            // `xoxo-indieweb-1.jpg` is prose, `xoxb-12345-abcd234` a documentation example.
            Detector::SlackToken => {
                r"\A(?:xox[aboprse]-|xapp-)(?P<v>[0-9]{8,}-[A-Za-z0-9-]{3,}|[0-9]-[A-Za-z0-9-]{20,}|[0-9]+-[0-9]+-[0-9]+-[A-Za-z0-9]+)"
            }
            Detector::GithubToken => {
                r"\A(?:ghp_|gho_|ghu_|ghs_|ghr_|github_pat_)(?P<v>[A-Za-z0-9_]{20,})"
            }
            Detector::StripeKey => r"\A(?:[sr]k_(?:live|test|prod)_)(?P<v>[A-Za-z0-9]{10,})",
            Detector::GoogleApiKey => r"\AAIza(?P<v>[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|\z)",
            Detector::SlackWebhook => {
                r"\Ahooks\.slack\.com/(?:services|workflows)/(?P<v>[A-Za-z0-9/_-]{20,})"
            }
            Detector::UrlQueryCredential => concat!(
                r"\A[?&](?i:private_token|authenticity_token|rss_token|feed_token|access_token|",
                r"refresh_token|id_token|client_secret|api_key|apikey|token|x-amz-signature|",
                r"x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|sig|",
                // The value runs to the next `&` or `?`, space or control character, as GitLab's
                // runner reads it (a `#` included), or to a quote or bracket around the URL.
                r#"signature)=(?P<v>[^&?\s\x00-\x1f"'<>]+)"#
            ),
            Detector::CurlUser => concat!(
                r"\Acurl\b(?:[^\n\\]|\\.|\\\r?\n)*?\s(?:-u\s*|--(?:proxy-)?user(?:\s+|=))",
                r#"(?:"[^":\s]*:(?P<v>[^"\n]+)"|'[^':\s]*:(?P<v2>[^'\n]+)'|"#,
                // The user and the password quoted apart: `"user":"password"`.
                r#""[^"\s]*":"(?P<v6>[^"\n]+)"|'[^'\s]*':'(?P<v7>[^'\n]+)'|"#,
                // An API key as the user, the password empty: `-u "sk_live_...:"`, `-u key:`.
                r#""(?P<v8>[^\s:"'<]{3,}):"|'(?P<v9>[^\s:"'<]{3,}):'|(?P<v10>[^\s:"'<]{3,}):(?:\s|\z)|"#,
                r#"[^\s:"'<]*:(?:'(?P<v4>[^'\n]+)'|"(?P<v5>[^"\n]+)"|(?P<v3>[^\s"']+)))"#
            ),
            Detector::JwtBase64 => r"\A(?P<v>ZXlK[A-Za-z0-9+/_-]{30,}={0,2})",
            Detector::TokenPrefix => r"\A(?P<v>[A-Za-z0-9._=-]+)",
            Detector::HttpAuthorization => concat!(
                // `Authorization`: any scheme word (`Bearer`, `SSWS`, `GenieKey`,
                // `AWS4-HMAC-SHA256`), then the whole credential up to the value's end: an AWS
                // signature has commas and spaces.
                r#"\A(?:(?i:authorization)["']?\s*[:=]\s*["']?(?:[A-Za-z][A-Za-z0-9_-]*[ \t]+)?"#,
                r#"(?P<v>[^\s"'][^"'\r\n]*)"#,
                // The token headers: one word.
                r#"|(?i:private-token|job-token|x-api-key|x-auth-token|apikey|api-token)["']?\s*[:=]\s*["']?"#,
                r#"(?P<v2>[^\s"']+)"#,
                // A header named `Token` sent with curl's `-H`: one word.
                r#"|(?i:-h|--header)\s?["'](?i:token):\s*(?P<v3>[^\s"']+))"#
            ),
        }
    }

    /// Whether the text this detector masked is evidently not a live credential: a placeholder,
    /// a field's name, a value of one or two repeated characters, or an example
    /// (`GR1348941exampleexample`). `run` masks some of these anyway (after GitLab's own prefixes
    /// everything is masked, as the runner does); a report of stored text leaves them out.
    pub fn is_evidently_fake(self, masked: &[u8]) -> bool {
        is_placeholder(masked)
            || low_entropy(masked)
            || PLACEHOLDER_WORDS
                .iter()
                .any(|word| masked.eq_ignore_ascii_case(word.as_bytes()))
            || masked
                .windows(b"example".len())
                .any(|w| w.eq_ignore_ascii_case(b"example"))
            || self.is_false_positive(masked)
            || self == Detector::PemPrivateKey && key_characters(masked) < MIN_KEY_CHARACTERS
    }

    /// Shapes that the regex accepts but that are not secrets.
    fn is_false_positive(self, value: &[u8]) -> bool {
        match self {
            // A key's header alone, with no key in it (`"private_key": "-----BEGIN ...\n"`).
            Detector::GcpPrivateKey => key_characters(value) < MIN_KEY_CHARACTERS,
            // `PWD=/home/user` in an environment dump is the working directory, not an ODBC
            // password.
            Detector::PasswordAssignment => value.first() == Some(&b'/'),
            // AWS's documentation keys (`AKIAIOSFODNN7EXAMPLE`, `wJalr...EXAMPLEKEY`).
            Detector::AwsAccessKeyId | Detector::AwsSecretAccessKey => {
                memchr::memmem::find(value, b"EXAMPLE").is_some()
            }
            // Tokens of one or two repeated characters (`glpat-XXXXXXXX`, `apiKey: AIzaaaaa...`) and
            // Firebase's published example keys.
            Detector::GithubToken
            | Detector::SlackToken
            | Detector::StripeKey
            | Detector::GoogleApiKey => {
                low_entropy(value)
                    || self == Detector::GoogleApiKey && FIREBASE_EXAMPLE_KEYS.contains(&value)
            }
            // A word that names the field, in usage examples (`curl -u user:password`,
            // `-H "Authorization: Bearer token"`). Not for URIs and assignments: the runners mask
            // `https://user:password@host`.
            Detector::CurlUser | Detector::HttpAuthorization | Detector::UrlQueryCredential => {
                PLACEHOLDER_WORDS
                    .iter()
                    .any(|word| value.eq_ignore_ascii_case(word.as_bytes()))
                    || self != Detector::UrlQueryCredential && low_entropy(value)
            }
            Detector::JwtBase64 => !decode_base64(value).is_some_and(|jwt| {
                Detector::Jwt
                    .regex()
                    .find(&jwt)
                    .is_some_and(|m| m.end() + 2 >= jwt.len())
            }),
            _ => false,
        }
    }
}

/// How many base64 characters of key follow a PEM header (`-----BEGIN ... KEY-----`) in `text`,
/// over line breaks written as they are or escaped (`\n` in JSON), up to the first other
/// character (the END marker, a quote).
fn key_characters(text: &[u8]) -> usize {
    let body = memchr::memmem::find(text, b"KEY-----").map_or(text, |at| &text[at + 8..]);
    let mut count = 0;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\\' if matches!(body.get(i + 1), Some(b'n' | b'r')) => i += 2,
            b if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') => {
                count += 1;
                i += 1;
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => break,
        }
    }
    count
}

/// Whether a token's characters carry less than 2 bits each (Shannon entropy; less for short
/// values): placeholders such as `XXXXXXXX-XXXX` or `123123123`, never a generated token (which
/// carries 4 or more).
fn low_entropy(value: &[u8]) -> bool {
    let mut counts = [0u32; 256];
    for &b in value {
        counts[usize::from(b)] += 1;
    }
    let n = value.len() as f64;
    // A short value cannot reach a high figure: hold it to half a bit under its ceiling.
    let floor = 2.0f64.min(n.log2() - 1.0);
    let bits: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    bits < floor
}

/// The Firebase Android SDK's published example API keys (as gitleaks' `gcp-api-key` rule lists
/// them, without the `AIza` prefix): in samples and tutorials, not secrets.
const FIREBASE_EXAMPLE_KEYS: &[&[u8]] = &[
    b"Syabcdefghijklmnopqrstuvwxyz1234567",
    b"SyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs",
    b"SyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM",
    b"SyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU",
    b"SyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0",
    b"yDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A",
    b"SyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c",
    b"SyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4",
    b"SyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY",
    b"SyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM",
    b"SyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ",
    b"SyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g",
    b"SyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU",
    b"SyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw",
    b"SyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE",
    b"SyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY",
];

/// `?name=` and `&name=` for every query parameter [`Detector::UrlQueryCredential`] masks.
const URL_QUERY_KEYWORDS: &[&str] = &[
    "?private_token=",
    "&private_token=",
    "?authenticity_token=",
    "&authenticity_token=",
    "?rss_token=",
    "&rss_token=",
    "?feed_token=",
    "&feed_token=",
    "?access_token=",
    "&access_token=",
    "?refresh_token=",
    "&refresh_token=",
    "?id_token=",
    "&id_token=",
    "?client_secret=",
    "&client_secret=",
    "?api_key=",
    "&api_key=",
    "?apikey=",
    "&apikey=",
    "?token=",
    "&token=",
    "?x-amz-signature=",
    "&x-amz-signature=",
    "?x-amz-credential=",
    "&x-amz-credential=",
    "?x-amz-security-token=",
    "&x-amz-security-token=",
    "?x-goog-signature=",
    "&x-goog-signature=",
    "?x-goog-credential=",
    "&x-goog-credential=",
    "?sig=",
    "&sig=",
    "?signature=",
    "&signature=",
];

/// Decodes standard or URL-safe base64, padded or not; `None` when it is not base64.
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let text = text
        .strip_suffix(b"==")
        .or(text.strip_suffix(b"="))
        .unwrap_or(text);
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0);
    for &c in text {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

const GITLAB_TOKEN_PREFIXES: &[&str] = &[
    "glpat-",
    "gloas-",
    "gldt-",
    "glrt-",
    "glrtr-",
    "glcbt-",
    "glptt-",
    "glft-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "gltok-",
    "glwt-",
    "_gitlab_session=",
    "GR1348941",
];

fn compile(pattern: &str) -> Regex {
    // The patterns are constants, each compiled by this module's tests.
    #[allow(clippy::unwrap_used)]
    Regex::new(pattern).unwrap()
}

/// The window up to its first newline (with `continued`, the first not escaped by a `\`), once
/// that line is complete (or can grow no more).
fn complete_line(window: &[u8], at_eof: bool, continued: bool) -> Option<&[u8]> {
    let limit = &window[..window.len().min(LINE_WINDOW)];
    let ends_in_backslash = |end: usize| {
        let line = limit[..end].strip_suffix(b"\r").unwrap_or(&limit[..end]);
        line.ends_with(b"\\")
    };
    let end = memchr::memchr_iter(b'\n', limit).find(|&end| !(continued && ends_in_backslash(end)));
    match end {
        Some(end) => Some(&limit[..end]),
        None if at_eof || window.len() >= LINE_WINDOW => Some(limit),
        None => None,
    }
}

/// The rest of a value that ran past its detector's window: everything up to the next space,
/// control character or end of input, window after window.
pub(crate) fn decide_tail(window: &[u8], at_eof: bool) -> Decision {
    let limit = &window[..window.len().min(LINE_WINDOW)];
    match limit.iter().position(|&b| b <= b' ') {
        Some(0) => Decision::NoMatch,
        Some(end) => Decision::Mask(0..end),
        None if at_eof || limit.len() == LINE_WINDOW => Decision::Mask(0..limit.len()),
        None => Decision::NeedMore,
    }
}

/// Values that are already redacted or are obvious placeholders: `****`, `xxxx`, `...`,
/// `[MASKED]`, a variable reference (`$DB_PASSWORD`, `${TOKEN}`, `$(cat file)`, `%TOKEN%`, `$2`)
/// or a variable's name in its place (`access_token=ACCESS_TOKEN`),
/// or a template field (`<password>`, `password>` of `<user:password>`, `{{ token }}`, `{token}`,
/// `[PASSWORD]`).
fn is_placeholder(value: &[u8]) -> bool {
    let enclosed = |open: &[u8], close: &[u8]| {
        value.len() > open.len() + close.len() && value.starts_with(open) && value.ends_with(close)
    };
    let positional = |name: &[u8]| !name.is_empty() && name.iter().all(u8::is_ascii_digit);
    let env_name = |name: &[u8]| {
        !name.is_empty()
            && !name[0].is_ascii_digit()
            && name
                .iter()
                .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    value == crate::scrub::MASK
        || value.iter().all(|&b| b == b'*' || b == b'x' || b == b'X')
        || value
            .strip_prefix(b"$")
            .is_some_and(|name| env_name(name) || positional(name))
        || env_name(value) && value.contains(&b'_')
        || enclosed(b"${", b"}")
        || enclosed(b"$(", b")")
        || enclosed(b"%", b"%") && env_name(&value[1..value.len() - 1])
        || enclosed(b"<", b">")
        || value.ends_with(b">")
        || enclosed(b"{", b"}") && !looks_generated(&value[1..value.len() - 1])
        || enclosed(b"[", b"]")
        || value.iter().all(|&b| b == b'.')
}

/// Whether `text` looks generated rather than named: upper and lower case letters and digits,
/// 10 characters or more (`ZqL5kVrX1n8tA2`, not `api_key` or `TOKEN`). Braces around such a text
/// do not make it a template field.
fn looks_generated(text: &[u8]) -> bool {
    text.len() >= 10
        && text.iter().any(u8::is_ascii_uppercase)
        && text.iter().any(u8::is_ascii_lowercase)
        && text.iter().any(u8::is_ascii_digit)
}

/// Whether a user name looks like an API key: 8 characters or more, letters and digits.
fn looks_like_key(text: &[u8]) -> bool {
    text.len() >= 8
        && text.iter().any(u8::is_ascii_alphabetic)
        && text.iter().any(u8::is_ascii_digit)
}

/// Values that only name what belongs there (`curl -u user:password`, `Bearer token`).
const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "yourpassword",
    "your_password",
    "your-password",
    "yourtoken",
    "your_token",
    "your-token",
    "redacted",
];

/// A PEM private-key block: from `-----BEGIN ... PRIVATE KEY-----` to the matching `-----END`
/// line. A block whose end does not come within [`PEM_WINDOW`] bytes (or before the input ends)
/// is masked to the end of the window: its body is key material.
fn decide_pem(window: &[u8], at_eof: bool) -> Decision {
    const HEADER_MAX: usize = 128;
    let header_seen =
        window.len() >= HEADER_MAX || at_eof || memchr::memchr(b'\n', window).is_some();
    if !header_seen {
        return Decision::NeedMore;
    }
    let Some(header) = Detector::PemPrivateKey
        .regex()
        .find(&window[..window.len().min(HEADER_MAX)])
    else {
        return Decision::NoMatch;
    };
    let limit = &window[..window.len().min(PEM_WINDOW)];
    static END: LazyLock<Regex> =
        LazyLock::new(|| compile(r"-----END[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----"));
    let body_start = header.end();
    if let Some(end) = END.find(&limit[body_start..]) {
        return Decision::Mask(0..body_start + end.end());
    }
    // An END marker may still be arriving: wait unless the window is full or input ended.
    let full = window.len() >= PEM_WINDOW;
    if at_eof || full {
        Decision::Mask(0..limit.len())
    } else {
        Decision::NeedMore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Masks what `detector` finds at every keyword position of `text` (input complete).
    fn masked(detector: Detector, text: &str) -> Vec<String> {
        let bytes = text.as_bytes();
        let lower = text.to_ascii_lowercase();
        let mut found = Vec::new();
        for keyword in detector.keywords() {
            let keyword = keyword.to_ascii_lowercase();
            for (at, _) in lower.match_indices(&keyword) {
                if let Decision::Mask(range) = detector.decide(&bytes[at..], true) {
                    found.push(text[at + range.start..at + range.end].to_string());
                }
            }
        }
        found
    }

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        for &d in Detector::ALL {
            assert!(
                d.id().chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                d.id()
            );
            assert_eq!(Detector::from_id(d.id()), Some(d));
        }
        assert_eq!(Detector::from_id("nope"), None);
    }

    #[test]
    fn all_patterns_compile() {
        for &d in Detector::ALL {
            let _ = d.regex();
        }
    }

    #[test]
    fn uri_password_any_scheme() {
        let d = Detector::UriPassword;
        assert_eq!(masked(d, "postgresql://etl:S3cr3t@db:5432/x"), ["S3cr3t"]);
        assert_eq!(masked(d, "snowflake://u:pw%40x@acct/db"), ["pw%40x"]);
        assert_eq!(
            masked(d, "mongodb+srv://admin:hunter2@c0.mongodb.net"),
            ["hunter2"]
        );
        assert_eq!(
            masked(d, "git clone https://oauth2:glpat-abc@gitlab.com/x.git"),
            ["glpat-abc"]
        );
        assert_eq!(masked(d, "redis://:p@ss@cache:6379"), ["p@ss"]);
        assert!(masked(d, "https://example.com:8080/path?q=a@b").is_empty());
        assert!(masked(d, "postgresql://user@host/db").is_empty());
        assert!(masked(d, "postgresql://user:***@host/db").is_empty());
    }

    #[test]
    fn password_assignments() {
        let d = Detector::PasswordAssignment;
        assert_eq!(
            masked(d, "host=db user=etl password=s3cret dbname=x"),
            ["s3cret"]
        );
        assert_eq!(
            masked(d, "jdbc:sqlserver://h;user=u;password=Pa55;db=x"),
            ["Pa55"]
        );
        assert_eq!(masked(d, "Driver={X};UID=u;PWD={p;w}"), ["p;w"]);
        assert_eq!(masked(d, "password='two words'"), ["two words"]);
        assert_eq!(masked(d, r#"{"password": "p\"w"}"#), [r#"p\"w"#]);
        assert_eq!(masked(d, "{'db_password': 'abc'}"), ["abc"]);
        assert_eq!(masked(d, "TAP_PG_PASSWORD=xyz123"), ["xyz123"]);
        assert!(masked(d, "PWD=/home/etl").is_empty());
        assert!(masked(d, "password is required").is_empty());
        assert!(masked(d, "PASSWORD_FILE=/run/secrets/pw").is_empty());
    }

    #[test]
    fn pem_block_across_lines_and_escaped() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----";
        let text = format!("key:\n{pem}\nafter");
        assert_eq!(masked(Detector::PemPrivateKey, &text), [pem]);
        let escaped = r"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            masked(Detector::PemPrivateKey, escaped),
            [r"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"]
        );
        assert!(
            masked(
                Detector::PemPrivateKey,
                "-----BEGIN CERTIFICATE-----\nMII\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn pem_waits_for_its_end_marker() {
        let head = b"-----BEGIN PRIVATE KEY-----\nMIIE\n";
        assert_eq!(
            Detector::PemPrivateKey.decide(head, false),
            Decision::NeedMore
        );
        assert_eq!(
            Detector::PemPrivateKey.decide(head, true),
            Decision::Mask(0..head.len())
        );
        assert_eq!(
            Detector::PemPrivateKey.decide(b"-----BEGIN PRIV", false),
            Decision::NeedMore
        );
    }

    #[test]
    fn single_line_detectors_wait_for_the_end_of_line() {
        assert_eq!(
            Detector::GitlabToken.decide(b"glpat-abc", false),
            Decision::NeedMore
        );
        assert_eq!(
            Detector::GitlabToken.decide(b"glpat-abc\n", false),
            Decision::Mask(6..9)
        );
        let long = vec![b'a'; LINE_WINDOW + 10];
        assert_eq!(Detector::Jwt.decide(&long, false), Decision::NoMatch);
    }

    #[test]
    fn token_prefixes_are_kept() {
        assert_eq!(
            masked(Detector::GitlabToken, "t=glpat-AbC_12.3-x end"),
            ["AbC_12.3-x"]
        );
        assert_eq!(masked(Detector::GitlabToken, "GR1348941xyzXYZ"), ["xyzXYZ"]);
        assert!(masked(Detector::GitlabToken, "GLPAT-abc").is_empty());
        assert_eq!(
            masked(Detector::AwsAccessKeyId, "id AKIAQ3EGRQ7W5TKJZ4NP."),
            ["Q3EGRQ7W5TKJZ4NP"]
        );
        assert!(masked(Detector::AwsAccessKeyId, "AKIAQ3EGRQ7W5TKJZ4NPXX").is_empty());
        // AWS's documentation key is a placeholder.
        assert!(masked(Detector::AwsAccessKeyId, "id AKIAIOSFODNN7EXAMPLE.").is_empty());
        assert_eq!(
            masked(Detector::SlackToken, "xoxb-1234567890-abc"),
            ["1234567890-abc"]
        );
        let gh = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        assert_eq!(masked(Detector::GithubToken, gh), [&gh[4..]]);
        assert_eq!(
            masked(Detector::StripeKey, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            ["4eC39HqLyjWDarjtT1zdp7dc"]
        );
    }

    #[test]
    fn aws_secret_after_keyword() {
        let text = "aws_secret_access_key = kR7dpTq2Vx9bLw3Yz0aHf5NcJu8eGs1Mo4iQ6tBy";
        assert_eq!(
            masked(Detector::AwsSecretAccessKey, text),
            ["kR7dpTq2Vx9bLw3Yz0aHf5NcJu8eGs1Mo4iQ6tBy"]
        );
        let json = r#""SecretAccessKey": "kR7dpTq2Vx9bLw3Yz0aHf5NcJu8eGs1Mo4iQ6tBy","#;
        assert_eq!(masked(Detector::AwsSecretAccessKey, json).len(), 1);
        let example = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert!(masked(Detector::AwsSecretAccessKey, example).is_empty());
    }

    #[test]
    fn google_stripe_and_slack_shapes() {
        let key = "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe";
        assert_eq!(
            masked(Detector::GoogleApiKey, &format!("key={key}&q=x")),
            ["SyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"]
        );
        assert!(masked(Detector::GoogleApiKey, "AIzaShort").is_empty());
        assert_eq!(
            masked(Detector::StripeKey, "rk_test_51Hx9abcDEF0123"),
            ["51Hx9abcDEF0123"]
        );
        assert_eq!(
            masked(
                Detector::SlackWebhook,
                "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
            ),
            ["T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"]
        );
        assert_eq!(
            masked(
                Detector::SlackToken,
                "xoxb-123456789012-1234567890123-AbCdEfGh"
            ),
            ["123456789012-1234567890123-AbCdEfGh"]
        );
        assert!(masked(Detector::SlackToken, "2018-250-xoxo-indieweb-1.jpg").is_empty());
    }

    #[test]
    fn jwt_and_gcp_and_authorization() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(masked(Detector::Jwt, &format!("token={jwt} ok")), [jwt]);
        let key = r"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
        let gcp = format!(
            r#"{{"type": "service_account", "private_key_id": "abc", "private_key": "{key}", "client_email": "x"}}"#
        );
        assert_eq!(masked(Detector::GcpPrivateKey, &gcp), [key]);
        // The markers alone (a test fixture's placeholder) hold no key.
        let markers =
            r#""private_key": "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n""#;
        assert!(masked(Detector::GcpPrivateKey, markers).is_empty());
        assert_eq!(
            masked(Detector::HttpAuthorization, "Authorization: Bearer abc.def"),
            ["abc.def"]
        );
        assert_eq!(
            masked(Detector::HttpAuthorization, "-H 'PRIVATE-TOKEN: glpat-x'"),
            ["glpat-x"]
        );
        assert_eq!(
            masked(
                Detector::HttpAuthorization,
                r#"{"Authorization": "Basic dXM6cHc="}"#
            ),
            ["dXM6cHc="]
        );
        assert!(masked(Detector::HttpAuthorization, "authorization failed").is_empty());
        // Quotes inside the value: libpq's backslash escape, SQL's doubled quote, a URI's `'`.
        assert_eq!(
            masked(
                Detector::PasswordAssignment,
                r"host=db password='pa ss\'wd-xyz' user=u"
            ),
            [r"pa ss\'wd-xyz"]
        );
        assert_eq!(
            masked(
                Detector::PasswordAssignment,
                "SET password = 'Tr0ub4dor''3x';"
            ),
            ["Tr0ub4dor''3x"]
        );
        assert_eq!(
            masked(Detector::UriPassword, "https://user:pass4'x@example.com/"),
            ["pass4'x"]
        );
        assert_eq!(
            masked(Detector::HttpAuthorization, "-H 'X-API-Key: 5f2b9c'"),
            ["5f2b9c"]
        );
        // Whatever the scheme, the credential after it is masked, not the scheme word.
        for (header, credential) in [
            (
                "Authorization: SSWS 00QCjAl4MlV-WPXM-okta",
                "00QCjAl4MlV-WPXM-okta",
            ),
            (
                "Authorization: Splunk 3c5b1f9e-aaaa-bbbb",
                "3c5b1f9e-aaaa-bbbb",
            ),
            ("Authorization: GenieKey 9a8b7c6d5e4f", "9a8b7c6d5e4f"),
            ("Authorization: Api-Token dt0c01.abc", "dt0c01.abc"),
            (
                "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
                "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            ),
        ] {
            assert_eq!(
                masked(Detector::HttpAuthorization, header),
                [credential],
                "{header}"
            );
        }
    }

    #[test]
    fn url_query_credentials_as_the_runner_masks_them() {
        let d = Detector::UrlQueryCredential;
        // GitLab runner's URL sanitizer parameters, any case, after `?` or `&`.
        assert_eq!(
            masked(
                d,
                "GET https://gitlab.example.com/api/v4/projects?private_token=glpat-abc&x=1"
            ),
            ["glpat-abc"]
        );
        assert_eq!(
            masked(
                d,
                "https://s3.amazonaws.com/b/k?X-Amz-Credential=AKIAQ3EGRQ7W5TKJZ4NP%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=5d672d79c15b&X-Amz-Security-Token=FQoGZXIvYXdz"
            ),
            [
                "5d672d79c15b",
                "AKIAQ3EGRQ7W5TKJZ4NP%2F20240101%2Fus-east-1%2Fs3%2Faws4_request",
                "FQoGZXIvYXdz"
            ]
        );
        assert_eq!(
            masked(
                d,
                "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=abc%2Bdef%3D rest"
            ),
            ["abc%2Bdef%3D"]
        );
        assert_eq!(masked(d, "/feed.atom?RSS_TOKEN=Zx81 "), ["Zx81"]);
        // A parameter that only ends in a credential word, a placeholder, or no query at all.
        assert!(masked(d, "?page_token=abc&next_token=def").is_empty());
        assert!(masked(d, "?access_token=$ACCESS_TOKEN").is_empty());
        assert!(masked(d, "?access_token=<token>").is_empty());
        assert!(masked(d, "the token=abc is fine").is_empty());
    }

    #[test]
    fn curl_user_passwords() {
        let d = Detector::CurlUser;
        assert_eq!(
            masked(d, "+ curl -sS -u admin:s3cr3t-pw https://api.example.com"),
            ["s3cr3t-pw"]
        );
        assert_eq!(masked(d, "curl --user 'etl:pa ss' https://x"), ["pa ss"]);
        assert_eq!(masked(d, "curl --user=etl:pw9 https://x"), ["pw9"]);
        assert_eq!(masked(d, "curl -uetl:pw9 https://x"), ["pw9"]);
        assert_eq!(masked(d, r#"curl -u "etl:p w" https://x"#), ["p w"]);
        assert!(masked(d, r#"curl -u "$API_USER:$API_PASSWORD" https://x"#).is_empty());
        assert!(masked(d, "curl -u gitlab-ci-token:${CI_JOB_TOKEN} https://x").is_empty());
        assert!(masked(d, "curl --user-agent x:y https://x").is_empty());
        assert!(masked(d, "docker run -u 1000:1000 image").is_empty());
    }

    #[test]
    fn base64_encoded_jwts() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let encoded = crate::scrub::encodings::base64_forms(jwt.as_bytes())[1].clone();
        let encoded = String::from_utf8(encoded).expect("ascii");
        assert_eq!(
            masked(Detector::JwtBase64, &format!("token: {encoded}\n")),
            [encoded]
        );
        // `ZXlK` starts the base64 of anything beginning with `eyJ`: only a JWT inside counts.
        let not_jwt =
            crate::scrub::encodings::base64_forms(b"eyJust some words, not a token")[1].clone();
        let not_jwt = String::from_utf8(not_jwt).expect("ascii");
        assert!(masked(Detector::JwtBase64, &not_jwt).is_empty());
    }

    #[test]
    fn custom_token_prefixes_keep_the_prefix() {
        // The window starts after the prefix; the decision masks the token characters.
        assert_eq!(
            Detector::TokenPrefix.decide(b"a1B2_c3.d4-e5= rest", true),
            Decision::Mask(0..14)
        );
        assert_eq!(
            Detector::TokenPrefix.decide(b" no token", true),
            Decision::NoMatch
        );
        assert_eq!(
            Detector::TokenPrefix.decide(b"abc", false),
            Decision::NeedMore
        );
    }

    #[test]
    fn curl_keys_as_users_token_headers_and_braced_generated_values() {
        // gitleaks' curl-auth-user and curl-auth-header samples.
        assert_eq!(
            masked(
                Detector::CurlUser,
                r#"curl -u "d2LkV78zLx!t:" https://localhost:9200"#
            ),
            ["d2LkV78zLx!t"]
        );
        assert_eq!(
            masked(
                Detector::CurlUser,
                "curl -u sk_test_4eC39Hq7: https://api.stripe.com"
            ),
            ["sk_test_4eC39Hq7"]
        );
        assert!(
            masked(
                Detector::CurlUser,
                "curl -u elastic: https://localhost:9200"
            )
            .is_empty()
        );
        assert_eq!(
            masked(
                Detector::CurlUser,
                r#"curl -X POST --user "{acd3c08b}":"{ZqL5kVrX1n8tA2}" https://h"#
            ),
            ["{ZqL5kVrX1n8tA2}"]
        );
        assert!(
            masked(
                Detector::CurlUser,
                r#"curl --user "me":"{password}" https://h"#
            )
            .is_empty()
        );
        assert_eq!(
            masked(
                Detector::HttpAuthorization,
                r#"curl -H "Content-Type: text/plain" -H "Token: 3fea6af1349166ea" -d x"#
            ),
            ["3fea6af1349166ea"]
        );
        assert!(
            masked(
                Detector::HttpAuthorization,
                r#"curl -H "Token: $TOKEN" https://h"#
            )
            .is_empty()
        );
    }

    #[test]
    fn stored_text_reports_leave_out_evident_fakes() {
        for (detector, text) in [
            (Detector::GitlabToken, "exampleexample"),
            (Detector::GitlabToken, "xxxxxxxxxxxxxxxxxxxx"),
            (Detector::UriPassword, "password"),
            (Detector::HttpAuthorization, "<token>"),
            (Detector::GcpPrivateKey, r"-----BEGIN PRIVATE KEY-----\n"),
            (
                Detector::PemPrivateKey,
                "-----BEGIN PRIVATE KEY-----\\n\"\n  }\nFILE:\n  a: bcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
            ),
        ] {
            assert!(detector.is_evidently_fake(text.as_bytes()), "{text}");
        }
        let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----";
        for (detector, text) in [
            (Detector::PemPrivateKey, key),
            (Detector::GitlabToken, "Abcdefghij0123456789xy"),
            (Detector::UriPassword, "Wx7-secretpw-q2"),
        ] {
            assert!(!detector.is_evidently_fake(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn placeholders_stay() {
        for value in [
            "xxxxxxxx",
            "********",
            "[MASKED]",
            "$DB_PASSWORD",
            "${DB_PASSWORD}",
            "${pw:-x}",
            "$(cat /run/secrets/pw)",
            "%DB_PASSWORD%",
            "<password>",
            "{{ password }}",
        ] {
            assert!(is_placeholder(value.as_bytes()), "{value}");
        }
        for value in ["hunter22", "$ecret-pw", "<no", "%20abc%", "$lower_case_pw"] {
            assert!(!is_placeholder(value.as_bytes()), "{value}");
        }
        assert!(masked(Detector::PasswordAssignment, "password=${PGPASSWORD}").is_empty());
    }

    #[test]
    fn shapes_found_on_gitleaks_samples() {
        // Recall (samples from gitleaks' rule tests, MIT): quoted curl passwords, API-key headers,
        // Stripe `prod` keys, Slack app, configuration and legacy tokens.
        assert_eq!(
            masked(
                Detector::CurlUser,
                "curl --user kevin:'pRf7vG2h1L8nQkW9' -iX PATCH"
            ),
            ["pRf7vG2h1L8nQkW9"]
        );
        assert_eq!(
            masked(
                Detector::HttpAuthorization,
                r#"-H "apikey: c4ed6c21-9dd5-4a05""#
            ),
            ["c4ed6c21-9dd5-4a05"]
        );
        assert_eq!(
            masked(
                Detector::HttpAuthorization,
                r#"-H "X-Octopus-ApiKey: 3a16750d-d363""#
            ),
            ["3a16750d-d363"]
        );
        assert_eq!(
            masked(Detector::StripeKey, "rk_prod_51OuEMLAlTWGaDyp").len(),
            1
        );
        assert_eq!(
            masked(
                Detector::SlackToken,
                "xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb"
            )
            .len(),
            1
        );
        assert_eq!(
            masked(
                Detector::SlackToken,
                "xoxo-523423-234243-234233-e039d02840a0b9379c"
            )
            .len(),
            1
        );
        // A command continued over lines.
        assert_eq!(
            masked(
                Detector::CurlUser,
                "$ curl https://api.dropbox.com/oauth2/token \\\n  --user c28wlsosanujy2z:qgsnai0xokrw4j1 --data x\nnext"
            ),
            ["qgsnai0xokrw4j1"]
        );
        assert!(
            masked(
                Detector::CurlUser,
                "curl https://x\n  --user a:b-not-this-command"
            )
            .is_empty()
        );
        assert_eq!(
            Detector::CurlUser.decide(b"curl -k https://x \\\n", false),
            Decision::NeedMore
        );
        // Precision: documentation values, placeholders, low-entropy and example keys.
        assert!(masked(Detector::SlackToken, "xoxb-12345-abcd234").is_empty());
        // (After GitLab's own prefixes everything is masked, as the runner does.)
        assert_eq!(masked(Detector::GitlabToken, "glpat-t").len(), 1);
        assert!(
            masked(
                Detector::GoogleApiKey,
                "AIzaSyabcdefghijklmnopqrstuvwxyz1234567"
            )
            .is_empty()
        );
        assert!(
            masked(
                Detector::HttpAuthorization,
                r#"apiKey: "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa""#
            )
            .is_empty()
        );
        assert!(masked(Detector::CurlUser, r#"curl -sL --user "$1:$2" "$3""#).is_empty());
        assert!(
            masked(
                Detector::CurlUser,
                "curl -u <user:password> https://test.com"
            )
            .is_empty()
        );
        assert!(masked(Detector::CurlUser, "curl --user neo4j:[PASSWORD] http://x").is_empty());
        assert!(masked(Detector::CurlUser, "curl -u username:token").is_empty());
        assert!(
            masked(
                Detector::HttpAuthorization,
                r#"--header "Authorization: Basic ...""#
            )
            .is_empty()
        );
        assert!(masked(Detector::UrlQueryCredential, "?access_token=ACCESS_TOKEN").is_empty());
        assert!(
            masked(
                Detector::HttpAuthorization,
                "tool -apiKey=$SERVICE_KEY upload"
            )
            .is_empty()
        );
        assert!(masked(Detector::PasswordAssignment, "PuttyPassword=0").is_empty());
        // Real tokens keep their mask.
        assert_eq!(masked(Detector::GitlabToken, "glpat-AbCdEf123456").len(), 1);
        assert_eq!(
            masked(Detector::PasswordAssignment, "password=changeme").len(),
            1
        );
    }
}
