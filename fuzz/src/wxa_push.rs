//! The 门店小程序 push targets, through the public [`WxaPushReceiver`]:
//!
//! - [`wxa_push_xml`]: the push XML as mendian's strict reader and event decoding see it, in
//!   plain mode and through `wxa_parse_push`, and the plain URL verification's `echostr`;
//! - [`wxa_push_decrypt`]: safe mode, where the input becomes the decrypted bytes (the fuzzer
//!   controls the random prefix, length prefix, message, appid and padding), the message of a
//!   correctly encrypted push, or the outer envelope and `echostr` as received.
//!
//! Every push is correctly signed (the fuzzer cannot be expected to find SHA-1 preimages), so
//! the parsing and decryption behind the signature checks are what gets fuzzed.

use std::collections::HashMap;
use std::sync::{Arc, Once};

use mendian::crypto::{aes_256_cbc_in_place, b64};
use mendian::wxa::{wxa_parse_push, wxa_push_encrypt_with_random, wxa_push_signature, WxaPushConfig, WxaPushReceiver};
use mendian::MendianError;

use crate::fixtures::{WXA_APPID, WXA_KEY, WXA_KEY_BYTES, WXA_PREVIOUS_KEY, WXA_PREVIOUS_KEY_BYTES, WXA_TOKEN};
use crate::input::{selector, text};
use crate::Outcome;

const TIMESTAMP: &str = "1409304348";
const NONCE: &str = "xxxxxx";

/// A fresh receiver (its replay guard remembers nothing), with the timestamp window off so a
/// fixed timestamp is accepted; `keys` configures the current and previous EncodingAESKey.
fn receiver(keys: bool) -> Arc<WxaPushReceiver> {
    WxaPushReceiver::new(WxaPushConfig {
        token: WXA_TOKEN.into(),
        encoding_aes_key: keys.then(|| WXA_KEY.into()),
        previous_encoding_aes_key: keys.then(|| WXA_PREVIOUS_KEY.into()),
        appid: WXA_APPID.into(),
        max_timestamp_skew_seconds: 0,
        accept_plain_mode: false,
    })
    .expect("the receiver configuration is valid")
}

fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn plain_signature() -> String {
    wxa_push_signature(WXA_TOKEN.into(), TIMESTAMP.into(), NONCE.into(), None)
}

fn safe_query(encrypt: &str) -> HashMap<String, String> {
    let msg_signature = wxa_push_signature(WXA_TOKEN.into(), TIMESTAMP.into(), NONCE.into(), Some(encrypt.into()));
    query(&[
        ("signature", &plain_signature()),
        ("timestamp", TIMESTAMP),
        ("nonce", NONCE),
        ("encrypt_type", "aes"),
        ("msg_signature", &msg_signature),
    ])
}

fn envelope(encrypt: &str) -> String {
    format!("<xml><ToUserName><![CDATA[gh_4346ac1514d8]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
}

/// Plain-mode push XML: `wxa_parse_push` and a plain-mode `receive` of the same text must
/// agree (both or neither accept it, with the same event), and the plain URL verification must
/// echo the input only when it is a plausible `echostr`.
///
/// Input: the push XML (invalid UTF-8 replaced).
pub fn wxa_push_xml(data: &[u8]) -> Outcome {
    let xml = text(data);
    let parsed = wxa_parse_push(xml.clone());
    let q = query(&[("signature", &plain_signature()), ("timestamp", TIMESTAMP), ("nonce", NONCE)]);
    let received = receiver(false).receive(q.clone(), xml.clone());
    match (&parsed, &received) {
        (Ok(event), Ok(push)) => {
            assert_eq!(&push.event, event, "receive and wxa_parse_push decoded the same XML differently");
            assert_eq!(push.xml, xml, "receive changed the plain XML");
            assert!(!push.encrypted && !push.used_previous_key);
        }
        (Err(_), Err(_)) => {}
        _ => {
            panic!("wxa_parse_push and receive disagree: {:?} vs {:?}", parsed.as_ref().err(), received.as_ref().err())
        }
    }
    let mut q = q;
    q.insert("echostr".into(), xml.clone());
    if let Ok(echo) = receiver(false).verify_url(q) {
        assert_eq!(echo, xml, "the URL verification answered something else than the echostr");
        let plausible = echo.len() <= 128 && echo.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        assert!(plausible && !echo.is_empty(), "an implausible plain echostr was echoed");
    }
    Outcome::of(&received)
}

/// Safe-mode pushes. The selector byte picks the mode (`% 3`) and, for the first two, the key
/// (`/ 3 % 2`: 0 the current EncodingAESKey, 1 the previous one):
///
/// - 0, raw: the rest, cut to a multiple of 16 bytes, is the plaintext that AES-256-CBC
///   encrypts; mendian must then refuse it or return exactly the message its layout
///   (16 random bytes, big-endian length, message, appid, PKCS#7 to 32) holds, decrypted
///   with the key that encrypted it;
/// - 1, message: the rest is a message encrypted the official way (first 16 bytes the random
///   prefix); `receive` must accept it exactly when `wxa_parse_push` accepts the message;
/// - 2, envelope: the rest is the POST body as received, signed over the text inside its
///   first `<Encrypt><![CDATA[…]]>`, and also the encrypted `echostr` of a URL verification.
pub fn wxa_push_decrypt(data: &[u8]) -> Outcome {
    check_fixture_keys();
    let (sel, rest) = selector(data);
    let previous = (sel / 3) % 2 == 1;
    match sel % 3 {
        0 => raw(rest, previous),
        1 => message(rest, previous),
        _ => received_envelope(rest),
    }
}

fn raw(rest: &[u8], previous: bool) -> Outcome {
    let mut plaintext = rest[..rest.len() / 16 * 16].to_vec();
    if plaintext.is_empty() {
        return Outcome::Rejected;
    }
    let key = if previous { &WXA_PREVIOUS_KEY_BYTES } else { &WXA_KEY_BYTES };
    let iv: [u8; 16] = key[..16].try_into().expect("16 bytes");
    aes_256_cbc_in_place(key, &iv, &mut plaintext, true).expect("AES-256-CBC encrypts whole blocks");
    let encrypt = b64(&plaintext);
    let result = receiver(true).receive(safe_query(&encrypt), envelope(&encrypt));
    if let Ok(push) = &result {
        let message = expected_message(&rest[..rest.len() / 16 * 16])
            .unwrap_or_else(|why| panic!("mendian accepted a plaintext whose layout is invalid: {why}"));
        assert_eq!(push.xml.as_bytes(), message, "the decrypted message is not the one in the plaintext");
        assert!(push.encrypted);
        assert_eq!(push.used_previous_key, previous, "decrypted with the other key");
    }
    Outcome::of(&result)
}

/// The message in a decrypted plaintext by the documented layout, independently of mendian.
fn expected_message(plain: &[u8]) -> Result<&[u8], String> {
    let pad = *plain.last().ok_or("empty")? as usize;
    if !(1..=32).contains(&pad) || pad > plain.len() || plain[plain.len() - pad..].iter().any(|&b| b as usize != pad) {
        return Err("bad PKCS#7 padding".into());
    }
    let content = &plain[..plain.len() - pad];
    if content.len() < 20 {
        return Err("shorter than the random prefix and the length".into());
    }
    let len = u32::from_be_bytes(content[16..20].try_into().expect("4 bytes")) as usize;
    let after = &content[20..];
    if len > after.len() || &after[len..] != WXA_APPID.as_bytes() {
        return Err("the length or the appid does not match".into());
    }
    Ok(&after[..len])
}

fn message(rest: &[u8], previous: bool) -> Outcome {
    let random: Vec<u8> = rest.iter().copied().chain(std::iter::repeat(b'r')).take(16).collect();
    let message = text(rest.get(16..).unwrap_or_default());
    let key = if previous { WXA_PREVIOUS_KEY } else { WXA_KEY };
    let encrypt = wxa_push_encrypt_with_random(key.into(), WXA_APPID.into(), random, message.clone())
        .expect("encrypting a message with a valid key works");
    let result = receiver(true).receive(safe_query(&encrypt), envelope(&encrypt));
    let parsed = wxa_parse_push(message.clone());
    match (&result, &parsed) {
        (Ok(push), Ok(event)) => {
            assert_eq!(push.xml, message, "the decrypted message differs from the encrypted one");
            assert_eq!(&push.event, event);
            assert_eq!(push.used_previous_key, previous, "decrypted with the other key");
        }
        (Err(MendianError::Decode { .. }), Err(_)) => {}
        _ => panic!(
            "a correctly encrypted push and its plaintext disagree: {:?} vs {:?}",
            result.as_ref().err(),
            parsed.as_ref().err()
        ),
    }
    Outcome::of(&result)
}

fn received_envelope(rest: &[u8]) -> Outcome {
    let body = text(rest);
    let encrypt = body
        .split_once("<Encrypt><![CDATA[")
        .and_then(|(_, after)| after.split_once("]]>"))
        .map(|(inner, _)| inner.to_string())
        .unwrap_or_default();
    let result = receiver(true).receive(safe_query(&encrypt), body.clone());
    let mut q = safe_query(&body);
    q.remove("encrypt_type");
    q.insert("echostr".into(), body.clone());
    q.insert("msg_signature".into(), wxa_push_signature(WXA_TOKEN.into(), TIMESTAMP.into(), NONCE.into(), Some(body)));
    let _ = receiver(true).verify_url(q);
    Outcome::of(&result)
}

/// The harness encrypts with key bytes of its own; they must be the ones mendian derives from
/// the EncodingAESKeys, or the raw mode would fuzz nothing but padding errors.
fn check_fixture_keys() {
    static CHECKED: Once = Once::new();
    CHECKED.call_once(|| {
        for (key, bytes) in [(WXA_KEY, &WXA_KEY_BYTES), (WXA_PREVIOUS_KEY, &WXA_PREVIOUS_KEY_BYTES)] {
            let ours = {
                let mut buf = b"0123456789abcdef\0\0\0\0".to_vec();
                buf.extend_from_slice(WXA_APPID.as_bytes());
                let pad = 32 - buf.len() % 32;
                buf.resize(buf.len() + pad, pad as u8);
                let iv: [u8; 16] = bytes[..16].try_into().expect("16 bytes");
                aes_256_cbc_in_place(bytes, &iv, &mut buf, true).expect("encrypts");
                b64(&buf)
            };
            let theirs =
                wxa_push_encrypt_with_random(key.into(), WXA_APPID.into(), b"0123456789abcdef".to_vec(), String::new())
                    .expect("encrypts");
            assert_eq!(ours, theirs, "fixture key bytes do not match the EncodingAESKey {key}");
        }
    });
}
