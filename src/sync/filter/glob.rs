//! rclone's glob dialect, parsed and translated for the [matcher](super::matcher).
//!
//! An rclone glob is parsed into tokens, its `{a,b}` alternatives are expanded, and each
//! `**` that is not a whole trailing path component is rewritten into what the `glob` crate
//! can say (`**` is `*`, or `*/**/*`: at least one `/`). Each result is a list of path
//! components, each either `**` (whole segments) or the `glob` pattern of one segment.

use super::matcher::{Compiled, Piece};

/// At most this many alternatives per rule, after brace expansion and `**` rewriting.
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
    let mut alternatives = Vec::new();
    for seq in flat {
        let seq = normalize(seq);
        let suffix = literal_suffix(&seq);
        for pieces in emit(&seq, anchored)? {
            if alternatives.len() >= MAX_ALTERNATIVES {
                return Err(too_many());
            }
            alternatives.push((pieces, suffix.clone()));
        }
    }
    Compiled::new(alternatives)
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

/// The component lists for one flat sequence (one per way of reading its `**`s).
fn emit(seq: &[Tok], anchored: bool) -> Result<Vec<Vec<Piece>>, String> {
    if seq == [Tok::DoubleStar] {
        return Ok(vec![vec![Piece::Any]]);
    }
    // Unanchored: any number of whole segments first.
    let mut alternatives = vec![if anchored {
        vec![Piece::Text(String::new())]
    } else {
        vec![Piece::Any, Piece::Text(String::new())]
    }];
    let last = seq.len().saturating_sub(1);
    for (i, tok) in seq.iter().enumerate() {
        match tok {
            Tok::Lit('/') => push_piece(&mut alternatives, &Piece::Text(String::new())),
            Tok::Lit(c) => push_text(&mut alternatives, &escape(*c)),
            Tok::Star => push_text(&mut alternatives, "*"),
            Tok::Quest => push_text(&mut alternatives, "?"),
            Tok::Class { negated, ranges } => {
                push_text(&mut alternatives, &class_text(*negated, ranges));
            }
            Tok::DoubleStar if i == last && i > 0 && seq[i - 1] == Tok::Lit('/') => {
                // A whole trailing component: one or more segments, the last maybe empty.
                for pieces in &mut alternatives {
                    if let Some(piece) = pieces.last_mut() {
                        *piece = Piece::Any;
                    }
                }
            }
            Tok::DoubleStar => {
                // Any run without '/', or `*/**/*`: one with at least one '/'.
                if alternatives.len() * 2 > MAX_ALTERNATIVES {
                    return Err(too_many());
                }
                let mut crossing = alternatives.clone();
                push_text(&mut alternatives, "*");
                push_text(&mut crossing, "*");
                push_piece(&mut crossing, &Piece::Any);
                push_piece(&mut crossing, &Piece::Text("*".to_owned()));
                alternatives.append(&mut crossing);
            }
            Tok::Alt(_) => return Err("internal: unexpanded alternative".to_owned()),
        }
    }
    Ok(alternatives)
}

fn push_piece(alternatives: &mut [Vec<Piece>], piece: &Piece) {
    alternatives.iter_mut().for_each(|a| a.push(piece.clone()));
}

/// Appends `text` to the segment pattern each alternative ends with.
fn push_text(alternatives: &mut [Vec<Piece>], text: &str) {
    for pieces in alternatives {
        if let Some(Piece::Text(last)) = pieces.last_mut() {
            last.push_str(text);
        }
    }
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
        // Then '/' (never in a segment), so that a following "-x" is not read as "]-x".
        text.push_str("]/-/");
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
