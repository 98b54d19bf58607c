//! The message crypto of WeChat pushes (消息加解密): decoding the non-canonical EncodingAESKey,
//! the AES-256-CBC message format (16 random bytes, a big-endian u32 length, the message, the
//! appid, PKCS#7 to a multiple of 32, validated strictly), the appid check, and the SHA-1
//! `signature` / `msg_signature` with a constant-time comparison. The AES-CBC primitive itself
//! is [`crate::crypto::aes_256_cbc_in_place`]; this file holds the WeChat-specific layer.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};

use crate::error::MendianError;

/// The PKCS#7 block size WeChat uses for message encryption (K = 32, not the AES block size).
const PKCS7_BLOCK: usize = 32;

/// A decoded EncodingAESKey.
#[derive(Clone)]
pub(super) struct AesKey([u8; 32]);

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

/// The plain `signature` (token, timestamp, nonce) or, with `encrypt`, the `msg_signature`;
/// exported as `wxa_push_signature` (in `crate::ffi::wxa`).
pub(crate) fn push_signature(token: &str, timestamp: &str, nonce: &str, encrypt: Option<&str>) -> String {
    match encrypt {
        Some(e) => signature(&[token, timestamp, nonce, e]),
        None => signature(&[token, timestamp, nonce]),
    }
}

/// The base64 `Encrypt` value of `message` with an explicit 16-byte random prefix; exported
/// as `wxa_push_encrypt_with_random` (in `crate::ffi::wxa`).
pub(crate) fn encrypt_with_random(
    encoding_aes_key: &str,
    appid: &str,
    random: &[u8],
    message: &str,
) -> Result<String, MendianError> {
    let key = decode_encoding_aes_key(encoding_aes_key, "encoding_aes_key")?;
    let random: [u8; 16] = random
        .try_into()
        .map_err(|_| MendianError::invalid("random", format!("must be exactly 16 bytes (got {})", random.len())))?;
    encrypt_message(&key, appid, &random, message.as_bytes())
}

pub(super) fn signature(parts: &[&str]) -> String {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, parts.concat().as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares a received signature with the expected one in constant time (case-insensitive
/// hex).
pub(super) fn check_signature(received: &str, expected: &str, name: &str, covers: &str) -> Result<(), MendianError> {
    let received = received.to_ascii_lowercase();
    aws_lc_rs::constant_time::verify_slices_are_equal(received.as_bytes(), expected.as_bytes()).map_err(|_| {
        MendianError::Signature {
            reason: format!("`{name}` does not match (SHA-1 over {covers}): wrong Token or a forged request"),
        }
    })
}

/// Decodes an EncodingAESKey: 43 characters of A-Z, a-z, 0-9, base64 with the 2 trailing
/// bits ignored (WeChat's keys are not canonical base64), to exactly 32 bytes.
pub(super) fn decode_encoding_aes_key(key: &str, name: &str) -> Result<AesKey, MendianError> {
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

pub(super) fn encrypt_message(
    key: &AesKey,
    appid: &str,
    random: &[u8; 16],
    message: &[u8],
) -> Result<String, MendianError> {
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
pub(super) fn decrypt_message(key: &AesKey, appid: &str, ciphertext: &[u8]) -> Result<String, String> {
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

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

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
}
