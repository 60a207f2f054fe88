//! The S3 backend's XML parsers (`src/backends/s3/xml.rs`): no input makes them panic, and
//! what the backend writes (DeleteObjects bodies, `<Error>` documents) reads back unchanged.
//!
//! The input is read as UTF-8 with `String::from_utf8_lossy`. All of it goes to every parser;
//! then it is cut at NUL bytes into keys for the round trips.

use omnistorage::backends::s3::fuzzing;

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = fuzzing::error_body(&text);
    let _ = fuzzing::elements(&text);
    let _ = fuzzing::delete_errors(&text);
    let _ = fuzzing::uploads_page(&text);
    let _ = fuzzing::list_page(&text, 0);
    let _ = fuzzing::list_page(&text, data.first().map_or(0, |&b| usize::from(b % 8)));

    // Round trips, on text XML can carry (XML 1.0's characters).
    let keys: Vec<String> = text
        .split('\0')
        .map(|k| k.chars().filter(|&c| xml_char(c)).collect())
        .collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let body = fuzzing::delete_request(&refs);
    let elements = fuzzing::elements(&body).expect("our DeleteObjects body parses");
    let back: Vec<&str> = elements
        .iter()
        .filter(|(name, _)| name == "Key")
        .map(|(_, text)| text.as_str())
        .collect();
    assert_eq!(back, refs, "DeleteObjects keys round trip");

    let code = refs.first().copied().unwrap_or_default();
    let message = refs.get(1).copied().unwrap_or_default();
    let doc = format!(
        "<Error><Code>{}</Code><Message>{}</Message></Error>",
        escape(code),
        escape(message)
    );
    assert_eq!(
        fuzzing::error_body(&doc),
        Some((code.to_owned(), message.to_owned())),
        "an <Error> document round trips"
    );
    let complete = fuzzing::complete_request(&[(1, code), (2, message)]);
    assert!(fuzzing::elements(&complete).is_some(), "{complete:?}");
}

/// The characters XML 1.0 allows.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// An independent escaper (the backend's own is under test through `delete_request`).
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}
