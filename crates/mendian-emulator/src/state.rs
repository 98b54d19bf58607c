//! The emulator's shared state: recorded requests, injected faults, platform state (including
//! the wxa settings and push log) and the spec it answers from. One mutex guards it; every
//! critical section is short and never awaits (wxa pushes run in spawned tasks that take it
//! only to read their settings and record an attempt). A reset replaces the state, which
//! also cancels pending wxa pushes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A platform request as the emulator received it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// `wechatpay`, `wxa`, `top`, or `unknown`.
    pub platform: String,
    /// The spec endpoint id it matched, if any.
    pub endpoint: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string (still percent-encoded), if any.
    pub query: Option<String>,
    /// Headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Body as text (invalid UTF-8 replaced).
    pub body: String,
}

/// What an injected fault does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status and body instead of the platform's answer.
    Status {
        /// HTTP status.
        status: u16,
        /// Response body.
        #[serde(default)]
        body: String,
        /// Content type (default `application/json`).
        #[serde(default)]
        content_type: Option<String>,
    },
    /// Wait this long, then answer normally.
    Delay {
        /// Milliseconds to wait.
        millis: u64,
    },
    /// Close the connection without answering.
    Drop,
    /// Process the request as usual (a worker is created, a store added), then drop the
    /// connection instead of answering: the client cannot know it was done.
    DropAfterProcessing,
    /// WeChat Pay: answer normally but corrupt the response signature.
    WechatpayBadSignature,
    /// WeChat Pay: answer with a `WECHATPAY/SIGNTEST/` probe signature.
    WechatpaySignTest,
    /// WeChat Pay: `/v3/certificates` serves the official SDKs' test certificate for the
    /// platform key, which expired on 2025-05-09 (serial 440024045C4A…).
    WechatpayExpiredCertificate,
    /// WeChat Pay: sign the response with a timestamp this many seconds off.
    WechatpayClockSkew {
        /// Seconds added to the response timestamp.
        seconds: i64,
    },
    /// wxa: every issued access token expires now (the next call gets 42001).
    WxaExpireTokens,
    /// wxa: answer this errcode in WeChat's envelope (`{"errcode": N, "errmsg": "… rid: …"}`)
    /// instead of the platform's answer, e.g. -1 (system error, busy) or 45009 (daily quota).
    /// An empty `errmsg` uses the platform's text for -1, 45009 and 45011. No effect on
    /// requests of other platforms (a use is still consumed).
    WxaErrcode {
        /// The errcode.
        errcode: i64,
        /// The errmsg (a `rid: …` is appended as the platform does).
        #[serde(default)]
        errmsg: String,
    },
    /// TOP rate-limit ban: from the first matching request on, every TOP call is refused for
    /// `seconds` with code 7, `sub_code` and "This ban will last for N more seconds".
    TopBan {
        /// Length of the ban.
        seconds: u64,
        /// The code-7 sub-code, e.g. `accesscontrol.limited-by-api-access-count`.
        sub_code: String,
    },
}

/// How many requests the log keeps (the oldest are forgotten first).
pub const MAX_RECORDED: usize = 10_000;

/// The longest `top_ban` a fault may ask for (a year).
pub const MAX_BAN_SECONDS: u64 = 365 * 24 * 3600;

/// A fault injected on a route.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    /// Assigned by the emulator.
    #[serde(default)]
    pub id: u64,
    /// `"METHOD /path"`, `"/path"` (any method) or `"*"` (every platform request).
    pub route: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many requests it applies to; absent means until cleared.
    #[serde(default)]
    pub times: Option<u32>,
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        if self.route == "*" {
            return true;
        }
        match self.route.split_once(' ') {
            Some((m, p)) => m.eq_ignore_ascii_case(method) && p == path,
            None => self.route == path,
        }
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    /// The most recent requests, at most [`MAX_RECORDED`].
    pub requests: Vec<RecordedRequest>,
    /// Requests recorded since the last reset (numbers them, also past the cap).
    pub recorded_total: u64,
    pub faults: Vec<Fault>,
    pub next_fault_id: u64,
    /// WeChat Pay guides by guide id.
    pub wechatpay_guides: BTreeMap<String, crate::wechatpay::Guide>,
    /// WeChat Pay guide assignments (guide id, out_trade_no).
    pub wechatpay_assignments: Vec<(String, String)>,
    /// The 门店小程序 side.
    pub wxa: crate::wxa::WxaState,
    /// An active TOP ban: when it ends and its sub-code.
    pub top_ban: Option<(std::time::Instant, String)>,
    /// TOP workers keyed by (name, phone, biz_type).
    pub top_workers: BTreeMap<crate::top::WorkerKey, crate::top::StoredWorker>,
}

pub(crate) struct Shared {
    pub spec: mendian_spec::Spec,
    pub addr: SocketAddr,
    pub inner: Mutex<Inner>,
}

impl Shared {
    pub fn new(spec: mendian_spec::Spec, addr: SocketAddr) -> Shared {
        Shared { spec, addr, inner: Mutex::new(Inner::default()) }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a request and returns the fault that applies to it, if any (consuming one use).
    pub fn record(&self, mut req: RecordedRequest) -> Option<FaultKind> {
        let mut inner = self.lock();
        inner.recorded_total += 1;
        req.seq = inner.recorded_total;
        let (method, path) = (req.method.clone(), req.path.clone());
        if inner.requests.len() >= MAX_RECORDED {
            // Forget the oldest tenth at once, so that a long run stays bounded cheaply.
            inner.requests.drain(..MAX_RECORDED / 10);
        }
        inner.requests.push(req);
        let idx = inner.faults.iter().position(|f| f.matches(&method, &path))?;
        let fault = &mut inner.faults[idx];
        let kind = fault.kind.clone();
        if let Some(t) = fault.times.as_mut() {
            *t = t.saturating_sub(1);
            if *t == 0 {
                inner.faults.remove(idx);
            }
        }
        Some(kind)
    }

    /// Adds a fault; refuses `times: 0` (it would never apply) and bans longer than a year.
    pub fn add_fault(&self, mut fault: Fault) -> Result<Fault, String> {
        if fault.times == Some(0) {
            return Err("`times` must be at least 1 (leave it out for a fault that applies until cleared)".into());
        }
        if let FaultKind::TopBan { seconds, .. } = &fault.kind {
            if *seconds == 0 || *seconds > MAX_BAN_SECONDS {
                return Err(format!("a top_ban lasts 1 to {MAX_BAN_SECONDS} seconds"));
            }
        }
        let mut inner = self.lock();
        inner.next_fault_id += 1;
        fault.id = inner.next_fault_id;
        inner.faults.push(fault.clone());
        Ok(fault)
    }

    pub fn reset(&self) {
        *self.lock() = Inner::default();
    }
}
