//! The Redis token store against a real `redis-server` (one per test, on loopback): keys and
//! TTLs, appids kept apart, the fenced lock, save and invalidate, TLS with a password, and
//! what calls do while Redis is down or restarting. The fleet itself (several OS processes)
//! is tested from Python.

use std::sync::Arc;
use std::time::Duration;

use mendian::wxa::*;
use mendian::{ClientOptions, MendianError};
use mendian_emulator::{Emulator, Fault, FaultKind};

use crate::common::{vector_text, RedisServer};

const PREFIX: &str = "test:wxa:";

fn store(redis: &RedisServer) -> Arc<dyn WxaTokenStore> {
    wxa_redis_token_store(redis.url(), PREFIX.into(), None).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn token(value: &str, lives: i64) -> WxaStoredToken {
    WxaStoredToken { access_token: value.into(), expires_at: now() + lives }
}

/// A raw Redis command, to look at keys the way another program would.
async fn raw(redis: &RedisServer, args: &[&str]) -> redis::Value {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(&mut con).await.unwrap()
}

fn client(emu: &Emulator, store: Arc<dyn WxaTokenStore>, classic: bool) -> Arc<WxaClient> {
    let p = emu.profile();
    let provider = if classic {
        wxa_classic_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap()
    } else {
        wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap()
    };
    let config = WxaConfig { options: ClientOptions::with_base_url(p.wxa_base_url.clone()), ..WxaConfig::new(p.wxa_appid.clone()) };
    WxaClient::new(config, provider, Some(store)).unwrap()
}

async fn list(wx: &WxaClient) -> Result<GetStoreListResponse, MendianError> {
    wx.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_live_under_their_appid_with_their_real_expiry() {
    let redis = RedisServer::start();
    let s = store(&redis);
    s.save("wx_a".into(), token("token-a", 7000)).await.unwrap();
    s.save("wx_b".into(), token("token-b", 3000)).await.unwrap();
    assert_eq!(s.load("wx_a".into()).await.unwrap().unwrap().access_token, "token-a");
    assert_eq!(s.load("wx_b".into()).await.unwrap().unwrap().access_token, "token-b");
    assert_eq!(s.load("wx_c".into()).await.unwrap(), None);
    // The key carries the token's own expiry as its TTL.
    let ttl = match raw(&redis, &["TTL", "test:wxa:token:wx_b"]).await {
        redis::Value::Int(t) => t,
        other => panic!("{other:?}"),
    };
    assert!((2990..=3000).contains(&ttl), "{ttl}");
    // Another prefix in the same Redis sees nothing.
    let other = wxa_redis_token_store(redis.url(), "other:".into(), None).unwrap();
    assert_eq!(other.load("wx_a".into()).await.unwrap(), None);
    // Invalidation removes only the failed token, and only for its appid.
    s.invalidate("wx_a".into(), "token-b".into()).await.unwrap();
    assert!(s.load("wx_a".into()).await.unwrap().is_some());
    s.invalidate("wx_a".into(), "token-a".into()).await.unwrap();
    assert_eq!(s.load("wx_a".into()).await.unwrap(), None);
    assert_eq!(s.load("wx_b".into()).await.unwrap().unwrap().access_token, "token-b");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lock_is_released_only_by_its_holder_and_expires_on_its_own() {
    let redis = RedisServer::start();
    let s = store(&redis);
    assert!(s.try_lock("wx_a".into(), "holder-1".into(), 300).await.unwrap());
    assert!(!s.try_lock("wx_a".into(), "holder-2".into(), 300).await.unwrap());
    // Another appid has its own lock.
    assert!(s.try_lock("wx_b".into(), "holder-2".into(), 300).await.unwrap());
    // A holder cannot release somebody else's lock.
    s.unlock("wx_a".into(), "holder-2".into()).await.unwrap();
    assert!(!s.try_lock("wx_a".into(), "holder-3".into(), 300).await.unwrap());
    s.unlock("wx_a".into(), "holder-1".into()).await.unwrap();
    assert!(s.try_lock("wx_a".into(), "holder-3".into(), 300).await.unwrap());
    // holder-3 crashes: its lock expires.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(s.try_lock("wx_a".into(), "holder-4".into(), 300).await.unwrap());
    // holder-3 wakes up late and releases: holder-4's lock stays.
    s.unlock("wx_a".into(), "holder-3".into()).await.unwrap();
    assert!(!s.try_lock("wx_a".into(), "holder-5".into(), 300).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_save_never_replaces_a_longer_lived_token() {
    let redis = RedisServer::start();
    let s = store(&redis);
    s.save("wx_a".into(), token("newer", 7200)).await.unwrap();
    // A holder that stalled saves the token it fetched earlier: the newer one stays.
    s.save("wx_a".into(), token("older", 7000)).await.unwrap();
    assert_eq!(s.load("wx_a".into()).await.unwrap().unwrap().access_token, "newer");
    // The same token saved again with a shorter remaining life is fine; a longer one wins.
    s.save("wx_a".into(), token("newest", 7300)).await.unwrap();
    assert_eq!(s.load("wx_a".into()).await.unwrap().unwrap().access_token, "newest");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_named_before_anything_is_sent() {
    let redis = RedisServer::start();
    let s = store(&redis);
    let field = |e: MendianError| match e {
        MendianError::InvalidArgument { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(s.load("".into()).await.unwrap_err()), "appid");
    assert_eq!(field(s.load("wx a".into()).await.unwrap_err()), "appid");
    assert_eq!(field(s.save("wx_a".into(), token("has space", 100)).await.unwrap_err()), "access_token");
    assert_eq!(field(wxa_redis_token_store("localhost:6379".into(), PREFIX.into(), None).err().unwrap()), "url");
    assert_eq!(field(wxa_redis_token_store(redis.url(), "a b".into(), None).err().unwrap()), "key_prefix");
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_with_a_password_and_a_private_ca() {
    let password = "s3cret-for-tests";
    let redis = RedisServer::start_tls(password);
    let url = format!("rediss://127.0.0.1:{}/", redis.port);
    let options = |password: Option<&str>| {
        Some(WxaRedisStoreOptions {
            password: password.map(str::to_string),
            root_certificates_pem: Some(vector_text("redis-tls/ca.pem")),
            ..Default::default()
        })
    };
    let s = wxa_redis_token_store(url.clone(), PREFIX.into(), options(Some(password))).unwrap();
    s.save("wx_a".into(), token("over-tls", 7200)).await.unwrap();
    assert_eq!(s.load("wx_a".into()).await.unwrap().unwrap().access_token, "over-tls");
    // The password may sit in the URL instead; it never shows in errors or Debug.
    let in_url = format!("rediss://:{password}@127.0.0.1:{}/", redis.port);
    let s2 = wxa_redis_token_store(in_url.clone(), PREFIX.into(), options(None)).unwrap();
    assert_eq!(s2.load("wx_a".into()).await.unwrap().unwrap().access_token, "over-tls");
    // A wrong password fails with Network, naming neither password.
    let wrong = wxa_redis_token_store(url.clone(), PREFIX.into(), options(Some("wrong-one"))).unwrap();
    let e = wrong.load("wx_a".into()).await.unwrap_err();
    assert!(matches!(e, MendianError::Network { .. }), "{e:?}");
    assert!(!e.to_string().contains("wrong-one") && !e.to_string().contains(password), "{e}");
    // Without the private CA, the server's certificate is not trusted.
    let untrusted = wxa_redis_token_store(url, PREFIX.into(), Some(WxaRedisStoreOptions { password: Some(password.into()), ..Default::default() })).unwrap();
    assert!(matches!(untrusted.load("wx_a".into()).await, Err(MendianError::Network { .. })));
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_share_one_token_through_redis_and_invalidate_it_fleet_wide() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let redis = RedisServer::start();
    // Two "servers" (separate stores, as separate processes would have) with the classic
    // provider, whose every fetch invalidates the previous token.
    let first = client(&emu, store(&redis), true);
    let second = client(&emu, store(&redis), true);
    for _ in 0..20 {
        list(&first).await.unwrap();
        list(&second).await.unwrap();
    }
    assert_eq!(emu.wxa_token_fetches(), 1);
    // The token expires at the platform: one refresh, then both use the new token.
    emu.add_fault(Fault { id: 0, route: "*".into(), kind: FaultKind::WxaExpireTokens, times: Some(1) });
    list(&second).await.unwrap();
    list(&first).await.unwrap();
    assert_eq!(emu.wxa_token_fetches(), 2);
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_go_on_while_redis_restarts_and_share_again_after() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let mut redis = RedisServer::start();
    let wx = client(&emu, store(&redis), false);
    list(&wx).await.unwrap();
    redis.kill();
    // Redis is down: the process's own token (still valid) keeps calls going.
    for _ in 0..5 {
        list(&wx).await.unwrap();
    }
    redis.restart();
    // Redis came back empty: the next call fetches once and shares the token again.
    list(&wx).await.unwrap();
    let stored = store(&redis).load(emu.profile().wxa_appid.clone()).await.unwrap();
    assert!(stored.is_some(), "the token is in Redis again");
    list(&wx).await.unwrap();
    assert_eq!(emu.wxa_token_fetches(), 2);
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_redis_down_and_no_valid_token_a_call_fails_clearly_unless_local_fetch_is_allowed() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.kill();
    let wx = client(&emu, store(&redis), false);
    let e = list(&wx).await.unwrap_err();
    assert!(matches!(e, MendianError::Network { ref reason } if reason.contains("Redis")), "{e:?}");
    assert_eq!(emu.wxa_token_fetches(), 0);
    let options = WxaRedisStoreOptions { fetch_when_unavailable: true, ..Default::default() };
    let local = wxa_redis_token_store(url, PREFIX.into(), Some(options)).unwrap();
    let wx = client(&emu, local, false);
    list(&wx).await.unwrap();
    list(&wx).await.unwrap();
    assert_eq!(emu.wxa_token_fetches(), 1);
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waiter_takes_over_a_lock_whose_holder_vanished() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let redis = RedisServer::start();
    let appid = emu.profile().wxa_appid.clone();
    // Another process took the lock and died: it expires after its lifetime.
    assert!(store(&redis).try_lock(appid.clone(), "dead-process".into(), 700).await.unwrap());
    let p = emu.profile();
    let provider = wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
    let config = WxaConfig {
        options: ClientOptions::with_base_url(p.wxa_base_url.clone()),
        token_lock_ttl_ms: 700,
        ..WxaConfig::new(appid)
    };
    let wx = WxaClient::new(config, provider, Some(store(&redis))).unwrap();
    let started = std::time::Instant::now();
    list(&wx).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(500) && waited < Duration::from_millis(1400), "{waited:?}");
    assert_eq!(emu.wxa_token_fetches(), 1);
    emu.stop().await;
}
