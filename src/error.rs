//! The one error type of the crate: [`Error`] and [`ErrorKind`].

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::Arc;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
///
/// New kinds may be added; match with a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object, directory, bucket or stream does not exist.
    NotFound,
    /// The object already exists (for example with [`WriteMode::CreateNew`](crate::WriteMode)).
    AlreadyExists,
    /// The caller is known but not allowed to do this; also what the file backend answers
    /// for a path that would leave its root.
    PermissionDenied,
    /// The credentials were refused (wrong key, bad signature, expired token).
    Unauthenticated,
    /// The path is not a valid [`Path`](crate::Path) or is reserved by the backend.
    InvalidPath,
    /// A configuration or URL is malformed, or names something unknown.
    InvalidConfig,
    /// An argument is invalid (other than a path or a configuration).
    InvalidInput,
    /// The backend cannot do this; its [`Capabilities`](crate::Capabilities) say so.
    Unsupported,
    /// A condition the request depended on did not hold (for example the object changed).
    PreconditionFailed,
    /// The path names a directory where an object was expected.
    IsADirectory,
    /// A path segment that should be a directory is an object.
    NotADirectory,
    /// The directory cannot be removed because it is not empty.
    DirectoryNotEmpty,
    /// The service asked the client to slow down. Temporary.
    RateLimited,
    /// The operation took longer than allowed. Temporary.
    TimedOut,
    /// The service cannot be reached and has not been for longer than the configured bound
    /// (the S3 backend's [`endpoint_down_after`] on every endpoint): the request was not
    /// sent. Temporary, but not worth retrying within the operation: the sync engine stops
    /// the run with it once instead of recording it for every file.
    ///
    #[cfg_attr(
        feature = "s3",
        doc = "\n[`endpoint_down_after`]: crate::backends::s3::S3Builder::endpoint_down_after"
    )]
    #[cfg_attr(
        not(feature = "s3"),
        doc = "\n[`endpoint_down_after`]: crate#crate-features"
    )]
    Unavailable,
    /// The backend, writer or stream was closed.
    Closed,
    /// The operation was cancelled by the caller.
    Cancelled,
    /// A safety limit the caller set was reached: the sync engine's `max_transfer` (bytes)
    /// or `max_delete` (count). Not temporary: running again would reach it again.
    LimitExceeded,
    /// The data is corrupt: a checksum mismatch, or malformed compressed or framed data.
    Corrupt,
    /// An input/output error that fits no other kind.
    Io,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A short lower-case description, as used in [`Error`]'s `Display`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::InvalidPath => "invalid path",
            ErrorKind::InvalidConfig => "invalid configuration",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::PreconditionFailed => "precondition failed",
            ErrorKind::IsADirectory => "is a directory",
            ErrorKind::NotADirectory => "not a directory",
            ErrorKind::DirectoryNotEmpty => "directory not empty",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::TimedOut => "timed out",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Closed => "closed",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::LimitExceeded => "limit exceeded",
            ErrorKind::Corrupt => "corrupt data",
            ErrorKind::Io => "i/o error",
            ErrorKind::Other => "error",
        }
    }

    /// Whether an error of this kind is temporary unless said otherwise
    /// ([`RateLimited`](ErrorKind::RateLimited), [`TimedOut`](ErrorKind::TimedOut) and
    /// [`Unavailable`](ErrorKind::Unavailable)).
    pub fn is_temporary_by_default(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::TimedOut | ErrorKind::Unavailable
        )
    }

    /// The closest [`io::ErrorKind`].
    pub fn to_io(self) -> io::ErrorKind {
        use io::ErrorKind as K;
        match self {
            ErrorKind::NotFound => K::NotFound,
            ErrorKind::AlreadyExists => K::AlreadyExists,
            ErrorKind::PermissionDenied | ErrorKind::Unauthenticated => K::PermissionDenied,
            ErrorKind::InvalidPath | ErrorKind::InvalidConfig | ErrorKind::InvalidInput => {
                K::InvalidInput
            }
            ErrorKind::Unsupported => K::Unsupported,
            ErrorKind::IsADirectory => K::IsADirectory,
            ErrorKind::NotADirectory => K::NotADirectory,
            ErrorKind::DirectoryNotEmpty => K::DirectoryNotEmpty,
            ErrorKind::TimedOut => K::TimedOut,
            ErrorKind::Closed => K::BrokenPipe,
            ErrorKind::Corrupt => K::InvalidData,
            // Not `Interrupted`: std's read and write loops retry that forever.
            ErrorKind::Cancelled
            | ErrorKind::LimitExceeded
            | ErrorKind::RateLimited
            | ErrorKind::Unavailable
            | ErrorKind::PreconditionFailed
            | ErrorKind::Io
            | ErrorKind::Other => K::Other,
        }
    }

    /// The closest `ErrorKind` for an [`io::ErrorKind`].
    pub fn from_io(kind: io::ErrorKind) -> ErrorKind {
        use io::ErrorKind as K;
        match kind {
            K::NotFound => ErrorKind::NotFound,
            K::PermissionDenied | K::ReadOnlyFilesystem => ErrorKind::PermissionDenied,
            K::AlreadyExists => ErrorKind::AlreadyExists,
            K::InvalidInput | K::InvalidFilename => ErrorKind::InvalidInput,
            K::InvalidData => ErrorKind::Corrupt,
            K::TimedOut => ErrorKind::TimedOut,
            K::Unsupported => ErrorKind::Unsupported,
            K::IsADirectory => ErrorKind::IsADirectory,
            K::NotADirectory => ErrorKind::NotADirectory,
            K::DirectoryNotEmpty => ErrorKind::DirectoryNotEmpty,
            _ => ErrorKind::Io,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an `io::ErrorKind` usually passes if the operation is tried again.
fn io_kind_is_temporary(kind: io::ErrorKind) -> bool {
    use io::ErrorKind as K;
    matches!(
        kind,
        K::Interrupted
            | K::WouldBlock
            | K::TimedOut
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::ConnectionRefused
            | K::BrokenPipe
            | K::NotConnected
            | K::UnexpectedEof
            | K::ResourceBusy
    )
}

/// The error type of every fallible operation in this crate.
///
/// An [`Error`] is one pointer wide (its contents are boxed), carries an [`ErrorKind`] that
/// callers match on, and the context that makes a message useful: the operation, the path and
/// the backend it happened on, a message, whether retrying may help, and the error that caused
/// it (a real [`source()`](std::error::Error::source) chain).
///
/// It converts losslessly to and from [`std::io::Error`]: an `Error` that travels through a
/// `Read`/`Write` adapter as an `io::Error` comes back out as the very same `Error`, and an
/// `io::Error` that becomes an `Error` keeps its `io::ErrorKind`.
///
/// ```
/// use omnistorage::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::NotFound, "no such object")
///     .with_operation("read")
///     .with_path("logs/app.log")
///     .with_backend("mem")
///     .with_source(std::io::Error::other("the bucket is empty"));
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// // `Display` describes this error only; `source()` gives the cause, and
/// // `display_chain()` prints the whole chain.
/// assert_eq!(err.to_string(), "mem: read logs/app.log: not found: no such object");
/// assert_eq!(
///     err.display_chain().to_string(),
///     "mem: read logs/app.log: not found: no such object: the bucket is empty"
/// );
///
/// // Through std::io and back: nothing is lost.
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
/// let back = Error::from(io);
/// assert_eq!(back.path(), Some("logs/app.log"));
/// ```
///
/// Build one with [`Error::new`] and the `with_*` methods; backends from other crates use the
/// same constructors.
///
/// `Clone` is cheap (the source is shared): a writer keeps its first failure for `finish` and
/// gives the caller the same error.
#[derive(Clone)]
pub struct Error(Box<Inner>);

type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    operation: Option<&'static str>,
    path: Option<String>,
    backend: Option<Cow<'static, str>>,
    message: Option<Cow<'static, str>>,
    temporary: bool,
    /// How many times the operation was tried again before this error was given up on
    /// (0: not retried). See [`Error::is_persistent`].
    retries: u32,
    /// The `io::ErrorKind` this error came from, kept so the trip back is lossless.
    io_kind: Option<io::ErrorKind>,
    source: Option<Source>,
}

impl Error {
    /// A new error of `kind` with a message. Temporary if the kind is
    /// ([`ErrorKind::is_temporary_by_default`]).
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Error {
        let mut err = Error::from_kind(kind);
        err.0.message = Some(message.into());
        err
    }

    /// A new error of `kind` with no message.
    pub fn from_kind(kind: ErrorKind) -> Error {
        Error(Box::new(Inner {
            kind,
            operation: None,
            path: None,
            backend: None,
            message: None,
            temporary: kind.is_temporary_by_default(),
            retries: 0,
            io_kind: None,
            source: None,
        }))
    }

    /// Shorthand for an [`ErrorKind::Unsupported`] error naming the operation.
    pub fn unsupported(operation: &'static str) -> Error {
        Error::new(ErrorKind::Unsupported, "not supported by this backend")
            .with_operation(operation)
    }

    /// Shorthand for an [`ErrorKind::Closed`] error naming the operation.
    pub fn closed(operation: &'static str) -> Error {
        Error::new(ErrorKind::Closed, "the backend is closed").with_operation(operation)
    }

    /// Sets the operation that failed (`"read"`, `"write"`, `"list"`, ...).
    pub fn with_operation(mut self, operation: &'static str) -> Error {
        self.0.operation = Some(operation);
        self
    }

    /// Sets the path the operation was about.
    pub fn with_path(mut self, path: impl Into<String>) -> Error {
        self.0.path = Some(path.into());
        self
    }

    /// Sets the backend's name (`"file"`, `"mem"`, `"s3"`, ...).
    pub fn with_backend(mut self, backend: impl Into<Cow<'static, str>>) -> Error {
        self.0.backend = Some(backend.into());
        self
    }

    /// Sets the message.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Error {
        self.0.message = Some(message.into());
        self
    }

    /// Sets the underlying cause, returned by [`source()`](std::error::Error::source).
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        self.0.source = Some(Arc::from(source.into()));
        self
    }

    /// Says whether trying again may succeed (this drives retries).
    pub fn with_temporary(mut self, temporary: bool) -> Error {
        self.0.temporary = temporary;
        self
    }

    /// Says that the operation was already tried again `retries` times, each failing, before
    /// this error was given up on: a temporary error with retries is
    /// [persistent](Error::is_persistent), and layers above do not retry it once more.
    /// [`Display`](std::fmt::Display) says so. The one retry loop sets it when it gives up;
    /// a backend with a retry loop of its own (another crate's, say) sets it the same way.
    ///
    /// ```
    /// use omnistorage::{Error, ErrorKind};
    ///
    /// let err = Error::new(ErrorKind::Io, "503 Slow Down").with_temporary(true).with_retries(4);
    /// assert!(err.is_temporary() && err.is_persistent());
    /// assert_eq!(err.retries(), 4);
    /// assert_eq!(err.to_string(), "i/o error: 503 Slow Down (retried 4 times)");
    /// ```
    pub fn with_retries(mut self, retries: u32) -> Error {
        self.0.retries = retries;
        self
    }

    /// Fills in the operation, path and backend where they are not set yet. Backends call this
    /// on errors that come up from helpers, so that the innermost context wins.
    pub fn context(
        mut self,
        operation: &'static str,
        path: &str,
        backend: impl Into<Cow<'static, str>>,
    ) -> Error {
        let inner = &mut *self.0;
        inner.operation.get_or_insert(operation);
        if inner.path.is_none() {
            inner.path = Some(path.to_owned());
        }
        if inner.backend.is_none() {
            inner.backend = Some(backend.into());
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The operation that failed, if known.
    pub fn operation(&self) -> Option<&'static str> {
        self.0.operation
    }

    /// The path the operation was about, if known.
    pub fn path(&self) -> Option<&str> {
        self.0.path.as_deref()
    }

    /// The backend's name, if known.
    pub fn backend(&self) -> Option<&str> {
        self.0.backend.as_deref()
    }

    /// The message, if any.
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// Whether trying the same operation again may succeed: the nature of the failure (a
    /// timeout, a reset connection, a 503), whether or not it was retried already. See
    /// [`is_persistent`](Error::is_persistent) for whether retrying *now* is still useful.
    pub fn is_temporary(&self) -> bool {
        self.0.temporary
    }

    /// How many times the operation was tried again before this error was given up on (0:
    /// it was not retried). See [`with_retries`](Error::with_retries).
    pub fn retries(&self) -> u32 {
        self.0.retries
    }

    /// Whether this error is temporary but persisted through the retries of the layer that
    /// returned it (OpenDAL calls such an error *persistent*): the backend already tried
    /// again [`retries`](Error::retries) times, so a caller's own retry loop does not try
    /// once more, which would multiply the attempts. A later, separate attempt (the sync
    /// engine's whole-run retry, a user running the command again) may still succeed.
    pub fn is_persistent(&self) -> bool {
        self.0.temporary && self.0.retries > 0
    }

    /// This error followed by its chain of sources, as `a: b: c`, for people to read. An
    /// `Error`'s own `Display` describes itself only (the convention of std-style crates:
    /// whoever prints walks the chain).
    pub fn display_chain(&self) -> impl fmt::Display + '_ {
        DisplayChain(self)
    }

    /// The [`io::ErrorKind`] this error maps to: the original one if it came from an
    /// `io::Error`, otherwise [`ErrorKind::to_io`].
    pub fn io_kind(&self) -> io::ErrorKind {
        self.0.io_kind.unwrap_or_else(|| self.0.kind.to_io())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        let mut d = f.debug_struct("Error");
        d.field("kind", &inner.kind);
        if let Some(op) = inner.operation {
            d.field("operation", &op);
        }
        if let Some(path) = &inner.path {
            d.field("path", path);
        }
        if let Some(backend) = &inner.backend {
            d.field("backend", backend);
        }
        if let Some(message) = &inner.message {
            d.field("message", message);
        }
        d.field("temporary", &inner.temporary);
        if inner.retries > 0 {
            d.field("retries", &inner.retries);
        }
        if let Some(source) = &inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

struct DisplayChain<'a>(&'a Error);

impl fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut last = self.0.to_string();
        let mut next = std::error::Error::source(self.0);
        while let Some(err) = next {
            let text = err.to_string();
            // An `io::Error` that wraps an error displays as it: skip the repeat.
            if text != last && !text.is_empty() {
                write!(f, ": {text}")?;
            }
            last = text;
            next = err.source();
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    /// `backend: operation path: kind: message`, leaving out what is unknown, and
    /// `(retried N times)` after an error given up on after retries. The root (an empty
    /// path) shows as `/`. The source is not repeated here: see [`Error::display_chain`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        if let Some(backend) = &inner.backend {
            write!(f, "{backend}: ")?;
        }
        let path = inner
            .path
            .as_deref()
            .map(|p| if p.is_empty() { "/" } else { p });
        match (inner.operation, path) {
            (Some(op), Some(path)) => write!(f, "{op} {path}: ")?,
            (Some(op), None) => write!(f, "{op}: ")?,
            (None, Some(path)) => write!(f, "{path}: ")?,
            (None, None) => {}
        }
        f.write_str(inner.kind.as_str())?;
        if let Some(message) = &inner.message {
            write!(f, ": {message}")?;
        }
        match inner.retries {
            0 => Ok(()),
            1 => f.write_str(" (retried once)"),
            n => write!(f, " (retried {n} times)"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.source {
            Some(source) => Some(&**source),
            None => None,
        }
    }
}

impl From<io::Error> for Error {
    /// Unwraps an `Error` that travelled inside an `io::Error`; otherwise maps the kind, keeps
    /// the original `io::ErrorKind`, and keeps the `io::Error` as the source.
    fn from(err: io::Error) -> Error {
        if err.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(inner) = err.into_inner() {
                match inner.downcast::<Error>() {
                    Ok(ours) => return *ours,
                    // Unreachable after the `is` check above, but handled without a panic.
                    Err(other) => {
                        return Error::new(ErrorKind::Io, "i/o error").with_source(other);
                    }
                }
            }
            return Error::from_kind(ErrorKind::Io);
        }
        let io_kind = err.kind();
        let mut ours = Error::from_kind(ErrorKind::from_io(io_kind));
        ours.0.temporary = io_kind_is_temporary(io_kind);
        ours.0.io_kind = Some(io_kind);
        ours.0.source = Some(Arc::new(err));
        ours
    }
}

impl From<Error> for io::Error {
    /// Wraps the `Error` whole, so that [`Error::from`] gets it back unchanged.
    fn from(err: Error) -> io::Error {
        io::Error::new(err.io_kind(), err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_shows_as_a_slash() {
        let root = Error::new(ErrorKind::InvalidPath, "the root is not an object")
            .context("read", "", "mem");
        assert_eq!(
            root.to_string(),
            "mem: read /: invalid path: the root is not an object"
        );
        let bare = Error::new(ErrorKind::NotFound, "gone").with_path("");
        assert_eq!(bare.to_string(), "/: not found: gone");
        let other = Error::new(ErrorKind::NotFound, "gone").with_path("a/b");
        assert_eq!(other.to_string(), "a/b: not found: gone");
    }
    use std::error::Error as _;

    #[test]
    fn is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn display_includes_all_context() {
        let err = Error::new(ErrorKind::PermissionDenied, "outside the root")
            .with_operation("write")
            .with_path("a/b")
            .with_backend("file")
            .with_source(io::Error::other("inner cause"));
        assert_eq!(
            err.to_string(),
            "file: write a/b: permission denied: outside the root"
        );
        assert_eq!(
            err.display_chain().to_string(),
            "file: write a/b: permission denied: outside the root: inner cause"
        );
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("inner cause")
        );
    }

    #[test]
    fn a_chain_prints_each_cause_once() {
        // An OS error under our error under an io::Error (as when it crossed a `Read`), under
        // another error of ours: each text once, outermost first.
        let os = io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer");
        let inner = Error::new(ErrorKind::Io, "part 3 failed").with_source(os);
        let crossed: io::Error = inner.into();
        let outer = Error::new(ErrorKind::Io, "upload failed")
            .with_path("big.bin")
            .with_source(crossed);
        assert_eq!(outer.to_string(), "big.bin: i/o error: upload failed");
        assert_eq!(
            outer.display_chain().to_string(),
            "big.bin: i/o error: upload failed: i/o error: part 3 failed: connection reset by peer"
        );
        // Without a source, the chain is the error itself.
        let lone = Error::from_kind(ErrorKind::NotFound);
        assert_eq!(lone.display_chain().to_string(), lone.to_string());
    }

    #[test]
    fn clones_share_the_source() {
        let err = Error::from(io::Error::new(io::ErrorKind::TimedOut, "slow"));
        let copy = err.clone();
        assert_eq!(copy.kind(), ErrorKind::TimedOut);
        assert!(copy.is_temporary());
        assert_eq!(copy.io_kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            copy.source().map(|s| s.to_string()).as_deref(),
            Some("slow")
        );
    }

    #[test]
    fn io_roundtrip_returns_the_same_error() {
        let err = Error::new(ErrorKind::Corrupt, "bad frame")
            .with_path("x")
            .with_temporary(true);
        let io: io::Error = err.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        let back = Error::from(io);
        assert_eq!(back.kind(), ErrorKind::Corrupt);
        assert_eq!(back.path(), Some("x"));
        assert_eq!(back.message(), Some("bad frame"));
        assert!(back.is_temporary());
        // And the wrapped error is not wrapped twice on the next trip.
        let io2: io::Error = back.into();
        assert!(io2.get_ref().is_some_and(|e| e.is::<Error>()));
        assert!(io2.get_ref().and_then(|e| e.source()).is_none());
    }

    #[test]
    fn io_error_keeps_its_kind_both_ways() {
        for kind in [
            io::ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied,
            io::ErrorKind::StorageFull,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::UnexpectedEof,
            io::ErrorKind::Interrupted,
        ] {
            let ours = Error::from(io::Error::new(kind, "x"));
            let back: io::Error = ours.into();
            assert_eq!(back.kind(), kind);
        }
    }

    #[test]
    fn io_kinds_map_to_ours() {
        let cases = [
            (io::ErrorKind::NotFound, ErrorKind::NotFound, false),
            (
                io::ErrorKind::PermissionDenied,
                ErrorKind::PermissionDenied,
                false,
            ),
            (
                io::ErrorKind::AlreadyExists,
                ErrorKind::AlreadyExists,
                false,
            ),
            (io::ErrorKind::InvalidData, ErrorKind::Corrupt, false),
            (io::ErrorKind::TimedOut, ErrorKind::TimedOut, true),
            (io::ErrorKind::ConnectionReset, ErrorKind::Io, true),
            (io::ErrorKind::StorageFull, ErrorKind::Io, false),
            (
                io::ErrorKind::DirectoryNotEmpty,
                ErrorKind::DirectoryNotEmpty,
                false,
            ),
        ];
        for (io_kind, kind, temporary) in cases {
            let err = Error::from(io::Error::new(io_kind, "x"));
            assert_eq!(err.kind(), kind, "{io_kind:?}");
            assert_eq!(err.is_temporary(), temporary, "{io_kind:?}");
        }
    }

    #[test]
    fn cancelled_is_not_interrupted() {
        // std's loops (read_to_end, write_all) retry `Interrupted` forever.
        assert_ne!(ErrorKind::Cancelled.to_io(), io::ErrorKind::Interrupted);
        let io: io::Error = Error::from_kind(ErrorKind::Cancelled).into();
        assert_eq!(Error::from(io).kind(), ErrorKind::Cancelled);
    }

    #[test]
    fn context_fills_only_what_is_missing() {
        let err = Error::new(ErrorKind::NotFound, "m")
            .with_path("inner")
            .context("read", "outer", "mem");
        assert_eq!(err.path(), Some("inner"));
        assert_eq!(err.operation(), Some("read"));
        assert_eq!(err.backend(), Some("mem"));
    }

    #[test]
    fn a_retried_error_is_persistent_and_says_so() {
        let err = Error::new(ErrorKind::Io, "slow down")
            .with_path("a")
            .with_temporary(true);
        assert!(!err.is_persistent());
        assert_eq!(err.to_string(), "a: i/o error: slow down");
        let err = err.with_retries(1);
        assert!(err.is_persistent());
        assert_eq!(err.to_string(), "a: i/o error: slow down (retried once)");
        let err = err.with_retries(3);
        assert_eq!(err.to_string(), "a: i/o error: slow down (retried 3 times)");
        // Through std::io and back, the count is kept.
        let back = Error::from(io::Error::from(err));
        assert_eq!((back.retries(), back.is_persistent()), (3, true));
        // A permanent error that came after retries is not persistent, only permanent.
        let permanent = back.with_temporary(false);
        assert!(!permanent.is_persistent());
    }

    #[test]
    fn temporary_defaults_follow_the_kind() {
        assert!(Error::from_kind(ErrorKind::RateLimited).is_temporary());
        assert!(Error::from_kind(ErrorKind::TimedOut).is_temporary());
        assert!(Error::from_kind(ErrorKind::Unavailable).is_temporary());
        assert!(!Error::from_kind(ErrorKind::NotFound).is_temporary());
        assert!(
            !Error::from_kind(ErrorKind::NotFound)
                .with_temporary(false)
                .is_temporary()
        );
    }
}
