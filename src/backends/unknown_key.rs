//! The one answer to an option nobody knows: [`unknown_key`], `InvalidConfig` naming the key,
//! the backend, and the nearest known key when one is close enough to be a typo
//! (`regoin=` → `did you mean "region"?`). Every backend's `set`, URL query parameters and
//! the CLI's config (which goes through `set`) answer with it.

use crate::error::{Error, ErrorKind};

/// The error for an option `backend` does not have: [`ErrorKind::InvalidConfig`] naming
/// `key` and the backend, and the nearest of `known` (the backend's options; empty for a
/// backend that takes none) when it is close enough to be a typo. For the `set` of a
/// backend from another crate too.
///
/// ```
/// use omnistorage::{ErrorKind, backends::unknown_key};
///
/// let e = unknown_key("s3", "regoin", &["endpoint", "region", "profile"]);
/// assert_eq!(e.kind(), ErrorKind::InvalidConfig);
/// assert_eq!(
///     e.message(),
///     Some("unknown option \"regoin\" for the s3 backend; did you mean \"region\"?")
/// );
/// ```
pub fn unknown_key(backend: &'static str, key: &str, known: &[&str]) -> Error {
    let mut message = if known.is_empty() {
        format!("unknown option {key:?}: the {backend} backend takes no options")
    } else {
        format!("unknown option {key:?} for the {backend} backend")
    };
    if let Some(near) = nearest(key, known) {
        message.push_str(&format!("; did you mean {near:?}?"));
    }
    Error::new(ErrorKind::InvalidConfig, message).with_backend(backend)
}

/// The known key closest to `key`, if it is close enough to be a typo of it: at most one
/// edit (a letter added, dropped, changed, or two swapped) per three letters, and at least
/// one. Ties go to the first in `known`.
pub(crate) fn nearest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    let allowed = (key.chars().count() / 3).max(1);
    known
        .iter()
        .map(|k| (distance(&key, k), *k))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Edits from `a` to `b`: insertions, deletions, substitutions and swaps of two neighbours
/// (the optimal string alignment distance).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: two back, one back, this one.
    let mut two: Vec<usize> = vec![0; b.len() + 1];
    let mut one: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (one[j] + 1).min(row[j - 1] + 1).min(one[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(two[j - 2] + 1);
            }
        }
        two = std::mem::replace(&mut one, row);
    }
    one[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const S3: &[&str] = &[
        "region",
        "part_size",
        "access_key_id",
        "endpoint",
        "profile",
    ];

    #[test]
    fn typos_find_their_key() {
        assert_eq!(nearest("regoin", S3), Some("region"));
        assert_eq!(nearest("part_sise", S3), Some("part_size"));
        assert_eq!(nearest("acess_key_id", S3), Some("access_key_id"));
        assert_eq!(nearest("ENDPOINT", S3), Some("endpoint"));
        assert_eq!(nearest("colour", S3), None);
        assert_eq!(nearest("x", S3), None);
        assert_eq!(nearest("region", &[]), None);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("region", "region"), 0);
    }

    #[test]
    fn the_error_names_key_backend_and_suggestion() {
        let e = unknown_key("s3", "regoin", S3);
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        let text = e.to_string();
        assert!(text.contains("\"regoin\""), "{text}");
        assert!(text.contains("did you mean \"region\"?"), "{text}");
        let none = unknown_key("file", "fsync", &[]).to_string();
        assert!(none.contains("takes no options"), "{none}");
    }
}
