//! The exported receiver: [`WxaPushConfig`], [`WxaPushReceiver`] (URL verification, verifying
//! and decrypting a POST push, encrypting a reply, trying the previous EncodingAESKey during a
//! rotation), the [`WxaPush`] it returns, and the parsing behind `wxa_parse_push`. The
//! exported constructor, methods and function are thin calls into this file, in
//! `crate::ffi::wxa`. It checks query parameters and signatures and leaves the message crypto
//! to `crypto`, the XML to `xml` and the typed events to `event`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::crypto::{check_signature, decode_encoding_aes_key, decrypt_message, encrypt_message, signature, AesKey};
use super::event::{event_from_fields, WxaEvent};
use super::freshness::Freshness;
use super::xml;
use crate::error::MendianError;

/// How pushes to your server URL are secured (the 服务器配置 of the official account: URL,
/// Token, EncodingAESKey and 消息加解密方式).
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
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
    /// How far (seconds, either way) a push's `timestamp` may be from local time; older or
    /// newer pushes are refused as replays. 0 turns the check off (only for replaying saved
    /// samples). Default 300.
    #[uniffi(default = 300)]
    pub max_timestamp_skew_seconds: u32,
    /// With an EncodingAESKey configured, plain-mode pushes are refused unless this is set:
    /// their `signature` covers only token, timestamp and nonce, not the body, so anyone who
    /// saw one push URL could forge any event. Set it only while switching the console from
    /// 明文模式 to 安全模式. Default false.
    #[uniffi(default = false)]
    pub accept_plain_mode: bool,
}

impl fmt::Debug for WxaPushConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WxaPushConfig")
            .field("token", &"<redacted>")
            .field("encoding_aes_key", &self.encoding_aes_key.as_ref().map(|_| "<redacted>"))
            .field("previous_encoding_aes_key", &self.previous_encoding_aes_key.as_ref().map(|_| "<redacted>"))
            .field("appid", &self.appid)
            .field("max_timestamp_skew_seconds", &self.max_timestamp_skew_seconds)
            .field("accept_plain_mode", &self.accept_plain_mode)
            .finish()
    }
}

crate::display_as_debug!(WxaPushConfig);

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

/// Verifies, decrypts and parses pushes to your server URL, and encrypts replies.
#[derive(uniffi::Object)]
pub struct WxaPushReceiver {
    token: String,
    key: Option<AesKey>,
    previous_key: Option<AesKey>,
    appid: String,
    accept_plain_mode: bool,
    freshness: Freshness,
}

impl fmt::Debug for WxaPushReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WxaPushReceiver")
            .field("token", &"<redacted>")
            .field("key", &self.key)
            .field("previous_key", &self.previous_key)
            .field("appid", &self.appid)
            .field("accept_plain_mode", &self.accept_plain_mode)
            .field("freshness", &self.freshness)
            .finish()
    }
}

impl WxaPushReceiver {
    /// Checks the configuration and decodes the EncodingAESKeys; exported as
    /// `WxaPushReceiver::new` (in `crate::ffi::wxa`).
    pub(crate) fn create(config: WxaPushConfig) -> Result<Arc<Self>, MendianError> {
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
        Ok(Arc::new(WxaPushReceiver {
            token: config.token,
            key,
            previous_key,
            appid: config.appid,
            accept_plain_mode: config.accept_plain_mode,
            freshness: Freshness::new(config.max_timestamp_skew_seconds),
        }))
    }

    /// The echostr that answers a URL verification; exported as
    /// [`WxaPushReceiver::verify_url`] (in `crate::ffi::wxa`).
    pub(crate) fn url_echo(&self, query: HashMap<String, String>) -> Result<String, MendianError> {
        let timestamp = required_param(&query, "timestamp")?;
        let nonce = required_param(&query, "nonce")?;
        let echostr = required_param(&query, "echostr")?;
        let plain = param(&query, "signature");
        if let Some(sig) = plain {
            self.check_plain_signature(sig, timestamp, nonce)?;
        }
        self.freshness.check_window(timestamp, now())?;
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
            None if plain.is_some() => {
                check_plain_echostr(echostr)?;
                Ok(echostr.to_string())
            }
            None => Err(missing("signature", " (or msg_signature for a safe-mode URL verification)")),
        }
    }

    /// Verifies, decrypts and parses a POST push; exported as [`WxaPushReceiver::receive`]
    /// (in `crate::ffi::wxa`).
    pub(crate) fn open_push(&self, query: HashMap<String, String>, body: String) -> Result<WxaPush, MendianError> {
        let timestamp = required_param(&query, "timestamp")?;
        let nonce = required_param(&query, "nonce")?;
        let plain = param(&query, "signature");
        if let Some(sig) = plain {
            self.check_plain_signature(sig, timestamp, nonce)?;
        }
        let now = now();
        let ts = self.freshness.check_window(timestamp, now)?;
        let outer =
            xml::parse(&body).map_err(|reason| MendianError::Decode { what: "the push body".into(), reason })?;
        let encrypt = outer.children.iter().find(|c| c.name == "Encrypt").map(|c| c.value.as_str());
        let aes_requested = param(&query, "encrypt_type").is_some_and(|t| t.eq_ignore_ascii_case("aes"));
        let safe = aes_requested || (encrypt.is_some() && self.key.is_some());
        if !safe {
            if plain.is_none() {
                return Err(missing("signature", ""));
            }
            if self.key.is_some() && !self.accept_plain_mode {
                return Err(MendianError::Signature {
                    reason: "a plain-mode push was refused: with encoding_aes_key configured only safe-mode (encrypted) pushes are accepted, because a plain `signature` does not cover the body (set accept_plain_mode to accept them while switching modes)".into(),
                });
            }
            let event = event_from_document(outer, &body)?;
            self.freshness.remember(ts, nonce, now)?;
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
        let event = parse_push(&xml)?;
        self.freshness.remember(ts, nonce, now)?;
        Ok(WxaPush { event, xml, encrypted: true, used_previous_key })
    }

    /// The encrypted reply envelope; exported as [`WxaPushReceiver::encrypt_reply`] (in
    /// `crate::ffi::wxa`).
    pub(crate) fn seal_reply(
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

/// Parses a plaintext push XML without any verification; exported as `wxa_parse_push` (in
/// `crate::ffi::wxa`).
pub(crate) fn parse_push(xml: &str) -> Result<WxaEvent, MendianError> {
    let doc = xml::parse(xml).map_err(|reason| MendianError::Decode { what: "the push XML".into(), reason })?;
    event_from_document(doc, xml)
}

/// The longest plain-mode `echostr` answered (WeChat sends a decimal number of about 19 digits).
const MAX_ECHOSTR: usize = 128;

/// A plain-mode `echostr` is not covered by `signature` and is echoed back verbatim: only
/// letters, digits, `-` and `_` are reflected, so the endpoint cannot serve attacker content.
fn check_plain_echostr(echostr: &str) -> Result<(), MendianError> {
    if echostr.len() > MAX_ECHOSTR || !echostr.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(MendianError::Signature {
            reason: format!(
                "query parameter `echostr` must be at most {MAX_ECHOSTR} letters, digits, '-' or '_' (WeChat sends a number); it is not echoed"
            ),
        });
    }
    Ok(())
}

fn now() -> i64 {
    crate::runtime::clock::system_now()
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

/// The children of `<xml>` as (name, value) pairs, in document order, mapped to a [`WxaEvent`].
fn event_from_document(doc: xml::Document, raw: &str) -> Result<WxaEvent, MendianError> {
    let fields: Vec<(String, String)> = doc.children.into_iter().map(|c| (c.name, c.value)).collect();
    event_from_fields(fields, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APPID: &str = "wxb11529c136998cb6";

    #[test]
    fn debug_output_is_redacted() {
        let config = WxaPushConfig {
            token: "TOKENVALUE".into(),
            encoding_aes_key: Some(KEY.into()),
            previous_encoding_aes_key: Some("A".repeat(43)),
            appid: APPID.into(),
            max_timestamp_skew_seconds: 0,
            accept_plain_mode: false,
        };
        let shown = format!("{config:?} {:?}", WxaPushReceiver::new(config.clone()).unwrap());
        assert!(!shown.contains("TOKENVALUE") && !shown.contains(KEY) && !shown.contains("AAAAAAAA"), "{shown}");
        assert!(shown.contains(APPID));
    }
}
