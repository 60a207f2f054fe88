//! The S3 backend's XML parsers and the bodies it writes. The property is in
//! `tests/props/s3_xml.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::s3_xml::check(data);
    // ListParts (resumed uploads): what is accepted is usable — numbered parts with an
    // ETag, and a next marker that never goes back.
    let text = String::from_utf8_lossy(data);
    if let Some((parts, next)) = omnistorage::backends::s3::fuzzing::parts_page(&text) {
        assert!(parts.iter().all(|(n, etag, _)| *n > 0 && !etag.is_empty()));
        if let Some(next) = next {
            assert!(next > 0 && parts.iter().all(|(n, _, _)| *n <= next));
        }
    }
});
