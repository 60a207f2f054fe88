//! Opening a channel backend by URL (`chan://`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::stream::lock;
use super::{ChannelBackend, Config};
use crate::backend::Backend;
use crate::error::{Error, ErrorKind, Result};
use crate::url::Url;

/// Opens `chan://[NAME][?capacity=N&timeout=DURATION&persistent=BOOL]` for the
/// [registry](crate::registry).
pub(crate) fn open_url(url: &Url) -> Result<Box<dyn Backend>> {
    let invalid =
        |msg: String| Error::new(ErrorKind::InvalidConfig, msg).with_path(url.to_string());
    if !(url.path.is_empty() || url.path == "/")
        || url.user.is_some()
        || url.password.is_some()
        || url.port.is_some()
    {
        return Err(invalid(
            "a chan URL names a channel backend, nothing in it: chan://[NAME][?capacity=N&timeout=5s&persistent=true]".into(),
        ));
    }
    let (mut capacity, mut timeout, mut persistent) = (None, None, None);
    for (key, value) in &url.query {
        match key.as_str() {
            "capacity" => {
                capacity = Some(value.parse::<usize>().map_err(|_| {
                    invalid(format!("capacity={value:?}: expected a number of messages"))
                })?);
            }
            "timeout" => {
                timeout = Some(
                    crate::units::parse_duration(value)
                        .map_err(|e| invalid(format!("timeout: {}", e.message().unwrap_or(""))))?,
                );
            }
            "persistent" => {
                persistent = Some(match value.as_str() {
                    "" | "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => {
                        return Err(invalid(format!(
                            "persistent={value:?}: expected true or false"
                        )));
                    }
                });
            }
            other => {
                return Err(invalid(format!(
                    "unknown parameter {other:?} (known: capacity, timeout, persistent)"
                )));
            }
        }
    }
    let mut config = Config::default();
    if let Some(capacity) = capacity {
        config.capacity = capacity;
    }
    if timeout.is_some() {
        config.timeout = timeout;
    }
    if let Some(persistent) = persistent {
        config.persistent = persistent;
    }
    if url.host.is_empty() {
        return Ok(Box::new(ChannelBackend::with_config(config)));
    }
    static NAMED: Mutex<BTreeMap<String, ChannelBackend>> = Mutex::new(BTreeMap::new());
    let mut named = lock(&NAMED);
    if let Some(existing) = named.get(&url.host).filter(|b| !b.is_closed()) {
        let have = existing.shared.config;
        let clash = capacity.is_some_and(|c| c != have.capacity)
            || timeout.is_some_and(|t| Some(t) != have.timeout)
            || persistent.is_some_and(|p| p != have.persistent);
        if clash {
            return Err(invalid(format!(
                "the channel backend {:?} is open with other settings ({have:?})",
                url.host
            )));
        }
        return Ok(Box::new(existing.clone()));
    }
    let backend = ChannelBackend::with_config(config);
    named.insert(url.host.clone(), backend.clone());
    Ok(Box::new(backend))
}
