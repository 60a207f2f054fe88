//! [`Secret`]: a string that is never shown, shared by the network backends.

use std::fmt;

/// A secret string (a key, a password, a passphrase): kept in memory, never shown by
/// `Debug` (which prints `"***"`), and with no `Display` at all.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_hides_the_value() {
        let s = super::Secret("hunter2".into());
        assert_eq!(format!("{s:?}"), "\"***\"");
    }
}
