//! Whether GitLab accepts a value as masked (`app/models/concerns/ci/maskable.rb`, FACTS §2.1),
//! and the way out when it does not.
//!
//! Expanded variables: `\A[a-zA-Z0-9_+=/@:.~-]{8,}\z`. Raw variables: `\A\S{8,}\z` (Ruby's `\S`:
//! anything but space, tab, CR, LF, form feed, vertical tab). Lengths count characters.

/// What GitLab makes of a value set as masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maskability {
    /// Accepted as it is.
    Maskable,
    /// Holds characters outside the expanded alphabet, but no whitespace: accepted when raw.
    OnlyRaw,
    /// Fewer than 8 characters.
    TooShort,
    /// More than one line (a PEM key, a JSON key file).
    MultiLine,
    /// One line with spaces or tabs.
    Whitespace,
}

/// The characters Ruby's `\s` matches.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0c' | '\x0b')
}

/// The characters of the expanded regex's class.
fn is_expanded_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=/@:.~-".contains(c)
}

/// Whether GitLab accepts `value` as masked, for a raw or an expanded variable.
pub fn assess(value: &str, raw: bool) -> Maskability {
    if value.contains(['\n', '\r']) {
        Maskability::MultiLine
    } else if value.contains(is_ruby_space) {
        Maskability::Whitespace
    } else if value.chars().count() < 8 {
        Maskability::TooShort
    } else if raw || value.chars().all(is_expanded_char) {
        Maskability::Maskable
    } else {
        Maskability::OnlyRaw
    }
}

impl Maskability {
    /// Whether GitLab can mask it, and how: a clause for a finding's message.
    pub fn advice(self) -> &'static str {
        match self {
            Maskability::Maskable => "GitLab can mask it: set `masked`",
            Maskability::OnlyRaw => {
                "GitLab can mask it only as a raw variable (it holds characters outside \
                 `A-Za-z0-9_+=/@:.~-`): set `raw` and `masked` together"
            }
            Maskability::TooShort => {
                "GitLab cannot mask it (shorter than 8 characters): rotate it to a longer value, \
                 then set `masked`"
            }
            Maskability::MultiLine => {
                "GitLab cannot mask it (more than one line): make it a `file` variable and run \
                 the job under `ciguard run`, which masks the file's content"
            }
            Maskability::Whitespace => {
                "GitLab cannot mask it (it holds whitespace): store it base64-encoded and masked, \
                 and decode it in the job under `ciguard run` with a step that prints \
                 `::add-mask::` and the decoded value, so it is masked too"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_masking_rules() {
        use Maskability::*;
        let cases = [
            // (value, raw, expected)
            ("abcd1234", false, Maskable),
            ("abc1234", false, TooShort),
            ("abc1234", true, TooShort),
            ("glpat-AbCdEf_0123456789", false, Maskable),
            ("user@host:5432/db.name~x", false, Maskable),
            ("a+b/c=d==", false, Maskable),
            ("pa$$word-123", false, OnlyRaw),
            ("pa$$word-123", true, Maskable),
            ("My[value]1", false, OnlyRaw),
            ("back\\slash1", false, OnlyRaw),
            ("%#^!*&|xyz", true, Maskable),
            ("héllo-wörld", false, OnlyRaw),
            ("héllo-wörld", true, Maskable),
            ("two words here", false, Whitespace),
            ("two words here", true, Whitespace),
            ("tab\tinside!", true, Whitespace),
            (
                "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
                true,
                MultiLine,
            ),
            ("ends-with-newline\n", false, MultiLine),
            ("", false, TooShort),
            // Eight characters, counted as characters, not bytes.
            ("ééééééé", true, TooShort),
            ("éééééééé", true, Maskable),
        ];
        for (value, raw, expected) in cases {
            assert_eq!(assess(value, raw), expected, "{value:?} raw={raw}");
        }
    }

    #[test]
    fn the_way_out_is_specific() {
        assert!(Maskability::OnlyRaw.advice().contains("`raw`"));
        assert!(Maskability::MultiLine.advice().contains("`file`"));
        assert!(Maskability::Whitespace.advice().contains("::add-mask::"));
    }
}
