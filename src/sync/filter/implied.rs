//! The directory rules that a file rule implies (rclone's `globToDirGlobs`).

/// The directory globs a file glob implies (rclone's `globToDirGlobs`): matched against a
/// directory path with a trailing `/`, they say whether the glob could match below it.
///
/// Unlike rclone, only real `/` and `**` split (not escaped ones, nor those inside `[...]`).
pub(crate) fn dir_globs(glob: &str) -> Vec<String> {
    if too_hard_for_dirs(glob) {
        return vec!["/**".to_owned()];
    }
    let glob = squash_slashes(glob);
    let (slashes, stars) = split_points(&glob);
    let mut out: Vec<String> = Vec::new();
    let mut end = glob.len();
    loop {
        let slash = slashes.iter().rev().find(|&&p| p < end).copied();
        let star = stars.iter().rev().find(|&&p| p + 2 <= end).copied();
        let (cut, what) = match (slash, star) {
            (Some(s), Some(j)) if s > j => (s, ""),
            (Some(s), None) => (s, ""),
            (_, Some(j)) => (j, "**"),
            (None, None) => break,
        };
        end = cut;
        let dir = format!("{}{what}/", &glob[..cut]);
        if out.last() != Some(&dir) {
            out.push(dir);
        }
    }
    if out.is_empty() {
        out.push("/**".to_owned());
    }
    out
}

/// The byte offsets of the `/` and `**` of a glob that are neither escaped nor inside a
/// bracket expression.
fn split_points(glob: &str) -> (Vec<usize>, Vec<usize>) {
    let b = glob.as_bytes();
    let (mut slashes, mut stars) = (Vec::new(), Vec::new());
    let mut i = 0;
    let mut class_start: Option<usize> = None;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            i += 2; // the escaped byte, or the first of a multi-byte character (never ASCII)
            continue;
        }
        if let Some(start) = class_start {
            if c == b'['
                && b.get(i + 1) == Some(&b':')
                && let Some(close) = glob.get(i + 2..).and_then(|rest| rest.find(":]"))
            {
                i += 2 + close + 2;
                continue;
            }
            if c == b']' && i > start {
                class_start = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'[' => {
                i += 1;
                if matches!(b.get(i), Some(b'!' | b'^')) {
                    i += 1;
                }
                class_start = Some(i);
                continue;
            }
            b'/' => slashes.push(i),
            b'*' if b.get(i + 1) == Some(&b'*') => {
                stars.push(i);
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (slashes, stars)
}

/// Globs whose directories rclone does not try to work out: `/` or `**` inside braces,
/// nested braces, and `{{`/`}}`.
fn too_hard_for_dirs(glob: &str) -> bool {
    if glob.contains("{{") || glob.contains("}}") {
        return true;
    }
    let bytes = glob.as_bytes();
    for (i, _) in glob.match_indices('{') {
        let rest = &bytes[i + 1..];
        match rest.iter().position(|&b| b == b'{' || b == b'}') {
            Some(j) if rest[j] == b'{' => return true,
            Some(j) => {
                let inside = &glob[i + 1..i + 1 + j];
                if inside.contains('/') || inside.contains("**") {
                    return true;
                }
            }
            None => {}
        }
    }
    false
}

fn squash_slashes(glob: &str) -> String {
    let (slashes, _) = split_points(glob);
    let mut out = String::with_capacity(glob.len());
    for (i, c) in glob.char_indices() {
        let doubled =
            i > 0 && slashes.binary_search(&i).is_ok() && slashes.binary_search(&(i - 1)).is_ok();
        if !doubled {
            out.push(c);
        }
    }
    out
}
