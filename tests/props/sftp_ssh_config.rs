//! The SFTP backend's ssh_config parser (`src/backends/sftp/ssh_config.rs`): no input makes
//! it (or token expansion) panic, and a `Host` block written from settings reads back as those
//! settings, alone and followed by the input.
//!
//! The input is read as UTF-8 with `String::from_utf8_lossy` and parsed whole; its first line
//! is also an alias to look up and a value to expand. Then its bytes, from the start, drive
//! the settings (which options, their values, keyword case and separators) of the block
//! written for the round trip.

use omnistorage::backends::sftp::fuzzing::{self, HostSettings};

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let first_line = text.lines().next().unwrap_or_default();
    let _ = fuzzing::ssh_config_lookup(&text, first_line);
    let _ = fuzzing::ssh_config_lookup(&text, "");

    let mut input = Input { data, at: 0 };
    let port = u16::from(input.byte()) << 8 | u16::from(input.byte());
    let expanded = fuzzing::ssh_config_expand(first_line, "h", port, "r", "u", "/home/u");
    if !first_line.contains('%') && !first_line.starts_with('~') {
        assert_eq!(expanded, first_line, "nothing to expand");
    }
    let _ = fuzzing::ssh_config_expand(first_line, first_line, port, "%", "%%", "~%");

    // The block, and the settings it should read back as.
    let alias = input.string(ALIAS, 1);
    let mut want = HostSettings::default();
    let mut config = format!("{} {alias}\n", input.keyword("Host"));
    let options = u16::from(input.byte()) << 8 | u16::from(input.byte());
    let on = |bit: u16| options & (1 << bit) != 0;
    if on(0) {
        let v = input.string(VALUE, 0);
        config += &input.option("HostName", &quote(&v));
        want.host_name = Some(v);
    }
    if on(1) {
        // An invalid port first: ignored.
        let bad = ["0", "65536", "x", "-1", "\"\""][usize::from(input.byte() % 5)];
        config += &input.option("Port", bad);
    }
    if on(2) && port != 0 {
        config += &input.option("Port", &port.to_string());
        want.port = Some(port);
    }
    if on(3) {
        let v = input.string(VALUE, 0);
        config += &input.option("User", &quote(&v));
        want.user = Some(v);
    }
    for bit in 4..7 {
        if on(bit) {
            let v = input.string(VALUE, 0);
            config += &input.option("IdentityFile", &quote(&v));
            if !want.identity_files.contains(&v) {
                want.identity_files.push(v);
            }
        }
    }
    if on(7) {
        let files: Vec<String> = (0..1 + input.byte() % 3)
            .map(|_| input.string(VALUE, 0))
            .collect();
        let line: Vec<String> = files.iter().map(|f| quote(f)).collect();
        config += &input.option("UserKnownHostsFile", &line.join(" "));
        want.user_known_hosts_files = files;
    }
    if on(8) {
        let v = ["yes", "no", "accept-new", "ask", "off"][usize::from(input.byte() % 5)];
        let written = input.keyword(v);
        config += &input.option("StrictHostKeyChecking", &written);
        want.strict_host_key_checking = Some(v.to_owned());
    }
    if on(9) {
        let secs = u64::from(input.byte()) << 16 | u64::from(input.byte());
        config += &input.option("ConnectTimeout", &secs.to_string());
        want.connect_timeout = Some(secs);
    }
    if on(10) {
        let secs = u64::from(input.byte()) * 60;
        config += &input.option("ServerAliveInterval", &format!("{}m", secs / 60));
        want.server_alive_interval = Some(secs);
    }
    if on(11) {
        let yes = on(12);
        let written = input.keyword(if yes { "yes" } else { "no" });
        config += &input.option("IdentitiesOnly", &written);
        want.identities_only = Some(yes);
    }

    let got = fuzzing::ssh_config_lookup(&config, &alias);
    assert_eq!(got, want, "{config}");
    let other = fuzzing::ssh_config_lookup(&config, &format!("{alias}-other"));
    assert_eq!(other, HostSettings::default(), "another alias, {config}");

    // Followed by the input: every option set here still wins (the first value does);
    // identity files accumulate after these.
    let combined = format!("{config}{text}");
    let got = fuzzing::ssh_config_lookup(&combined, &alias);
    let context = format!("{config} then {text:?}");
    if want.host_name.is_some() {
        assert_eq!(got.host_name, want.host_name, "{context}");
    }
    if want.port.is_some() {
        assert_eq!(got.port, want.port, "{context}");
    }
    if want.user.is_some() {
        assert_eq!(got.user, want.user, "{context}");
    }
    assert!(
        got.identity_files.starts_with(&want.identity_files),
        "{context}"
    );
    if !want.user_known_hosts_files.is_empty() {
        assert_eq!(
            got.user_known_hosts_files, want.user_known_hosts_files,
            "{context}"
        );
    }
    if want.strict_host_key_checking.is_some() {
        assert_eq!(
            got.strict_host_key_checking, want.strict_host_key_checking,
            "{context}"
        );
    }
    if want.connect_timeout.is_some() {
        assert_eq!(got.connect_timeout, want.connect_timeout, "{context}");
    }
    if want.server_alive_interval.is_some() {
        assert_eq!(
            got.server_alive_interval, want.server_alive_interval,
            "{context}"
        );
    }
    if want.identities_only.is_some() {
        assert_eq!(got.identities_only, want.identities_only, "{context}");
    }
}

/// What aliases are made of (no wildcards: an alias matches only itself).
const ALIAS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789.-";
/// What values are made of: anything a double-quoted value can hold, spaces, `#`, `=` and
/// `%` included.
const VALUE: &[u8] = b"abcXYZ019.-_/~%# =\t,!*?@[]:";

/// Double-quotes a value (which holds no `"`).
fn quote(value: &str) -> String {
    format!("\"{value}\"")
}

/// The input's bytes, one at a time; zeros once it is used up.
struct Input<'a> {
    data: &'a [u8],
    at: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// A string of `min..min + 12` characters from `alphabet`.
    fn string(&mut self, alphabet: &[u8], min: usize) -> String {
        let len = min + usize::from(self.byte() % 12);
        (0..len)
            .map(|_| {
                let i = usize::from(self.byte()) % alphabet.len();
                char::from(alphabet.get(i).copied().unwrap_or(b'a'))
            })
            .collect()
    }

    /// `word` with the case of each ASCII letter chosen by the input.
    fn keyword(&mut self, word: &str) -> String {
        let bits = self.byte();
        word.chars()
            .enumerate()
            .map(|(i, c)| {
                if bits & (1 << (i % 8)) != 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    }

    /// One option line, indented or not, with `Keyword value`, `Keyword=value` or
    /// `Keyword = value`.
    fn option(&mut self, keyword: &str, value: &str) -> String {
        let keyword = self.keyword(keyword);
        let how = self.byte();
        let indent = ["", "  ", "\t"][usize::from(how % 3)];
        let sep = [" ", "=", " = ", "\t", " ="][usize::from(how / 3 % 5)];
        format!("{indent}{keyword}{sep}{value}\n")
    }
}
