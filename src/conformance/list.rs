//! Recursive listings: prefixes by segment, byte order, sizes, many objects.

use super::support::*;
use crate::{Backend, BackendExt};

/// The root lists every object.
pub fn list_root_lists_everything(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    assert!(names(b, "").is_empty(), "a fresh backend lists nothing");
    for path in ["top", "a/one", "a/b/two", "z/y/x/three"] {
        put(b, path, b".");
    }
    assert_eq!(names(b, ""), ["a/b/two", "a/one", "top", "z/y/x/three"]);
    Ok(())
}

/// A prefix matches whole segments: `a/b` lists `a/b/...` but never `a/bc` or `a/b-c`.
pub fn list_prefix_matches_by_segment(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    for path in ["a/b/1", "a/b/c/2", "a/bc/3", "a/b-c/4", "a/b.c", "a/a", "b"] {
        put(b, path, b".");
    }
    assert_eq!(names(b, "a/b"), ["a/b/1", "a/b/c/2"]);
    assert_eq!(names(b, "a/b/c"), ["a/b/c/2"]);
    assert_eq!(
        names(b, "a"),
        ["a/a", "a/b-c/4", "a/b.c", "a/b/1", "a/b/c/2", "a/bc/3"]
    );
    Ok(())
}

/// A prefix that names an object lists that object.
pub fn list_prefix_naming_an_object(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    put(b, "dir/file.txt", b"abc");
    put(b, "dir/file.txt2", b"x");
    let listed = b.list_all("dir/file.txt").expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].path, p("dir/file.txt"));
    assert_eq!(listed[0].size, 3);
    Ok(())
}

/// A prefix with nothing under it lists nothing, without an error.
pub fn list_missing_prefix_is_empty(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    put(b, "present/x", b".");
    assert!(names(b, "absent").is_empty());
    assert!(names(b, "absent/deeper").is_empty());
    assert!(names(b, "present/x/below-an-object").is_empty());
    Ok(())
}

/// Objects come in ascending byte order of their full path.
pub fn list_is_in_byte_order(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    let paths = [
        "a", "a b", "a!", "a-1", "a.txt", "a0", "aZ", "a_", "b/c", "b.c", "b0", "A", "Z/z", "~x",
        "é", "日本", "z",
    ];
    for path in paths {
        put(b, path, path.as_bytes());
    }
    let mut expected: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
    expected.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    assert_eq!(names(b, ""), expected);
    Ok(())
}

/// A directory's contents sort where their full paths do: `x/y-z` < `x/y.z` < `x/y/z` <
/// `x/y0`.
pub fn list_nested_names_sort_by_full_path(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    let paths = [
        "x/y0", "x/y/z", "x/y.z", "x/y-z", "x/y/a/b", "x/y/a.b", "x/y/a-b",
    ];
    for path in paths {
        put(b, path, b".");
    }
    assert_eq!(
        names(b, "x"),
        [
            "x/y-z", "x/y.z", "x/y/a-b", "x/y/a.b", "x/y/a/b", "x/y/z", "x/y0"
        ]
    );
    Ok(())
}

/// Listed entries carry the objects' sizes and are objects (not directories).
pub fn list_reports_sizes(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    put(b, "s/zero", b"");
    put(b, "s/ten", &[1u8; 10]);
    put(b, "s/deep/thousand", &[2u8; 1000]);
    let listed = b.list_all("s").expect("list");
    let got: Vec<(String, u64, bool)> = listed
        .into_iter()
        .map(|e| (e.path.into_string(), e.size, e.is_dir))
        .collect();
    assert_eq!(
        got,
        [
            ("s/deep/thousand".to_string(), 1000, false),
            ("s/ten".to_string(), 10, false),
            ("s/zero".to_string(), 0, false),
        ]
    );
    Ok(())
}

/// Hundreds of objects across directories all list, once each, in order.
pub fn list_many_objects(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    let mut expected = Vec::new();
    for d in 0..12 {
        for f in 0..40 {
            let path = format!("many/d{d:x}/f{f}");
            put(b, &path, b"");
            expected.push(path);
        }
    }
    expected.sort();
    let got = names(b, "many");
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    Ok(())
}
