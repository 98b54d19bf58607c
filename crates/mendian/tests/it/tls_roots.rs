//! Which roots HTTPS trusts (`ClientOptions.tls_roots`), proved against a local TLS server:
//! a TLS terminator on loopback, with a certificate from the test CA in
//! `tests/vectors/redis-tls/`, in front of the emulator. The `Bundled` choice (the Android
//! default) runs the same code path here as on a phone: rustls' own verifier over the
//! compiled-in Mozilla roots, with no platform set-up. And the same server reached through a
//! proxy (`ClientOptions.proxy_url`): a `CONNECT` tunnel for HTTPS, a forward for plain HTTP.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use mendian::runtime::{ClientOptions, TlsRoots};
use mendian::wxa::{wxa_stable_token_provider, GetStoreListRequest, WxaClient, WxaConfig};
use mendian::MendianError;
use mendian_emulator::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// A proxy on loopback that keeps the head of each connection's first request: a `CONNECT`
/// is answered `200` and tunnelled to `backend` (or answered `407` when `refuse`); any other
/// request, a plain one to forward, goes to `backend` as it came. Returns its port and the
/// heads.
async fn recording_proxy(backend: std::net::SocketAddr, refuse: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                seen.lock().unwrap().push(text.clone());
                let Ok(mut upstream) = TcpStream::connect(backend).await else { return };
                if text.starts_with("CONNECT ") {
                    let answer = if refuse {
                        "HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n"
                    } else {
                        "HTTP/1.1 200 Connection established\r\n\r\n"
                    };
                    let _ = socket.write_all(answer.as_bytes()).await;
                    if refuse {
                        return;
                    }
                } else {
                    let _ = upstream.write_all(&head).await;
                }
                let _ = tokio::io::copy_bidirectional(&mut socket, &mut upstream).await;
            });
        }
    });
    (port, heads)
}

#[tokio::test]
async fn https_goes_through_a_proxy_tunnel_and_http_through_its_forward_both_with_its_credentials() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let p = emu.profile();
    let backend: std::net::SocketAddr = p.wxa_base_url.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let tls_port = tls_terminator(backend).await;
    let tls_addr: std::net::SocketAddr = format!("127.0.0.1:{tls_port}").parse().unwrap();
    let ca = vector_text("redis-tls/ca.pem");
    let list = GetStoreListRequest { offset: 0, limit: 1 };
    // The heads are compared in lower case.
    let basic = format!("basic {}", base64::engine::general_purpose::STANDARD.encode("mendian:s3cret!")).to_lowercase();
    let through = |base_url: String, proxy_port: u16| {
        let options = ClientOptions {
            tls_roots: Some(TlsRoots::Bundled),
            extra_root_certificates_pem: vec![ca.clone()],
            proxy_url: Some(format!("http://mendian:s3cret!@127.0.0.1:{proxy_port}")),
            max_retries: 0,
            ..ClientOptions::with_base_url(base_url)
        };
        let provider =
            wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
        WxaClient::new(WxaConfig { options, ..WxaConfig::new(p.wxa_appid.clone()) }, provider, None).unwrap()
    };

    // HTTPS: a CONNECT to the server's host and port with the credentials, then TLS inside.
    let (port, heads) = recording_proxy(tls_addr, false).await;
    let listing = through(format!("https://localhost:{tls_port}"), port).get_store_list(list.clone()).await.unwrap();
    assert_eq!(listing.total_count, Some(0));
    let head = heads.lock().unwrap()[0].to_lowercase();
    assert!(head.starts_with(&format!("connect localhost:{tls_port} http/1.1\r\n")), "{head}");
    assert!(head.contains(&format!("proxy-authorization: {basic}\r\n")), "{head}");
    assert!(head.contains("user-agent: mendian/"), "{head}");

    // Plain HTTP: the request itself goes to the proxy, naming its whole URL, with the
    // credentials; the server's host need not resolve here.
    let (port, heads) = recording_proxy(backend, false).await;
    let listing = through("http://wxa.mendian-proxy-test.invalid".into(), port).get_store_list(list.clone()).await.unwrap();
    assert_eq!(listing.total_count, Some(0));
    let head = heads.lock().unwrap()[0].to_lowercase();
    assert!(head.starts_with("post http://wxa.mendian-proxy-test.invalid/wxa/get_store_list?access_token="), "{head}");
    assert!(head.contains(&format!("proxy-authorization: {basic}\r\n")), "{head}");

    // A proxy that refuses the tunnel: a network error that shows neither the password nor
    // the token.
    let (port, _) = recording_proxy(tls_addr, true).await;
    let e = through(format!("https://localhost:{tls_port}"), port).get_store_list(list).await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(matches!(e, MendianError::Network { .. }), "{e:?}");
    assert!(!shown.contains("s3cret") && !shown.contains("access_token="), "{shown}");
    emu.stop().await;
}
