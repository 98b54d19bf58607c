//! `WxaClient`: one generic call path for the 门店小程序 store endpoints.
//!
//! A call validates the request record, takes a token from the cache, sends JSON (query
//! parameters only for GETs, `multipart/form-data` for file uploads) with `access_token` in
//! the query, fails over to the backup host when
//! the primary cannot be reached, and reads the envelope the spec names for the endpoint:
//! `errcode`/`errmsg`, Tencent Map's `status`/`message`, or create_map_poi's `error`/`data`.
//! On 40001/40014/42001 the failed token is invalidated (only if still current) and the call
//! is repeated exactly once; -1 (system busy) backs off and retries where the spec allows.
//! The typed per-endpoint methods are generated from the spec.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::token::{MemoryTokenStore, TokenCache, WxaTokenProvider, WxaTokenStore};
use crate::error::{MendianError, Platform};
use crate::spec::{EndpointDescriptor, Location, Request, Retry};
use crate::transport::{HttpRequest, HttpResponse, Transport};

/// The primary API host.
pub const WXA_BASE_URL: &str = "https://api.weixin.qq.com";
/// The backup host used when the primary cannot be reached.
pub const WXA_BACKUP_BASE_URL: &str = "https://api2.weixin.qq.com";

/// Error codes meaning the access token is invalid or expired.
pub const TOKEN_ERRORS: &[&str] = &["40001", "40014", "42001"];

/// How a [`WxaClient`] talks to `api.weixin.qq.com`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WxaConfig {
    /// The official account / mini-program appid the tokens belong to.
    pub appid: String,
    /// Base URL of the API.
    #[uniffi(default = "https://api.weixin.qq.com")]
    pub base_url: String,
    /// Backup base URL tried when the primary cannot be reached; empty disables it.
    #[uniffi(default = "https://api2.weixin.qq.com")]
    pub backup_base_url: String,
    /// Timeout of one HTTP exchange, in milliseconds.
    #[uniffi(default = 10000)]
    pub timeout_ms: u64,
    /// How many times a call failing with -1 (system busy) is repeated, where that is safe.
    #[uniffi(default = 2)]
    pub max_retries: u32,
    /// The calling language, reported in `User-Agent`.
    #[uniffi(default = "rust")]
    pub language: String,
}

impl WxaConfig {
    /// A configuration for `appid` with every default.
    pub fn new(appid: impl Into<String>) -> WxaConfig {
        WxaConfig {
            appid: appid.into(),
            base_url: WXA_BASE_URL.into(),
            backup_base_url: WXA_BACKUP_BASE_URL.into(),
            timeout_ms: 10_000,
            max_retries: 2,
            language: "rust".into(),
        }
    }
}

/// A client for the 门店小程序 APIs of one appid.
#[derive(uniffi::Object)]
pub struct WxaClient {
    config: WxaConfig,
    tokens: TokenCache,
    transport: Transport,
}

impl fmt::Debug for WxaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WxaClient").field("config", &self.config).finish_non_exhaustive()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl WxaClient {
    /// A client for `config.appid` whose tokens come from `provider` (for example
    /// `wxa_stable_token_provider(appid, secret)`, or your own) and are kept in `store`
    /// (in memory when absent).
    #[uniffi::constructor(default(store = None))]
    pub fn new(
        config: WxaConfig,
        provider: Arc<dyn WxaTokenProvider>,
        store: Option<Arc<dyn WxaTokenStore>>,
    ) -> Result<Arc<Self>, MendianError> {
        if config.appid.trim().is_empty() {
            return Err(MendianError::invalid("appid", "must not be empty"));
        }
        let store = store.unwrap_or_else(|| Arc::new(MemoryTokenStore::default()));
        let transport = Transport::new(
            Duration::from_millis(config.timeout_ms.max(1)),
            &crate::transport::user_agent(&config.language),
        )?;
        Ok(Arc::new(WxaClient { tokens: TokenCache::new(config.appid.clone(), provider, store), config, transport }))
    }

    /// A valid access token from the cache (fetching one if needed). Use it for WeChat APIs
    /// mendian does not cover; never log it.
    pub async fn access_token(&self) -> Result<String, MendianError> {
        self.tokens.get().await
    }

    /// Fetches a new token with `force_refresh = true` and stores it. With stable_token this
    /// invalidates the previous token for every server of the appid and is limited to 20 a
    /// day, 30 s apart: use it after a token leak, never routinely. The cache never does.
    pub async fn force_refresh_token(&self) -> Result<(), MendianError> {
        self.tokens.force_refresh().await.map(|_| ())
    }
}

/// The `rid`/`hint` request id WeChat appends to `errmsg`, for support tickets.
pub fn rid_of(errmsg: &str) -> Option<String> {
    for marker in ["rid: ", "hint: ["] {
        if let Some(i) = errmsg.find(marker) {
            let rest = &errmsg[i + marker.len()..];
            let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            if !id.is_empty() {
                return Some(id);
            }
        }
    }
    None
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The `Api` error an answer carries, if any, read through the endpoint's envelope.
pub fn envelope_error(d: &EndpointDescriptor, v: &Value) -> Option<MendianError> {
    let (code, message) = match d.envelope {
        Some("tencent_map") => {
            let status = v.get("status").and_then(text).unwrap_or_else(|| "0".into());
            (status, v.get("message").and_then(text).unwrap_or_default())
        }
        Some("map_poi") if v.get("errcode").is_none() => {
            let err = v.get("error").and_then(text).filter(|e| !e.is_empty());
            (if err.is_some() { "error".to_string() } else { "0".into() }, err.unwrap_or_default())
        }
        _ => (
            v.get("errcode").and_then(text).unwrap_or_else(|| "0".into()),
            v.get("errmsg").and_then(text).unwrap_or_default(),
        ),
    };
    if code == "0" {
        return None;
    }
    let entry = d.lookup_error(&code, None, &message);
    Some(MendianError::Api {
        platform: Platform::Wxa,
        http_status: None,
        request_id: rid_of(&message),
        description: entry.map(|e| e.description.to_string()),
        remedy: entry.and_then(|e| e.remedy).map(str::to_string),
        retryable: code == "-1" || entry.is_some_and(|e| e.retryable),
        server_message: message,
        code,
        sub_code: None,
        detail: None,
    })
}

/// A request body and its content type.
struct Body {
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// A `multipart/form-data` body with one file part per `(name, bytes)`; each part is named
/// after its field and typed by its content (`media.jpg`, `image/jpeg`).
fn multipart_body(parts: &[(&str, &[u8])]) -> Body {
    let mut rnd = [0u8; 12];
    aws_lc_rs::rand::fill(&mut rnd).expect("the system RNG is available");
    let boundary: String = format!("mendian{}", rnd.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let mut out = Vec::with_capacity(parts.iter().map(|(_, b)| b.len() + 200).sum());
    for (name, bytes) in parts {
        let (mime, ext) = crate::spec::validate::sniff_media(bytes)
            .map(crate::spec::validate::media_mime)
            .unwrap_or(("application/octet-stream", "bin"));
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.{ext}\"\r\nContent-Type: {mime}\r\n\r\n").as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Body { content_type: Some(format!("multipart/form-data; boundary={boundary}")), bytes: out }
}

impl WxaClient {
    async fn send(
        &self,
        method: &'static str,
        path_and_query: &str,
        body: &Body,
    ) -> Result<HttpResponse, MendianError> {
        let mut hosts = vec![self.config.base_url.trim_end_matches('/')];
        if !self.config.backup_base_url.trim().is_empty() {
            hosts.push(self.config.backup_base_url.trim_end_matches('/'));
        }
        let mut last = None;
        for (i, host) in hosts.iter().enumerate() {
            let mut headers = vec![("accept".to_string(), "application/json".to_string())];
            if let Some(ct) = &body.content_type {
                headers.push(("content-type".into(), ct.clone()));
            }
            let req = HttpRequest { method, url: format!("{host}{path_and_query}"), headers, body: body.bytes.clone() };
            match self.transport.send_classified(req).await {
                Ok(r) => return Ok(r),
                Err((e, before_sending)) if before_sending && i + 1 < hosts.len() => last = Some(e),
                Err((e, _)) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| MendianError::Network { reason: "no host to send to".into() }))
    }

    async fn once(
        &self,
        d: &EndpointDescriptor,
        token: &str,
        query: &[String],
        body: &Body,
    ) -> Result<Value, MendianError> {
        let mut q = vec![format!("access_token={}", crate::wechatpay::client::percent_encode(token))];
        q.extend(query.iter().cloned());
        let resp = self.send(d.method, &format!("{}?{}", d.path, q.join("&")), body).await?;
        let v: Value = serde_json::from_slice(&resp.body).map_err(|e| MendianError::Decode {
            what: format!("the {} response (HTTP {})", d.id, resp.status),
            reason: e.to_string(),
        })?;
        if let Some(err) = envelope_error(d, &v) {
            return Err(err);
        }
        if !(200..300).contains(&resp.status) {
            return Err(MendianError::Decode {
                what: format!("the {} response", d.id),
                reason: format!("HTTP {}", resp.status),
            });
        }
        Ok(v)
    }

    /// Calls the endpoint of `R`.
    pub async fn call<R: Request>(&self, request: &R) -> Result<R::Response, MendianError> {
        request.validate()?;
        let d = R::descriptor();
        let value = serde_json::to_value(request)
            .map_err(|e| MendianError::invalid(d.id, format!("cannot encode the request: {e}")))?;
        let mut query = Vec::new();
        let mut body = serde_json::Map::new();
        for f in d.fields {
            let Some(v) = value.get(f.name).filter(|v| !v.is_null()) else { continue };
            match f.location {
                Location::Query => query.push(format!(
                    "{}={}",
                    f.name,
                    crate::wechatpay::client::percent_encode(&text(v).unwrap_or_default())
                )),
                _ => {
                    body.insert(f.name.to_string(), v.clone());
                }
            }
        }
        let parts = request.multipart();
        let body = if !parts.is_empty() {
            multipart_body(&parts)
        } else if d.method == "GET" {
            Body { content_type: None, bytes: Vec::new() }
        } else {
            Body { content_type: Some("application/json".into()), bytes: Value::Object(body).to_string().into_bytes() }
        };
        let mut token_retried = false;
        let mut busy_retries = 0;
        loop {
            let token = self.tokens.get().await?;
            match self.once(d, &token, &query, &body).await {
                Ok(v) => {
                    // Endpoints without a response record answer only errcode/errmsg.
                    let v = if d.response.is_none() { Value::Null } else { v };
                    return serde_json::from_value(v).map_err(|e| MendianError::Decode {
                        what: format!("the {} response", d.id),
                        reason: e.to_string(),
                    });
                }
                Err(MendianError::Api { ref code, .. }) if TOKEN_ERRORS.contains(&code.as_str()) && !token_retried => {
                    // The token may have been replaced elsewhere: drop it only if it is still
                    // the stored one, and try exactly once more with whatever is current.
                    token_retried = true;
                    self.tokens.invalidate(&token).await?;
                }
                Err(MendianError::Api { ref code, .. })
                    if code == "-1" && d.retry == Retry::Transient && busy_retries < self.config.max_retries =>
                {
                    busy_retries += 1;
                    tokio::time::sleep(Duration::from_millis(250u64 << busy_retries.min(4))).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_read_from_errmsg() {
        assert_eq!(rid_of("access_token expired rid: 68aeab12-3c4d5e6f").as_deref(), Some("68aeab12-3c4d5e6f"));
        assert_eq!(rid_of("data format error hint: [xZlI1a0722e622]").as_deref(), Some("xZlI1a0722e622"));
        assert_eq!(rid_of("ok"), None);
    }

    #[test]
    fn envelopes() {
        let list = crate::catalog::descriptor("get_store_list").unwrap();
        assert!(envelope_error(list, &serde_json::json!({"errcode": 0, "errmsg": "ok"})).is_none());
        match envelope_error(list, &serde_json::json!({"errcode": 40097, "errmsg": "invalid args rid: abc"})).unwrap() {
            MendianError::Api { code, request_id, .. } => {
                assert_eq!(code, "40097");
                assert_eq!(request_id.as_deref(), Some("abc"));
            }
            other => panic!("{other:?}"),
        }
        let district = crate::catalog::descriptor("get_district").unwrap();
        assert!(envelope_error(district, &serde_json::json!({"status": 0, "message": "query ok"})).is_none());
        assert!(envelope_error(district, &serde_json::json!({"status": 311, "message": "key格式错误"})).is_some());
        let poi = crate::catalog::descriptor("create_map_poi").unwrap();
        assert!(envelope_error(poi, &serde_json::json!({"error": null, "data": {"base_id": 1}})).is_none());
        assert!(envelope_error(poi, &serde_json::json!({"error": "bad name", "data": {}})).is_some());
        assert!(envelope_error(poi, &serde_json::json!({"errcode": 47001, "errmsg": "data format error"})).is_some());
    }
}
