//! ListObjectsV2 pages (the backend's XML parser and its mapping to entries,
//! `src/backends/s3/list.rs`): no input makes it panic, and a page written from a set of
//! keys lists exactly the keys that are valid paths, in byte order, with their sizes.
//!
//! The input is read as UTF-8 with `String::from_utf8_lossy`, parsed as a page, then cut at
//! newlines into keys for the round trip.

use omnistorage::Path;
use omnistorage::backends::s3::fuzzing;

const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = fuzzing::list_page(&text, 0);

    let mut keys: Vec<String> = text
        .split('\n')
        .map(|k| {
            k.chars()
                .filter(|c| !c.is_control() && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
                .collect()
        })
        .collect();
    keys.sort();
    keys.dedup();
    let mut body = format!("<ListBucketResult xmlns=\"{NS}\"><IsTruncated>false</IsTruncated>");
    for (i, key) in keys.iter().enumerate() {
        body.push_str(&format!(
            "<Contents><Key>{}</Key><Size>{}</Size></Contents>",
            escape(key),
            i + 1
        ));
    }
    body.push_str("</ListBucketResult>");
    let (items, next) = fuzzing::list_page(&body, 0).expect("a well-formed page parses");
    assert_eq!(next, None);
    let expected: Vec<(String, bool, u64)> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !k.is_empty() && Path::parse(k.as_str()).is_ok())
        .map(|(i, k)| (k.clone(), false, i as u64 + 1))
        .collect();
    assert_eq!(
        items, expected,
        "the listed entries are the valid keys, in order"
    );
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
