//! The SFTP backend (feature `sftp`): a directory tree on an SSH server, through libssh2.
//!
//! (Being written: issue 12.)

mod known_hosts;
mod pattern;
mod ssh_config;

/// The parsers, for the fuzz targets (`fuzz/fuzz_targets/sftp_*.rs`) and their regression
/// tests. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::known_hosts::HostKeyStatus;
    pub use super::ssh_config::HostSettings;

    /// Parses a known_hosts file; the number of malformed lines skipped.
    pub fn known_hosts_skipped(text: &str) -> usize {
        super::known_hosts::KnownHosts::parse(text).skipped()
    }

    /// Parses a known_hosts file and checks one host key against it.
    pub fn known_hosts_check(text: &str, host: &str, port: u16, key_blob: &[u8]) -> HostKeyStatus {
        super::known_hosts::KnownHosts::parse(text).check(host, port, key_blob)
    }

    /// The known_hosts line that records this host and key, if one can be written.
    pub fn known_hosts_line(host: &str, port: u16, key_blob: &[u8]) -> Option<String> {
        super::known_hosts::line_for(host, port, key_blob)
    }

    /// `SHA256:...` of a SHA-256 digest, as `ssh-keygen -l` prints it.
    pub fn fingerprint(sha256_digest: &[u8]) -> String {
        super::known_hosts::fingerprint(sha256_digest)
    }

    /// Parses an ssh_config file and looks one alias up.
    pub fn ssh_config_lookup(text: &str, alias: &str) -> HostSettings {
        super::ssh_config::SshConfig::parse(text).lookup(alias)
    }

    /// Expands `~` and the `%` tokens in an IdentityFile/UserKnownHostsFile value.
    pub fn ssh_config_expand(
        value: &str,
        host: &str,
        port: u16,
        remote_user: &str,
        local_user: &str,
        home: &str,
    ) -> String {
        let tokens = super::ssh_config::Tokens {
            host,
            port,
            remote_user,
            local_user,
            home,
        };
        super::ssh_config::expand(value, &tokens)
    }
}
