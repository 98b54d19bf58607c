//! Cryptography for WeChat Pay APIv3, on aws-lc-rs (constant-time, the library rustls uses):
//! RSA-SHA256 PKCS#1 v1.5 signatures, RSA-OAEP with SHA-1 and MGF1-SHA-1 for sensitive
//! fields, AES-GCM for certificates and notifications, and the key formats merchants have
//! (PKCS#1 or PKCS#8 PEM private keys, `PUBLIC KEY` PEM, X.509 certificates).
//!
//! Key types print as `<redacted>` in Debug output, and errors never include key material.

pub mod der;

use std::fmt;

use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1};
use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;

use crate::error::MendianError;

fn creds(reason: impl Into<String>) -> MendianError {
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

/// A merchant RSA private key: signs requests and decrypts sensitive response fields.
pub struct RsaPrivateKey {
    signing: RsaKeyPair,
    decrypting: PrivateDecryptingKey,
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
        let signing = RsaKeyPair::from_pkcs8(&der).map_err(|e| creds(format!("merchant private key rejected: {e}")))?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(&der).map_err(|e| creds(format!("merchant private key rejected: {e}")))?;
        Ok(RsaPrivateKey { signing, decrypting })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256.
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, MendianError> {
        let mut sig = vec![0u8; self.signing.public_modulus_len()];
        self.signing
            .sign(&signature::RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), message, &mut sig)
            .map_err(|_| creds("signing with the merchant private key failed"))?;
        Ok(sig)
    }

    /// RSA-OAEP (SHA-1, MGF1-SHA-1, no label) decryption.
    pub fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Vec<u8>, MendianError> {
        let key = OaepPrivateDecryptingKey::new(self.decrypting.clone()).map_err(|_| creds("the private key cannot decrypt OAEP"))?;
        let mut out = vec![0u8; key.min_output_size()];
        let pt = key
            .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None)
            .map_err(|_| MendianError::Decode { what: "an encrypted field".into(), reason: "RSA-OAEP decryption failed (wrong key or not ciphertext)".into() })?;
        Ok(pt.to_vec())
    }

    /// The SubjectPublicKeyInfo DER of the matching public key.
    pub fn public_key_spki(&self) -> Vec<u8> {
        // aws-lc-rs exposes the PKCS#1 RSAPublicKey; wrap it as SubjectPublicKeyInfo.
        let pkcs1 = self.signing.public_key().as_ref();
        let mut bits = vec![0u8];
        bits.extend_from_slice(pkcs1);
        let mut bit_string = vec![0x03];
        der_len(bits.len(), &mut bit_string);
        bit_string.extend_from_slice(&bits);
        let mut body = vec![0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
        body.extend_from_slice(&bit_string);
        let mut out = vec![0x30];
        der_len(body.len(), &mut out);
        out.extend_from_slice(&body);
        out
    }
}

fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

/// An RSA public key (WeChat Pay public key or platform certificate key).
#[derive(Clone)]
pub struct RsaPublicKey {
    spki: Vec<u8>,
    pkcs1: Vec<u8>,
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({} bytes)", self.spki.len())
    }
}

impl RsaPublicKey {
    /// From SubjectPublicKeyInfo DER.
    pub fn from_spki(spki: &[u8]) -> Result<RsaPublicKey, MendianError> {
        let pkcs1 = der::spki_rsa_public_key(spki).map_err(|e| creds(format!("public key: {}", e.0)))?;
        Ok(RsaPublicKey { spki: spki.to_vec(), pkcs1 })
    }

    /// From a `-----BEGIN PUBLIC KEY-----` PEM (the WeChat Pay public key file).
    pub fn from_pem(pem: &str) -> Result<RsaPublicKey, MendianError> {
        let spki = der::pem_block(pem, "PUBLIC KEY").map_err(|e| creds(format!("WeChat Pay public key: {}", e.0)))?;
        RsaPublicKey::from_spki(&spki)
    }

    /// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature.
    pub fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.pkcs1).verify(message, signature).is_ok()
    }

    /// RSA-OAEP (SHA-1, MGF1-SHA-1, no label) encryption.
    pub fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, MendianError> {
        let key = PublicEncryptingKey::from_der(&self.spki).map_err(|_| creds("the platform public key cannot encrypt"))?;
        let key = OaepPublicEncryptingKey::new(key).map_err(|_| creds("the platform public key cannot encrypt with OAEP"))?;
        let mut out = vec![0u8; key.ciphertext_size()];
        let ct = key
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut out, None)
            .map_err(|_| MendianError::invalid("plaintext", format!("{} bytes is too long for RSA-OAEP with this key", plaintext.len())))?;
        Ok(ct.to_vec())
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }
}

/// An X.509 certificate's serial and public key, from PEM.
pub fn certificate_from_pem(pem: &str) -> Result<(String, RsaPublicKey), MendianError> {
    let der = der::pem_block(pem, "CERTIFICATE").map_err(|e| creds(format!("certificate: {}", e.0)))?;
    let info = der::certificate(&der).map_err(|e| creds(format!("certificate: {}", e.0)))?;
    Ok((info.serial_hex, RsaPublicKey::from_spki(&info.spki)?))
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
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| MendianError::Decode { what: "an AES-GCM envelope".into(), reason: format!("the nonce must be 12 bytes, got {}", nonce.len()) })?;
    let mut buf = ciphertext.to_vec();
    let pt = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| MendianError::Decode { what: "an AES-GCM envelope".into(), reason: "authentication failed (wrong APIv3 key or tampered data)".into() })?;
    Ok(pt.to_vec())
}

/// A random 32-character nonce of upper-case hex.
pub fn random_nonce() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("the system RNG is available");
    b.iter().map(|x| format!("{x:02X}")).collect()
}
