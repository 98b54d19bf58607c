//! The platform side: every request that is not for the admin API lands here. It is
//! recorded, matched to a spec endpoint, subjected to any injected fault, and answered in
//! the platform's own error shape.
//!
//! Checks that every platform shares live here (the route exists, documented required
//! inputs are present). Platform behaviour — signatures, tokens, stores, guides, workers —
//! is added per platform; until an endpoint has it, the emulator says so explicitly.
//!
//! Faults apply before the platform answers: `status`, `delay` and `drop` everywhere
//! (`drop` closes the connection without an answer), the WeChat Pay signature faults, the TOP
//! ban, and on wxa routes `wxa_expire_tokens` and `wxa_errcode` (an errcode in WeChat's
//! envelope). wxa requests go to the wxa module whole (token check first, then body shape and
//! required members, then behaviour; the multipart body of a media upload as raw bytes); a
//! documented wxa path called with the wrong method answers 43001/43002. The request log keeps
//! every body as received (lossy UTF-8).
//!
//! Each platform answers through one [`PlatformHandler`]: the router decodes a request once
//! into a [`Call`] and the platform's handler turns it into a [`Reply`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use mendian_spec::{Endpoint, Location, Platform, Spec};
use serde_json::Value;

use crate::state::{FaultKind, RecordedRequest, Shared};

/// Largest request body accepted (the media upload limit is far below it).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A request routed to one of a platform's spec endpoints, decoded once by the router.
pub(crate) struct Call<'a> {
    /// The spec endpoint it matched.
    pub endpoint: &'a Endpoint,
    pub method: &'a Method,
    /// Path and query exactly as received.
    pub uri: &'a str,
    /// Headers (lower-case names; invalid UTF-8 replaced).
    pub headers: &'a BTreeMap<String, String>,
    /// Decoded query parameters.
    pub query: &'a BTreeMap<String, String>,
    /// Members of a JSON-object or form body.
    pub body: &'a BTreeMap<String, Value>,
    pub body_is_json_object: bool,
    pub raw_body: &'a [u8],
    pub content_type: &'a str,
    /// The first documented required input the request lacks.
    pub missing: Option<String>,
    /// An injected fault the platform applies to its own answer (the WeChat Pay signature
    /// faults); the router applies the others.
    pub fault: Option<FaultKind>,
}

/// A platform's answer: status, extra headers and body; every status but 204 is sent as JSON.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A 200 answer with this JSON body (how wxa and TOP answer, errors included).
    pub fn json(value: Value) -> Reply {
        Reply { status: 200, headers: Vec::new(), body: value.to_string() }
    }

    fn into_response(self) -> Response {
        let mut resp = (StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), self.body).into_response();
        if self.status != 204 {
            resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        }
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (axum::http::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
                resp.headers_mut().insert(k, v);
            }
        }
        resp
    }
}

/// One platform's behaviour behind the router.
pub(crate) trait PlatformHandler: Sync {
    /// Whether the router answers a missing documented required input itself, in the
    /// platform's error shape, before [`PlatformHandler::handle`] (wxa checks its access token
    /// first and answers `call.missing` itself).
    fn router_checks_required(&self) -> bool {
        true
    }

    /// Answers a request routed to one of the platform's endpoints, after the faults.
    fn handle(&self, shared: &Arc<Shared>, call: &Call<'_>) -> Reply;
}

fn handler(platform: Platform) -> &'static dyn PlatformHandler {
    match platform {
        Platform::Wechatpay => &crate::wechatpay::Wechatpay,
        Platform::Wxa => &crate::wxa::Wxa,
        Platform::Top => &crate::top::Top,
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn platform_of(path: &str) -> Option<Platform> {
    if path.starts_with("/v3/") {
        Some(Platform::Wechatpay)
    } else if path.starts_with("/wxa/") || path.starts_with("/cgi-bin/") || path.starts_with("/card/") {
        Some(Platform::Wxa)
    } else if path == "/router/rest" {
        Some(Platform::Top)
    } else {
        None
    }
}

fn platform_name(p: Option<Platform>) -> &'static str {
    match p {
        Some(Platform::Wechatpay) => "wechatpay",
        Some(Platform::Wxa) => "wxa",
        Some(Platform::Top) => "top",
        None => "unknown",
    }
}

/// Whether `path` fills the template `tpl` (`/v3/smartguide/guides/{guide_id}/assign`).
fn path_matches(tpl: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (tpl.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// The decoded inputs of a request: query parameters and, for JSON or form bodies, members.
struct Inputs {
    query: BTreeMap<String, String>,
    body: BTreeMap<String, serde_json::Value>,
    body_is_json_object: bool,
}

fn parse_pairs(s: &str) -> BTreeMap<String, String> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn inputs(query: Option<&str>, content_type: &str, body: &[u8]) -> Inputs {
    let query = query.map(parse_pairs).unwrap_or_default();
    let mut out = Inputs { query, body: BTreeMap::new(), body_is_json_object: false };
    if content_type.starts_with("application/x-www-form-urlencoded") {
        out.body = parse_pairs(&String::from_utf8_lossy(body)).into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
    } else if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(body) {
        out.body = m.into_iter().collect();
        out.body_is_json_object = true;
    }
    out
}

fn find_endpoint<'a>(spec: &'a Spec, platform: Platform, method: &Method, path: &str, inputs: &Inputs) -> Option<&'a Endpoint> {
    let endpoints = spec.files.iter().filter(|f| f.spec.family.platform == platform).flat_map(|f| f.spec.endpoints.iter());
    if platform == Platform::Top {
        let api = inputs.body.get("method").and_then(|v| v.as_str()).map(str::to_string).or_else(|| inputs.query.get("method").cloned())?;
        return endpoints.map(|e| e.get_ref()).find(|e| e.api_name.as_deref() == Some(api.as_str()));
    }
    endpoints.map(|e| e.get_ref()).find(|e| e.method.as_str() == method.as_str() && path_matches(&e.path, path))
}

/// The method a wxa endpoint at `path` takes, when the request used another one.
fn wxa_method_for(spec: &Spec, path: &str) -> Option<String> {
    spec.files
        .iter()
        .filter(|f| f.spec.family.platform == Platform::Wxa)
        .flat_map(|f| f.spec.endpoints.iter())
        .map(|e| e.get_ref())
        .find(|e| path_matches(&e.path, path))
        .map(|e| e.method.as_str().to_string())
}

/// The first documented required input the request lacks.
fn missing_required(ep: &Endpoint, inputs: &Inputs) -> Option<String> {
    ep.fields.iter().filter(|f| f.required).find_map(|f| {
        let present = match f.location {
            Some(Location::Query) => inputs.query.get(&f.name).is_some_and(|v| !v.is_empty()),
            Some(Location::Body) | Some(Location::Form) => inputs.body.get(&f.name).is_some_and(|v| !v.is_null()),
            // Path inputs are present by construction; multipart parts are checked by the
            // platform module that parses them.
            _ => true,
        };
        (!present).then(|| f.name.clone())
    })
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    (status, [("content-type", "application/json")], value.to_string()).into_response()
}

/// An error in the platform's own shape.
fn platform_error(platform: Option<Platform>, kind: ErrorKind, message: &str) -> Response {
    match platform {
        Some(Platform::Wechatpay) => {
            let (status, code) = match kind {
                ErrorKind::NotFound => (StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS"),
                ErrorKind::MissingParam => (StatusCode::BAD_REQUEST, "PARAM_ERROR"),
            };
            json(status, serde_json::json!({ "code": code, "message": message }))
        }
        Some(Platform::Wxa) => {
            let code = match kind {
                ErrorKind::NotFound => 48001,
                ErrorKind::MissingParam => 40097,
            };
            json(StatusCode::OK, serde_json::json!({ "errcode": code, "errmsg": message }))
        }
        Some(Platform::Top) => {
            let (code, msg, sub) = match kind {
                ErrorKind::NotFound => (22, "Invalid method", "isv.invalid-method"),
                ErrorKind::MissingParam => (40, "Missing required arguments", "isv.missing-parameter"),
            };
            json(
                StatusCode::OK,
                serde_json::json!({ "error_response": { "code": code, "msg": msg, "sub_code": sub, "sub_msg": message, "request_id": "emulator" } }),
            )
        }
        None => json(StatusCode::NOT_FOUND, serde_json::json!({ "error": message })),
    }
}

#[derive(Clone, Copy)]
enum ErrorKind {
    NotFound,
    MissingParam,
}

/// A response whose body fails at once, so the connection is closed without an answer.
fn dropped_connection() -> Response {
    let stream = futures_once_error();
    Response::new(Body::from_stream(stream))
}

fn futures_once_error() -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    struct Fail(bool);
    impl futures_core::Stream for Fail {
        type Item = Result<Bytes, std::io::Error>;
        fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
            if self.0 {
                return std::task::Poll::Ready(None);
            }
            self.0 = true;
            std::task::Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "injected fault: drop"))))
        }
    }
    Fail(false)
}

async fn handle(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let content_type = parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let platform = platform_of(&path);
    let ins = inputs(query.as_deref(), &content_type, &body);
    let endpoint = platform.and_then(|p| find_endpoint(&s.spec, p, &parts.method, &path, &ins).map(|e| (p, e)));
    let headers: BTreeMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let fault = s.record(RecordedRequest {
        seq: 0,
        platform: platform_name(platform).into(),
        endpoint: endpoint.map(|(_, e)| e.id.clone()),
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.as_deref().map(crate::redact::params),
        headers: headers.iter().map(|(k, v)| (k.clone(), crate::redact::header(k, v))).collect(),
        body: crate::redact::body(&String::from_utf8_lossy(&body), &content_type),
    });
    // The faults the platform applies to its own answer; the router applies the others here.
    let mut answer_fault = None;
    let mut drop_after = false;
    match fault {
        Some(FaultKind::DropAfterProcessing) => drop_after = true,
        Some(
            f @ (FaultKind::WechatpayBadSignature
            | FaultKind::WechatpaySignTest
            | FaultKind::WechatpayClockSkew { .. }
            | FaultKind::WechatpayExpiredCertificate),
        ) => answer_fault = Some(f),
        Some(FaultKind::Status { status, body, content_type }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let ct = content_type.unwrap_or_else(|| "application/json".into());
            let mut resp = (status, body).into_response();
            if let Ok(v) = HeaderValue::from_str(&ct) {
                resp.headers_mut().insert("content-type", v);
            }
            return resp;
        }
        Some(FaultKind::Drop) => return dropped_connection(),
        Some(FaultKind::WxaExpireTokens) => s.lock().wxa.expire_tokens(),
        Some(FaultKind::WxaErrcode { errcode, errmsg }) if platform == Some(Platform::Wxa) => {
            return json(StatusCode::OK, crate::wxa::fault_answer(&s, endpoint.map(|(_, e)| e.id.as_str()), errcode, &errmsg));
        }
        Some(FaultKind::WxaErrcode { .. }) => {}
        Some(FaultKind::TopBan { seconds, sub_code }) => {
            s.lock().top_ban = Some((std::time::Instant::now() + Duration::from_secs(seconds), sub_code));
        }
        Some(FaultKind::Delay { millis }) => tokio::time::sleep(Duration::from_millis(millis)).await,
        None => {}
    }
    let Some((platform, ep)) = endpoint else {
        if platform == Some(Platform::Wxa) {
            if let Some(other) = wxa_method_for(&s.spec, &path) {
                // The platform's answer to a documented path called with the wrong method.
                let (code, msg) = if other == "GET" { (43001, "require GET method") } else { (43002, "require POST method") };
                return json(StatusCode::OK, serde_json::json!({ "errcode": code, "errmsg": msg }));
            }
        }
        let what = if platform == Some(Platform::Top) { "unknown API method".to_string() } else { format!("no such API: {} {path}", parts.method) };
        return platform_error(platform, ErrorKind::NotFound, &what);
    };
    let handler = handler(platform);
    let missing = missing_required(ep, &ins);
    if handler.router_checks_required() {
        if let Some(name) = &missing {
            return platform_error(Some(platform), ErrorKind::MissingParam, &format!("missing required parameter `{name}`"));
        }
    }
    let uri = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| path.clone());
    let call = Call {
        endpoint: ep,
        method: &parts.method,
        uri: &uri,
        headers: &headers,
        query: &ins.query,
        body: &ins.body,
        body_is_json_object: ins.body_is_json_object,
        raw_body: &body,
        content_type: &content_type,
        missing,
        fault: answer_fault,
    };
    let answer = handler.handle(&s, &call).into_response();
    if drop_after {
        return dropped_connection();
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_concrete_paths() {
        assert!(path_matches("/v3/smartguide/guides/{guide_id}/assign", "/v3/smartguide/guides/abc/assign"));
        assert!(!path_matches("/v3/smartguide/guides/{guide_id}/assign", "/v3/smartguide/guides/abc"));
        assert!(!path_matches("/v3/smartguide/guides/{guide_id}", "/v3/smartguide/guides/"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Bb%3D%3D+c"), "a+b== c");
        assert_eq!(percent_decode("%E5%BC%A0"), "张");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
