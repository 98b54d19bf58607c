//! The access-token store a fleet of servers shares, on Redis (cargo feature `redis`).
//!
//! Keys, under the configured prefix:
//! - `<prefix>token:<appid>` holds `<expires_at>:<access_token>` and expires with the token
//!   (`EXAT`), so Redis never hands out a dead token. Reading it is one `GET`.
//! - `<prefix>lock:<appid>` is the fleet-wide refresh lock: `SET NX PX` with a random holder
//!   value, released by a script only by the holder that took it; a crashed holder's lock
//!   simply expires.
//!
//! Saving is fenced too: a token never replaces a different one that lives longer (a holder
//! that stalled past its lock cannot overwrite the newer token of the holder after it).
//! Invalidation after 40001/42001 deletes the token only if it is still the failed one.
//!
//! When Redis cannot be reached, the store answers from the tokens this process last read or
//! saved while they are still valid, so calls go on; what needs Redis (a new token) fails
//! with `Network`, unless `fetch_when_unavailable` lets the process fetch on its own.
//! Every command is bounded by `command_timeout_ms`. The password never prints.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::token::{now, WxaStoredToken, WxaTokenStore};
use crate::error::MendianError;
use crate::runtime::shared::{per_process, Pid};

/// Options of [`wxa_redis_token_store`](crate::ffi::wxa::wxa_redis_token_store).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct WxaRedisStoreOptions {
    /// The Redis password (ACL or `requirepass`), if not in the URL; it wins over one there.
    #[uniffi(default = None)]
    pub password: Option<String>,
    /// PEM certificates to trust for `rediss://` instead of the system's roots (a private CA).
    #[uniffi(default = None)]
    pub root_certificates_pem: Option<String>,
    /// Longest wait for one Redis command (and for connecting), in milliseconds.
    #[uniffi(default = 1000)]
    pub command_timeout_ms: u64,
    /// When Redis is down and no valid token is at hand, fetch one in this process anyway
    /// (each process of the fleet may then fetch; with the classic provider they invalidate
    /// each other's tokens). Off by default: the call fails with `Network`.
    #[uniffi(default = false)]
    pub fetch_when_unavailable: bool,
}

impl Default for WxaRedisStoreOptions {
    fn default() -> Self {
        WxaRedisStoreOptions { password: None, root_certificates_pem: None, command_timeout_ms: 1000, fetch_when_unavailable: false }
    }
}

impl fmt::Debug for WxaRedisStoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WxaRedisStoreOptions")
            .field("password", &self.password.as_ref().map(|_| crate::secret::Redacted))
            .field("root_certificates_pem", &self.root_certificates_pem.as_ref().map(String::len))
            .field("command_timeout_ms", &self.command_timeout_ms)
            .field("fetch_when_unavailable", &self.fetch_when_unavailable)
            .finish()
    }
}

crate::display_as_debug!(WxaRedisStoreOptions);

/// Saves unless a different token that lives longer is stored (KEYS[1]: token key; ARGV:
/// value, expires_at, access token). Returns 1 when saved.
const SAVE: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local at, token = string.match(cur, '^(%-?%d+):(.*)$')
  if token and token ~= ARGV[3] and tonumber(at) > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
return 1
";

/// Deletes the token only if it is still ARGV[1].
const INVALIDATE: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local at, token = string.match(cur, '^(%-?%d+):(.*)$')
  if token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
end
return 0
";

/// Deletes the lock only if ARGV[1] holds it.
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// The Redis token store.
pub struct RedisTokenStore {
    /// The connection of the process that opened it; a forked child opens its own.
    redis: Mutex<Option<(Pid, ConnectionManager)>>,
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// The URL without its password, for Debug and errors.
    shown_url: String,
    prefix: String,
    timeout: Duration,
    fetch_when_unavailable: bool,
    /// The last token this process read or saved per appid: the answer while Redis is down.
    last_known: Mutex<HashMap<String, WxaStoredToken>>,
    save: Arc<Script>,
    invalidate: Arc<Script>,
    unlock: Arc<Script>,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("url", &self.shown_url)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("fetch_when_unavailable", &self.fetch_when_unavailable)
            .finish_non_exhaustive()
    }
}

impl RedisTokenStore {
    /// Checks the URL, prefix and options and prepares the connection (made on first use, and
    /// remade after Redis restarts).
    pub fn open(url: &str, key_prefix: &str, options: WxaRedisStoreOptions) -> Result<RedisTokenStore, MendianError> {
        let shown_url = crate::runtime::url::shown(url);
        let scheme = url.trim().split_once("://").map(|(s, _)| s).unwrap_or("");
        if !matches!(scheme, "redis" | "rediss") {
            return Err(MendianError::invalid("url", &format!("`{shown_url}` must start with redis:// or rediss:// (TLS)")));
        }
        if key_prefix.is_empty() || key_prefix.len() > 200 || key_prefix.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(MendianError::invalid("key_prefix", "must be 1 to 200 characters, without spaces or control characters"));
        }
        if !(10..=60_000).contains(&options.command_timeout_ms) {
            return Err(MendianError::invalid("options.command_timeout_ms", "must be between 10 and 60000 milliseconds"));
        }
        if options.password.as_deref().is_some_and(str::is_empty) {
            return Err(MendianError::invalid("options.password", "must not be empty when given"));
        }
        let bad_url = |e: redis::RedisError| {
            // The redis crate's message may quote the URL: only its kind is shown.
            MendianError::invalid("url", &format!("`{shown_url}` is not a usable Redis URL ({:?})", e.kind()))
        };
        let mut info = redis::IntoConnectionInfo::into_connection_info(url.trim()).map_err(bad_url)?;
        if let Some(password) = &options.password {
            let settings = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(settings);
        }
        let client = match &options.root_certificates_pem {
            Some(pem) => {
                if scheme != "rediss" {
                    return Err(MendianError::invalid("options.root_certificates_pem", "applies only to rediss:// URLs"));
                }
                if !pem.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(MendianError::invalid("options.root_certificates_pem", "holds no PEM certificate"));
                }
                let certs = redis::TlsCertificates { client_tls: None, root_cert: Some(pem.as_bytes().to_vec()) };
                redis::Client::build_with_tls(info, certs).map_err(bad_url)?
            }
            None => redis::Client::open(info).map_err(bad_url)?,
        };
        let timeout = Duration::from_millis(options.command_timeout_ms);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let redis = connect(&client, &config, &shown_url)?;
        Ok(RedisTokenStore {
            redis: Mutex::new(Some((Pid::current(), redis))),
            client,
            config,
            shown_url,
            prefix: key_prefix.to_string(),
            timeout,
            fetch_when_unavailable: options.fetch_when_unavailable,
            last_known: Mutex::new(HashMap::new()),
            save: Arc::new(Script::new(SAVE)),
            invalidate: Arc::new(Script::new(INVALIDATE)),
            unlock: Arc::new(Script::new(UNLOCK)),
        })
    }

    /// The connection (one per process: a child forked after it was opened opens its own).
    fn connection(&self) -> Result<ConnectionManager, MendianError> {
        let mut slot = self.redis.lock().unwrap_or_else(|p| p.into_inner());
        per_process(&mut slot, || connect(&self.client, &self.config, &self.shown_url)).cloned()
    }

    fn token_key(&self, appid: &str) -> String {
        format!("{}token:{appid}", self.prefix)
    }

    fn lock_key(&self, appid: &str) -> String {
        format!("{}lock:{appid}", self.prefix)
    }

    fn unavailable(&self, what: &str, e: impl fmt::Display) -> MendianError {
        MendianError::Network { reason: format!("Redis at {} could not {what}: {e}", self.shown_url) }
    }

    /// Runs one command or script with the store's timeout: inline when the caller runs in
    /// Tokio (the clients do), else on the SDK's own runtime (a store method awaited directly
    /// from Python, Kotlin or Swift).
    async fn query<T, F, Fut>(&self, what: &str, op: F) -> Result<T, MendianError>
    where
        T: Send + 'static,
        F: FnOnce(ConnectionManager) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        let con = self.connection()?;
        let timeout = self.timeout;
        let run = async move { tokio::time::timeout(timeout, op(con)).await };
        let outcome = if tokio::runtime::Handle::try_current().is_ok() {
            run.await
        } else {
            crate::runtime::shared::handle()?
                .spawn(run)
                .await
                .map_err(|e| self.unavailable(what, format!("the Redis task ended: {e}")))?
        };
        match outcome {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.unavailable(what, redacted_error(&e))),
            Err(_) => Err(self.unavailable(what, format!("no answer within {} ms", self.timeout.as_millis()))),
        }
    }

    fn remember(&self, appid: &str, token: Option<&WxaStoredToken>) {
        let mut known = self.last_known.lock().unwrap_or_else(|p| p.into_inner());
        match token {
            Some(t) => known.insert(appid.to_string(), t.clone()),
            None => known.remove(appid),
        };
    }

    fn known_valid(&self, appid: &str) -> Option<WxaStoredToken> {
        let known = self.last_known.lock().unwrap_or_else(|p| p.into_inner());
        known.get(appid).filter(|t| t.expires_at > now()).cloned()
    }
}

/// Prepares the connection (made on first use, remade after Redis restarts). Its background
/// tasks live on the SDK's shared runtime, not on whichever runtime (if any) the caller
/// happens to run in.
fn connect(client: &redis::Client, config: &ConnectionManagerConfig, shown_url: &str) -> Result<ConnectionManager, MendianError> {
    let _entered = crate::runtime::shared::handle()?.enter();
    ConnectionManager::new_lazy_with_config(client.clone(), config.clone())
        .map_err(|e| MendianError::Network { reason: format!("cannot prepare the Redis connection to {shown_url}: {:?}", e.kind()) })
}

/// A Redis error's kind and code, never its free text (which may quote a URL).
fn redacted_error(e: &redis::RedisError) -> String {
    match e.code() {
        Some(code) => format!("{:?} ({code})", e.kind()),
        None if e.is_timeout() => "timed out".into(),
        None if e.is_connection_refusal() => "connection refused".into(),
        None if e.is_io_error() => "connection failed".into(),
        None => format!("{:?}", e.kind()),
    }
}

fn check_appid(appid: &str) -> Result<(), MendianError> {
    if appid.is_empty() || appid.len() > 64 || appid.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(MendianError::invalid("appid", "must be 1 to 64 characters, without spaces or control characters"));
    }
    Ok(())
}

/// Reads `<expires_at>:<access_token>`.
fn parse_stored(value: &str) -> Option<WxaStoredToken> {
    let (at, token) = value.split_once(':')?;
    let expires_at = at.parse().ok()?;
    (!token.is_empty()).then(|| WxaStoredToken { access_token: token.to_string(), expires_at })
}

#[async_trait::async_trait]
impl WxaTokenStore for RedisTokenStore {
    async fn load(&self, appid: String) -> Result<Option<WxaStoredToken>, MendianError> {
        check_appid(&appid)?;
        let key = self.token_key(&appid);
        let read = self
            .query("read the token", move |mut con| async move { redis::cmd("GET").arg(&key).query_async::<Option<String>>(&mut con).await })
            .await;
        match read {
            Ok(value) => {
                let token = value.as_deref().and_then(parse_stored);
                self.remember(&appid, token.as_ref());
                Ok(token)
            }
            // Redis is out of reach: this process's last token while it is still valid; with
            // none, "no token" when the process may fetch on its own.
            Err(e) => match self.known_valid(&appid) {
                Some(t) => Ok(Some(t)),
                None if self.fetch_when_unavailable => Ok(None),
                None => Err(e),
            },
        }
    }

    async fn save(&self, appid: String, token: WxaStoredToken) -> Result<(), MendianError> {
        check_appid(&appid)?;
        if token.access_token.is_empty() || token.access_token.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(MendianError::invalid("access_token", "must be non-empty, without spaces or control characters"));
        }
        self.remember(&appid, Some(&token));
        if token.expires_at <= now() {
            return Ok(());
        }
        let (script, key) = (self.save.clone(), self.token_key(&appid));
        let value = format!("{}:{}", token.expires_at, token.access_token);
        let saved: i64 = self
            .query("save the token", move |mut con| async move {
                script.key(key).arg(value).arg(token.expires_at).arg(&token.access_token).invoke_async(&mut con).await
            })
            .await?;
        if saved == 0 {
            // A longer-lived token of another process stays; this process follows it.
            self.remember(&appid, None);
        }
        Ok(())
    }

    async fn invalidate(&self, appid: String, access_token: String) -> Result<(), MendianError> {
        check_appid(&appid)?;
        {
            let mut known = self.last_known.lock().unwrap_or_else(|p| p.into_inner());
            if known.get(&appid).is_some_and(|t| t.access_token == access_token) {
                known.remove(&appid);
            }
        }
        let (script, key) = (self.invalidate.clone(), self.token_key(&appid));
        let _: i64 = self
            .query("invalidate the token", move |mut con| async move { script.key(key).arg(access_token).invoke_async(&mut con).await })
            .await?;
        Ok(())
    }

    async fn try_lock(&self, appid: String, holder: String, ttl_ms: u64) -> Result<bool, MendianError> {
        check_appid(&appid)?;
        let key = self.lock_key(&appid);
        let set = move |mut con: ConnectionManager| async move {
            redis::cmd("SET").arg(key).arg(holder).arg("NX").arg("PX").arg(ttl_ms.max(1)).query_async::<Option<String>>(&mut con).await
        };
        match self.query("take the refresh lock", set).await {
            Ok(answer) => Ok(answer.is_some()),
            Err(_) if self.fetch_when_unavailable => Ok(true),
            Err(e) => Err(e),
        }
    }

    async fn unlock(&self, appid: String, holder: String) -> Result<(), MendianError> {
        check_appid(&appid)?;
        let (script, key) = (self.unlock.clone(), self.lock_key(&appid));
        let _: i64 = self
            .query("release the refresh lock", move |mut con| async move { script.key(key).arg(holder).invoke_async(&mut con).await })
            .await?;
        Ok(())
    }
}

/// Opens the store for the FFI constructor.
pub(crate) fn open_store(url: String, key_prefix: String, options: Option<WxaRedisStoreOptions>) -> Result<Arc<dyn WxaTokenStore>, MendianError> {
    Ok(Arc::new(RedisTokenStore::open(&url, &key_prefix, options.unwrap_or_default())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_round_trip() {
        assert_eq!(parse_stored("1700000000:abc:def"), Some(WxaStoredToken { access_token: "abc:def".into(), expires_at: 1_700_000_000 }));
        assert_eq!(parse_stored("x:abc"), None);
        assert_eq!(parse_stored("17:"), None);
    }

    #[test]
    fn bad_configuration_is_named() {
        let err = |url: &str, prefix: &str, o: WxaRedisStoreOptions| RedisTokenStore::open(url, prefix, o).unwrap_err().to_string();
        assert!(err("http://cache", "p:", Default::default()).contains("`url`"));
        assert!(err("redis://cache", "", Default::default()).contains("`key_prefix`"));
        assert!(err("redis://cache", "p:", WxaRedisStoreOptions { command_timeout_ms: 0, ..Default::default() }).contains("command_timeout_ms"));
        let e = err("redis://:hunter2@cache", "p:", WxaRedisStoreOptions { root_certificates_pem: Some("x".into()), ..Default::default() });
        assert!(e.contains("root_certificates_pem") && !e.contains("hunter2"), "{e}");
        let shown = format!("{:?}", WxaRedisStoreOptions { password: Some("hunter2".into()), ..Default::default() });
        assert!(!shown.contains("hunter2"), "{shown}");
        let store = RedisTokenStore::open("redis://:hunter2@127.0.0.1:1", "p:", Default::default()).unwrap();
        assert!(!format!("{store:?}").contains("hunter2"));
    }
}
