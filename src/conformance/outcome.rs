//! What a case answers: [`Outcome`], and [`Skipped`] for a case that did not run.

use std::borrow::Cow;
use std::fmt;

/// What a conformance case did: `Ok(())` when it ran and the backend kept the contract (a
/// broken contract panics, as a test does), `Err(Skipped)` when it did not run because the
/// backend says it cannot do what the case needs (its [`Capabilities`](crate::Capabilities)),
/// or because the [`Fixture`](super::Fixture) skips it.
///
/// ```
/// use omnistorage::conformance;
/// use omnistorage::MemoryBackend;
///
/// assert_eq!(conformance::list_one_level(&MemoryBackend::new()), Ok(()));
/// ```
pub type Outcome = Result<(), Skipped>;

/// A case that did not run, and why: `needs Capabilities::list`, or a fixture's reason.
///
/// Its `Display` is the line the test runner shows: `skipped: needs Capabilities::list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    reason: Cow<'static, str>,
}

impl Skipped {
    /// Skipped for `reason`.
    ///
    /// ```
    /// use omnistorage::conformance::Skipped;
    ///
    /// let skipped = Skipped::new("the test server has no versioning");
    /// assert_eq!(skipped.reason(), "the test server has no versioning");
    /// assert_eq!(skipped.to_string(), "skipped: the test server has no versioning");
    /// ```
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Skipped {
        Skipped {
            reason: reason.into(),
        }
    }

    /// Skipped because the backend lacks `what` (`"Capabilities::list"`): the reason is
    /// `needs {what}`.
    pub fn needs(what: &str) -> Skipped {
        Skipped::new(format!("needs {what}"))
    }

    /// Why the case did not run.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped: {}", self.reason)
    }
}

impl std::error::Error for Skipped {}
