//! What S3's answers mean: the one table from HTTP status and S3 error code to
//! [`ErrorKind`] and temporariness ([`classify`]), and the errors built from responses and
//! from transport failures (which keep ureq's error as their `source()`).

use super::xml::{self, ErrorBody};
use crate::error::{Error, ErrorKind};

pub(crate) const NAME: &str = "s3";

/// The error of an S3 error response: `what` is the request (`GetObject`, `copy`...), `status` its
/// HTTP status, `body` the response's text (empty for HEAD), `bucket` and `endpoint` for the
/// message where they are the likely cause.
pub(crate) fn from_response(
    what: &str,
    status: u16,
    body: &str,
    request_id: Option<&str>,
    bucket: &str,
    endpoint: &str,
) -> Error {
    let parsed = xml::parse_error(body).unwrap_or_default();
    from_body(what, status, &parsed, request_id, bucket, endpoint)
}

/// The error of an S3 `<Error>` body (also those that come with a 200).
pub(crate) fn from_body(
    what: &str,
    status: u16,
    body: &ErrorBody,
    request_id: Option<&str>,
    bucket: &str,
    endpoint: &str,
) -> Error {
    let ErrorBody { code, message } = body;
    let (kind, temporary, phrase) = classify(status, code, message);
    let mut text = format!("{what} {phrase}");
    if !code.is_empty() {
        text.push_str(&format!(" ({status} {code}"));
        if !message.is_empty() {
            text.push_str(&format!(": {message}"));
        }
        text.push(')');
    } else {
        text.push_str(&format!(" (HTTP {status})"));
    }
    if code == "NoSuchBucket" {
        text.push_str(&format!(": bucket {bucket:?}"));
    }
    if kind == ErrorKind::InvalidConfig {
        text.push_str(&format!(" at endpoint {endpoint}"));
    }
    if let Some(id) = request_id {
        text.push_str(&format!(" [request id {id}]"));
    }
    let err = Error::new(kind, text)
        .with_backend(NAME)
        .with_temporary(temporary);
    if code.is_empty() {
        err
    } else {
        err.with_source(S3Code(code.clone()))
    }
}

/// S3's error code, kept as the `source()` of the errors it caused so that callers in this
/// backend decide on the code ([`code_of`]), never on message text.
#[derive(Debug)]
pub(crate) struct S3Code(pub(crate) String);

impl std::fmt::Display for S3Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3 error code {}", self.0)
    }
}

impl std::error::Error for S3Code {}

/// The S3 error code behind `e`, if it came from an S3 error response.
pub(crate) fn code_of(e: &Error) -> Option<&str> {
    let source = std::error::Error::source(e)?;
    source.downcast_ref::<S3Code>().map(|c| c.0.as_str())
}

/// The error of a request that got no HTTP answer. ureq's error is kept as the source.
pub(crate) fn from_transport(method: &str, endpoint: &str, e: ureq::Error) -> Error {
    let (kind, temporary) = match &e {
        ureq::Error::Timeout(_) => (ErrorKind::TimedOut, true),
        ureq::Error::Io(io) => {
            let kind = ErrorKind::from_io(io.kind());
            (
                kind,
                kind.is_temporary_by_default() || is_connection_kind(io.kind()),
            )
        }
        ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => (ErrorKind::Io, true),
        ureq::Error::HostNotFound => (ErrorKind::Io, false),
        ureq::Error::BadUri(_) => (ErrorKind::InvalidConfig, false),
        _ => (ErrorKind::Io, false),
    };
    Error::new(kind, format!("{method} request to {endpoint} failed"))
        .with_backend(NAME)
        .with_temporary(temporary)
        .with_source(e)
}

/// Whether a request failed because the endpoint could not be reached at all: refused, no
/// route, name not resolved, connection not set up in time. Only these count against an
/// endpoint's health (a connection that breaks after it was set up may be the server
/// answering early and closing, as Garage does to a part for an aborted upload; if the
/// server is gone, the retry's new connection is refused and counts).
pub(crate) fn unreachable(e: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    match e {
        ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve),
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable
        ),
        _ => false,
    }
}

/// Connection-level failures that a new connection may not meet.
fn is_connection_kind(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::ConnectionReset
            | K::ConnectionAborted
            | K::ConnectionRefused
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::TimedOut
            | K::Interrupted
            | K::NotConnected
    )
}

/// What an error status and S3 code mean: the kind, whether a retry may help, and a phrase.
pub(crate) fn classify(status: u16, code: &str, message: &str) -> (ErrorKind, bool, &'static str) {
    use ErrorKind as K;
    match code {
        "NoSuchKey" => return (K::NotFound, false, "no such key"),
        "NoSuchBucket" => return (K::NotFound, false, "no such bucket"),
        "NoSuchUpload" => return (K::NotFound, false, "no such upload"),
        "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "TokenRefreshRequired" => return (K::Unauthenticated, false, "credentials refused"),
        // Garage answers a bad signature with AccessDenied "Invalid signature".
        "AccessDenied" if message.to_ascii_lowercase().contains("signature") => {
            return (K::Unauthenticated, false, "credentials refused");
        }
        "AccessDenied" | "AllAccessDisabled" | "AccountProblem" => {
            return (K::PermissionDenied, false, "access denied");
        }
        "PreconditionFailed" | "ConditionalRequestConflict" => {
            return (K::PreconditionFailed, false, "precondition failed");
        }
        "SlowDown" | "TooManyRequests" | "RequestLimitExceeded" | "Throttling" => {
            return (K::RateLimited, true, "slow down");
        }
        "RequestTimeout" | "RequestTimeTooSkewed" => {
            return (K::TimedOut, true, "request timed out");
        }
        "InternalError" | "ServiceUnavailable" | "OperationAborted" => {
            return (K::Io, true, "server error");
        }
        "BadDigest" | "InvalidDigest" => return (K::Corrupt, true, "content checksum mismatch"),
        "NotImplemented" => return (K::Unsupported, false, "not implemented by the server"),
        "AuthorizationHeaderMalformed"
        | "AuthorizationQueryParametersError"
        | "PermanentRedirect"
        | "IllegalLocationConstraintException" => {
            return (K::InvalidConfig, false, "wrong region or endpoint");
        }
        "EntityTooLarge" | "EntityTooSmall" | "InvalidArgument" | "InvalidRequest"
        | "InvalidPart" | "InvalidPartOrder" | "KeyTooLongError" | "MetadataTooLarge"
        | "InvalidBucketName" => return (K::InvalidInput, false, "request refused"),
        _ => {}
    }
    match status {
        400 => (K::InvalidInput, false, "bad request"),
        401 => (K::Unauthenticated, false, "unauthenticated"),
        403 => (K::PermissionDenied, false, "forbidden"),
        404 => (K::NotFound, false, "not found"),
        405 | 501 => (K::Unsupported, false, "not supported by the server"),
        408 => (K::TimedOut, true, "request timed out"),
        409 => (K::Io, false, "conflict"),
        412 => (K::PreconditionFailed, false, "precondition failed"),
        416 => (K::InvalidInput, false, "range not satisfiable"),
        429 => (K::RateLimited, true, "too many requests"),
        301 | 307 => (
            K::InvalidConfig,
            false,
            "redirected: wrong region or endpoint",
        ),
        500 | 502 | 503 | 504 => (K::Io, true, "server error"),
        _ => (K::Other, status >= 500, "unexpected status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_to_connect_make_an_endpoint_unreachable() {
        use std::io::{Error as Io, ErrorKind as K};
        let io = |k| ureq::Error::Io(Io::new(k, "x"));
        assert!(unreachable(&io(K::ConnectionRefused)));
        assert!(unreachable(&ureq::Error::Timeout(ureq::Timeout::Connect)));
        assert!(unreachable(&ureq::Error::ConnectionFailed));
        assert!(!unreachable(&io(K::BrokenPipe)), "an early answer, maybe");
        assert!(!unreachable(&io(K::ConnectionReset)));
        assert!(!unreachable(&ureq::Error::Timeout(
            ureq::Timeout::RecvResponse
        )));
    }

    #[test]
    fn classification_table() {
        use ErrorKind as K;
        let cases: &[(u16, &str, &str, K, bool)] = &[
            (404, "NoSuchKey", "", K::NotFound, false),
            (404, "NoSuchBucket", "", K::NotFound, false),
            (404, "", "", K::NotFound, false),
            (
                403,
                "AccessDenied",
                "Access Denied",
                K::PermissionDenied,
                false,
            ),
            (
                403,
                "AccessDenied",
                "Forbidden: Invalid signature",
                K::Unauthenticated,
                false,
            ),
            (403, "InvalidAccessKeyId", "", K::Unauthenticated, false),
            (403, "SignatureDoesNotMatch", "", K::Unauthenticated, false),
            (412, "PreconditionFailed", "", K::PreconditionFailed, false),
            (503, "SlowDown", "", K::RateLimited, true),
            (503, "", "", K::Io, true),
            (500, "InternalError", "", K::Io, true),
            (400, "RequestTimeout", "", K::TimedOut, true),
            (400, "BadDigest", "", K::Corrupt, true),
            (
                400,
                "AuthorizationHeaderMalformed",
                "",
                K::InvalidConfig,
                false,
            ),
            (501, "NotImplemented", "", K::Unsupported, false),
            (429, "", "", K::RateLimited, true),
            (301, "", "", K::InvalidConfig, false),
            (418, "", "", K::Other, false),
        ];
        for &(status, code, message, kind, temporary) in cases {
            let (k, t, _) = classify(status, code, message);
            assert_eq!((k, t), (kind, temporary), "{status} {code} {message}");
        }
    }

    #[test]
    fn codes_are_kept_as_the_source() {
        let body = "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>";
        let e = from_response("GET", 404, body, Some("r1"), "b", "http://e");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(code_of(&e), Some("NoSuchBucket"));
        assert!(e.to_string().contains("\"b\""), "{e}");
        let e = from_response("HEAD", 404, "", None, "b", "http://e");
        assert_eq!((e.kind(), code_of(&e)), (ErrorKind::NotFound, None));
    }
}
