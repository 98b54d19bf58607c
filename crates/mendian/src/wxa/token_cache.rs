//! The token cache: hands out a valid access token for one appid, fetching a new one from the
//! provider only when needed, and only once however many callers (or processes) need it.
//!
//! - A token is used while more than [`REFRESH_AHEAD_SECONDS`] of its life remain.
//! - Within a process, every cache of an appid shares one refresh lock: concurrent callers
//!   wait for the fetch in progress and read its token instead of fetching again.
//! - Across processes, the store's lock (`WxaTokenStore::try_lock`) does the same for the
//!   fleet: the process that takes it fetches and saves; the others poll the store until the
//!   winner's token appears, for at most twice the lock's lifetime. A holder that crashed
//!   leaves a lock that expires after `lock_ttl`, and the next waiter takes it.
//! - When the store cannot be reached, a token that is still valid (even inside the refresh
//!   window) keeps being used; with no valid token, the call fails with the store's error.
//! - A fetched token that cannot be saved is still handed out (the store's error is dropped:
//!   the token is good, and the next call tries the store again).
//! - A fetch answered with -1 (system busy) is repeated with the runtime's backoff.
//! - After 40001/40014/42001 a token is invalidated only if it is still the one that failed.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::token::{now, WxaAccessToken, WxaStoredToken, WxaTokenProvider, WxaTokenStore, REFRESH_AHEAD_SECONDS};
use crate::error::MendianError;
use crate::runtime::retry::backoff;

/// How often a fetch answered with -1 (system busy) is repeated (after the runtime's backoff).
const BUSY_RETRIES: u32 = 3;

/// The default lifetime of the fleet refresh lock (`WxaConfig::token_lock_ttl_ms`).
pub const DEFAULT_LOCK_TTL_MS: u64 = 10_000;

/// The first and the longest pause between two looks at the store while another process
/// holds the refresh lock.
const POLL_FIRST: Duration = Duration::from_millis(20);
const POLL_MAX: Duration = Duration::from_millis(200);

/// The refresh lock of each appid, shared by every cache of this process.
fn refresh_lock(appid: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = std::sync::OnceLock::new();
    let mut locks = LOCKS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    locks.entry(appid.to_string()).or_default().clone()
}

/// A value no other attempt in the fleet uses: 128 random bits in hex.
fn lock_holder() -> String {
    crate::crypto::random_nonce()
}

/// Hands out valid tokens for one appid. Clones share the store and the refresh lock.
#[derive(Clone)]
pub struct TokenCache {
    appid: String,
    provider: Arc<dyn WxaTokenProvider>,
    store: Arc<dyn WxaTokenStore>,
    refresh: Arc<tokio::sync::Mutex<()>>,
    lock_ttl_ms: u64,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache").field("appid", &self.appid).field("lock_ttl_ms", &self.lock_ttl_ms).finish_non_exhaustive()
    }
}

fn fresh(t: &Option<WxaStoredToken>) -> Option<String> {
    t.as_ref().filter(|t| t.expires_at.saturating_sub(now()) > REFRESH_AHEAD_SECONDS).map(|t| t.access_token.clone())
}

fn still_valid(t: &Option<WxaStoredToken>) -> Option<String> {
    t.as_ref().filter(|t| t.expires_at > now()).map(|t| t.access_token.clone())
}

/// What `acquire` got: the fleet lock, or a token another process saved meanwhile.
enum Acquired {
    Lock(String),
    Token(String),
}

impl TokenCache {
    /// A cache for `appid`, whose fleet lock (when the store has one) lives `lock_ttl_ms`.
    pub fn new(
        appid: String,
        provider: Arc<dyn WxaTokenProvider>,
        store: Arc<dyn WxaTokenStore>,
        lock_ttl_ms: u64,
    ) -> TokenCache {
        let refresh = refresh_lock(&appid);
        TokenCache { appid, provider, store, refresh, lock_ttl_ms }
    }

    /// A token valid for more than [`REFRESH_AHEAD_SECONDS`]; fetches one (once, however
    /// many callers are waiting, in this process and in the fleet) when needed.
    pub async fn get(&self) -> Result<String, MendianError> {
        let current = self.store.load(self.appid.clone()).await?;
        if let Some(t) = fresh(&current) {
            return Ok(t);
        }
        let _guard = self.refresh.lock().await;
        // Another caller may have refreshed while we waited.
        let current = self.store.load(self.appid.clone()).await?;
        if let Some(t) = fresh(&current) {
            return Ok(t);
        }
        let holder = match self.acquire(&current, false).await {
            Ok(Acquired::Token(t)) => return Ok(t),
            Ok(Acquired::Lock(holder)) => holder,
            // The fleet lock is out of reach: a token that still works is better than none.
            Err(e) => return still_valid(&current).ok_or(e),
        };
        let result = async {
            // The previous holder may have saved just before releasing the lock to us.
            if let Some(t) = fresh(&self.store.load(self.appid.clone()).await.unwrap_or(None)) {
                return Ok(t);
            }
            let fetched = self.fetch(false).await?;
            Ok(self.keep(fetched).await)
        }
        .await;
        self.release(holder).await;
        result
    }

    /// Takes the fleet lock, or waits (bounded by twice its lifetime) for the process that
    /// holds it to save a fresh token. With `force`, a fresh token does not end the wait.
    async fn acquire(&self, current: &Option<WxaStoredToken>, force: bool) -> Result<Acquired, MendianError> {
        let holder = lock_holder();
        let started = Instant::now();
        let limit = Duration::from_millis(self.lock_ttl_ms.saturating_mul(2));
        let mut pause = POLL_FIRST;
        let mut seen = current.clone();
        loop {
            if self.store.try_lock(self.appid.clone(), holder.clone(), self.lock_ttl_ms).await? {
                return Ok(Acquired::Lock(holder));
            }
            if started.elapsed() >= limit {
                let usable = if force { None } else { still_valid(&seen) };
                return usable.map(Acquired::Token).ok_or_else(|| MendianError::Network {
                    reason: format!(
                        "the token refresh lock of appid {} stayed with another process for {} ms and no new token appeared in the store",
                        self.appid,
                        limit.as_millis()
                    ),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
            seen = self.store.load(self.appid.clone()).await?;
            if !force {
                if let Some(t) = fresh(&seen) {
                    return Ok(Acquired::Token(t));
                }
            }
        }
    }

    /// Releases the fleet lock. A failure is dropped: the lock then expires on its own.
    async fn release(&self, holder: String) {
        let _ = self.store.unlock(self.appid.clone(), holder).await;
    }

    /// Stores a fetched token with its absolute expiry and hands it out, even if the store
    /// fails (the token is good; the next call tries the store again).
    async fn keep(&self, fetched: WxaAccessToken) -> String {
        let expires_in = i64::try_from(fetched.expires_in).unwrap_or(i64::MAX);
        let stored = WxaStoredToken { access_token: fetched.access_token.clone(), expires_at: now().saturating_add(expires_in) };
        let _ = self.store.save(self.appid.clone(), stored).await;
        fetched.access_token
    }

    /// Fetches from the provider, repeating a -1 (system busy) answer with backoff.
    async fn fetch(&self, force_refresh: bool) -> Result<WxaAccessToken, MendianError> {
        let mut attempt = 0;
        loop {
            match self.provider.fetch_token(force_refresh).await {
                Err(MendianError::Api { ref code, .. }) if code == "-1" && attempt < BUSY_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// Replaces the stored token with one fetched with `force_refresh = true` (for
    /// stable_token: invalidates the previous token everywhere, limited to 20 a day, 30 s
    /// apart). Use it after a token leak, never routinely.
    pub async fn force_refresh(&self) -> Result<String, MendianError> {
        let _guard = self.refresh.lock().await;
        let holder = match self.acquire(&None, true).await? {
            Acquired::Lock(holder) => holder,
            Acquired::Token(t) => return Ok(t),
        };
        let result = match self.provider.fetch_token(true).await {
            Ok(fetched) => Ok(self.keep(fetched).await),
            Err(e) => Err(e),
        };
        self.release(holder).await;
        result
    }

    /// Forgets `failed` if it is still the stored token.
    pub async fn invalidate(&self, failed: &str) -> Result<(), MendianError> {
        self.store.invalidate(self.appid.clone(), failed.to_string()).await
    }
}
