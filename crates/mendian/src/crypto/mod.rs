//! Cryptography for WeChat Pay APIv3, on aws-lc-rs (constant-time, the library rustls uses;
//! the `rsa-backend` cargo feature moves the RSA operations to the pure-Rust `rsa` crate):
//! RSA-SHA256 PKCS#1 v1.5 signatures, RSA-OAEP with SHA-1 and MGF1-SHA-1 for sensitive
//! fields, AES-GCM for certificates and notifications, and the key formats merchants have
//! (PKCS#1 or PKCS#8 PEM private keys, `PUBLIC KEY` PEM, X.509 certificates); and the
//! unpadded AES-256-CBC of WeChat's message push encryption.
//!
//! Key types print as `<redacted>` in Debug output, and errors never include key material.

pub mod der;

use base64::Engine;

use crate::error::MendianError;

pub(crate) fn creds(reason: impl Into<String>) -> MendianError {
    MendianError::Credentials { reason: reason.into() }
}

/// Standard base64 with padding.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64 (padding required).
pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

#[cfg(not(feature = "rsa-backend"))]
mod aws_lc;
#[cfg(not(feature = "rsa-backend"))]
pub use aws_lc::{RsaPrivateKey, RsaPublicKey};
#[cfg(feature = "rsa-backend")]
mod pure_rust;
#[cfg(feature = "rsa-backend")]
pub use pure_rust::{RsaPrivateKey, RsaPublicKey};

/// Which implementation performs the RSA operations.
pub const RSA_BACKEND: &str = if cfg!(feature = "rsa-backend") { "rsa crate (pure Rust)" } else { "aws-lc-rs" };

/// An X.509 certificate's serial and public key, from PEM.
pub fn certificate_from_pem(pem: &str) -> Result<(String, RsaPublicKey), MendianError> {
    let (info, key) = certificate_info_from_pem(pem)?;
    Ok((info.serial_hex, key))
}

/// A PEM certificate's serial, validity and RSA public key.
pub fn certificate_info_from_pem(pem: &str) -> Result<(der::CertInfo, RsaPublicKey), MendianError> {
    let der = der::pem_block(pem, "CERTIFICATE").map_err(|e| creds(format!("certificate: {}", e.0)))?;
    let info = der::certificate(&der).map_err(|e| creds(format!("certificate: {}", e.0)))?;
    let key = RsaPublicKey::from_spki(&info.spki)?;
    Ok((info, key))
}

/// AES-GCM decryption (AES-256 for 32-byte keys such as the APIv3 key, AES-128 for 16-byte
/// keys); `ciphertext` ends with the 16-byte tag. Key, nonce and associated data are used
/// as raw bytes, as WeChat Pay specifies.
pub fn aes_gcm_decrypt(key: &[u8], nonce: &[u8], aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, MendianError> {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
    let alg = match key.len() {
        32 => &AES_256_GCM,
        16 => &AES_128_GCM,
        n => return Err(creds(format!("the AES-GCM key must be 32 bytes (the APIv3 key), got {n}"))),
    };
    let key = LessSafeKey::new(UnboundKey::new(alg, key).map_err(|_| creds("invalid AES-GCM key"))?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| MendianError::Decode {
        what: "an AES-GCM envelope".into(),
        reason: format!("the nonce must be 12 bytes, got {}", nonce.len()),
    })?;
    let mut buf = ciphertext.to_vec();
    let pt = key.open_in_place(nonce, Aad::from(aad), &mut buf).map_err(|_| MendianError::Decode {
        what: "an AES-GCM envelope".into(),
        reason: "authentication failed (wrong APIv3 key or tampered data)".into(),
    })?;
    Ok(pt.to_vec())
}

/// AES-256-CBC in place without padding (the caller pads): WeChat message encryption pads
/// to 32-byte blocks itself, which no padded CBC mode of the library does. `data` must be a
/// multiple of 16 bytes.
pub fn aes_256_cbc_in_place(key: &[u8; 32], iv: &[u8; 16], data: &mut [u8], encrypt: bool) -> Result<(), MendianError> {
    use aws_lc_rs::cipher::{
        DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256,
    };
    let failed = || MendianError::Decode {
        what: "AES-256-CBC".into(),
        reason: if encrypt { "encryption failed" } else { "decryption failed" }.into(),
    };
    let unbound = UnboundCipherKey::new(&AES_256, key).map_err(|_| failed())?;
    if encrypt {
        let k = EncryptingKey::cbc(unbound).map_err(|_| failed())?;
        k.less_safe_encrypt(data, EncryptionContext::Iv128((*iv).into())).map_err(|_| failed())?;
    } else {
        let k = DecryptingKey::cbc(unbound).map_err(|_| failed())?;
        k.decrypt(data, DecryptionContext::Iv128((*iv).into())).map_err(|_| failed())?;
    }
    Ok(())
}

/// A random 32-character nonce of upper-case hex.
pub fn random_nonce() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("the system RNG is available");
    b.iter().map(|x| format!("{x:02X}")).collect()
}
