//! What the backends' string-keyed `set` methods share: reading one option's value, and
//! the errors that name the option and the backend (never a secret's value).

use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::units;
#[cfg(feature = "s3")]
use crate::units::BareUnit;

/// One option given to a backend's `set`.
pub(crate) struct Setting<'a> {
    /// The backend's name, for errors.
    pub(crate) backend: &'static str,
    pub(crate) key: &'a str,
    pub(crate) value: &'a str,
    /// Whether the value is a secret: errors show `***` instead.
    pub(crate) secret: bool,
}

impl Setting<'_> {
    /// `InvalidConfig`: the value of this option is wrong, because `why`.
    pub(crate) fn invalid(&self, why: impl std::fmt::Display) -> Error {
        let shown = if self.secret { "***" } else { self.value };
        Error::new(
            ErrorKind::InvalidConfig,
            format!("option {} = {shown:?}: {why}", self.key),
        )
        .with_backend(self.backend)
    }

    /// A boolean ([`parse_bool`]).
    pub(crate) fn flag(&self) -> Result<bool> {
        parse_bool(self.value).ok_or_else(|| self.invalid("not true or false"))
    }

    /// A whole number.
    pub(crate) fn count(&self) -> Result<u64> {
        self.value
            .trim()
            .parse()
            .map_err(|_| self.invalid("not a whole number"))
    }

    /// A duration ([`units::parse_duration`]).
    pub(crate) fn duration(&self) -> Result<Duration> {
        units::parse_duration(self.value)
            .map_err(|e| self.invalid(e.message().unwrap_or("not a duration")))
    }

    /// A size ([`units::parse_size`]), a bare number counting in `bare`.
    #[cfg(feature = "s3")]
    pub(crate) fn size(&self, bare: BareUnit) -> Result<u64> {
        units::parse_size(self.value, bare)
            .map_err(|e| self.invalid(e.message().unwrap_or("not a size")))
    }

    /// `InvalidConfig`: no such option among `known` (naming the nearest one, for a typo).
    pub(crate) fn unknown(&self, known: &[&str]) -> Error {
        super::unknown_key(self.backend, self.key, known)
    }

    /// [`unknown`](Self::unknown), the key compared with every key of `options` and `more`.
    pub(crate) fn unknown_in(&self, options: &[super::OptionInfo], more: &[&str]) -> Error {
        let mut known: Vec<&str> = more.to_vec();
        for key in super::OptionInfo::keys(options) {
            known.push(key);
        }
        self.unknown(&known)
    }
}

/// rclone's booleans: `true`/`false`, and `1`/`0`, `yes`/`no`, `on`/`off`, in any case;
/// an empty value (a bare `?path_style` in a URL) is true.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn booleans() {
        for t in ["", "true", "TRUE", "1", "yes", "on"] {
            assert_eq!(super::parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "False", "0", "no", "off"] {
            assert_eq!(super::parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(super::parse_bool("maybe"), None);
    }
}
