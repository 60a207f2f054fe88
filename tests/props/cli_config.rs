//! The CLI's config parsers (`src/bin/omnistorage/config/`, included here by path since
//! they belong to the binary): no text makes the TOML or rclone.conf parser panic; what the
//! TOML parser reads, written back, reads the same; every table the INI parser returns has
//! a name and unique keys; rclone's `obscure` round-trips any value and `reveal` never
//! panics.
//!
//! Input: byte 0 picks what the text is fed to first; the whole input as lossy UTF-8 is the
//! text (and, cut at the first `\n`, a value to obscure).

#[allow(dead_code)]
#[path = "../../src/bin/omnistorage/config/ini.rs"]
mod ini;
#[allow(dead_code)]
#[path = "../../src/bin/omnistorage/config/obscure.rs"]
pub mod obscure;
#[allow(dead_code)]
#[path = "../../src/bin/omnistorage/config/toml.rs"]
mod toml;

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);

    if let Ok(tables) = toml::parse(&text) {
        let written = toml::write(&tables);
        let again = toml::parse(&written)
            .unwrap_or_else(|e| panic!("written TOML does not parse: {e}\n{written}"));
        assert_eq!(again, tables, "TOML round trip\n{written}");
    }

    if let Ok(sections) = ini::parse(&text) {
        for (i, s) in sections.iter().enumerate() {
            assert!(!s.name.is_empty(), "an empty section name");
            assert!(
                sections[..i].iter().all(|o| o.name != s.name),
                "section {:?} twice",
                s.name
            );
            for (j, (k, _)) in s.entries.iter().enumerate() {
                assert!(!k.is_empty(), "an empty key");
                assert!(
                    s.entries[..j].iter().all(|(o, _)| o != k),
                    "key {k:?} twice"
                );
            }
        }
    }

    let value = text.split('\n').next().unwrap_or_default();
    let mut iv = [0u8; 16];
    for (slot, b) in iv.iter_mut().zip(data) {
        *slot = *b;
    }
    let obscured = obscure::obscure_with_iv(value, iv);
    assert_eq!(
        obscure::reveal(&obscured).ok().as_deref(),
        Some(value),
        "obscure round trip"
    );
    let _ = obscure::reveal(value);
}
