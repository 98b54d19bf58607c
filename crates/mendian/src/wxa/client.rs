//! `WxaClient`: one generic call path for the 门店小程序 store endpoints.
//!
//! A call validates the request record and lays it out once: JSON (query parameters only for
//! GETs, `multipart/form-data` for file uploads). The call engine (`crate::runtime`) then
//! runs it: each attempt takes a token from the cache and puts it in the query, the engine
//! fails over to the backup host when the primary cannot be reached and retries where the
//! spec allows. This module reads the envelope the spec names for the endpoint (`errcode`/
//! `errmsg`, Tencent Map's `status`/`message`, create_map_poi's `error`/`data`) and
//! classifies failures: 40001/40014/42001 invalidate the failed token (only if still
//! current) and repeat the call exactly once; -1 (system busy) is transient.
//! The typed per-endpoint methods are generated from the spec into the FFI layer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::token::{WxaTokenProvider, WxaTokenStore};
use super::token_cache::{default_store, TokenCache, DEFAULT_LOCK_TTL_MS};
use crate::error::MendianError;
use crate::generated::Envelope;
use crate::runtime::answer::decode_noting;
use crate::runtime::encode::{lay_out, percent_encode_into, to_value, value_text};
use crate::runtime::engine::transport_failure;
use crate::runtime::options::check_id;
use crate::runtime::errors::{api_error, decode_payload, missing_lists, parse_json, ApiAnswer};
use crate::runtime::transport::{HttpRequest, HttpResponse};
use crate::runtime::{ClientOptions, Engine, Failure, PlatformDefaults, Protocol};
use crate::schema::{EndpointDescriptor, Request};

/// The primary API host (`base_url` of `spec/wxa.toml`).
pub const WXA_BASE_URL: &str = crate::generated::wxa::BASE_URL;
/// The backup host used when the primary cannot be reached (`backup_base_url` of the spec).
pub const WXA_BACKUP_BASE_URL: &str = match crate::generated::wxa::BACKUP_BASE_URL {
    Some(url) => url,
    None => panic!("spec/wxa.toml names a backup_base_url"),
};

/// Error codes meaning the access token is invalid or expired.
pub const TOKEN_ERRORS: &[&str] = &["40001", "40014", "42001"];

/// The hosts and timeout WeChat documents.
pub const WXA_DEFAULTS: PlatformDefaults = PlatformDefaults {
    base_url: WXA_BASE_URL,
    backup_base_url: Some(WXA_BACKUP_BASE_URL),
    timeout: Duration::from_secs(10),
};

/// How a [`WxaClient`] talks to `api.weixin.qq.com`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WxaConfig {
    /// The official account / mini-program appid the tokens belong to.
    pub appid: String,
    /// Hosts, timeouts, retries, deadline and language (defaults: the production host with
    /// `api2.weixin.qq.com` as backup, 10 s per exchange, 2 retries of -1 where safe).
    #[uniffi(default)]
    pub options: ClientOptions,
    /// How long the fleet-wide token refresh lock lives, in milliseconds, when the token store
    /// is shared (Redis): a process that crashed while fetching blocks the others at most this
    /// long, and a waiter gives up after twice this. Default 10 000; must exceed a normal
    /// token fetch.
    #[uniffi(default = 10000)]
    pub token_lock_ttl_ms: u64,
}

impl WxaConfig {
    /// A configuration for `appid` with every default.
    pub fn new(appid: impl Into<String>) -> WxaConfig {
        WxaConfig { appid: appid.into(), options: ClientOptions::default(), token_lock_ttl_ms: DEFAULT_LOCK_TTL_MS }
    }
}

/// A client for the 门店小程序 APIs of one appid.
#[derive(uniffi::Object)]
pub struct WxaClient {
    config: WxaConfig,
    tokens: TokenCache,
    engine: Engine,
}

impl fmt::Debug for WxaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WxaClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl WxaClient {
    /// Checks the configuration and builds the client, with the process's in-memory store of
    /// its API host when `store` is absent; exported as `WxaClient::new` (in `crate::ffi::wxa`).
    pub(crate) fn create(
        config: WxaConfig,
        provider: Arc<dyn WxaTokenProvider>,
        store: Option<Arc<dyn WxaTokenStore>>,
    ) -> Result<Arc<Self>, MendianError> {
        check_id("appid", &config.appid)?;
        if !(100..=600_000).contains(&config.token_lock_ttl_ms) {
            return Err(MendianError::invalid("token_lock_ttl_ms", "must be between 100 and 600000 milliseconds"));
        }
        let engine = Engine::new(&config.options, WXA_DEFAULTS)?;
        let store = store.unwrap_or_else(|| default_store(engine.primary()));
        Ok(Arc::new(WxaClient { tokens: TokenCache::new(config.appid.clone(), provider, store, config.token_lock_ttl_ms), config, engine }))
    }

    /// The token cache behind `access_token` and `force_refresh_token` (in `crate::ffi::wxa`).
    pub(crate) fn tokens(&self) -> &TokenCache {
        &self.tokens
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

/// The `Api` error an answer carries, if any, read through the endpoint's envelope.
pub fn envelope_error(d: &EndpointDescriptor, v: &Value) -> Option<MendianError> {
    let (code, message) = match d.envelope {
        Some(Envelope::TencentMap) => {
            let status = v.get("status").and_then(value_text).unwrap_or_else(|| "0".into());
            (status, v.get("message").and_then(value_text).unwrap_or_default())
        }
        Some(Envelope::MapPoi) if v.get("errcode").is_none() => {
            let err = v.get("error").and_then(value_text).filter(|e| !e.is_empty());
            (if err.is_some() { "error".to_string() } else { "0".into() }, err.unwrap_or_default())
        }
        // Every envelope is named here (no catch-all), so one added to the spec does not
        // compile until this function reads it. The other platforms' envelopes never reach a
        // 门店小程序 descriptor (the loader ties each endpoint to its own family's envelopes).
        Some(
            Envelope::Errcode
            | Envelope::Token
            | Envelope::MapPoi
            | Envelope::Wrapped
            | Envelope::Simplified
            | Envelope::ErrorResponse
            | Envelope::PlainJson
            | Envelope::ErrorJson,
        )
        | None => (
            v.get("errcode").and_then(value_text).unwrap_or_else(|| "0".into()),
            v.get("errmsg").and_then(value_text).unwrap_or_default(),
        ),
    };
    if code == "0" {
        return None;
    }
    Some(api_error(
        d,
        ApiAnswer { request_id: rid_of(&message), transient: code == "-1", code, message, ..ApiAnswer::default() },
    ))
}

/// Every top-level member [`envelope_error`] reads, whatever the endpoint's envelope.
const ENVELOPE_MEMBERS: &[&str] = &["errcode", "errmsg", "status", "message", "error"];

/// An answer without an error in its envelope must still come with a 2xx status.
fn check_status(d: &EndpointDescriptor, status: u16) -> Result<(), MendianError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    Err(crate::runtime::errors::decode_error(format!("the {} response", d.id), format!("HTTP {status}")))
}

/// Reads an answer of endpoint `d`: its record, or the error its envelope, status or shape
/// carries. The record is decoded straight from the bytes when it can be (the envelope's
/// members kept on the way); any other answer is read by [`read_answer_general`], which
/// gives the same result more slowly (the fuzz target `wxa_answer` holds the two to that).
pub fn read_answer<T: DeserializeOwned>(d: &EndpointDescriptor, status: u16, body: &[u8]) -> Result<T, MendianError> {
    if d.response.is_some() {
        if let Some((record, mut noted)) = decode_noting::<T>(body, ENVELOPE_MEMBERS, d.required_response_lists) {
            if let Some(err) = envelope_error(d, &Value::Object(std::mem::take(&mut noted.kept))) {
                return Err(err);
            }
            check_status(d, status)?;
            let watched =
                |f: &str| d.required_response_lists.iter().position(|w| *w == f).is_some_and(|i| noted.saw(i));
            return match missing_lists(d, watched) {
                Some(err) => Err(err),
                None => Ok(record),
            };
        }
    }
    read_answer_general(d, status, body)
}

/// [`read_answer`] through a `Value` of the whole answer: every error and lenient case.
pub fn read_answer_general<T: DeserializeOwned>(
    d: &EndpointDescriptor,
    status: u16,
    body: &[u8],
) -> Result<T, MendianError> {
    let v: Value = parse_json(d, status, body)?;
    if let Some(err) = envelope_error(d, &v) {
        return Err(err);
    }
    check_status(d, status)?;
    // Endpoints without a response record answer only errcode/errmsg.
    decode_payload(d, if d.response.is_none() { Value::Null } else { v })
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
        let (mime, ext) = crate::schema::validate::sniff_media(bytes)
            .map(crate::schema::validate::media_mime)
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

/// A request laid out once per call: the endpoint, its query and its body.
pub struct WxaCall {
    d: &'static EndpointDescriptor,
    query: Vec<String>,
    body: Body,
}

impl WxaClient {
    /// This client with another timeout per HTTP exchange; the token cache, store and
    /// connection pool are shared.
    pub(crate) fn timed(&self, timeout: std::time::Duration) -> Arc<Self> {
        Arc::new(WxaClient { config: self.config.clone(), tokens: self.tokens.clone(), engine: self.engine.with_timeout(timeout) })
    }

    /// Calls the endpoint of `R`.
    pub async fn call<R: Request>(&self, request: &R) -> Result<R::Response, MendianError> {
        request.validate()?;
        let d = R::descriptor();
        let layout = lay_out(d, &to_value(d, request)?);
        let parts = request.multipart();
        let body = if !parts.is_empty() {
            multipart_body(&parts)
        } else if d.method == "GET" {
            Body { content_type: None, bytes: Vec::new() }
        } else {
            Body {
                content_type: Some("application/json".into()),
                bytes: serde_json::to_vec(&layout.body).expect("a JSON map always serializes"),
            }
        };
        let call = WxaCall { d, query: layout.query, body };
        self.engine.execute(self, d, &call).await
    }
}

/// The 门店小程序 protocol for the call engine: each attempt carries the current token;
/// a refused token is renewed once.
#[async_trait::async_trait]
impl Protocol for WxaClient {
    type Call = WxaCall;
    type Ticket = String;

    async fn build(&self, call: &WxaCall, base: &str) -> Result<(HttpRequest, String), MendianError> {
        let token = self.tokens.get().await?;
        let mut url = String::with_capacity(base.len() + call.d.path.len() + 14 + token.len() + 64);
        url.push_str(base);
        url.push_str(call.d.path);
        url.push_str("?access_token=");
        percent_encode_into(&token, &mut url);
        for q in &call.query {
            url.push('&');
            url.push_str(q);
        }
        let mut headers = vec![("accept".to_string(), "application/json".to_string())];
        if let Some(ct) = &call.body.content_type {
            headers.push(("content-type".into(), ct.clone()));
        }
        Ok((HttpRequest { method: call.d.method, url, headers, body: call.body.bytes.clone() }, token))
    }

    async fn read<T: DeserializeOwned + Send>(
        &self,
        call: &WxaCall,
        resp: HttpResponse,
        _token: &String,
    ) -> Result<T, MendianError> {
        // (A gateway's 5xx page never gets here: the engine makes it a transport failure.)
        read_answer(call.d, resp.status, &resp.body)
    }

    fn classify(&self, error: &MendianError) -> Failure {
        if let Some(f) = transport_failure(error) {
            return f;
        }
        match error {
            MendianError::Api { code, .. } if TOKEN_ERRORS.contains(&code.as_str()) => Failure::StaleCredential,
            MendianError::Api { code, .. } if code == "-1" => Failure::Transient,
            _ => Failure::Final,
        }
    }

    async fn renew(&self, token: &String) -> Result<(), MendianError> {
        // The token may have been replaced elsewhere: drop it only if it is still the
        // stored one; the repeat takes whatever is current.
        self.tokens.invalidate(token).await
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

    /// Both ways of reading an answer give the same record or the same error.
    fn same_reading<T: DeserializeOwned + fmt::Debug>(id: &str, status: u16, body: &str) {
        let d = crate::catalog::descriptor(id).unwrap();
        let fast = format!("{:?}", read_answer::<T>(d, status, body.as_bytes()));
        let general = format!("{:?}", read_answer_general::<T>(d, status, body.as_bytes()));
        assert_eq!(fast, general, "{id} HTTP {status}: {body}");
    }

    #[test]
    fn the_direct_reading_agrees_with_the_general_one() {
        use crate::generated::wxa::{GetDistrictResponse, GetStoreListResponse};
        let store = r#"{"base_info":{"poi_id":"p1","business_name":"店","branch_name":"","address":"路1号","telephone":"1","categories":["美食"],"city":"广州","province":"广东","offset_type":1,"longitude":113.3,"latitude":23.1,"sid":"s","status":1}}"#;
        let lists = [
            format!(r#"{{"errcode":0,"errmsg":"ok","business_list":[{store}],"total_count":1}}"#),
            format!(r#"{{"business_list":[{store},{store}],"total_count":"2"}}"#),
            format!(r#"{{"errcode":"0","business_list":[{store}],"total_count":1,"total_count":2}}"#),
            format!(r#"{{"errcode":0,"errcode":40001,"errmsg":"invalid credential rid: 1-2","business_list":[]}}"#),
            r#"{"errcode":-1,"errmsg":"system error","business_list":[]}"#.to_string(),
            r#"{"errcode":40097,"errmsg":"invalid args"}"#.to_string(),
            r#"{"errcode":0,"errmsg":"ok","total_count":0}"#.to_string(),
            r#"{"errcode":0,"business_list":[],"total_count":0}"#.to_string(),
            r#"{"errcode":0,"business_list":[{"base_info":{"poi_id":7}}]}"#.to_string(),
            r#"{"errcode":0,"business_list":null}"#.to_string(),
            r#"{"errcode":0,"business_list":[]} trailing"#.to_string(),
            r#"[{"errcode":0}]"#.to_string(),
            r#"<html>bad gateway</html>"#.to_string(),
            String::new(),
        ];
        for body in &lists {
            for status in [200, 404, 503] {
                same_reading::<GetStoreListResponse>("get_store_list", status, body);
            }
        }
        for body in [
            r#"{"status":0,"message":"query ok","result":[[{"id":"110000","fullname":"北京市"}]]}"#,
            r#"{"status":311,"message":"key格式错误"}"#,
            r#"{"status":"0","message":"query ok","result":[]}"#,
        ] {
            same_reading::<GetDistrictResponse>("get_district", 200, body);
        }
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
