//! How the HTTP/1.1 client under [`super::transport`] opens its connections (the pool that
//! keeps them is [`super::pool`]): directly or through a proxy (a plain forward for
//! `http://`, a `CONNECT` tunnel for `https://`), with TLS and the roots of [`super::tls`]. No redirect is followed and no body is decompressed: the SDK signs and
//! verifies exact bytes, and an answer is read as it came.
//!
//! The proxy is the one configured (`ClientOptions.proxy_url`), else the one the environment
//! names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower case), read when
//! the client is built. The connection (TCP, proxy tunnel and TLS together) is bounded by the
//! connect timeout.
//!
//! Why hyper directly and not reqwest, which wraps hyper-util's pool and the same connector: per call,
//! reqwest parsed each URL three times (its own, then again in its redirect layer and for the
//! response), ran a redirect policy the SDK does not want, and built its request through a
//! tower stack. Under callgrind a blocking `get_store_list` from Python spent 52,300
//! instructions in the transport's exchange with reqwest and 19,500 with this client (the
//! whole call: 89,800 and 57,500). What reqwest offered on top (cookies, redirects,
//! decompression, HTTP/2 and 3) the platforms' APIs do not use.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::uri::Scheme;
use http::{HeaderMap, HeaderValue, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

/// A connection failure, as the connector and hyper-util's tunnel report it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// TCP keep-alive probes on every connection (a phone's NAT forgets idle flows).
const TCP_KEEPALIVE: Duration = Duration::from_secs(15);

/// Where requests go through: a proxy configured for the client, or those of the environment.
/// `Debug` names neither the proxy nor its credentials.
#[derive(Clone)]
pub struct Proxies(Arc<Matcher>);

impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Proxies(<hidden>)")
    }
}

impl Proxies {
    /// Every request through `url` (an `http://` or `https://` proxy URL, credentials as its
    /// `user:password@`); `None` if the HTTP client does not take it as a proxy.
    pub fn all(url: &str) -> Option<Proxies> {
        let matcher = Matcher::builder().all(url.to_string()).build();
        let probe = |u: &'static str| matcher.intercept(&Uri::from_static(u)).is_some();
        (probe("http://mendian.invalid/") && probe("https://mendian.invalid/")).then(|| Proxies(Arc::new(matcher)))
    }

    /// No proxy at all, whatever the environment names (for tests on loopback).
    #[cfg(test)]
    pub(crate) fn none() -> Proxies {
        Proxies(Arc::new(Matcher::builder().build()))
    }

    /// The proxies the environment names now.
    pub fn from_env() -> Proxies {
        Proxies(Arc::new(Matcher::from_env()))
    }

    /// The `Proxy-Authorization` a plain `http://` request to `uri` carries: set when a proxy
    /// with credentials forwards it (an `https://` request's tunnel carries its own).
    pub fn forward_auth(&self, uri: &Uri) -> Option<HeaderValue> {
        if uri.scheme() != Some(&Scheme::HTTP) {
            return None;
        }
        self.0.intercept(uri).and_then(|i| i.basic_auth().cloned())
    }
}

/// Opens connections: TCP, through a proxy when one applies, then TLS for `https://`.
#[derive(Clone)]
pub struct Connector {
    https: HttpsConnector<HttpConnector>,
    tls: Arc<rustls::ClientConfig>,
    proxies: Proxies,
    user_agent: HeaderValue,
    connect_timeout: Duration,
}

impl Connector {
    /// A connector that trusts what `tls` trusts, goes through `proxies`, and gives up on a
    /// connection after `connect_timeout`. `user_agent` goes on a proxy's `CONNECT` too.
    pub fn new(
        tls: Arc<rustls::ClientConfig>,
        proxies: Proxies,
        user_agent: HeaderValue,
        connect_timeout: Duration,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(TCP_KEEPALIVE));
        // Also bounded as a whole below; this one is shared out between a host's addresses,
        // so a dead first address leaves time for the next.
        http.set_connect_timeout(Some(connect_timeout));
        let https = HttpsConnector::from((http, tls.clone()));
        Connector { https, tls, proxies, user_agent, connect_timeout }
    }

    async fn connect(mut self, dst: Uri) -> Result<Conn, BoxError> {
        let Some(proxy) = self.proxies.0.intercept(&dst) else {
            return Ok(Conn::Direct { io: self.https.call(dst).await?, proxied: false });
        };
        if dst.scheme() != Some(&Scheme::HTTPS) {
            // A plain request goes to the proxy, which forwards it (absolute-form target).
            return Ok(Conn::Direct { io: self.https.call(proxy.uri().clone()).await?, proxied: true });
        }
        let mut tunnel = Tunnel::new(proxy.uri().clone(), self.https.clone());
        if let Some(auth) = proxy.basic_auth() {
            tunnel = tunnel.with_auth(auth.clone());
        }
        let mut headers = HeaderMap::new();
        headers.insert(http::header::USER_AGENT, self.user_agent.clone());
        let tunneled = tunnel.with_headers(headers).call(dst.clone()).await?;
        let host = dst.host().ok_or("no host in the URL")?;
        // An IPv6 literal comes bracketed in a URI.
        let name =
            rustls::pki_types::ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_string())
                .map_err(|_| "the host is not a valid TLS server name")?;
        let tls = tokio_rustls::TlsConnector::from(self.tls.clone()).connect(name, TokioIo::new(tunneled)).await?;
        Ok(Conn::Tunneled(TokioIo::new(tls)))
    }
}

/// The connection attempt outlasted the connect timeout.
#[derive(Debug)]
pub struct ConnectTimedOut;

impl std::fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection timed out")
    }
}

impl std::error::Error for ConnectTimedOut {}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let this = self.clone();
        let timeout = self.connect_timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, this.connect(dst)).await {
                Ok(connected) => connected,
                Err(_) => Err(Box::new(ConnectTimedOut) as BoxError),
            }
        })
    }
}

type Plain = MaybeHttpsStream<TokioIo<TcpStream>>;

/// One open connection.
pub enum Conn {
    /// To the server (plain or TLS), or to the proxy that forwards plain requests.
    Direct {
        /// The connection.
        io: Plain,
        /// Whether it goes to a forwarding proxy (requests then name their absolute URL).
        proxied: bool,
    },
    /// TLS to the server inside a proxy's `CONNECT` tunnel.
    Tunneled(TokioIo<tokio_rustls::client::TlsStream<TokioIo<Plain>>>),
}

impl Conn {
    /// Whether it goes to a proxy that forwards plain requests.
    pub fn proxied(&self) -> bool {
        matches!(self, Conn::Direct { proxied: true, .. })
    }
}

impl Read for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Direct { io, .. } => Pin::new(io).poll_read(cx, buf),
            Conn::Tunneled(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl Write for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Direct { io, .. } => Pin::new(io).poll_write(cx, buf),
            Conn::Tunneled(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Direct { io, .. } => Pin::new(io).poll_write_vectored(cx, bufs),
            Conn::Tunneled(io) => Pin::new(io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Direct { io, .. } => io.is_write_vectored(),
            Conn::Tunneled(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Direct { io, .. } => Pin::new(io).poll_flush(cx),
            Conn::Tunneled(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Direct { io, .. } => Pin::new(io).poll_shutdown(cx),
            Conn::Tunneled(io) => Pin::new(io).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_proxy_takes_every_request_and_its_credentials_never_print() {
        let p = Proxies::all("http://user:pa55word@proxy.example:3128").unwrap();
        let auth = p.forward_auth(&Uri::from_static("http://api.example/x?a=1")).unwrap();
        // "user:pa55word" in Basic form.
        assert_eq!(auth.to_str().unwrap(), "Basic dXNlcjpwYTU1d29yZA==");
        assert_eq!(p.forward_auth(&Uri::from_static("https://api.example/x")), None, "a tunnel carries its own");
        assert!(!format!("{p:?}").contains("pa55word") && !format!("{p:?}").contains("proxy.example"));
        assert!(Proxies::all("http://proxy.example:3128")
            .unwrap()
            .forward_auth(&Uri::from_static("http://a/"))
            .is_none());
    }
}
