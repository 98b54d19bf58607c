//! The emulator's admin API and spec routing, driven over real HTTP on loopback as a test in
//! any language would drive it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use mendian_emulator::{Config, Emulator};

/// One HTTP/1.1 exchange; returns (status, body), or the I/O error when the server drops the
/// connection.
fn http(addr: SocketAddr, method: &str, target: &str, content_type: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("no HTTP response: {text:?}"))
    })?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

async fn call(addr: SocketAddr, method: &'static str, target: &str, ct: &'static str, body: &str) -> std::io::Result<(u16, String)> {
    let (target, body) = (target.to_string(), body.to_string());
    tokio::task::spawn_blocking(move || http(addr, method, &target, ct, &body)).await.unwrap()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded;charset=UTF-8";

#[tokio::test]
async fn profile_names_loopback_urls_for_every_platform() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let p = emu.profile();
    let base = format!("http://{}", emu.addr());
    assert!(emu.addr().ip().is_loopback());
    assert_eq!(p.wechatpay_base_url, base);
    assert_eq!(p.wxa_base_url, base);
    assert_eq!(p.top_gateway_url, format!("{base}/router/rest"));
    let (status, body) = call(emu.addr(), "GET", "/__admin/profile", JSON, "").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(json(&body)["admin_url"], format!("{base}/__admin"));
    emu.stop().await;
}

#[tokio::test]
async fn refuses_non_loopback_addresses() {
    let err = Emulator::start(Config { host: "0.0.0.0".parse().unwrap(), port: 0 }).await.err().unwrap();
    assert!(err.contains("loopback"), "{err}");
}

#[tokio::test]
async fn records_requests_matched_to_spec_endpoints_and_resets() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    call(a, "POST", "/wxa/get_store_list?access_token=t", JSON, r#"{"offset":0,"limit":10}"#).await.unwrap();
    call(a, "PATCH", "/v3/smartguide/guides/G1", JSON, r#"{"avatar":"https://x/a"}"#).await.unwrap();
    call(a, "POST", "/router/rest", FORM, "method=tmall.servicecenter.worker.update&v=2.0").await.unwrap();

    let (_, body) = call(a, "GET", "/__admin/requests", JSON, "").await.unwrap();
    let recorded = json(&body);
    let got: Vec<(String, String)> = recorded
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["platform"].as_str().unwrap().to_string(), r["endpoint"].as_str().unwrap_or("-").to_string()))
        .collect();
    assert_eq!(
        got,
        [
            ("wxa".to_string(), "get_store_list".to_string()),
            ("wechatpay".to_string(), "update_guide".to_string()),
            ("top".to_string(), "worker_update".to_string())
        ]
    );
    assert_eq!(recorded[0]["query"], "access_token=<redacted>", "credentials never reach the log");
    assert_eq!(recorded[1]["body"], r#"{"avatar":"https://x/a"}"#);

    let (_, wxa_only) = call(a, "GET", "/__admin/requests?platform=wxa", JSON, "").await.unwrap();
    assert_eq!(json(&wxa_only).as_array().unwrap().len(), 1);

    let (status, _) = call(a, "POST", "/__admin/reset", JSON, "").await.unwrap();
    assert_eq!(status, 204);
    let (_, body) = call(a, "GET", "/__admin/requests", JSON, "").await.unwrap();
    assert_eq!(json(&body), serde_json::json!([]));
    emu.stop().await;
}

#[tokio::test]
async fn answers_in_each_platforms_error_shape() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    // wxa: an unknown access token → errcode 40001 in a 200 answer.
    let (status, body) = call(a, "POST", "/wxa/del_store?access_token=t", JSON, "{}").await.unwrap();
    assert_eq!(status, 200);
    let v = json(&body);
    assert_eq!(v["errcode"], 40001);
    assert!(v["errmsg"].as_str().unwrap().contains("invalid credential"), "{v}");
    // WeChat Pay: an undocumented route → 404 with code/message.
    let (status, body) = call(a, "GET", "/v3/nothing", JSON, "").await.unwrap();
    assert_eq!(status, 404);
    assert_eq!(json(&body)["code"], "RESOURCE_NOT_EXISTS");
    // TOP: an unknown method → error_response.
    let (status, body) = call(a, "POST", "/router/rest", FORM, "method=taobao.nothing").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(json(&body)["error_response"]["code"], 22);
    emu.stop().await;
}

#[tokio::test]
async fn injected_faults_apply_to_their_route_for_the_given_count() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let fault = r#"{"route":"POST /wxa/get_store_list","kind":{"type":"status","status":503,"body":"busy"},"times":2}"#;
    let (status, body) = call(a, "POST", "/__admin/faults", JSON, fault).await.unwrap();
    assert_eq!(status, 201);
    assert_eq!(json(&body)["id"], 1);
    for _ in 0..2 {
        let (status, body) = call(a, "POST", "/wxa/get_store_list?access_token=t", JSON, "{}").await.unwrap();
        assert_eq!((status, body.as_str()), (503, "busy"));
    }
    // Used up: the route answers normally again, and other routes were never affected.
    let (status, _) = call(a, "POST", "/wxa/get_store_list?access_token=t", JSON, "{}").await.unwrap();
    assert_eq!(status, 200);
    let (_, body) = call(a, "GET", "/__admin/faults", JSON, "").await.unwrap();
    assert_eq!(json(&body), serde_json::json!([]));

    // A dropped connection yields no HTTP answer at all.
    call(a, "POST", "/__admin/faults", JSON, r#"{"route":"*","kind":{"type":"drop"},"times":1}"#).await.unwrap();
    let dropped = call(a, "GET", "/v3/certificates", JSON, "").await;
    assert!(dropped.is_err(), "expected no response, got {dropped:?}");
    // Faulted requests are still recorded.
    let (_, body) = call(a, "GET", "/__admin/requests", JSON, "").await.unwrap();
    assert_eq!(json(&body).as_array().unwrap().len(), 4);

    // Clearing removes faults that had no count.
    call(a, "POST", "/__admin/faults", JSON, r#"{"route":"/v3/certificates","kind":{"type":"status","status":500}}"#).await.unwrap();
    let (status, _) = call(a, "DELETE", "/__admin/faults", JSON, "").await.unwrap();
    assert_eq!(status, 204);
    let (status, _) = call(a, "GET", "/v3/certificates", JSON, "").await.unwrap();
    assert_ne!(status, 500);
    emu.stop().await;
}

#[tokio::test]
async fn faults_that_would_misbehave_are_refused_and_the_request_log_is_bounded() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    for (fault, why) in [
        (r#"{"route":"*","kind":{"type":"drop"},"times":0}"#, "`times` must be at least 1"),
        (r#"{"route":"*","kind":{"type":"top_ban","seconds":18446744073709551615,"sub_code":"x"}}"#, "a top_ban lasts 1 to"),
        (r#"{"route":"*","kind":{"type":"top_ban","seconds":0,"sub_code":"x"}}"#, "a top_ban lasts 1 to"),
    ] {
        let (status, body) = call(a, "POST", "/__admin/faults", JSON, fault).await.unwrap();
        assert_eq!(status, 400, "{fault}: {body}");
        assert!(json(&body)["error"].as_str().unwrap().contains(why), "{body}");
    }
    let (_, faults) = call(a, "GET", "/__admin/faults", JSON, "").await.unwrap();
    assert_eq!(json(&faults), serde_json::json!([]));
    // The log keeps the last 10,000 requests, numbered across the cap.
    tokio::task::spawn_blocking(move || {
        for _ in 0..10_050 {
            http(a, "GET", "/v3/certificates", JSON, "").unwrap();
        }
    })
    .await
    .unwrap();
    let recorded = emu.recorded();
    assert!(recorded.len() <= 10_000, "{}", recorded.len());
    assert_eq!(recorded.last().unwrap().seq, 10_050);
    emu.stop().await;
}

#[tokio::test]
async fn the_admin_api_answers_only_a_loopback_host() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let raw = |host: &'static str| {
        tokio::task::spawn_blocking(move || {
            let mut s = TcpStream::connect(a).unwrap();
            write!(s, "GET /__admin/profile HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out.split(' ').nth(1).unwrap().parse::<u16>().unwrap()
        })
    };
    assert_eq!(raw("attacker.example:80").await.unwrap(), 403, "a DNS-rebound page is refused");
    assert_eq!(raw("localhost:1234").await.unwrap(), 200);
    assert_eq!(raw("127.0.0.1").await.unwrap(), 200);
    assert_eq!(raw("[::1]:9").await.unwrap(), 200);
    emu.stop().await;
}
