//! The TOML subset our config file uses: `[name]` tables (bare or quoted names), `key =
//! value` with `"basic strings"` (escapes), `'literal strings'`, integers and booleans, and
//! `#` comments. Values are kept as text (an integer `22` becomes `"22"`): the remotes'
//! options are strings, as rclone's are. Errors name the line. Self-contained (std and
//! `omnistorage`'s error type), so the fuzz targets can include it.

use omnistorage::{Error, ErrorKind};

/// One `[name]` table: its key/value pairs in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The table's name.
    pub name: String,
    /// The pairs, in order; keys are unique.
    pub entries: Vec<(String, String)>,
}

fn err(line: usize, msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidConfig, format!("line {line}: {msg}"))
}

/// Parses the text of a config file.
pub fn parse(text: &str) -> Result<Vec<Table>, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut tables: Vec<Table> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_matches([' ', '\t']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            if rest.starts_with('[') {
                return Err(err(n, "arrays of tables ([[...]]) are not supported"));
            }
            let (name, rest) = key(rest.trim_start_matches([' ', '\t']), n)?;
            let rest = rest.trim_start_matches([' ', '\t']);
            let rest = rest.strip_prefix(']').ok_or_else(|| {
                err(
                    n,
                    "expected ']' after the table name (dotted names are not supported)",
                )
            })?;
            end_of_line(rest, n)?;
            if tables.iter().any(|t| t.name == name) {
                return Err(err(n, format!("table [{name}] defined twice")));
            }
            tables.push(Table {
                name,
                entries: Vec::new(),
            });
            continue;
        }
        let Some(table) = tables.last_mut() else {
            return Err(err(n, "a key outside any [remote] table"));
        };
        let (k, rest) = key(line, n)?;
        let rest = rest.trim_start_matches([' ', '\t']);
        let rest = rest
            .strip_prefix('=')
            .ok_or_else(|| err(n, format!("expected '=' after key {k:?}")))?;
        let (v, rest) = value(rest.trim_start_matches([' ', '\t']), n)?;
        end_of_line(rest, n)?;
        if table.entries.iter().any(|(have, _)| *have == k) {
            return Err(err(n, format!("key {k:?} given twice in [{}]", table.name)));
        }
        table.entries.push((k, v));
    }
    Ok(tables)
}

/// Only whitespace and a comment may follow.
fn end_of_line(rest: &str, n: usize) -> Result<(), Error> {
    let rest = rest.trim_start_matches([' ', '\t']);
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(err(
            n,
            format!("unexpected {rest:?} at the end of the line"),
        ))
    }
}

fn is_bare(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A bare or quoted key; returns it and the text after it.
fn key(s: &str, n: usize) -> Result<(String, &str), Error> {
    match s.chars().next() {
        Some('"') | Some('\'') => {
            let (k, rest) = value(s, n)?;
            if k.is_empty() {
                return Err(err(n, "an empty quoted name"));
            }
            Ok((k, rest))
        }
        _ => {
            let end = s.find(|c: char| !is_bare(c)).unwrap_or(s.len());
            if end == 0 {
                return Err(err(
                    n,
                    "expected a name (letters, digits, '_', '-', or quoted)",
                ));
            }
            if s[end..].starts_with('.') {
                return Err(err(n, "dotted keys are not supported"));
            }
            Ok((s[..end].to_owned(), &s[end..]))
        }
    }
}

/// A string, integer or boolean; returns its text and the rest of the line.
fn value(s: &str, n: usize) -> Result<(String, &str), Error> {
    if let Some(rest) = s.strip_prefix('\'') {
        if rest.starts_with("''") {
            return Err(err(n, "multi-line strings are not supported"));
        }
        let end = rest
            .find('\'')
            .ok_or_else(|| err(n, "unterminated 'literal string'"))?;
        return Ok((rest[..end].to_owned(), &rest[end + 1..]));
    }
    if let Some(rest) = s.strip_prefix('"') {
        if rest.starts_with("\"\"") {
            return Err(err(n, "multi-line strings are not supported"));
        }
        return basic_string(rest, n);
    }
    let end = s.find([' ', '\t', '#']).unwrap_or(s.len());
    let word = &s[..end];
    let rest = &s[end..];
    if word == "true" || word == "false" {
        return Ok((word.to_owned(), rest));
    }
    if integer(word).is_some() {
        return Ok((integer(word).unwrap_or_default().to_string(), rest));
    }
    if word.is_empty() {
        return Err(err(n, "expected a value after '='"));
    }
    Err(err(
        n,
        format!(
            "{word:?} is not a value: quote strings (\"...\" or '...'), or give a number or true/false"
        ),
    ))
}

/// A decimal integer: optional sign, digits with single `_` between them.
fn integer(word: &str) -> Option<i64> {
    let digits = word.strip_prefix(['+', '-']).unwrap_or(word);
    let ok = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.ends_with(|c: char| c.is_ascii_digit())
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && (digits.len() == 1 || !digits.starts_with('0'));
    if !ok {
        return None;
    }
    word.replace('_', "").parse().ok()
}

fn basic_string(s: &str, n: usize) -> Result<(String, &str), Error> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'e' => out.push('\u{1b}'),
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'u' | 'U' => {
                        let len = if e == 'u' { 4 } else { 8 };
                        let hex: String = chars.by_ref().take(len).map(|(_, c)| c).collect();
                        let ch = (hex.len() == len && hex.chars().all(|c| c.is_ascii_hexdigit()))
                            .then(|| u32::from_str_radix(&hex, 16).ok())
                            .flatten()
                            .and_then(char::from_u32)
                            .ok_or_else(|| err(n, format!("bad escape \\{e}{hex}")))?;
                        out.push(ch);
                    }
                    other => return Err(err(n, format!("unknown escape \\{other}"))),
                }
            }
            c if c.is_control() && c != '\t' => {
                return Err(err(n, "a control character in a string: use an escape"));
            }
            c => out.push(c),
        }
    }
    Err(err(n, "unterminated \"string\""))
}

/// Writes tables back as TOML that [`parse`] reads to the same tables.
pub fn write(tables: &[Table]) -> String {
    let mut out = String::new();
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push('[');
        out.push_str(&name(&t.name));
        out.push_str("]\n");
        for (k, v) in &t.entries {
            out.push_str(&name(k));
            out.push_str(" = ");
            out.push_str(&quote(v));
            out.push('\n');
        }
    }
    out
}

/// A name bare if it can be, else quoted.
fn name(s: &str) -> String {
    if !s.is_empty() && s.chars().all(is_bare) {
        s.to_owned()
    } else {
        quote(s)
    }
}

/// A basic string with the escapes it needs.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(t: &Table) -> Vec<(&str, &str)> {
        t.entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn tables_and_values_parse() {
        let text = "# remotes\n\n[s3]\ntype = \"s3\" # trailing\nport = 2_222\nyes = true\n\
                    path = 'C:\\raw\\path'\n[\"my remote\"]\n\"odd key\" = \"a\\tb\\u00e9\\\"\"\n";
        let t = parse(text).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "s3");
        assert_eq!(
            pairs(&t[0]),
            [
                ("type", "s3"),
                ("port", "2222"),
                ("yes", "true"),
                ("path", "C:\\raw\\path")
            ]
        );
        assert_eq!(t[1].name, "my remote");
        assert_eq!(pairs(&t[1]), [("odd key", "a\tbé\"")]);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, words) in [
            ("[a]\nx = 1\nx = 2\n", 3, "twice"),
            ("x = 1\n", 1, "outside"),
            ("[a]\n[a]\n", 2, "twice"),
            ("[a]\n\nk = bare\n", 3, "not a value"),
            ("[a]\nk = \"open\n", 2, "unterminated"),
            ("[a]\nk = 'open\n", 2, "unterminated"),
            ("[a\n", 1, "']'"),
            ("[a.b]\n", 1, "dotted"),
            ("[[a]]\n", 1, "arrays"),
            ("[a]\nk \"v\"\n", 2, "'='"),
            ("[a]\nk = \"v\" junk\n", 2, "end of the line"),
            ("[a]\nk = \"\\q\"\n", 2, "escape"),
            ("[a]\nk = \"\\uD800\"\n", 2, "escape"),
            ("[a]\nk = 012\n", 2, "not a value"),
            ("[a]\nk =\n", 2, "expected a value"),
            ("[a]\nk = \"\"\"x\"\"\"\n", 2, "multi-line"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{text:?}");
            let msg = e.to_string();
            assert!(msg.contains(&format!("line {line}:")), "{text:?}: {msg}");
            assert!(msg.contains(words), "{text:?}: {msg}");
        }
    }

    #[test]
    fn write_round_trips() {
        let tables = vec![
            Table {
                name: "plain".into(),
                entries: vec![("type".into(), "local".into())],
            },
            Table {
                name: "odd name ]\"".into(),
                entries: vec![("k e\\y".into(), "a\"b\\c\nd\u{1}é # not a comment".into())],
            },
        ];
        assert_eq!(parse(&write(&tables)).unwrap(), tables);
    }
}
