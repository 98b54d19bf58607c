//! RSA on the pure-Rust `rsa` crate (cargo feature `rsa-backend`), for targets where
//! aws-lc cannot be built. It passes the same known-answer vectors; it is several times
//! slower for private-key operations (see `cargo xtask bench`).

use std::fmt;

use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::sha2::Sha256;
use sha1::Sha1;

use super::{creds, der};
use crate::error::MendianError;

/// A merchant RSA private key: signs requests and decrypts sensitive response fields.
pub struct RsaPrivateKey {
    key: rsa::PrivateKey,
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaPrivateKey(<redacted>)")
    }
}

impl RsaPrivateKey {
    /// Reads a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM key.
    pub fn from_pem(pem: &str) -> Result<RsaPrivateKey, MendianError> {
        let der = der::private_key_pkcs8(pem).map_err(|e| creds(format!("merchant private key: {}", e.0)))?;
        let key = rsa::PrivateKey::from_pkcs8_der(&der).map_err(|_| creds("merchant private key rejected"))?;
        Ok(RsaPrivateKey { key })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256.
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, MendianError> {
        self.key.pkcs1v15_sign::<Sha256>(message).map_err(|_| creds("signing with the merchant private key failed"))
    }

    /// RSA-OAEP (SHA-1, MGF1-SHA-1, no label) decryption.
    pub fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Vec<u8>, MendianError> {
        self.key.oaep_decrypt::<Sha1>(ciphertext).map_err(|_| MendianError::Decode {
            what: "an encrypted field".into(),
            reason: "RSA-OAEP decryption failed (wrong key or not ciphertext)".into(),
        })
    }

    /// The SubjectPublicKeyInfo DER of the matching public key.
    pub fn public_key_spki(&self) -> Vec<u8> {
        self.key.to_public_key().to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }
}

/// An RSA public key (WeChat Pay public key or platform certificate key).
#[derive(Clone)]
pub struct RsaPublicKey {
    key: rsa::PublicKey,
    spki: Vec<u8>,
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({} bytes)", self.spki.len())
    }
}

impl RsaPublicKey {
    /// From SubjectPublicKeyInfo DER.
    pub fn from_spki(spki: &[u8]) -> Result<RsaPublicKey, MendianError> {
        let key = rsa::PublicKey::from_public_key_der(spki).map_err(|_| creds("public key: not an RSA SubjectPublicKeyInfo"))?;
        Ok(RsaPublicKey { key, spki: spki.to_vec() })
    }

    /// From a `-----BEGIN PUBLIC KEY-----` PEM (the WeChat Pay public key file).
    pub fn from_pem(pem: &str) -> Result<RsaPublicKey, MendianError> {
        let spki = der::pem_block(pem, "PUBLIC KEY").map_err(|e| creds(format!("WeChat Pay public key: {}", e.0)))?;
        RsaPublicKey::from_spki(&spki)
    }

    /// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature.
    pub fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.pkcs1v15_verify::<Sha256>(message, signature).is_ok()
    }

    /// RSA-OAEP (SHA-1, MGF1-SHA-1, no label) encryption.
    pub fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, MendianError> {
        self.key
            .oaep_encrypt::<Sha1>(plaintext)
            .map_err(|_| MendianError::invalid("plaintext", format!("{} bytes is too long for RSA-OAEP with this key", plaintext.len())))
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }
}
