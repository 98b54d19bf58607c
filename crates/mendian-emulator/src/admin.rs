//! The admin API under `/__admin/`: profile, reset, recorded requests and fault injection.
//! Plain JSON over HTTP so tests in Rust, Python and Kotlin drive it the same way.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::state::{Fault, RecordedRequest, Shared};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__admin/profile", get(profile))
        .route("/__admin/reset", post(reset))
        .route("/__admin/requests", get(requests))
        .route("/__admin/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/__admin/wxa", get(wxa_stats).put(wxa_settings))
        .with_state(shared)
}

async fn profile(State(s): State<Arc<Shared>>) -> Json<crate::Profile> {
    Json(crate::profile_for(s.addr))
}

async fn reset(State(s): State<Arc<Shared>>) -> StatusCode {
    s.reset();
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

async fn add_fault(State(s): State<Arc<Shared>>, Json(fault): Json<Fault>) -> (StatusCode, Json<Fault>) {
    (StatusCode::CREATED, Json(s.add_fault(fault)))
}

async fn clear_faults(State(s): State<Arc<Shared>>) -> StatusCode {
    s.lock().faults.clear();
    StatusCode::NO_CONTENT
}

/// `GET /__admin/wxa`: counters of the 门店小程序 side.
async fn wxa_stats(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let inner = s.lock();
    Json(serde_json::json!({ "token_fetches": inner.wxa.token_fetches, "audit_delay_ms": inner.wxa.audit_delay.as_millis() as u64 }))
}

#[derive(serde::Deserialize)]
struct WxaSettings {
    audit_delay_ms: Option<u64>,
}

/// `PUT /__admin/wxa`: settings of the 门店小程序 side (`audit_delay_ms`).
async fn wxa_settings(State(s): State<Arc<Shared>>, Json(v): Json<WxaSettings>) -> StatusCode {
    if let Some(ms) = v.audit_delay_ms {
        s.lock().wxa.audit_delay = std::time::Duration::from_millis(ms);
    }
    StatusCode::NO_CONTENT
}
