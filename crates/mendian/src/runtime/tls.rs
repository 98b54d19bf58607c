//! Which certificate roots the HTTPS client trusts ([`TlsRoots`]), and the rustls configuration
//! of each choice ([`client_config`]).
//!
//! [`TlsRoots::System`] verifies with the operating system's verifier
//! (`rustls-platform-verifier`). That is the right choice on Linux, macOS, iOS and Windows, but
//! on Android it must first be initialised through JNI with the app's `Context`, and without
//! that the first handshake fails. So an Android build trusts the Mozilla root program compiled
//! into the library (`webpki-root-certs`, verified by rustls' own WebPKI verifier) unless told
//! otherwise; everything else keeps the system verifier. Either way, extra roots from
//! `ClientOptions.extra_root_certificates_pem` are added.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;

/// The certificate roots HTTPS calls trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum TlsRoots {
    /// The operating system's trust store and verifier (Security.framework on iOS and macOS,
    /// the system store on Windows and Linux). On Android it needs JNI initialisation that
    /// mendian does not perform: do not choose it there.
    System,
    /// The Mozilla root program compiled into the library (about 150 roots, updated with
    /// mendian releases): no platform set-up, the same everywhere; user-installed and
    /// enterprise CAs are not trusted unless given as extra roots.
    Bundled,
}

impl TlsRoots {
    /// What a client uses when `ClientOptions.tls_roots` is not set: [`TlsRoots::Bundled`]
    /// on Android, [`TlsRoots::System`] everywhere else.
    pub const fn platform_default() -> TlsRoots {
        if cfg!(target_os = "android") {
            TlsRoots::Bundled
        } else {
            TlsRoots::System
        }
    }
}

/// The bundled roots as a rustls root store, parsed once per process.
fn bundled() -> &'static rustls::RootCertStore {
    static ROOTS: OnceLock<rustls::RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = rustls::RootCertStore::empty();
        store.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        store
    })
}

/// Whether the TLS stack takes `der` as a root certificate.
pub(crate) fn is_usable_root(der: &CertificateDer<'static>) -> bool {
    rustls::RootCertStore::empty().add(der.clone()).is_ok()
}

/// The TLS configuration of a client that trusts `roots` plus `extra` (HTTP/1.1 by ALPN).
pub(crate) fn client_config(roots: TlsRoots, extra: &[CertificateDer<'static>]) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut config = match roots {
        TlsRoots::System => {
            let verifier = if extra.is_empty() {
                rustls_platform_verifier::Verifier::new(provider)
            } else {
                system_verifier_with(extra, provider)?
            }
            .map_err(|e| e.to_string())?;
            builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
        }
        TlsRoots::Bundled => {
            let mut store = bundled().clone();
            for der in extra {
                store.add(der.clone()).map_err(|e| e.to_string())?;
            }
            builder.with_root_certificates(store).with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(any(all(unix, not(target_os = "android")), target_os = "windows"))]
fn system_verifier_with(
    extra: &[CertificateDer<'static>],
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Result<rustls_platform_verifier::Verifier, rustls::Error>, String> {
    Ok(rustls_platform_verifier::Verifier::new_with_extra_roots(extra.iter().cloned(), provider))
}

#[cfg(not(any(all(unix, not(target_os = "android")), target_os = "windows")))]
fn system_verifier_with(
    _extra: &[CertificateDer<'static>],
    _provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Result<rustls_platform_verifier::Verifier, rustls::Error>, String> {
    Err("this platform's verifier cannot add extra roots: choose tls_roots Bundled to add them".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_the_mozilla_program() {
        // Every compiled-in root is accepted by the TLS stack (none silently dropped).
        assert_eq!(bundled().len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(bundled().len() > 100);
        let config = client_config(TlsRoots::Bundled, &[]).unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }

    #[test]
    fn android_defaults_to_the_bundle() {
        let expected = if cfg!(target_os = "android") { TlsRoots::Bundled } else { TlsRoots::System };
        assert_eq!(TlsRoots::platform_default(), expected);
    }
}
