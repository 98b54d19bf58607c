//! The token cache: hands out a valid access token for one appid, fetching a new one from the
//! provider only when needed, and only once however many callers (or processes) need it.
//!
//! - A token is used while more than [`REFRESH_AHEAD_SECONDS`] of its life remain, or more
//!   than half of it for a token that came with less than twice that (a provider answering
//!   `expires_in` ≤ 300 is not called on every call).
//! - Within a process, every cache of one store and appid shares one refresh: concurrent
//!   callers wait for the fetch in progress and take its outcome — its token, or its error
//!   (200 waiters on a failing provider cause one call, not 200).
//! - Across processes, the store's lock (`WxaTokenStore::try_lock`) does the same for the
//!   fleet: the process that takes it fetches and saves; the others poll the store until the
//!   winner's token appears, for at most twice the lock's lifetime. A holder that crashed
//!   leaves a lock that expires after `lock_ttl`, and the next waiter takes it.
//! - Every call into the provider and the store is bounded by the lock's lifetime, and so is
//!   the wait for another caller's refresh: a hung provider or store fails the calls that
//!   need it with `Callback` instead of stalling every client of the appid; a provider that
//!   asks the client it serves for a token (re-entry) fails the same way instead of waiting
//!   for itself forever.
//! - When the store cannot be reached, a token that is still valid (even inside the refresh
//!   window) keeps being used; with no valid token, the call fails with the store's error.
//! - A fetched token that cannot be saved is still handed out, to the caller and to the
//!   callers waiting for it (the store's error is dropped: the token is good, and the next
//!   call tries the store again).
//! - A fetch answered with -1 (system busy) is repeated with the runtime's backoff.
//! - After 40001/40014/42001 a token is invalidated only if it is still the one that failed.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::token::{
    now, MemoryTokenStore, WxaAccessToken, WxaStoredToken, WxaTokenProvider, WxaTokenStore, REFRESH_AHEAD_SECONDS,
};
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

/// The refresh shared by every cache of one store and appid in this process: the lock one
/// refresh at a time holds, the number of refreshes completed, the outcome of the last one,
/// and the refresh margin of a short-lived token.
#[derive(Default)]
struct Refresh {
    lock: tokio::sync::Mutex<Outcome>,
    completed: AtomicU64,
    short_lived: Mutex<Option<(String, i64)>>,
}

/// What the last refresh under the lock ended with.
#[derive(Default)]
struct Outcome {
    /// Which refresh (they are numbered from 1 in the order they complete).
    fetch: u64,
    result: Option<Result<WxaStoredToken, MendianError>>,
}

/// The refresh of `appid` in `store`, shared by every cache of this process that uses it.
fn shared_refresh(store: &Arc<dyn WxaTokenStore>, appid: &str) -> Arc<Refresh> {
    type Key = (usize, String);
    static REFRESHES: std::sync::OnceLock<Mutex<HashMap<Key, Arc<Refresh>>>> = std::sync::OnceLock::new();
    let key = (Arc::as_ptr(store) as *const () as usize, appid.to_string());
    let mut all = REFRESHES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    all.entry(key).or_default().clone()
}

/// The default store of clients that pass none: one per API host in this process, so that
/// two clients of one appid share their token instead of (with `cgi-bin/token`) replacing
/// each other's in turn, while clients of different hosts (e.g. two emulators) stay apart.
pub(crate) fn default_store(host: &str) -> Arc<dyn WxaTokenStore> {
    static STORES: std::sync::OnceLock<Mutex<HashMap<String, Arc<MemoryTokenStore>>>> = std::sync::OnceLock::new();
    let mut all = STORES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    all.entry(host.to_string()).or_default().clone()
}

/// A value no other attempt in the fleet uses: 128 random bits in hex.
fn lock_holder() -> String {
    crate::crypto::random_nonce()
}

/// Hands out valid tokens for one appid. Clones share the store and the refresh.
#[derive(Clone)]
pub struct TokenCache {
    appid: String,
    provider: Arc<dyn WxaTokenProvider>,
    store: Arc<dyn WxaTokenStore>,
    refresh: Arc<Refresh>,
    lock_ttl_ms: u64,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache").field("appid", &self.appid).field("lock_ttl_ms", &self.lock_ttl_ms).finish_non_exhaustive()
    }
}

fn still_valid(t: &Option<WxaStoredToken>) -> Option<String> {
    t.as_ref().filter(|t| t.expires_at > now()).map(|t| t.access_token.clone())
}

/// What `acquire` got: the fleet lock, or a token another process saved meanwhile.
enum Acquired {
    Lock(String),
    Token(String),
}

/// The error of a provider or store call that did not answer in time.
fn hung(what: &str, limit: Duration) -> MendianError {
    MendianError::Callback {
        reason: format!(
            "{what} did not answer within {} ms (token_lock_ttl_ms); a token provider or store that asks the client it serves for a token waits for itself",
            limit.as_millis()
        ),
    }
}

impl TokenCache {
    /// A cache for `appid`, whose fleet lock (when the store has one) lives `lock_ttl_ms`;
    /// the same bound applies to every provider and store call.
    pub fn new(
        appid: String,
        provider: Arc<dyn WxaTokenProvider>,
        store: Arc<dyn WxaTokenStore>,
        lock_ttl_ms: u64,
    ) -> TokenCache {
        let refresh = shared_refresh(&store, &appid);
        TokenCache { appid, provider, store, refresh, lock_ttl_ms }
    }

    fn limit(&self) -> Duration {
        Duration::from_millis(self.lock_ttl_ms)
    }

    /// `call`, bounded by the lock's lifetime.
    async fn bounded<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, MendianError>>,
    ) -> Result<T, MendianError> {
        tokio::time::timeout(self.limit(), call).await.unwrap_or_else(|_| Err(hung(what, self.limit())))
    }

    async fn load(&self) -> Result<Option<WxaStoredToken>, MendianError> {
        self.bounded("the token store's load", self.store.load(self.appid.clone())).await
    }

    /// The token if it has more than its refresh margin left: [`REFRESH_AHEAD_SECONDS`], or
    /// half its life for a token that came with less than twice that.
    fn fresh(&self, t: &Option<WxaStoredToken>) -> Option<String> {
        let t = t.as_ref()?;
        let margin = match &*self.refresh.short_lived.lock().unwrap_or_else(|p| p.into_inner()) {
            Some((token, margin)) if *token == t.access_token => *margin,
            _ => REFRESH_AHEAD_SECONDS,
        };
        (t.expires_at.saturating_sub(now()) > margin).then(|| t.access_token.clone())
    }

    /// A token valid for more than its refresh margin; fetches one (once, however many
    /// callers are waiting, in this process and in the fleet) when needed.
    pub async fn get(&self) -> Result<String, MendianError> {
        let current = self.load().await?;
        if let Some(t) = self.fresh(&current) {
            return Ok(t);
        }
        let before = self.refresh.completed.load(Ordering::SeqCst);
        // Waiting for another caller's fetch is bounded by that fetch's own bounds (lock,
        // fetch and save), so it ends unless the fetch waits for this very caller.
        let wait = self.limit().saturating_mul(4);
        let mut outcome = match tokio::time::timeout(wait, self.refresh.lock.lock()).await {
            Ok(guard) => guard,
            Err(_) => {
                return still_valid(&current).ok_or_else(|| hung("the token refresh in progress in this process", wait))
            }
        };
        // A refresh completed since we arrived (begun before or after): take its outcome.
        if outcome.fetch > before {
            match &outcome.result {
                Some(Ok(t)) if self.fresh(&Some(t.clone())).is_some() => return Ok(t.access_token.clone()),
                Some(Err(e)) => return still_valid(&current).ok_or_else(|| e.clone()),
                _ => {}
            }
        }
        // Another process may have refreshed while we waited.
        let current = self.load().await?;
        if let Some(t) = self.fresh(&current) {
            return Ok(t);
        }
        let result = self.refresh_under_lock(&current).await;
        self.complete(&mut outcome, &result);
        result.map(|t| t.access_token)
    }

    /// The fleet part of a refresh, with this process's refresh lock held.
    async fn refresh_under_lock(&self, current: &Option<WxaStoredToken>) -> Result<WxaStoredToken, MendianError> {
        let holder = match self.acquire(current, false).await {
            Ok(Acquired::Token(t)) => return Ok(self.as_stored(t, current)),
            Ok(Acquired::Lock(holder)) => holder,
            // The fleet lock is out of reach: a token that still works is better than none.
            Err(e) => return current.clone().filter(|t| t.expires_at > now()).ok_or(e),
        };
        let result = async {
            // The previous holder may have saved just before releasing the lock to us.
            let latest = self.load().await.unwrap_or(None);
            if self.fresh(&latest).is_some() {
                return Ok(latest.expect("fresh implies present"));
            }
            let fetched = self.fetch(false).await?;
            self.keep(fetched).await
        }
        .await;
        self.release(holder).await;
        result
    }

    /// A token another process saved, as the stored record (its expiry re-read if possible).
    fn as_stored(&self, token: String, current: &Option<WxaStoredToken>) -> WxaStoredToken {
        let expires_at = current
            .as_ref()
            .filter(|c| c.access_token == token)
            .map(|c| c.expires_at)
            .unwrap_or_else(|| now().saturating_add(REFRESH_AHEAD_SECONDS + 1));
        WxaStoredToken { access_token: token, expires_at }
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
            let locked = self
                .bounded(
                    "the token store's try_lock",
                    self.store.try_lock(self.appid.clone(), holder.clone(), self.lock_ttl_ms),
                )
                .await?;
            if locked {
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
            seen = self.load().await?;
            if !force {
                if let Some(t) = self.fresh(&seen) {
                    return Ok(Acquired::Token(t));
                }
            }
        }
    }

    /// Releases the fleet lock. A failure is dropped: the lock then expires on its own.
    async fn release(&self, holder: String) {
        let _ = self.bounded("the token store's unlock", self.store.unlock(self.appid.clone(), holder)).await;
    }

    /// Stores a fetched token with its absolute expiry and hands it out, even if the store
    /// fails (the token is good; the next call tries the store again). A token that lives
    /// less than twice the refresh margin is refreshed after half its life instead.
    async fn keep(&self, fetched: WxaAccessToken) -> Result<WxaStoredToken, MendianError> {
        if fetched.expires_in == 0 {
            return Err(MendianError::Decode {
                what: "the token provider's answer".into(),
                reason: "`expires_in` is 0: the token is already expired".into(),
            });
        }
        let expires_in = i64::try_from(fetched.expires_in).unwrap_or(i64::MAX);
        let stored = WxaStoredToken { access_token: fetched.access_token, expires_at: now().saturating_add(expires_in) };
        let short = (expires_in < 2 * REFRESH_AHEAD_SECONDS).then(|| (stored.access_token.clone(), expires_in / 2));
        *self.refresh.short_lived.lock().unwrap_or_else(|p| p.into_inner()) = short;
        let _ = self.bounded("the token store's save", self.store.save(self.appid.clone(), stored.clone())).await;
        Ok(stored)
    }

    /// Fetches from the provider, repeating a -1 (system busy) answer with backoff. Each
    /// call is bounded by the lock's lifetime.
    async fn fetch(&self, force_refresh: bool) -> Result<WxaAccessToken, MendianError> {
        let mut attempt = 0;
        loop {
            match self.bounded("the token provider", self.provider.fetch_token(force_refresh)).await {
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
        let wait = self.limit().saturating_mul(4);
        let mut outcome = tokio::time::timeout(wait, self.refresh.lock.lock())
            .await
            .map_err(|_| hung("the token refresh in progress in this process", wait))?;
        let holder = match self.acquire(&None, true).await? {
            Acquired::Lock(holder) => holder,
            Acquired::Token(t) => return Ok(t),
        };
        let result = match self.bounded("the token provider", self.provider.fetch_token(true)).await {
            Ok(fetched) => self.keep(fetched).await,
            Err(e) => Err(e),
        };
        self.release(holder).await;
        self.complete(&mut outcome, &result);
        result.map(|t| t.access_token)
    }

    /// Publishes a refresh's outcome to the callers waiting for the lock.
    fn complete(&self, outcome: &mut Outcome, result: &Result<WxaStoredToken, MendianError>) {
        outcome.fetch += 1;
        outcome.result = Some(result.clone());
        self.refresh.completed.store(outcome.fetch, Ordering::SeqCst);
    }

    /// Forgets `failed` if it is still the stored token.
    pub async fn invalidate(&self, failed: &str) -> Result<(), MendianError> {
        self.bounded("the token store's invalidate", self.store.invalidate(self.appid.clone(), failed.to_string())).await
    }
}
