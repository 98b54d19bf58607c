//! `cargo xtask bench` (Python part): the plain-reqwest baseline that
//! `bindings/python/bench/bench_calls.py` measures the SDK against, in its own process so its
//! CPU time is its own.
//!
//! It reads one JSON command per line on stdin and answers one JSON line on stdout:
//!
//! ```text
//! {"op": "wxa", "runtime": "current" | "multi", "url": "<wxa>/wxa/get_store_list?access_token=…",
//!  "offset": 0, "limit": 10, "stores": 1, "calls": 2000, "in_flight": 1}
//! {"op": "top", "runtime": "current" | "multi", "gateway": "<top gateway>", "app_key": "…",
//!  "app_secret": "…", "session": "…", "worker": {…WorkerDto JSON…}, "calls": 2000, "in_flight": 1}
//! {"op": "sdk_wxa", "runtime": "current" | "multi", "appid": "…", "secret": "…", "base_url": "<wxa>",
//!  "offset": 0, "limit": 10, "stores": 1, "calls": 2000, "in_flight": 1}
//! {"op": "sdk_top", "runtime": "current" | "multi", "gateway": "<top gateway>", "app_key": "…",
//!  "app_secret": "…", "session": "…", "worker": {…WorkerDto JSON…}, "calls": 2000, "in_flight": 1}
//! {"op": "wechatpay", "runtime": "current" | "multi", "base_url": "<wechatpay>", "mchid": "…",
//!  "serial_no": "…", "private_key_pem": "…", "public_key_id": "…", "public_key_pem": "…",
//!  "guide_id": "…", "name": "…", "mobile": "…", "calls": 300, "in_flight": 1}
//! → {"cpu_us_per_call": 41.2, "calls_per_s": 5321.0}
//! ```
//!
//! Each call is what a careful Rust user writes without the SDK: one shared
//! `reqwest::Client`, the JSON (wxa) or form (TOP) body built for the call, the TOP request
//! signed afresh (new GMT+8 timestamp, HMAC-SHA256 over the sorted parameters, as the SDK
//! does by default), the answer read whole and decoded to `serde_json::Value`, and the
//! success checked (`errcode` 0 and the expected number of stores; TOP `result.value`).
//! WeChat Pay `update_guide` is the crypto the request cannot avoid plus the HTTP, with
//! aws-lc-rs keys parsed once: `name` and `mobile` encrypted (RSA-OAEP, SHA-1), the JSON body,
//! the request signed (RSA-SHA256 over method, path, timestamp, nonce and body, fresh timestamp
//! and nonce), `PATCH` sent, the 204 answer's signature verified with the WeChat Pay public key.
//! `sdk_wxa` and `sdk_top` are not baselines: they are mendian's own
//! `WxaClient::get_store_list` and `TopClient::worker_update` from Rust, on the same runtime,
//! to show what the core costs without a foreign language around it.
//! `current` runs everything on one thread (a current-thread Tokio runtime: the cheapest
//! way, and the shape of the SDK's blocking form); `multi` drives the calls from the main
//! thread with the connections on a 2-worker runtime (the shape of `#[tokio::main]`).
//!
//! CPU time is the sum over the process's threads of the time each has run
//! (`/proc/self/task/*/schedstat`, nanoseconds), read before and after the calls; no thread
//! of this process ends during a measurement.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::BufRead;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1};
use aws_lc_rs::signature::{ParsedPublicKey, RsaKeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use mendian::crypto::der;
use serde_json::{json, Value};
use sha2::Sha256;

/// CPU time of the whole process so far, in nanoseconds: every live thread's run time.
fn process_cpu_ns() -> u64 {
    let mut total = 0;
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task (Linux)");
    for task in tasks.flatten() {
        // A thread may end between the listing and the read: it then has nothing to add.
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            total += text.split_whitespace().next().and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    total
}

/// `yyyy-MM-dd HH:mm:ss` in GMT+8, the TOP `timestamp`.
fn gmt8_now() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64 + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// `application/x-www-form-urlencoded` encoding of one key or value.
fn form_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

struct Top {
    gateway: String,
    app_key: String,
    secret: Vec<u8>,
    session: String,
    worker: Value,
}

impl Top {
    /// The signed form body of one `tmall.servicecenter.worker.update`.
    fn body(&self) -> String {
        let mut p: BTreeMap<&str, String> = BTreeMap::new();
        p.insert("method", "tmall.servicecenter.worker.update".into());
        p.insert("app_key", self.app_key.clone());
        p.insert("timestamp", gmt8_now());
        p.insert("v", "2.0".into());
        p.insert("format", "json".into());
        p.insert("sign_method", "hmac-sha256".into());
        p.insert("session", self.session.clone());
        p.insert("worker", serde_json::to_string(&self.worker).expect("JSON"));
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("any key length");
        for (k, v) in &p {
            mac.update(k.as_bytes());
            mac.update(v.as_bytes());
        }
        let sign: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02X}")).collect();
        p.insert("sign", sign);
        let mut body = String::with_capacity(1024);
        for (k, v) in &p {
            if !body.is_empty() {
                body.push('&');
            }
            form_encode(k, &mut body);
            body.push('=');
            form_encode(v, &mut body);
        }
        body
    }
}

/// What one WeChat Pay merchant needs to call `PATCH /v3/smartguide/guides/{guide_id}`.
struct Wechatpay {
    url: String,
    path: String,
    mchid: String,
    serial_no: String,
    public_key_id: String,
    merchant: RsaKeyPair,
    oaep: OaepPublicEncryptingKey,
    verifier: ParsedPublicKey,
    rng: SystemRandom,
    name: String,
    mobile: String,
}

impl Wechatpay {
    fn new(cmd: &Value) -> Wechatpay {
        let public_spki = der::pem_block(str_of(cmd, "public_key_pem"), "PUBLIC KEY").expect("public key PEM");
        let base = str_of(cmd, "base_url").trim_end_matches('/');
        let path = format!("/v3/smartguide/guides/{}", str_of(cmd, "guide_id"));
        Wechatpay {
            url: format!("{base}{path}"),
            path,
            mchid: str_of(cmd, "mchid").into(),
            serial_no: str_of(cmd, "serial_no").into(),
            public_key_id: str_of(cmd, "public_key_id").into(),
            merchant: RsaKeyPair::from_pkcs8(&der::private_key_pkcs8(str_of(cmd, "private_key_pem")).expect("private key PEM"))
                .expect("RSA private key"),
            oaep: OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&public_spki).expect("RSA public key"))
                .expect("OAEP key"),
            verifier: ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der::spki_rsa_public_key(&public_spki).expect("SPKI"))
                .expect("RSA public key"),
            rng: SystemRandom::new(),
            name: str_of(cmd, "name").into(),
            mobile: str_of(cmd, "mobile").into(),
        }
    }

    fn encrypt(&self, plaintext: &str) -> String {
        let mut out = vec![0u8; self.oaep.ciphertext_size()];
        let ct = self.oaep.encrypt(&OAEP_SHA1_MGF1SHA1, plaintext.as_bytes(), &mut out, None).expect("OAEP");
        base64::engine::general_purpose::STANDARD.encode(ct)
    }

    fn nonce(&self) -> String {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b).expect("random");
        b.iter().map(|b| format!("{b:02X}")).collect()
    }
}

async fn wechatpay_call(http: &reqwest::Client, wp: &Wechatpay) {
    let body = serde_json::to_string(&json!({ "name": wp.encrypt(&wp.name), "mobile": wp.encrypt(&wp.mobile) })).expect("JSON");
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    let nonce = wp.nonce();
    let message = format!("PATCH\n{}\n{ts}\n{nonce}\n{body}\n", wp.path);
    let mut sig = vec![0u8; wp.merchant.public_modulus_len()];
    wp.merchant.sign(&RSA_PKCS1_SHA256, &wp.rng, message.as_bytes(), &mut sig).expect("sign");
    let authorization = format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{}\",timestamp=\"{ts}\",serial_no=\"{}\"",
        wp.mchid,
        base64::engine::general_purpose::STANDARD.encode(&sig),
        wp.serial_no
    );
    let resp = http
        .patch(&wp.url)
        .header("authorization", authorization)
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("user-agent", "bench-baseline")
        .header("wechatpay-serial", &wp.public_key_id)
        .body(body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let header = |k: &str| resp.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_string).unwrap_or_default();
    let (rts, rnonce, rsig, rserial) =
        (header("wechatpay-timestamp"), header("wechatpay-nonce"), header("wechatpay-signature"), header("wechatpay-serial"));
    let bytes = resp.bytes().await.expect("body");
    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(rserial, wp.public_key_id);
    let age = ts as i64 - rts.parse::<i64>().expect("wechatpay-timestamp");
    assert!(age.abs() <= 300, "answer timestamp {rts}");
    let mut signed = format!("{rts}\n{rnonce}\n").into_bytes();
    signed.extend_from_slice(&bytes);
    signed.push(b'\n');
    let rsig = base64::engine::general_purpose::STANDARD.decode(rsig).expect("base64 signature");
    wp.verifier.verify_sig(&signed, &rsig).expect("the answer's signature");
}

async fn wxa_call(http: &reqwest::Client, url: &str, offset: u64, limit: u64, stores: usize) {
    let body = serde_json::to_vec(&json!({ "offset": offset, "limit": limit })).expect("JSON");
    let resp = http.post(url).header("content-type", "application/json").body(body).send().await.expect("send");
    let bytes = resp.bytes().await.expect("body");
    let v: Value = serde_json::from_slice(&bytes).expect("JSON answer");
    assert_eq!(v["errcode"].as_i64(), Some(0), "{v}");
    assert_eq!(v["business_list"].as_array().map(Vec::len), Some(stores), "{v}");
}

async fn top_call(http: &reqwest::Client, top: &Top) {
    let resp = http
        .post(&top.gateway)
        .header("content-type", "application/x-www-form-urlencoded;charset=UTF-8")
        .header("accept", "application/json")
        .body(top.body())
        .send()
        .await
        .expect("send");
    let bytes = resp.bytes().await.expect("body");
    let v: Value = serde_json::from_slice(&bytes).expect("JSON answer");
    let result = &v["tmall_servicecenter_worker_update_response"]["result"];
    assert_eq!(result["value"].as_bool(), Some(true), "{v}");
}

/// Awaits every future concurrently on the current task.
async fn join_all<Fut: Future<Output = ()>>(futs: impl Iterator<Item = Fut>) {
    let mut set: Vec<std::pin::Pin<Box<Fut>>> = futs.map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// Runs `calls` calls, `in_flight` at a time; returns (CPU µs per call, calls per second).
async fn measure<F, Fut>(calls: usize, in_flight: usize, f: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let (cpu0, t0) = (process_cpu_ns(), Instant::now());
    let mut done = 0;
    while done < calls {
        let batch = in_flight.min(calls - done);
        if batch == 1 {
            f().await;
        } else {
            join_all((0..batch).map(|_| f())).await;
        }
        done += batch;
    }
    let (cpu, wall) = (process_cpu_ns() - cpu0, t0.elapsed().as_secs_f64());
    (cpu as f64 / 1000.0 / calls as f64, calls as f64 / wall)
}

fn str_of<'a>(cmd: &'a Value, k: &str) -> &'a str {
    cmd[k].as_str().unwrap_or_else(|| panic!("command without `{k}`: {cmd}"))
}

fn main() {
    let current = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    // A client's connections live on the runtime that opened them: one client per runtime.
    let http_current = current.block_on(async { reqwest::Client::new() });
    let http_multi = multi.block_on(async { reqwest::Client::new() });
    // The SDK's clients, kept from one command to the next as the plain clients are (the bench
    // measures a client's calls in slices): a new one would open a connection and fetch a token
    // inside each measurement.
    let mut wxa_clients: HashMap<String, Arc<mendian::wxa::WxaClient>> = HashMap::new();
    let mut top_clients: HashMap<String, Arc<mendian::top::TopClient>> = HashMap::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        if line.trim().is_empty() {
            continue;
        }
        let cmd: Value = serde_json::from_str(&line).expect("a JSON command");
        let calls = cmd["calls"].as_u64().unwrap_or(2000) as usize;
        let in_flight = cmd["in_flight"].as_u64().unwrap_or(1).max(1) as usize;
        let (rt, http) = match str_of(&cmd, "runtime") {
            "current" => (&current, &http_current),
            "multi" => (&multi, &http_multi),
            other => panic!("unknown runtime `{other}`"),
        };
        let (cpu_us, rate) = match str_of(&cmd, "op") {
            "wxa" => {
                let url = str_of(&cmd, "url");
                let (offset, limit) = (cmd["offset"].as_u64().unwrap_or(0), cmd["limit"].as_u64().unwrap_or(10));
                let stores = cmd["stores"].as_u64().expect("stores") as usize;
                rt.block_on(measure(calls, in_flight, || wxa_call(http, url, offset, limit, stores)))
            }
            "top" => {
                let top = Top {
                    gateway: str_of(&cmd, "gateway").into(),
                    app_key: str_of(&cmd, "app_key").into(),
                    secret: str_of(&cmd, "app_secret").as_bytes().to_vec(),
                    session: str_of(&cmd, "session").into(),
                    worker: cmd["worker"].clone(),
                };
                rt.block_on(measure(calls, in_flight, || top_call(http, &top)))
            }
            "wechatpay" => {
                let wp = Wechatpay::new(&cmd);
                rt.block_on(measure(calls, in_flight, || wechatpay_call(http, &wp)))
            }
            "sdk_wxa" => {
                // The SDK's own Rust API on the same runtime: what the core costs without a
                // foreign language around it.
                let (appid, base) = (str_of(&cmd, "appid"), str_of(&cmd, "base_url"));
                let key = format!("{}|{appid}|{base}", str_of(&cmd, "runtime"));
                let client = wxa_clients.entry(key).or_insert_with(|| {
                    let mut config = mendian::wxa::WxaConfig::new(appid);
                    config.options.base_url = Some(base.into());
                    config.options.backup_base_url = Some(String::new());
                    let provider =
                        mendian::wxa::wxa_stable_token_provider(appid.into(), str_of(&cmd, "secret").into(), Some(base.into()))
                            .expect("token provider");
                    mendian::wxa::WxaClient::new(config, provider, None).expect("client")
                });
                let (offset, limit) = (cmd["offset"].as_u64().unwrap_or(0), cmd["limit"].as_u64().unwrap_or(10));
                let stores = cmd["stores"].as_u64().expect("stores") as usize;
                let client = &*client;
                rt.block_on(measure(calls, in_flight, || async move {
                    let request = mendian::generated::wxa::GetStoreListRequest {
                        offset: offset.try_into().expect("offset"),
                        limit: limit.try_into().expect("limit"),
                    };
                    let page = client.get_store_list(request).await.expect("get_store_list");
                    assert_eq!(page.business_list.len(), stores);
                }))
            }
            "sdk_top" => {
                // The SDK's own `TopClient::worker_update` from Rust, as `sdk_wxa` for 门店小程序.
                let key = format!(
                    "{}|{}|{}|{}",
                    str_of(&cmd, "runtime"),
                    str_of(&cmd, "app_key"),
                    str_of(&cmd, "gateway"),
                    str_of(&cmd, "session")
                );
                let client = top_clients.entry(key).or_insert_with(|| {
                    let mut config = mendian::top::TopConfig::new(str_of(&cmd, "app_key"));
                    config.session = Some(str_of(&cmd, "session").into());
                    config.options.base_url = Some(str_of(&cmd, "gateway").into());
                    let signer = mendian::top::top_app_secret_signer(str_of(&cmd, "app_secret").into()).expect("signer");
                    mendian::top::TopClient::new(config, signer).expect("client")
                });
                let worker: mendian::top::WorkerDto = serde_json::from_value(cmd["worker"].clone()).expect("worker");
                let client = &*client;
                let worker = &worker;
                rt.block_on(measure(calls, in_flight, || async move {
                    let request = mendian::top::WorkerUpdateRequest { worker: Some(worker.clone()) };
                    let answer = client.worker_update(request, None).await.expect("worker_update");
                    assert_eq!(answer.result.and_then(|r| r.value), Some(true));
                }))
            }
            other => panic!("unknown op `{other}`"),
        };
        println!("{}", json!({ "cpu_us_per_call": cpu_us, "calls_per_s": rate }));
    }
}
