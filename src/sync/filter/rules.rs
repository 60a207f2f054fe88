//! Ordered include/exclude rule lists, as rclone builds them: file rules, directory rules,
//! and the directory rules that file rules imply.

use std::collections::HashSet;
use std::fmt;

use glob::MatchOptions;

use super::glob::compile;
use super::implied::dir_globs;
use super::matcher::Compiled;

/// One compiled rule.
#[derive(Clone)]
pub(crate) struct Rule {
    include: bool,
    glob: String,
    compiled: Compiled,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.include { '+' } else { '-' };
        write!(f, "\"{sign} {}\"", self.glob.escape_debug())
    }
}

/// An ordered list of rules: the first that matches decides; none matching includes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rules {
    list: Vec<Rule>,
    seen: HashSet<(bool, String)>,
}

impl Rules {
    fn push(&mut self, include: bool, glob: &str, compiled: Compiled) {
        // A repeated rule can never be the first match: keep the list short.
        if self.seen.insert((include, glob.to_owned())) {
            self.list.push(Rule {
                include,
                glob: glob.to_owned(),
                compiled,
            });
        }
    }

    fn clear(&mut self) {
        self.list.clear();
        self.seen.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether `text` passes: the verdict of the first rule that matches it, else true.
    pub(crate) fn include(&self, text: &str, options: MatchOptions) -> bool {
        self.list
            .iter()
            .find(|rule| rule.compiled.matches(text, options))
            .is_none_or(|rule| rule.include)
    }

    /// Whether the first rule includes everything (`+ /**` or `+ **`).
    pub(crate) fn first_includes_all(&self) -> bool {
        self.list
            .first()
            .is_some_and(|rule| rule.include && (rule.glob == "/**" || rule.glob == "**"))
    }
}

/// The file and directory rule lists of a filter.
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleSet {
    pub(crate) files: Rules,
    pub(crate) dirs: Rules,
}

impl RuleSet {
    /// Adds one include or exclude glob (rclone's `Filter.Add`). The error is a message.
    pub(crate) fn add(&mut self, include: bool, glob: &str) -> Result<(), String> {
        let dir_only = glob.ends_with('/');
        let mut glob = glob.to_owned();
        // Excluding "dir/" excludes everything under it too.
        if dir_only && !include {
            glob.push_str("**");
        }
        let recursive = glob.contains("**");
        let (file_rule, dir_rule) = (!dir_only || recursive, dir_only || recursive);
        let compiled = compile(&glob)?;
        if file_rule {
            self.files.push(include, &glob, compiled.clone());
            // An include says which directories must be looked in; an exclude cannot rule a
            // directory out, except `*`, which matches everything.
            if include || glob == "*" {
                for (dir, dir_compiled) in implied_dirs(&glob) {
                    self.dirs.push(include, &dir, dir_compiled);
                }
            }
        }
        if dir_rule {
            self.dirs.push(include, &glob, compiled);
        }
        Ok(())
    }

    /// Adds one `--filter` rule: `+ glob`, `- glob` or `!` (clear all rules so far).
    pub(crate) fn add_rule(&mut self, rule: &str) -> Result<(), String> {
        if rule == "!" {
            self.files.clear();
            self.dirs.clear();
            Ok(())
        } else if let Some(glob) = rule.strip_prefix("+ ") {
            self.add(true, glob)
        } else if let Some(glob) = rule.strip_prefix("- ") {
            self.add(false, glob)
        } else {
            Err("malformed rule: expected \"+ glob\", \"- glob\" or \"!\"".to_owned())
        }
    }
}

/// The lines of a rule or file list text that count, with their 1-based numbers: trimmed,
/// without blank lines and `#` or `;` comment lines.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !(line.is_empty() || line.starts_with('#') || line.starts_with(';')))
}

/// The compiled directory rules a file glob implies, without the root's `/` (always
/// looked in). If one does not compile, `/**`: every directory may hold a match.
fn implied_dirs(glob: &str) -> Vec<(String, Compiled)> {
    let mut out = Vec::new();
    for dir in dir_globs(glob) {
        if dir == "/" {
            continue;
        }
        match compile(&dir) {
            Ok(compiled) => out.push((dir, compiled)),
            Err(_) => {
                return compile("/**")
                    .map(|all| vec![("/**".to_owned(), all)])
                    .unwrap_or_default();
            }
        }
    }
    out
}
