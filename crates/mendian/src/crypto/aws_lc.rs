//! RSA on aws-lc-rs (the default backend).

use std::fmt;

use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1};
use aws_lc_rs::signature::{self, KeyPair, ParsedPublicKey, RsaKeyPair};

use super::{creds, der};
use crate::error::MendianError;

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

/// An RSA public key (WeChat Pay public key or platform certificate key), parsed once for
/// verifying and for encrypting: every request that carries a sensitive field uses it.
#[derive(Clone)]
pub struct RsaPublicKey {
    spki: Vec<u8>,
    verifying: ParsedPublicKey,
    encrypting: PublicEncryptingKey,
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
        let verifying = ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &pkcs1)
            .map_err(|e| creds(format!("public key rejected for RSA-SHA256 verification: {e}")))?;
        let encrypting = PublicEncryptingKey::from_der(spki).map_err(|_| creds("the public key cannot encrypt (not an RSA key)"))?;
        Ok(RsaPublicKey { spki: spki.to_vec(), verifying, encrypting })
    }

    /// From a `-----BEGIN PUBLIC KEY-----` PEM (the WeChat Pay public key file).
    pub fn from_pem(pem: &str) -> Result<RsaPublicKey, MendianError> {
        let spki = der::pem_block(pem, "PUBLIC KEY").map_err(|e| creds(format!("WeChat Pay public key: {}", e.0)))?;
        RsaPublicKey::from_spki(&spki)
    }

    /// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature.
    pub fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifying.verify_sig(message, signature).is_ok()
    }

    /// RSA-OAEP (SHA-1, MGF1-SHA-1, no label) encryption.
    pub fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, MendianError> {
        let key = OaepPublicEncryptingKey::new(self.encrypting.clone()).map_err(|_| creds("the platform public key cannot encrypt with OAEP"))?;
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

