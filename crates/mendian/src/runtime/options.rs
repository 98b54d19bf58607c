//! `ClientOptions`: the settings every client shares (hosts, timeouts, retries, deadline,
//! language), embedded in each platform's config so the three cannot drift apart again.
//!
//! Host fields are optional so one record serves three platforms: `None` means the host the
//! platform documents, which [`PlatformDefaults`] names for each client.

use std::time::Duration;

use super::tls::TlsRoots;
use crate::error::MendianError;

/// Settings shared by every mendian client. Each platform config embeds one as `options`;
/// leave a field at its default to get the platform's documented behaviour.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
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
    /// An HTTP(S) proxy every exchange goes through (`http://user:password@proxy:3128`).
    /// `None`: the `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` environment variables apply, if set.
    /// Its credentials never print.
    #[uniffi(default)]
    pub proxy_url: Option<String>,
    /// PEM certificates trusted as roots in addition to `tls_roots` (a corporate TLS
    /// proxy's CA, a test server's). Each entry may hold several certificates.
    #[uniffi(default)]
    pub extra_root_certificates_pem: Vec<String>,
    /// Which roots HTTPS trusts. `None`: the operating system's (`System`), except on
    /// Android, where the Mozilla roots compiled into the library (`Bundled`) need no JNI
    /// set-up.
    #[uniffi(default)]
    pub tls_roots: Option<TlsRoots>,
    /// The largest answer body read, in bytes; a larger one fails with `Decode` without
    /// being read. `None`: 16 MiB.
    #[uniffi(default)]
    pub max_response_bytes: Option<u64>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url)
            .field("backup_base_url", &self.backup_base_url)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("call_deadline_ms", &self.call_deadline_ms)
            .field("language", &self.language)
            .field("proxy_url", &self.proxy_url.as_deref().map(super::url::shown))
            .field("extra_root_certificates_pem", &self.extra_root_certificates_pem.len())
            .field("tls_roots", &self.tls_roots)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

crate::display_as_debug!(ClientOptions);

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            base_url: None,
            backup_base_url: None,
            timeout_ms: None,
            max_retries: 2,
            call_deadline_ms: None,
            language: "rust".into(),
            proxy_url: None,
            extra_root_certificates_pem: Vec::new(),
            tls_roots: None,
            max_response_bytes: None,
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
    /// The proxy, checked.
    pub proxy: Option<super::http_client::Proxies>,
    /// Extra trusted roots, parsed.
    pub roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The root store they are added to.
    pub tls_roots: TlsRoots,
    /// The largest answer body read.
    pub max_body: u64,
}

/// Checks an identifier or credential from a configuration (an appid, a serial number, a
/// session): not empty, no surrounding spaces, no control characters. Such values end up in
/// headers, signatures and URLs, where a CR, LF or NUL would break the request (or split a
/// header), so they fail when the client is built rather than as a retried network error.
/// The value itself is never echoed.
pub fn check_id(field: &str, value: &str) -> Result<(), MendianError> {
    if value.is_empty() {
        return Err(MendianError::invalid(field, "must not be empty"));
    }
    if value.trim() != value {
        return Err(MendianError::invalid(field, "must not start or end with spaces"));
    }
    if value.chars().any(char::is_control) {
        return Err(MendianError::invalid(field, "must not contain control characters (CR, LF, NUL, …)"));
    }
    Ok(())
}

impl ClientOptions {
    /// Checks the options and fills what is unset from `defaults`.
    pub fn resolve(&self, defaults: PlatformDefaults) -> Result<ResolvedOptions, MendianError> {
        let primary = super::url::check_http_url("options.base_url", self.base_url.as_deref().unwrap_or(defaults.base_url))?;
        let mut hosts = vec![primary];
        match self.backup_base_url.as_deref() {
            Some(b) if b.trim().is_empty() => {}
            Some(b) => hosts.push(super::url::check_http_url("options.backup_base_url", b)?),
            // The documented backup only backs up the documented primary.
            None if self.base_url.is_none() => hosts.extend(defaults.backup_base_url.map(str::to_string)),
            None => {}
        }
        if self.language.chars().any(char::is_control) {
            return Err(MendianError::invalid("options.language", "must not contain control characters (it goes into User-Agent)"));
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
        let proxy = match self.proxy_url.as_deref() {
            None => None,
            Some(p) => {
                let url = super::url::check_http_url("options.proxy_url", p)?;
                Some(super::http_client::Proxies::all(url.as_str()).ok_or_else(|| {
                    MendianError::invalid("options.proxy_url", "is not a proxy URL the HTTP client accepts")
                })?)
            }
        };
        let mut roots = Vec::new();
        for (i, pem) in self.extra_root_certificates_pem.iter().enumerate() {
            let field = format!("options.extra_root_certificates_pem[{i}]");
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(MendianError::invalid(field, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
            }
            const END: &str = "-----END CERTIFICATE-----";
            for (n, block) in pem.split_inclusive(END).filter(|b| b.contains(END)).enumerate() {
                let der = crate::crypto::der::pem_block(block, "CERTIFICATE")
                    .map_err(|e| MendianError::invalid(field.clone(), format!("certificate {}: {}", n + 1, e.0)))?;
                crate::crypto::der::certificate(&der).map_err(|e| {
                    MendianError::invalid(field.clone(), format!("certificate {} is not an X.509 certificate: {}", n + 1, e.0))
                })?;
                let der = rustls::pki_types::CertificateDer::from(der);
                if !super::tls::is_usable_root(&der) {
                    return Err(MendianError::invalid(field, format!("certificate {} is not accepted by the TLS stack", n + 1)));
                }
                roots.push(der);
            }
        }
        Ok(ResolvedOptions {
            hosts,
            timeout,
            max_retries: self.max_retries,
            call_deadline,
            user_agent: super::transport::user_agent(&self.language),
            proxy,
            roots,
            tls_roots: self.tls_roots.unwrap_or(TlsRoots::platform_default()),
            max_body: match self.max_response_bytes {
                Some(0) => return Err(MendianError::invalid("options.max_response_bytes", "must be at least 1")),
                Some(n) => n,
                None => super::transport::DEFAULT_MAX_RESPONSE_BYTES,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_and_roots_are_checked_and_the_proxy_password_never_prints() {
        let o = ClientOptions { proxy_url: Some("http://user:pa55word@proxy.example:3128".into()), ..Default::default() };
        assert!(o.resolve(D).unwrap().proxy.is_some());
        assert!(!format!("{o:?}").contains("pa55word") && !format!("{o}").contains("pa55word"), "{o:?}");
        let e = ClientOptions { proxy_url: Some("socks9://x".into()), ..Default::default() }.resolve(D).unwrap_err();
        assert!(matches!(&e, MendianError::InvalidArgument { field, .. } if field == "options.proxy_url"), "{e}");
        let e = ClientOptions { extra_root_certificates_pem: vec!["not a pem".into()], ..Default::default() }.resolve(D).unwrap_err();
        assert!(matches!(&e, MendianError::InvalidArgument { field, .. } if field == "options.extra_root_certificates_pem[0]"), "{e}");
        let two = [
            include_str!("../../../../tests/vectors/wechatpay/keys/wechat_pay_certificate.pem"),
            include_str!("../../../../tests/vectors/wechatpay/keys/merchant_certificate.pem"),
        ]
        .concat();
        let r = ClientOptions { extra_root_certificates_pem: vec![two], ..Default::default() }.resolve(D).unwrap();
        assert_eq!(r.roots.len(), 2, "a bundle gives each of its certificates");
        let broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string();
        let e = ClientOptions { extra_root_certificates_pem: vec![broken], ..Default::default() }.resolve(D).unwrap_err();
        assert!(matches!(e, MendianError::InvalidArgument { .. }), "{e}");
    }

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
