//! Which certificate roots the HTTPS client trusts ([`TlsRoots`]), and the reqwest set-up of
//! each choice.
//!
//! reqwest's rustls build verifies with the operating system's verifier
//! (`rustls-platform-verifier`). That is the right choice on Linux, macOS, iOS and Windows, but
//! on Android it must first be initialised through JNI with the app's `Context`, and without
//! that the first handshake fails. So an Android build trusts the Mozilla root program compiled
//! into the library (`webpki-root-certs`, verified by rustls' own WebPKI verifier) unless told
//! otherwise; everything else keeps the system verifier. Either way, extra roots from
//! `ClientOptions.extra_root_certificates_pem` are added.

use std::sync::OnceLock;

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

/// The bundled roots as reqwest certificates, parsed once per process.
fn bundled() -> &'static [reqwest::Certificate] {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der.as_ref()).ok())
            .collect()
    })
}

/// `builder` trusting `roots` plus `extra`.
pub(crate) fn trust(
    builder: reqwest::ClientBuilder,
    roots: TlsRoots,
    extra: Vec<reqwest::Certificate>,
) -> reqwest::ClientBuilder {
    match roots {
        TlsRoots::System => builder.tls_certs_merge(extra),
        TlsRoots::Bundled => builder.tls_certs_only(bundled().iter().cloned().chain(extra)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_the_mozilla_program() {
        // Every compiled-in root is accepted by the TLS stack (none silently dropped).
        assert_eq!(bundled().len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(bundled().len() > 100);
    }

    #[test]
    fn android_defaults_to_the_bundle() {
        let expected = if cfg!(target_os = "android") { TlsRoots::Bundled } else { TlsRoots::System };
        assert_eq!(TlsRoots::platform_default(), expected);
    }
}
