//! The `api.weixin.qq.com` side for 门店小程序, behaving like the real platform so an SDK bug is
//! caught here rather than in production. This file holds the wxa state and the dispatch of a
//! call to its endpoint; each concern has its own file:
//!
//! - `tokens`: stable and classic access tokens, force-refresh limits, the token check;
//! - `inputs`: body shape, member types and formats (`hour`, `contract_phone`, paging);
//! - `multipart` and `media`: `cgi-bin/media/upload` and the media ids it issues;
//! - `merchant`: the merchant application, its audit and changes;
//! - `stores`: districts, map POIs, stores and their cards;
//! - `fixtures`: built-in districts, Tencent Map places and categories;
//! - `envelope`: WeChat's `errcode`/`errmsg` envelope;
//! - `settings`: the `GET|PUT /__admin/wxa` view and settings;
//! - `push`: audit event pushes to the configured callback.
//!
//! Order of checks: the access token first (token calls aside), then the body shape and
//! required members, then the behaviour. A path called with the wrong method answers
//! 43001/43002 (require GET/POST method; see `platforms`). Audits (merchant, map POI, store,
//! store pictures) finish after `audit_delay` (0 by default) with the configured
//! `audit_outcome` (approve by default), fixed when the audit starts; when one finishes its
//! event is pushed to the configured callback.
//!
//! Token rules and push crypto (SHA-1 signatures, AES-256-CBC `Encrypt`) are the emulator's
//! own, written from the platform documents independently of the SDK (see the crate doc).

mod envelope;
mod fixtures;
mod inputs;
mod media;
mod merchant;
mod multipart;
pub(crate) mod push;
mod settings;
mod stores;
mod tokens;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::Method;
use mendian_spec::Location;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::platforms::{Call, PlatformHandler, Reply};
use crate::state::Shared;
use envelope::{default_errmsg, err, Answer};
use inputs::input_shape;
use media::{check_upload, Media, Upload};
use merchant::Merchant;
use push::{PendingPush, PushMode, PushTasks, WxaPush};
use stores::{Poi, Store};
use tokens::{beijing_day, ForcedRefreshes, Token};

/// How the emulated audits end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Approved (merchant 1, map POI 0, store 1).
    #[default]
    Approve,
    /// Rejected with a reason (merchant 3, map POI 1, store 3).
    Reject,
}

/// An audit: its id, when it finishes and how.
#[derive(Debug, Clone)]
struct Audit {
    id: i64,
    ready: Instant,
    approve: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pending,
    Approved,
    Rejected,
}

impl Audit {
    fn verdict(&self) -> Verdict {
        if Instant::now() < self.ready {
            Verdict::Pending
        } else if self.approve {
            Verdict::Approved
        } else {
            Verdict::Rejected
        }
    }
}

/// Everything the wxa side remembers (reset with the rest of the state).
#[derive(Debug, Default)]
pub(crate) struct WxaState {
    stable: Option<Token>,
    /// The stable token a normal rotation replaced; valid until its own expiry.
    stable_prev: Option<Token>,
    classic: Option<Token>,
    forced: ForcedRefreshes,
    /// Token requests answered in WeChat's envelope (stable and classic, success or error).
    pub token_fetches: u64,
    /// New token values issued.
    pub tokens_issued: u64,
    merchant: Option<Merchant>,
    pois: Vec<Poi>,
    stores: BTreeMap<String, Store>,
    cards: BTreeMap<String, String>,
    media: BTreeMap<String, Media>,
    next_id: i64,
    /// How long audits take.
    pub audit_delay: Duration,
    /// How audits end.
    pub audit_outcome: AuditOutcome,
    /// Where audit events are pushed (a loopback http:// URL).
    pub callback_url: Option<String>,
    /// Plain or safe pushes.
    pub push_mode: PushMode,
    /// Every answered delivery attempt, in the order they were sent.
    pub pushes: Vec<WxaPush>,
    /// Delivery attempts started so far (orders `pushes`).
    pub push_attempts: u64,
    pub push_tasks: PushTasks,
}

/// A decoded wxa request, as the wxa handler hands it over.
struct WxaCall<'a> {
    id: &'a str,
    query: &'a BTreeMap<String, String>,
    body: &'a BTreeMap<String, Value>,
    /// The endpoint takes a JSON body (POST with body members).
    json_body_expected: bool,
    body_is_json_object: bool,
    raw_body: &'a [u8],
    content_type: &'a str,
    /// The first documented required member that is absent.
    missing: Option<String>,
}

/// The wxa side behind the platform router.
pub(crate) struct Wxa;

impl PlatformHandler for Wxa {
    /// wxa checks the token first, then the body shape and required members (40097 here).
    fn router_checks_required(&self) -> bool {
        false
    }

    fn handle(&self, shared: &Arc<Shared>, call: &Call<'_>) -> Reply {
        let ep = call.endpoint;
        let call = WxaCall {
            id: &ep.id,
            query: call.query,
            body: call.body,
            json_body_expected: *call.method == Method::POST
                && ep.fields.iter().any(|f| f.location == Some(Location::Body)),
            body_is_json_object: call.body_is_json_object,
            raw_body: call.raw_body,
            content_type: call.content_type,
            missing: call.missing.clone(),
        };
        Reply::json(handle(shared, &call))
    }
}

/// Answers one wxa call (after faults and spec routing).
fn handle(shared: &Arc<Shared>, call: &WxaCall) -> Value {
    // Pure parsing outside the lock; the token check still comes first in the answer.
    let upload = (call.id == "upload_media").then(|| check_upload(call));
    let mut pushes = Vec::new();
    let answer = {
        let mut inner = shared.lock();
        let w = &mut inner.wxa;
        match call.id {
            "get_stable_access_token" | "get_access_token" => {
                w.token_fetches += 1;
                w.token_call(call, Instant::now(), beijing_day())
            }
            _ => w
                .check_token(call.query.get("access_token"))
                .and_then(|()| input_shape(call))
                .and_then(|()| w.dispatch(call, upload, &mut pushes)),
        }
    };
    if !pushes.is_empty() {
        push::spawn_all(shared, pushes);
    }
    answer.unwrap_or_else(|e| e)
}

/// The answer of an injected `wxa_errcode` fault.
pub(crate) fn fault_answer(shared: &Shared, endpoint: Option<&str>, code: i64, msg: &str) -> Value {
    if matches!(endpoint, Some("get_stable_access_token" | "get_access_token")) {
        shared.lock().wxa.token_fetches += 1;
    }
    err(code, if msg.is_empty() { default_errmsg(code) } else { msg })
}

impl WxaState {
    fn next(&mut self) -> i64 {
        self.next_id += 1;
        100_000 + self.next_id
    }

    /// Starts an audit with the current delay and outcome.
    fn audit(&mut self) -> Audit {
        Audit {
            id: self.next(),
            ready: Instant::now() + self.audit_delay,
            approve: self.audit_outcome == AuditOutcome::Approve,
        }
    }

    /// The behaviour of a call that passed the token and input-shape checks.
    fn dispatch(
        &mut self,
        call: &WxaCall,
        upload: Option<Result<Upload, Value>>,
        pushes: &mut Vec<PendingPush>,
    ) -> Answer {
        let body = call.body;
        match call.id {
            "upload_media" => self.upload_media(upload.expect("parsed for upload_media")),
            "get_merchant_category" => self.merchant_category(),
            "apply_merchant" => self.apply_merchant(body, pushes),
            "get_merchant_audit_info" => self.merchant_audit_info(),
            "modify_merchant" => self.modify_merchant(body),
            "get_district" => self.district(),
            "search_map_poi" => self.search_map_poi(body),
            "create_map_poi" => self.create_map_poi(body, pushes),
            "add_store" => self.add_store(body, pushes),
            "update_store" => self.update_store(body, pushes),
            "get_store_info" => self.store_info(body),
            "get_store_list" => self.store_list(body),
            "del_store" => self.del_store(body),
            "get_poi_list" => self.poi_list(body),
            "get_store_card" => self.store_card(body),
            "set_store_card" => self.set_store_card(body),
            other => Err(err(-1, &format!("mendian-emulator: `{other}` is not emulated in this version"))),
        }
    }
}
