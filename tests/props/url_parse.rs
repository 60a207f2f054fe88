//! Property of [`Url::parse`], shared by the fuzz target `url_parse` and the tests: it never
//! panics; what it accepts has a lower-case scheme that is a valid scheme; parsing is
//! deterministic; and neither `Display` nor `Debug` shows the password or the value of a
//! secret query parameter: changing them changes neither output.

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
    // Neither `Display` nor `Debug` depends on a secret: with every secret changed, both
    // print the same.
    let mut other = url.clone();
    if let Some(p) = other.password.as_mut() {
        p.push('x');
    }
    for (k, v) in other.query.iter_mut() {
        if Url::is_secret_param(k) {
            v.push('x');
        }
    }
    assert_eq!(url.to_string(), other.to_string(), "Display shows a secret");
    assert_eq!(
        format!("{url:?}"),
        format!("{other:?}"),
        "Debug shows a secret"
    );
}
