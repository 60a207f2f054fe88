//! Property of [`Url::parse`], shared by the fuzz target `url_parse` and the tests: it never
//! panics; what it accepts has a lower-case scheme that is a valid scheme; parsing is
//! deterministic; and neither `Display` nor `Debug` shows the password or the value of a
//! secret query parameter (unless that text also is some shown component, where it is no
//! secret to find).

use omnistorage::Url;

/// Checks the property on one input; panics if it does not hold.
pub fn check(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Url::parse(raw);
    let again = Url::parse(raw);
    match (&parsed, &again) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "parsing is deterministic"),
        (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
        _ => panic!("parsing is deterministic"),
    }
    let Ok(url) = parsed else {
        return;
    };
    assert!(!url.scheme.is_empty(), "a scheme");
    assert_eq!(url.scheme, url.scheme.to_ascii_lowercase(), "lower case");
    assert!(
        url.scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && url
                .scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')),
        "a valid scheme: {:?}",
        url.scheme
    );
    let mut secrets: Vec<&str> = url.password.iter().map(String::as_str).collect();
    let mut shown: Vec<&str> = vec![&url.scheme, &url.host, &url.path];
    shown.extend(url.user.as_deref());
    // Not a secret: `Debug` shows it (`Display` leaves it out).
    shown.extend(url.fragment.as_deref());
    for (k, v) in &url.query {
        shown.push(k);
        if Url::is_secret_param(k) {
            secrets.push(v);
        } else {
            shown.push(v);
        }
    }
    let port = url.port.map(|p| p.to_string()).unwrap_or_default();
    shown.push(&port);
    let display = url.to_string();
    let debug = format!("{url:?}");
    for s in secrets {
        // Short ones are everywhere (`a`, `1`, `/`); a secret shown inside a component
        // that is shown is not leaked by being printed.
        if s.len() < 4 || shown.iter().any(|c| c.contains(s)) || "***".contains(s) {
            continue;
        }
        assert!(!display.contains(s), "Display shows a secret: {display}");
        assert!(!debug.contains(s), "Debug shows a secret: {debug}");
    }
}
