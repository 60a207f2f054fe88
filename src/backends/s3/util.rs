//! Small pure helpers: base64, XML scraps, times, hex, backoff.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Standard base64 with padding (for `Content-MD5`).
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lower-case hex.
pub(crate) fn hex(data: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The MD5 of `data`.
pub(crate) fn md5(data: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(data).into()
}

/// The text of the first `<tag>...</tag>` in `xml`, unescaped.
pub(crate) fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    xml_tags(xml, tag).next()
}

/// The texts of every `<tag>...</tag>` in `xml`, unescaped, in order.
pub(crate) fn xml_tags<'a>(xml: &'a str, tag: &str) -> impl Iterator<Item = String> + 'a {
    xml_blocks(xml, tag).map(xml_unescape)
}

/// The XML blocks `<tag>...</tag>` (inner text, raw), in order.
pub(crate) fn xml_blocks<'a>(xml: &'a str, tag: &str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut rest = xml;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let len = rest[start..].find(&close)?;
        let text = &rest[start..start + len];
        rest = &rest[start + len + close.len()..];
        Some(text)
    })
}

pub(crate) fn xml_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// rclone's `mtime` metadata: seconds since the epoch with up to nine decimals
/// (`1700000000.123456789`). Times before the epoch are not representable.
pub(crate) fn format_mtime(t: SystemTime) -> Option<String> {
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
}

/// Parses rclone's `mtime` metadata (also accepts no fraction, or fewer digits, and the
/// exponent-free float forms other tools write).
pub(crate) fn parse_mtime(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
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
pub(crate) fn parse_rfc3339_seconds(s: &str) -> Option<SystemTime> {
    let t = SystemTime::from(s.parse::<jiff::Timestamp>().ok()?);
    let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Parses an HTTP date (`Last-Modified` header).
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s)
        .ok()
        .map(SystemTime::from)
}

/// The delay before retry number `attempt` (0-based): exponential from `base`, capped at `cap`,
/// with "full jitter" (a random point between half and all of it).
pub(crate) fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16)).min(cap);
    let half = exp / 2;
    let jitter_ns = (random_u64() % (half.as_nanos().max(1) as u64)) as u32;
    half + Duration::from_nanos(u64::from(jitter_ns))
}

/// A cheap, non-cryptographic random number (xorshift seeded from the clock and a counter).
pub(crate) fn random_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ nanos;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x | 1
}

/// An ETag without its quotes.
pub(crate) fn unquote_etag(s: &str) -> String {
    s.trim().trim_matches('"').to_owned()
}

/// Whether an ETag is a plain MD5 of the content (single-part, not encrypted with KMS).
pub(crate) fn etag_is_md5(etag: &str) -> bool {
    etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected, "{input}");
        }
    }

    #[test]
    fn md5_matches_rfc1321_vectors() {
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(&md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        // Content-MD5 of "abc", as AWS documents the header.
        assert_eq!(base64(&md5(b"abc")), "kAFQmDzST7DWlj99KOF/cg==");
    }

    #[test]
    fn xml_scraps() {
        let body = "<Error><Code>NoSuchKey</Code><Message>a &amp; b &lt;c&gt; &#x41;&#66;</Message></Error>";
        assert_eq!(xml_tag(body, "Code").as_deref(), Some("NoSuchKey"));
        assert_eq!(xml_tag(body, "Message").as_deref(), Some("a & b <c> AB"));
        assert_eq!(xml_tag(body, "Missing"), None);
        let list = "<R><Key>a</Key><Key>b&amp;c</Key></R>";
        assert_eq!(xml_tags(list, "Key").collect::<Vec<_>>(), ["a", "b&c"]);
        assert_eq!(xml_unescape("&bogus; & &amp"), "&bogus; & &amp");
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }

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
        assert_eq!(parse_mtime("-5"), None);
        assert_eq!(parse_mtime("1.2e3"), None);
        assert_eq!(parse_mtime(""), None);
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
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        for attempt in 0..20 {
            let d = backoff(attempt, base, cap);
            let full = base.saturating_mul(1 << attempt.min(16)).min(cap);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn etags() {
        assert_eq!(
            unquote_etag("\"d41d8cd98f00b204e9800998ecf8427e\""),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert!(etag_is_md5("d41d8cd98f00b204e9800998ecf8427e"));
        assert!(!etag_is_md5("d41d8cd98f00b204e9800998ecf8427e-2"));
    }
}
