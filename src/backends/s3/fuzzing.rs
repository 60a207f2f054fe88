//! The S3 response parsers, reachable for the fuzz targets (`fuzz/fuzz_targets/s3_*.rs`)
//! and their properties (`tests/props/s3_*.rs`). Not part of the API: no stability promise.

pub use super::meta::{format_mtime, parse_http_date, parse_mtime, parse_rfc3339_seconds};

/// An S3 `<Error>` body's code and message, if the text is one.
pub fn error_body(body: &str) -> Option<(String, String)> {
    super::xml::parse_error(body).map(|e| (e.code, e.message))
}

/// Every element's local name and text, depth first, if the text is a well-formed
/// document.
pub fn elements(body: &str) -> Option<Vec<(String, String)>> {
    let root = super::xml::parse(body).ok()?;
    let mut out = Vec::new();
    let mut stack = vec![&root];
    while let Some(e) = stack.pop() {
        out.push((e.name.clone(), e.text.clone()));
        stack.extend(e.children.iter().rev());
    }
    Some(out)
}

/// The body of a DeleteObjects request for `keys`.
pub fn delete_request(keys: &[&str]) -> String {
    super::xml::delete_request(keys.iter().copied())
}

/// The failed keys of a DeleteObjects result: `(key, code)`.
pub fn delete_errors(body: &str) -> Option<Vec<(String, String)>> {
    let root = super::xml::parse(body).ok()?;
    Some(
        super::xml::delete_errors(&root)
            .into_iter()
            .map(|e| (e.key, e.code))
            .collect(),
    )
}

/// The body of a CompleteMultipartUpload request.
pub fn complete_request(parts: &[(u32, &str)]) -> String {
    super::xml::complete_request(parts.iter().copied())
}

/// A ListMultipartUploads page: `(key, upload id)` and whether it is truncated.
pub fn uploads_page(body: &str) -> Option<(Vec<(String, String)>, bool)> {
    let root = super::xml::parse(body).ok()?;
    let page = super::xml::uploads_page(&root).ok()?;
    Some((
        page.uploads.into_iter().map(|(k, i, _)| (k, i)).collect(),
        page.next.is_some(),
    ))
}

/// A ListParts page: `(part number, ETag, size)` per part, and the next marker.
#[allow(clippy::type_complexity)]
pub fn parts_page(body: &str) -> Option<(Vec<(u32, String, u64)>, Option<u32>)> {
    let root = super::xml::parse(body).ok()?;
    let page = super::xml::parts_page(&root).ok()?;
    let parts = page.parts.into_iter().map(|p| (p.number, p.etag, p.size));
    Some((parts.collect(), page.next))
}

/// A ListObjectsV2 page under a root of `root_len` bytes: `(path, is_dir, size)` per
/// entry that is valid (in listing order), and the continuation token.
#[allow(clippy::type_complexity)]
pub fn list_page(
    body: &str,
    root_len: usize,
) -> Option<(Vec<(String, bool, u64)>, Option<String>)> {
    let page = super::list::parse_page(body, root_len).ok()?;
    let items = page
        .items
        .into_iter()
        .filter_map(|i| i.ok())
        .map(|l| (l.entry.path.to_string(), l.entry.is_dir, l.entry.size))
        .collect();
    Some((items, page.next))
}
