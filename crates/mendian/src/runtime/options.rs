//! `ClientOptions`: the settings every client shares (hosts, timeouts, retries, deadline,
//! language), embedded in each platform's config so the three cannot drift apart again.
//!
//! Host fields are optional so one record serves three platforms: `None` means the host the
//! platform documents, which [`PlatformDefaults`] names for each client.

use std::time::Duration;

use crate::error::MendianError;

/// Settings shared by every mendian client. Each platform config embeds one as `options`;
/// leave a field at its default to get the platform's documented behaviour.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientOptions {
    /// Base URL of the API (or the TOP gateway URL). `None`: the platform's production host.
    #[uniffi(default)]
    pub base_url: Option<String>,
    /// Base URL tried once when the primary host cannot be reached. `None`: the platform's
    /// documented backup host (WeChat Pay and WeChat have one, TOP none); `""` disables it.
    #[uniffi(default)]
    pub backup_base_url: Option<String>,
    /// Timeout of one HTTP exchange, in milliseconds. `None`: 10 s (TOP: 15 s).
    #[uniffi(default)]
    pub timeout_ms: Option<u64>,
    /// How many times a call may be repeated after a failure the platform calls transient,
    /// for endpoints the spec marks safe to repeat.
    #[uniffi(default = 2)]
    pub max_retries: u32,
    /// Upper bound on one whole call, retries and waits included, in milliseconds.
    /// `None`: no bound beyond `timeout_ms` per exchange and `max_retries`.
    #[uniffi(default)]
    pub call_deadline_ms: Option<u64>,
    /// The calling language, reported in `User-Agent` (`mendian/<version> (<language>)`).
    #[uniffi(default = "rust")]
    pub language: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            base_url: None,
            backup_base_url: None,
            timeout_ms: None,
            max_retries: 2,
            call_deadline_ms: None,
            language: "rust".into(),
        }
    }
}

impl ClientOptions {
    /// Options pointing every call at `base_url` with no backup host (an emulator, a proxy).
    pub fn with_base_url(base_url: impl Into<String>) -> ClientOptions {
        ClientOptions {
            base_url: Some(base_url.into()),
            backup_base_url: Some(String::new()),
            ..ClientOptions::default()
        }
    }
}

/// What a platform documents where [`ClientOptions`] leaves a field at `None`.
#[derive(Debug, Clone, Copy)]
pub struct PlatformDefaults {
    /// Production base URL.
    pub base_url: &'static str,
    /// Documented backup base URL, if any.
    pub backup_base_url: Option<&'static str>,
    /// Default timeout of one exchange.
    pub timeout: Duration,
}

/// [`ClientOptions`] checked and resolved against a platform's defaults.
#[derive(Debug, Clone)]
pub struct ResolvedOptions {
    /// Hosts in the order they are tried (the primary, then the backup if any), without a
    /// trailing `/`.
    pub hosts: Vec<String>,
    /// Timeout of one exchange.
    pub timeout: Duration,
    /// Repeats allowed after transient failures.
    pub max_retries: u32,
    /// Bound on one whole call.
    pub call_deadline: Option<Duration>,
    /// `User-Agent` value.
    pub user_agent: String,
}

fn check_url(field: &str, url: &str) -> Result<String, MendianError> {
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(MendianError::invalid(field, format!("must be an http(s) URL (got {url:?})")));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(MendianError::invalid(field, "must not contain whitespace or control characters"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

impl ClientOptions {
    /// Checks the options and fills what is unset from `defaults`.
    pub fn resolve(&self, defaults: PlatformDefaults) -> Result<ResolvedOptions, MendianError> {
        let primary = check_url("options.base_url", self.base_url.as_deref().unwrap_or(defaults.base_url))?;
        let mut hosts = vec![primary];
        match self.backup_base_url.as_deref() {
            Some(b) if b.trim().is_empty() => {}
            Some(b) => hosts.push(check_url("options.backup_base_url", b)?),
            // The documented backup only backs up the documented primary.
            None if self.base_url.is_none() => hosts.extend(defaults.backup_base_url.map(str::to_string)),
            None => {}
        }
        let timeout = match self.timeout_ms {
            Some(0) => return Err(MendianError::invalid("options.timeout_ms", "must be at least 1 ms")),
            Some(ms) => Duration::from_millis(ms),
            None => defaults.timeout,
        };
        let call_deadline = match self.call_deadline_ms {
            Some(0) => return Err(MendianError::invalid("options.call_deadline_ms", "must be at least 1 ms")),
            other => other.map(Duration::from_millis),
        };
        Ok(ResolvedOptions {
            hosts,
            timeout,
            max_retries: self.max_retries,
            call_deadline,
            user_agent: super::transport::user_agent(&self.language),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: PlatformDefaults = PlatformDefaults {
        base_url: "https://a.example",
        backup_base_url: Some("https://b.example"),
        timeout: Duration::from_secs(10),
    };

    #[test]
    fn defaults_fill_what_is_unset() {
        let r = ClientOptions::default().resolve(D).unwrap();
        assert_eq!(r.hosts, ["https://a.example", "https://b.example"]);
        assert_eq!(r.timeout, Duration::from_secs(10));
        let r =
            ClientOptions { base_url: Some("http://127.0.0.1:9/".into()), ..Default::default() }.resolve(D).unwrap();
        assert_eq!(r.hosts, ["http://127.0.0.1:9"], "a custom primary is not backed up by the documented backup");
        let r = ClientOptions { backup_base_url: Some(String::new()), ..Default::default() }.resolve(D).unwrap();
        assert_eq!(r.hosts, ["https://a.example"]);
    }

    #[test]
    fn bad_options_name_the_field() {
        let e = ClientOptions { base_url: Some("ftp://x".into()), ..Default::default() }.resolve(D).unwrap_err();
        assert!(matches!(e, MendianError::InvalidArgument { ref field, .. } if field == "options.base_url"), "{e:?}");
        let e = ClientOptions { timeout_ms: Some(0), ..Default::default() }.resolve(D).unwrap_err();
        assert!(matches!(e, MendianError::InvalidArgument { ref field, .. } if field == "options.timeout_ms"), "{e:?}");
    }
}
