//! The backends that ship with the crate.
//!
//! | backend | type | feature | URL |
//! | --- | --- | --- | --- |
//! | local files | [`FileBackend`](file::FileBackend) | (always) | `file:///abs`, `/abs`, `rel` |
//! | memory | [`MemoryBackend`](memory::MemoryBackend) | (always) | `mem://`, `mem://NAME` |
//! | in-process streams | `ChannelBackend` (`channel::ChannelBackend`) | `channel` | `chan://`, `chan://NAME?persistent=true` |

pub mod file;
pub mod memory;

#[cfg(feature = "channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "channel")))]
pub mod channel;
