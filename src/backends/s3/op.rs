//! The S3 operations the backend sends: each one's HTTP method, its name (in messages), and
//! whether it is safe to send again, which decides whether the client retries it.

use super::client::Method;

/// One S3 API operation. A [`Request`](super::client::Request) is made for one, and the
/// backend's functions that send them are named after them (`put_object`, `list_parts`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    GetObject,
    HeadObject,
    PutObject,
    DeleteObject,
    /// `POST /?delete`.
    DeleteObjects,
    ListObjectsV2,
    /// `POST /key?uploads`.
    CreateMultipartUpload,
    UploadPart,
    /// `POST /key?uploadId=`.
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListMultipartUploads,
    ListParts,
    /// PUT with `x-amz-copy-source`.
    CopyObject,
    /// PUT of a part with `x-amz-copy-source`.
    UploadPartCopy,
}

impl Op {
    /// The HTTP method of the operation.
    pub(crate) fn method(self) -> Method {
        match self {
            Op::GetObject | Op::ListObjectsV2 | Op::ListMultipartUploads | Op::ListParts => {
                Method::Get
            }
            Op::HeadObject => Method::Head,
            Op::PutObject | Op::UploadPart | Op::CopyObject | Op::UploadPartCopy => Method::Put,
            Op::DeleteObject | Op::AbortMultipartUpload => Method::Delete,
            Op::DeleteObjects | Op::CreateMultipartUpload | Op::CompleteMultipartUpload => {
                Method::Post
            }
        }
    }

    /// The operation's name in the S3 API (`PutObject`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::PutObject => "PutObject",
            Op::DeleteObject => "DeleteObject",
            Op::DeleteObjects => "DeleteObjects",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::CreateMultipartUpload => "CreateMultipartUpload",
            Op::UploadPart => "UploadPart",
            Op::CompleteMultipartUpload => "CompleteMultipartUpload",
            Op::AbortMultipartUpload => "AbortMultipartUpload",
            Op::ListMultipartUploads => "ListMultipartUploads",
            Op::ListParts => "ListParts",
            Op::CopyObject => "CopyObject",
            Op::UploadPartCopy => "UploadPartCopy",
        }
    }

    /// Whether sending the request twice leaves the store as sending it once, so that the
    /// client may send it again after a failure whose answer it did not get. By method: GET,
    /// HEAD, PUT and DELETE are (a PUT replaces the whole object or part, a DELETE of what is
    /// gone succeeds). POST by operation: DeleteObjects is (it deletes keys); a second
    /// CreateMultipartUpload creates a second upload, and a second CompleteMultipartUpload
    /// finds the upload gone, so neither is repeated blindly: their callers retry them with
    /// the check that makes it safe ([`Request::repeat_safely`](super::client::Request::repeat_safely)).
    pub(crate) fn idempotent(self) -> bool {
        match self.method() {
            Method::Get | Method::Head | Method::Put | Method::Delete => true,
            Method::Post => self == Op::DeleteObjects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_follows_the_method_and_for_post_the_operation() {
        let all = [
            Op::GetObject,
            Op::HeadObject,
            Op::PutObject,
            Op::DeleteObject,
            Op::DeleteObjects,
            Op::ListObjectsV2,
            Op::CreateMultipartUpload,
            Op::UploadPart,
            Op::CompleteMultipartUpload,
            Op::AbortMultipartUpload,
            Op::ListMultipartUploads,
            Op::ListParts,
            Op::CopyObject,
            Op::UploadPartCopy,
        ];
        for op in all {
            let expected = !matches!(op, Op::CreateMultipartUpload | Op::CompleteMultipartUpload);
            assert_eq!(op.idempotent(), expected, "{}", op.name());
            if op.method() != Method::Post {
                assert!(op.idempotent(), "{}: by its method", op.name());
            }
        }
    }
}
