//! Names that other layers like to mangle: spaces, `%`, `#?&=+`, Unicode, punctuation,
//! depth.

use super::support::*;
use crate::{Backend, BackendExt};

fn names_roundtrip(b: &dyn Backend, paths: &[&str]) -> Outcome {
    need_rw(b)?;
    for path in paths {
        roundtrip(b, path, path.as_bytes());
        assert!(b.contains(*path).expect("exists"), "{path}");
    }
    if caps(b).list {
        let mut expected: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names(b, ""), expected);
    }
    Ok(())
}

/// Spaces (leading, trailing, inner) are kept byte for byte.
pub fn names_with_spaces(b: &dyn Backend) -> Outcome {
    names_roundtrip(b, &["with space", "dir with space/ lead", "trail /x "])
}

/// `%` is kept, never decoded: `%20` stays three characters.
pub fn names_with_percent(b: &dyn Backend) -> Outcome {
    names_roundtrip(b, &["100%", "a%20b", "%2F/%zz"])
}

/// `#`, `?`, `&`, `=` and `+` are kept.
pub fn names_with_hash_and_query_characters(b: &dyn Backend) -> Outcome {
    names_roundtrip(b, &["a#b", "q?x=1&y=2", "plus+sign"])
}

/// Unicode is kept byte for byte (no normalization: `é` precomposed and decomposed differ).
pub fn names_with_unicode(b: &dyn Backend) -> Outcome {
    names_roundtrip(
        b,
        &["日本語/ファイル", "caf\u{e9}", "cafe\u{301}", "🦀/ünï"],
    )
}

/// Other punctuation is kept.
pub fn names_with_punctuation(b: &dyn Backend) -> Outcome {
    names_roundtrip(
        b,
        &[
            "quote'd",
            "dq\"x",
            "semi;colon",
            "brace{s}",
            "[brackets]",
            "star*",
            "at@",
            "~tilde",
            "back\\slash",
            "...dots",
        ],
    )
}

/// Twelve levels deep works.
pub fn deep_paths(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let path = "1/2/3/4/5/6/7/8/9/10/11/12";
    roundtrip(b, path, b"deep");
    if caps(b).list {
        assert_eq!(names(b, "1/2/3"), [path]);
    }
    Ok(())
}
