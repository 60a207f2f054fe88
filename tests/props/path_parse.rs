//! `Path::parse` against an independent validator, and the accessors of what it accepts.
//!
//! The input is read as UTF-8 with `String::from_utf8_lossy` (invalid bytes become U+FFFD,
//! which a path may hold), so every input exercises the parser. Its first byte also picks
//! where the text is cut in two for the `join` checks.

use omnistorage::{ErrorKind, Path};

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let s: &str = &s;
    check_one(s);

    // Cut the text in two at a character boundary chosen by the first byte.
    let mut cut = data.first().map_or(0, |&b| usize::from(b)) % (s.len() + 1);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let (left, right) = s.split_at(cut);
    check_one(left);
    check_one(right);
    if let (Ok(a), Ok(b)) = (Path::parse(left), Path::parse(right)) {
        check_join(&a, &b);
    }
}

/// What a valid path is, written out plainly from the documented rules.
fn naive_valid(s: &str) -> bool {
    if s.is_empty() {
        return true; // the root
    }
    let relative = !s.starts_with('/');
    let segments_ok = s
        .split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    let no_control = !s.chars().any(char::is_control);
    relative && segments_ok && no_control
}

fn check_one(s: &str) {
    let parsed = Path::parse(s);
    let expected = naive_valid(s);
    assert_eq!(
        parsed.is_ok(),
        expected,
        "Path::parse({s:?}) = {parsed:?}, but the naive validator says valid = {expected}"
    );

    // Every constructor agrees with `parse`.
    let from_str = s.parse::<Path>();
    let try_from_str = Path::try_from(s);
    let try_from_string = Path::try_from(s.to_owned());
    for (how, other) in [
        ("FromStr", &from_str),
        ("TryFrom<&str>", &try_from_str),
        ("TryFrom<String>", &try_from_string),
    ] {
        match (&parsed, other) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{how} disagrees with parse on {s:?}"),
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{how} on {s:?}"),
            _ => panic!("{how} disagrees with parse on {s:?}: {parsed:?} vs {other:?}"),
        }
    }

    match parsed {
        Ok(p) => check_valid(s, &p),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidPath, "{s:?}: {e}");
            // The message is safe to print: control characters are escaped.
            let shown = e.to_string();
            assert!(
                !shown.chars().any(char::is_control),
                "the error for {s:?} prints a control character: {shown:?}"
            );
        }
    }
}

fn check_valid(s: &str, p: &Path) {
    assert_eq!(p.to_string(), s);
    assert_eq!(p.as_str(), s);
    assert_eq!(p.clone().into_string(), s);
    assert_eq!(p.is_root(), s.is_empty());

    let segments: Vec<&str> = p.segments().collect();
    assert_eq!(segments.join("/"), s, "segments of {s:?}");
    let mut backwards: Vec<&str> = p.segments().rev().collect();
    backwards.reverse();
    assert_eq!(backwards, segments, "segments().rev() of {s:?}");
    assert_eq!(p.depth(), segments.len(), "depth of {s:?}");

    // A path starts with the root and with itself, and strips to the root.
    assert!(p.starts_with(&Path::root()));
    assert!(p.starts_with(p));
    assert_eq!(p.strip_prefix(p), Some(Path::root()));
    assert_eq!(p.strip_prefix(&Path::root()).as_ref(), Some(p));

    match (p.parent(), p.file_name()) {
        (None, None) => assert!(p.is_root(), "{s:?} has no parent but is not the root"),
        (Some(parent), Some(name)) => {
            let name_path = Path::parse(name).expect("a segment is a valid path");
            assert_eq!(name_path.depth(), 1, "file name {name:?} of {s:?}");
            assert_eq!(parent.join(&name_path), *p, "parent + file name of {s:?}");
            assert!(p.starts_with(&parent), "{s:?} starts with its parent");
            assert_eq!(p.strip_prefix(&parent), Some(name_path), "{s:?}");
            assert_eq!(parent.depth() + 1, p.depth(), "{s:?}");
            assert_eq!(Some(name), segments.last().copied());
        }
        (parent, name) => panic!("{s:?}: parent {parent:?} but file name {name:?}"),
    }

    let expected_ext = p.file_name().and_then(|name| match name.rfind('.') {
        Some(0) | None => None,
        Some(i) => Some(&name[i + 1..]),
    });
    assert_eq!(p.extension(), expected_ext, "extension of {s:?}");

    // Every prefix by segment is one that `starts_with` accepts and `strip_prefix` removes
    // (the first and last few only, to keep long inputs cheap).
    let n = segments.len();
    for i in (0..=n).filter(|&i| i <= 8 || i + 8 >= n) {
        let prefix = Path::parse(segments[..i].join("/")).expect("segments make a path");
        assert!(p.starts_with(&prefix), "{s:?} starts with {prefix:?}");
        let rest = Path::parse(segments[i..].join("/")).expect("segments make a path");
        assert_eq!(
            p.strip_prefix(&prefix),
            Some(rest),
            "{s:?} minus {prefix:?}"
        );
    }
    // A byte prefix that ends inside the last segment is not a prefix by segment.
    if let Some((cut, _)) = s.char_indices().next_back().filter(|&(cut, _)| cut > 0) {
        if let Ok(shorter) = Path::parse(&s[..cut]) {
            assert!(!p.starts_with(&shorter), "{s:?} starts with {shorter:?}");
            assert_eq!(p.strip_prefix(&shorter), None, "{s:?} minus {shorter:?}");
        }
    }
}

fn check_join(a: &Path, b: &Path) {
    let joined = a.join(b);
    let expected: Vec<&str> = a.segments().chain(b.segments()).collect();
    assert_eq!(
        joined.segments().collect::<Vec<_>>(),
        expected,
        "{a:?} joined with {b:?}"
    );
    assert!(joined.starts_with(a), "{joined:?} starts with {a:?}");
    assert_eq!(
        joined.strip_prefix(a).as_ref(),
        Some(b),
        "{joined:?} minus {a:?}"
    );
    assert_eq!(joined.depth(), a.depth() + b.depth());
    assert_eq!(
        a.join_str(b.as_str()).expect("a valid path joins").as_str(),
        joined.as_str()
    );
    // The joined text is itself a valid path that parses back to the same value.
    assert_eq!(
        Path::parse(joined.as_str()).expect("a joined path is valid"),
        joined
    );
    // Paths order by their bytes.
    assert_eq!(a.cmp(b), a.as_str().as_bytes().cmp(b.as_str().as_bytes()));
}
