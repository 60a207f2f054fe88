//! rclone's config file, `rclone.conf`: `[name]` sections of `key = value` lines, `#` and `;`
//! comment lines. Values are taken as written (trimmed; a value wrapped in double quotes
//! loses them, as rclone's reader does). An encrypted rclone.conf is refused with a clear
//! error. Read only: omnistorage never rewrites rclone's file. Self-contained (std and
//! `omnistorage`'s error type), so the fuzz targets can include it.

use omnistorage::{Error, ErrorKind};

/// One `[name]` section: its pairs in file order (a repeated key keeps its last value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The section's (remote's) name.
    pub name: String,
    /// The pairs, in order; keys are unique.
    pub entries: Vec<(String, String)>,
}

fn err(line: usize, msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidConfig, format!("line {line}: {msg}"))
}

/// Parses the text of an rclone.conf.
pub fn parse(text: &str) -> Result<Vec<Section>, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains("RCLONE_ENCRYPT_V0:") {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "this rclone config file is encrypted (rclone config encryption); \
             omnistorage cannot read it: decrypt it with `rclone config encryption remove` \
             or give a plain config with --config",
        ));
    }
    let mut sections: Vec<Section> = Vec::new();
    let mut current: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| err(n, "a section header must end with ']'"))?
                .trim();
            if name.is_empty() {
                return Err(err(n, "an empty section name"));
            }
            // rclone merges a repeated section into the first.
            current = Some(match sections.iter().position(|s| s.name == name) {
                Some(at) => at,
                None => {
                    sections.push(Section {
                        name: name.to_owned(),
                        entries: Vec::new(),
                    });
                    sections.len() - 1
                }
            });
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(err(
                n,
                format!("expected 'key = value', found {:?}", cut(line)),
            ));
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return Err(err(n, "a value without a key"));
        }
        let v = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) => inner,
            None => v,
        };
        let Some(target) = current.and_then(|at| sections.get_mut(at)) else {
            return Err(err(n, "a key outside any [remote] section"));
        };
        match target.entries.iter_mut().find(|(have, _)| have == k) {
            Some(slot) => slot.1 = v.to_owned(),
            None => target.entries.push((k.to_owned(), v.to_owned())),
        }
    }
    Ok(sections)
}

/// The start of a long line, for messages.
fn cut(line: &str) -> String {
    line.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_parse_as_rclone_writes_them() {
        let text = "; rclone\n[remote]\ntype = s3\nprovider = AWS\nsecret_access_key = a=b\n\n\
                    # comment\n[box]\ntype = sftp\npass = \"quoted\"\nempty =\n";
        let s = parse(text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "remote");
        assert_eq!(s[0].entries[2], ("secret_access_key".into(), "a=b".into()));
        assert_eq!(s[1].entries[1], ("pass".into(), "quoted".into()));
        assert_eq!(s[1].entries[2], ("empty".into(), String::new()));
    }

    #[test]
    fn repeated_sections_merge_and_repeated_keys_keep_the_last() {
        let s = parse("[a]\nx = 1\n[b]\ny = 2\n[a]\nx = 3\nz = 4\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].entries,
            vec![("x".into(), "3".into()), ("z".into(), "4".into())]
        );
        assert_eq!(s[1].entries, vec![("y".into(), "2".into())]);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line) in [
            ("[a]\njunk\n", 2),
            ("k = v\n", 1),
            ("[a\n", 1),
            ("[a]\n\n[]\n", 3),
            ("[a]\n= v\n", 2),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{text:?}");
            assert!(e.to_string().contains(&format!("line {line}:")), "{e}");
        }
    }

    #[test]
    fn encrypted_files_are_refused() {
        let text = "# Encrypted rclone configuration File\n\nRCLONE_ENCRYPT_V0:\nabc\n";
        let e = parse(text).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("encrypted"));
    }
}
