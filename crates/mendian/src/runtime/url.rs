//! URLs as mendian shows and accepts them, on top of the `url` crate (WHATWG parsing, as a
//! browser parses): the `host[:port]` named in errors, a URL with its `user:password@`
//! redacted, and the check a configured base URL must pass.

use crate::error::MendianError;

/// `host[:port]` of `url` (no credentials, path or query), or `<not a URL>`.
pub fn host_port(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => "<no host>".into(),
        },
        Err(_) => "<not a URL>".into(),
    }
}

/// `url` with any `user:password@` replaced by `<redacted>@`; `<not a URL>` when it does
/// not parse (the text might be a secret pasted into the wrong field).
pub fn shown(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url.trim()) else { return "<not a URL>".into() };
    if u.username().is_empty() && u.password().is_none() {
        return u.to_string();
    }
    // Clearing cannot fail for a URL that has credentials (it has a host).
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let text = u.to_string();
    match text.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://<redacted>@{rest}"),
        None => text,
    }
}

/// Checks a configured base or proxy URL (`field` names the option): http or https, a host, no query
/// or fragment, no whitespace or control characters (which WHATWG parsing would silently
/// drop). Returns it trimmed, without a trailing `/`.
pub fn check_http_url(field: &str, url: &str) -> Result<String, MendianError> {
    let url = url.trim();
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(MendianError::invalid(field, "must not contain whitespace or control characters"));
    }
    let parsed = url::Url::parse(url).map_err(|e| MendianError::invalid(field, format!("is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(MendianError::invalid(field, format!("must be an http(s) URL (got `{}`)", shown(url))));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(MendianError::invalid(field, "has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(MendianError::invalid(field, format!("must not have a query or fragment (got `{}`)", shown(url))));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_shown_urls_lose_their_credentials() {
        assert_eq!(host_port("https://user:pass@api.example.com:8443/v3?x=1"), "api.example.com:8443");
        assert_eq!(host_port("http://127.0.0.1:9/router/rest"), "127.0.0.1:9");
        assert_eq!(host_port("https://api.mch.weixin.qq.com/v3"), "api.mch.weixin.qq.com");
        assert_eq!(host_port("not a url"), "<not a URL>");
        assert_eq!(shown("redis://:hunter2@cache:6379/0"), "redis://<redacted>@cache:6379/0");
        assert_eq!(shown("http://u:p@proxy.example:3128"), "http://<redacted>@proxy.example:3128/");
        assert_eq!(shown("rediss://cache:6380"), "rediss://cache:6380");
        assert_eq!(shown("hunter2"), "<not a URL>");
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(check_http_url("f", " https://a.example/v3/ ").unwrap(), "https://a.example/v3");
        assert_eq!(check_http_url("f", "http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        for (bad, why) in [
            ("ftp://a.example", "http(s)"),
            ("https://a.example/x?y=1", "query"),
            ("https://a.example/#f", "query or fragment"),
            ("https://a.exa\tmple", "whitespace"),
            ("https://", "not a URL"),
            ("a.example", "not a URL"),
            ("https://u:secret@a.example/?q", "query"),
        ] {
            let e = check_http_url("options.base_url", bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("options.base_url") && !e.contains("secret"), "{bad}: {e}");
        }
    }
}
