//! The backends that ship with the crate.
//!
//! | backend | type | feature | URL |
//! | --- | --- | --- | --- |
//! | local files | [`FileBackend`](file::FileBackend) | (always) | `file:///abs`, `/abs`, `rel` |
//! | memory | [`MemoryBackend`](memory::MemoryBackend) | (always) | `mem://`, `mem://NAME` |
//! | in-process streams | `ChannelBackend` (`channel::ChannelBackend`) | `channel` | `chan://`, `chan://NAME?persistent=true` |
//! | S3 and S3-compatible | `S3Backend` (`s3::S3Backend`) | `s3` | `s3://bucket/prefix?endpoint=...` |
//! | SFTP | `SftpBackend` (`sftp::SftpBackend`) | `sftp` | `sftp://user@host:port/abs/path?key=...` |
//!
//! Options given by name (a builder's `set`, URL query parameters, the CLI's config) are
//! checked: an unknown one is [`InvalidConfig`](crate::ErrorKind::InvalidConfig) naming the
//! option meant when it looks like a typo ([`unknown_key`]); a `file://` or `mem://` URL
//! takes none.

pub mod file;
mod guard;
pub mod memory;
mod option_info;
mod paged;
#[cfg(any(feature = "s3", feature = "sftp"))]
mod secret;
#[cfg(any(feature = "s3", feature = "sftp", feature = "channel"))]
mod setting;

#[cfg(feature = "channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "channel")))]
pub mod channel;

#[cfg(feature = "s3")]
pub mod s3;

#[cfg(feature = "sftp")]
#[cfg_attr(docsrs, doc(cfg(feature = "sftp")))]
pub mod sftp;

pub(crate) mod tree;

pub use option_info::OptionInfo;
mod unknown_key;
pub use unknown_key::unknown_key;
