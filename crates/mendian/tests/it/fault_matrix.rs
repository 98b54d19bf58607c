//! The fault matrix: every platform, one endpoint the spec marks repeatable and one it marks
//! never repeated, against each fault the emulator injects. Each cell states the outcome (a
//! recovery or the typed error) and exactly how many requests reached that endpoint.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mendian::top::{TopAppSecretSigner, TopClient, TopConfig, WorkerCreateRequest, WorkerQueryRequest};
use mendian::wechatpay::{wechatpay_pem_signer, WechatpayClient, WechatpayConfig};
use mendian::wxa::{wxa_memory_token_store, wxa_stable_token_provider, GetStoreListRequest, WxaClient, WxaConfig};
use mendian::{ClientOptions, MendianError};
use mendian_emulator::{Emulator, Fault, FaultKind};

type Call = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), MendianError>> + Send>> + Send + Sync>;

/// One endpoint of one platform, ready to call.
struct Target {
    platform: &'static str,
    endpoint: &'static str,
    route: &'static str,
    call: Call,
    /// Run before the warm-up call (the worker a query reads).
    setup: Option<Call>,
}

const TIMEOUT_MS: u64 = 400;
/// The answer size limit of the matrix's clients; the "oversized 200" fault sends 4× this.
const MAX_BODY: u64 = 64 * 1024;

fn options(base_url: String) -> ClientOptions {
    ClientOptions { timeout_ms: Some(TIMEOUT_MS), max_response_bytes: Some(MAX_BODY), ..ClientOptions::with_base_url(base_url) }
}

fn targets(emu: &Emulator) -> Vec<Target> {
    let p = emu.profile();
    let mut wp = WechatpayConfig::new(p.wechatpay_mchid.clone(), p.wechatpay_merchant_serial_no.clone());
    wp.options = options(p.wechatpay_base_url.clone());
    wp.apiv3_key = Some(p.wechatpay_apiv3_key.clone());
    wp.wechatpay_public_key_id = Some(p.wechatpay_public_key_id.clone());
    wp.wechatpay_public_key_pem = Some(p.wechatpay_public_key_pem.clone());
    let wechatpay: Arc<WechatpayClient> =
        WechatpayClient::new(wp, wechatpay_pem_signer(p.wechatpay_merchant_private_key_pem.clone()).unwrap()).unwrap();
    let provider = wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
    let wxa = WxaClient::new(
        WxaConfig { options: options(p.wxa_base_url.clone()), ..WxaConfig::new(p.wxa_appid.clone()) },
        provider,
        Some(wxa_memory_token_store()),
    )
    .unwrap();
    let mut tc = TopConfig::new(p.top_app_key.clone());
    tc.options = options(p.top_gateway_url.clone());
    tc.session = Some(p.top_session.clone());
    let top = TopClient::new(tc, TopAppSecretSigner::new(p.top_app_secret.clone()).unwrap()).unwrap();

    let mut out = Vec::new();
    let c = wechatpay.clone();
    out.push(Target {
        platform: "wechatpay",
        endpoint: "query_guides",
        route: "GET /v3/smartguide/guides",
        call: Box::new(move || {
            let c = c.clone();
            Box::pin(async move { c.query_guides(crate::wechatpay_e2e::query(None)).await.map(|_| ()) })
        }),
        setup: None,
    });
    let c = wechatpay;
    out.push(Target {
        platform: "wechatpay",
        endpoint: "register_guide",
        route: "POST /v3/smartguide/guides",
        call: Box::new(move || {
            let c = c.clone();
            Box::pin(async move { c.register_guide(crate::wechatpay_e2e::register("张三", "13900000000")).await.map(|_| ()) })
        }),
        setup: None,
    });
    let c = wxa.clone();
    out.push(Target {
        platform: "wxa",
        endpoint: "get_store_list",
        route: "POST /wxa/get_store_list",
        call: Box::new(move || {
            let c = c.clone();
            Box::pin(async move { c.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.map(|_| ()) })
        }),
        setup: None,
    });
    let c = wxa;
    out.push(Target {
        platform: "wxa",
        endpoint: "add_store",
        route: "POST /wxa/add_store",
        call: Box::new(move || {
            let c = c.clone();
            Box::pin(async move { c.add_store(crate::wxa_e2e::store("2880741500279549033")).await.map(|_| ()) })
        }),
        setup: None,
    });
    let c = top.clone();
    let create = top.clone();
    out.push(Target {
        platform: "top",
        endpoint: "worker_query",
        route: "/router/rest",
        call: Box::new(move || {
            let c = c.clone();
            Box::pin(async move {
                c.worker_query(WorkerQueryRequest { identity_id: Some("330106199001011234".into()) }, None).await.map(|_| ())
            })
        }),
        setup: Some(Box::new(move || {
            let c = create.clone();
            Box::pin(async move {
                c.worker_create(WorkerCreateRequest { worker_dto: Some(crate::top_e2e::worker()) }, None).await.map(|_| ())
            })
        })),
    });
    let c = top;
    out.push(Target {
        platform: "top",
        endpoint: "worker_create",
        route: "/router/rest",
        call: Box::new(move || {
            let c = c.clone();
            Box::pin(async move {
                c.worker_create(WorkerCreateRequest { worker_dto: Some(crate::top_e2e::worker()) }, None).await.map(|_| ())
            })
        }),
        setup: None,
    });
    out
}

/// What a cell ended with: `ok`, or the error variant's name.
fn outcome(r: &Result<(), MendianError>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => format!("{e:?}").split([' ', '{', '(']).next().unwrap_or("").to_string(),
    }
}

fn faults() -> Vec<(&'static str, FaultKind)> {
    vec![
        ("gateway 502", FaultKind::Status { status: 502, body: "<html>Bad Gateway</html>".into(), content_type: Some("text/html".into()) }),
        ("drop before processing", FaultKind::Drop),
        ("drop after processing", FaultKind::DropAfterProcessing),
        ("delay past the timeout", FaultKind::Delay { millis: TIMEOUT_MS * 3 }),
        ("truncated 200", FaultKind::Status { status: 200, body: r#"{"errcode":0,"busi"#.into(), content_type: None }),
        ("malformed 200", FaultKind::Status { status: 200, body: "<html>ok</html>".into(), content_type: Some("text/html".into()) }),
        ("oversized 200", FaultKind::Status { status: 200, body: format!("{{\"x\":\"{}\"}}", "a".repeat(4 * MAX_BODY as usize)), content_type: None }),
    ]
}

/// The expected outcome and endpoint request count of a fault for a repeatable and a
/// never-repeated endpoint.
fn expected(platform: &str, repeatable: bool, fault: &str) -> (&'static str, usize) {
    match (fault, repeatable) {
        ("gateway 502" | "drop before processing" | "drop after processing" | "delay past the timeout", true) => ("ok", 2),
        ("gateway 502" | "drop before processing" | "drop after processing" | "delay past the timeout", false) => {
            ("OutcomeUnknown", 1)
        }
        // Refused by size before any signature or envelope is looked at.
        ("oversized 200", _) => ("Decode", 1),
        // WeChat Pay checks the answer's signature before reading it; a canned body has none.
        ("truncated 200" | "malformed 200", _) if platform == "wechatpay" => ("Signature", 1),
        ("truncated 200" | "malformed 200", _) => ("Decode", 1),
        _ => unreachable!("{fault}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_platform_every_retry_class_every_fault() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for (fault_name, kind) in faults() {
        for t in targets(&emu) {
            emu.reset();
            // Warm up outside the cell (token, connection, the worker a query reads), then
            // count from zero.
            if let Some(setup) = &t.setup {
                setup().await.unwrap();
            }
            let _ = (t.call)().await;
            emu.clear_recorded();
            emu.add_fault(Fault { id: 0, route: t.route.into(), kind: kind.clone(), times: Some(1) });
            let r = (t.call)().await;
            let seen = emu.recorded().iter().filter(|r| r.endpoint.as_deref() == Some(t.endpoint)).count();
            let repeatable = matches!(t.endpoint, "query_guides" | "get_store_list" | "worker_query");
            let got = (outcome(&r), seen);
            let want = expected(t.platform, repeatable, fault_name);
            report.push(format!("{:<24} {:<10} {:<15} {:<16} {}", fault_name, t.platform, t.endpoint, got.0, got.1));
            // The size limit, not a later check of a body that happens to be wrong, refused it.
            let limit_named = fault_name != "oversized 200" || format!("{r:?}").contains("options.max_response_bytes");
            if (got.0.as_str(), got.1) != want || !limit_named {
                wrong.push(format!("{fault_name} / {} {}: got {got:?} ({r:?}), want {want:?}", t.platform, t.endpoint));
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_network_and_never_unknown() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let p = emu.profile();
    let mut tc = TopConfig::new(p.top_app_key.clone());
    tc.options = options("http://127.0.0.1:9/router/rest".into());
    tc.session = Some(p.top_session.clone());
    let top = TopClient::new(tc, TopAppSecretSigner::new(p.top_app_secret.clone()).unwrap()).unwrap();
    for create in [true, false] {
        let r = if create {
            top.worker_create(WorkerCreateRequest { worker_dto: Some(crate::top_e2e::worker()) }, None).await.map(|_| ())
        } else {
            top.worker_query(WorkerQueryRequest { identity_id: Some("1".into()) }, None).await.map(|_| ())
        };
        assert!(matches!(r, Err(MendianError::Network { .. })), "{r:?}");
    }
    emu.stop().await;
}

/// The faults only one platform has: WeChat Pay answer signatures, WeChat access tokens,
/// TOP bans and the daily quota. Same rule: the outcome and the exact request count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_specific_faults() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let quota = r#"{"error_response":{"code":7,"msg":"App Call Limited","sub_code":"accesscontrol.limited-by-app-access-count","sub_msg":"This ban will last for 1 more seconds"}}"#;
    let cells: Vec<(&str, &str, FaultKind, &str, usize)> = vec![
        ("wechatpay", "query_guides", FaultKind::WechatpayBadSignature, "Signature", 1),
        ("wechatpay", "register_guide", FaultKind::WechatpayBadSignature, "Signature", 1),
        ("wechatpay", "query_guides", FaultKind::WechatpayClockSkew { seconds: 600 }, "Signature", 1),
        ("wechatpay", "query_guides", FaultKind::WechatpaySignTest, "Signature", 1),
        // An expired token is refused before anything is done: renewed and repeated once,
        // for creates too.
        ("wxa", "get_store_list", FaultKind::WxaExpireTokens, "ok", 2),
        ("wxa", "add_store", FaultKind::WxaExpireTokens, "ok", 2),
        // A token revoked on the platform side (40001: another fetch replaced it) is
        // invalidated, fetched anew and the call repeated once, for creates too.
        ("wxa", "get_store_list", FaultKind::WxaErrcode { errcode: 40001, errmsg: "invalid credential".into() }, "ok", 2),
        ("wxa", "add_store", FaultKind::WxaErrcode { errcode: 40001, errmsg: "invalid credential".into() }, "ok", 2),
        ("wxa", "get_store_list", FaultKind::WxaErrcode { errcode: 45009, errmsg: "reach max api daily quota limit".into() }, "Api", 1),
        ("wxa", "get_store_list", FaultKind::WxaErrcode { errcode: -1, errmsg: "system error".into() }, "ok", 2),
        ("wxa", "add_store", FaultKind::WxaErrcode { errcode: -1, errmsg: "system error".into() }, "Api", 1),
        // A per-API ban is a refusal (nothing done): waited out, for creates too.
        ("top", "worker_query", FaultKind::TopBan { seconds: 1, sub_code: "accesscontrol.limited-by-api-access-count".into() }, "ok", 2),
        ("top", "worker_create", FaultKind::TopBan { seconds: 1, sub_code: "accesscontrol.limited-by-api-access-count".into() }, "ok", 2),
        ("top", "worker_query", FaultKind::Status { status: 200, body: quota.into(), content_type: None }, "Api", 1),
    ];
    let mut wrong = Vec::new();
    for (platform, endpoint, kind, want, want_count) in cells {
        let targets = targets(&emu);
        let t = targets.iter().find(|t| t.platform == platform && t.endpoint == endpoint).expect("a target");
        emu.reset();
        if let Some(setup) = &t.setup {
            setup().await.unwrap();
        }
        let _ = (t.call)().await;
        if let Some(read) = match endpoint {
            "worker_create" => Some("worker_query"),
            "add_store" => Some("get_store_list"),
            _ => None,
        } {
            // The warm-up created the worker or store; start from none so the create can
            // succeed, warming up (a new token) with the platform's read instead.
            emu.reset();
            let _ = (targets.iter().find(|t| t.endpoint == read).unwrap().call)().await;
        }
        emu.clear_recorded();
        let kind_shown = format!("{kind:?}");
        emu.add_fault(Fault { id: 0, route: t.route.into(), kind, times: Some(1) });
        let r = (t.call)().await;
        let seen = emu.recorded().iter().filter(|r| r.endpoint.as_deref() == Some(endpoint)).count();
        let got = outcome(&r);
        if (got.as_str(), seen) != (want, want_count) {
            wrong.push(format!("{kind_shown} / {platform} {endpoint}: got ({got}, {seen}) ({r:?}), want ({want}, {want_count})"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    emu.stop().await;
}
