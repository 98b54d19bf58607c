//! `cargo xtask bench`: client CPU per WeChat Pay request with no network, next to the raw
//! aws-lc-rs crypto the request cannot avoid. Rounds interleave the three measurements so a
//! noisy machine disturbs them alike; the report gives medians and ratios from one run.
//!
//! - floor: RSA-2048 SHA256 sign of a request-sized message + verify of a response signature
//!   (aws-lc-rs, keys parsed once);
//! - floor + OAEP: the same plus the two RSA-OAEP encryptions of `name` and `mobile`;
//! - SDK: `build_signed_request(RegisterGuideRequest)` (validate, encrypt both sensitive
//!   fields, lay out and serialize the body, sign through the signer trait) +
//!   `read_response` of a signed answer (verify the signature, decode the record).

use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1};
use aws_lc_rs::signature::{ParsedPublicKey, RsaKeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use mendian::crypto::{b64, der, RsaPublicKey};
use mendian::transport::HttpResponse;
use mendian::wechatpay::{wechatpay_pem_signer, RegisterGuideRequest, WechatpayClient, WechatpayConfig};

const KEY_ID: &str = "PUB_KEY_ID_01123456789020241124000000000001";

fn key(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../tests/vectors/wechatpay/keys/{name}", env!("CARGO_MANIFEST_DIR"))).expect("test key")
}

/// One raw aws-lc-rs RSA-OAEP (SHA-1) encryption with a key parsed once, whatever backend
/// the SDK uses.
fn raw_oaep(key: &OaepPublicEncryptingKey, pt: &[u8]) {
    let mut out = vec![0u8; key.ciphertext_size()];
    key.encrypt(&OAEP_SHA1_MGF1SHA1, pt, &mut out, None).unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn request() -> RegisterGuideRequest {
    RegisterGuideRequest {
        sub_mchid: None,
        corpid: "ww1234567890abcdef".into(),
        store_id: 1234567,
        userid: "robert".into(),
        name: "张三".into(),
        mobile: "13900000000".into(),
        qr_code: "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx".into(),
        avatar: "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0".into(),
        group_qrcode: None,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let iterations: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(400);
    let rounds = 7;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let merchant = RsaKeyPair::from_pkcs8(&der::private_key_pkcs8(&key("merchant_private_key.pem")).unwrap()).unwrap();
    let platform = RsaKeyPair::from_pkcs8(&der::private_key_pkcs8(&key("wechat_pay_private_key.pem")).unwrap()).unwrap();
    let platform_public = RsaPublicKey::from_pem(&key("wechat_pay_public_key.pem")).unwrap();
    let platform_pkcs1 = der::spki_rsa_public_key(platform_public.spki()).unwrap();
    let platform_oaep = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(platform_public.spki()).unwrap()).unwrap();

    // A signed answer to replay: what the platform would send for register.
    let ts = 1_732_406_400i64;
    let body = br#"{"guide_id":"LLA3WJ6DSZUfiaZDS79FH5Wm5m4X69TBic"}"#.to_vec();
    let mut msg = format!("{ts}\nd824f2e086d3c1df967785d13fcd22ef\n").into_bytes();
    msg.extend_from_slice(&body);
    msg.push(b'\n');
    let mut sig = vec![0u8; platform.public_modulus_len()];
    platform.sign(&RSA_PKCS1_SHA256, &rng, &msg, &mut sig).unwrap();
    let response = HttpResponse {
        status: 200,
        headers: vec![
            ("wechatpay-timestamp".into(), ts.to_string()),
            ("wechatpay-nonce".into(), "d824f2e086d3c1df967785d13fcd22ef".into()),
            ("wechatpay-signature".into(), b64(&sig)),
            ("wechatpay-serial".into(), KEY_ID.into()),
        ],
        body,
    };

    let mut config = WechatpayConfig::new("1234567891", "5F1C72E2A8931B72A2E13AF8DEE92471EB397115");
    config.wechatpay_public_key_id = Some(KEY_ID.into());
    config.wechatpay_public_key_pem = Some(key("wechat_pay_public_key.pem"));
    let client = WechatpayClient::new(config, wechatpay_pem_signer(key("merchant_private_key.pem")).unwrap()).unwrap().set_clock(Arc::new(move || ts));
    let req = request();

    // A request-sized signing string for the floor.
    let (_, signed_sample) = client.build_signed_request(&req).await.unwrap();
    let verifier = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &platform_pkcs1).unwrap();

    let (mut floor, mut floor_oaep, mut sdk) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..iterations {
            let mut s = vec![0u8; merchant.public_modulus_len()];
            merchant.sign(&RSA_PKCS1_SHA256, &rng, signed_sample.as_bytes(), &mut s).unwrap();
            verifier.verify_sig(&msg, &sig).unwrap();
        }
        floor.push(t.elapsed().as_secs_f64() * 1e6 / iterations as f64);

        let t = Instant::now();
        for _ in 0..iterations {
            let mut s = vec![0u8; merchant.public_modulus_len()];
            merchant.sign(&RSA_PKCS1_SHA256, &rng, signed_sample.as_bytes(), &mut s).unwrap();
            verifier.verify_sig(&msg, &sig).unwrap();
            raw_oaep(&platform_oaep, "张三".as_bytes());
            raw_oaep(&platform_oaep, b"13900000000");
        }
        floor_oaep.push(t.elapsed().as_secs_f64() * 1e6 / iterations as f64);

        let t = Instant::now();
        for _ in 0..iterations {
            let (_, signed) = client.build_signed_request(&req).await.unwrap();
            let answer = client.read_response::<RegisterGuideRequest>(&response, &signed).await.unwrap();
            std::hint::black_box(answer);
        }
        sdk.push(t.elapsed().as_secs_f64() * 1e6 / iterations as f64);
    }
    let (f, fo, s) = (median(floor), median(floor_oaep), median(sdk));
    println!("WeChat Pay client CPU per request, no network ({rounds} rounds × {iterations} iterations, medians; SDK RSA backend: {})", mendian::crypto::RSA_BACKEND);
    println!("  raw aws-lc-rs sign + verify                 {f:8.1} µs   1.00×");
    println!("  raw sign + verify + 2 × OAEP encrypt         {fo:8.1} µs   {:.2}×", fo / f);
    println!("  mendian build_signed_request + read_response {s:8.1} µs   {:.2}×", s / f);
    println!("  SDK overhead over the crypto it must do: {:+.1}%", (s / fo - 1.0) * 100.0);
}
