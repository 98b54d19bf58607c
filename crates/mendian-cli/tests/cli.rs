//! The `mendian` binary as a user runs it: against the emulator on loopback for the commands
//! that call a platform, against the public known-answer vectors for push verification, and
//! with the usage errors and exit codes its help promises. Every run is also checked for
//! leaked secrets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use mendian::crypto::{b64, der};
use mendian_emulator::credentials::{wechatpay as wp, wxa};
use mendian_emulator::Emulator;
use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("mendian-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with a clean environment (no MENDIAN_* variables from the caller) plus
/// `env`, and checks that no secret reached its output.
fn mendian(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mendian"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MENDIAN_") {
            cmd.env_remove(k);
        }
    }
    let Output { status, stdout, stderr } = cmd.args(args).envs(env.iter().copied()).output().unwrap();
    let run = Run {
        code: status.code().unwrap(),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    };
    for secret in [wp::APIV3_KEY, "PRIVATE KEY-----", wxa::SECRET, wxa::PUSH_TOKEN, wxa::ENCODING_AES_KEY] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{args:?} printed a secret:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout))
}

#[test]
fn help_version_and_usage_errors() {
    let r = mendian(&["--help"], &[]);
    assert_eq!(r.code, 0);
    for cmd in [
        "endpoints",
        "describe-error",
        "validate",
        "wechatpay download-certificates",
        "wechatpay verify-notification",
        "wxa token",
        "wxa verify-push",
    ] {
        assert!(r.stdout.contains(cmd), "{cmd} missing from --help");
        let words: Vec<&str> = cmd.split(' ').chain(["--help"]).collect();
        let h = mendian(&words, &[]);
        assert_eq!(h.code, 0, "{cmd} --help");
        assert!(h.stdout.contains("Usage: mendian"), "{cmd} --help:\n{}", h.stdout);
    }
    assert_eq!(mendian(&["--version"], &[]).stdout, format!("mendian {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(mendian(&[], &[]).code, 2);
    let cases: [(&[&str], &str); 6] = [
        (&["frobnicate"], "unknown command `frobnicate`"),
        (&["wechatpay", "frobnicate"], "unknown command `wechatpay frobnicate`"),
        (&["endpoints", "--platform", "alipay"], "--platform must be wechatpay, wxa or top"),
        (&["validate", "add_store"], "missing <file>"),
        (&["validate", "no_such_endpoint", "-"], "no endpoint `no_such_endpoint`"),
        (&["wxa", "token", "--appid", "wx1", "--app-secret", "s3cr3t"], "--app-secret-file"),
    ];
    for (argv, want) in cases {
        let r = mendian(argv, &[]);
        assert_eq!(r.code, 2, "{argv:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{argv:?}: {}", r.stderr);
        assert!(!r.stderr.contains("s3cr3t"), "{}", r.stderr);
    }
}

#[test]
fn endpoints_and_error_codes_come_from_the_spec() {
    let all = json(&mendian(&["endpoints", "--json"], &[]));
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), mendian::catalog::endpoints().len());
    assert!(ids.contains(&"add_store") && ids.contains(&"worker_create") && ids.contains(&"update_guide"));
    let top = mendian(&["endpoints", "--platform", "top"], &[]);
    assert_eq!(top.code, 0);
    assert_eq!(top.stdout.lines().count(), 5, "{}", top.stdout);
    assert!(top.stdout.contains("tmall.servicecenter.worker.create  (never retried)"), "{}", top.stdout);

    let e = json(&mendian(&["describe-error", "update_guide", "PARAM_ERROR", "--json"], &[]));
    assert_eq!(e["http_status"], 400);
    assert_eq!(e["retryable"], false);
    let text = mendian(&["describe-error", "update_guide", "PARAM_ERROR"], &[]);
    assert!(text.stdout.starts_with("PARAM_ERROR (HTTP 400): "), "{}", text.stdout);
    let unknown = mendian(&["describe-error", "update_guide", "NO_SUCH_CODE"], &[]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("do not list code NO_SUCH_CODE"), "{}", unknown.stderr);
    let as_json = mendian(&["describe-error", "update_guide", "NO_SUCH_CODE", "--json"], &[]);
    assert_eq!(json(&as_json)["error"]["kind"], "Refused");
}

#[test]
fn validate_checks_what_the_client_checks() {
    let dir = Scratch::new("validate");
    let ok = dir.file("ok.json", r#"{"offset": 0, "limit": 10}"#);
    let r = mendian(&["validate", "get_store_list", &ok], &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "get_store_list: the request is valid\n"), "{}", r.stderr);
    let cases = [
        (r#"{"offset": 0, "limit": 51}"#, "limit"),
        (r#"{"offset": 0}"#, "limit"),
        (r#"{"offset": "zero", "limit": 10}"#, "offset"),
        (r#"{"offset": 0, "limit": 10, "limt": 1}"#, "limt"),
    ];
    for (body, field) in cases {
        let f = dir.file("bad.json", body);
        let r = mendian(&["validate", "get_store_list", &f, "--json"], &[]);
        assert_eq!(r.code, 1, "{body}: {}", r.stdout);
        let e = json(&r);
        assert_eq!(e["error"]["kind"], "InvalidArgument", "{body}");
        assert!(e["error"]["message"].as_str().unwrap().contains(&format!("`{field}`")), "{body}: {e}");
    }
    let not_json = dir.file("bad.json", "{");
    let r = mendian(&["validate", "get_store_list", &not_json], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not JSON"), "{}", r.stderr);
}

/// A running emulator with its own runtime (the binary runs as another process).
struct Emu {
    rt: tokio::runtime::Runtime,
    emu: Option<Emulator>,
}

impl Emu {
    fn start() -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let emu = rt.block_on(Emulator::start(Default::default())).unwrap();
        Emu { rt, emu: Some(emu) }
    }

    fn profile(&self) -> mendian_emulator::Profile {
        self.emu.as_ref().unwrap().profile()
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(e) = self.emu.take() {
            self.rt.block_on(e.stop());
        }
    }
}

fn merchant_env(dir: &Scratch) -> (Vec<(&'static str, String)>, String) {
    let key = dir.file("merchant.pem", wp::MERCHANT_PRIVATE_KEY);
    let apiv3 = dir.file("apiv3.txt", &format!("{}\n", wp::APIV3_KEY));
    (
        vec![
            ("MENDIAN_WECHATPAY_MCHID", wp::MCHID.to_string()),
            ("MENDIAN_WECHATPAY_MERCHANT_SERIAL_NO", wp::MERCHANT_SERIAL.to_string()),
        ],
        format!("{key}\n{apiv3}"),
    )
}

#[test]
fn wechatpay_certificates_are_downloaded_and_written() {
    let emu = Emu::start();
    let p = emu.profile();
    let dir = Scratch::new("certs");
    let (env, files) = merchant_env(&dir);
    let (key, apiv3) = files.split_once('\n').unwrap();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let base = ["--base-url", p.wechatpay_base_url.as_str(), "--private-key-file", key, "--apiv3-key-file", apiv3];

    let out = dir.0.join("certs");
    let mut args = vec!["wechatpay", "download-certificates", "--out", out.to_str().unwrap()];
    args.extend(base);
    let r = mendian(&args, &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("downloading the platform certificates"), "no progress shown: {}", r.stderr);
    assert!(r.stdout.contains(&format!("serial {}", p.wechatpay_platform_serial_no)), "{}", r.stdout);
    let pem = std::fs::read_to_string(out.join(format!("{}.pem", p.wechatpay_platform_serial_no))).unwrap();
    assert_eq!(
        pem,
        std::fs::read_to_string(vectors().join("wechatpay/keys/emulator_platform_certificate.pem")).unwrap()
    );

    let mut args = vec!["wechatpay", "download-certificates", "--json"];
    args.extend(base);
    let list = json(&mendian(&args, &env));
    assert_eq!(list[0]["serial_no"], p.wechatpay_platform_serial_no.as_str());
    assert!(list[0]["certificate_pem"].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));

    // A wrong APIv3 key cannot decrypt the list: refused (1), without printing either key.
    let wrong = dir.file("wrong.txt", "00000000000000000000000000000000");
    let mut args = vec![
        "wechatpay",
        "download-certificates",
        "--base-url",
        p.wechatpay_base_url.as_str(),
        "--private-key-file",
        key,
        "--apiv3-key-file",
        &wrong,
    ];
    args.push("--json");
    let r = mendian(&args, &env);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(!r.stdout.contains("0000000000000000"), "{}", r.stdout);
    // Missing merchant: a usage error naming the option and its variable.
    let r = mendian(&["wechatpay", "download-certificates", "--apiv3-key-file", apiv3], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--mchid is required (or set MENDIAN_WECHATPAY_MCHID)"), "{}", r.stderr);
    // Nothing listens: the network failed (3).
    let mut args =
        vec!["wechatpay", "download-certificates", "--base-url", "http://127.0.0.1:9", "--timeout-ms", "2000"];
    args.extend(&base[2..]);
    assert_eq!(mendian(&args, &env).code, 3);
}

/// A notification as WeChat Pay sends it, signed with the platform test key at `timestamp`
/// under `serial`: (headers as `Name: value` lines, body).
fn notification(timestamp: u64, serial: &str) -> (String, String) {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, wp::APIV3_KEY.as_bytes()).unwrap());
    let mut buf = br#"{"guide_id":"LLA3WJ6DSZUfiaZDS79FH5Wm5m4X69TBic","store_id":1234567}"#.to_vec();
    key.seal_in_place_append_tag(
        Nonce::try_assume_unique_for_key(b"0123456789ab").unwrap(),
        Aad::from(b"guide"),
        &mut buf,
    )
    .unwrap();
    let body = serde_json::json!({
        "id": "EV-2026120400000001", "create_time": "2026-12-04T12:00:00+08:00", "resource_type": "encrypt-resource",
        "event_type": "GUIDE.UPDATED", "summary": "导购更新",
        "resource": { "original_type": "guide", "algorithm": "AEAD_AES_256_GCM", "ciphertext": b64(&buf), "associated_data": "guide", "nonce": "0123456789ab" }
    })
    .to_string();
    let pem = std::fs::read_to_string(vectors().join("wechatpay/keys/wechat_pay_private_key.pem")).unwrap();
    let signer = RsaKeyPair::from_pkcs8(&der::private_key_pkcs8(&pem).unwrap()).unwrap();
    let mut sig = vec![0u8; signer.public_modulus_len()];
    let msg = format!("{timestamp}\nnonce-cli\n{body}\n");
    signer.sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), msg.as_bytes(), &mut sig).unwrap();
    let headers = format!(
        "POST /notify HTTP/1.1\r\nWechatpay-Timestamp: {timestamp}\r\nWechatpay-Nonce: nonce-cli\r\nWechatpay-Signature: {}\r\nWechatpay-Serial: {serial}\r\nContent-Type: application/json\r\n",
        b64(&sig)
    );
    (headers, body)
}

#[test]
fn wechatpay_notifications_are_verified_and_decrypted() {
    let emu = Emu::start();
    let p = emu.profile();
    let dir = Scratch::new("notify");
    let (env, files) = merchant_env(&dir);
    let (key, apiv3) = files.split_once('\n').unwrap();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let public_key = dir.file("wechatpay_public_key.pem", wp::PUBLIC_KEY);

    // Public-key mode: no download, no merchant key needed.
    let (h, b) = notification(now, wp::PUBLIC_KEY_ID);
    let (hf, bf) = (dir.file("h.txt", &h), dir.file("b.json", &b));
    let args = [
        "wechatpay",
        "verify-notification",
        "--headers",
        &hf,
        "--body",
        &bf,
        "--apiv3-key-file",
        apiv3,
        "--public-key-id",
        wp::PUBLIC_KEY_ID,
        "--public-key-file",
        &public_key,
        "--json",
    ];
    let r = mendian(&args, &env);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let n = json(&r);
    assert_eq!(n["event_type"], "GUIDE.UPDATED");
    assert_eq!(n["resource"]["store_id"], 1234567);

    // Certificate mode: the platform certificates are downloaded from the emulator.
    let (h, b) = notification(now, &p.wechatpay_platform_serial_no);
    let (hf, bf) = (dir.file("h.txt", &h), dir.file("b.json", &b));
    let args = [
        "wechatpay",
        "verify-notification",
        "--headers",
        &hf,
        "--body",
        &bf,
        "--base-url",
        &p.wechatpay_base_url,
        "--private-key-file",
        key,
        "--apiv3-key-file",
        apiv3,
    ];
    let r = mendian(&args, &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("verified: GUIDE.UPDATED"), "{}", r.stdout);

    // An old notification: refused as a replay, accepted with --saved.
    let (h, b) = notification(now - 3600, wp::PUBLIC_KEY_ID);
    let (hf, bf) = (dir.file("h.txt", &h), dir.file("b.json", &b));
    let mut args = vec![
        "wechatpay",
        "verify-notification",
        "--headers",
        &hf,
        "--body",
        &bf,
        "--apiv3-key-file",
        apiv3,
        "--public-key-id",
        wp::PUBLIC_KEY_ID,
        "--public-key-file",
        &public_key,
    ];
    let r = mendian(&args, &env);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Signature") && r.stderr.contains("5 minutes"), "{}", r.stderr);
    args.push("--saved");
    assert_eq!(mendian(&args, &env).code, 0);

    // A tampered body: the signature does not verify.
    let bf = dir.file("b.json", &b.replace("1234567", "7654321"));
    args[5] = &bf;
    let r = mendian(&args, &env);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("does not verify"), "{}", r.stderr);
}

#[test]
fn wxa_tokens_are_fetched_through_the_provider() {
    let emu = Emu::start();
    let p = emu.profile();
    let dir = Scratch::new("token");
    let secret = dir.file("secret.txt", &format!("{}\n", wxa::SECRET));
    let r = mendian(
        &["wxa", "token", "--appid", wxa::APPID, "--app-secret-file", &secret, "--base-url", &p.wxa_base_url, "--json"],
        &[],
    );
    // The token itself is the command's output: the secret check above does not cover it.
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = json(&r);
    assert!(t["expires_in"].as_u64().unwrap() > 0);
    let token = t["access_token"].as_str().unwrap();
    assert!(!token.is_empty());
    let plain = mendian(
        &["wxa", "token", "--base-url", &p.wxa_base_url, "--classic"],
        &[("MENDIAN_WXA_APPID", wxa::APPID), ("MENDIAN_WXA_APP_SECRET", wxa::SECRET)],
    );
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(plain.stdout.lines().count(), 1);
    assert!(plain.stderr.contains("cgi-bin/token") && plain.stderr.contains("valid for"), "{}", plain.stderr);
    // A wrong secret: WeChat answers an error code (the platform refused: 3).
    let wrong = dir.file("wrong.txt", "not-the-secret");
    let r = mendian(
        &["wxa", "token", "--appid", wxa::APPID, "--app-secret-file", &wrong, "--base-url", &p.wxa_base_url, "--json"],
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(json(&r)["error"]["kind"], "Api");
    assert!(!r.stdout.contains("not-the-secret"));
}

#[test]
fn wxa_pushes_verify_against_the_official_vectors() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("wechat_message_crypto.json")).unwrap()).unwrap();
    let dir = Scratch::new("push");

    let u = &v["url_verification"][0];
    let token = dir.file("token", u["token"].as_str().unwrap());
    let aes = dir.file("aes", u["encoding_aes_key"].as_str().unwrap());
    let url = format!("https://shop.example/wx?{}", u["query"].as_str().unwrap());
    let r = mendian(
        &[
            "wxa",
            "verify-push",
            "--appid",
            u["receive_id"].as_str().unwrap(),
            "--push-token-file",
            &token,
            "--encoding-aes-key-file",
            &aes,
            "--query",
            &url,
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), u["echostr_plaintext"].as_str().unwrap());

    let m = &v["decrypt_message"][0];
    let token = dir.file("token", m["token"].as_str().unwrap());
    let aes = dir.file("aes", m["encoding_aes_key"].as_str().unwrap());
    let body = dir.file("body.xml", m["body"].as_str().unwrap());
    let query = format!(
        "timestamp={}&nonce={}&encrypt_type=aes&msg_signature={}",
        m["timestamp"].as_str().unwrap(),
        m["nonce"].as_str().unwrap(),
        m["msg_signature"].as_str().unwrap()
    );
    let qf = dir.file("query.txt", &query);
    let args = [
        "wxa",
        "verify-push",
        "--appid",
        m["appid"].as_str().unwrap(),
        "--push-token-file",
        &token,
        "--encoding-aes-key-file",
        &aes,
        "--query-file",
        &qf,
        "--body",
        &body,
        "--json",
    ];
    let r = mendian(&args, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let push = json(&r);
    assert_eq!(push["encrypted"], true);
    assert_eq!(push["xml"], m["plaintext"]);
    assert_eq!(push["fields"]["Content"], "abcdteT");

    // The timestamp window on request; a wrong token fails the signature.
    let mut skewed = args.to_vec();
    skewed.extend(["--max-skew", "300"]);
    assert_eq!(mendian(&skewed, &[]).code, 1);
    let wrong = dir.file("wrong", "not-the-token");
    let mut bad = args.to_vec();
    bad[5] = &wrong;
    let r = mendian(&bad, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(json(&r)["error"]["kind"], "Signature");
}
