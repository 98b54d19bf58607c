//! HTTP transport shared by the platform runtimes: one reqwest client (rustls) per SDK client
//! for async calls, and one per SDK client and thread for blocking calls (see
//! [`super::blocking`]), built from the same settings, and built again in a forked child (see
//! [`super::shared`]); timeouts, and the mapping of transport failures to
//! `MendianError::Network` / `Timeout`.
//!
//! Errors name the host and what failed, never the URL's query or any header: query strings
//! may carry an `access_token`, and bodies may carry sessions or secrets.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

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
    client: (Pid, reqwest::Client),
    /// How `client` was built: blocking calls build their thread's own client from it, and a
    /// forked child its own (`Recipe::forked`).
    recipe: Arc<Recipe>,
    timeout: Duration,
    max_body: u64,
    /// The URLs sent to recently, parsed (see [`super::parsed_urls`]).
    urls: Arc<ParsedUrls>,
}

/// The settings a reqwest client is built from. Its `Debug` shows no proxy URL (it may hold
/// credentials).
struct Recipe {
    timeout: Duration,
    user_agent: String,
    proxy: Option<reqwest::Proxy>,
    roots: Vec<reqwest::Certificate>,
    tls_roots: TlsRoots,
    /// The client for async calls in a forked child (the parent's pool holds the parent's
    /// connections).
    forked: Mutex<Option<(Pid, reqwest::Client)>>,
}

impl std::fmt::Debug for Recipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recipe")
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("proxy", &self.proxy.as_ref().map(|_| "<set>"))
            .field("extra_roots", &self.roots.len())
            .field("tls_roots", &self.tls_roots)
            .finish()
    }
}

impl Recipe {
    fn build(&self) -> Result<reqwest::Client, MendianError> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .user_agent(&self.user_agent);
        if let Some(p) = &self.proxy {
            builder = builder.proxy(p.clone());
        }
        builder = super::tls::trust(builder, self.tls_roots, self.roots.clone());
        builder.build().map_err(|e| MendianError::Network { reason: format!("cannot create the HTTP client: {}", e.without_url()) })
    }
}

thread_local! {
    /// Each thread's clients for blocking calls, by the recipe they were built from; entries
    /// of dropped SDK clients are purged at the thread's next blocking exchange.
    static CALLER_CLIENTS: RefCell<Option<(Pid, Vec<(Weak<Recipe>, reqwest::Client)>)>> = const { RefCell::new(None) };
}

/// The largest answer read when the options set no limit: far above any documented answer
/// (a full page of 50 stores is about 40 KB), far below what would hurt a phone.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

impl Transport {
    /// A transport with the given overall timeout per request.
    pub fn new(timeout: Duration, user_agent: &str) -> Result<Transport, MendianError> {
        Transport::with_network(timeout, user_agent, None, Vec::new(), TlsRoots::platform_default())
    }

    /// A transport through `proxy` (none: the `HTTP(S)_PROXY` environment variables apply,
    /// as reqwest reads them) that trusts `tls_roots` and `roots`.
    pub fn with_network(
        timeout: Duration,
        user_agent: &str,
        proxy: Option<reqwest::Proxy>,
        roots: Vec<reqwest::Certificate>,
        tls_roots: TlsRoots,
    ) -> Result<Transport, MendianError> {
        let recipe =
            Arc::new(Recipe { timeout, user_agent: user_agent.to_string(), proxy, roots, tls_roots, forked: Mutex::new(None) });
        let client = (Pid::current(), recipe.build()?);
        Ok(Transport { client, recipe, timeout, max_body: DEFAULT_MAX_RESPONSE_BYTES, urls: Arc::default() })
    }

    /// The client for this call: the shared one, or inside a blocking call this thread's own.
    fn client(&self) -> Result<reqwest::Client, MendianError> {
        if !super::blocking::on_caller_thread() {
            if self.client.0.is_current() {
                return Ok(self.client.1.clone());
            }
            let mut forked = self.recipe.forked.lock().unwrap_or_else(PoisonError::into_inner);
            return per_process(&mut forked, || self.recipe.build()).cloned();
        }
        CALLER_CLIENTS.with(|cell| {
            let mut slot = cell.borrow_mut();
            let clients = per_process(&mut slot, || Ok::<_, MendianError>(Vec::new()))?;
            // Clients of dropped SDK clients go first, closing their idle connections.
            clients.retain(|(r, _)| r.strong_count() > 0);
            if let Some((_, c)) = clients.iter().find(|(r, _)| std::ptr::eq(r.as_ptr(), Arc::as_ptr(&self.recipe))) {
                return Ok(c.clone());
            }
            let c = self.recipe.build()?;
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
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| (MendianError::invalid("method", format!("`{}` is not an HTTP method", req.method)), false))?;
        let url = self
            .urls
            .get(&req.url)
            .map_err(|e| (MendianError::Network { reason: format!("the request failed to {}: {e}", host()) }, false))?;
        let client = self.client().map_err(|e| (e, true))?;
        let mut builder = client.request(method, url).timeout(self.timeout);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let resp = builder.body(req.body).send().await.map_err(|e| {
            let before_sending = e.is_connect();
            (self.map_err(&host(), e), before_sending)
        })?;
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
        if resp.content_length().is_some_and(|n| n > self.max_body) {
            return Err((too_large(), false));
        }
        let mut resp = resp;
        let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
        while let Some(chunk) = resp.chunk().await.map_err(|e| (self.map_err(&host(), e), false))? {
            if (body.len() + chunk.len()) as u64 > self.max_body {
                return Err((too_large(), false));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, headers, body })
    }

    fn map_err(&self, host: &str, e: reqwest::Error) -> MendianError {
        if e.is_timeout() {
            return MendianError::Timeout { millis: self.timeout.as_millis() as u64 };
        }
        let what = if e.is_connect() {
            "cannot connect"
        } else if e.is_body() || e.is_decode() {
            "the connection failed while reading the response"
        } else {
            "the request failed"
        };
        // Walk the source chain for the root cause (e.g. "connection refused"); reqwest's own
        // message would include the URL, which may carry a token.
        let mut cause = String::new();
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(s) = src {
            cause = s.to_string();
            src = s.source();
        }
        let cause = if cause.is_empty() { String::new() } else { format!(": {cause}") };
        MendianError::Network { reason: format!("{what} to {host}{cause}") }
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
}
