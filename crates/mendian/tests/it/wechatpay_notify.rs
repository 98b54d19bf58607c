//! APIv3 notifications: verified over the raw body with the key named by Wechatpay-Serial,
//! then decrypted with the APIv3 key (AES-256-GCM). The notification here is built with the
//! platform test key, as WeChat Pay would send it.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use mendian::crypto::{b64, der};
use mendian::wechatpay::{wechatpay_pem_signer, WechatpayClient, WechatpayConfig};
use mendian::MendianError;

use crate::common::credentials::wechatpay::{APIV3_KEY, PUBLIC_KEY_ID as KEY_ID};
use crate::common::vector_text;

fn keys(name: &str) -> String {
    vector_text(&format!("wechatpay/keys/{name}"))
}

fn client() -> Arc<WechatpayClient> {
    let mut c = WechatpayConfig::new("1234567891", "5F1C72E2A8931B72A2E13AF8DEE92471EB397115");
    c.apiv3_key = Some(APIV3_KEY.into());
    c.wechatpay_public_key_id = Some(KEY_ID.into());
    c.wechatpay_public_key_pem = Some(keys("wechat_pay_public_key.pem"));
    WechatpayClient::new(c, wechatpay_pem_signer(keys("merchant_private_key.pem")).unwrap()).unwrap()
}

fn notification(plaintext: &str, signature_prefix: &str) -> (HashMap<String, String>, String) {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, APIV3_KEY.as_bytes()).unwrap());
    let mut buf = plaintext.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::try_assume_unique_for_key(b"fdasflkjasdf").unwrap(),
        Aad::from(b"transaction"),
        &mut buf,
    )
    .unwrap();
    let body = serde_json::json!({
        "id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00", "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": { "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM", "ciphertext": b64(&buf), "associated_data": "transaction", "nonce": "fdasflkjasdf" }
    })
    .to_string();
    let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let signer = RsaKeyPair::from_pkcs8(&der::private_key_pkcs8(&keys("wechat_pay_private_key.pem")).unwrap()).unwrap();
    let mut sig = vec![0u8; signer.public_modulus_len()];
    let msg = format!("{ts}\nnonce123\n{body}\n");
    signer.sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), msg.as_bytes(), &mut sig).unwrap();
    let headers = HashMap::from([
        ("Wechatpay-Timestamp".to_string(), ts),
        ("Wechatpay-Nonce".to_string(), "nonce123".to_string()),
        ("Wechatpay-Signature".to_string(), format!("{signature_prefix}{}", b64(&sig))),
        ("Wechatpay-Serial".to_string(), KEY_ID.to_string()),
        ("Wechatpay-Signature-Type".to_string(), "WECHATPAY2-SHA256-RSA2048".to_string()),
    ]);
    (headers, body)
}

#[tokio::test]
async fn a_signed_notification_is_verified_and_decrypted() {
    let (headers, body) = notification(r#"{"mchid":"1234567891","out_trade_no":"1217752501201407033233368018"}"#, "");
    let n = client().verify_notification(headers, body).await.unwrap();
    assert_eq!(n.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(n.summary, "支付成功");
    assert_eq!(n.original_type, "transaction");
    assert!(n.plaintext.contains("1217752501201407033233368018"));
}

#[tokio::test]
async fn tampered_or_probe_notifications_are_rejected() {
    let (headers, body) = notification("{}", "");
    let e = client().verify_notification(headers.clone(), body.replace("支付成功", "支付失败")).await.unwrap_err();
    assert!(matches!(e, MendianError::Signature { .. }), "{e:?}");
    let (headers, body) = notification("{}", "WECHATPAY/SIGNTEST/");
    let e = client().verify_notification(headers, body).await.unwrap_err();
    assert!(e.to_string().contains("SIGNTEST"), "{e}");
    let (mut headers, body) = notification("{}", "");
    headers.insert("Wechatpay-Serial".into(), "PUB_KEY_ID_99999999999999999999999999999999".into());
    assert!(client().verify_notification(headers, body).await.is_err());
}

#[tokio::test]
async fn the_go_sdk_vector_verifies_with_an_injected_clock() {
    let v: serde_json::Value = serde_json::from_str(&vector_text("wechatpay.json")).unwrap();
    let n = &v["response_verify"][0];
    // Trust the Go test certificate's key as if it were the configured public key.
    let (_, key) = mendian::crypto::certificate_from_pem(&keys("go_test_certificate.pem")).unwrap();
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", b64(key.spki()));
    let mut c = WechatpayConfig::new("1234567891", "5F1C72E2A8931B72A2E13AF8DEE92471EB397115");
    c.wechatpay_public_key_id = Some("PUB_KEY_ID_00000000000000000000000000000000".into());
    c.wechatpay_public_key_pem = Some(pem);
    let ts: i64 = n["wechatpay_timestamp"].as_str().unwrap().parse().unwrap();
    let wx = WechatpayClient::new(c, wechatpay_pem_signer(keys("merchant_private_key.pem")).unwrap())
        .unwrap()
        .set_clock(Arc::new(move || ts + 10));
    let headers = HashMap::from([
        ("wechatpay-timestamp".to_string(), n["wechatpay_timestamp"].as_str().unwrap().to_string()),
        ("wechatpay-nonce".to_string(), n["wechatpay_nonce"].as_str().unwrap().to_string()),
        ("wechatpay-signature".to_string(), n["wechatpay_signature"].as_str().unwrap().to_string()),
        ("wechatpay-serial".to_string(), "PUB_KEY_ID_00000000000000000000000000000000".to_string()),
    ]);
    // The signature verifies; decryption then needs the APIv3 key, which this client lacks.
    let e = wx.verify_notification(headers, n["body"].as_str().unwrap().to_string()).await.unwrap_err();
    assert!(matches!(e, MendianError::Credentials { .. }), "verified, then stopped for the missing APIv3 key: {e:?}");
}
