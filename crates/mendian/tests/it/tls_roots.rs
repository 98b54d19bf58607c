//! Which roots HTTPS trusts (`ClientOptions.tls_roots`), proved against a local TLS server:
//! a TLS terminator on loopback, with a certificate from the test CA in
//! `tests/vectors/redis-tls/`, in front of the emulator. The `Bundled` choice (the Android
//! default) runs the same code path here as on a phone: rustls' own verifier over the
//! compiled-in Mozilla roots, with no platform set-up.

use std::sync::Arc;

use mendian::runtime::{ClientOptions, TlsRoots};
use mendian::wxa::{wxa_stable_token_provider, GetStoreListRequest, WxaClient, WxaConfig};
use mendian::MendianError;
use mendian_emulator::Emulator;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::common::vector_text;

/// Accepts TLS on a loopback port and forwards the plaintext to `backend`; returns the port.
async fn tls_terminator(backend: std::net::SocketAddr) -> u16 {
    let certs = CertificateDer::pem_slice_iter(vector_text("redis-tls/server.pem").as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(vector_text("redis-tls/server.key").as_bytes()).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A handshake the client refuses ends here; that is what some tests expect.
                let Ok(mut tls) = acceptor.accept(socket).await else { return };
                let Ok(mut plain) = TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

/// A client of `base_url` whose tokens come from the emulator directly (plain HTTP).
fn client(emu: &Emulator, base_url: String, roots: Option<TlsRoots>, extra: Vec<String>) -> Arc<WxaClient> {
    let p = emu.profile();
    let options = ClientOptions {
        tls_roots: roots,
        extra_root_certificates_pem: extra,
        max_retries: 0,
        ..ClientOptions::with_base_url(base_url)
    };
    let provider = wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
    let config = WxaConfig { options, ..WxaConfig::new(p.wxa_appid.clone()) };
    WxaClient::new(config, provider, None).unwrap()
}

#[tokio::test]
async fn bundled_and_system_roots_with_an_extra_ca_reach_a_local_tls_server() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let backend: std::net::SocketAddr =
        emu.profile().wxa_base_url.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let port = tls_terminator(backend).await;
    let url = format!("https://localhost:{port}");
    let ca = vector_text("redis-tls/ca.pem");
    let list = GetStoreListRequest { offset: 0, limit: 1 };

    // With the test CA as an extra root, both choices reach the server over TLS.
    for roots in [Some(TlsRoots::Bundled), Some(TlsRoots::System), None] {
        let wx = client(&emu, url.clone(), roots, vec![ca.clone()]);
        let listing = wx.get_store_list(list.clone()).await.unwrap_or_else(|e| panic!("{roots:?}: {e:?}"));
        assert_eq!(listing.total_count, Some(0), "{roots:?}");
    }

    // Without it, the bundle (Mozilla's roots only) refuses the private CA: the bundle is
    // really what verifies, not a verifier that accepts anything.
    for roots in [Some(TlsRoots::Bundled), Some(TlsRoots::System)] {
        let e = client(&emu, url.clone(), roots, Vec::new()).get_store_list(list.clone()).await.unwrap_err();
        match &e {
            MendianError::Network { reason } => {
                assert!(reason.to_lowercase().contains("certificate"), "{roots:?}: {reason}")
            }
            other => panic!("{roots:?}: an unknown CA must fail the handshake: {other:?}"),
        }
    }
    emu.stop().await;
}
