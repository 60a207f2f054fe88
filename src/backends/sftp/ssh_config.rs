//! The subset of OpenSSH's client configuration (`~/.ssh/config`, `man ssh_config`) the SFTP
//! backend uses: `HostName`, `Port`, `User`, `IdentityFile`, `UserKnownHostsFile`,
//! `StrictHostKeyChecking`, `ConnectTimeout`, `ServerAliveInterval`, `IdentitiesOnly`.
//!
//! The rules, as ssh applies them:
//!
//! - One option per line: `Keyword value`, `Keyword=value` or `Keyword = value`; keywords are
//!   case-insensitive; a value may be double-quoted (the quotes are removed); blank lines and
//!   lines starting with `#` are comments, and so is the rest of a line from a word starting
//!   with an unquoted `#`. Unknown keywords are ignored.
//! - Options before the first `Host` line apply to every host. A `Host` line starts a block
//!   that applies when the alias matches its whitespace-separated pattern list (`*`, `?`,
//!   `!negation`: a matching negated pattern excludes the block).
//! - For each option the FIRST value obtained wins, except `IdentityFile`, whose values
//!   accumulate, in order, across every block that applies (a repeated file counted once).
//!   `UserKnownHostsFile` takes several files on one line; like ssh, the first line obtained
//!   wins with all of its files.
//! - Not supported: `Match` blocks are not evaluated, they never apply (the block extends to
//!   the next `Host` or `Match` line); `Include` is not followed (ignored). Invalid values (a
//!   port that is not a number in 1..=65535, a timeout that is not a time, `IdentitiesOnly`
//!   neither yes nor no) are ignored, as if the line were not there.
//!
//! Parsing never fails: a configuration ssh would reject is read as far as it makes sense.

use super::pattern;

/// Which lines apply to a block.
#[derive(Debug, Clone)]
enum Condition {
    /// Before the first `Host`/`Match`: every host.
    Always,
    /// `Host patterns...`.
    Host(Vec<String>),
    /// `Match ...`: never (not evaluated).
    Never,
}

/// One option line: the keyword lower-cased, the values unquoted.
#[derive(Debug, Clone)]
struct Setting {
    keyword: String,
    values: Vec<String>,
}

/// A block of options under one condition.
#[derive(Debug, Clone)]
struct Block {
    condition: Condition,
    settings: Vec<Setting>,
}

/// A parsed ssh_config file.
#[derive(Debug, Clone, Default)]
pub(crate) struct SshConfig {
    blocks: Vec<Block>,
}

/// The options that apply to one host alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// `HostName`: the real host to connect to (raw: a `%h` in it is not expanded).
    pub host_name: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `User`.
    pub user: Option<String>,
    /// `IdentityFile`s, raw (tokens and `~` not expanded), in order.
    pub identity_files: Vec<String>,
    /// `UserKnownHostsFile`: the files of the first such line, split on whitespace, raw.
    pub user_known_hosts_files: Vec<String>,
    /// `StrictHostKeyChecking`, raw, lower-cased (`yes`, `no`, `accept-new`, `ask`, `off`...).
    pub strict_host_key_checking: Option<String>,
    /// `ConnectTimeout`, in seconds.
    pub connect_timeout: Option<u64>,
    /// `ServerAliveInterval`, in seconds.
    pub server_alive_interval: Option<u64>,
    /// `IdentitiesOnly`.
    pub identities_only: Option<bool>,
}

impl SshConfig {
    /// Parses a configuration file. Never fails; unknown keywords are ignored.
    pub(crate) fn parse(text: &str) -> SshConfig {
        let mut blocks = vec![Block {
            condition: Condition::Always,
            settings: Vec::new(),
        }];
        for line in text.lines() {
            let Some((keyword, values)) = split_line(line) else {
                continue;
            };
            let condition = match keyword.as_str() {
                "host" => Condition::Host(values),
                "match" => Condition::Never,
                _ => {
                    if let Some(block) = blocks.last_mut() {
                        block.settings.push(Setting { keyword, values });
                    }
                    continue;
                }
            };
            blocks.push(Block {
                condition,
                settings: Vec::new(),
            });
        }
        SshConfig { blocks }
    }

    /// The options that apply to `alias` (the host name as the user gave it).
    pub(crate) fn lookup(&self, alias: &str) -> HostSettings {
        let mut out = HostSettings::default();
        let mut known_hosts_set = false;
        for block in &self.blocks {
            let applies = match &block.condition {
                Condition::Always => true,
                Condition::Host(patterns) => {
                    pattern::matches_list(patterns.iter().map(String::as_str), alias)
                }
                Condition::Never => false,
            };
            if !applies {
                continue;
            }
            for Setting { keyword, values } in &block.settings {
                let first = values.first();
                match keyword.as_str() {
                    "hostname" => set_once(&mut out.host_name, first.cloned()),
                    "port" => set_once(&mut out.port, first.and_then(|v| parse_port(v))),
                    "user" => set_once(&mut out.user, first.cloned()),
                    "identityfile" => {
                        if let Some(file) = first
                            && !out.identity_files.contains(file)
                        {
                            out.identity_files.push(file.clone());
                        }
                    }
                    "userknownhostsfile" if !known_hosts_set && !values.is_empty() => {
                        out.user_known_hosts_files = values.clone();
                        known_hosts_set = true;
                    }
                    "stricthostkeychecking" => set_once(
                        &mut out.strict_host_key_checking,
                        first.map(|v| v.to_ascii_lowercase()),
                    ),
                    "connecttimeout" => {
                        set_once(&mut out.connect_timeout, first.and_then(|v| parse_time(v)));
                    }
                    "serveraliveinterval" => set_once(
                        &mut out.server_alive_interval,
                        first.and_then(|v| parse_time(v)),
                    ),
                    "identitiesonly" => {
                        set_once(
                            &mut out.identities_only,
                            first.and_then(|v| parse_yes_no(v)),
                        );
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// Sets `slot` to `value` unless it already has one or `value` is `None` (first value wins;
/// an invalid value counts as no value).
fn set_once<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// A port: a decimal number in 1..=65535.
fn parse_port(value: &str) -> Option<u16> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u16>().ok().filter(|&p| p != 0)
}

/// `yes`/`true` or `no`/`false`, case-insensitively.
fn parse_yes_no(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// An ssh time value in seconds (`man sshd_config`, "TIME FORMATS"): a decimal number, or a
/// sequence of numbers each followed by a unit (`s`, `m`, `h`, `d`, `w`, either case; none
/// means seconds), e.g. `90`, `1m30s`, `1h`. `None` for anything else or on overflow.
fn parse_time(value: &str) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = value;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let (number, after) = rest.split_at(digits);
        let number: u64 = number.parse().ok()?;
        let mut chars = after.chars();
        let (unit, after) = match chars.next() {
            None => (1, ""),
            Some(c) => {
                let unit = match c.to_ascii_lowercase() {
                    's' => 1,
                    'm' => 60,
                    'h' => 60 * 60,
                    'd' => 24 * 60 * 60,
                    'w' => 7 * 24 * 60 * 60,
                    _ => return None,
                };
                (unit, chars.as_str())
            }
        };
        total = total.checked_add(number.checked_mul(unit)?)?;
        rest = after;
    }
    Some(total)
}

/// Splits one line into its keyword (lower-cased) and values, or `None` for a blank line or
/// a comment.
///
/// Words are separated by spaces or tabs; `=` may separate the keyword from the first value
/// (with or without spaces around it); double quotes group a value with spaces in it and are
/// removed; an unquoted word starting with `#` ends the line.
fn split_line(line: &str) -> Option<(String, Vec<String>)> {
    let line = line.trim_start_matches([' ', '\t']);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line.find([' ', '\t', '=']).unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    if keyword.is_empty() {
        return None;
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    Some((keyword.to_ascii_lowercase(), split_words(rest)))
}

/// Whitespace-separated words, double quotes grouping (and removed), until a word that starts
/// with an unquoted `#`. An unclosed quote runs to the end of the line.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|&c| c == ' ' || c == '\t').is_some() {}
        match chars.peek() {
            None | Some('#') => break,
            Some(_) => {}
        }
        let mut word = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next_if(|&c| quoted || (c != ' ' && c != '\t')) {
            if c == '"' {
                quoted = !quoted;
            } else {
                word.push(c);
            }
        }
        words.push(word);
    }
    words
}

/// What the tokens of an `IdentityFile` or `UserKnownHostsFile` value stand for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tokens<'a> {
    /// `%h`: the remote host name (after `HostName`).
    pub(crate) host: &'a str,
    /// `%p`: the remote port.
    pub(crate) port: u16,
    /// `%r`: the remote user name.
    pub(crate) remote_user: &'a str,
    /// `%u`: the local user name.
    pub(crate) local_user: &'a str,
    /// `%d` and `~`: the local user's home directory.
    pub(crate) home: &'a str,
}

/// Expands an `IdentityFile`/`UserKnownHostsFile` value: a leading `~` or `~/` (the home
/// directory; `~user` is left as it is), and the tokens `%h` (host name), `%p` (port), `%r`
/// (remote user), `%u` (local user), `%d` (home), `%%` (`%`). Other `%` sequences, and a `%`
/// at the end, are left as they are. Expansion is one pass: what a token expands to is not
/// expanded again.
pub(crate) fn expand(value: &str, tokens: &Tokens) -> String {
    let mut out = String::with_capacity(value.len());
    let rest = if value == "~" {
        out.push_str(tokens.home);
        ""
    } else if let Some(rest) = value.strip_prefix("~/") {
        out.push_str(tokens.home.strip_suffix('/').unwrap_or(tokens.home));
        out.push('/');
        rest
    } else {
        value
    };
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(tokens.host),
            Some('p') => out.push_str(&tokens.port.to_string()),
            Some('r') => out.push_str(tokens.remote_user),
            Some('u') => out.push_str(tokens.local_user),
            Some('d') => out.push_str(tokens.home),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(text: &str, alias: &str) -> HostSettings {
        SshConfig::parse(text).lookup(alias)
    }

    #[test]
    fn keyword_value_forms_and_case() {
        for text in [
            "HostName real.example.org",
            "hostname=real.example.org",
            "HOSTNAME = real.example.org",
            "  HostName\treal.example.org  ",
            "HostName= real.example.org",
            "HostName =real.example.org",
            "HostName \"real.example.org\"",
        ] {
            assert_eq!(
                lookup(text, "x").host_name.as_deref(),
                Some("real.example.org"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn quoted_values_keep_spaces_and_lose_quotes() {
        let s = lookup(
            "IdentityFile \"~/My Keys/id_ed25519\"\nUser \"a\"b\"\"\n",
            "x",
        );
        assert_eq!(s.identity_files, ["~/My Keys/id_ed25519"]);
        assert_eq!(s.user.as_deref(), Some("ab"));
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let text = "# a comment\n\n   # indented\nPort 2222 # trailing\nUser \"#not\" # yes\n";
        let s = lookup(text, "x");
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.user.as_deref(), Some("#not"));
    }

    #[test]
    fn options_before_first_host_apply_to_all() {
        let text = "User global\nHost a\n  User a-user\n  Port 2200\n";
        assert_eq!(lookup(text, "a").user.as_deref(), Some("global"));
        assert_eq!(lookup(text, "a").port, Some(2200));
        assert_eq!(lookup(text, "b").user.as_deref(), Some("global"));
        assert_eq!(lookup(text, "b").port, None);
    }

    #[test]
    fn host_patterns_wildcards_and_lists() {
        let text = "Host web? *.example.org db\n  Port 2201\n";
        for alias in ["web1", "a.example.org", "db", "DB"] {
            assert_eq!(lookup(text, alias).port, Some(2201), "{alias}");
        }
        for alias in ["web12", "example.org", "dbx"] {
            assert_eq!(lookup(text, alias).port, None, "{alias}");
        }
    }

    #[test]
    fn host_negation_excludes_the_block() {
        let text = "Host *.example.org !bastion.example.org\n  User deploy\nHost *\n  User me\n";
        assert_eq!(
            lookup(text, "a.example.org").user.as_deref(),
            Some("deploy")
        );
        assert_eq!(
            lookup(text, "bastion.example.org").user.as_deref(),
            Some("me")
        );
        // Negations alone never match.
        assert_eq!(lookup("Host !a\n  Port 1\n", "b").port, None);
    }

    #[test]
    fn first_value_wins() {
        let text = "Host a\n  Port 1\n  User one\n  StrictHostKeyChecking Accept-New\n  \
                    ConnectTimeout 5\n  ServerAliveInterval 7\n  IdentitiesOnly yes\n  \
                    HostName h1\n  UserKnownHostsFile /k1 /k2\n\
                    Host *\n  Port 2\n  User two\n  StrictHostKeyChecking no\n  \
                    ConnectTimeout 50\n  ServerAliveInterval 70\n  IdentitiesOnly no\n  \
                    HostName h2\n  UserKnownHostsFile /k3\n";
        let want = HostSettings {
            host_name: Some("h1".into()),
            port: Some(1),
            user: Some("one".into()),
            identity_files: vec![],
            user_known_hosts_files: vec!["/k1".into(), "/k2".into()],
            strict_host_key_checking: Some("accept-new".into()),
            connect_timeout: Some(5),
            server_alive_interval: Some(7),
            identities_only: Some(true),
        };
        assert_eq!(lookup(text, "a"), want);
        let other = lookup(text, "b");
        assert_eq!(other.port, Some(2));
        assert_eq!(other.user_known_hosts_files, ["/k3"]);
        assert_eq!(other.identities_only, Some(false));
    }

    #[test]
    fn identity_files_accumulate_in_order_once_each() {
        let text = "IdentityFile ~/.ssh/global\nHost a\n  IdentityFile ~/.ssh/a\n  \
                    IdentityFile ~/.ssh/%h\nHost *\n  IdentityFile ~/.ssh/a\n  \
                    IdentityFile ~/.ssh/star\n";
        assert_eq!(
            lookup(text, "a").identity_files,
            ["~/.ssh/global", "~/.ssh/a", "~/.ssh/%h", "~/.ssh/star"]
        );
        assert_eq!(
            lookup(text, "b").identity_files,
            ["~/.ssh/global", "~/.ssh/a", "~/.ssh/star"]
        );
    }

    #[test]
    fn match_blocks_never_apply_and_run_to_next_host() {
        let text = "Match host a\n  Port 1\n  User m\nHost a\n  Port 2\nMatch all\n  User n\n";
        let s = lookup(text, "a");
        assert_eq!(s.port, Some(2));
        assert_eq!(s.user, None);
    }

    #[test]
    fn include_is_not_followed() {
        let s = lookup("Include ~/.ssh/config.d/*\nPort 2022\n", "a");
        assert_eq!(s.port, Some(2022));
    }

    #[test]
    fn invalid_port_is_ignored_so_a_later_one_applies() {
        for bad in ["0", "65536", "-1", "+22", "ssh", "22x", ""] {
            let text = format!("Host a\n  Port {bad}\nHost *\n  Port 2222\n");
            assert_eq!(lookup(&text, "a").port, Some(2222), "{bad:?}");
        }
        assert_eq!(lookup("Port 65535", "a").port, Some(65535));
    }

    #[test]
    fn times_accept_ssh_time_formats() {
        for (value, secs) in [("30", 30), ("1m30s", 90), ("2H", 7200), ("1w", 604_800)] {
            let s = lookup(
                &format!("ConnectTimeout {value}\nServerAliveInterval {value}"),
                "x",
            );
            assert_eq!(s.connect_timeout, Some(secs), "{value}");
            assert_eq!(s.server_alive_interval, Some(secs), "{value}");
        }
        for bad in [
            "",
            "x",
            "5x",
            "m",
            "-5",
            "99999999999999999999",
            "18446744073709551615w",
        ] {
            let s = lookup(&format!("ConnectTimeout {bad}\nConnectTimeout 9"), "x");
            assert_eq!(s.connect_timeout, Some(9), "{bad:?}");
        }
    }

    #[test]
    fn identities_only_yes_no() {
        assert_eq!(
            lookup("IdentitiesOnly YES", "x").identities_only,
            Some(true)
        );
        assert_eq!(
            lookup("IdentitiesOnly no", "x").identities_only,
            Some(false)
        );
        assert_eq!(
            lookup("IdentitiesOnly maybe\nIdentitiesOnly no", "x").identities_only,
            Some(false)
        );
    }

    #[test]
    fn unknown_keywords_are_ignored() {
        let s = lookup("ForwardAgent yes\nFrobnicate\nPort 23\n=\n", "x");
        assert_eq!(s.port, Some(23));
    }

    #[test]
    fn expand_tilde_and_tokens() {
        let tokens = Tokens {
            host: "real.example.org",
            port: 2222,
            remote_user: "deploy",
            local_user: "me",
            home: "/home/me",
        };
        assert_eq!(
            expand("~/.ssh/id_%h", &tokens),
            "/home/me/.ssh/id_real.example.org"
        );
        assert_eq!(expand("~", &tokens), "/home/me");
        assert_eq!(expand("~other/x", &tokens), "~other/x");
        assert_eq!(expand("a~/b", &tokens), "a~/b");
        assert_eq!(
            expand("%d/%u/%r@%h:%p %% 100%", &tokens),
            "/home/me/me/deploy@real.example.org:2222 % 100%"
        );
        assert_eq!(expand("%x%", &tokens), "%x%");
        let percent_home = Tokens {
            home: "/h%h/",
            ..tokens
        };
        assert_eq!(expand("~/k", &percent_home), "/h%h/k");
    }
}
