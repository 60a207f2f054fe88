//! OpenSSH's wildcard host patterns (`man ssh_config`, "PATTERNS"), as known_hosts and the
//! `Host` lines of ssh_config use them.
//!
//! A pattern is matched against the whole text: `*` matches any run of characters (none
//! too), `?` exactly one character, every other character itself, ASCII letters without
//! regard to case. There are no character classes and no escapes (`[` in `[host]:port` is an
//! ordinary character).

/// Whether `text` matches the wildcard `pattern` as a whole, ASCII case-insensitively.
///
/// Iterative, with one remembered position (the last `*`): a `*` only ever needs to retry
/// from the latest one, so the time is at most `pattern.len() * text.len()` steps, never
/// exponential.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    // The last `*` seen (its index in `p`) and the text index it is currently made to end at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match (p.get(pi), t.get(ti)) {
            (Some('*'), _) => {
                star = Some((pi, ti));
                pi += 1;
            }
            (Some(&pc), Some(&tc)) if pc == '?' || pc.eq_ignore_ascii_case(&tc) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more character and retry after it.
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    pi = sp + 1;
                    ti = st + 1;
                }
                None => return false,
            },
        }
    }
    // The text is used up: only `*`s may remain.
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// OpenSSH's pattern-list rule, on patterns already split (on commas for known_hosts, on
/// whitespace for a `Host` line): a pattern starting with `!` is negated. `host` matches the
/// list when no negated pattern matches it and at least one plain pattern does; a list of
/// negated patterns alone therefore never matches.
pub(crate) fn matches_list<'a, I>(patterns: I, host: &str) -> bool
where
    I: IntoIterator<Item = &'a str>,
{
    let mut positive = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) => {
                if matches(negated, host) {
                    return false;
                }
            }
            None => positive = positive || matches(pattern, host),
        }
    }
    positive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_patterns_match_whole_text_only() {
        assert!(matches("example.org", "example.org"));
        assert!(!matches("example.org", "example.org.uk"));
        assert!(!matches("example.org", "www.example.org"));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
        assert!(!matches("a", ""));
    }

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(matches("*", ""));
        assert!(matches("*", "anything at all"));
        assert!(matches("*.example.org", "www.example.org"));
        assert!(matches("*.example.org", "a.b.example.org"));
        assert!(!matches("*.example.org", "example.org"));
        assert!(matches("a*b*c", "abc"));
        assert!(matches("a*b*c", "aXbYbZc"));
        assert!(!matches("a*b*c", "aXbYbZ"));
        assert!(matches("**", "x"));
        assert!(matches("[*]:2222", "[host]:2222"));
        assert!(!matches("[*]:2222", "[host]:22"));
    }

    #[test]
    fn question_mark_matches_exactly_one_char() {
        assert!(matches("host?", "host1"));
        assert!(!matches("host?", "host"));
        assert!(!matches("host?", "host12"));
        assert!(matches("h?st", "hést"));
        assert!(matches("??", "ab"));
    }

    #[test]
    fn matching_ignores_ascii_case() {
        assert!(matches("Example.ORG", "example.org"));
        assert!(matches("*.EXAMPLE.org", "WWW.example.ORG"));
    }

    #[test]
    fn pathological_stars_stay_fast() {
        let pattern = "*a".repeat(200) + "b";
        let text = "a".repeat(5000);
        let start = std::time::Instant::now();
        assert!(!matches(&pattern, &text));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn list_needs_one_positive_match() {
        assert!(matches_list(["a", "b", "c"], "b"));
        assert!(!matches_list(["a", "b", "c"], "d"));
        assert!(!matches_list([], "d"));
    }

    #[test]
    fn list_negation_wins_over_positive() {
        let list = ["*.example.org", "!secret.example.org"];
        assert!(matches_list(list, "www.example.org"));
        assert!(!matches_list(list, "secret.example.org"));
        // Order does not matter.
        assert!(!matches_list(["!secret*", "*"], "secret.example.org"));
        assert!(!matches_list(["*", "!secret*"], "secret.example.org"));
    }

    #[test]
    fn list_of_negations_alone_never_matches() {
        assert!(!matches_list(["!a"], "b"));
        assert!(!matches_list(["!a"], "a"));
    }

    #[test]
    fn list_comma_and_whitespace_splitting_callers() {
        assert!(matches_list("a,*.b,!x.b".split(','), "y.b"));
        assert!(!matches_list("a,*.b,!x.b".split(','), "x.b"));
        assert!(matches_list("a  *.b\t!x.b".split_whitespace(), "y.b"));
    }
}
