//! What makes a variable a credential by its name: case-insensitive glob patterns over variable
//! names (`*` and `?`) and the default list, shared by `run`, `audit` and `lint`; and GitLab's
//! own wildcards, for protected ref names and environment scopes.

use std::fmt;
use std::str::FromStr;

/// Names that look like credentials, matched ignoring case. On unless `--no-default-patterns`.
/// `*_PWD` does not match the shell's own `PWD` and `OLDPWD`.
pub const DEFAULT_NAME_PATTERNS: &[&str] = &[
    "*PASSWORD*",
    "*PASSWD*",
    "*PASSPHRASE*",
    "*SECRET*",
    "*TOKEN*",
    "*API_KEY*",
    "*APIKEY*",
    "*PRIVATE_KEY*",
    "*ACCESS_KEY*",
    "*CREDENTIAL*",
    "*DSN*",
    "*DATABASE_URL*",
    "*DATABASE_URI*",
    "*CONNECTION_STRING*",
    "*_PWD",
];

/// Whether `name` matches a GitLab wildcard (protected ref names, environment scopes): each `*`
/// matches any run of characters, `/` included; case-sensitive; anchored at both ends.
pub fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
    regex::Regex::new(&format!("^{}$", parts.join(".*?"))).is_ok_and(|re| re.is_match(name))
}

/// A pattern such as `*PASSWORD*` or `SNOWFLAKE_?EY`, matched against whole variable names,
/// ignoring ASCII case. `*` matches any run of characters, `?` exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    /// The pattern as given, for messages.
    original: String,
    /// The pattern in ASCII upper case, as chars (so `?` matches one char of a non-ASCII name).
    upper: Vec<char>,
}

/// Why a string is not a valid [`NamePattern`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPattern {
    /// An empty pattern would match nothing.
    #[error("a variable name pattern cannot be empty")]
    Empty,
    /// A name cannot hold `=` or NUL; the pattern was probably `NAME=value`.
    #[error("a variable name pattern cannot contain '=' or NUL (give the name, not NAME=value)")]
    ForbiddenChar,
}

impl NamePattern {
    /// Whether `name` matches the whole pattern, ignoring ASCII case.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().map(|c| c.to_ascii_uppercase()).collect();
        glob_match(&self.upper, &name)
    }

    /// Whether the pattern has no wildcard, so it names exactly one variable.
    pub fn is_literal(&self) -> bool {
        !self.upper.iter().any(|&c| c == '*' || c == '?')
    }
}

impl FromStr for NamePattern {
    type Err = InvalidPattern;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        if pattern.is_empty() {
            return Err(InvalidPattern::Empty);
        }
        if pattern.contains(['=', '\0']) {
            return Err(InvalidPattern::ForbiddenChar);
        }
        Ok(Self {
            original: pattern.to_owned(),
            upper: pattern.chars().map(|c| c.to_ascii_uppercase()).collect(),
        })
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Iterative glob matching (`*` any run, `?` one char) with one backtrack point (the last `*`):
/// linear in practice, at worst `pattern.len() * name.len()`. Case-sensitive: callers fold case.
pub(crate) fn glob_match(pattern: &[char], name: &[char]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                last_star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match last_star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    last_star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_wildcards_match_as_gitlab_does() {
        assert!(wildcard_matches("*", "production/eu"));
        assert!(wildcard_matches("release/*", "release/1.2"));
        assert!(wildcard_matches("*-stable", "14-stable"));
        assert!(wildcard_matches("main", "main"));
        assert!(!wildcard_matches("main", "Main"));
        assert!(!wildcard_matches("release/*", "hotfix/release/1"));
        assert!(wildcard_matches("prod.*", "prod.eu"));
        assert!(!wildcard_matches("prod.eu", "prodxeu"));
    }

    fn pattern(p: &str) -> NamePattern {
        p.parse().expect("valid pattern")
    }

    #[test]
    fn matches_whole_names_ignoring_case() {
        let cases = [
            ("*PASSWORD*", "DB_PASSWORD", true),
            ("*PASSWORD*", "password_file", true),
            ("*PASSWORD*", "PASSWORD", true),
            ("*PASSWORD*", "PASSWD", false),
            ("*_PWD", "SNOWFLAKE_PWD", true),
            ("*_PWD", "PWD", false),
            ("*_PWD", "OLDPWD", false),
            ("*_PWD", "SNOWFLAKE_PWD_FILE", false),
            ("TAP_?EY", "tap_key", true),
            ("TAP_?EY", "TAP_KKEY", false),
            ("EXACT", "EXACT", true),
            ("EXACT", "EXACTLY", false),
            ("*", "", true),
            ("A*B*C", "AXXBYYBZC", true),
            ("A*B*C", "AXXBYYBZ", false),
            ("**TOKEN", "MY_TOKEN", true),
            ("?", "É", true),
        ];
        for (p, name, expected) in cases {
            assert_eq!(pattern(p).matches(name), expected, "{p} vs {name}");
        }
    }

    #[test]
    fn rejects_empty_and_assignments() {
        assert_eq!("".parse::<NamePattern>(), Err(InvalidPattern::Empty));
        assert_eq!(
            "DB_PASSWORD=x".parse::<NamePattern>(),
            Err(InvalidPattern::ForbiddenChar)
        );
    }

    #[test]
    fn knows_literal_names() {
        assert!(pattern("SNOWFLAKE_KEY").is_literal());
        assert!(!pattern("SNOWFLAKE_*").is_literal());
        assert!(!pattern("SNOWFLAKE_?").is_literal());
        assert_eq!(pattern("Snow*").to_string(), "Snow*");
    }
}
