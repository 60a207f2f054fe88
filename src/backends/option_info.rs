//! [`OptionInfo`]: one option a backend's string-keyed `set` takes, described for people
//! (the CLI's `config` wizard asks for them in order) and for checks (each backend's test
//! sets every option it lists, so the list and `set` cannot drift apart).

/// One option of a backend's `set(key, value)`: its name, what it does, its default, and
/// whether it is a secret. Each backend with a `set` lists its options beside it, most
/// asked-for first (`S3Builder::OPTIONS`, `SftpBuilder::OPTIONS`, `ChannelBuilder::OPTIONS`),
/// and its tests give every listed name and alias to `set`.
///
/// ```
/// use omnistorage::backends::OptionInfo;
///
/// const OPTIONS: &[OptionInfo] = &[
///     OptionInfo::new("host", "The server's host name.").required(),
///     OptionInfo::new("password", "The password.").secret(),
///     OptionInfo::new("timeout", "How long one request may take.")
///         .default_value("60s")
///         .advanced(),
/// ];
/// let password = OptionInfo::find(OPTIONS, "password").unwrap();
/// assert!(password.secret && !password.required);
/// assert_eq!(OptionInfo::find(OPTIONS, "timeout").unwrap().default, "60s");
/// assert!(OptionInfo::find(OPTIONS, "colour").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OptionInfo {
    /// The key `set` takes (rclone's name where rclone has the option).
    pub name: &'static str,
    /// Other keys `set` takes for the same option.
    pub aliases: &'static [&'static str],
    /// What it does, in a sentence or two.
    pub help: &'static str,
    /// What applies when it is not given, as text (`""`: nothing, or it depends; the help
    /// says on what).
    pub default: &'static str,
    /// A secret (a password, a key): never shown, read without echo.
    pub secret: bool,
    /// Rarely needed: the wizard asks for it only when asked to ("Edit advanced config?").
    pub advanced: bool,
    /// The backend cannot work without it.
    pub required: bool,
}

impl OptionInfo {
    /// An option called `name`, described by `help`: not secret, not advanced, not required,
    /// no default, no aliases.
    pub const fn new(name: &'static str, help: &'static str) -> OptionInfo {
        OptionInfo {
            name,
            aliases: &[],
            help,
            default: "",
            secret: false,
            advanced: false,
            required: false,
        }
    }

    /// With other keys `set` takes for it.
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> OptionInfo {
        self.aliases = aliases;
        self
    }

    /// With its default, as text.
    pub const fn default_value(mut self, default: &'static str) -> OptionInfo {
        self.default = default;
        self
    }

    /// A secret: never shown, read without echo.
    pub const fn secret(mut self) -> OptionInfo {
        self.secret = true;
        self
    }

    /// Rarely needed.
    pub const fn advanced(mut self) -> OptionInfo {
        self.advanced = true;
        self
    }

    /// Needed.
    pub const fn required(mut self) -> OptionInfo {
        self.required = true;
        self
    }

    /// Whether `key` names this option (its name or an alias).
    pub fn is(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }

    /// The option of `options` that `key` names (by its name or an alias).
    pub fn find<'a>(options: &'a [OptionInfo], key: &str) -> Option<&'a OptionInfo> {
        options.iter().find(|o| o.is(key))
    }

    /// Every key of `options`: each one's name, then its aliases.
    ///
    /// ```
    /// use omnistorage::backends::OptionInfo;
    /// use omnistorage::backends::sftp::SftpBuilder;
    ///
    /// assert!(OptionInfo::keys(SftpBuilder::OPTIONS).any(|k| k == "known_hosts"));
    /// ```
    pub fn keys(options: &[OptionInfo]) -> impl Iterator<Item = &'static str> + '_ {
        options
            .iter()
            .flat_map(|o| std::iter::once(o.name).chain(o.aliases.iter().copied()))
    }
}

/// Checks a backend's list against its `set` (`accepts(key, value)`: whether `set` took
/// it): every name and alias is taken with one of a few typical values (a flag, a size, a
/// duration, a count, a word, a URL), no key is listed twice, and a made-up key is refused
/// with all of them (so the check can fail).
#[cfg(all(test, any(feature = "s3", feature = "sftp", feature = "channel")))]
pub(crate) fn check_list(options: &[OptionInfo], accepts: impl Fn(&str, &str) -> bool) {
    const SAMPLES: &[&str] = &[
        "true",
        "8Mi",
        "30s",
        "4",
        "AWS",
        "strict",
        "value",
        "http://127.0.0.1:9000",
    ];
    let mut seen: Vec<&str> = Vec::new();
    for o in options {
        assert!(!o.help.is_empty(), "{}: no help", o.name);
        for key in std::iter::once(o.name).chain(o.aliases.iter().copied()) {
            assert!(!seen.contains(&key), "{key} listed twice");
            seen.push(key);
            assert!(
                SAMPLES.iter().any(|v| accepts(key, v)),
                "set does not take the listed option {key:?}"
            );
        }
    }
    assert!(
        !SAMPLES.iter().any(|v| accepts("no_such_option", v)),
        "set takes a made-up key: the check proves nothing"
    );
}
