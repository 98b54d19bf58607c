//! TOP request signing: the canonical string and the three digest methods.
//!
//! The canonical string is every parameter except `sign`, sorted by name in byte order,
//! written as `name` + `value` with no separators; parameters whose value is empty or only
//! whitespace are left out (of the request too). `md5` digests `secret + s + secret`, `hmac`
//! is HMAC-MD5 keyed with the secret, `hmac-sha256` is HMAC-SHA256 keyed with the secret; the
//! result is upper-case hex.
//!
//! Signing is a trait ([`TopSigner`]) so a Kotlin, Swift or Python app can keep the app
//! secret on its server and sign there; [`TopAppSecretSigner`] is the built-in one.

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::error::MendianError;

/// Exported from `crate::ffi::top`; re-exported here for Rust callers.
pub use crate::ffi::top::top_app_secret_signer;

/// The digest TOP uses for `sign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum TopSignMethod {
    /// `md5`: MD5(secret + canonical + secret).
    Md5,
    /// `hmac`: HMAC-MD5 keyed with the secret.
    Hmac,
    /// `hmac-sha256`: HMAC-SHA256 keyed with the secret (the default).
    HmacSha256,
}

impl TopSignMethod {
    /// The `sign_method` parameter value.
    pub fn wire_value(self) -> &'static str {
        match self {
            TopSignMethod::Md5 => "md5",
            TopSignMethod::Hmac => "hmac",
            TopSignMethod::HmacSha256 => "hmac-sha256",
        }
    }

    /// Parses a `sign_method` value.
    pub fn from_wire(s: &str) -> Option<TopSignMethod> {
        match s {
            "md5" => Some(TopSignMethod::Md5),
            "hmac" => Some(TopSignMethod::Hmac),
            "hmac-sha256" => Some(TopSignMethod::HmacSha256),
            _ => None,
        }
    }
}

/// Whether a parameter value is sent (and signed) at all.
pub fn is_sent(value: &str) -> bool {
    !value.trim().is_empty()
}

/// The canonical string of the parameters (`sign` and unsent values excluded).
pub fn canonical_string(params: &BTreeMap<String, String>) -> String {
    let mut s = String::new();
    for (k, v) in params {
        if k != "sign" && is_sent(v) {
            s.push_str(k);
            s.push_str(v);
        }
    }
    s
}

fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Signs a canonical string with a secret given as bytes.
pub fn sign_with_secret(method: TopSignMethod, secret: &[u8], canonical: &str) -> String {
    match method {
        TopSignMethod::Md5 => {
            let mut h = Md5::new();
            h.update(secret);
            h.update(canonical.as_bytes());
            h.update(secret);
            hex_upper(&h.finalize())
        }
        TopSignMethod::Hmac => {
            let mut m = <Hmac<Md5> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
            m.update(canonical.as_bytes());
            hex_upper(&m.finalize().into_bytes())
        }
        TopSignMethod::HmacSha256 => {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
            m.update(canonical.as_bytes());
            hex_upper(&m.finalize().into_bytes())
        }
    }
}

/// One TOP call to sign, in parts, so that a signer on a server can decide whether to sign
/// it: a signing backend is an oracle for whoever can reach it, so it must sign only calls it
/// allows (see the README's "Signing on a server").
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct TopSignRequest {
    /// The sign method.
    pub sign_method: TopSignMethod,
    /// The API name (`tmall.servicecenter.worker.create`, …), also in `params["method"]`.
    pub api_name: String,
    /// Every parameter that is signed and sent (system and business), without `sign`.
    pub params: std::collections::HashMap<String, String>,
    /// The text to sign: the sorted `name`+`value` concatenation of `params`. A backend should
    /// rebuild it from the parameters it checked rather than sign this as given.
    pub canonical: String,
}

impl std::fmt::Debug for TopSignRequest {
    /// `session` (a user's authorisation) is shown as `<redacted>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut params: Vec<(&String, &str)> =
            self.params.iter().map(|(k, v)| (k, if k == "session" { "<redacted>" } else { v.as_str() })).collect();
        params.sort();
        f.debug_struct("TopSignRequest")
            .field("sign_method", &self.sign_method)
            .field("api_name", &self.api_name)
            .field("params", &params)
            .field("canonical", &"<redacted: holds the session>")
            .finish()
    }
}

crate::display_as_debug!(TopSignRequest);

/// Produces TOP signatures. Implement it in Kotlin, Swift or Python to sign on a server (the
/// app secret then never reaches the device): the SDK passes the call in parts and its
/// canonical string, and expects the upper-case hex signature back.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait TopSigner: Send + Sync {
    /// Signs `request.canonical` with `request.sign_method`.
    async fn sign(&self, request: TopSignRequest) -> Result<String, MendianError>;
}

/// The built-in signer: holds the app secret in memory and never prints it. Kotlin, Swift
/// and Python get it from [`top_app_secret_signer`].
pub struct TopAppSecretSigner {
    secret: String,
}

impl fmt::Debug for TopAppSecretSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TopAppSecretSigner { secret: <redacted> }")
    }
}

impl TopAppSecretSigner {
    /// A signer for this app secret. Fails if the secret is empty.
    pub fn new(app_secret: String) -> Result<std::sync::Arc<Self>, MendianError> {
        if app_secret.trim().is_empty() {
            return Err(MendianError::Credentials { reason: "the TOP app secret is empty".into() });
        }
        Ok(std::sync::Arc::new(TopAppSecretSigner { secret: app_secret }))
    }
}

#[async_trait::async_trait]
impl TopSigner for TopAppSecretSigner {
    async fn sign(&self, request: TopSignRequest) -> Result<String, MendianError> {
        Ok(sign_with_secret(request.sign_method, self.secret.as_bytes(), &request.canonical))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_only_values_are_not_signed() {
        let params: BTreeMap<String, String> =
            [("b", "2"), ("a", "1"), ("empty", ""), ("blank", "  "), ("sign", "X"), ("c", " 3")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(canonical_string(&params), "a1b2c 3");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = TopAppSecretSigner::new("very-secret".into()).unwrap();
        assert!(!format!("{s:?}").contains("very-secret"));
        assert!(TopAppSecretSigner::new(" ".into()).is_err());
    }
}
