//! Matching compiled globs: `glob::Pattern` within a path segment, and a bit-set automaton
//! over the segments for `/` and `**`.
//!
//! Why not one `glob::Pattern` for the whole path: with `require_literal_separator`, `glob`
//! backtracks exponentially in the number of `*` once a `*` reaches a `/` (measured:
//! `*a*a*a*b` against a 400-character path that does not match took 1.3 s, one more `*`
//! 35 s). Within one segment its fail-fast keeps it fast, and the automaton visits each
//! segment once per component: time is linear in the path.

use glob::{MatchOptions, Pattern};

/// A component of a compiled alternative, as built by the translation.
#[derive(Clone, Debug)]
pub(crate) enum Piece {
    /// The `glob` pattern of one segment (it has no `/` to match).
    Text(String),
    /// `**` as a whole component: any number of whole segments; at the end, one or more
    /// (the last may be empty, as in `dir/` against `dir/**`).
    Any,
}

/// At most this many components per alternative (one bit each, and one for "matched").
const MAX_COMPONENTS: usize = 127;

#[derive(Clone, Debug)]
enum Component {
    Segment(Pattern),
    Any,
}

#[derive(Clone, Debug)]
struct Alternative {
    components: Vec<Component>,
    /// The literal text every match ends with: checked first, as it is cheap.
    suffix: String,
    /// The bits of the components that are `Any` but not the last (they may match nothing).
    skippable: u128,
}

/// A glob compiled to alternatives; it matches a path when one of them does.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    alternatives: Vec<Alternative>,
}

impl Compiled {
    /// Compiles alternatives (components, literal suffix). The error is a message.
    pub(crate) fn new(alternatives: Vec<(Vec<Piece>, String)>) -> Result<Compiled, String> {
        let mut out = Vec::with_capacity(alternatives.len());
        for (pieces, suffix) in alternatives {
            if pieces.len() > MAX_COMPONENTS {
                return Err(format!("more than {MAX_COMPONENTS} path components"));
            }
            let mut components = Vec::with_capacity(pieces.len());
            let mut skippable = 0u128;
            for (i, piece) in pieces.iter().enumerate() {
                components.push(match piece {
                    Piece::Text(text) => {
                        Component::Segment(Pattern::new(text).map_err(|e| {
                            format!("internal glob translation {text:?} failed: {e}")
                        })?)
                    }
                    Piece::Any => {
                        if i + 1 < pieces.len() {
                            skippable |= 1 << i;
                        }
                        Component::Any
                    }
                });
            }
            out.push(Alternative {
                components,
                suffix,
                skippable,
            });
        }
        Ok(Compiled { alternatives: out })
    }

    /// Whether `text` (a path, or a directory path with a trailing `/`) matches.
    pub(crate) fn matches(&self, text: &str, options: MatchOptions) -> bool {
        self.alternatives.iter().any(|alternative| {
            ends_with(text, &alternative.suffix, options.case_sensitive)
                && alternative.matches(text, options)
        })
    }
}

impl Alternative {
    /// Runs the automaton: bit `i` of the state means "component `i` is next"; bit `n`
    /// (the number of components) means "all matched".
    fn matches(&self, text: &str, options: MatchOptions) -> bool {
        if let [Component::Any, Component::Segment(pattern)] = self.components.as_slice() {
            // The common unanchored one-segment glob (`*.jpg`): the last segment decides.
            let last = text.rsplit('/').next().unwrap_or(text);
            return pattern.matches_with(last, options);
        }
        let n = self.components.len();
        let done = 1u128 << n;
        let mut state = self.skip(1);
        for segment in text.split('/') {
            let mut next = 0u128;
            let mut bits = state & (done - 1);
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                match self.components.get(i) {
                    Some(Component::Any) => {
                        next |= 1 << i;
                        if i + 1 == n {
                            next |= done;
                        }
                    }
                    Some(Component::Segment(pattern)) if pattern.matches_with(segment, options) => {
                        next |= 1 << (i + 1);
                    }
                    _ => {}
                }
            }
            if next == 0 {
                return false;
            }
            state = self.skip(next);
        }
        state & done != 0
    }

    /// Adds the components reachable by letting skippable `**`s match nothing.
    fn skip(&self, mut state: u128) -> u128 {
        let mut bits = state & self.skippable;
        while bits != 0 {
            let i = bits.trailing_zeros();
            bits &= bits - 1;
            let after = 1u128 << (i + 1);
            if state & after == 0 {
                state |= after;
                bits |= after & self.skippable;
            }
        }
        state
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
