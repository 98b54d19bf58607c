//! WeChat Pay notifications, through `WechatpayClient::verify_notification`: the signature
//! headers, the JSON body and the AES-256-GCM resource. `Wechatpay-Serial` always names the
//! configured public key: an unknown serial makes the client download platform certificates,
//! which is network, not parsing.

use std::collections::HashMap;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use mendian::crypto::b64;
use mendian::MendianError;

use crate::block_on::block_on;
use crate::fixtures::{sign_answer, wechatpay_client, APIV3_KEY, NOW, PUBLIC_KEY_ID};
use crate::input::{fields, selector, text};
use crate::Outcome;

const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";

fn headers(timestamp: String, nonce: String, signature: String) -> HashMap<String, String> {
    HashMap::from([
        ("Wechatpay-Timestamp".to_string(), timestamp),
        ("Wechatpay-Nonce".to_string(), nonce),
        ("Wechatpay-Signature".to_string(), signature),
        ("Wechatpay-Serial".to_string(), PUBLIC_KEY_ID.to_string()),
        ("Wechatpay-Signature-Type".to_string(), "WECHATPAY2-SHA256-RSA2048".to_string()),
    ])
}

fn signed(body: &str) -> HashMap<String, String> {
    headers(NOW.to_string(), NONCE.into(), sign_answer(&NOW.to_string(), NONCE, body.as_bytes()))
}

/// Notifications. The selector byte picks (`% 4`):
///
/// - 0, resource: lines `associated_data`, `nonce`, then the plaintext, which the harness
///   encrypts with the APIv3 key into a correctly signed notification; it must decrypt to
///   exactly that plaintext when it is UTF-8, and fail to decode otherwise;
/// - 1, body: the rest is the body, correctly signed: it may fail to decode or decrypt,
///   never to verify;
/// - 2, tampered: the rest is the body, signed and then changed: it must fail to verify;
/// - 3, headers: lines `Wechatpay-Timestamp`, `-Nonce`, `-Signature`, then the body: it
///   must fail to verify (nothing in the input can carry a valid signature).
pub fn wechatpay_notification(data: &[u8]) -> Outcome {
    let (sel, rest) = selector(data);
    let client = wechatpay_client();
    match sel % 4 {
        0 => {
            let f = fields(rest, 3);
            let (aad, nonce, plaintext) = (text(f[0]), text(f[1]), f[2]);
            let Ok(nonce_bytes) = <[u8; 12]>::try_from(nonce.as_bytes()) else {
                return Outcome::Rejected;
            };
            let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, APIV3_KEY.as_bytes()).expect("32-byte key"));
            let mut ct = plaintext.to_vec();
            key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(aad.as_bytes()), &mut ct)
                .expect("sealing works");
            let body = serde_json::json!({
                "id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00",
                "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
                "resource": { "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": b64(&ct), "associated_data": aad, "nonce": nonce }
            })
            .to_string();
            let result = block_on(client.verify_notification(signed(&body), body));
            match (&result, std::str::from_utf8(plaintext)) {
                (Ok(n), Ok(expected)) => assert_eq!(n.plaintext, expected, "decrypted to another plaintext"),
                (Err(MendianError::Decode { .. }), Err(_)) => {}
                (r, p) => panic!("resource {p:?} gave {:?}", r.as_ref().err()),
            }
            Outcome::of(&result)
        }
        1 => {
            let body = text(rest);
            let result = block_on(client.verify_notification(signed(&body), body));
            if let Err(MendianError::Signature { reason }) = &result {
                panic!("a correctly signed notification failed verification: {reason}");
            }
            Outcome::of(&result)
        }
        2 => {
            let body = text(rest);
            let result = block_on(client.verify_notification(signed(&body), format!("{body} ")));
            assert!(
                matches!(result, Err(MendianError::Signature { .. })),
                "a tampered notification was not refused: {result:?}"
            );
            Outcome::of(&result)
        }
        _ => {
            let f = fields(rest, 4);
            let body = text(f[3]);
            let result = block_on(client.verify_notification(headers(text(f[0]), text(f[1]), text(f[2])), body));
            assert!(
                matches!(result, Err(MendianError::Signature { .. })),
                "unsigned headers were accepted: {result:?}"
            );
            Outcome::of(&result)
        }
    }
}
