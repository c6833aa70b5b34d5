//! The keyed hash: HMAC-SHA-256 over a canonical form of a JSON value, written as lower-case hex
//! (optionally prefixed with a key id), and the normalisations applied before hashing.
//!
//! What is hashed (docs/pseudonymize.md states the same):
//! - a string: its UTF-8 bytes, after normalisation when one is configured;
//! - a number: its JSON text as serde_json writes it (integers as plain digits, so `42` and
//!   `"42"` hash the same; other numbers in shortest round-trip form, `1.50` as `1.5`);
//! - `true` / `false`: those words;
//! - an object or an array: its compact JSON text with object keys sorted;
//! - `null` is not hashed: it stays `null`.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use crate::secret::Secret;

/// The fewest bytes a key may have: the output size of SHA-256, as RFC 2104 recommends.
pub const MIN_KEY_BYTES: usize = 32;

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The variable is not set, or empty.
    #[error("is not set or empty")]
    Missing,
    /// The key is empty.
    #[error("is empty")]
    Empty,
    /// The key is shorter than [`MIN_KEY_BYTES`].
    #[error("holds fewer than {MIN_KEY_BYTES} bytes")]
    TooShort,
}

/// How a string is normalised before it is hashed, so that one person hashes the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// Surrounding white space removed, lower-cased: ` Ann@Example.COM ` -> `ann@example.com`.
    Email,
    /// Only the ASCII digits kept: `+1 (555) 010-2030` -> `15550102030`.
    Phone,
}

impl Normalize {
    fn apply<'a>(self, text: &'a str, scratch: &'a mut String) -> &'a str {
        scratch.clear();
        match self {
            Normalize::Email => {
                let trimmed = text.trim();
                if trimmed
                    .bytes()
                    .any(|b| !b.is_ascii() || b.is_ascii_uppercase())
                {
                    scratch.push_str(&trimmed.to_lowercase());
                    scratch
                } else {
                    trimmed
                }
            }
            Normalize::Phone => {
                scratch.extend(text.chars().filter(char::is_ascii_digit));
                scratch
            }
        }
    }
}

/// Replaces values by their keyed hashes. Holds the key, already absorbed into the HMAC state.
#[derive(Clone)]
pub struct Hasher {
    keyed: Hmac<Sha256>,
    /// `"<key id>:"`, or empty.
    prefix: String,
    scratch: String,
    canonical: Vec<u8>,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("key", &crate::secret::REDACTED)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher with `key`, writing hashes as `<key_id>:<hex>` when a key id is given.
    pub fn new(key: &Secret<Vec<u8>>, key_id: Option<&str>) -> Result<Self, KeyError> {
        let bytes = key.expose();
        if bytes.is_empty() {
            return Err(KeyError::Empty);
        }
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort);
        }
        let keyed = Hmac::<Sha256>::new_from_slice(bytes).map_err(|_| KeyError::Empty)?;
        Ok(Self {
            keyed,
            prefix: key_id.map(|id| format!("{id}:")).unwrap_or_default(),
            scratch: String::new(),
            canonical: Vec::new(),
        })
    }

    /// Replaces `value` by its hash, as a JSON string; `null` stays `null`.
    pub fn hash_in_place(&mut self, value: &mut Value, normalize: Option<Normalize>) {
        let digest = match value {
            Value::Null => return,
            Value::String(text) => self.digest_str(text, normalize),
            Value::Bool(flag) => mac(&self.keyed, if *flag { b"true" } else { b"false" }),
            Value::Number(number) => mac(&self.keyed, number.to_string().as_bytes()),
            Value::Array(_) | Value::Object(_) => {
                self.canonical.clear();
                // Writing into a Vec cannot fail, and a Value always serialises.
                let _ = serde_json::to_writer(&mut self.canonical, &*value);
                mac(&self.keyed, &self.canonical)
            }
        };
        let mut text = String::with_capacity(self.prefix.len() + 64);
        text.push_str(&self.prefix);
        // Hex digits are ASCII.
        text.push_str(std::str::from_utf8(&hex(&digest)).unwrap_or_default());
        *value = Value::String(text);
    }

    /// Appends the hash of the string `text` to `out` as a JSON string: what
    /// [`Self::hash_in_place`] makes of `Value::String(text)`, without the detour.
    pub fn write_hashed_str(
        &mut self,
        text: &str,
        normalize: Option<Normalize>,
        out: &mut Vec<u8>,
    ) {
        let digest = self.digest_str(text, normalize);
        out.push(b'"');
        out.extend_from_slice(self.prefix.as_bytes());
        out.extend_from_slice(&hex(&digest));
        out.push(b'"');
    }

    fn digest_str(&mut self, text: &str, normalize: Option<Normalize>) -> [u8; 32] {
        let input = match normalize {
            Some(normalize) => normalize.apply(text, &mut self.scratch),
            None => text,
        };
        mac(&self.keyed, input.as_bytes())
    }
}

/// HMAC of `input` with the key already absorbed into `keyed`.
fn mac(keyed: &Hmac<Sha256>, input: &[u8]) -> [u8; 32] {
    let mut mac = keyed.clone();
    mac.update(input);
    mac.finalize().into_bytes().into()
}

/// A digest as lower-case hex.
fn hex(digest: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; 64];
    for (pair, &byte) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn hasher(key: &str, key_id: Option<&str>) -> Hasher {
        Hasher::new(&Secret::new(key.as_bytes().to_vec()), key_id).expect("a valid key")
    }

    fn hashed(hasher: &mut Hasher, mut value: Value, normalize: Option<Normalize>) -> Value {
        hasher.hash_in_place(&mut value, normalize);
        value
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn hmac_matches_rfc_4231_test_case_6() {
        // RFC 4231 test case 6: a 131-byte key of 0xaa, its message and expected MAC.
        let key = Secret::new(vec![0xaa; 131]);
        let mut hasher = Hasher::new(&key, None).expect("long key");
        let value = hashed(
            &mut hasher,
            json!("Test Using Larger Than Block-Size Key - Hash Key First"),
            None,
        );
        assert_eq!(
            value,
            json!("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        );
    }

    #[test]
    fn short_and_empty_keys_are_refused() {
        let short = Secret::new(b"too-short".to_vec());
        assert_eq!(Hasher::new(&short, None).err(), Some(KeyError::TooShort));
        assert_eq!(
            Hasher::new(&Secret::new(Vec::new()), None).err(),
            Some(KeyError::Empty)
        );
    }

    #[test]
    fn the_key_id_prefixes_the_hex() {
        let plain = hashed(&mut hasher(KEY, None), json!("a"), None);
        let with_id = hashed(&mut hasher(KEY, Some("k1")), json!("a"), None);
        let plain = plain.as_str().expect("a string");
        assert_eq!(plain.len(), 64);
        assert_eq!(with_id, json!(format!("k1:{plain}")));
    }

    #[test]
    fn null_stays_null_and_scalars_hash_as_their_json_text() {
        let mut hasher = hasher(KEY, None);
        assert_eq!(hashed(&mut hasher, Value::Null, None), Value::Null);
        assert_eq!(
            hashed(&mut hasher, json!(42), None),
            hashed(&mut hasher, json!("42"), None)
        );
        assert_eq!(
            hashed(&mut hasher, json!(true), None),
            hashed(&mut hasher, json!("true"), None)
        );
        assert_eq!(
            hashed(&mut hasher, json!({"b": 1, "a": [2]}), None),
            hashed(&mut hasher, json!(r#"{"a":[2],"b":1}"#), None)
        );
    }

    #[test]
    fn normalisation_makes_spellings_of_one_value_hash_the_same() {
        let mut hasher = hasher(KEY, None);
        let email = Some(Normalize::Email);
        assert_eq!(
            hashed(&mut hasher, json!(" Ann@Example.COM "), email),
            hashed(&mut hasher, json!("ann@example.com"), None)
        );
        let phone = Some(Normalize::Phone);
        assert_eq!(
            hashed(&mut hasher, json!("+1 (555) 010-2030"), phone),
            hashed(&mut hasher, json!("15550102030"), None)
        );
        assert_ne!(
            hashed(&mut hasher, json!("Ann@Example.COM"), None),
            hashed(&mut hasher, json!("ann@example.com"), None)
        );
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let debug = format!("{:?}", hasher(KEY, Some("k1")));
        assert!(!debug.contains(KEY), "{debug}");
        assert!(debug.contains("****"), "{debug}");
    }

    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        let mut digest = [0; 32];
        digest[..4].copy_from_slice(&[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(hex(&digest)[..8], *b"000fa5ff");
    }

    #[test]
    fn a_string_hashes_the_same_by_either_way() {
        let mut hasher = hasher(KEY, Some("k1"));
        let mut written = Vec::new();
        hasher.write_hashed_str(" A@B ", Some(Normalize::Email), &mut written);
        let value = hashed(&mut hasher, json!(" A@B "), Some(Normalize::Email));
        assert_eq!(written, serde_json::to_vec(&value).expect("JSON"));
    }
}
