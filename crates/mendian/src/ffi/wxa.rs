//! Exports the hand-written part of the 门店小程序 surface, each a thin call into [`crate::wxa`]:
//!
//! - the [`WxaClient`] constructor, its token methods and [`WxaClient::get_district_tree`],
//!   with [`wxa_district_tree`];
//! - the access-token providers and store ([`wxa_stable_token_provider`],
//!   [`wxa_classic_token_provider`], [`wxa_fixed_token_provider`], [`wxa_memory_token_store`],
//!   and with the `redis` feature `wxa_redis_token_store`);
//! - push handling: the [`WxaPushReceiver`] constructor and methods, [`wxa_parse_push`],
//!   [`wxa_push_signature`] and [`wxa_push_encrypt_with_random`].
//!
//! `crate::wxa` (and its `token`, `stores` and `events` modules) re-exports the functions for
//! Rust callers. The per-endpoint methods are in `ffi::generated::wxa`.

// `MendianError` is the one error type that crosses the FFI; it is large by design.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::MendianError;
use crate::generated::wxa::{GetDistrictRequest, GetDistrictResponse};
use crate::wxa::events::{self, WxaEvent, WxaPush, WxaPushConfig, WxaPushReceiver};
use crate::wxa::token::{fixed_provider, secret_provider, Kind, MemoryTokenStore};
use crate::wxa::{stores, WxaClient, WxaConfig, WxaDistrictProvince, WxaTokenProvider, WxaTokenStore};

impl WxaClient {
    /// A valid access token from the cache (fetching one if needed). Use it for WeChat APIs
    /// mendian does not cover; never log it.
    pub async fn access_token(&self) -> Result<String, MendianError> {
        self.tokens().get().await
    }

    /// Fetches a new token with `force_refresh = true` and stores it. With stable_token this
    /// invalidates the previous token for every server of the appid and is limited to 20 a
    /// day, 30 s apart: use it after a token leak, never routinely. The cache never does.
    pub async fn force_refresh_token(&self) -> Result<(), MendianError> {
        self.tokens().force_refresh().await.map(|_| ())
    }

    /// Calls get_district and returns its provinces, each with its cities and their
    /// districts (see [`wxa_district_tree`]).
    pub async fn get_district_tree(&self) -> Result<Vec<WxaDistrictProvince>, MendianError> {
        wxa_district_tree(self.get_district(GetDistrictRequest {}).await?)
    }
}

/// The async methods run on the SDK's shared runtime (see `runtime::shared`); Rust callers
/// await the methods above.
#[uniffi::export]
impl WxaClient {
    /// This client with `timeout_ms` per HTTP exchange instead of the configured one, for
    /// the calls made through it (`client.with_timeout(500).get_store_list(…)`). It shares
    /// everything else with this client: credentials, caches, the connection pool. Fails with
    /// `InvalidArgument` for 0.
    pub fn with_timeout(&self, timeout_ms: u64) -> Result<Arc<Self>, MendianError> {
        if timeout_ms == 0 {
            return Err(MendianError::invalid("timeout_ms", "must be at least 1 ms"));
        }
        Ok(self.timed(std::time::Duration::from_millis(timeout_ms)))
    }

    /// A client for `config.appid` whose tokens come from `provider` (for example
    /// `wxa_stable_token_provider(appid, secret)`, or your own) and are kept in `store`
    /// (when absent: in this process's memory, shared by every client of the same API host,
    /// so two clients of one appid never replace each other's token). Every call into the
    /// provider and the store is bounded by `config.token_lock_ttl_ms`.
    #[uniffi::constructor(default(store = None))]
    pub fn new(
        config: WxaConfig,
        provider: Arc<dyn WxaTokenProvider>,
        store: Option<Arc<dyn WxaTokenStore>>,
    ) -> Result<Arc<Self>, MendianError> {
        WxaClient::create(config, provider, store)
    }

    /// A valid access token from the cache (fetching one if needed). Use it for WeChat APIs
    /// mendian does not cover; never log it.
    #[doc(hidden)]
    #[uniffi::method(name = "access_token")]
    pub async fn access_token_foreign(self: Arc<Self>) -> Result<String, MendianError> {
        crate::runtime::shared::run_call(async move { self.access_token().await }).await
    }

    /// Fetches a new token with `force_refresh = true` and stores it. With stable_token this
    /// invalidates the previous token for every server of the appid and is limited to 20 a
    /// day, 30 s apart: use it after a token leak, never routinely. The cache never does.
    #[doc(hidden)]
    #[uniffi::method(name = "force_refresh_token")]
    pub async fn force_refresh_token_foreign(self: Arc<Self>) -> Result<(), MendianError> {
        crate::runtime::shared::run_call(async move { self.force_refresh_token().await }).await
    }

    /// Calls get_district and returns its provinces, each with its cities and their
    /// districts (see [`wxa_district_tree`]).
    #[doc(hidden)]
    #[uniffi::method(name = "get_district_tree")]
    pub async fn get_district_tree_foreign(self: Arc<Self>) -> Result<Vec<WxaDistrictProvince>, MendianError> {
        crate::runtime::shared::run_call(async move { self.get_district_tree().await }).await
    }

    /// Blocking form of [`Self::access_token`].
    pub fn access_token_blocking(&self) -> Result<String, MendianError> {
        crate::runtime::blocking::run(self.access_token())
    }

    /// Blocking form of [`Self::force_refresh_token`].
    pub fn force_refresh_token_blocking(&self) -> Result<(), MendianError> {
        crate::runtime::blocking::run(self.force_refresh_token())
    }

    /// Blocking form of [`Self::get_district_tree`].
    pub fn get_district_tree_blocking(&self) -> Result<Vec<WxaDistrictProvince>, MendianError> {
        crate::runtime::blocking::run(self.get_district_tree())
    }
}

/// The province → city → district tree that a get_district answer encodes.
///
/// Fails with `Decode` when a `cidx` range points outside the next level.
#[uniffi::export]
pub fn wxa_district_tree(response: GetDistrictResponse) -> Result<Vec<WxaDistrictProvince>, MendianError> {
    stores::district_tree(response)
}

/// The in-memory token store, for Kotlin/Swift/Python callers that want to pass one
/// explicitly.
#[uniffi::export]
pub fn wxa_memory_token_store() -> Arc<dyn WxaTokenStore> {
    Arc::new(MemoryTokenStore::default())
}

/// The token store a fleet of servers shares, on Redis at `url` (`redis://[user:password@]host:port/db`,
/// or `rediss://` for TLS), with its keys under `key_prefix` (e.g. `"shop-backend:wxa:"`).
///
/// Reading a fresh token is one round trip. Only one process of the fleet fetches a new token
/// at a time (a lock in Redis that expires, released only by its holder); the others read the
/// winner's token. When Redis is down, calls go on with this process's token while it is
/// valid; a new token then fails with `Network` unless `options.fetch_when_unavailable`.
/// Nothing is sent until the first call. Fails with `InvalidArgument` for a bad URL, prefix
/// or option (the password is never shown).
#[cfg(feature = "redis")]
#[uniffi::export(default(options = None))]
pub fn wxa_redis_token_store(
    url: String,
    key_prefix: String,
    options: Option<crate::wxa::redis_store::WxaRedisStoreOptions>,
) -> Result<Arc<dyn WxaTokenStore>, MendianError> {
    crate::wxa::redis_store::open_store(url, key_prefix, options)
}

/// A provider calling `cgi-bin/stable_token` with `appid` and `secret` (recommended: tokens
/// are shared safely with other users of the same appid). `base_url` defaults to
/// `https://api.weixin.qq.com`, with failover to `https://api2.weixin.qq.com`.
#[uniffi::export]
pub fn wxa_stable_token_provider(
    appid: String,
    secret: String,
    base_url: Option<String>,
) -> Result<Arc<dyn WxaTokenProvider>, MendianError> {
    secret_provider(Kind::Stable, appid, secret, base_url)
}

/// A provider calling the classic `cgi-bin/token` (each fetch invalidates the previous
/// classic token of the appid).
#[uniffi::export]
pub fn wxa_classic_token_provider(
    appid: String,
    secret: String,
    base_url: Option<String>,
) -> Result<Arc<dyn WxaTokenProvider>, MendianError> {
    secret_provider(Kind::Classic, appid, secret, base_url)
}

/// A fixed token (for tests or tokens managed elsewhere), valid for `expires_in` seconds.
#[uniffi::export]
pub fn wxa_fixed_token_provider(access_token: String, expires_in: u64) -> Arc<dyn WxaTokenProvider> {
    fixed_provider(access_token, expires_in)
}

#[uniffi::export]
impl WxaPushReceiver {
    /// A receiver for `config`. Fails with `InvalidArgument` for an empty token or appid, and
    /// with `Credentials` naming the key when an EncodingAESKey is not 43 characters of
    /// A-Z, a-z, 0-9 (the value is never included).
    #[uniffi::constructor]
    pub fn new(config: WxaPushConfig) -> Result<Arc<Self>, MendianError> {
        WxaPushReceiver::create(config)
    }

    /// URL verification (the GET WeChat sends when you save the server configuration): checks
    /// `signature` (plain) or, when `msg_signature` is present, `msg_signature` over the
    /// encrypted `echostr` (safe mode), and returns the echostr to answer with (decrypted in
    /// safe mode). `query` holds the URL-decoded query parameters.
    pub fn verify_url(&self, query: HashMap<String, String>) -> Result<String, MendianError> {
        self.url_echo(query)
    }

    /// One call for a POST push: takes the URL-decoded query parameters (`signature`,
    /// `timestamp`, `nonce`, and in safe mode `encrypt_type=aes` and `msg_signature`) and the
    /// raw body; verifies, decrypts and parses.
    ///
    /// Safe mode is `encrypt_type=aes`, or an `<Encrypt>` element when an EncodingAESKey is
    /// configured (compatibility-mode bodies carry both plaintext fields and `Encrypt`; the
    /// encrypted part is used). In safe mode `msg_signature` is required and checked; the
    /// plain `signature` is checked whenever present, and required in plain mode.
    pub fn receive(&self, query: HashMap<String, String>, body: String) -> Result<WxaPush, MendianError> {
        self.open_push(query, body)
    }

    /// Encrypts a reply XML into the `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`
    /// envelope, with the key that decrypted the push (`use_previous_key`, see
    /// [`WxaPush::used_previous_key`]), a fresh random 16-byte prefix and the given timestamp
    /// (digits) and nonce (letters, digits, `-`, `_`).
    pub fn encrypt_reply(
        &self,
        reply_xml: String,
        timestamp: String,
        nonce: String,
        use_previous_key: bool,
    ) -> Result<String, MendianError> {
        self.seal_reply(reply_xml, timestamp, nonce, use_previous_key)
    }
}

/// Parses a plaintext push XML into a [`WxaEvent`], without any verification: only for XML
/// that was already verified (or for tests); use [`WxaPushReceiver::receive`] for pushes.
#[uniffi::export]
pub fn wxa_parse_push(xml: String) -> Result<WxaEvent, MendianError> {
    events::parse_push(&xml)
}

/// The push signature: SHA-1 (lower-case hex) of the lexicographically sorted concatenation
/// of token, timestamp and nonce (plain `signature`), plus `Encrypt` when given
/// (`msg_signature`).
#[uniffi::export]
pub fn wxa_push_signature(token: String, timestamp: String, nonce: String, encrypt: Option<String>) -> String {
    events::push_signature(&token, &timestamp, &nonce, encrypt.as_deref())
}

/// Encrypts `message` for safe mode with an explicit 16-byte random prefix and returns the
/// base64 `Encrypt` value: AES-256-CBC over random + length (u32 big-endian) + message +
/// appid, PKCS#7-padded to a multiple of 32. For known-answer tests; replies should use
/// [`WxaPushReceiver::encrypt_reply`], which draws a fresh prefix.
#[uniffi::export]
pub fn wxa_push_encrypt_with_random(
    encoding_aes_key: String,
    appid: String,
    random: Vec<u8>,
    message: String,
) -> Result<String, MendianError> {
    events::encrypt_with_random(&encoding_aes_key, &appid, &random, &message)
}
