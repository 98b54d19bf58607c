//! mendian-emulator: a local, stateful stand-in for the WeChat Pay, WeChat mini-program and
//! TOP gateways, so mendian's end-to-end tests (and apps built on mendian) run without real
//! credentials or network.
//!
//! One loopback listener serves all three platforms (their paths do not overlap: `/v3/…`,
//! `/wxa/…` `/cgi-bin/…` `/card/…`, `/router/rest`) plus an admin API under `/__admin/` that
//! tests in any language drive over HTTP:
//!
//! | admin route | what it does |
//! |---|---|
//! | `GET /__admin/profile` | the connection profile (also printed by the binary) |
//! | `POST /__admin/reset` | forget recorded requests, faults and platform state |
//! | `GET /__admin/requests` | the platform requests received (the last 10,000), oldest first (`?platform=wxa` filters) |
//! | `DELETE /__admin/requests` | forget the recorded requests only |
//! | `GET/POST/DELETE /__admin/faults` | list, add or clear injected faults |
//! | `GET /__admin/wxa` | 门店小程序 counters, settings and push log: `{"token_fetches", "tokens_issued", "audit_delay_ms", "audit_outcome", "callback_url", "push_mode", "pushes": [{"event", "audit_id", "attempt", "status", "answer", "error"}]}` (answered delivery attempts, in the order they were sent) |
//! | `PUT /__admin/wxa` | 门店小程序 settings, all optional: `{"audit_delay_ms": N, "callback_url": "http://127.0.0.1:PORT/path" \| null, "push_mode": "plain" \| "safe", "audit_outcome": "approve" \| "reject"}`; 204, or 400 for a non-loopback URL or an unknown member |
//!
//! Faults (`{"route": …, "kind": {"type": …}, "times": N}`): `status`, `delay`, `drop` (close
//! without an answer), `drop_after_processing` (do the work, then close without an answer),
//! `wechatpay_bad_signature`, `wechatpay_sign_test`, `wechatpay_clock_skew`,
//! `wechatpay_expired_certificate`, `top_ban`, `wxa_expire_tokens`, and
//! `{"type": "wxa_errcode", "errcode": -1, "errmsg": "system error"}` (an errcode in WeChat's
//! envelope, e.g. -1 busy or 45009 quota).
//!
//! The 门店小程序 side pushes audit events (XML, plain or safe mode) to the configured
//! loopback callback, signed with the profile's `wxa_push_token` and encrypted with its
//! `wxa_encoding_aes_key`; see the `wxa` module (and `wxa::push`) for the platform rules it
//! enforces (token semantics and limits, input formats, media upload, audits).
//!
//! The test credentials the emulator accepts (the values [`Profile`] publishes) are public
//! constants in [`credentials`], for Rust tests to import instead of copying them.
//!
//! **Independent on purpose.** The emulator re-implements the platforms' crypto and signing —
//! WeChat Pay RSA signatures and verification, RSA-OAEP fields and the AES-256-GCM of
//! `/v3/certificates`, the AES-256-CBC message crypto and SHA-1 signatures of wxa pushes, TOP
//! md5 / hmac signing, the wxa token rules — from the platforms' documents, independently of
//! the SDK, so that tests against it cross-check the SDK: a mistake shared by both would hide
//! itself. It must never import or share that code with the `mendian` crate (it does not
//! depend on it, and must not), however tempting the duplication looks.
//!
//! Requests are matched against the endpoints in `spec/` (embedded at build time, the same
//! files the SDK is generated from). The platform modules answer them; an endpoint the spec
//! describes but whose behaviour is not emulated yet gets an explicit platform-shaped error
//! saying so, never a made-up success.

mod admin;
pub mod credentials;
mod platforms;
mod redact;
mod state;
mod top;
mod wechatpay;
mod wxa;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use state::{Fault, FaultKind, RecordedRequest};
pub use wxa::push::{PushMode, WxaPush};
pub use wxa::AuditOutcome;

/// The spec files, embedded so the emulator binary runs from anywhere.
const SPEC_SOURCES: &[(&str, &str)] = &[
    ("spec/top.toml", include_str!("../../../spec/top.toml")),
    ("spec/wechatpay.toml", include_str!("../../../spec/wechatpay.toml")),
    ("spec/wxa.toml", include_str!("../../../spec/wxa.toml")),
];

/// Loads the embedded spec.
pub fn embedded_spec() -> Result<mendian_spec::Spec, mendian_spec::SpecError> {
    let sources: Vec<(std::path::PathBuf, String)> =
        SPEC_SOURCES.iter().map(|(p, t)| (std::path::PathBuf::from(p), t.to_string())).collect();
    mendian_spec::load_sources(&sources)
}

/// What a client needs to talk to a running emulator, as JSON for any language.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Profile {
    /// Name of the program that wrote the profile.
    pub emulator: String,
    /// Version of the emulator.
    pub version: String,
    /// Base URL of the admin API (`…/__admin`).
    pub admin_url: String,
    /// Base URL to use instead of `https://api.mch.weixin.qq.com`.
    pub wechatpay_base_url: String,
    /// Base URL to use instead of `https://api.weixin.qq.com`.
    pub wxa_base_url: String,
    /// Gateway URL to use instead of the TOP production gateway.
    pub top_gateway_url: String,
    /// WeChat Pay 商户号 the emulator accepts.
    pub wechatpay_mchid: String,
    /// Serial of that merchant's API certificate.
    pub wechatpay_merchant_serial_no: String,
    /// That merchant's private key (PEM; a public test key).
    pub wechatpay_merchant_private_key_pem: String,
    /// The merchant's APIv3 key.
    pub wechatpay_apiv3_key: String,
    /// WeChat Pay public key id (public-key mode).
    pub wechatpay_public_key_id: String,
    /// WeChat Pay public key (PEM).
    pub wechatpay_public_key_pem: String,
    /// Serial of the platform certificate served by `/v3/certificates`.
    pub wechatpay_platform_serial_no: String,
    /// Store ids (门店) that exist.
    pub wechatpay_store_ids: Vec<i64>,
    /// The 门店小程序 appid the emulator accepts.
    pub wxa_appid: String,
    /// Its AppSecret (a test credential).
    pub wxa_secret: String,
    /// The message-push Token the audit event pushes are signed with.
    pub wxa_push_token: String,
    /// The EncodingAESKey of safe-mode pushes (43 characters, non-zero trailing bits).
    pub wxa_encoding_aes_key: String,
    /// The official account's original id (`gh_…`), the pushes' `ToUserName`.
    pub wxa_original_id: String,
    /// TOP app key the emulator accepts.
    pub top_app_key: String,
    /// TOP app secret matching `top_app_key` (a test credential).
    pub top_app_secret: String,
    /// TOP session the emulator accepts.
    pub top_session: String,
}

/// Options for [`Emulator::start`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; must be a loopback address.
    pub host: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config { host: IpAddr::from([127, 0, 0, 1]), port: 0 }
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<state::Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Binds the listener and starts serving on the current tokio runtime.
    pub async fn start(config: Config) -> Result<Emulator, String> {
        if !config.host.is_loopback() {
            return Err(format!("the emulator only listens on loopback addresses, not {}", config.host));
        }
        let spec = embedded_spec().map_err(|e| format!("embedded spec: {e}"))?;
        let listener = TcpListener::bind((config.host, config.port))
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", config.host, config.port))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Arc::new(state::Shared::new(spec, addr));
        let app = admin::router(shared.clone()).merge(platforms::router(shared.clone()));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                eprintln!("mendian-emulator: server error: {e}");
            }
        });
        Ok(Emulator { addr, shared, shutdown: Some(tx), task: Some(task) })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connection profile.
    pub fn profile(&self) -> Profile {
        profile_for(self.addr)
    }

    /// The platform requests received so far (what `GET /__admin/requests` answers).
    pub fn recorded(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Injects a fault (what `POST /__admin/faults` does); returns it with its id.
    pub fn add_fault(&self, fault: Fault) -> Fault {
        self.shared.add_fault(fault).unwrap_or_else(|e| panic!("invalid fault: {e}"))
    }

    /// Adds a fault, or says why it is refused (`times: 0`, a ban longer than a year).
    pub fn try_add_fault(&self, fault: Fault) -> Result<Fault, String> {
        self.shared.add_fault(fault)
    }

    /// How many token requests (stable and classic, answered with a token or an errcode) the
    /// wxa side has answered since the last reset.
    pub fn wxa_token_fetches(&self) -> u64 {
        self.shared.lock().wxa.token_fetches
    }

    /// Sets how long 门店小程序 audits take (merchant, map POI, store, store pictures).
    pub fn set_wxa_audit_delay(&self, delay: std::time::Duration) {
        self.shared.lock().wxa.audit_delay = delay;
    }

    /// Sets how audits started from now on end (approve by default).
    pub fn set_wxa_audit_outcome(&self, outcome: AuditOutcome) {
        self.shared.lock().wxa.audit_outcome = outcome;
    }

    /// Sets (or with `None` removes) the loopback `http://` URL audit events are pushed to, and
    /// the push mode. Refuses any other URL.
    pub fn set_wxa_callback(&self, url: Option<&str>, mode: PushMode) -> Result<(), String> {
        if let Some(u) = url {
            wxa::push::parse_callback_url(u)?;
        }
        let mut inner = self.shared.lock();
        inner.wxa.callback_url = url.map(str::to_string);
        inner.wxa.push_mode = mode;
        Ok(())
    }

    /// Every answered push delivery attempt so far, in the order they were sent (what
    /// `GET /__admin/wxa` lists).
    pub fn wxa_pushes(&self) -> Vec<WxaPush> {
        self.shared.lock().wxa.pushes.clone()
    }

    /// Waits until at least `n` push attempts are recorded or `timeout` passes; returns them.
    pub async fn wait_for_wxa_pushes(&self, n: usize, timeout: std::time::Duration) -> Vec<WxaPush> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let pushes = self.wxa_pushes();
            if pushes.len() >= n || tokio::time::Instant::now() >= deadline {
                return pushes;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Removes every injected fault (what `DELETE /__admin/faults` does).
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Forgets the recorded requests only (what `DELETE /__admin/requests` does), keeping
    /// tokens, stores and faults: long runs such as benchmarks use it to bound the log.
    pub fn clear_recorded(&self) {
        self.shared.lock().requests.clear();
    }

    /// Forgets recorded requests, faults and platform state.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops the server (and pending pushes) and waits for it to finish.
    pub async fn stop(mut self) {
        self.shared.lock().wxa.push_tasks.abort_all();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.lock().wxa.push_tasks.abort_all();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub(crate) fn profile_for(addr: SocketAddr) -> Profile {
    use credentials::{top, wechatpay, wxa};
    let base = format!("http://{addr}");
    Profile {
        emulator: "mendian-emulator".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        admin_url: format!("{base}/__admin"),
        wechatpay_base_url: base.clone(),
        wxa_base_url: base.clone(),
        top_gateway_url: format!("{base}/router/rest"),
        wechatpay_mchid: wechatpay::MCHID.into(),
        wechatpay_merchant_serial_no: wechatpay::MERCHANT_SERIAL.into(),
        wechatpay_merchant_private_key_pem: wechatpay::MERCHANT_PRIVATE_KEY.into(),
        wechatpay_apiv3_key: wechatpay::APIV3_KEY.into(),
        wechatpay_public_key_id: wechatpay::PUBLIC_KEY_ID.into(),
        wechatpay_public_key_pem: wechatpay::PUBLIC_KEY.into(),
        wechatpay_platform_serial_no: wechatpay::PLATFORM_SERIAL.into(),
        wechatpay_store_ids: wechatpay::STORES.to_vec(),
        wxa_appid: wxa::APPID.into(),
        wxa_secret: wxa::SECRET.into(),
        wxa_push_token: wxa::PUSH_TOKEN.into(),
        wxa_encoding_aes_key: wxa::ENCODING_AES_KEY.into(),
        wxa_original_id: wxa::ORIGINAL_ID.into(),
        top_app_key: top::APP_KEY.into(),
        top_app_secret: top::APP_SECRET.into(),
        top_session: top::SESSION.into(),
    }
}
