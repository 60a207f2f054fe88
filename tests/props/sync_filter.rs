//! The sync engine's filter rules (`src/sync/filter/`): a small reference matcher written
//! here, straight from rclone's documented glob semantics (backtracking over the pattern
//! text, no `glob` crate), agrees with `Filter` on which patterns are valid and on which
//! paths they match, through exclude rules, include rules, first-match-wins order and
//! directory rules; and no text of any kind makes the builder, the parsers or the queries
//! panic.
//!
//! Input: byte 0 and 1 are the lengths of two patterns, written over a small alphabet that
//! holds every special character (`* ? [ ] ! ^ { } , \ /`); the bytes after them are paths
//! (cut at every 0 byte, written over `a b B - ! * /`, without empty segments). The whole input,
//! as lossy UTF-8, is also fed raw to every text entry point.

use std::time::{Duration, SystemTime};

use omnistorage::sync::filter::Filter;
use omnistorage::units::{BareUnit, parse_duration, parse_size};

const PATTERN_ALPHABET: &[u8] = b"ab/*?[]!^{},\\-/*a";
const PATH_ALPHABET: &[u8] = b"ab-!*/aB";

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    raw_texts(data);
    let [n1, n2, rest @ ..] = data else { return };
    let n1 = usize::from(n1 % 16).min(rest.len());
    let (p1, rest) = rest.split_at(n1);
    let n2 = usize::from(n2 % 16).min(rest.len());
    let (p2, rest) = rest.split_at(n2);
    let p1 = spell(p1, PATTERN_ALPHABET);
    let p2 = spell(p2, PATTERN_ALPHABET);
    let mut paths: Vec<String> = rest
        .split(|&b| b == 0)
        .take(16)
        .map(|bytes| tidy(&spell(&bytes[..bytes.len().min(24)], PATH_ALPHABET)))
        .filter(|p| !p.is_empty())
        .collect();
    paths.push("a".to_owned());
    paths.push("a/b".to_owned());

    one_exclude(&p1, &paths);
    one_include(&p1, &paths);
    ignore_case(&p1, &paths);
    first_match_wins(&p1, &p2, &paths);
}

/// Bytes as characters of `alphabet`.
fn spell(bytes: &[u8], alphabet: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| char::from(alphabet[usize::from(b) % alphabet.len()]))
        .collect()
}

/// A path without empty segments (no leading, trailing or doubled `/`).
fn tidy(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// `- pattern`: files matching the file glob are out; directories matching a directory
/// rule (or every directory, for `- *`) are pruned.
fn one_exclude(pattern: &str, paths: &[String]) {
    let file_glob = if pattern.ends_with('/') {
        format!("{pattern}**")
    } else {
        pattern.to_owned()
    };
    let built = Filter::builder().filter(&format!("- {pattern}")).build();
    let Some(filter) = agree_on_validity(&file_glob, built) else {
        return;
    };
    let dir_rule = pattern.ends_with('/') || file_glob.contains("**");
    for path in paths {
        let matched = reference(&file_glob, path).unwrap_or(false);
        assert_eq!(
            filter.include_file(path, 0, None),
            !matched,
            "- {pattern:?} on file {path:?}"
        );
        let dir_matched = dir_rule && reference(&file_glob, &format!("{path}/")).unwrap_or(false);
        assert_eq!(
            filter.include_dir(path),
            !(file_glob == "*" || dir_matched),
            "- {pattern:?} on directory {path:?}"
        );
    }
}

/// `+ pattern` then `- **`: only files matching a file rule are in.
fn one_include(pattern: &str, paths: &[String]) {
    let built = Filter::builder()
        .filter(&format!("+ {pattern}"))
        .filter("- **")
        .build();
    let Some(filter) = agree_on_validity(pattern, built) else {
        return;
    };
    let file_rule = !pattern.ends_with('/') || pattern.contains("**");
    for path in paths {
        let want = file_rule && reference(pattern, path).unwrap_or(false);
        assert_eq!(
            filter.include_file(path, 0, None),
            want,
            "+ {pattern:?} on {path:?}"
        );
        let _ = filter.include_dir(path);
    }
    assert!(!filter.is_empty());
}

/// `- pattern` with `ignore_case`: as matching the path in lower case (the pattern is; and
/// without `[...]`, where `glob` folds ranges its own way).
fn ignore_case(pattern: &str, paths: &[String]) {
    if pattern.contains('[') || pattern.ends_with('/') {
        return;
    }
    let built = Filter::builder()
        .filter(&format!("- {pattern}"))
        .ignore_case(true)
        .build();
    let Some(filter) = agree_on_validity(pattern, built) else {
        return;
    };
    for path in paths {
        let matched = reference(pattern, &path.to_ascii_lowercase()).unwrap_or(false);
        assert_eq!(
            filter.include_file(path, 0, None),
            !matched,
            "- {pattern:?} ignoring case on {path:?}"
        );
    }
}

/// `- p1`, `+ p2`, `- **` through an exclude-from and a filter-from text.
fn first_match_wins(p1: &str, p2: &str, paths: &[String]) {
    if p1.ends_with('/') || p2.ends_with('/') || p1.trim() != p1 || p2.trim() != p2 {
        return; // directory rules and trimmed lines are covered above
    }
    if [p1, p2]
        .iter()
        .any(|p| p.is_empty() || p.starts_with(['#', ';']))
    {
        return; // skipped as blank or comment lines
    }
    let built = Filter::builder()
        .exclude_from(&format!("{p1}\n"), "one")
        .filter_from(&format!("# comment\n+ {p2}\n- **\n"), "two")
        .build();
    let (Some(v1), Some(v2)) = (validity(p1), validity(p2)) else {
        assert!(built.is_err(), "{p1:?} {p2:?} built");
        return;
    };
    let filter = match built {
        Ok(filter) => filter,
        Err(e) if e.to_string().contains("alternatives") => return,
        Err(e) => panic!("{p1:?} {p2:?}: {e} (reference: valid {v1} {v2})"),
    };
    for path in paths {
        let want = if reference(p1, path).unwrap_or(false) {
            false
        } else {
            reference(p2, path).unwrap_or(false)
        };
        assert_eq!(
            filter.include_file(path, 0, None),
            want,
            "- {p1:?} + {p2:?} on {path:?}"
        );
    }
}

fn validity(pattern: &str) -> Option<bool> {
    reference(pattern, "").map(|_| true)
}

/// The filter if both the reference and `Filter` find `pattern` valid; panics if they
/// disagree (except on `Filter`'s limit on alternatives, which the reference lacks).
fn agree_on_validity(pattern: &str, built: omnistorage::Result<Filter>) -> Option<Filter> {
    match (reference(pattern, ""), built) {
        (Some(_), Ok(filter)) => Some(filter),
        (None, Err(_)) => None,
        (Some(_), Err(e)) if e.to_string().contains("alternatives") => None,
        (Some(_), Err(e)) => panic!("{pattern:?}: the reference accepts it, Filter: {e}"),
        (None, Ok(filter)) => {
            panic!("{pattern:?}: the reference rejects it, Filter built {filter:?}")
        }
    }
}

/// Every text entry point, fed the raw input: no panic, and errors are `InvalidInput`.
fn raw_texts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 30);
    let queries = ["", "a", "a/b", text.as_ref()];
    let builders = [
        Filter::builder().filter_from(&text, "raw"),
        Filter::builder()
            .include_from(&text, "raw")
            .ignore_case(true),
        Filter::builder().exclude_from(&text, "raw"),
        Filter::builder().files_from(&text, "raw"),
        Filter::builder()
            .include(&text)
            .exclude(&text)
            .filter(&text),
        Filter::builder()
            .exclude(&text)
            .now(now)
            .min_age(Duration::from_secs(u64::from(
                data.first().copied().unwrap_or(0),
            )))
            .max_age(Duration::MAX),
    ];
    for builder in builders {
        match builder.build() {
            Ok(filter) => {
                for q in queries {
                    let _ = filter.include_file(q, 0, Some(now));
                    let _ = filter.include_dir(q);
                }
                let _ = (
                    filter.is_empty(),
                    filter.prunes_dirs(),
                    filter.files_from_list(),
                );
            }
            Err(e) => assert_eq!(e.kind(), omnistorage::ErrorKind::InvalidInput, "{e}"),
        }
    }
    for line in text.lines().take(8) {
        if let Err(e) = parse_size(line, BareUnit::KiB) {
            assert_eq!(e.kind(), omnistorage::ErrorKind::InvalidInput, "{e}");
        }
        if let Err(e) = parse_duration(line) {
            assert_eq!(e.kind(), omnistorage::ErrorKind::InvalidInput, "{e}");
        }
    }
}

// ---- The reference: rclone's glob semantics by backtracking over the pattern text. ----

#[derive(Debug)]
enum Node {
    Char(char),
    /// `*`: a run without `/`.
    Star,
    /// `**`: any run.
    Stars,
    /// `?` or a bracket expression: one character other than `/` that passes.
    One(Vec<(char, char)>, bool),
    /// `{...}`: the alternatives.
    Either(Vec<Vec<Node>>),
}

/// Whether `pattern` matches `path`, or `None` if the pattern is invalid.
fn reference(pattern: &str, path: &str) -> Option<bool> {
    let (anchored, body) = match pattern.strip_prefix('/') {
        Some(body) => (true, body),
        None => (false, pattern),
    };
    let chars: Vec<char> = body.chars().collect();
    let mut at = 0;
    let nodes = parse(&chars, &mut at, false)?;
    if at != chars.len() {
        return None;
    }
    let text: Vec<char> = path.chars().collect();
    let whole = |start: usize| run(&nodes, &text, start, &|end| end == text.len());
    let mut starts = vec![0];
    if !anchored {
        starts.extend(
            text.iter()
                .enumerate()
                .filter(|(_, c)| **c == '/')
                .map(|(i, _)| i + 1),
        );
    }
    Some(starts.into_iter().any(whole))
}

/// Parses until the end, or, inside braces, until a `,` or `}` (left unconsumed).
fn parse(p: &[char], at: &mut usize, in_braces: bool) -> Option<Vec<Node>> {
    let mut out = Vec::new();
    while *at < p.len() {
        let c = p[*at];
        *at += 1;
        match c {
            '\\' => {
                out.push(Node::Char(*p.get(*at)?));
                *at += 1;
            }
            '*' => {
                if p.get(*at) == Some(&'*') {
                    *at += 1;
                    if p.get(*at) == Some(&'*') {
                        return None;
                    }
                    out.push(Node::Stars);
                } else {
                    out.push(Node::Star);
                }
            }
            '?' => out.push(Node::One(vec![('\0', char::MAX)], false)),
            '[' => {
                let negated = matches!(p.get(*at), Some('!' | '^'));
                if negated {
                    *at += 1;
                }
                let mut set = Vec::new();
                let mut first = true;
                loop {
                    let mut c = *p.get(*at)?;
                    *at += 1;
                    if c == ']' && !first {
                        break;
                    }
                    first = false;
                    if c == '[' && p.get(*at) == Some(&':') {
                        return None; // not generated
                    }
                    if c == '\\' {
                        c = *p.get(*at)?;
                        *at += 1;
                    }
                    if p.get(*at) == Some(&'-') && p.get(*at + 1).is_some_and(|&n| n != ']') {
                        let mut hi = p[*at + 1];
                        *at += 2;
                        if hi == '\\' {
                            hi = *p.get(*at)?;
                            *at += 1;
                        }
                        if hi < c {
                            return None;
                        }
                        set.push((c, hi));
                    } else {
                        set.push((c, c));
                    }
                }
                out.push(Node::One(set, negated));
            }
            ']' => return None,
            '{' => {
                if p.get(*at) == Some(&'{') {
                    return None;
                }
                let mut alternatives = Vec::new();
                loop {
                    alternatives.push(parse(p, at, true)?);
                    let end = *p.get(*at)?;
                    *at += 1;
                    if end == '}' {
                        break;
                    }
                }
                out.push(Node::Either(alternatives));
            }
            ',' | '}' if in_braces => {
                *at -= 1;
                return Some(out);
            }
            '}' => return None,
            c => out.push(Node::Char(c)),
        }
    }
    Some(out)
}

/// Whether `nodes` match `text[start..end]` for some `end` that `then` accepts.
fn run(nodes: &[Node], text: &[char], start: usize, then: &dyn Fn(usize) -> bool) -> bool {
    let Some((node, rest)) = nodes.split_first() else {
        return then(start);
    };
    let next = |end: usize| run(rest, text, end, then);
    match node {
        Node::Char(c) => text.get(start) == Some(c) && next(start + 1),
        Node::One(set, negated) => {
            text.get(start).is_some_and(|&t| {
                t != '/' && set.iter().any(|&(lo, hi)| (lo..=hi).contains(&t)) != *negated
            }) && next(start + 1)
        }
        Node::Star => {
            let limit = text[start..]
                .iter()
                .position(|&c| c == '/')
                .map_or(text.len(), |i| start + i);
            (start..=limit).any(next)
        }
        Node::Stars => (start..=text.len()).any(next),
        Node::Either(alternatives) => alternatives.iter().any(|alt| run(alt, text, start, &next)),
    }
}
