//! Object metadata on the wire: `WriteOptions` as signed headers, a HEAD response as an
//! [`Entry`], and the formats S3 tools agree on (rclone's `mtime` and `md5chksum`, ETags,
//! HTTP and RFC 3339 dates).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::client::{self, Response};
use crate::entry::{Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind};
use crate::options::WriteOptions;
use crate::path::Path;

/// The user metadata key of the modification time (rclone's).
pub(crate) const MTIME: &str = "mtime";
/// The user metadata key of a multipart object's whole MD5, base64 (rclone's).
pub(crate) const MD5CHKSUM: &str = "md5chksum";

/// `opts` as signed headers: content type, `x-amz-meta-*`, rclone's `mtime`, and `md5chksum`
/// when the whole object's MD5 is known before it is stored (multipart uploads).
pub(crate) fn object_headers(
    opts: &WriteOptions,
    md5: Option<&Hash>,
) -> Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    if let Some(ct) = &opts.content_type {
        check_header_value("content type", ct)?;
        headers.push(("content-type".to_owned(), ct.clone()));
    }
    for (k, v) in &opts.metadata {
        let key = k.to_ascii_lowercase();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("metadata key {k:?}: use ASCII letters, digits, '-', '_' and '.'"),
            ));
        }
        if (key == MTIME && opts.modified.is_some()) || (key == MD5CHKSUM && md5.is_some()) {
            continue;
        }
        check_header_value("metadata value", v)?;
        headers.push((format!("x-amz-meta-{key}"), v.clone()));
    }
    if let Some(modified) = opts.modified {
        let mtime = format_mtime(modified).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "modification times before 1970 cannot be stored",
            )
        })?;
        headers.push((format!("x-amz-meta-{MTIME}"), mtime));
    }
    if let Some(md5) = md5 {
        headers.push((format!("x-amz-meta-{MD5CHKSUM}"), md5.to_base64()));
    }
    Ok(headers)
}

fn check_header_value(what: &str, v: &str) -> Result<()> {
    if v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what} {v:?}: S3 keeps only printable ASCII in headers"),
        ))
    }
}

/// What a HEAD answers, as plain values (so that it can be tested without a response).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) size: u64,
    pub(crate) content_type: Option<String>,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<SystemTime>,
    /// `x-amz-meta-*`, names lower-cased, `mtime` and `md5chksum` included.
    pub(crate) meta: BTreeMap<String, String>,
    /// The other stored headers a copy with new metadata must send again
    /// ([`KEPT_HEADERS`]).
    pub(crate) kept: Vec<(String, String)>,
}

/// Stored headers besides the content type that a metadata `REPLACE` would otherwise lose.
pub(crate) const KEPT_HEADERS: [&str; 5] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

impl Head {
    /// Reads the headers of a HEAD (or GET) response.
    pub(crate) fn from_response(resp: &Response) -> Head {
        let mut meta = BTreeMap::new();
        for (name, value) in resp.headers() {
            if let Some(key) = name.as_str().strip_prefix("x-amz-meta-")
                && let Ok(value) = value.to_str()
            {
                meta.insert(key.to_ascii_lowercase(), value.to_owned());
            }
        }
        Head {
            size: client::header(resp, "content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            content_type: client::header(resp, "content-type"),
            etag: client::header(resp, "etag").map(|e| unquote_etag(&e)),
            last_modified: client::header(resp, "last-modified").and_then(|v| parse_http_date(&v)),
            meta,
            kept: KEPT_HEADERS
                .iter()
                .filter_map(|name| Some(((*name).to_owned(), client::header(resp, name)?)))
                .collect(),
        }
    }

    /// The signed headers that store this object's content type, metadata and kept headers
    /// again, with `modified` as its new modification time.
    pub(crate) fn replace_headers(&self, modified: SystemTime) -> Result<Vec<(String, String)>> {
        let mut opts = WriteOptions::new().modified(modified);
        opts.content_type = self.content_type.clone();
        opts.metadata = self
            .meta
            .iter()
            .filter(|(k, _)| *k != MTIME)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut headers = object_headers(&opts, None)?;
        headers.extend(self.kept.iter().cloned());
        Ok(headers)
    }

    /// The stored modification time, if any.
    pub(crate) fn stored_mtime(&self) -> Option<SystemTime> {
        self.meta.get(MTIME).and_then(|v| parse_mtime(v))
    }

    /// The trusted MD5: the ETag of a single-part object, else rclone's `md5chksum`.
    pub(crate) fn md5(&self) -> Option<Hash> {
        self.etag.as_deref().and_then(etag_md5).or_else(|| {
            let text = self.meta.get(MD5CHKSUM)?;
            Hash::from_base64(HashKind::Md5, text).ok()
        })
    }

    /// The entry at `path`, with every field filled. With `server_time`, the modification
    /// time is `Last-Modified` even when a stored one exists; otherwise the stored time, and
    /// `Last-Modified` for objects written without one.
    pub(crate) fn entry(&self, path: &Path, server_time: bool) -> Entry {
        let modified = if server_time {
            self.last_modified
        } else {
            self.stored_mtime().or(self.last_modified)
        };
        let metadata = self
            .meta
            .iter()
            .filter(|(k, _)| *k != MTIME && *k != MD5CHKSUM)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut entry = Entry::file(path.clone(), self.size)
            .with_modified(modified)
            .with_content_type(self.content_type.clone())
            .with_metadata(metadata)
            .with_etag(self.etag.clone())
            .with_filled(Fields::ALL);
        if let Some(md5) = self.md5() {
            entry = entry.with_hash(md5);
        }
        entry
    }
}

/// The MD5 an ETag is, when it is one (a single-part object not encrypted with KMS).
pub(crate) fn etag_md5(etag: &str) -> Option<Hash> {
    if etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit()) {
        Hash::from_hex(HashKind::Md5, etag).ok()
    } else {
        None
    }
}

/// An ETag without its quotes.
pub(crate) fn unquote_etag(s: &str) -> String {
    s.trim().trim_matches('"').to_owned()
}

/// rclone's `mtime` metadata: seconds since the epoch with up to nine decimals
/// (`1700000000.123456789`). Times before the epoch are not representable.
pub fn format_mtime(t: SystemTime) -> Option<String> {
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
}

/// Parses rclone's `mtime` metadata (also accepts no fraction, or fewer or more digits).
pub fn parse_mtime(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = secs.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos = 0u32;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
    }
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// Parses an RFC 3339 time (`ListObjectsV2`'s `LastModified`), cut to whole seconds so that
/// it agrees with the `Last-Modified` header of a HEAD.
pub fn parse_rfc3339_seconds(s: &str) -> Option<SystemTime> {
    let t = SystemTime::from(s.parse::<jiff::Timestamp>().ok()?);
    let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Parses an HTTP date (`Last-Modified` header), with jiff's RFC 2822 parser.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s)
        .ok()
        .map(SystemTime::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtime_round_trips_like_rclone() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        assert_eq!(format_mtime(t).as_deref(), Some("1700000000.123456789"));
        assert_eq!(parse_mtime("1700000000.123456789"), Some(t));
        assert_eq!(
            parse_mtime("1700000000"),
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        assert_eq!(
            parse_mtime("1700000000.5"),
            Some(UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000))
        );
        assert_eq!(
            parse_mtime("1700000000.1234567891"),
            Some(UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789))
        );
        for bad in ["-5", "+5", "1.2e3", "", ".5"] {
            assert_eq!(parse_mtime(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_parse() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_rfc3339_seconds("2023-11-14T22:13:20.789Z"), Some(t));
        assert_eq!(parse_rfc3339_seconds("yesterday"), None);
    }

    #[test]
    fn md5_comes_from_the_etag_or_md5chksum() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        assert!(etag_md5(md5).is_some());
        assert!(etag_md5(&format!("{md5}-2")).is_none());
        let mut head = Head {
            etag: Some(format!("{md5}-2")),
            ..Head::default()
        };
        assert_eq!(head.md5(), None, "a multipart ETag is not an MD5");
        let hash = Hash::from_hex(HashKind::Md5, md5).unwrap();
        head.meta.insert(MD5CHKSUM.into(), hash.to_base64());
        head.meta.insert(MTIME.into(), "1.5".into());
        head.meta.insert("owner".into(), "ops".into());
        assert_eq!(head.md5(), Some(hash));
        let e = head.entry(&Path::parse("a").unwrap(), false);
        assert_eq!(e.hash(HashKind::Md5), Some(hash));
        assert_eq!(e.etag.as_deref(), Some(&*format!("{md5}-2")));
        assert_eq!(e.filled, Fields::ALL);
        assert_eq!(e.metadata.keys().collect::<Vec<_>>(), ["owner"]);
        assert_eq!(e.modified, Some(UNIX_EPOCH + Duration::from_millis(1500)));
    }

    #[test]
    fn headers_carry_mtime_and_md5chksum() {
        let opts = WriteOptions::new()
            .metadata("Owner", "ops")
            .metadata("mtime", "ignored")
            .modified(UNIX_EPOCH + Duration::from_secs(2));
        let md5 = Hash::from_hex(HashKind::Md5, "d41d8cd98f00b204e9800998ecf8427e").unwrap();
        let h = object_headers(&opts, Some(&md5)).unwrap();
        assert!(h.contains(&("x-amz-meta-owner".into(), "ops".into())));
        assert!(h.contains(&("x-amz-meta-mtime".into(), "2.000000000".into())));
        assert!(h.contains(&(
            "x-amz-meta-md5chksum".into(),
            "1B2M2Y8AsgTpgAmY7PhCfg==".into()
        )));
        assert_eq!(h.len(), 3);
        let bad = WriteOptions::new().metadata("a b", "x");
        assert_eq!(
            object_headers(&bad, None).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
