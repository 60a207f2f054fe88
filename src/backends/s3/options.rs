//! [`S3Builder::set`]: every setting by its name, with rclone's option names and units, for
//! `s3://` URL parameters, rclone.conf sections and the CLI's config alike.

use super::builder::{Provider, S3Builder};
use super::client::NAME;
use crate::backends::OptionInfo;
use crate::backends::setting::Setting;
use crate::error::Result;
use crate::units::BareUnit;

/// rclone's s3 options that this backend does not implement. [`S3Builder::set`] accepts
/// them and does nothing (see [`S3Builder::ignored`]), so an rclone.conf section works as
/// it is; a URL naming one is refused, since nothing in it comes from rclone.
pub const RCLONE_IGNORED: &[&str] = &[
    "acl",
    "bucket_acl",
    "decompress",
    "description",
    "directory_bucket",
    "directory_markers",
    "disable_checksum",
    "disable_http2",
    "download_url",
    "encoding",
    "ibm_api_key",
    "ibm_resource_instance_id",
    "leave_parts_on_error",
    "list_chunk",
    "list_url_encode",
    "list_version",
    "location_constraint",
    "max_upload_parts",
    "memory_pool_flush_time",
    "memory_pool_use_mmap",
    "might_gzip",
    "no_check_bucket",
    "no_head",
    "no_head_object",
    "no_system_metadata",
    "requester_pays",
    "role_arn",
    "role_external_id",
    "role_session_duration",
    "role_session_name",
    "sdk_log_mode",
    "server_side_encryption",
    "shared_credentials_file",
    "sign_accept_encoding",
    "sse_customer_algorithm",
    "sse_customer_key",
    "sse_customer_key_base64",
    "sse_customer_key_md5",
    "sse_kms_key_id",
    "storage_class",
    "sts_endpoint",
    "upload_cutoff",
    "use_accelerate_endpoint",
    "use_accept_encoding_gzip",
    "use_already_exists",
    "use_arn_region",
    "use_dual_stack",
    "use_multipart_etag",
    "use_multipart_uploads",
    "use_presigned_request",
    "use_unsigned_payload",
    "use_x_id",
    "v2_auth",
    "version_at",
    "version_deleted",
    "versions",
];

impl S3Builder {
    /// Every option [`set`](Self::set) takes, most asked-for first (rclone's
    /// [`RCLONE_IGNORED`] options left out): for the CLI's `config` wizard and for checks. The
    /// secrets among them are never printed, not even in errors.
    ///
    /// ```
    /// use omnistorage::backends::OptionInfo;
    /// use omnistorage::backends::s3::S3Builder;
    ///
    /// let secret = OptionInfo::find(S3Builder::OPTIONS, "secret_access_key").unwrap();
    /// assert!(secret.secret);
    /// assert!(OptionInfo::find(S3Builder::OPTIONS, "path_style").is_some()); // an alias
    /// ```
    pub const OPTIONS: &'static [OptionInfo] = &[
        OptionInfo::new(
            "provider",
            "The S3 service: AWS, Cloudflare (R2), Minio, Backblaze (B2), Wasabi, \
             DigitalOcean, GCS, Garage, Ceph, Other, or one of rclone's providers.",
        )
        .default_value("AWS, or Other when an endpoint is given"),
        OptionInfo::new(
            "env_auth",
            "Take credentials from the environment (AWS_* variables, ~/.aws files) when no \
             keys are given: true or false. Unset, it is true for the library and s3:// URLs, \
             and false for a remote of the CLI's config (anonymous access without keys), as \
             in rclone.",
        ),
        OptionInfo::new(
            "access_key_id",
            "The access key id. Leave empty for anonymous access or env_auth.",
        ),
        OptionInfo::new(
            "secret_access_key",
            "The secret access key (with access_key_id).",
        )
        .secret(),
        OptionInfo::new("region", "The region to sign for.")
            .default_value("AWS_REGION, ~/.aws/config, then the provider's"),
        OptionInfo::new(
            "endpoint",
            "The endpoint URL (https:// when no scheme is given); several separated by commas \
             are tried in turn.",
        )
        .default_value("the provider's"),
        OptionInfo::new(
            "account_id",
            "Cloudflare R2's account id (with provider Cloudflare).",
        )
        .advanced(),
        OptionInfo::new(
            "force_path_style",
            "Address the bucket in the path (true) rather than as a virtual host (false).",
        )
        .aliases(&["path_style"])
        .default_value("true for an IP address or localhost and path-style providers")
        .advanced(),
        OptionInfo::new("session_token", "A session token to go with the keys.")
            .secret()
            .advanced(),
        OptionInfo::new("profile", "The profile of the shared credentials files.")
            .default_value("AWS_PROFILE, then default")
            .advanced(),
        OptionInfo::new(
            "anonymous",
            "Send no credentials at all (public buckets): true or false.",
        )
        .default_value("false")
        .advanced(),
        OptionInfo::new(
            "chunk_size",
            "The part size of multipart uploads (a bare number is KiB, as in rclone: 5Mi).",
        )
        .default_value("8Mi")
        .advanced(),
        OptionInfo::new(
            "part_size",
            "The part size of multipart uploads (a bare number is bytes): chunk_size in this \
             crate's units.",
        )
        .advanced(),
        OptionInfo::new(
            "upload_concurrency",
            "How many parts of one upload go up at once.",
        )
        .aliases(&["concurrency"])
        .default_value("4")
        .advanced(),
        OptionInfo::new(
            "copy_cutoff",
            "Objects larger than this are copied part by part (a bare number is KiB).",
        )
        .default_value("5Gi")
        .advanced(),
        OptionInfo::new(
            "endpoint_down_after",
            "How long an endpoint that fails is skipped.",
        )
        .default_value("30s")
        .advanced(),
        OptionInfo::new(
            "retries",
            "How many times a failed idempotent request is retried.",
        )
        .default_value("4")
        .advanced(),
        OptionInfo::new(
            "read_mtime",
            "Read each object's modification time (rclone's mtime metadata) in listings: \
             true or false.",
        )
        .default_value("false")
        .advanced(),
        OptionInfo::new(
            "server_modtime",
            "Take the server's upload time as the modification time: true or false.",
        )
        .default_value("false")
        .advanced(),
        OptionInfo::new(
            "conditional_writes",
            "Whether the server honours If-None-Match on PUT: true or false.",
        )
        .default_value("the provider's")
        .advanced(),
        OptionInfo::new(
            "danger_accept_invalid_certs",
            "Accept any TLS certificate (insecure: test servers only): true or false.",
        )
        .default_value("false")
        .advanced(),
        OptionInfo::new(
            "upload_journal",
            "A directory where multipart uploads are journaled, so an interrupted one resumes.",
        )
        .advanced(),
    ];

    /// Sets one option by its name: rclone's name where rclone has the option, else this
    /// crate's; the same call serves `s3://` URL parameters ([`S3Backend::from_url`](super::S3Backend::from_url)),
    /// rclone.conf sections and the CLI's TOML config. Options may come in any order.
    ///
    /// | key | aliases | setting |
    /// | --- | --- | --- |
    /// | `provider` | | [`provider`](Self::provider), by name ([`Provider::from_name`]) |
    /// | `account_id` | | R2's account id (with `provider = r2`/`Cloudflare`) |
    /// | `endpoint` | | [`endpoints`](Self::endpoints): several separated by commas; without a scheme, `https://` (as rclone) |
    /// | `endpoint_down_after` | | [`endpoint_down_after`](Self::endpoint_down_after), a duration |
    /// | `region` | | [`region`](Self::region) |
    /// | `force_path_style` | `path_style` | [`path_style`](Self::path_style) |
    /// | `access_key_id`, `secret_access_key` | | [`credentials`](Self::credentials) (both or neither) |
    /// | `session_token` | | [`session_token`](Self::session_token) |
    /// | `profile` | | [`profile`](Self::profile) |
    /// | `env_auth` | | `false` with no keys: anonymous access, as rclone; `true`: the environment's credentials (the default when unset) |
    /// | `anonymous` | | [`anonymous`](Self::anonymous) |
    /// | `chunk_size` | | [`part_size`](Self::part_size), a size; **a bare number is KiB**, as in rclone (`chunk_size = 5Mi`) |
    /// | `part_size` | | [`part_size`](Self::part_size), a size; a bare number is bytes (this crate's parameter) |
    /// | `upload_concurrency` | `concurrency` | [`concurrency`](Self::concurrency) |
    /// | `copy_cutoff` | | [`copy_cutoff`](Self::copy_cutoff), a size, a bare number in KiB |
    /// | `retries` | | [`retries`](Self::retries) |
    /// | `read_mtime`, `server_modtime`, `conditional_writes`, `danger_accept_invalid_certs` | | the settings of those names |
    /// | `upload_journal` | | [`upload_journal`](Self::upload_journal), a directory (empty: none) |
    ///
    /// Booleans are `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`); sizes and
    /// durations are read by [`units`](crate::units). rclone's options this backend does not
    /// implement ([`RCLONE_IGNORED`]: `acl`, `storage_class`, ...) are accepted and listed by
    /// [`ignored`](Self::ignored). Any other key, and a value that does not parse, is
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) naming the key and the backend (never a secret's value).
    ///
    /// ```
    /// use omnistorage::backends::s3::S3Builder;
    ///
    /// let b = S3Builder::new("bucket")
    ///     .set("provider", "Minio")?
    ///     .set("endpoint", "http://127.0.0.1:9000")?
    ///     .set("chunk_size", "16Mi")?
    ///     .set("upload_concurrency", "8")?;
    /// assert!(S3Builder::new("bucket").set("colour", "blue").is_err());
    /// # drop(b);
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn set(mut self, key: &str, value: &str) -> Result<S3Builder> {
        let v = Setting {
            backend: NAME,
            key,
            value,
            secret: OptionInfo::find(Self::OPTIONS, key).is_some_and(|o| o.secret),
        };
        let invalid = |why: &str| v.invalid(why);
        Ok(match key {
            "provider" => {
                let lower = value.trim().to_ascii_lowercase();
                let provider = if matches!(lower.as_str(), "r2" | "cloudflare") {
                    Provider::CloudflareR2 {
                        account_id: self.account_id.clone().unwrap_or_default(),
                    }
                } else {
                    Provider::from_name(value.trim(), None)
                        .map_err(|e| invalid(e.message().unwrap_or("unknown")))?
                };
                self.provider(provider)
            }
            "account_id" => {
                if let Some(Provider::CloudflareR2 { account_id }) = &mut self.provider {
                    *account_id = value.to_owned();
                }
                self.account_id = Some(value.to_owned());
                self
            }
            "endpoint" => self.endpoints(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(|e| {
                        if e.contains("://") {
                            e.to_owned()
                        } else {
                            format!("https://{e}")
                        }
                    }),
            ),
            "endpoint_down_after" => self.endpoint_down_after(v.duration()?),
            "region" => self.region(value),
            "force_path_style" | "path_style" => self.path_style(v.flag()?),
            "access_key_id" => {
                self.creds.key_id = Some(value.to_owned());
                self
            }
            "secret_access_key" => {
                self.creds.secret = Some(super::creds::Secret(value.to_owned()));
                self
            }
            "session_token" => self.session_token(value),
            "profile" => self.profile(value),
            "env_auth" => {
                self.env_auth = Some(v.flag()?);
                self
            }
            "anonymous" => self.anonymous(v.flag()?),
            "chunk_size" | "part_size" => {
                let bare = if key == "chunk_size" {
                    BareUnit::KiB
                } else {
                    BareUnit::Bytes
                };
                let bytes = usize::try_from(v.size(bare)?).map_err(|_| invalid("too large"))?;
                self.part_size(bytes)
            }
            "upload_concurrency" | "concurrency" => {
                self.concurrency(usize::try_from(v.count()?).unwrap_or(usize::MAX))
            }
            "copy_cutoff" => self.copy_cutoff(v.size(BareUnit::KiB)?),
            "retries" => self.retries(u32::try_from(v.count()?).unwrap_or(u32::MAX)),
            "read_mtime" => self.read_mtime(v.flag()?),
            "server_modtime" => self.server_modtime(v.flag()?),
            "conditional_writes" => self.conditional_writes(v.flag()?),
            "danger_accept_invalid_certs" => self.danger_accept_invalid_certs(v.flag()?),
            "upload_journal" if value.is_empty() => self,
            "upload_journal" => self.upload_journal(value),
            ignored if RCLONE_IGNORED.contains(&ignored) => {
                self.ignored.push(ignored.to_owned());
                self
            }
            _ => return Err(v.unknown_in(Self::OPTIONS, RCLONE_IGNORED)),
        })
    }

    /// The rclone options [`set`](Self::set) accepted without using them
    /// ([`RCLONE_IGNORED`]), in the order given.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn debug(b: &S3Builder) -> String {
        format!("{b:?}")
    }

    #[test]
    fn set_takes_every_listed_option() {
        crate::backends::option_info::check_list(S3Builder::OPTIONS, |k, v| {
            S3Builder::new("b").set(k, v).is_ok()
        });
    }

    #[test]
    fn every_listed_key_is_known_and_typos_name_their_key() {
        for key in crate::backends::OptionInfo::keys(S3Builder::OPTIONS) {
            if let Err(e) = S3Builder::new("b").set(key, "") {
                assert!(!e.to_string().contains("unknown option"), "{key}: {e}");
            }
        }
        for (typo, key) in [
            ("regoin", "region"),
            ("part_sise", "part_size"),
            ("acess_key_id", "access_key_id"),
        ] {
            let e = S3Builder::new("b").set(typo, "x").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig);
            assert!(
                e.to_string().contains(&format!("did you mean {key:?}?")),
                "{typo}: {e}"
            );
        }
    }

    #[test]
    fn rclone_names_and_aliases_set_the_same() {
        let ours = S3Builder::new("b")
            .set("path_style", "true")
            .and_then(|b| b.set("concurrency", "8"))
            .and_then(|b| b.set("part_size", "16777216"))
            .unwrap();
        let rclone = S3Builder::new("b")
            .set("force_path_style", "true")
            .and_then(|b| b.set("upload_concurrency", "8"))
            .and_then(|b| b.set("chunk_size", "16384"))
            .unwrap();
        assert_eq!(debug(&ours), debug(&rclone));
        let five = S3Builder::new("b").set("chunk_size", "5Mi").unwrap();
        assert_eq!(five.part_size, 5 << 20);
    }

    #[test]
    fn order_does_not_matter() {
        let a = S3Builder::new("b")
            .set("session_token", "T")
            .and_then(|b| b.set("account_id", "acct"))
            .and_then(|b| b.set("provider", "Cloudflare"))
            .and_then(|b| b.set("access_key_id", "K"))
            .and_then(|b| b.set("secret_access_key", "S"))
            .unwrap();
        let b = S3Builder::new("b")
            .set("provider", "Cloudflare")
            .and_then(|b| b.set("secret_access_key", "S"))
            .and_then(|b| b.set("access_key_id", "K"))
            .and_then(|b| b.set("account_id", "acct"))
            .and_then(|b| b.set("session_token", "T"))
            .unwrap();
        assert_eq!(debug(&a), debug(&b));
        assert!(debug(&a).contains("acct"));
    }

    #[test]
    fn bad_keys_and_values_name_the_key_and_hide_secrets() {
        let e = S3Builder::new("b").set("colour", "blue").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(
            e.to_string().contains("colour") && e.to_string().contains("s3"),
            "{e}"
        );
        for (key, value) in [
            ("force_path_style", "maybe"),
            ("chunk_size", "5X"),
            ("endpoint_down_after", "soon"),
            ("upload_concurrency", "many"),
            ("provider", "nosuchcloud"),
        ] {
            let e = S3Builder::new("b").set(key, value).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{key}");
            assert!(e.to_string().contains(key), "{e}");
        }
        let b = S3Builder::new("b")
            .set("secret_access_key", "SECRETVALUE")
            .and_then(|b| b.set("session_token", "SECRETTOKEN"))
            .unwrap();
        assert!(!debug(&b).contains("SECRET"), "{b:?}");
        let b = S3Builder::new("b").set("acl", "private").unwrap();
        assert_eq!(b.ignored(), ["acl"]);
    }
}
