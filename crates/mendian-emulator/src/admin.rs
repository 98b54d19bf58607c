//! The admin API under `/__admin/`: profile, reset, recorded requests, fault injection and the
//! 门店小程序 settings and push log (`GET|PUT /__admin/wxa`). Plain JSON over HTTP so tests in
//! Rust, Python and Kotlin drive it the same way.
//!
//! The admin API answers only requests whose `Host` is a loopback name (`127.0.0.1`, `[::1]`,
//! `localhost`, any port): a web page a developer has open cannot reach it through DNS
//! rebinding (its requests carry the page's own host name).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::state::{Fault, RecordedRequest, Shared};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__admin/profile", get(profile))
        .route("/__admin/reset", post(reset))
        .route("/__admin/requests", get(requests).delete(clear_requests))
        .route("/__admin/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/__admin/wxa", get(wxa_stats).put(wxa_settings))
        .layer(axum::middleware::from_fn(loopback_host_only))
        .with_state(shared)
}

/// Refuses (403) an admin request whose `Host` is not a loopback name.
async fn loopback_host_only(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = req.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
    if loopback_host(host) {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, Json(serde_json::json!({ "error": "the admin API answers only a loopback Host" }))).into_response()
    }
}

/// Whether a `Host` header names this machine's loopback interface.
fn loopback_host(host: &str) -> bool {
    let name = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

async fn profile(State(s): State<Arc<Shared>>) -> Json<crate::Profile> {
    Json(crate::profile_for(s.addr))
}

async fn reset(State(s): State<Arc<Shared>>) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}

/// `DELETE /__admin/requests`: forget the recorded requests, keep everything else.
async fn clear_requests(State(s): State<Arc<Shared>>) -> StatusCode {
    s.lock().requests.clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(s): State<Arc<Shared>>, Query(q): Query<HashMap<String, String>>) -> Json<Vec<RecordedRequest>> {
    let inner = s.lock();
    let wanted = q.get("platform");
    Json(inner.requests.iter().filter(|r| wanted.is_none_or(|p| &r.platform == p)).cloned().collect())
}

async fn list_faults(State(s): State<Arc<Shared>>) -> Json<Vec<Fault>> {
    Json(s.lock().faults.clone())
}

async fn add_fault(State(s): State<Arc<Shared>>, Json(fault): Json<Fault>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match s.add_fault(fault) {
        Ok(f) => (StatusCode::CREATED, Json(f)).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": e }))).into_response(),
    }
}

async fn clear_faults(State(s): State<Arc<Shared>>) -> StatusCode {
    s.lock().faults.clear();
    StatusCode::NO_CONTENT
}

/// `GET /__admin/wxa`: counters, settings and the push log of the 门店小程序 side.
async fn wxa_stats(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let v = s.lock().wxa.admin_json();
    Json(v)
}

/// `PUT /__admin/wxa`: settings of the 门店小程序 side (`audit_delay_ms`, `callback_url`,
/// `push_mode`, `audit_outcome`; all optional). 400 for a non-loopback callback or a bad member.
async fn wxa_settings(State(s): State<Arc<Shared>>, Json(v): Json<serde_json::Value>) -> Response {
    let applied = s.lock().wxa.apply_admin(&v);
    match applied {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": e }))).into_response(),
    }
}
