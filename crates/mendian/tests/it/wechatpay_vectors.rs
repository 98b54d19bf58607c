//! WeChat Pay crypto against public known answers (`tests/vectors/wechatpay.json`, from the
//! official SDKs' test suites): request signatures, response verification, AES-GCM,
//! platform-certificate download decryption and RSA-OAEP (SHA-1) decryption.

use std::path::PathBuf;

use mendian::crypto::{aes_gcm_decrypt, b64, b64_decode, certificate_from_pem, RsaPrivateKey, RsaPublicKey};
use serde_json::Value;

fn dir() -> PathBuf {
    crate::common::vectors_dir()
}

fn vectors() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("wechatpay.json")).unwrap()).unwrap()
}

fn file(rel: &str) -> String {
    std::fs::read_to_string(dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn rsa_sha256_signatures_match() {
    for v in vectors()["rsa_sha256_pkcs1v15_sign"].as_array().unwrap() {
        let key = RsaPrivateKey::from_pem(&file(v["private_key"].as_str().unwrap())).unwrap();
        let sig = key.sign_sha256(v["message"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(b64(&sig), v["signature_base64"].as_str().unwrap(), "{}", v["source"]);
    }
}

#[test]
fn pkcs1_and_pkcs8_keys_are_the_same_key() {
    let pkcs8 = RsaPrivateKey::from_pem(&file("wechatpay/keys/merchant_private_key.pem")).unwrap();
    let pkcs1 = RsaPrivateKey::from_pem(&file("wechatpay/keys/merchant_private_key_pkcs1.pem")).unwrap();
    assert_eq!(pkcs8.sign_sha256(b"message").unwrap(), pkcs1.sign_sha256(b"message").unwrap());
    assert!(format!("{pkcs1:?}").contains("redacted"));
    let err = RsaPrivateKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").unwrap_err();
    assert!(err.to_string().contains("BEGIN PRIVATE KEY"), "{err}");
}

#[test]
fn response_signature_verifies_and_tampering_fails() {
    for v in vectors()["response_verify"].as_array().unwrap() {
        let (serial, key) = certificate_from_pem(&file(v["certificate"].as_str().unwrap())).unwrap();
        assert_eq!(serial, v["wechatpay_serial"].as_str().unwrap());
        let msg = format!(
            "{}\n{}\n{}\n",
            v["wechatpay_timestamp"].as_str().unwrap(),
            v["wechatpay_nonce"].as_str().unwrap(),
            v["body"].as_str().unwrap()
        );
        let sig = b64_decode(v["wechatpay_signature"].as_str().unwrap()).unwrap();
        assert!(key.verify_sha256(msg.as_bytes(), &sig));
        assert!(!key.verify_sha256(msg.replace("签约成功", "签约失败").as_bytes(), &sig));
    }
}

#[test]
fn aes_gcm_vectors() {
    for v in vectors()["aes_gcm"].as_array().unwrap() {
        let pt = aes_gcm_decrypt(
            v["key_utf8"].as_str().unwrap().as_bytes(),
            v["nonce_utf8"].as_str().unwrap().as_bytes(),
            v["associated_data"].as_str().unwrap().as_bytes(),
            &b64_decode(v["ciphertext_base64"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(String::from_utf8(pt).unwrap(), v["plaintext"].as_str().unwrap());
    }
}

#[test]
fn downloaded_platform_certificate_decrypts() {
    let v = &vectors()["certificate_download"];
    let body: Value = serde_json::from_str(v["response_body"].as_str().unwrap()).unwrap();
    let item = &body["data"][0];
    let enc = &item["encrypt_certificate"];
    let pem = aes_gcm_decrypt(
        v["apiv3_key_utf8"].as_str().unwrap().as_bytes(),
        enc["nonce"].as_str().unwrap().as_bytes(),
        enc["associated_data"].as_str().unwrap().as_bytes(),
        &b64_decode(enc["ciphertext"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let pem = String::from_utf8(pem).unwrap();
    let (serial, _) = certificate_from_pem(&pem).unwrap();
    assert_eq!(serial, v["expected_serial_no"].as_str().unwrap());
    let expected = file(v["expected_certificate"].as_str().unwrap());
    assert_eq!(pem.trim(), expected.trim());
}

#[test]
fn oaep_sha1_decrypts_and_round_trips() {
    for v in vectors()["oaep_sha1_decrypt"].as_array().unwrap() {
        let key = RsaPrivateKey::from_pem(&file(v["private_key"].as_str().unwrap())).unwrap();
        let pt = key.decrypt_oaep_sha1(&b64_decode(v["ciphertext_base64"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(String::from_utf8(pt).unwrap(), v["plaintext"].as_str().unwrap());
    }
    // Encrypt with the platform public key, decrypt with the platform private key.
    let public = RsaPublicKey::from_pem(&file("wechatpay/keys/wechat_pay_public_key.pem")).unwrap();
    let private = RsaPrivateKey::from_pem(&file("wechatpay/keys/wechat_pay_private_key.pem")).unwrap();
    let ct = public.encrypt_oaep_sha1("13900000000".as_bytes()).unwrap();
    assert_eq!(ct.len(), 256);
    assert_eq!(private.decrypt_oaep_sha1(&ct).unwrap(), b"13900000000");
    assert!(public.encrypt_oaep_sha1(&[b'a'; 215]).is_err(), "215 bytes exceed the 214-byte OAEP-SHA1 limit");
    assert!(public.encrypt_oaep_sha1(&[b'a'; 214]).is_ok());
    // The certificate and the public key file are the same key.
    let (serial, from_cert) = certificate_from_pem(&file("wechatpay/keys/wechat_pay_certificate.pem")).unwrap();
    assert_eq!(serial, "440024045C4A427599D09BB4E3DE0279F2E813FD");
    assert_eq!(from_cert.spki(), public.spki());
    assert_eq!(private.public_key_spki(), public.spki());
}
