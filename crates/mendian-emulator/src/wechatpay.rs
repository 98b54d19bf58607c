//! The WeChat Pay APIv3 side: checks `Accept`/`User-Agent`, parses `Authorization`,
//! verifies the merchant's signature over `METHOD\nURI\nTIMESTAMP\nNONCE\nBODY\n` within the
//! 5-minute window, decrypts sensitive fields with the platform private key, keeps guides per
//! store, serves `/v3/certificates` encrypted with the APIv3 key, and signs every success
//! with the key the request's `Wechatpay-Serial` asks for.
//!
//! Signing strings, RSA signatures and verification, RSA-OAEP field crypto and the AES-GCM of
//! `/v3/certificates` are composed here from the protocol text, independently of the SDK on
//! purpose and never shared with it (see the crate doc).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1};
use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::credentials::wechatpay::{
    APIV3_KEY, MCHID, MERCHANT_PRIVATE_KEY, MERCHANT_SERIAL, PLATFORM_SERIAL, PUBLIC_KEY_ID, STORES,
};
use crate::platforms::{Call, PlatformHandler, Reply};
use crate::state::{FaultKind, Shared};

/// The emulator's own platform certificate for the platform key pair, valid 2025–2124 (made by
/// `tests/vectors/wechatpay/make_emulator_certificate.py`; the official SDKs' test
/// certificate for this key expired in 2025).
const PLATFORM_CERT: &str = include_str!("../../../tests/vectors/wechatpay/keys/emulator_platform_certificate.pem");
/// The official SDKs' test certificate for the same key pair, expired since 2025-05-09,
/// served under the `wechatpay_expired_certificate` fault.
const EXPIRED_PLATFORM_CERT: &str = include_str!("../../../tests/vectors/wechatpay/keys/wechat_pay_certificate.pem");
const EXPIRED_PLATFORM_SERIAL: &str = "440024045C4A427599D09BB4E3DE0279F2E813FD";
const PLATFORM_PRIVATE_KEY: &str = include_str!("../../../tests/vectors/wechatpay/keys/wechat_pay_private_key.pem");

/// A guide as stored (plaintext name and mobile).
#[derive(Debug, Clone)]
pub(crate) struct Guide {
    pub store_id: i64,
    pub sub_mchid: Option<String>,
    pub fields: Map<String, Value>,
}

fn pem_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>().split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).expect("embedded PEM is valid")
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n.div_ceil(2)];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    b.iter().map(|x| format!("{x:02x}")).collect::<String>()[..n].to_string()
}

fn random_alnum(n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut b = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    b.iter().map(|x| A[*x as usize % A.len()] as char).collect()
}

struct Keys {
    merchant: RsaKeyPair,
    merchant_encrypt: OaepPublicEncryptingKey,
    platform: RsaKeyPair,
    platform_decrypt: OaepPrivateDecryptingKey,
}

fn keys() -> &'static Keys {
    static KEYS: std::sync::OnceLock<Keys> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let m = pem_der(MERCHANT_PRIVATE_KEY);
        let p = pem_der(PLATFORM_PRIVATE_KEY);
        let merchant_dec = PrivateDecryptingKey::from_pkcs8(&m).expect("merchant key");
        let spki = AsDer::<PublicKeyX509Der>::as_der(&merchant_dec.public_key()).expect("spki");
        Keys {
            merchant: RsaKeyPair::from_pkcs8(&m).expect("merchant key"),
            merchant_encrypt: OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(spki.as_ref()).expect("spki")).expect("oaep"),
            platform: RsaKeyPair::from_pkcs8(&p).expect("platform key"),
            platform_decrypt: OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&p).expect("platform key")).expect("oaep"),
        }
    })
}

/// An answer: status, extra headers, body.
pub(crate) type Answer = (u16, Vec<(String, String)>, String);

fn error(status: u16, code: &str, message: &str) -> Answer {
    (status, vec![("request-id".into(), format!("emu-{}", random_hex(16)))], json!({ "code": code, "message": message }).to_string())
}

fn parse_authorization(h: &str) -> Option<BTreeMap<String, String>> {
    let rest = h.strip_prefix("WECHATPAY2-SHA256-RSA2048 ")?;
    let mut out = BTreeMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        out.insert(k.to_string(), v.trim_matches('"').to_string());
    }
    Some(out)
}

fn decrypt_field(ct: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD.decode(ct).ok()?;
    let k = &keys().platform_decrypt;
    let mut out = vec![0u8; k.min_output_size()];
    let pt = k.decrypt(&OAEP_SHA1_MGF1SHA1, &raw, &mut out, None).ok()?;
    String::from_utf8(pt.to_vec()).ok()
}

fn encrypt_for_merchant(pt: &str) -> String {
    let k = &keys().merchant_encrypt;
    let mut out = vec![0u8; k.ciphertext_size()];
    let ct = k.encrypt(&OAEP_SHA1_MGF1SHA1, pt.as_bytes(), &mut out, None).expect("short field");
    b64(ct)
}

fn sign(key: &RsaKeyPair, msg: &[u8]) -> String {
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(&signature::RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), msg, &mut sig).expect("sign");
    b64(&sig)
}

fn truncated(s: &str) -> String {
    s.chars().take(100).collect()
}

/// The WeChat Pay side behind the platform router.
pub(crate) struct Wechatpay;

impl PlatformHandler for Wechatpay {
    fn handle(&self, shared: &Arc<Shared>, call: &Call<'_>) -> Reply {
        let (status, headers, body) = handle(shared, call);
        Reply { status, headers, body }
    }
}

/// Handles one WeChat Pay request. `call.uri` is the path and query exactly as received.
fn handle(shared: &Shared, call: &Call<'_>) -> Answer {
    let (endpoint, method, uri, headers, query) = (call.endpoint, call.method.as_str(), call.uri, call.headers, call.query);
    let body = String::from_utf8_lossy(call.raw_body);
    let body = body.as_ref();
    let fault = call.fault.as_ref();
    if !headers.contains_key("accept") || !headers.contains_key("user-agent") {
        return error(400, "INVALID_REQUEST", "Http头缺少Accept或User-Agent");
    }
    let Some(auth) = headers.get("authorization").and_then(|h| parse_authorization(h)) else {
        return error(401, "SIGN_ERROR", "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》");
    };
    let field = |k: &str| auth.get(k).cloned().unwrap_or_default();
    let mchid = field("mchid");
    if mchid.is_empty() || !mchid.bytes().all(|b| b.is_ascii_digit()) {
        return error(400, "MCH_NOT_EXISTS", "商户号格式错误");
    }
    if mchid != MCHID {
        return error(400, "MCH_NOT_EXISTS", "商户号不存在");
    }
    if field("serial_no") != MERCHANT_SERIAL {
        return error(401, "SIGN_ERROR", "商户证书序列号有误。请使用签名私钥匹配的证书序列号");
    }
    let ts: i64 = field("timestamp").parse().unwrap_or(0);
    if (now() - ts).abs() > 300 {
        return error(401, "SIGN_ERROR", "Http头Authorization中的timestamp与发起请求的时间不得超过5分钟");
    }
    let message = format!("{method}\n{uri}\n{ts}\n{}\n{body}\n", field("nonce_str"));
    let sig = base64::engine::general_purpose::STANDARD.decode(field("signature")).unwrap_or_default();
    let merchant_public = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, keys().merchant.public_key().as_ref().to_vec());
    if merchant_public.verify(message.as_bytes(), &sig).is_err() {
        let detail = json!({
            "detail": { "issue": "sign not match" }, "field": "signature", "location": "authorization",
            "sign_information": { "method": method, "sign_message_length": message.len(), "truncated_sign_message": truncated(&message), "url": uri }
        });
        return (401, vec![], json!({ "code": "SIGN_ERROR", "message": "错误的签名，验签失败", "detail": detail }).to_string());
    }
    let response_serial = match headers.get("wechatpay-serial").map(String::as_str) {
        None => PLATFORM_SERIAL.to_string(),
        Some(s) if s == PUBLIC_KEY_ID => PUBLIC_KEY_ID.to_string(),
        Some(s) if s.eq_ignore_ascii_case(PLATFORM_SERIAL) => PLATFORM_SERIAL.to_string(),
        Some(_) => return error(400, "INVALID_REQUEST", "Wechatpay-Serial 无效：请传入微信支付公钥ID或有效的平台证书序列号"),
    };
    let json_body: Map<String, Value> = if body.is_empty() {
        Map::new()
    } else {
        match serde_json::from_str(body) {
            Ok(Value::Object(m)) => m,
            _ => return error(400, "PARAM_ERROR", "请求体不是合法的JSON对象"),
        }
    };
    let expired_cert = matches!(fault, Some(FaultKind::WechatpayExpiredCertificate));
    let (status, payload) = match business(shared, &endpoint.id, uri, query, json_body, expired_cert) {
        Ok(ok) => ok,
        Err(answer) => return answer,
    };
    let text = payload.map(|v| v.to_string()).unwrap_or_default();
    let mut ts = now();
    let nonce = random_hex(32);
    if let Some(FaultKind::WechatpayClockSkew { seconds }) = fault {
        ts += seconds;
    }
    let mut signed = format!("{ts}\n{nonce}\n{text}\n").into_bytes();
    if let Some(FaultKind::WechatpayBadSignature) = fault {
        signed.push(b'!');
    }
    let mut signature = sign(&keys().platform, &signed);
    if let Some(FaultKind::WechatpaySignTest) = fault {
        signature = format!("WECHATPAY/SIGNTEST/{signature}");
    }
    let headers = vec![
        ("wechatpay-timestamp".into(), ts.to_string()),
        ("wechatpay-nonce".into(), nonce),
        ("wechatpay-signature".into(), signature),
        ("wechatpay-serial".into(), response_serial),
        ("wechatpay-signature-type".into(), "WECHATPAY2-SHA256-RSA2048".into()),
        ("request-id".into(), format!("emu-{}", random_hex(16))),
    ];
    (status, headers, text)
}

fn str_of(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_string)
}

fn decrypt_in(m: &mut Map<String, Value>, k: &str) -> Result<(), Answer> {
    if let Some(ct) = str_of(m, k) {
        match decrypt_field(&ct) {
            Some(pt) => {
                m.insert(k.into(), Value::String(pt));
            }
            None => return Err(error(400, "PARAM_ERROR", "请确认待处理的消息是否为加密后的密文")),
        }
    }
    Ok(())
}

fn guide_id_of(uri: &str) -> String {
    uri.trim_start_matches("/v3/smartguide/guides/").split(['/', '?']).next().unwrap_or("").to_string()
}

type Outcome = Result<(u16, Option<Value>), Answer>;

fn business(shared: &Shared, id: &str, uri: &str, query: &BTreeMap<String, String>, mut body: Map<String, Value>, expired_cert: bool) -> Outcome {
    let mut inner = shared.lock();
    match id {
        "register_guide" => {
            decrypt_in(&mut body, "name")?;
            decrypt_in(&mut body, "mobile")?;
            let store_id = body.get("store_id").and_then(Value::as_i64).unwrap_or(0);
            if !STORES.contains(&store_id) {
                return Err(error(400, "PARAM_ERROR", "门店id不存在"));
            }
            let mobile = str_of(&body, "mobile").unwrap_or_default();
            if mobile.len() < 5 || !mobile.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'+') {
                return Err(error(400, "PARAM_ERROR", "手机号码格式错误"));
            }
            let guide_id = random_alnum(34);
            let sub_mchid = str_of(&body, "sub_mchid");
            body.remove("sub_mchid");
            inner.wechatpay_guides.insert(guide_id.clone(), Guide { store_id, sub_mchid, fields: body });
            Ok((200, Some(json!({ "guide_id": guide_id }))))
        }
        "assign_guide" => {
            let gid = guide_id_of(uri);
            if !inner.wechatpay_guides.contains_key(&gid) {
                return Err(error(404, "RESOURCE_NOT_EXISTS", "服务人员不存在"));
            }
            let order = str_of(&body, "out_trade_no").unwrap_or_default();
            inner.wechatpay_assignments.push((gid, order));
            Ok((204, None))
        }
        "update_guide" => {
            let gid = guide_id_of(uri);
            decrypt_in(&mut body, "name")?;
            decrypt_in(&mut body, "mobile")?;
            let Some(guide) = inner.wechatpay_guides.get_mut(&gid) else {
                return Err(error(404, "RESOURCE_NOT_EXISTS", "服务人员不存在"));
            };
            body.remove("sub_mchid");
            if body.is_empty() {
                return Err(error(400, "PARAM_ERROR", "所有可更新的参数都没有填"));
            }
            for (k, v) in body {
                guide.fields.insert(k, v);
            }
            Ok((204, None))
        }
        "query_guides" => {
            let store_id: i64 = query.get("store_id").and_then(|s| s.parse().ok()).unwrap_or(0);
            let limit: usize = query.get("limit").and_then(|s| s.parse().ok()).unwrap_or(10);
            let offset: usize = query.get("offset").and_then(|s| s.parse().ok()).unwrap_or(0);
            if limit > 10 {
                return Err(error(400, "PARAM_ERROR", "每次查询不可超过10条"));
            }
            let mobile = match query.get("mobile") {
                Some(ct) => Some(decrypt_field(ct).ok_or_else(|| error(400, "PARAM_ERROR", "请确认待处理的消息是否为加密后的密文"))?),
                None => None,
            };
            let matching: Vec<(&String, &Guide)> = inner
                .wechatpay_guides
                .iter()
                .filter(|(_, g)| g.store_id == store_id && query.get("sub_mchid") == g.sub_mchid.as_ref())
                .filter(|(_, g)| query.get("userid").is_none_or(|u| str_of(&g.fields, "userid").as_ref() == Some(u)))
                .filter(|(_, g)| query.get("work_id").is_none_or(|u| str_of(&g.fields, "work_id").as_ref() == Some(u)))
                .filter(|(_, g)| mobile.as_ref().is_none_or(|m| str_of(&g.fields, "mobile").as_ref() == Some(m)))
                .collect();
            let data: Vec<Value> = matching
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(id, g)| {
                    let mut o = json!({ "guide_id": id, "store_id": g.store_id });
                    for k in ["userid", "work_id"] {
                        if let Some(v) = str_of(&g.fields, k) {
                            o[k] = json!(v);
                        }
                    }
                    for k in ["name", "mobile"] {
                        if let Some(v) = str_of(&g.fields, k) {
                            o[k] = json!(encrypt_for_merchant(&v));
                        }
                    }
                    o
                })
                .collect();
            Ok((200, Some(json!({ "data": data, "total_count": matching.len(), "limit": limit, "offset": offset }))))
        }
        "download_certificates" => {
            let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, APIV3_KEY.as_bytes()).expect("32-byte key"));
            let nonce = random_hex(12);
            let (cert, serial, effective, expire) = if expired_cert {
                (EXPIRED_PLATFORM_CERT, EXPIRED_PLATFORM_SERIAL, "2022-05-10T10:04:30+08:00", "2025-05-09T10:04:30+08:00")
            } else {
                (PLATFORM_CERT, PLATFORM_SERIAL, "2025-01-01T08:00:00+08:00", "2125-01-01T07:59:59+08:00")
            };
            let mut buf = cert.as_bytes().to_vec();
            key.seal_in_place_append_tag(Nonce::try_assume_unique_for_key(nonce.as_bytes()).expect("12 bytes"), Aad::from(b"certificate"), &mut buf)
                .expect("seal");
            Ok((
                200,
                Some(json!({ "data": [{
                    "serial_no": serial,
                    "effective_time": effective,
                    "expire_time": expire,
                    "encrypt_certificate": { "algorithm": "AEAD_AES_256_GCM", "nonce": nonce, "associated_data": "certificate", "ciphertext": b64(&buf) }
                }]})),
            ))
        }
        other => Err(error(501, "NOT_EMULATED", &format!("mendian-emulator: `{other}` is not emulated"))),
    }
}
