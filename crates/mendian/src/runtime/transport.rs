//! HTTP transport shared by the platform runtimes: one HTTP client ([`super::pool`], with
//! connections opened by [`super::http_client`]) per SDK client for async calls, and one per SDK client and
//! thread for blocking calls (see [`super::blocking`]), built from the same settings, and
//! built again in a forked child (see [`super::shared`]); timeouts, and the mapping of
//! transport failures to `MendianError::Network` / `Timeout`.
//!
//! A request goes out with its own headers in their order, then `Accept: */*` and the
//! `User-Agent` unless it set them, then `Proxy-Authorization` when a proxy with credentials
//! forwards it; `Host` and `Content-Length` are the HTTP client's.
//!
//! Errors name the host and what failed, never the URL's query or any header: query strings
//! may carry an `access_token`, and bodies may carry sessions or secrets.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use http::header::{Entry, ACCEPT, PROXY_AUTHORIZATION, USER_AGENT};
use http::{HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use rustls::pki_types::CertificateDer;

use super::http_client::{Connector, Proxies};
use super::pool::{ExchangeError, HttpClient};
use super::parsed_urls::ParsedUrls;
use super::shared::{per_process, Pid};
use super::tls::TlsRoots;
use crate::error::MendianError;

/// A request ready to go on the wire: the exact bytes to send. Its Debug output redacts
/// credentials in the query (`access_token`, `secret`, `session`, `sign`) and the
/// `Authorization` header, and shows the body's length only.
#[derive(Clone)]
pub struct HttpRequest {
    /// HTTP method.
    pub method: &'static str,
    /// Absolute URL, query included.
    pub url: String,
    /// Headers to send.
    pub headers: Vec<(String, String)>,
    /// Body bytes (possibly empty).
    pub body: Vec<u8>,
}

/// Query parameters whose values are credentials.
const SECRET_PARAMS: &[&str] = &["access_token", "secret", "session", "sign"];

/// `url` with the values of credential query parameters replaced by `<redacted>`, for logs.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_string() };
    let pairs: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k) => format!("{k}=<redacted>"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("authorization") {
                    (k.as_str(), "<redacted>")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact_url(&self.url))
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Raw body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The HTTP client of one SDK client object.
#[derive(Debug, Clone)]
pub struct Transport {
    /// The client of the process that made this transport, and the process.
    client: (Pid, HttpClient),
    /// How `client` was built: blocking calls build their thread's own client from it, and a
    /// forked child its own (`Recipe::forked`).
    recipe: Arc<Recipe>,
    timeout: Duration,
    max_body: u64,
    /// The URLs sent to recently, parsed (see [`super::parsed_urls`]).
    urls: Arc<ParsedUrls>,
}

/// The settings an HTTP client is built from (each has its own pool). Its `Debug` shows no
/// proxy (its URL may hold credentials).
struct Recipe {
    timeout: Duration,
    user_agent: HeaderValue,
    proxies: Proxies,
    /// The TLS set-up, built once (loading the system's roots is not cheap).
    tls: Arc<rustls::ClientConfig>,
    extra_roots: usize,
    tls_roots: TlsRoots,
    /// The client for async calls in a forked child (the parent's pool holds the parent's
    /// connections).
    forked: Mutex<Option<(Pid, HttpClient)>>,
}

impl std::fmt::Debug for Recipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recipe")
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("proxies", &self.proxies)
            .field("extra_roots", &self.extra_roots)
            .field("tls_roots", &self.tls_roots)
            .finish()
    }
}

impl Recipe {
    /// A new client with an empty pool.
    fn build(&self) -> HttpClient {
        let connect_timeout = self.timeout.min(Duration::from_secs(10));
        HttpClient::new(Connector::new(self.tls.clone(), self.proxies.clone(), self.user_agent.clone(), connect_timeout))
    }
}

thread_local! {
    /// Each thread's clients for blocking calls, by the recipe they were built from; entries
    /// of dropped SDK clients are purged at the thread's next blocking exchange.
    static CALLER_CLIENTS: RefCell<Option<(Pid, Vec<(Weak<Recipe>, HttpClient)>)>> = const { RefCell::new(None) };
}

/// The largest answer read when the options set no limit: far above any documented answer
/// (a full page of 50 stores is about 40 KB), far below what would hurt a phone.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

impl Transport {
    /// A transport with the given overall timeout per request.
    pub fn new(timeout: Duration, user_agent: &str) -> Result<Transport, MendianError> {
        Transport::with_network(timeout, user_agent, None, Vec::new(), TlsRoots::platform_default())
    }

    /// A transport through `proxy` (none: the proxies the environment names, see
    /// [`super::http_client`]) that trusts `tls_roots` and `roots`.
    pub fn with_network(
        timeout: Duration,
        user_agent: &str,
        proxy: Option<Proxies>,
        roots: Vec<CertificateDer<'static>>,
        tls_roots: TlsRoots,
    ) -> Result<Transport, MendianError> {
        let cannot = |why: String| MendianError::Network { reason: format!("cannot create the HTTP client: {why}") };
        let user_agent = HeaderValue::from_bytes(user_agent.as_bytes())
            .map_err(|_| cannot(format!("the User-Agent `{user_agent}` is not a valid header value")))?;
        let tls = Arc::new(super::tls::client_config(tls_roots, &roots).map_err(cannot)?);
        let recipe = Arc::new(Recipe {
            timeout,
            user_agent,
            proxies: proxy.unwrap_or_else(Proxies::from_env),
            tls,
            extra_roots: roots.len(),
            tls_roots,
            forked: Mutex::new(None),
        });
        let client = (Pid::current(), recipe.build());
        Ok(Transport { client, recipe, timeout, max_body: DEFAULT_MAX_RESPONSE_BYTES, urls: Arc::default() })
    }

    /// The client for this call: the shared one, or inside a blocking call this thread's own.
    fn client(&self) -> Result<HttpClient, MendianError> {
        if !super::blocking::on_caller_thread() {
            if self.client.0.is_current() {
                return Ok(self.client.1.clone());
            }
            let mut forked = self.recipe.forked.lock().unwrap_or_else(PoisonError::into_inner);
            return per_process(&mut forked, || Ok::<_, MendianError>(self.recipe.build())).cloned();
        }
        CALLER_CLIENTS.with(|cell| {
            let mut slot = cell.borrow_mut();
            let clients = per_process(&mut slot, || Ok::<_, MendianError>(Vec::new()))?;
            // Clients of dropped SDK clients go first, closing their idle connections.
            clients.retain(|(r, _)| r.strong_count() > 0);
            if let Some((_, c)) = clients.iter().find(|(r, _)| std::ptr::eq(r.as_ptr(), Arc::as_ptr(&self.recipe))) {
                return Ok(c.clone());
            }
            let c = self.recipe.build();
            clients.push((Arc::downgrade(&self.recipe), c.clone()));
            Ok(c)
        })
    }

    /// This transport reading answers of at most `max_body` bytes.
    pub fn with_max_body(mut self, max_body: u64) -> Transport {
        self.max_body = max_body;
        self
    }

    /// The same client (connection pool included) with another timeout per exchange.
    pub fn with_timeout(&self, timeout: Duration) -> Transport {
        Transport {
            client: self.client.clone(),
            recipe: self.recipe.clone(),
            timeout,
            max_body: self.max_body,
            urls: self.urls.clone(),
        }
    }

    /// Sends one request; a transport failure becomes `Network` or `Timeout`.
    pub async fn send(&self, req: HttpRequest) -> Result<HttpResponse, MendianError> {
        self.send_classified(req).await.map_err(|(e, _)| e)
    }

    /// Like [`Transport::send`], and says whether a failure happened before the request
    /// could have reached the server (DNS, connect, TLS): only those are safe to repeat on
    /// another host for every kind of call.
    pub async fn send_classified(&self, req: HttpRequest) -> Result<HttpResponse, (MendianError, bool)> {
        let Some((method_name, url, started)) =
            super::log::enabled().then(|| (req.method, req.url.clone(), std::time::Instant::now()))
        else {
            return self.exchange(req).await;
        };
        let result = self.exchange(req).await;
        let latency = started.elapsed();
        match &result {
            Ok(r) => {
                let rid = r.header("request-id").or_else(|| r.header("x-request-id"));
                super::log::exchange(method_name, &url, Some(r.status), latency, rid, None);
            }
            Err((e, _)) => super::log::exchange(method_name, &url, None, latency, None, Some(&e.to_string())),
        }
        result
    }

    async fn exchange(&self, req: HttpRequest) -> Result<HttpResponse, (MendianError, bool)> {
        // Only errors name the host: parse it then, not on every call.
        let host = || super::url::host_port(&req.url);
        let method = http::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| (MendianError::invalid("method", format!("`{}` is not an HTTP method", req.method)), false))?;
        let uri = self
            .urls
            .get(&req.url)
            .map_err(|e| (MendianError::Network { reason: format!("the request failed to {}: {e}", host()) }, false))?;
        let client = self.client().map_err(|e| (e, true))?;
        let mut request = http::Request::new(Full::new(Bytes::from(req.body)));
        *request.method_mut() = method;
        let headers = request.headers_mut();
        headers.reserve(req.headers.len() + 4);
        for (k, v) in &req.headers {
            // Never the value in the message: it may be a credential.
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| (MendianError::invalid("headers", format!("`{k}` is not an HTTP header name")), false))?;
            let value = HeaderValue::from_bytes(v.as_bytes()).map_err(|_| {
                (MendianError::invalid("headers", format!("the value of `{k}` is not a valid HTTP header value")), false)
            })?;
            headers.append(name, value);
        }
        if let Entry::Vacant(e) = headers.entry(ACCEPT) {
            e.insert(HeaderValue::from_static("*/*"));
        }
        if let Entry::Vacant(e) = headers.entry(USER_AGENT) {
            e.insert(self.recipe.user_agent.clone());
        }
        if let Some(auth) = self.recipe.proxies.forward_auth(&uri) {
            if let Entry::Vacant(e) = headers.entry(PROXY_AUTHORIZATION) {
                e.insert(auth);
            }
        }
        *request.uri_mut() = uri;
        // One bound on the whole exchange, the answer's body included.
        match tokio::time::timeout(self.timeout, self.round_trip(&client, request, &req.url)).await {
            Ok(done) => done,
            Err(_) => Err((MendianError::Timeout { millis: self.timeout.as_millis() as u64 }, false)),
        }
    }

    async fn round_trip(
        &self,
        client: &HttpClient,
        request: http::Request<Full<Bytes>>,
        url: &str,
    ) -> Result<HttpResponse, (MendianError, bool)> {
        let host = || super::url::host_port(url);
        // Boxed: the exchange's future (the connection's, the answer's) is several KB, and
        // every future that holds it inline is moved whole on its way to being polled
        // (callgrind: about 60,000 instructions of `memcpy` a blocking call).
        let exchange = Box::pin(client.exchange(request, |resp| self.read(resp, url)));
        exchange.await.map_err(|e| match e {
            ExchangeError::Connect(e) => (self.map_err(&host(), "cannot connect", &*e), true),
            ExchangeError::Send(e) => (self.map_err(&host(), "the request failed", &e), false),
            ExchangeError::Read(e) => e,
        })
    }

    /// The answer's status, headers and body, at most `max_body` bytes of it.
    async fn read(&self, resp: http::Response<Incoming>, url: &str) -> Result<HttpResponse, (MendianError, bool)> {
        let host = || super::url::host_port(url);
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = match v.to_str() {
                    Ok(text) => text.to_string(),
                    Err(_) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
                };
                (k.as_str().to_string(), value)
            })
            .collect();
        let too_large = || MendianError::Decode {
            what: format!("the answer from {}", host()),
            reason: format!("larger than {} bytes (options.max_response_bytes); not read", self.max_body),
        };
        let length = hyper::body::Body::size_hint(resp.body()).exact();
        if length.is_some_and(|n| n > self.max_body) {
            return Err((too_large(), false));
        }
        let mut incoming = resp.into_body();
        let mut body = Vec::with_capacity(length.unwrap_or(0) as usize);
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| (self.map_err(&host(), "the connection failed while reading the response", &e), false))?;
            if let Ok(chunk) = frame.into_data() {
                if (body.len() + chunk.len()) as u64 > self.max_body {
                    return Err((too_large(), false));
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok(HttpResponse { status, headers, body })
    }

    /// `e` as an error naming `host` and its root cause (never the URL, which may carry a
    /// token): `Timeout` when the cause is one, else `Network` saying `what` failed.
    fn map_err(&self, host: &str, what: &str, e: &(dyn std::error::Error + 'static)) -> MendianError {
        let mut cause: &dyn std::error::Error = e;
        let mut timed_out = false;
        loop {
            timed_out |= cause.is::<super::http_client::ConnectTimedOut>()
                || cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
            match cause.source() {
                Some(next) => cause = next,
                None => break,
            }
        }
        if timed_out {
            return MendianError::Timeout { millis: self.timeout.as_millis() as u64 };
        }
        // The root cause (e.g. "connection refused").
        MendianError::Network { reason: format!("{what} to {host}: {cause}") }
    }
}

/// `mendian/<version> (<language>)`, as sent in `User-Agent`.
pub fn user_agent(language: &str) -> String {
    let lang = if language.trim().is_empty() { "rust" } else { language.trim() };
    format!("mendian/{} ({lang})", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_credentials() {
        let req = HttpRequest {
            method: "POST",
            url: "https://api.weixin.qq.com/wxa/add_store?access_token=TOKEN123&type=image".into(),
            headers: vec![("Authorization".into(), "WECHATPAY2-SHA256-RSA2048 signature=\"SIG\"".into())],
            body: b"{\"secret\":\"S\"}".to_vec(),
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("TOKEN123") && !shown.contains("SIG") && !shown.contains("\"S\""), "{shown}");
        assert!(shown.contains("access_token=<redacted>&type=image"), "{shown}");
        assert_eq!(
            redact_url("https://h/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=abc"),
            "https://h/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=<redacted>"
        );
    }

    /// A one-shot HTTP server on loopback: answers the first request with `answer` and hands
    /// back what it received (head and body).
    fn one_answer_server(answer: &'static str) -> (String, std::sync::mpsc::Receiver<String>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Head, then as many body bytes as it announces.
            loop {
                let n = stream.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    if got.len() >= end + 4 + length || n == 0 {
                        break;
                    }
                }
            }
            stream.write_all(answer.as_bytes()).unwrap();
            tx.send(String::from_utf8(got).unwrap()).unwrap();
        });
        (base, rx)
    }

    #[tokio::test]
    async fn the_request_goes_out_as_built_and_a_redirect_comes_back_as_is() {
        let (base, received) =
            one_answer_server("HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/elsewhere\r\ncontent-length: 0\r\n\r\n");
        let t = Transport::new(Duration::from_secs(5), "mendian/test (rust)").unwrap();
        let req = HttpRequest {
            method: "POST",
            url: format!("{base}/wxa/add_store?access_token=T%2B1&x=1"),
            headers: vec![("Content-Type".into(), "application/json".into()), ("Accept".into(), "application/json".into())],
            body: b"{\"a\":1}".to_vec(),
        };
        let resp = t.send(req).await.unwrap();
        // Not followed: the answer is the redirect itself.
        assert_eq!(resp.status, 302);
        assert_eq!(resp.header("location"), Some("http://127.0.0.1:1/elsewhere"));
        let host = base.trim_start_matches("http://");
        // The request's headers in order, then the defaults it did not set, then the client's.
        assert_eq!(
            received.recv().unwrap(),
            format!(
                "POST /wxa/add_store?access_token=T%2B1&x=1 HTTP/1.1\r\ncontent-type: application/json\r\n\
                 accept: application/json\r\nuser-agent: mendian/test (rust)\r\nhost: {host}\r\n\
                 content-length: 7\r\n\r\n{{\"a\":1}}"
            )
        );
    }

    #[test]
    fn debug_output_shows_no_proxy_credentials() {
        let proxy = Proxies::all("http://user:pa55word@proxy.example:3128").unwrap();
        let t = Transport::with_network(Duration::from_secs(5), "ua", Some(proxy), Vec::new(), TlsRoots::Bundled).unwrap();
        t.urls.get("https://api.weixin.qq.com/wxa/get_store_list?access_token=TOKEN123").unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("pa55word") && !shown.contains("proxy.example") && !shown.contains("TOKEN123"), "{shown}");
    }

    #[tokio::test]
    async fn a_bad_header_is_refused_naming_it_but_never_its_value() {
        let t = Transport::new(Duration::from_secs(5), "test").unwrap();
        let req = |k: &str, v: &str| HttpRequest {
            method: "GET",
            url: "http://127.0.0.1:9/x".into(),
            headers: vec![(k.into(), v.into())],
            body: Vec::new(),
        };
        let e = t.send(req("Authorization", "secret\r\nX-Injected: 1")).await.unwrap_err();
        assert!(matches!(&e, MendianError::InvalidArgument { reason, .. } if reason.contains("Authorization")), "{e:?}");
        assert!(!format!("{e:?}").contains("secret"), "{e:?}");
        let e = t.send(req("bad header", "v")).await.unwrap_err();
        assert!(matches!(e, MendianError::InvalidArgument { .. }), "{e:?}");
    }
}
