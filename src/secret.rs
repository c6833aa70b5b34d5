//! A wrapper for values that must never be shown: `Debug` and `Display` print `****`.
//!
//! Hold every credential ciguard reads (variable values, file contents, `::add-mask::` values) in a
//! [`Secret`], so that no `{:?}`, error message or panic can print it by accident. Reading the value
//! takes an explicit call to [`Secret::expose`].

use std::fmt;

/// What `Debug` and `Display` print instead of a secret value.
pub const REDACTED: &str = "****";

/// A value that prints as `****`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself: use it only to hand it to the scrubber or to the child.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let secret = Secret::new(String::from("hunter2-password"));
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(format!("{secret}"), REDACTED);
        assert_eq!(format!("{:?}", Some(vec![secret.clone()])), "Some([****])");
        assert_eq!(secret.expose(), "hunter2-password");
    }
}
