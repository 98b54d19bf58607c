//! The token cache when providers and stores misbehave: a failing provider is called once for
//! all its waiters, a hung one or one that calls back into its client fails in bounded time,
//! a short-lived token is not refetched on every call, a failed save keeps the token, and
//! two clients of one appid with the classic provider share their token instead of replacing
//! each other's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use mendian::wxa::{
    wxa_classic_token_provider, GetStoreListRequest, WxaAccessToken, WxaClient, WxaConfig, WxaStoredToken,
    WxaTokenProvider, WxaTokenStore,
};
use mendian::{ClientOptions, MendianError};
use mendian_emulator::Emulator;

/// What a test provider does when asked.
#[derive(Clone, Copy)]
enum Behaviour {
    Fail,
    Hang,
    /// Asks its own client for a token (re-entry).
    AskClient,
    Token { expires_in: u64 },
}

struct TestProvider {
    behaviour: Behaviour,
    calls: AtomicUsize,
    client: Mutex<Weak<WxaClient>>,
}

#[async_trait::async_trait]
impl WxaTokenProvider for TestProvider {
    async fn fetch_token(&self, _force_refresh: bool) -> Result<WxaAccessToken, MendianError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        match self.behaviour {
            Behaviour::Fail => Err(MendianError::Api {
                platform: mendian::Platform::Wxa,
                http_status: None,
                code: "40125".into(),
                sub_code: None,
                server_message: "invalid appsecret".into(),
                description: None,
                remedy: None,
                retryable: false,
                request_id: None,
                detail: None,
            }),
            Behaviour::Hang => std::future::pending().await,
            Behaviour::AskClient => {
                let client = self.client.lock().unwrap().upgrade().expect("client alive");
                client.access_token().await.map(|t| WxaAccessToken { access_token: t, expires_in: 7200 })
            }
            Behaviour::Token { expires_in } => Ok(WxaAccessToken { access_token: format!("token-{n}"), expires_in }),
        }
    }
}

fn provider(behaviour: Behaviour) -> Arc<TestProvider> {
    Arc::new(TestProvider { behaviour, calls: AtomicUsize::new(0), client: Mutex::new(Weak::new()) })
}

/// A client of a host nobody serves (the calls here only ask for tokens), with its own
/// default store per `host` so tests stay apart.
fn client(p: &Arc<TestProvider>, host: &str, store: Option<Arc<dyn WxaTokenStore>>, ttl_ms: u64) -> Arc<WxaClient> {
    let config = WxaConfig {
        options: ClientOptions::with_base_url(format!("http://{host}.invalid")),
        token_lock_ttl_ms: ttl_ms,
        ..WxaConfig::new("wx-token-failures")
    };
    let c = WxaClient::new(config, p.clone(), store).unwrap();
    *p.client.lock().unwrap() = Arc::downgrade(&c);
    c
}

async fn concurrently(c: &Arc<WxaClient>, n: usize) -> Vec<Result<String, MendianError>> {
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn({
        let c = c.clone();
        async move { c.access_token().await }
    })).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_provider_is_called_once_for_all_its_waiters() {
    let p = provider(Behaviour::Fail);
    let c = client(&p, "failing", None, 10_000);
    let results = concurrently(&c, 200).await;
    assert_eq!(p.calls.load(Ordering::SeqCst), 1, "200 waiters share one failure");
    for r in results {
        assert!(matches!(&r, Err(MendianError::Api { code, .. }) if code == "40125"), "{r:?}");
    }
    // A caller that comes later tries again.
    assert!(c.access_token().await.is_err());
    assert_eq!(p.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_provider_fails_its_callers_in_bounded_time() {
    let p = provider(Behaviour::Hang);
    let c = client(&p, "hung", None, 300);
    let started = Instant::now();
    let results = concurrently(&c, 20).await;
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!(p.calls.load(Ordering::SeqCst), 1);
    for r in results {
        match r {
            Err(MendianError::Callback { reason }) => assert!(reason.contains("token provider did not answer within 300 ms"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_asks_its_own_client_fails_instead_of_deadlocking() {
    let p = provider(Behaviour::AskClient);
    let c = client(&p, "reentrant", None, 300);
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), c.access_token()).await.expect("no deadlock");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    match r {
        Err(MendianError::Callback { reason }) => assert!(reason.contains("waits for itself"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lived_token_is_used_for_half_its_life() {
    let p = provider(Behaviour::Token { expires_in: 200 });
    let c = client(&p, "short-lived", None, 10_000);
    for _ in 0..50 {
        c.access_token().await.unwrap();
    }
    assert_eq!(p.calls.load(Ordering::SeqCst), 1, "a 200 s token is not refetched on every call");
    // A token that is already expired is refused, not handed out.
    let zero = provider(Behaviour::Token { expires_in: 0 });
    let e = client(&zero, "zero", None, 10_000).access_token().await.unwrap_err();
    assert!(matches!(&e, MendianError::Decode { reason, .. } if reason.contains("`expires_in` is 0")), "{e:?}");
}

/// A store whose saves always fail.
struct BrokenSaves(AtomicUsize);

#[async_trait::async_trait]
impl WxaTokenStore for BrokenSaves {
    async fn load(&self, _appid: String) -> Result<Option<WxaStoredToken>, MendianError> {
        Ok(None)
    }
    async fn save(&self, _appid: String, _token: WxaStoredToken) -> Result<(), MendianError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(MendianError::Network { reason: "the database is down".into() })
    }
    async fn invalidate(&self, _appid: String, _access_token: String) -> Result<(), MendianError> {
        Ok(())
    }
    async fn try_lock(&self, _appid: String, _holder: String, _ttl_ms: u64) -> Result<bool, MendianError> {
        Ok(true)
    }
    async fn unlock(&self, _appid: String, _holder: String) -> Result<(), MendianError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_save_keeps_the_token_for_the_caller_and_its_waiters() {
    let p = provider(Behaviour::Token { expires_in: 7200 });
    let store = Arc::new(BrokenSaves(AtomicUsize::new(0)));
    let c = client(&p, "broken-saves", Some(store.clone()), 10_000);
    let results = concurrently(&c, 50).await;
    assert!(results.iter().all(|r| r.as_deref() == Ok("token-0")), "{results:?}");
    assert_eq!(p.calls.load(Ordering::SeqCst), 1);
    assert!(store.0.load(Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_of_one_appid_with_the_classic_provider_share_their_token() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let p = emu.profile();
    let make = || {
        let provider =
            wxa_classic_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
        let config = WxaConfig {
            options: ClientOptions::with_base_url(p.wxa_base_url.clone()),
            ..WxaConfig::new(p.wxa_appid.clone())
        };
        WxaClient::new(config, provider, None).unwrap()
    };
    let (a, b) = (make(), make());
    for _ in 0..50 {
        a.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap();
        b.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap();
    }
    assert_eq!(emu.wxa_token_fetches(), 1, "each classic fetch would replace the other client's token");
    emu.stop().await;
}
