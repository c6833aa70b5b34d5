//! Is a variable a credential? By its key (the credential name patterns, defaults plus
//! configuration), by its value's shape (the scrubber's detectors: token prefixes, URIs with
//! passwords, PEM, JWT), or by a long random-looking value (entropy). A value is looked at
//! here and nowhere kept.

use crate::credentials::Knowledge;
use crate::gitlab::types::Variable;
use crate::scrub::{Matcher, MatcherBuilder};

/// Why a variable counts as a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Its key matches a credential name pattern.
    Name,
    /// A detector of the scrubber recognises its value.
    Shape,
    /// Its value is long and random-looking.
    Entropy,
    /// Someone marked it masked (or hidden): they took it for a secret.
    Masked,
}

impl Evidence {
    /// A phrase for messages: "a credential (…)".
    pub fn describe(self) -> &'static str {
        match self {
            Evidence::Name => "its name says so",
            Evidence::Shape => "its value has the shape of a secret",
            Evidence::Entropy => "its value looks random",
            Evidence::Masked => "it is masked",
        }
    }

    /// Whether a finding resting on it is a guess (medium confidence at most).
    pub fn is_guess(self) -> bool {
        matches!(self, Evidence::Entropy | Evidence::Masked)
    }
}

/// Classifies variables; holds the detectors, built once.
#[derive(Debug)]
pub struct Classifier<'a> {
    knowledge: &'a Knowledge,
    detectors: Matcher,
}

/// Values shorter than this are not judged by entropy.
const ENTROPY_MIN_LENGTH: usize = 20;
/// Bits per character from which a value mixing upper case, lower case and digits looks random
/// (20 random base64 characters give about 4; words, host names and paths mix no cases).
const ENTROPY_BITS: f64 = 3.5;
/// Random hex (40 characters of SHA-1 or a 32-character key) stays under 4 bits per character.
const HEX_MIN_LENGTH: usize = 32;

impl<'a> Classifier<'a> {
    /// A classifier using `knowledge`'s credential names and every scrubber detector.
    pub fn new(knowledge: &'a Knowledge) -> Self {
        Classifier {
            knowledge,
            detectors: MatcherBuilder::new().build(),
        }
    }

    /// Why `key` with `value` (`None`: hidden or unknown) is a credential, if it is.
    pub fn classify(&self, key: &str, value: Option<&str>) -> Option<Evidence> {
        if self.knowledge.is_credential(key) {
            return Some(Evidence::Name);
        }
        let value = value?;
        if self.detectors.redact_all(value.as_bytes()) != value.as_bytes() {
            Some(Evidence::Shape)
        } else if looks_random(value) {
            Some(Evidence::Entropy)
        } else {
            None
        }
    }

    /// Why `variable` is a credential, if it is: by key, value, or (last) its `masked` flag.
    pub fn classify_variable(&self, variable: &Variable) -> Option<Evidence> {
        let value = variable.value.as_ref().map(|v| v.expose().as_str());
        self.classify(&variable.key, value)
            .or(variable.masked.then_some(Evidence::Masked))
    }

    /// Whether an environment scope or a key names production: the scope matches a production
    /// environment name, or a `_`-separated word of the key does (`PROD_DB_PASSWORD`).
    pub fn is_production(&self, key: &str, scope: Option<&str>) -> bool {
        scope.is_some_and(|scope| self.knowledge.is_production(scope))
            || key
                .split('_')
                .any(|word| self.knowledge.is_production(word))
    }
}

/// One token, long, and either mixing upper case, lower case and digits with high Shannon
/// entropy, or long hex mixing digits and letters.
fn looks_random(value: &str) -> bool {
    let length = value.chars().count();
    if length < ENTROPY_MIN_LENGTH || value.chars().any(char::is_whitespace) {
        return false;
    }
    let has = |class: fn(&char) -> bool| value.chars().any(|c| class(&c));
    let digits_and_letters = has(char::is_ascii_digit) && has(char::is_ascii_alphabetic);
    let is_hex = value.chars().all(|c| c.is_ascii_hexdigit()) && digits_and_letters;
    let mixed =
        has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase) && digits_and_letters;
    (is_hex && length >= HEX_MIN_LENGTH) || (mixed && entropy(value) >= ENTROPY_BITS)
}

/// Shannon entropy in bits per character.
fn entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0_u32) += 1;
    }
    let length = f64::from(u32::try_from(value.chars().count()).unwrap_or(u32::MAX));
    counts
        .values()
        .map(|&count| {
            let p = f64::from(count) / length;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_by_name_shape_and_entropy() {
        let mut knowledge = Knowledge::default();
        knowledge
            .credential_names
            .push("*_KEYFILE".parse().expect("pattern"));
        let classifier = Classifier::new(&knowledge);
        let cases = [
            ("DB_PASSWORD", Some("x"), Some(Evidence::Name)),
            ("TAP_GITHUB_TOKEN", None, Some(Evidence::Name)),
            ("GCP_KEYFILE", Some("{}"), Some(Evidence::Name)),
            (
                "GITLAB_API",
                Some("glpat-Ab3dEf6hIj9kLmN0pQrS"),
                Some(Evidence::Shape),
            ),
            (
                "WAREHOUSE_URL",
                Some("postgres://loader:S3cr3t-pw@db.example.com:5432/dw"),
                Some(Evidence::Shape),
            ),
            (
                "SIGNING",
                Some("q8Zr2LmX0vKp4Nw7Tb1YcHs5Ud9Fe3Ga"),
                Some(Evidence::Entropy),
            ),
            (
                "COMMIT",
                Some("3f786850e387550fdab836ed7e6dc881de23001b"),
                Some(Evidence::Entropy),
            ),
            ("WAREHOUSE_HOST", Some("db.example.com"), None),
            (
                "SNOWFLAKE_HOST",
                Some("xy12345.eu-central-1.snowflakecomputing.com"),
                None,
            ),
            ("IMAGE", Some("registry.gitlab.com/data/elt:latest"), None),
            ("REPEATED", Some("Passw0rdPassw0rdPassw0rd"), None),
            ("DBT_TARGET", Some("production"), None),
            ("LONG_PATH", Some("/builds/data/warehouse-elt/output"), None),
            ("HIDDEN_THING", None, None),
            ("SENTENCE", Some("the quick brown fox jumps over it"), None),
        ];
        for (key, value, expected) in cases {
            assert_eq!(classifier.classify(key, value), expected, "{key}");
        }
    }

    #[test]
    fn a_masked_variable_is_taken_for_a_secret_last() {
        use crate::audit::checks::testing::variable;
        let knowledge = Knowledge::default();
        let classifier = Classifier::new(&knowledge);
        let masked = variable("SNOWFLAKE_ACCOUNT_KEY", None);
        assert_eq!(
            classifier.classify_variable(&masked),
            Some(Evidence::Masked)
        );
        let named = variable("DB_PASSWORD", None);
        assert_eq!(classifier.classify_variable(&named), Some(Evidence::Name));
        let plain = Variable {
            masked: false,
            ..variable("DBT_TARGET", Some("dev"))
        };
        assert_eq!(classifier.classify_variable(&plain), None);
    }

    #[test]
    fn production_by_scope_or_key() {
        let knowledge = Knowledge::default();
        let classifier = Classifier::new(&knowledge);
        assert!(classifier.is_production("DB_PASSWORD", Some("production")));
        assert!(classifier.is_production("PROD_DB_PASSWORD", Some("*")));
        assert!(classifier.is_production("DB_PASSWORD_PRD", None));
        assert!(!classifier.is_production("DB_PASSWORD", Some("*")));
        assert!(!classifier.is_production("PRODUCT_TOKEN", Some("staging")));
    }
}
