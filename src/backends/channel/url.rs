//! Opening a channel backend by URL (`chan://`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

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
                timeout = Some(parse_duration(value).ok_or_else(|| {
                    invalid(format!(
                        "timeout={value:?}: expected a duration such as 500ms, 5s or 2m"
                    ))
                })?);
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

/// `500ms`, `5s`, `2m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        for bad in ["", "s", "5h", "-1s", "1.5s", "99999999999999999999s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(parse_duration(&format!("{}m", u64::MAX)), None);
    }
}
