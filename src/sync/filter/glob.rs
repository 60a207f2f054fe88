//! rclone's glob dialect, translated to [`glob::Pattern`]s.
//!
//! An rclone glob is parsed into tokens, its `{a,b}` alternatives are expanded, each `**`
//! that is not a whole trailing path component is rewritten into what the `glob` crate can
//! say (`**` = `*` or `*/**/*`), and each result becomes one `glob::Pattern`, matched with
//! `require_literal_separator`. A glob matches a path when any of its patterns does.

use glob::{MatchOptions, Pattern};

/// At most this many `glob::Pattern`s per rule, after brace expansion and `**` rewriting.
pub(crate) const MAX_ALTERNATIVES: usize = 1024;

/// One parsed piece of an rclone glob.
#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A character that matches itself.
    Lit(char),
    /// `*`: any run of characters without `/`.
    Star,
    /// `**`: any run of characters, `/` included.
    DoubleStar,
    /// `?`: one character other than `/`.
    Quest,
    /// `[...]` or `[!...]`: one character (never `/`) in (or not in) these ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `{a,b,...}`: one of these sequences.
    Alt(Vec<Vec<Tok>>),
}

/// A glob compiled to the patterns that together match what it matches.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    /// Each pattern with the literal text any match must end with (checked first: cheap).
    patterns: Vec<(Pattern, String)>,
}

impl Compiled {
    /// Whether `text` matches.
    pub(crate) fn matches(&self, text: &str, options: MatchOptions) -> bool {
        self.patterns.iter().any(|(pattern, suffix)| {
            ends_with(text, suffix, options.case_sensitive) && pattern.matches_with(text, options)
        })
    }
}

/// `text.ends_with(suffix)`, folding ASCII letters unless `case_sensitive` (as `glob` does).
fn ends_with(text: &str, suffix: &str, case_sensitive: bool) -> bool {
    let start = text.len().saturating_sub(suffix.len());
    match text.as_bytes().get(start..) {
        Some(tail) if tail.len() == suffix.len() => {
            if case_sensitive {
                tail == suffix.as_bytes()
            } else {
                tail.eq_ignore_ascii_case(suffix.as_bytes())
            }
        }
        _ => false,
    }
}

/// The literal characters a sequence ends with.
fn literal_suffix(seq: &[Tok]) -> String {
    let mut suffix: Vec<char> = seq
        .iter()
        .rev()
        .map_while(|tok| match tok {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect();
    suffix.reverse();
    suffix.into_iter().collect()
}

/// Compiles an rclone glob. A leading `/` anchors it at the root; otherwise it matches the
/// end of a path on a segment boundary. The error is a message to put after the rule.
pub(crate) fn compile(glob: &str) -> Result<Compiled, String> {
    let (anchored, body) = match glob.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, glob),
    };
    let chars: Vec<char> = body.chars().collect();
    let mut pos = 0;
    let tokens = parse_seq(&chars, &mut pos, 0)?;
    if pos < chars.len() {
        // parse_seq at depth 0 stops early only at a '}' without its '{'.
        return Err("mismatched '}'".to_owned());
    }
    let mut flat: Vec<Vec<Tok>> = Vec::new();
    expand(&tokens, vec![Vec::new()], &mut flat)?;
    let mut patterns = Vec::new();
    for seq in flat {
        let seq = normalize(seq);
        let suffix = literal_suffix(&seq);
        for text in emit(&seq, anchored)? {
            if patterns.len() >= MAX_ALTERNATIVES {
                return Err(too_many());
            }
            let pattern = Pattern::new(&text)
                .map_err(|e| format!("internal glob translation {text:?} failed: {e}"))?;
            patterns.push((pattern, suffix.clone()));
        }
    }
    Ok(Compiled { patterns })
}

fn too_many() -> String {
    format!("expands to more than {MAX_ALTERNATIVES} alternatives")
}

/// Parses tokens until the end, or (inside braces, `depth > 0`) until an unescaped `,` or
/// `}`, which is left at `*pos` for the caller.
fn parse_seq(chars: &[char], pos: &mut usize, depth: usize) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    while let Some(&c) = chars.get(*pos) {
        match c {
            '\\' => {
                let next = chars.get(*pos + 1).ok_or("trailing '\\' escapes nothing")?;
                out.push(Tok::Lit(*next));
                *pos += 2;
            }
            '*' => {
                let run = chars[*pos..].iter().take_while(|&&c| c == '*').count();
                match run {
                    1 => out.push(Tok::Star),
                    2 => out.push(Tok::DoubleStar),
                    _ => return Err("too many stars ('***')".to_owned()),
                }
                *pos += run;
            }
            '?' => {
                out.push(Tok::Quest);
                *pos += 1;
            }
            '[' => {
                *pos += 1;
                out.push(parse_class(chars, pos)?);
            }
            ']' => return Err("mismatched ']'".to_owned()),
            '{' => {
                if chars.get(*pos + 1) == Some(&'{') {
                    return Err(
                        "'{{' starts an rclone regexp section, which is not supported".to_owned(),
                    );
                }
                *pos += 1;
                let mut alternatives = Vec::new();
                loop {
                    alternatives.push(parse_seq(chars, pos, depth + 1)?);
                    match chars.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return Err("mismatched '{' and '}'".to_owned()),
                    }
                }
                out.push(Tok::Alt(alternatives));
            }
            '}' | ',' if depth > 0 => return Ok(out),
            '}' => return Err("mismatched '{' and '}'".to_owned()),
            c => {
                out.push(Tok::Lit(c));
                *pos += 1;
            }
        }
    }
    Ok(out)
}

/// Parses a bracket expression; `*pos` is just past its `[`.
fn parse_class(chars: &[char], pos: &mut usize) -> Result<Tok, String> {
    const UNCLOSED: &str = "mismatched '[' and ']'";
    let negated = matches!(chars.get(*pos), Some('!' | '^'));
    if negated {
        *pos += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(*pos).ok_or(UNCLOSED)?;
        if c == ']' && !first {
            *pos += 1;
            break;
        }
        first = false;
        if c == '[' && chars.get(*pos + 1) == Some(&':') {
            let rest = &chars[*pos + 2..];
            let end = rest
                .windows(2)
                .position(|w| w == [':', ']'])
                .ok_or(UNCLOSED)?;
            let name: String = rest[..end].iter().collect();
            ranges.extend_from_slice(posix_class(&name)?);
            *pos += 2 + end + 2;
            continue;
        }
        let lo = class_char(chars, pos)?;
        if chars.get(*pos) == Some(&'-') && chars.get(*pos + 1).is_some_and(|&c| c != ']') {
            *pos += 1;
            let hi = class_char(chars, pos)?;
            if hi < lo {
                return Err(format!("bad range '{lo}-{hi}' in '[...]'"));
            }
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
    Ok(Tok::Class { negated, ranges })
}

/// One (possibly `\`-escaped) character of a bracket expression.
fn class_char(chars: &[char], pos: &mut usize) -> Result<char, String> {
    let c = *chars.get(*pos).ok_or("mismatched '[' and ']'")?;
    if c == '\\' {
        let next = *chars.get(*pos + 1).ok_or("mismatched '[' and ']'")?;
        *pos += 2;
        Ok(next)
    } else {
        *pos += 1;
        Ok(c)
    }
}

/// The ranges of a POSIX class name (`alpha` for `[:alpha:]`), ASCII as in Go's regexp.
fn posix_class(name: &str) -> Result<&'static [(char, char)], String> {
    Ok(match name {
        "alnum" => &[('0', '9'), ('A', 'Z'), ('a', 'z')],
        "alpha" => &[('A', 'Z'), ('a', 'z')],
        "ascii" => &[('\0', '\x7f')],
        "blank" => &[('\t', '\t'), (' ', ' ')],
        "cntrl" => &[('\0', '\x1f'), ('\x7f', '\x7f')],
        "digit" => &[('0', '9')],
        "graph" => &[('!', '~')],
        "print" => &[(' ', '~')],
        "lower" => &[('a', 'z')],
        "punct" => &[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "space" => &[('\t', '\r'), (' ', ' ')],
        "upper" => &[('A', 'Z')],
        "word" => &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        "xdigit" => &[('0', '9'), ('A', 'F'), ('a', 'f')],
        _ => return Err(format!("unknown character class '[:{name}:]'")),
    })
}

/// Expands alternatives: appends every flat sequence `prefixes × tokens` to `out`.
fn expand(tokens: &[Tok], prefixes: Vec<Vec<Tok>>, out: &mut Vec<Vec<Tok>>) -> Result<(), String> {
    let mut current = prefixes;
    for tok in tokens {
        match tok {
            Tok::Alt(alternatives) => {
                let mut next = Vec::new();
                for alternative in alternatives {
                    expand(alternative, current.clone(), &mut next)?;
                    if next.len() > MAX_ALTERNATIVES {
                        return Err(too_many());
                    }
                }
                current = next;
            }
            tok => current.iter_mut().for_each(|seq| seq.push(tok.clone())),
        }
    }
    out.extend(current);
    if out.len() > MAX_ALTERNATIVES {
        return Err(too_many());
    }
    Ok(())
}

/// Merges runs of stars that brace expansion put side by side: `*` next to `**` is `**`.
fn normalize(seq: Vec<Tok>) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(seq.len());
    for tok in seq {
        match (out.last_mut(), &tok) {
            (Some(last @ (Tok::Star | Tok::DoubleStar)), Tok::Star | Tok::DoubleStar) => {
                if tok == Tok::DoubleStar {
                    *last = Tok::DoubleStar;
                }
            }
            _ => out.push(tok),
        }
    }
    out
}

/// The `glob` pattern texts for one flat sequence.
fn emit(seq: &[Tok], anchored: bool) -> Result<Vec<String>, String> {
    if seq.is_empty() {
        // rclone: an empty anchored glob matches "" only; an unanchored one also matches any
        // text ending in '/' (a directory). `**/` alone would match everything in `glob`.
        return Ok(if anchored {
            vec![String::new()]
        } else {
            vec![String::new(), "**/*/".to_owned()]
        });
    }
    if seq == [Tok::DoubleStar] {
        return Ok(vec!["**".to_owned()]);
    }
    let mut texts = vec![if anchored {
        String::new()
    } else {
        "**/".to_owned()
    }];
    let last = seq.len() - 1;
    for (i, tok) in seq.iter().enumerate() {
        match tok {
            Tok::Lit(c) => push_all(&mut texts, &escape(*c)),
            Tok::Star => push_all(&mut texts, "*"),
            Tok::Quest => push_all(&mut texts, "?"),
            Tok::Class { negated, ranges } => push_all(&mut texts, &class_text(*negated, ranges)),
            Tok::DoubleStar if i == last && i > 0 && seq[i - 1] == Tok::Lit('/') => {
                // A whole trailing component: `glob`'s own `/**` (anything, "" included).
                push_all(&mut texts, "**");
            }
            Tok::DoubleStar => {
                // Any run without '/', or one with at least one '/'.
                if texts.len() * 2 > MAX_ALTERNATIVES {
                    return Err(too_many());
                }
                let mut crossing = texts.clone();
                push_all(&mut texts, "*");
                push_all(&mut crossing, "*/**/*");
                texts.append(&mut crossing);
            }
            Tok::Alt(_) => return Err("internal: unexpanded alternative".to_owned()),
        }
    }
    Ok(texts)
}

fn push_all(texts: &mut [String], piece: &str) {
    texts.iter_mut().for_each(|t| t.push_str(piece));
}

/// A literal character as `glob` text.
fn escape(c: char) -> String {
    match c {
        '*' | '?' | '[' | ']' => format!("[{c}]"),
        c => c.to_string(),
    }
}

/// A bracket expression as `glob` text: every item a `lo-hi` triple, so that `glob` reads
/// them back whatever they contain; `]` only ever first (where `glob` takes it literally).
fn class_text(negated: bool, ranges: &[(char, char)]) -> String {
    let mut has_close = false;
    let mut items: Vec<(char, char)> = Vec::new();
    for &(lo, hi) in ranges {
        if (lo..=hi).contains(&']') {
            has_close = true;
            if lo < ']' {
                items.push((lo, '\\'));
            }
            if hi > ']' {
                items.push(('^', hi));
            }
        } else {
            items.push((lo, hi));
        }
    }
    let mut text = String::from(if negated { "[!" } else { "[" });
    if has_close {
        text.push(']');
    } else if !negated && items.first().is_some_and(|&(lo, _)| lo == '!') {
        // `[!` would negate: start with '/', which a class never matches anyway.
        text.push_str("/-/");
    }
    for (lo, hi) in items {
        text.push(lo);
        text.push('-');
        text.push(hi);
    }
    if text.len() == 1 || (negated && text.len() == 2) {
        // An empty set: '/' stands in (a class never matches it).
        text.push_str("/-/");
    }
    text.push(']');
    text
}

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
