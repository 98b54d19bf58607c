//! APIv3 signatures: the request signing string and `Authorization` header, the response
//! (and notification) verification string, and the merchant signer trait.
//!
//! Requests sign `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`, where URL is the path plus the
//! query exactly as sent (already percent-encoded) and BODY the exact bytes sent. Responses
//! are verified over `TIMESTAMP\nNONCE\nBODY\n` with the raw body, including the empty body
//! of a 204.

use std::fmt;

use crate::crypto::{b64, b64_decode, RsaPrivateKey};
use crate::error::MendianError;

/// Exported from `crate::ffi::wechatpay`; re-exported here for Rust callers.
pub use crate::ffi::wechatpay::wechatpay_pem_signer;

/// The `Authorization` scheme.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// Prefix of WeChat Pay's signature probe traffic: such a signature never verifies.
pub const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";
/// Accepted clock difference between the response timestamp and local time, in seconds.
pub const CLOCK_WINDOW_SECONDS: i64 = 300;

/// The request signing string.
pub fn request_message(method: &str, url: &str, timestamp: i64, nonce: &str, body: &str) -> String {
    format!("{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n")
}

/// The response / notification verification string.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + 64);
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// The `Authorization` header value.
pub fn authorization(mchid: &str, serial_no: &str, nonce: &str, timestamp: i64, signature_b64: &str) -> String {
    format!("{SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature_b64}\",timestamp=\"{timestamp}\",serial_no=\"{serial_no}\"")
}

/// One request to sign, in parts, so that a signer on a server can decide whether to sign it:
/// a signing backend is an oracle for whoever can reach it, so it must sign only requests it
/// allows (see the README's "Signing on a server").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WechatpaySignRequest {
    /// The endpoint, as the spec names it (`register_guide`, `update_guide`,
    /// `download_certificates`, …).
    pub endpoint: String,
    /// The HTTP method (`GET`, `POST`, `PATCH`).
    pub method: String,
    /// The path and query exactly as sent (`/v3/smartguide/guides/123?…`).
    pub url: String,
    /// The Unix timestamp of the `Authorization` header.
    pub timestamp: i64,
    /// The nonce of the `Authorization` header.
    pub nonce: String,
    /// The body exactly as sent (empty for GET).
    pub body: String,
    /// The text to sign: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` of the fields above. A
    /// backend should rebuild it from the fields it checked rather than sign this as given.
    pub message: String,
}

/// The merchant's private-key operations. Implement it in Kotlin, Swift or Python to keep the
/// merchant key in a keystore or on your server: `sign` returns the base64 SHA256-RSA
/// signature of a request, `decrypt` returns the plaintext of a base64 RSA-OAEP (SHA-1)
/// ciphertext that WeChat Pay encrypted with the merchant certificate's public key.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait WechatpayMerchantSigner: Send + Sync {
    /// Base64 of RSASSA-PKCS1-v1_5-SHA256 over the UTF-8 `request.message`.
    async fn sign(&self, request: WechatpaySignRequest) -> Result<String, MendianError>;
    /// Plaintext of a base64 RSA-OAEP (SHA-1, MGF1-SHA-1) ciphertext.
    async fn decrypt(&self, ciphertext_base64: String) -> Result<String, MendianError>;
}

/// The built-in signer: a merchant private key held in this process.
pub struct PemMerchantSigner {
    key: RsaPrivateKey,
}

impl fmt::Debug for PemMerchantSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PemMerchantSigner(<redacted>)")
    }
}

impl PemMerchantSigner {
    /// From a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM key.
    pub fn new(private_key_pem: &str) -> Result<PemMerchantSigner, MendianError> {
        Ok(PemMerchantSigner { key: RsaPrivateKey::from_pem(private_key_pem)? })
    }
}

#[async_trait::async_trait]
impl WechatpayMerchantSigner for PemMerchantSigner {
    async fn sign(&self, request: WechatpaySignRequest) -> Result<String, MendianError> {
        Ok(b64(&self.key.sign_sha256(request.message.as_bytes())?))
    }

    async fn decrypt(&self, ciphertext_base64: String) -> Result<String, MendianError> {
        let ct = b64_decode(&ciphertext_base64)
            .ok_or_else(|| MendianError::Decode { what: "an encrypted field".into(), reason: "not base64".into() })?;
        String::from_utf8(self.key.decrypt_oaep_sha1(&ct)?)
            .map_err(|_| MendianError::Decode { what: "an encrypted field".into(), reason: "the plaintext is not UTF-8".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_signing_string() {
        assert_eq!(
            request_message("GET", "/v3/certificates", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", ""),
            "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
        );
        assert_eq!(response_message("1", "n", b""), b"1\nn\n\n");
    }

    #[test]
    fn authorization_header_shape() {
        let h = authorization("1900009191", "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", "593BEC0C", 1554208460, "uOVRnA4qG/==");
        assert_eq!(
            h,
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\"593BEC0C\",signature=\"uOVRnA4qG/==\",timestamp=\"1554208460\",serial_no=\"1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C\""
        );
    }
}
