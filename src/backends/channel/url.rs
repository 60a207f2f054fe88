//! Opening a channel backend by URL (`chan://`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::ChannelBackend;
use super::stream::lock;
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
    let mut builder = ChannelBackend::builder();
    for (key, value) in &url.query {
        builder = builder
            .set(key, value)
            .map_err(|e| e.with_path(url.to_string()))?;
    }
    let config = builder.config;
    let given = |key: &str| url.query.iter().any(|(k, _)| k == key);
    if url.host.is_empty() {
        return Ok(Box::new(ChannelBackend::with_config(config)));
    }
    static NAMED: Mutex<BTreeMap<String, ChannelBackend>> = Mutex::new(BTreeMap::new());
    let mut named = lock(&NAMED);
    if let Some(existing) = named.get(&url.host).filter(|b| !b.is_closed()) {
        let have = existing.shared.config;
        let clash = (given("capacity") && config.capacity != have.capacity)
            || (given("timeout") && config.timeout != have.timeout)
            || (given("persistent") && config.persistent != have.persistent);
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
