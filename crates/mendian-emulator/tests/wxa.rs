//! The 门店小程序 side of the emulator over raw HTTP, as a test in any language drives it:
//! token semantics and limits, media upload, input checks, audits with their event pushes in
//! plain and safe mode (signatures checked and `Encrypt` decrypted here, independently of the
//! emulator's code), rejected audits, push retries and the wxa faults.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mendian_emulator::{Config, Emulator};
use serde_json::{json, Value};

// ─── HTTP plumbing ───

fn http(addr: SocketAddr, method: &str, target: &str, content_type: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    let head = format!(
        "{method} {target} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("no HTTP response: {text:?}")))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

async fn raw(addr: SocketAddr, method: &'static str, target: &str, ct: &str, body: Vec<u8>) -> std::io::Result<(u16, String)> {
    let (target, ct) = (target.to_string(), ct.to_string());
    tokio::task::spawn_blocking(move || http(addr, method, &target, &ct, &body)).await.unwrap()
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// A JSON call; `body` Null sends an empty body.
async fn call(addr: SocketAddr, method: &'static str, target: &str, body: Value) -> Value {
    let bytes = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    let (status, text) = raw(addr, method, target, "application/json", bytes).await.unwrap();
    assert_eq!(status, 200, "{method} {target}: {text}");
    parse(&text)
}

async fn admin(addr: SocketAddr, method: &'static str, path: &str, body: Value) -> (u16, String) {
    let bytes = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    raw(addr, method, &format!("/__admin{path}"), "application/json", bytes).await.unwrap()
}

fn errcode(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or(0)
}

async fn stable(addr: SocketAddr, force: bool) -> Value {
    call(addr, "POST", "/cgi-bin/stable_token", json!({ "grant_type": "client_credential", "appid": APPID, "secret": SECRET, "force_refresh": force })).await
}

async fn token(addr: SocketAddr) -> String {
    stable(addr, false).await["access_token"].as_str().unwrap().to_string()
}

async fn wx(addr: SocketAddr, method: &'static str, path: &str, tok: &str, body: Value) -> Value {
    call(addr, method, &format!("{path}?access_token={tok}"), body).await
}

const APPID: &str = "wx2f8c5d2e1a9b3c7d";
const SECRET: &str = "mendian-emulator-wxa-secret";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01";
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
const PIC: &str = "http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg";

fn multipart(name: &str, filename: Option<&str>, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----mendianTestBoundary7MA4YWxkTrZu0gW";
    let mut b = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").into_bytes();
    if let Some(f) = filename {
        b.extend_from_slice(format!("; filename=\"{f}\"; filelength={}", data.len()).as_bytes());
    }
    b.extend_from_slice(b"\r\nContent-Type: application/octet-stream\r\n\r\n");
    b.extend_from_slice(data);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

async fn upload(addr: SocketAddr, tok: &str, kind: &str, name: &str, filename: Option<&str>, data: &[u8]) -> Value {
    let (ct, body) = multipart(name, filename, data);
    let (status, text) = raw(addr, "POST", &format!("/cgi-bin/media/upload?access_token={tok}&type={kind}"), &ct, body).await.unwrap();
    assert_eq!(status, 200, "{text}");
    parse(&text)
}

async fn image(addr: SocketAddr, tok: &str) -> String {
    let v = upload(addr, tok, "image", "media", Some("head.png"), PNG).await;
    v["media_id"].as_str().unwrap_or_else(|| panic!("{v}")).to_string()
}

fn apply_body(head: &str) -> Value {
    json!({ "first_catid": 278, "second_catid": 280, "headimg_mediaid": head, "nickname": "门店小程序测试", "intro": "门店介绍", "org_code": "", "other_files": "" })
}

fn map_poi_body(name: &str) -> Value {
    json!({ "name": name, "longitude": "113.323753357", "latitude": "23.0974903107", "province": "广东省", "city": "广州市", "district": "海珠区",
            "address": "海珠区TIT创意园", "category": "美食:中餐厅", "telephone": "020-89190388", "photo": "http://mmbiz.qpic.cn/mmbiz_png/a/0",
            "license": "http://mmbiz.qpic.cn/mmbiz_png/b/0", "introduct": "test", "districtid": "440105" })
}

fn add_store_body(map_poi_id: &str) -> Value {
    json!({ "poi_id": "", "map_poi_id": map_poi_id, "pic_list": json!({ "list": [PIC] }).to_string(), "contract_phone": "020-89190388",
            "hour": "10:00-21:00", "credential": "22883878-0", "card_id": "" })
}

/// Creates a map POI (audit delay 0) and returns its uid from search_map_poi.
async fn approved_poi(addr: SocketAddr, tok: &str, name: &str) -> String {
    let created = wx(addr, "POST", "/wxa/create_map_poi", tok, map_poi_body(name)).await;
    assert!(created["error"].is_null() && created["data"]["base_id"].as_i64().unwrap() > 0, "{created}");
    let found = wx(addr, "POST", "/wxa/search_map_poi", tok, json!({ "districtid": 440105, "keyword": name })).await;
    found["data"]["item"][0]["sosomap_poi_uid"].as_str().unwrap_or_else(|| panic!("{found}")).to_string()
}

// ─── A callback listener ───

#[derive(Debug, Clone)]
struct Received {
    target: String,
    headers: String,
    body: String,
}

struct Listener {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<(u16, String)>>,
}

impl Listener {
    fn start(status: u16, answer: &str) -> Listener {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/wx/push", l.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new((status, answer.to_string())));
        let (g, a) = (got.clone(), answer.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut c) = conn else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, len) = loop {
                    let n = c.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break (None, 0);
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                        break (Some(i), len);
                    }
                };
                let Some(i) = head_end else { continue };
                while buf.len() < i + 4 + len {
                    let n = c.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..i]).into_owned();
                let target = head.lines().next().unwrap_or("").split(' ').nth(1).unwrap_or("").to_string();
                g.lock().unwrap().push(Received { target, headers: head, body: String::from_utf8_lossy(&buf[i + 4..]).into_owned() });
                let (status, body) = a.lock().unwrap().clone();
                let _ = write!(c, "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        Listener { url, got, answer }
    }

    async fn wait(&self, n: usize) -> Vec<Received> {
        for _ in 0..500 {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} pushes, got {:?}", self.got.lock().unwrap());
    }
}

fn query(target: &str) -> std::collections::BTreeMap<String, String> {
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    assert_eq!(path, "/wx/push");
    q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The text of `<name>…</name>`, CDATA unwrapped.
fn tag(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    let v = &xml[start..end];
    Some(v.strip_prefix("<![CDATA[").and_then(|v| v.strip_suffix("]]>")).unwrap_or(v).to_string())
}

// ─── The test's own push crypto (written from the protocol text) ───

fn sha1_sorted(mut parts: Vec<&str>) -> String {
    parts.sort();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, parts.concat().as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard-alphabet base64 that ignores trailing bits (EncodingAESKeys need that).
fn b64decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | u32::from(val(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Decrypts a safe-mode `Encrypt`: returns (xml, trailing appid).
fn decrypt(encoding_aes_key: &str, encrypt: &str) -> (String, String) {
    use aws_lc_rs::cipher::{DecryptingKey, DecryptionContext, UnboundCipherKey, AES_256};
    let key = b64decode(&format!("{encoding_aes_key}="));
    assert_eq!(key.len(), 32);
    let mut buf = b64decode(encrypt);
    assert_eq!(buf.len() % 32, 0, "padded to a multiple of 32");
    let iv: [u8; 16] = key[..16].try_into().unwrap();
    let k = DecryptingKey::cbc(UnboundCipherKey::new(&AES_256, &key).unwrap()).unwrap();
    let plain = k.decrypt(&mut buf, DecryptionContext::Iv128(iv.into())).unwrap().to_vec();
    let pad = *plain.last().unwrap() as usize;
    assert!((1..=32).contains(&pad) && plain[plain.len() - pad..].iter().all(|b| *b as usize == pad), "PKCS#7 to 32");
    let plain = &plain[..plain.len() - pad];
    let len = u32::from_be_bytes(plain[16..20].try_into().unwrap()) as usize;
    let xml = String::from_utf8(plain[20..20 + len].to_vec()).unwrap();
    let appid = String::from_utf8(plain[20 + len..].to_vec()).unwrap();
    (xml, appid)
}

// ─── Tests ───

#[tokio::test]
async fn token_semantics_force_refresh_limits_and_classic_isolation() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let t1 = stable(a, false).await;
    assert!(t1["expires_in"].as_u64().unwrap() > 7000, "{t1}");
    let again = stable(a, false).await;
    assert_eq!(again["access_token"], t1["access_token"], "same token while valid");
    let t1 = t1["access_token"].as_str().unwrap().to_string();

    // A forced refresh replaces the token at once; another within 30 s is refused.
    let t2 = stable(a, true).await["access_token"].as_str().unwrap().to_string();
    assert_ne!(t1, t2);
    assert_eq!(errcode(&wx(a, "POST", "/wxa/get_store_list", &t1, json!({ "offset": 0, "limit": 1 })).await), 40001);
    assert_eq!(errcode(&wx(a, "POST", "/wxa/get_store_list", &t2, json!({ "offset": 0, "limit": 1 })).await), 0);
    let limited = stable(a, true).await;
    assert_eq!(errcode(&limited), 45011, "{limited}");
    assert!(limited.get("access_token").is_none());

    // Classic tokens: each call invalidates the previous one, and never the stable token.
    let classic = |n: &str| format!("/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={n}");
    let c1 = call(a, "GET", &classic(SECRET), Value::Null).await["access_token"].as_str().unwrap().to_string();
    assert_eq!(errcode(&wx(a, "GET", "/wxa/get_merchant_category", &c1, Value::Null).await), 0);
    let c2 = call(a, "GET", &classic(SECRET), Value::Null).await["access_token"].as_str().unwrap().to_string();
    assert_ne!(c1, c2);
    assert_eq!(errcode(&wx(a, "GET", "/wxa/get_merchant_category", &c1, Value::Null).await), 40001);
    assert_eq!(errcode(&wx(a, "GET", "/wxa/get_merchant_category", &c2, Value::Null).await), 0);
    assert_eq!(errcode(&wx(a, "GET", "/wxa/get_merchant_category", &t2, Value::Null).await), 0, "stable token untouched");
    assert_eq!(stable(a, false).await["access_token"], t2.as_str(), "and classic calls do not replace it");

    // Missing, expired.
    assert_eq!(errcode(&call(a, "GET", "/wxa/get_merchant_category", Value::Null).await), 41001);
    assert_eq!(errcode(&wx(a, "GET", "/wxa/get_merchant_category", "", Value::Null).await), 41001);
    emu.add_fault(mendian_emulator::Fault { id: 0, route: "*".into(), kind: mendian_emulator::FaultKind::WxaExpireTokens, times: Some(1) });
    assert_eq!(errcode(&wx(a, "GET", "/wxa/get_merchant_category", &t2, Value::Null).await), 42001);
    assert_eq!(errcode(&wx(a, "GET", "/wxa/get_merchant_category", &c2, Value::Null).await), 42001);

    // Credential errors.
    let bad = |appid: &str, secret: &str, grant: &str| json!({ "grant_type": grant, "appid": appid, "secret": secret });
    assert_eq!(errcode(&call(a, "POST", "/cgi-bin/stable_token", bad(APPID, "nope", "client_credential")).await), 40125);
    assert_eq!(errcode(&call(a, "POST", "/cgi-bin/stable_token", bad("wx0", SECRET, "client_credential")).await), 40013);
    assert_eq!(errcode(&call(a, "POST", "/cgi-bin/stable_token", bad(APPID, SECRET, "password")).await), 40002);
    assert_eq!(errcode(&call(a, "GET", &classic("nope"), Value::Null).await), 40001, "the classic page's code for a wrong secret");

    // Every answered token request counts: 4 stable answered with a token, 1 refused forced
    // refresh, 2 classic, 4 credential errors.
    let (_, stats) = admin(a, "GET", "/wxa", Value::Null).await;
    let stats = parse(&stats);
    assert_eq!(stats["token_fetches"], 4 + 1 + 2 + 4, "{stats}");
    assert_eq!(stats["tokens_issued"], 4, "t1, t2, c1, c2");
    assert_eq!(emu.wxa_token_fetches(), 11);
    emu.stop().await;
}

#[tokio::test]
async fn media_upload_checks_type_format_size_and_the_multipart_part() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let tok = token(a).await;
    let ok = upload(a, &tok, "image", "media", Some("head.png"), PNG).await;
    assert_eq!((errcode(&ok), ok["type"].as_str()), (0, Some("image")), "{ok}");
    assert!(ok["media_id"].as_str().unwrap().len() >= 32);
    assert!(ok["created_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(errcode(&upload(a, &tok, "image", "media", Some("head.jpg"), JPEG).await), 0);
    assert_eq!(errcode(&upload(a, &tok, "thumb", "media", Some("t.jpg"), JPEG).await), 0);
    assert_eq!(errcode(&upload(a, &tok, "voice", "media", Some("v.mp3"), b"ID3\x03\0\0\0").await), 0);

    // Wrong magic bytes, too big, wrong type, no media part, no file name, empty.
    assert_eq!(errcode(&upload(a, &tok, "image", "media", Some("x.png"), b"not an image at all").await), 40005);
    assert_eq!(errcode(&upload(a, &tok, "thumb", "media", Some("t.png"), PNG).await), 40005, "thumb is JPEG only");
    let mut big = PNG.to_vec();
    big.resize(2 * 1024 * 1024 + 1, 0);
    assert_eq!(errcode(&upload(a, &tok, "image", "media", Some("big.png"), &big).await), 40006);
    big.truncate(2 * 1024 * 1024);
    assert_eq!(errcode(&upload(a, &tok, "image", "media", Some("max.png"), &big).await), 0, "2 MB exactly is fine");
    assert_eq!(errcode(&upload(a, &tok, "doc", "media", Some("x.png"), PNG).await), 40004);
    assert_eq!(errcode(&upload(a, &tok, "image", "file", Some("x.png"), PNG).await), 44001);
    assert_eq!(errcode(&upload(a, &tok, "image", "media", None, PNG).await), 44001);
    assert_eq!(errcode(&upload(a, &tok, "image", "media", Some("x.png"), b"").await), 44001);
    let (status, text) = raw(a, "POST", &format!("/cgi-bin/media/upload?access_token={tok}&type=image"), "application/json", b"{}".to_vec()).await.unwrap();
    assert_eq!((status, errcode(&parse(&text))), (200, 44001));
    // The token is checked first.
    assert_eq!(errcode(&upload(a, "nope", "doc", "file", None, b"").await), 40001);

    // The body is logged as received.
    let upload_bodies: Vec<String> =
        emu.recorded().into_iter().filter(|r| r.endpoint.as_deref() == Some("upload_media")).map(|r| r.body).collect();
    assert!(upload_bodies[0].contains("name=\"media\"; filename=\"head.png\"") && upload_bodies[0].contains("PNG"), "{}", upload_bodies[0]);

    // Media ids feed apply_merchant / modify_merchant; unknown ones answer 85056.
    let head = ok["media_id"].as_str().unwrap();
    assert_eq!(errcode(&wx(a, "POST", "/wxa/modify_merchant", &tok, json!({ "headimg_mediaid": "", "intro": "" })).await), 85053);
    assert_eq!(errcode(&wx(a, "POST", "/wxa/apply_merchant", &tok, apply_body("MEDIA_ID")).await), 85056);
    let mut with_bad_qualification = apply_body(head);
    with_bad_qualification["qualification_list"] = json!(format!("{head}|unknown"));
    assert_eq!(errcode(&wx(a, "POST", "/wxa/apply_merchant", &tok, with_bad_qualification).await), 85056);
    let voice = upload(a, &tok, "voice", "media", Some("v.amr"), b"#!AMR\n....").await["media_id"].as_str().unwrap().to_string();
    assert_eq!(errcode(&wx(a, "POST", "/wxa/apply_merchant", &tok, apply_body(&voice)).await), 85056, "a head image must be an image");
    let mut good = apply_body(head);
    good["qualification_list"] = json!(format!("{head}|{}", image(a, &tok).await));
    assert_eq!(errcode(&wx(a, "POST", "/wxa/apply_merchant", &tok, good).await), 0);
    let audit = wx(a, "GET", "/wxa/get_merchant_audit_info", &tok, Value::Null).await;
    assert_eq!(audit["data"]["status"], 1, "{audit}");
    assert_eq!(errcode(&wx(a, "POST", "/wxa/modify_merchant", &tok, json!({ "headimg_mediaid": "", "intro": "" })).await), 0, "\"\" = unchanged");
    assert_eq!(errcode(&wx(a, "POST", "/wxa/modify_merchant", &tok, json!({ "headimg_mediaid": "nope", "intro": "x" })).await), 85056);
    assert_eq!(errcode(&wx(a, "POST", "/wxa/modify_merchant", &tok, json!({ "headimg_mediaid": head, "intro": "新介绍" })).await), 0);
    emu.stop().await;
}

#[tokio::test]
async fn store_inputs_are_checked_server_side() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let tok = token(a).await;
    let uid = approved_poi(a, &tok, "龙涤小区熟食店").await;

    // pic_list must be a JSON string holding {"list": [...]}.
    for bad in [json!({ "list": [PIC] }), json!([PIC]), json!("[\"x\"]"), json!("{not json"), json!(r#"{"list":[1]}"#)] {
        let mut b = add_store_body(&uid);
        b["pic_list"] = bad.clone();
        assert_eq!(errcode(&wx(a, "POST", "/wxa/add_store", &tok, b).await), 47001, "pic_list {bad}");
    }
    for (k, v) in [("hour", json!("10:00")), ("hour", json!("25:00-26:00")), ("contract_phone", json!("call me"))] {
        let mut b = add_store_body(&uid);
        b[k] = v;
        assert_eq!(errcode(&wx(a, "POST", "/wxa/add_store", &tok, b).await), 40097, "{k}");
    }
    let mut b = add_store_body(&uid);
    b.as_object_mut().unwrap().remove("hour");
    let missing = wx(a, "POST", "/wxa/add_store", &tok, b).await;
    assert_eq!(errcode(&missing), 40097);
    assert!(missing["errmsg"].as_str().unwrap().contains("hour"), "{missing}");
    assert_eq!(errcode(&wx(a, "POST", "/wxa/add_store", &tok, Value::Null).await), 44002, "empty body");
    let (_, text) = raw(a, "POST", &format!("/wxa/add_store?access_token={tok}"), "application/json", b"{\"map_poi_id\": 1,}".to_vec()).await.unwrap();
    assert_eq!(errcode(&parse(&text)), 47001, "not JSON");
    // Nothing was created by the refused calls.
    let list = wx(a, "POST", "/wxa/get_store_list", &tok, json!({ "offset": 0, "limit": 0 })).await;
    assert_eq!(list["total_count"], 0);

    // Paging limits.
    for (offset, limit, code) in [(json!(0), json!(51), 40097), (json!(-1), json!(10), 40097), (json!(0), json!("10"), 47001), (json!(0), json!(50), 0)] {
        let v = wx(a, "POST", "/wxa/get_store_list", &tok, json!({ "offset": offset, "limit": limit })).await;
        assert_eq!(errcode(&v), code, "offset {offset} limit {limit}: {v}");
    }

    // Nickname width (a CJK character counts 2) and reserved words.
    let head = image(a, &tok).await;
    for (nick, code) in [("门a", 85030), ("abc", 85030), ("门店门店门店门店门店门店门店门店", 85030), ("门店!!", 85030), ("微信门店", 85033)] {
        let mut b = apply_body(&head);
        b["nickname"] = json!(nick);
        assert_eq!(errcode(&wx(a, "POST", "/wxa/apply_merchant", &tok, b).await), code, "{nick}");
    }

    // GET-only and POST-only routes.
    assert_eq!(errcode(&wx(a, "POST", "/wxa/get_merchant_audit_info", &tok, json!({})).await), 43001);
    assert_eq!(errcode(&wx(a, "GET", "/wxa/add_store", &tok, Value::Null).await), 43002);

    // get_district: ids mixing strings and numbers, cidx ranges into the next level.
    let d = wx(a, "GET", "/wxa/get_district", &tok, Value::Null).await;
    assert_eq!((d["status"].as_i64(), d.get("errcode")), (Some(0), None));
    let r = &d["result"];
    assert_eq!(r[0][0]["id"], "440000");
    assert_eq!(r[1][0]["id"], 440100);
    assert!(r[0].as_array().unwrap().len() >= 2);
    let (c0, c1) = (r[0][0]["cidx"][0].as_u64().unwrap() as usize, r[0][0]["cidx"][1].as_u64().unwrap() as usize);
    let cities: Vec<&str> = (c0..=c1).map(|i| r[1][i]["fullname"].as_str().unwrap()).collect();
    assert_eq!(cities, ["广州市", "深圳市"]);
    let (d0, d1) = (r[1][0]["cidx"][0].as_u64().unwrap() as usize, r[1][0]["cidx"][1].as_u64().unwrap() as usize);
    let districts: Vec<&str> = (d0..=d1).map(|i| r[2][i]["fullname"].as_str().unwrap()).collect();
    assert_eq!(districts, ["海珠区", "天河区"]);

    // search_map_poi: built-in places by district, the created one by keyword.
    let found = wx(a, "POST", "/wxa/search_map_poi", &tok, json!({ "districtid": 440100, "keyword": "" })).await;
    let names: Vec<&str> = found["data"]["item"].as_array().unwrap().iter().map(|i| i["branch_name"].as_str().unwrap()).collect();
    assert!(names.contains(&"龙涤小区熟食店") && names.contains(&"X-MAX工厂") && names.contains(&"天河城购物中心"), "{names:?}");
    assert!(!names.contains(&"深圳湾公园"), "another city");
    let sz = wx(a, "POST", "/wxa/search_map_poi", &tok, json!({ "districtid": "440305", "keyword": "公园" })).await;
    assert_eq!(sz["data"]["item"][0]["sosomap_poi_uid"], "5938314494307741153");

    // add_store: an approved POI, no duplicates, status 1 after the (zero) audit delay.
    assert_eq!(errcode(&wx(a, "POST", "/wxa/add_store", &tok, add_store_body("1")).await), 85055);
    let added = wx(a, "POST", "/wxa/add_store", &tok, add_store_body(&uid)).await;
    assert!(added["data"]["audit_id"].as_i64().unwrap() > 0, "{added}");
    assert_eq!(errcode(&wx(a, "POST", "/wxa/add_store", &tok, add_store_body(&uid)).await), 85038);
    assert_eq!(errcode(&wx(a, "POST", "/wxa/add_store", &tok, add_store_body("2708071440732747189")).await), 0, "a built-in place");
    let list = wx(a, "POST", "/wxa/get_store_list", &tok, json!({ "offset": 0, "limit": 10 })).await;
    assert_eq!(list["total_count"], 2);
    let store = &list["business_list"][0]["base_info"];
    let poi_id = store["poi_id"].as_str().expect("a string in get_store_list").to_string();
    assert_eq!((store["status"].as_i64(), store["business_name"].as_str()), (Some(1), Some("龙涤小区熟食店")));
    let info = wx(a, "POST", "/wxa/get_store_info", &tok, json!({ "poi_id": poi_id })).await;
    assert_eq!(info["business"]["base_info"]["poi_id"], poi_id.parse::<i64>().unwrap(), "a number in get_store_info");
    let info = wx(a, "POST", "/wxa/get_store_info", &tok, json!({ "poi_id": poi_id.parse::<i64>().unwrap() })).await;
    assert_eq!(errcode(&info), 0, "poi_id accepted as a number too");

    // update_store: the same pictures need no audit, new ones do.
    let upd = |pics: Vec<&str>| json!({ "poi_id": poi_id, "hour": "09:00-22:00", "contract_phone": "020-1", "card_id": "", "pic_list": json!({ "list": pics }).to_string() });
    let same = wx(a, "POST", "/wxa/update_store", &tok, upd(vec![PIC])).await;
    assert_eq!(same["data"]["has_audit_id"], 0, "{same}");
    let new = wx(a, "POST", "/wxa/update_store", &tok, upd(vec![PIC, "http://mmbiz.qpic.cn/y/0"])).await;
    assert_eq!(new["data"]["has_audit_id"], 1, "{new}");
    let info = wx(a, "POST", "/wxa/get_store_info", &tok, json!({ "poi_id": poi_id })).await;
    assert_eq!(info["business"]["base_info"]["open_time"], "09:00-22:00");
    assert_eq!(info["business"]["base_info"]["photo_list"].as_array().unwrap().len(), 2);
    let mut bad = upd(vec![PIC]);
    bad["pic_list"] = json!({ "list": [PIC] });
    assert_eq!(errcode(&wx(a, "POST", "/wxa/update_store", &tok, bad).await), 47001);
    assert_eq!(errcode(&wx(a, "POST", "/wxa/update_store", &tok, json!({ "poi_id": "1", "hour": "09:00-22:00", "contract_phone": "1", "card_id": "", "pic_list": "{\"list\":[]}" })).await), 65115);
    emu.stop().await;
}

#[tokio::test]
async fn audit_events_are_pushed_in_plain_mode_with_a_valid_signature() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let p = emu.profile();
    let cb = Listener::start(200, "success");
    let (status, _) = admin(a, "PUT", "/wxa", json!({ "callback_url": cb.url, "push_mode": "plain", "audit_delay_ms": 0 })).await;
    assert_eq!(status, 204);
    let tok = token(a).await;
    let head = image(a, &tok).await;
    assert_eq!(errcode(&wx(a, "POST", "/wxa/apply_merchant", &tok, apply_body(&head)).await), 0);
    let got = cb.wait(1).await;
    let q = query(&got[0].target);
    assert_eq!(q["signature"], sha1_sorted(vec![&p.wxa_push_token, &q["timestamp"], &q["nonce"]]));
    assert!(!q.contains_key("msg_signature") && !q.contains_key("encrypt_type"));
    assert!(got[0].headers.to_ascii_lowercase().contains("content-type: text/xml"), "{}", got[0].headers);
    let xml = &got[0].body;
    assert!(xml.starts_with("<xml>\n<ToUserName><![CDATA[gh_") && xml.ends_with("</xml>"), "{xml}");
    assert_eq!(tag(xml, "ToUserName").unwrap(), p.wxa_original_id);
    assert!(tag(xml, "FromUserName").unwrap().starts_with('o'));
    assert_eq!(tag(xml, "MsgType").unwrap(), "event");
    assert_eq!(tag(xml, "Event").unwrap(), "apply_merchant_audit_info");
    assert_eq!(tag(xml, "status").unwrap(), "1");
    assert!(xml.contains("<MsgType><![CDATA[event]]></MsgType>") && xml.contains("<status>1</status>"), "CDATA for strings only: {xml}");
    let create_time: i64 = tag(xml, "CreateTime").unwrap().parse().unwrap();
    assert!((create_time - q["timestamp"].parse::<i64>().unwrap()).abs() <= 1);
    let audit = wx(a, "GET", "/wxa/get_merchant_audit_info", &tok, Value::Null).await;
    assert_eq!(tag(xml, "audit_id").unwrap(), audit["data"]["audit_id"].to_string());

    // Map POI, store and picture audits push their own events.
    let created = wx(a, "POST", "/wxa/create_map_poi", &tok, map_poi_body("推送测试店")).await;
    let base_id = created["data"]["base_id"].as_i64().unwrap();
    let got = cb.wait(2).await;
    let xml = &got[1].body;
    assert_eq!(tag(xml, "Event").unwrap(), "create_map_poi_audit_info");
    assert_eq!(tag(xml, "audit_id").unwrap(), base_id.to_string());
    assert_eq!(tag(xml, "status").unwrap(), "0", "0 is the approval here");
    assert_eq!((tag(xml, "name").unwrap().as_str(), tag(xml, "latitude").unwrap().as_str()), ("推送测试店", "23.0974903107"));
    assert!(xml.contains("<latitude><![CDATA[23.0974903107]]></latitude>"));
    let map_poi_id = tag(xml, "map_poi_id").unwrap();
    let found = wx(a, "POST", "/wxa/search_map_poi", &tok, json!({ "districtid": 440105, "keyword": "推送" })).await;
    assert_eq!(found["data"]["item"][0]["sosomap_poi_uid"], map_poi_id.as_str());

    let added = wx(a, "POST", "/wxa/add_store", &tok, add_store_body(&map_poi_id)).await;
    let got = cb.wait(3).await;
    let xml = &got[2].body;
    assert_eq!(tag(xml, "Event").unwrap(), "add_store_audit_info");
    assert_eq!(tag(xml, "audit_id").unwrap(), added["data"]["audit_id"].to_string());
    assert_eq!((tag(xml, "status").unwrap().as_str(), tag(xml, "is_upgrade").unwrap().as_str()), ("1", "0"));
    let poiid = tag(xml, "poiid").unwrap();
    let info = wx(a, "POST", "/wxa/get_store_info", &tok, json!({ "poi_id": poiid })).await;
    assert_eq!(info["business"]["base_info"]["status"], 1, "{info}");

    let upd = json!({ "poi_id": poiid, "hour": "09:00-22:00", "contract_phone": "020-1", "card_id": "", "pic_list": json!({ "list": ["http://mmbiz.qpic.cn/new/0"] }).to_string() });
    let updated = wx(a, "POST", "/wxa/update_store", &tok, upd).await;
    let got = cb.wait(4).await;
    assert_eq!(tag(&got[3].body, "Event").unwrap(), "modify_store_audit_info");
    assert_eq!(tag(&got[3].body, "audit_id").unwrap(), updated["data"]["audit_id"].to_string());

    // The admin log records each delivery with the callback's answer.
    let pushes = emu.wait_for_wxa_pushes(4, Duration::from_secs(5)).await;
    let events: Vec<&str> = pushes.iter().map(|p| p.event.as_str()).collect();
    assert_eq!(events, ["apply_merchant_audit_info", "create_map_poi_audit_info", "add_store_audit_info", "modify_store_audit_info"]);
    assert!(pushes.iter().all(|p| p.status == Some(200) && p.answer == "success" && p.error.is_none() && p.attempt == 1), "{pushes:?}");
    let (_, stats) = admin(a, "GET", "/wxa", Value::Null).await;
    let stats = parse(&stats);
    assert_eq!((stats["callback_url"].as_str(), stats["push_mode"].as_str()), (Some(cb.url.as_str()), Some("plain")));
    assert_eq!(stats["pushes"][2], json!({ "event": "add_store_audit_info", "audit_id": added["data"]["audit_id"], "attempt": 1, "status": 200, "answer": "success", "error": null }));
    emu.stop().await;
}

#[tokio::test]
async fn safe_mode_pushes_are_encrypted_and_carry_msg_signature() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let p = emu.profile();
    let cb = Listener::start(200, "");
    emu.set_wxa_callback(Some(&cb.url), mendian_emulator::PushMode::Safe).unwrap();
    let tok = token(a).await;
    let head = image(a, &tok).await;
    wx(a, "POST", "/wxa/apply_merchant", &tok, apply_body(&head)).await;
    let got = cb.wait(1).await;
    let q = query(&got[0].target);
    assert_eq!(q["encrypt_type"], "aes");
    let body = &got[0].body;
    assert!(body.starts_with("<xml><ToUserName><![CDATA[") && !body.contains("<Event>"), "{body}");
    assert_eq!(tag(body, "ToUserName").unwrap(), p.wxa_original_id);
    let encrypt = tag(body, "Encrypt").unwrap();
    assert_eq!(q["signature"], sha1_sorted(vec![&p.wxa_push_token, &q["timestamp"], &q["nonce"]]), "the plain signature is still there");
    assert_eq!(q["msg_signature"], sha1_sorted(vec![&p.wxa_push_token, &q["timestamp"], &q["nonce"], &encrypt]));
    // Like real keys, the profile's key has non-zero trailing bits (a strict decoder refuses it).
    let last = p.wxa_encoding_aes_key.as_bytes()[42];
    assert_ne!(b64decode(&format!("AAA{}", last as char))[2] & 0x03, 0, "key {}", p.wxa_encoding_aes_key);
    let (xml, appid) = decrypt(&p.wxa_encoding_aes_key, &encrypt);
    assert_eq!(appid, p.wxa_appid);
    assert_eq!(tag(&xml, "Event").unwrap(), "apply_merchant_audit_info");
    assert_eq!(tag(&xml, "ToUserName").unwrap(), p.wxa_original_id);
    assert_eq!(tag(&xml, "status").unwrap(), "1");
    let pushes = emu.wait_for_wxa_pushes(1, Duration::from_secs(5)).await;
    assert_eq!((pushes[0].status, pushes[0].answer.as_str()), (Some(200), ""), "an empty answer is recorded as such");
    emu.stop().await;
}

#[tokio::test]
async fn rejected_audits_stay_rejected_and_push_the_reason() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let cb = Listener::start(200, "success");
    admin(a, "PUT", "/wxa", json!({ "callback_url": cb.url, "audit_outcome": "reject" })).await;
    let tok = token(a).await;
    let head = image(a, &tok).await;
    wx(a, "POST", "/wxa/apply_merchant", &tok, apply_body(&head)).await;
    let audit = wx(a, "GET", "/wxa/get_merchant_audit_info", &tok, Value::Null).await;
    assert_eq!(audit["data"]["status"], 3);
    assert!(!audit["data"]["reason"].as_str().unwrap().is_empty());
    let got = cb.wait(1).await;
    assert_eq!(tag(&got[0].body, "status").unwrap(), "3");
    assert!(!tag(&got[0].body, "reason").unwrap().is_empty());

    // A rejected map POI is not searchable and add_store refuses it.
    wx(a, "POST", "/wxa/create_map_poi", &tok, map_poi_body("驳回测试店")).await;
    let got = cb.wait(2).await;
    assert_eq!(tag(&got[1].body, "status").unwrap(), "1", "1 is the rejection for map POIs");
    let uid = tag(&got[1].body, "map_poi_id").unwrap();
    let found = wx(a, "POST", "/wxa/search_map_poi", &tok, json!({ "districtid": 440105, "keyword": "驳回" })).await;
    assert_eq!(found["data"]["item"], json!([]));
    assert_eq!(errcode(&wx(a, "POST", "/wxa/add_store", &tok, add_store_body(&uid)).await), 85055);

    // A rejected store stays status 3 and cannot be updated.
    let added = wx(a, "POST", "/wxa/add_store", &tok, add_store_body("2880741500279549033")).await;
    let got = cb.wait(3).await;
    assert_eq!(tag(&got[2].body, "Event").unwrap(), "add_store_audit_info");
    assert_eq!(tag(&got[2].body, "status").unwrap(), "3");
    let poiid = tag(&got[2].body, "poiid").unwrap();
    let info = wx(a, "POST", "/wxa/get_store_info", &tok, json!({ "poi_id": poiid })).await;
    assert_eq!(info["business"]["base_info"]["status"], 3, "{info} {added}");
    let upd = json!({ "poi_id": poiid, "hour": "09:00-22:00", "contract_phone": "020-1", "card_id": "", "pic_list": "{\"list\":[]}" });
    assert_eq!(errcode(&wx(a, "POST", "/wxa/update_store", &tok, upd).await), 65118);
    // Re-adding the place after a rejection is allowed.
    admin(a, "PUT", "/wxa", json!({ "audit_outcome": "approve" })).await;
    assert_eq!(errcode(&wx(a, "POST", "/wxa/add_store", &tok, add_store_body("2880741500279549033")).await), 0);
    emu.stop().await;
}

#[tokio::test]
async fn audits_take_the_configured_delay_before_status_and_push_change() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let cb = Listener::start(200, "success");
    admin(a, "PUT", "/wxa", json!({ "callback_url": cb.url, "audit_delay_ms": 400 })).await;
    let tok = token(a).await;
    let added = wx(a, "POST", "/wxa/add_store", &tok, add_store_body("2708071440732747189")).await;
    assert_eq!(errcode(&added), 0);
    let list = wx(a, "POST", "/wxa/get_store_list", &tok, json!({ "offset": 0, "limit": 1 })).await;
    assert_eq!(list["business_list"][0]["base_info"]["status"], 2, "审核中");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(cb.got.lock().unwrap().is_empty(), "not before the delay");
    let got = cb.wait(1).await;
    assert_eq!(tag(&got[0].body, "status").unwrap(), "1");
    let list = wx(a, "POST", "/wxa/get_store_list", &tok, json!({ "offset": 0, "limit": 1 })).await;
    assert_eq!(list["business_list"][0]["base_info"]["status"], 1);
    // A reset forgets settings and cancels what is pending.
    admin(a, "PUT", "/wxa", json!({ "audit_delay_ms": 300 })).await;
    wx(a, "POST", "/wxa/add_store", &tok, add_store_body("5938314494307741153")).await;
    emu.reset();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cb.got.lock().unwrap().len(), 1);
    let (_, stats) = admin(a, "GET", "/wxa", Value::Null).await;
    assert_eq!(parse(&stats), json!({ "token_fetches": 0, "tokens_issued": 0, "audit_delay_ms": 0, "audit_outcome": "approve", "callback_url": null, "push_mode": "plain", "pushes": [] }));
    emu.stop().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_three_times_and_settings_are_validated() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let cb = Listener::start(500, "oops");
    admin(a, "PUT", "/wxa", json!({ "callback_url": cb.url })).await;
    let tok = token(a).await;
    let head = image(a, &tok).await;
    wx(a, "POST", "/wxa/apply_merchant", &tok, apply_body(&head)).await;
    let got = cb.wait(4).await;
    assert!(got.iter().all(|r| r.body == got[0].body), "the same event each time");
    let pushes = emu.wait_for_wxa_pushes(4, Duration::from_secs(5)).await;
    assert_eq!(pushes.iter().map(|p| p.attempt).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(pushes.iter().all(|p| p.status == Some(500) && p.answer == "oops" && p.error.as_deref().is_some_and(|e| e.contains("500"))));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cb.got.lock().unwrap().len(), 4, "no fifth attempt");

    // A callback that answers something else than success is recorded, not retried.
    *cb.answer.lock().unwrap() = (200, "not success".into());
    wx(a, "POST", "/wxa/create_map_poi", &tok, map_poi_body("回答测试")).await;
    let pushes = emu.wait_for_wxa_pushes(5, Duration::from_secs(5)).await;
    assert_eq!((pushes[4].attempt, pushes[4].status, pushes[4].answer.as_str(), pushes[4].error.as_deref()), (1, Some(200), "not success", None));

    // Nobody listening: every attempt fails to connect.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    emu.set_wxa_callback(Some(&dead), mendian_emulator::PushMode::Plain).unwrap();
    wx(a, "POST", "/wxa/add_store", &tok, add_store_body("2708071440732747189")).await;
    let pushes = emu.wait_for_wxa_pushes(9, Duration::from_secs(10)).await;
    assert!(pushes[5..].iter().all(|p| p.status.is_none() && p.error.is_some()), "{:?}", &pushes[5..]);

    // Only loopback http:// callbacks, known members and values.
    for bad in [
        json!({ "callback_url": "http://example.com/wx" }),
        json!({ "callback_url": "https://127.0.0.1/wx" }),
        json!({ "callback_url": 5 }),
        json!({ "push_mode": "aes" }),
        json!({ "audit_outcome": "maybe" }),
        json!({ "audit_delay": 5 }),
    ] {
        let (status, text) = admin(a, "PUT", "/wxa", bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {text}");
        assert!(parse(&text)["error"].is_string());
    }
    assert!(emu.set_wxa_callback(Some("http://10.1.2.3/"), mendian_emulator::PushMode::Plain).is_err());
    let (status, _) = admin(a, "PUT", "/wxa", json!({ "callback_url": null })).await;
    assert_eq!(status, 204);
    let (_, stats) = admin(a, "GET", "/wxa", Value::Null).await;
    assert_eq!(parse(&stats)["callback_url"], Value::Null);
    emu.stop().await;
}

#[tokio::test]
async fn wxa_errcode_and_drop_faults() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let a = emu.addr();
    let tok = token(a).await;
    let (status, _) =
        admin(a, "POST", "/faults", json!({ "route": "POST /wxa/get_store_list", "kind": { "type": "wxa_errcode", "errcode": -1, "errmsg": "system error" }, "times": 1 })).await;
    assert_eq!(status, 201);
    let busy = wx(a, "POST", "/wxa/get_store_list", &tok, json!({ "offset": 0, "limit": 1 })).await;
    assert_eq!(errcode(&busy), -1);
    assert!(busy["errmsg"].as_str().unwrap().starts_with("system error rid: "), "{busy}");
    assert_eq!(errcode(&wx(a, "POST", "/wxa/get_store_list", &tok, json!({ "offset": 0, "limit": 1 })).await), 0, "used up");

    // A quota error on the token endpoint (errmsg defaulted) counts as an answered token request.
    emu.add_fault(mendian_emulator::Fault {
        id: 0,
        route: "POST /cgi-bin/stable_token".into(),
        kind: mendian_emulator::FaultKind::WxaErrcode { errcode: 45009, errmsg: String::new() },
        times: Some(1),
    });
    let quota = stable(a, false).await;
    assert_eq!(errcode(&quota), 45009);
    assert!(quota["errmsg"].as_str().unwrap().contains("daily quota"), "{quota}");
    assert_eq!(emu.wxa_token_fetches(), 2);

    // drop on a wxa route: the connection closes without an answer, and is still recorded.
    admin(a, "POST", "/faults", json!({ "route": "/wxa/get_store_list", "kind": { "type": "drop" }, "times": 1 })).await;
    let body = json!({ "offset": 0, "limit": 1 }).to_string().into_bytes();
    let dropped = raw(a, "POST", &format!("/wxa/get_store_list?access_token={tok}"), "application/json", body).await;
    assert!(dropped.is_err(), "expected no answer, got {dropped:?}");
    assert_eq!(emu.recorded().iter().filter(|r| r.endpoint.as_deref() == Some("get_store_list")).count(), 3);
    assert_eq!(errcode(&wx(a, "POST", "/wxa/get_store_list", &tok, json!({ "offset": 0, "limit": 1 })).await), 0);
    emu.stop().await;
}
