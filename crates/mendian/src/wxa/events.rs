//! Receiving WeChat message pushes (消息推送) to your server URL: the four 门店小程序 audit
//! events and any other message, in plain mode and in safe mode (安全模式, `encrypt_type=aes`).
//!
//! WeChat delivers the audit results of `apply_merchant`, `create_map_poi`, `add_store` and
//! `update_store` only as pushes, so a merchant backend has to verify them itself. Doing that
//! right is where hand-written receivers usually go wrong, and this module exists so every
//! language gets one careful implementation:
//!
//! - the plain `signature` covers only token, timestamp and nonce; in safe mode the
//!   `msg_signature` over (token, timestamp, nonce, `Encrypt`) is the one that protects the
//!   message, and it is required and checked (both are compared in constant time);
//! - EncodingAESKeys are *non-canonical* base64 (43 characters, 2 trailing bits that a strict
//!   decoder rejects), so they are decoded leniently and then checked to be 32 bytes;
//! - AES-256-CBC with IV = the first 16 key bytes and PKCS#7 padding to a multiple of **32**,
//!   validated strictly; the length prefix is bounds-checked and the trailing appid must be
//!   yours;
//! - during a key rotation the previous EncodingAESKey is tried when the current one fails,
//!   and the reply is encrypted with the key that worked;
//! - the XML parser is a small strict one that rejects DOCTYPE (entity expansion, XXE) and
//!   processing instructions, and knows CDATA, the five standard entities and character
//!   references — nothing else.
//!
//! Errors name what was wrong (which parameter, which signature, which key, which field) but
//! never contain the token, a key or the text of a message that failed; Debug output of the
//! configuration and the receiver redacts the secrets.

// `MendianError` is the one error type that crosses the FFI; it is large by design.
#![allow(clippy::result_large_err)]

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::{alphabet, Engine};

use crate::error::MendianError;
use crate::generated::wxa::{
    AddStoreAuditEvent, ApplyMerchantAuditEvent, CreateMapPoiAuditEvent, ModifyStoreAuditEvent,
};

/// The PKCS#7 block size WeChat uses for message encryption (K = 32, not the AES block size).
const PKCS7_BLOCK: usize = 32;

/// How pushes to your server URL are secured (the 服务器配置 of the official account: URL,
/// Token, EncodingAESKey and 消息加解密方式).
#[derive(Clone, uniffi::Record)]
pub struct WxaPushConfig {
    /// The Token configured in the console (used for `signature` and `msg_signature`).
    pub token: String,
    /// The EncodingAESKey (43 characters of A-Z, a-z, 0-9); `None` accepts plain-mode pushes
    /// only.
    #[uniffi(default)]
    pub encoding_aes_key: Option<String>,
    /// The EncodingAESKey before the last change in the console, still accepted while WeChat
    /// may use it (key rotation).
    #[uniffi(default)]
    pub previous_encoding_aes_key: Option<String>,
    /// Your AppID; every decrypted message must end with it.
    pub appid: String,
}

impl fmt::Debug for WxaPushConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WxaPushConfig")
            .field("token", &"<redacted>")
            .field("encoding_aes_key", &self.encoding_aes_key.as_ref().map(|_| "<redacted>"))
            .field("previous_encoding_aes_key", &self.previous_encoding_aes_key.as_ref().map(|_| "<redacted>"))
            .field("appid", &self.appid)
            .finish()
    }
}

/// A verified, decrypted and parsed push.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WxaPush {
    /// The message, typed when it is one of the four audit events.
    pub event: WxaEvent,
    /// The plaintext XML as received (plain mode) or decrypted (safe mode), byte for byte.
    pub xml: String,
    /// Whether the push arrived in safe mode (encrypted).
    pub encrypted: bool,
    /// Whether it was decrypted with the previous EncodingAESKey; encrypt the reply with the
    /// same key (`encrypt_reply(…, use_previous_key = true)`).
    pub used_previous_key: bool,
}

/// A pushed message.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum WxaEvent {
    /// `apply_merchant_audit_info`: the audit result of `apply_merchant`.
    ApplyMerchantAudit {
        /// The event's fields.
        event: ApplyMerchantAuditEvent,
    },
    /// `create_map_poi_audit_info`: the audit result of `create_map_poi`.
    CreateMapPoiAudit {
        /// The event's fields.
        event: CreateMapPoiAuditEvent,
    },
    /// `add_store_audit_info`: the audit result of `add_store`.
    AddStoreAudit {
        /// The event's fields.
        event: AddStoreAuditEvent,
    },
    /// `modify_store_audit_info`: the audit result of an `update_store` that changed pictures.
    ModifyStoreAudit {
        /// The event's fields.
        event: ModifyStoreAuditEvent,
    },
    /// Any other message or event: the top-level elements as text, and the raw XML.
    Other {
        /// `MsgType` (`event`, `text`, …); empty when the message has none.
        msg_type: String,
        /// `Event`, when present.
        event: Option<String>,
        /// Every child of `<xml>`: element name → its text (CDATA and entities resolved), or
        /// for an element with nested elements, its inner XML as sent.
        fields: HashMap<String, String>,
        /// The whole plaintext XML.
        raw_xml: String,
    },
}

/// A decoded EncodingAESKey.
#[derive(Clone)]
struct AesKey([u8; 32]);

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl AesKey {
    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

/// Verifies, decrypts and parses pushes to your server URL, and encrypts replies.
#[derive(uniffi::Object)]
pub struct WxaPushReceiver {
    token: String,
    key: Option<AesKey>,
    previous_key: Option<AesKey>,
    appid: String,
}

impl fmt::Debug for WxaPushReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WxaPushReceiver")
            .field("token", &"<redacted>")
            .field("key", &self.key)
            .field("previous_key", &self.previous_key)
            .field("appid", &self.appid)
            .finish()
    }
}

#[uniffi::export]
impl WxaPushReceiver {
    /// A receiver for `config`. Fails with `InvalidArgument` for an empty token or appid, and
    /// with `Credentials` naming the key when an EncodingAESKey is not 43 characters of
    /// A-Z, a-z, 0-9 (the value is never included).
    #[uniffi::constructor]
    pub fn new(config: WxaPushConfig) -> Result<Arc<Self>, MendianError> {
        if config.token.is_empty() {
            return Err(MendianError::invalid("token", "the Token must not be empty"));
        }
        if config.appid.is_empty() {
            return Err(MendianError::invalid("appid", "the AppID must not be empty"));
        }
        let key =
            config.encoding_aes_key.as_deref().map(|k| decode_encoding_aes_key(k, "encoding_aes_key")).transpose()?;
        let previous_key = config
            .previous_encoding_aes_key
            .as_deref()
            .map(|k| decode_encoding_aes_key(k, "previous_encoding_aes_key"))
            .transpose()?;
        if key.is_none() && previous_key.is_some() {
            return Err(MendianError::invalid(
                "previous_encoding_aes_key",
                "a previous EncodingAESKey needs the current one in encoding_aes_key",
            ));
        }
        Ok(Arc::new(WxaPushReceiver { token: config.token, key, previous_key, appid: config.appid }))
    }

    /// URL verification (the GET WeChat sends when you save the server configuration): checks
    /// `signature` (plain) or, when `msg_signature` is present, `msg_signature` over the
    /// encrypted `echostr` (safe mode), and returns the echostr to answer with (decrypted in
    /// safe mode). `query` holds the URL-decoded query parameters.
    pub fn verify_url(&self, query: HashMap<String, String>) -> Result<String, MendianError> {
        let timestamp = required_param(&query, "timestamp")?;
        let nonce = required_param(&query, "nonce")?;
        let echostr = required_param(&query, "echostr")?;
        let plain = param(&query, "signature");
        if let Some(sig) = plain {
            self.check_plain_signature(sig, timestamp, nonce)?;
        }
        match param(&query, "msg_signature") {
            Some(msg_sig) => {
                if self.key.is_none() {
                    return Err(MendianError::Credentials {
                        reason: "the URL verification is in safe mode (msg_signature and an encrypted echostr) but no encoding_aes_key is configured".into(),
                    });
                }
                check_signature(
                    msg_sig,
                    &signature(&[&self.token, timestamp, nonce, echostr]),
                    "msg_signature",
                    "token, timestamp, nonce, echostr",
                )?;
                let (echo, _) = self.decrypt_with_rotation(echostr, "the encrypted `echostr`")?;
                Ok(echo)
            }
            None if plain.is_some() => Ok(echostr.to_string()),
            None => Err(missing("signature", " (or msg_signature for a safe-mode URL verification)")),
        }
    }

    /// One call for a POST push: takes the URL-decoded query parameters (`signature`,
    /// `timestamp`, `nonce`, and in safe mode `encrypt_type=aes` and `msg_signature`) and the
    /// raw body; verifies, decrypts and parses.
    ///
    /// Safe mode is `encrypt_type=aes`, or an `<Encrypt>` element when an EncodingAESKey is
    /// configured (compatibility-mode bodies carry both plaintext fields and `Encrypt`; the
    /// encrypted part is used). In safe mode `msg_signature` is required and checked; the
    /// plain `signature` is checked whenever present, and required in plain mode.
    pub fn receive(&self, query: HashMap<String, String>, body: String) -> Result<WxaPush, MendianError> {
        let timestamp = required_param(&query, "timestamp")?;
        let nonce = required_param(&query, "nonce")?;
        let plain = param(&query, "signature");
        if let Some(sig) = plain {
            self.check_plain_signature(sig, timestamp, nonce)?;
        }
        let outer =
            xml::parse(&body).map_err(|reason| MendianError::Decode { what: "the push body".into(), reason })?;
        let encrypt = outer.children.iter().find(|c| c.name == "Encrypt").map(|c| c.value.as_str());
        let aes_requested = param(&query, "encrypt_type").is_some_and(|t| t.eq_ignore_ascii_case("aes"));
        let safe = aes_requested || (encrypt.is_some() && self.key.is_some());
        if !safe {
            if plain.is_none() {
                return Err(missing("signature", ""));
            }
            let event = event_from_document(outer, &body)?;
            return Ok(WxaPush { event, xml: body, encrypted: false, used_previous_key: false });
        }
        if self.key.is_none() {
            return Err(MendianError::Credentials {
                reason: "the push is in safe mode (encrypt_type=aes) but no encoding_aes_key is configured".into(),
            });
        }
        let msg_sig = param(&query, "msg_signature").ok_or_else(|| {
            missing("msg_signature", " (safe mode: the plain `signature` does not cover the encrypted message)")
        })?;
        let encrypt = encrypt.ok_or_else(|| MendianError::Decode {
            what: "the push body".into(),
            reason: "a safe-mode push must have an <Encrypt> element".into(),
        })?;
        check_signature(
            msg_sig,
            &signature(&[&self.token, timestamp, nonce, encrypt]),
            "msg_signature",
            "token, timestamp, nonce, Encrypt",
        )?;
        let (xml, used_previous_key) = self.decrypt_with_rotation(encrypt, "the <Encrypt> element")?;
        let event = wxa_parse_push(xml.clone())?;
        Ok(WxaPush { event, xml, encrypted: true, used_previous_key })
    }

    /// Encrypts a reply XML into the `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`
    /// envelope, with the key that decrypted the push (`use_previous_key`, see
    /// [`WxaPush::used_previous_key`]), a fresh random 16-byte prefix and the given timestamp
    /// (digits) and nonce (letters, digits, `-`, `_`).
    pub fn encrypt_reply(
        &self,
        reply_xml: String,
        timestamp: String,
        nonce: String,
        use_previous_key: bool,
    ) -> Result<String, MendianError> {
        if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MendianError::invalid("timestamp", "must be Unix seconds in decimal digits"));
        }
        if nonce.is_empty() || !nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(MendianError::invalid("nonce", "must be non-empty letters, digits, '-' or '_'"));
        }
        let key = if use_previous_key {
            self.previous_key.as_ref().ok_or_else(|| MendianError::Credentials {
                reason: "use_previous_key is set but no previous_encoding_aes_key is configured".into(),
            })?
        } else {
            self.key.as_ref().ok_or_else(|| MendianError::Credentials {
                reason: "encrypting a reply needs encoding_aes_key".into(),
            })?
        };
        let mut random = [0u8; 16];
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| MendianError::Credentials { reason: "the system random generator failed".into() })?;
        let encrypt = encrypt_message(key, &self.appid, &random, reply_xml.as_bytes())?;
        let msg_signature = signature(&[&self.token, &timestamp, &nonce, &encrypt]);
        Ok(format!(
            "<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n<MsgSignature><![CDATA[{msg_signature}]]></MsgSignature>\n<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
        ))
    }
}

impl WxaPushReceiver {
    fn check_plain_signature(&self, sig: &str, timestamp: &str, nonce: &str) -> Result<(), MendianError> {
        check_signature(sig, &signature(&[&self.token, timestamp, nonce]), "signature", "token, timestamp, nonce")
    }

    /// Decrypts with the current key, then (if configured) the previous one.
    fn decrypt_with_rotation(&self, encrypt: &str, what: &str) -> Result<(String, bool), MendianError> {
        let decode = |reason: String| MendianError::Decode { what: what.to_string(), reason };
        let ciphertext = STANDARD.decode(encrypt).map_err(|_| {
            let hint = if encrypt.contains('%') || encrypt.contains(' ') {
                " (it looks URL-encoded or had '+' turned into a space: pass the decoded value)"
            } else {
                ""
            };
            decode(format!("it is not valid base64{hint}"))
        })?;
        if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
            return Err(decode(format!("the ciphertext is {} bytes, not a non-zero multiple of 16", ciphertext.len())));
        }
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| MendianError::Credentials { reason: "no encoding_aes_key is configured".into() })?;
        let first = match decrypt_message(key, &self.appid, &ciphertext) {
            Ok(m) => return Ok((m, false)),
            Err(e) => e,
        };
        match &self.previous_key {
            None => Err(decode(first)),
            Some(prev) => match decrypt_message(prev, &self.appid, &ciphertext) {
                Ok(m) => Ok((m, true)),
                Err(second) => {
                    Err(decode(format!("with encoding_aes_key: {first}; with previous_encoding_aes_key: {second}")))
                }
            },
        }
    }
}

/// The push signature: SHA-1 (lower-case hex) of the lexicographically sorted concatenation
/// of token, timestamp and nonce (plain `signature`), plus `Encrypt` when given
/// (`msg_signature`).
#[uniffi::export]
pub fn wxa_push_signature(token: String, timestamp: String, nonce: String, encrypt: Option<String>) -> String {
    match encrypt {
        Some(e) => signature(&[&token, &timestamp, &nonce, &e]),
        None => signature(&[&token, &timestamp, &nonce]),
    }
}

/// Encrypts `message` for safe mode with an explicit 16-byte random prefix and returns the
/// base64 `Encrypt` value: AES-256-CBC over random + length (u32 big-endian) + message +
/// appid, PKCS#7-padded to a multiple of 32. For known-answer tests; replies should use
/// [`WxaPushReceiver::encrypt_reply`], which draws a fresh prefix.
#[uniffi::export]
pub fn wxa_push_encrypt_with_random(
    encoding_aes_key: String,
    appid: String,
    random: Vec<u8>,
    message: String,
) -> Result<String, MendianError> {
    let key = decode_encoding_aes_key(&encoding_aes_key, "encoding_aes_key")?;
    let random: [u8; 16] = random
        .as_slice()
        .try_into()
        .map_err(|_| MendianError::invalid("random", format!("must be exactly 16 bytes (got {})", random.len())))?;
    encrypt_message(&key, &appid, &random, message.as_bytes())
}

/// Parses a plaintext push XML into a [`WxaEvent`], without any verification: only for XML
/// that was already verified (or for tests); use [`WxaPushReceiver::receive`] for pushes.
#[uniffi::export]
pub fn wxa_parse_push(xml: String) -> Result<WxaEvent, MendianError> {
    let doc = xml::parse(&xml).map_err(|reason| MendianError::Decode { what: "the push XML".into(), reason })?;
    event_from_document(doc, &xml)
}

fn param<'a>(query: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    query.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn missing(name: &str, note: &str) -> MendianError {
    MendianError::Signature { reason: format!("missing or empty query parameter `{name}`{note}") }
}

fn required_param<'a>(query: &'a HashMap<String, String>, name: &str) -> Result<&'a str, MendianError> {
    param(query, name).ok_or_else(|| missing(name, ""))
}

fn signature(parts: &[&str]) -> String {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, parts.concat().as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares a received signature with the expected one in constant time (case-insensitive
/// hex).
fn check_signature(received: &str, expected: &str, name: &str, covers: &str) -> Result<(), MendianError> {
    let received = received.to_ascii_lowercase();
    aws_lc_rs::constant_time::verify_slices_are_equal(received.as_bytes(), expected.as_bytes()).map_err(|_| {
        MendianError::Signature {
            reason: format!("`{name}` does not match (SHA-1 over {covers}): wrong Token or a forged request"),
        }
    })
}

/// Decodes an EncodingAESKey: 43 characters of A-Z, a-z, 0-9, base64 with the 2 trailing
/// bits ignored (WeChat's keys are not canonical base64), to exactly 32 bytes.
fn decode_encoding_aes_key(key: &str, name: &str) -> Result<AesKey, MendianError> {
    let creds = |reason: String| MendianError::Credentials { reason: format!("{name}: {reason}") };
    let len = key.chars().count();
    if len != 43 {
        return Err(creds(format!("an EncodingAESKey is exactly 43 characters, got {len}")));
    }
    if let Some(pos) = key.bytes().position(|b| !b.is_ascii_alphanumeric()) {
        return Err(creds(format!("an EncodingAESKey has only A-Z, a-z and 0-9; character {} is not one", pos + 1)));
    }
    const LENIENT: GeneralPurpose =
        GeneralPurpose::new(&alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));
    let bytes = LENIENT.decode(format!("{key}=")).map_err(|_| creds("not decodable as base64".into()))?;
    let bytes: [u8; 32] =
        bytes.as_slice().try_into().map_err(|_| creds(format!("decodes to {} bytes, not 32", bytes.len())))?;
    Ok(AesKey(bytes))
}

fn aes_cbc(key: &AesKey, data: &mut [u8], encrypt: bool) -> Result<(), MendianError> {
    crate::crypto::aes_256_cbc_in_place(&key.0, &key.iv(), data, encrypt)
}

fn encrypt_message(key: &AesKey, appid: &str, random: &[u8; 16], message: &[u8]) -> Result<String, MendianError> {
    let len = u32::try_from(message.len()).map_err(|_| MendianError::invalid("message", "is larger than 4 GiB"))?;
    let mut buf = Vec::with_capacity(20 + message.len() + appid.len() + PKCS7_BLOCK);
    buf.extend_from_slice(random);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(message);
    buf.extend_from_slice(appid.as_bytes());
    let pad = PKCS7_BLOCK - buf.len() % PKCS7_BLOCK;
    buf.resize(buf.len() + pad, pad as u8);
    aes_cbc(key, &mut buf, true)?;
    Ok(crate::crypto::b64(&buf))
}

/// Decrypts one ciphertext (already base64-decoded, a non-zero multiple of 16 bytes) and
/// returns the message. The error is a reason without any decrypted bytes except the
/// trailing appid.
fn decrypt_message(key: &AesKey, appid: &str, ciphertext: &[u8]) -> Result<String, String> {
    let mut buf = ciphertext.to_vec();
    aes_cbc(key, &mut buf, false).map_err(|e| e.to_string())?;
    let content = unpad(&buf)?;
    if content.len() < 20 {
        return Err(format!(
            "the decrypted data is {} bytes, shorter than the 16-byte random prefix and 4-byte length",
            content.len()
        ));
    }
    let msg_len = u32::from_be_bytes([content[16], content[17], content[18], content[19]]) as usize;
    let available = content.len() - 20;
    if msg_len > available {
        return Err(format!(
            "the message length prefix ({msg_len}) exceeds the {available} bytes that follow it (wrong key?)"
        ));
    }
    let (msg, got) = content[20..].split_at(msg_len);
    if got != appid.as_bytes() {
        let got: String = String::from_utf8_lossy(got).chars().take(64).collect();
        return Err(format!("the message is for appid {got:?}, expected {appid:?}"));
    }
    String::from_utf8(msg.to_vec()).map_err(|_| "the decrypted message is not UTF-8".to_string())
}

/// Strict PKCS#7 with K = 32: the last byte N is 1..=32 and the last N bytes all equal N.
fn unpad(buf: &[u8]) -> Result<&[u8], String> {
    let pad = *buf.last().ok_or("the decrypted data is empty")? as usize;
    if pad == 0 || pad > PKCS7_BLOCK {
        return Err(format!("bad PKCS#7 padding: the pad length {pad} is not in 1..=32 (wrong key or tampered data)"));
    }
    if pad > buf.len() {
        return Err(format!("bad PKCS#7 padding: the pad length {pad} exceeds the {} decrypted bytes", buf.len()));
    }
    let (content, padding) = buf.split_at(buf.len() - pad);
    if padding.iter().any(|&b| b as usize != pad) {
        return Err("bad PKCS#7 padding: the pad bytes differ (wrong key or tampered data)".into());
    }
    Ok(content)
}

fn event_from_document(doc: xml::Document, raw: &str) -> Result<WxaEvent, MendianError> {
    let fields: Vec<(String, String)> = doc.children.into_iter().map(|c| (c.name, c.value)).collect();
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let event = get("Event");
    let kind = event.as_deref().map(str::to_ascii_lowercase);
    Ok(match kind.as_deref() {
        Some(name @ "apply_merchant_audit_info") => WxaEvent::ApplyMerchantAudit { event: typed(&fields, name)? },
        Some(name @ "create_map_poi_audit_info") => WxaEvent::CreateMapPoiAudit { event: typed(&fields, name)? },
        Some(name @ "add_store_audit_info") => WxaEvent::AddStoreAudit { event: typed(&fields, name)? },
        Some(name @ "modify_store_audit_info") => WxaEvent::ModifyStoreAudit { event: typed(&fields, name)? },
        _ => WxaEvent::Other {
            msg_type: get("MsgType").unwrap_or_default(),
            event,
            fields: fields.into_iter().collect(),
            raw_xml: raw.to_string(),
        },
    })
}

/// Decodes the generated record of an event from the element texts (every value a JSON
/// string; the records' lenient decoders read numbers from strings). A failure names the
/// event and the field, never the value.
fn typed<T: serde::de::DeserializeOwned>(fields: &[(String, String)], event: &str) -> Result<T, MendianError> {
    let failed = Cell::new(None);
    T::deserialize(de::Fields { fields, failed: &failed }).map_err(|e| {
        let reason = match failed.get() {
            Some(i) => {
                let msg = e.to_string();
                let detail = if msg.contains("missing value") {
                    "is empty".to_string()
                } else if let Some(at) = msg.find("expected ") {
                    let expected = &msg[at..];
                    let expected = expected.split(", got").next().unwrap_or(expected);
                    format!("is invalid ({expected})")
                } else {
                    "has an invalid value".to_string()
                };
                format!("field `{}` {detail}", fields[i].0)
            }
            // Errors raised by the record itself (`missing field `audit_id``) name the field
            // and carry no value.
            None => e.to_string(),
        };
        MendianError::Decode { what: format!("the {event} event"), reason }
    })
}

/// A serde deserializer over the element texts that remembers which field failed.
mod de {
    use std::cell::Cell;

    use serde::de::{DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
    use serde::Deserializer;

    pub(super) struct Fields<'a> {
        pub(super) fields: &'a [(String, String)],
        pub(super) failed: &'a Cell<Option<usize>>,
    }

    impl<'de> Deserializer<'de> for Fields<'_> {
        type Error = serde_json::Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            visitor.visit_map(Access { fields: self.fields, next: 0, failed: self.failed })
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
        }
    }

    struct Access<'a> {
        fields: &'a [(String, String)],
        next: usize,
        failed: &'a Cell<Option<usize>>,
    }

    impl<'de> MapAccess<'de> for Access<'_> {
        type Error = serde_json::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
            match self.fields.get(self.next) {
                None => Ok(None),
                Some((key, _)) => seed.deserialize(key.as_str().into_deserializer()).map(Some),
            }
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
            let i = self.next;
            self.next += 1;
            let value = self.fields.get(i).map(|(_, v)| v.clone()).unwrap_or_default();
            seed.deserialize(serde_json::Value::String(value)).inspect_err(|_| self.failed.set(Some(i)))
        }
    }
}

/// A small strict XML reader for push bodies: one root `<xml>`, its children as name → text.
mod xml {
    use super::HashSet;

    /// Nesting deeper than this is rejected (pushes nest two or three levels).
    const MAX_DEPTH: usize = 32;

    #[derive(Debug)]
    pub(super) struct Element {
        pub(super) name: String,
        /// The text (CDATA and entities resolved), or the raw inner XML when the element has
        /// child elements.
        pub(super) value: String,
    }

    #[derive(Debug)]
    pub(super) struct Document {
        pub(super) children: Vec<Element>,
    }

    /// Parses `input`. Errors name positions and element names, never text content.
    pub(super) fn parse(input: &str) -> Result<Document, String> {
        let mut p = Parser { s: input, pos: 0 };
        if input.starts_with('\u{feff}') {
            p.pos = 3;
        }
        if p.starts("<?xml") && matches!(p.byte_at(p.pos + 5), Some(b' ' | b'\t' | b'\r' | b'\n' | b'?')) {
            let end = p.find("?>").ok_or("the XML declaration is not terminated")?;
            p.pos = end + 2;
        }
        p.misc()?;
        if p.eof() {
            return Err("the XML has no root element".into());
        }
        if !p.starts("<") {
            return Err(format!("text before the root element (byte {})", p.pos));
        }
        let (name, empty) = p.start_tag()?;
        if name != "xml" {
            return Err(format!("the root element must be <xml>, got <{}>", shorten(name)));
        }
        let children = if empty { Vec::new() } else { p.root_children()? };
        p.misc()?;
        if !p.eof() {
            return Err(format!("content after </xml> (byte {})", p.pos));
        }
        Ok(Document { children })
    }

    fn shorten(name: &str) -> String {
        if name.chars().count() > 64 {
            format!("{}…", name.chars().take(64).collect::<String>())
        } else {
            name.to_string()
        }
    }

    struct Parser<'a> {
        s: &'a str,
        pos: usize,
    }

    impl<'a> Parser<'a> {
        fn rest(&self) -> &'a str {
            &self.s[self.pos..]
        }
        fn eof(&self) -> bool {
            self.pos >= self.s.len()
        }
        fn byte_at(&self, i: usize) -> Option<u8> {
            self.s.as_bytes().get(i).copied()
        }
        fn starts(&self, prefix: &str) -> bool {
            self.rest().starts_with(prefix)
        }
        fn find(&self, needle: &str) -> Option<usize> {
            self.rest().find(needle).map(|i| self.pos + i)
        }
        fn skip_ws(&mut self) -> bool {
            let start = self.pos;
            while matches!(self.byte_at(self.pos), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                self.pos += 1;
            }
            self.pos > start
        }

        /// Markup other than elements, text and CDATA: comments are skipped, the rest refused.
        /// Returns `Ok(true)` when a comment was skipped.
        fn markup(&mut self) -> Result<bool, String> {
            let rest = self.rest().as_bytes();
            if self.starts("<!--") {
                let end =
                    self.rest()[4..].find("-->").ok_or_else(|| format!("unterminated comment (byte {})", self.pos))?;
                self.pos += 4 + end + 3;
                return Ok(true);
            }
            if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
                return Err(
                    "a DOCTYPE is not allowed in a push (it would enable entity expansion and external entities)"
                        .into(),
                );
            }
            if self.starts("<?") {
                return Err(format!(
                    "processing instructions are not allowed (byte {}); only an XML declaration at the very start",
                    self.pos
                ));
            }
            if self.starts("<!") && !self.starts("<![CDATA[") {
                return Err(format!("markup declarations are not allowed (byte {})", self.pos));
            }
            Ok(false)
        }

        /// Whitespace and comments outside the root element.
        fn misc(&mut self) -> Result<(), String> {
            loop {
                self.skip_ws();
                if !self.markup()? {
                    if self.starts("<![CDATA[") {
                        return Err(format!("CDATA outside the root element (byte {})", self.pos));
                    }
                    return Ok(());
                }
            }
        }

        fn name(&mut self) -> Result<&'a str, String> {
            let start = self.pos;
            while let Some(b) = self.byte_at(self.pos) {
                if b.is_ascii_whitespace() || b"/>=<\"'&!?;".contains(&b) {
                    break;
                }
                self.pos += 1;
            }
            let name = &self.s[start..self.pos];
            match name.bytes().next() {
                None => Err(format!("expected a name (byte {start})")),
                Some(b) if b.is_ascii_digit() || b == b'-' || b == b'.' => Err(format!("invalid name (byte {start})")),
                Some(_) => Ok(name),
            }
        }

        /// At `<`: reads a start tag, returning its name and whether it is empty (`/>`).
        /// Attributes are checked for syntax and ignored.
        fn start_tag(&mut self) -> Result<(&'a str, bool), String> {
            self.pos += 1;
            let name = self.name()?;
            loop {
                let spaced = self.skip_ws();
                if self.starts("/>") {
                    self.pos += 2;
                    return Ok((name, true));
                }
                if self.starts(">") {
                    self.pos += 1;
                    return Ok((name, false));
                }
                if self.eof() {
                    return Err(format!("the start tag <{}> is not terminated", shorten(name)));
                }
                if !spaced {
                    return Err(format!("malformed start tag <{}> (byte {})", shorten(name), self.pos));
                }
                self.name()?;
                self.skip_ws();
                if !self.starts("=") {
                    return Err(format!("malformed attribute in <{}> (byte {})", shorten(name), self.pos));
                }
                self.pos += 1;
                self.skip_ws();
                let quote = match self.byte_at(self.pos) {
                    Some(q @ (b'"' | b'\'')) => q as char,
                    _ => return Err(format!("unquoted attribute value in <{}> (byte {})", shorten(name), self.pos)),
                };
                let end = self.rest()[1..]
                    .find(quote)
                    .ok_or_else(|| format!("unterminated attribute value in <{}>", shorten(name)))?;
                if self.rest()[1..1 + end].contains('<') {
                    return Err(format!("'<' in an attribute value of <{}>", shorten(name)));
                }
                self.pos += 1 + end + 1;
            }
        }

        /// After `</`: the name and `>`; checks it closes `open`.
        fn end_tag(&mut self, open: &str) -> Result<(), String> {
            self.pos += 2;
            let name = self.name()?;
            self.skip_ws();
            if !self.starts(">") {
                return Err(format!("malformed end tag </{}>", shorten(name)));
            }
            self.pos += 1;
            if name != open {
                return Err(format!("</{}> closes <{}>", shorten(name), shorten(open)));
            }
            Ok(())
        }

        fn root_children(&mut self) -> Result<Vec<Element>, String> {
            let mut children = Vec::new();
            let mut seen = HashSet::new();
            loop {
                self.skip_ws();
                if self.eof() {
                    return Err("the root element <xml> is not closed".into());
                }
                if self.starts("</") {
                    self.end_tag("xml")?;
                    return Ok(children);
                }
                if self.markup()? {
                    continue;
                }
                if !self.starts("<") || self.starts("<![CDATA[") {
                    return Err(format!("text directly inside <xml> (byte {})", self.pos));
                }
                let element = self.element(1)?;
                if !seen.insert(element.name.clone()) {
                    return Err(format!("the element <{}> appears more than once in <xml>", shorten(&element.name)));
                }
                children.push(element);
            }
        }

        /// At `<` of a start tag: the whole element.
        fn element(&mut self, depth: usize) -> Result<Element, String> {
            if depth > MAX_DEPTH {
                return Err(format!("elements are nested more than {MAX_DEPTH} levels deep"));
            }
            let (name, empty) = self.start_tag()?;
            if empty {
                return Ok(Element { name: name.to_string(), value: String::new() });
            }
            let inner_start = self.pos;
            let mut text = String::new();
            let mut nested = false;
            loop {
                if self.eof() {
                    return Err(format!("the element <{}> is not closed", shorten(name)));
                }
                if self.starts("</") {
                    let inner_end = self.pos;
                    self.end_tag(name)?;
                    let value = if nested { self.s[inner_start..inner_end].to_string() } else { text };
                    return Ok(Element { name: name.to_string(), value });
                }
                if self.starts("<![CDATA[") {
                    let end = self.rest()[9..]
                        .find("]]>")
                        .ok_or_else(|| format!("unterminated CDATA in <{}>", shorten(name)))?;
                    text.push_str(&self.rest()[9..9 + end]);
                    self.pos += 9 + end + 3;
                    continue;
                }
                if self.markup()? {
                    continue;
                }
                if self.starts("<") {
                    nested = true;
                    self.element(depth + 1)?;
                    continue;
                }
                if self.starts("&") {
                    text.push(self.entity()?);
                    continue;
                }
                let run = self.rest().find(['<', '&']).unwrap_or(self.rest().len());
                text.push_str(&self.rest()[..run]);
                self.pos += run;
            }
        }

        /// At `&`: one of the five standard entities or a character reference.
        fn entity(&mut self) -> Result<char, String> {
            let at = self.pos;
            let semi = self
                .rest()
                .bytes()
                .take(12)
                .position(|b| b == b';')
                .ok_or_else(|| format!("an unescaped '&' (byte {at})"))?;
            let name = &self.rest()[1..semi];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code = if let Some(hex) = name.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = name.strip_prefix('#') {
                        dec.parse::<u32>().ok()
                    } else {
                        return Err(format!(
                            "an unknown entity (byte {at}): only &lt; &gt; &amp; &quot; &apos; and character references are allowed"
                        ));
                    };
                    code.filter(|&c| c != 0).and_then(char::from_u32)
                }
            };
            let c = c.ok_or_else(|| format!("an invalid character reference (byte {at})"))?;
            self.pos += semi + 1;
            Ok(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APPID: &str = "wxb11529c136998cb6";

    fn key() -> AesKey {
        decode_encoding_aes_key(KEY, "encoding_aes_key").unwrap()
    }

    /// Encrypts `plaintext` as is (no length prefix, no padding) for crafting bad messages.
    fn raw_encrypt(plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        aes_cbc(&key(), &mut buf, true).unwrap();
        buf
    }

    fn layout(msg: &[u8], appid: &str) -> Vec<u8> {
        let mut v = b"0123456789abcdef".to_vec();
        v.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        v.extend_from_slice(msg);
        v.extend_from_slice(appid.as_bytes());
        v
    }

    fn padded(mut v: Vec<u8>, total: usize, pad_byte: u8) -> Vec<u8> {
        v.resize(total, pad_byte);
        v
    }

    #[test]
    fn signature_sorts_and_hashes() {
        assert_eq!(signature(&["AAAAA", "1714037059", "486452656"]), "899cf89e464efb63f54ddac96b0a0a235f53aa78");
        assert_eq!(signature(&["486452656", "AAAAA", "1714037059"]), "899cf89e464efb63f54ddac96b0a0a235f53aa78");
    }

    #[test]
    fn signature_comparison_rejects_any_difference() {
        let good = signature(&["t", "1", "2"]);
        assert!(check_signature(&good, &good, "signature", "x").is_ok());
        assert!(check_signature(&good.to_ascii_uppercase(), &good, "signature", "x").is_ok());
        let mut bad = good.clone().into_bytes();
        bad[39] = if bad[39] == b'0' { b'1' } else { b'0' };
        assert!(check_signature(std::str::from_utf8(&bad).unwrap(), &good, "signature", "x").is_err());
        assert!(check_signature(&good[..39], &good, "signature", "x").is_err());
        assert!(check_signature("", &good, "signature", "x").is_err());
    }

    #[test]
    fn non_canonical_keys_need_the_lenient_decoder() {
        assert!(STANDARD.decode(format!("{KEY}=")).is_err(), "the strict decoder rejects the official key");
        assert_eq!(key().0.len(), 32);
        assert!(decode_encoding_aes_key(&"A".repeat(43), "k").is_ok());
    }

    #[test]
    fn round_trip_with_fixed_random() {
        let random = *b"aaaabbbbccccdddd";
        let enc = encrypt_message(&key(), APPID, &random, "我是中文abcd123".as_bytes()).unwrap();
        assert_eq!(enc, "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==");
        let ct = STANDARD.decode(&enc).unwrap();
        assert_eq!(decrypt_message(&key(), APPID, &ct).unwrap(), "我是中文abcd123");
    }

    #[test]
    fn padding_is_to_32_bytes() {
        // 16 + 4 + 0 + 12 = 32 bytes of content → a whole extra block of 32 × 0x20.
        let enc = encrypt_message(&key(), "wx0123456789", b"0123456789abcdef", b"").unwrap();
        let mut ct = STANDARD.decode(enc).unwrap();
        assert_eq!(ct.len(), 64);
        aes_cbc(&key(), &mut ct, false).unwrap();
        assert!(ct[32..].iter().all(|&b| b == 32));
    }

    #[test]
    fn pad_byte_zero_and_33_are_rejected() {
        let content = layout(b"<xml/>", APPID); // 44 bytes
        let zero = raw_encrypt(&padded(content.clone(), 64, 0));
        let err = decrypt_message(&key(), APPID, &zero).unwrap_err();
        assert!(err.contains("pad length 0"), "{err}");
        let big = raw_encrypt(&padded(content.clone(), 96, 33));
        let err = decrypt_message(&key(), APPID, &big).unwrap_err();
        assert!(err.contains("pad length 33"), "{err}");
        // The largest valid pad (32): 64 bytes of content, a whole block of 0x20.
        let full = layout(b"<xml>abcdefghijklmno</xml>", APPID);
        assert_eq!(full.len(), 64);
        let ok = raw_encrypt(&padded(full, 96, 32));
        assert_eq!(decrypt_message(&key(), APPID, &ok).unwrap(), "<xml>abcdefghijklmno</xml>");
    }

    #[test]
    fn unequal_pad_bytes_are_rejected() {
        let mut v = padded(layout(b"<xml/>", APPID), 64, 20);
        v[50] = 19;
        let err = decrypt_message(&key(), APPID, &raw_encrypt(&v)).unwrap_err();
        assert!(err.contains("pad bytes differ"), "{err}");
    }

    #[test]
    fn length_prefix_is_bounds_checked() {
        let mut v = layout(b"<xml/>", APPID);
        v[16..20].copy_from_slice(&1000u32.to_be_bytes());
        let len = v.len();
        let v = padded(v, 64, (64 - len) as u8);
        let err = decrypt_message(&key(), APPID, &raw_encrypt(&v)).unwrap_err();
        assert!(err.contains("length prefix (1000)"), "{err}");
        let short = raw_encrypt(&padded(b"0123456789abcdef".to_vec(), 32, 16));
        let err = decrypt_message(&key(), APPID, &short).unwrap_err();
        assert!(err.contains("shorter"), "{err}");
    }

    #[test]
    fn appid_must_match() {
        let enc = encrypt_message(&key(), "wxOTHER", b"0123456789abcdef", b"<xml/>").unwrap();
        let err = decrypt_message(&key(), APPID, &STANDARD.decode(enc).unwrap()).unwrap_err();
        assert!(err.contains("\"wxOTHER\"") && err.contains(APPID), "{err}");
    }

    #[test]
    fn xml_children_cdata_entities_and_nesting() {
        let doc = xml::parse(
            "<?xml version=\"1.0\"?>\n<!-- c --><xml a='1'>\n<A><![CDATA[x<y]]></A><B>1 &lt; 2 &amp; &#x4E2D;&#25991;</B><C/><D><i>1</i><i>2</i></D><!-- c --></xml>\n",
        )
        .unwrap();
        let get = |n: &str| doc.children.iter().find(|c| c.name == n).unwrap().value.clone();
        assert_eq!(get("A"), "x<y");
        assert_eq!(get("B"), "1 < 2 & 中文");
        assert_eq!(get("C"), "");
        assert_eq!(get("D"), "<i>1</i><i>2</i>");
    }

    #[test]
    fn xml_rejections() {
        let cases: &[(&str, &str)] = &[
            ("<!DOCTYPE xml [<!ENTITY a \"b\">]><xml><A>&a;</A></xml>", "DOCTYPE"),
            ("<?xml version='1.0'?><!doctype xml><xml/>", "DOCTYPE"),
            ("<xml><!DOCTYPE x><A/></xml>", "DOCTYPE"),
            ("<?xml-stylesheet href='x'?><xml/>", "processing instructions"),
            ("<xml><?php echo 1 ?></xml>", "processing instructions"),
            ("<xml><A><?x?></A></xml>", "processing instructions"),
            ("<root><A/></root>", "root element must be <xml>"),
            ("", "no root element"),
            ("<xml><A>1</A>", "not closed"),
            ("<xml><A>1</B></xml>", "</B> closes <A>"),
            ("<xml><A>&foo;</A></xml>", "unknown entity"),
            ("<xml><A>a & b</A></xml>", "unescaped '&'"),
            ("<xml><A>&#0;</A></xml>", "invalid character reference"),
            ("<xml><A>1</A><A>2</A></xml>", "more than once"),
            ("<xml>text</xml>", "text directly inside"),
            ("<xml/><xml/>", "content after"),
            ("<xml><A><![CDATA[x</A></xml>", "unterminated CDATA"),
        ];
        for (input, want) in cases {
            match xml::parse(input) {
                Ok(_) => panic!("accepted {input:?}"),
                Err(e) => assert!(e.contains(want), "{input:?}: {e}"),
            }
        }
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(xml::parse(&deep).unwrap_err().contains("nested"));
    }

    #[test]
    fn typed_errors_name_the_field_not_the_value() {
        let fields: Vec<(String, String)> = [
            ("ToUserName", "gh"),
            ("FromUserName", "o"),
            ("CreateTime", "1"),
            ("MsgType", "event"),
            ("Event", "modify_store_audit_info"),
            ("audit_id", "SECRETVALUE"),
            ("status", "1"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let err = typed::<ModifyStoreAuditEvent>(&fields, "modify_store_audit_info").unwrap_err().to_string();
        assert!(err.contains("modify_store_audit_info") && err.contains("`audit_id`"), "{err}");
        assert!(!err.contains("SECRETVALUE"), "{err}");
        let err = typed::<ModifyStoreAuditEvent>(&fields[..5], "modify_store_audit_info").unwrap_err().to_string();
        assert!(err.contains("audit_id"), "{err}");
    }

    #[test]
    fn debug_output_is_redacted() {
        let config = WxaPushConfig {
            token: "TOKENVALUE".into(),
            encoding_aes_key: Some(KEY.into()),
            previous_encoding_aes_key: Some("A".repeat(43)),
            appid: APPID.into(),
        };
        let shown = format!("{config:?} {:?}", WxaPushReceiver::new(config.clone()).unwrap());
        assert!(!shown.contains("TOKENVALUE") && !shown.contains(KEY) && !shown.contains("AAAAAAAA"), "{shown}");
        assert!(shown.contains(APPID));
    }
}
