//! Access tokens for `api.weixin.qq.com`: where they come from (providers) and where they are
//! kept (stores); `super::token_cache` hands them out.
//!
//! - Providers: `cgi-bin/stable_token` (the default; never force-refreshed on its own, so it
//!   does not knock out other servers using the same appid), classic `cgi-bin/token`, a fixed
//!   token, or [`WxaTokenProvider`] implemented in Kotlin/Swift/Python (an app asks its backend
//!   and never holds the AppSecret).
//! - Stores: [`WxaTokenStore`], in memory by default; a fleet of servers shares one (Redis:
//!   `super::redis_store`), whose lock makes one process of the fleet fetch at a time.
//! - The built-in providers fail over to `api2.weixin.qq.com` when `api.weixin.qq.com` cannot
//!   be reached (only when they use the default hosts).
//!
//! Tokens never appear in Debug output or errors.

use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::error::MendianError;
use crate::generated::wxa::{GetAccessTokenRequest, GetStableAccessTokenRequest};
use crate::runtime::encode::{lay_out, to_value};
use crate::runtime::engine::transport_failure;
use crate::runtime::errors::{api_error, parse_json, ApiAnswer};
use crate::runtime::transport::{HttpRequest, HttpResponse};
use crate::runtime::{system_now, ClientOptions, Engine, Failure, Protocol};
use crate::schema::{EndpointDescriptor, Request};

/// Exported from `crate::ffi::wxa`; re-exported here for Rust callers.
pub use crate::ffi::wxa::{
    wxa_classic_token_provider, wxa_fixed_token_provider, wxa_memory_token_store, wxa_stable_token_provider,
};

/// Tokens are refreshed when fewer seconds than this remain (the platform rotates stable
/// tokens 5 minutes early and keeps the old one valid meanwhile).
pub const REFRESH_AHEAD_SECONDS: i64 = 300;

/// A token and how long it lives.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct WxaAccessToken {
    /// The access token.
    pub access_token: String,
    /// Seconds it stays valid from now.
    pub expires_in: u64,
}

impl fmt::Debug for WxaAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WxaAccessToken {{ access_token: <redacted>, expires_in: {} }}", self.expires_in)
    }
}

crate::display_as_debug!(WxaAccessToken);

/// A token as stored, with its absolute expiry.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct WxaStoredToken {
    /// The access token.
    pub access_token: String,
    /// Unix time (seconds) at which it expires.
    pub expires_at: i64,
}

impl fmt::Debug for WxaStoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WxaStoredToken {{ access_token: <redacted>, expires_at: {} }}", self.expires_at)
    }
}

crate::display_as_debug!(WxaStoredToken);

/// Where tokens come from. Implement it to get tokens from your own server.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait WxaTokenProvider: Send + Sync {
    /// A fresh token. `force_refresh` is true only when the caller explicitly asked for a
    /// forced refresh (the cache never asks on its own).
    async fn fetch_token(&self, force_refresh: bool) -> Result<WxaAccessToken, MendianError>;
}

/// Where tokens are kept between calls. mendian ships one in memory
/// (`wxa_memory_token_store`) and one on Redis (`wxa_redis_token_store`, for a fleet of
/// servers); implement it over a database to share tokens another way.
///
/// A store shared by several processes also offers a lock, so that only one process of the
/// fleet fetches a new token at a time: `try_lock` takes it for a limited time and `unlock`
/// releases it only for the holder that took it. A store used by one process answers
/// `try_lock` with `true` and does nothing in `unlock` (the cache already lets one caller per
/// appid fetch at a time within a process).
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait WxaTokenStore: Send + Sync {
    /// The stored token for `appid`, if any.
    async fn load(&self, appid: String) -> Result<Option<WxaStoredToken>, MendianError>;
    /// Stores a token for `appid`.
    async fn save(&self, appid: String, token: WxaStoredToken) -> Result<(), MendianError>;
    /// Forgets the token of `appid` only if it is still `access_token`.
    async fn invalidate(&self, appid: String, access_token: String) -> Result<(), MendianError>;
    /// Takes the refresh lock of `appid` for `holder` (a value unique to this attempt) for at
    /// most `ttl_ms` milliseconds; `false` when another holder has it.
    async fn try_lock(&self, appid: String, holder: String, ttl_ms: u64) -> Result<bool, MendianError>;
    /// Releases the refresh lock of `appid` if `holder` still holds it (a lock that expired
    /// and was taken by another holder is left alone).
    async fn unlock(&self, appid: String, holder: String) -> Result<(), MendianError>;
}

/// The default store: this process's memory.
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, WxaStoredToken>>,
}

#[async_trait::async_trait]
impl WxaTokenStore for MemoryTokenStore {
    async fn load(&self, appid: String) -> Result<Option<WxaStoredToken>, MendianError> {
        Ok(self.tokens.lock().unwrap_or_else(|p| p.into_inner()).get(&appid).cloned())
    }
    async fn save(&self, appid: String, token: WxaStoredToken) -> Result<(), MendianError> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(appid, token);
        Ok(())
    }
    async fn invalidate(&self, appid: String, access_token: String) -> Result<(), MendianError> {
        let mut t = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if t.get(&appid).is_some_and(|s| s.access_token == access_token) {
            t.remove(&appid);
        }
        Ok(())
    }
    async fn try_lock(&self, _appid: String, _holder: String, _ttl_ms: u64) -> Result<bool, MendianError> {
        Ok(true)
    }
    async fn unlock(&self, _appid: String, _holder: String) -> Result<(), MendianError> {
        Ok(())
    }
}

pub(crate) fn now() -> i64 {
    system_now()
}

/// Which credential endpoint a built-in provider calls.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Stable,
    Classic,
}

/// A built-in provider for `cgi-bin/stable_token` or `cgi-bin/token`. Its requests are the
/// generated request records of those endpoints, run by the call engine (failover to the
/// backup host; no retries of its own: the cache repeats -1 answers).
struct SecretProvider {
    kind: Kind,
    appid: String,
    secret: String,
    engine: Engine,
}

impl fmt::Debug for SecretProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretProvider")
            .field("kind", &self.kind)
            .field("appid", &self.appid)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A token request laid out once: the endpoint, and its path with query, and its body.
struct TokenCall {
    d: &'static EndpointDescriptor,
    path_and_query: String,
    body: Option<Vec<u8>>,
}

impl TokenCall {
    fn of<R: Request>(request: &R) -> Result<TokenCall, MendianError> {
        request.validate()?;
        let d = R::descriptor();
        let layout = lay_out(d, &to_value(d, request)?);
        let body = (d.method != "GET").then(|| Value::Object(layout.body.clone()).to_string().into_bytes());
        Ok(TokenCall { d, path_and_query: layout.path_and_query(), body })
    }
}

#[async_trait::async_trait]
impl Protocol for SecretProvider {
    type Call = TokenCall;
    type Ticket = ();

    async fn build(&self, call: &TokenCall, base: &str) -> Result<(HttpRequest, ()), MendianError> {
        let headers =
            if call.body.is_some() { vec![("content-type".into(), "application/json".into())] } else { vec![] };
        let url = format!("{base}{}", call.path_and_query);
        Ok((HttpRequest { method: call.d.method, url, headers, body: call.body.clone().unwrap_or_default() }, ()))
    }

    async fn read<T: DeserializeOwned + Send>(
        &self,
        call: &TokenCall,
        resp: HttpResponse,
        _: &(),
    ) -> Result<T, MendianError> {
        parse_json(call.d, resp.status, &resp.body)
    }

    fn classify(&self, error: &MendianError) -> Failure {
        transport_failure(error).unwrap_or(Failure::Final)
    }
}

#[async_trait::async_trait]
impl WxaTokenProvider for SecretProvider {
    async fn fetch_token(&self, force_refresh: bool) -> Result<WxaAccessToken, MendianError> {
        let call = match self.kind {
            Kind::Stable => TokenCall::of(&GetStableAccessTokenRequest {
                grant_type: "client_credential".into(),
                appid: self.appid.clone(),
                secret: self.secret.clone(),
                force_refresh: Some(force_refresh),
            })?,
            Kind::Classic => TokenCall::of(&GetAccessTokenRequest {
                grant_type: "client_credential".into(),
                appid: self.appid.clone(),
                secret: self.secret.clone(),
            })?,
        };
        let v: Value = self.engine.execute(self, call.d, &call).await?;
        match (v.get("access_token").and_then(Value::as_str), v.get("expires_in").and_then(Value::as_u64)) {
            (Some(t), Some(e)) if !t.is_empty() => Ok(WxaAccessToken { access_token: t.to_string(), expires_in: e }),
            _ => Err(token_error(call.d, &v)),
        }
    }
}

/// The `Api` error of a token answer without a token.
fn token_error(d: &EndpointDescriptor, v: &Value) -> MendianError {
    let code = v.get("errcode").map(|c| c.to_string()).unwrap_or_else(|| "?".into());
    let message = v.get("errmsg").and_then(Value::as_str).unwrap_or("").to_string();
    api_error(
        d,
        ApiAnswer {
            request_id: super::client::rid_of(&message),
            transient: code == "-1",
            code,
            message,
            ..ApiAnswer::default()
        },
    )
}

/// A built-in provider of `kind` for `appid` and `secret`, against `base_url` (no backup) or
/// the default hosts; exported as [`wxa_stable_token_provider`] and
/// [`wxa_classic_token_provider`] (in `crate::ffi::wxa`).
pub(crate) fn secret_provider(
    kind: Kind,
    appid: String,
    secret: String,
    base_url: Option<String>,
) -> Result<Arc<dyn WxaTokenProvider>, MendianError> {
    if appid.trim().is_empty() {
        return Err(MendianError::invalid("appid", "must not be empty"));
    }
    if secret.trim().is_empty() {
        return Err(MendianError::Credentials { reason: "the AppSecret is empty".into() });
    }
    // A custom base URL (an emulator, a proxy) has no backup; the default hosts do.
    let options = match base_url.filter(|b| !b.trim().is_empty()) {
        Some(b) => ClientOptions { max_retries: 0, ..ClientOptions::with_base_url(b.trim()) },
        None => ClientOptions { max_retries: 0, ..ClientOptions::default() },
    };
    let engine = Engine::new(&options, super::client::WXA_DEFAULTS)?;
    Ok(Arc::new(SecretProvider { kind, appid, secret, engine }))
}

/// A provider that always answers this token; exported as [`wxa_fixed_token_provider`] (in
/// `crate::ffi::wxa`).
pub(crate) fn fixed_provider(access_token: String, expires_in: u64) -> Arc<dyn WxaTokenProvider> {
    struct Fixed(WxaAccessToken);
    #[async_trait::async_trait]
    impl WxaTokenProvider for Fixed {
        async fn fetch_token(&self, _force: bool) -> Result<WxaAccessToken, MendianError> {
            Ok(self.0.clone())
        }
    }
    Arc::new(Fixed(WxaAccessToken { access_token, expires_in }))
}
