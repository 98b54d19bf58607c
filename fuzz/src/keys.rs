//! Key and certificate material, through `mendian::crypto` (what a merchant configures and
//! what a platform-certificate download hands over):
//!
//! - [`der`]: DER as `crypto::der` reads it (certificates and SubjectPublicKeyInfo through
//!   x509-cert/spki, PKCS#1 keys wrapped into PKCS#8) and the RSA keys aws-lc then builds
//!   from it;
//! - [`pem`]: PEM text as `pem_block`, `private_key_pkcs8`, `RsaPrivateKey::from_pem`,
//!   `RsaPublicKey::from_pem` and `certificate_from_pem` read it.

use mendian::crypto::der;
use mendian::crypto::{b64, certificate_from_pem, RsaPrivateKey, RsaPublicKey};

use crate::input::{selector, text};
use crate::Outcome;

/// A public key read from outside must never verify an all-zero signature, and it encrypts
/// without panicking (aws-lc parses the fuzzed PKCS#1 key here).
fn use_public_key(key: &RsaPublicKey) {
    assert!(!key.verify_sha256(b"message", &[0u8; 256]), "a zero signature verified");
    let _ = key.encrypt_oaep_sha1(b"13900000000");
}

/// A private key read from outside signs what its own public key verifies.
fn use_private_key(key: &RsaPrivateKey) {
    let sig = key.sign_sha256(b"message").expect("a parsed private key signs");
    let public = RsaPublicKey::from_spki(&key.public_key_spki()).expect("the SPKI of a parsed private key reads back");
    assert!(public.verify_sha256(b"message", &sig), "a private key's own public key rejects its signature");
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", b64(der))
}

/// DER input. The selector byte picks (`% 4`): 0 an X.509 certificate, 1 a
/// SubjectPublicKeyInfo, 2 an RSA private key (the rest as PKCS#1 and as PKCS#8), 3 the RSA
/// key inside a SubjectPublicKeyInfo and serial normalisation.
///
/// A certificate's serial must already be normalised the way `Wechatpay-Serial` headers are
/// looked up (upper-case hex without leading zeros), and its public key must lie inside it;
/// PKCS#1 wrapped into PKCS#8 must read back as the same bytes.
pub fn der(data: &[u8]) -> Outcome {
    let (sel, rest) = selector(data);
    match sel % 4 {
        0 => {
            let result = der::certificate(rest);
            if let Ok(info) = &result {
                assert!(
                    !info.serial_hex.is_empty()
                        && info.serial_hex.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
                    "serial {:?} is not upper-case hex",
                    info.serial_hex
                );
                assert_eq!(
                    der::normalize_serial(&info.serial_hex),
                    info.serial_hex,
                    "the certificate serial is not in the normalised form that Wechatpay-Serial lookups compare against"
                );
                assert!(
                    rest.windows(info.spki.len().max(1)).any(|w| w == info.spki.as_slice()),
                    "the SPKI is not inside the certificate"
                );
                if let Ok(key) = RsaPublicKey::from_spki(&info.spki) {
                    use_public_key(&key);
                }
            }
            Outcome::of(&result)
        }
        1 => {
            let result = RsaPublicKey::from_spki(rest);
            if let Ok(key) = &result {
                use_public_key(key);
            }
            Outcome::of(&result)
        }
        2 => {
            let pkcs8 = der::pkcs1_to_pkcs8(rest);
            let (tag, body, after) = tlv(&pkcs8).expect("a wrapped key is one TLV");
            assert!(tag == 0x30 && after.is_empty());
            let (_, _, after_version) = tlv(body).expect("version");
            let (_, _, after_alg) = tlv(after_version).expect("algorithm");
            let (tag, inner, end) = tlv(after_alg).expect("the key octet string");
            assert!(
                tag == 0x04 && end.is_empty() && inner == rest,
                "pkcs1_to_pkcs8 did not wrap the key byte for byte"
            );
            let pkcs1 = RsaPrivateKey::from_pem(&pem_wrap("RSA PRIVATE KEY", rest));
            if let Ok(key) = &pkcs1 {
                use_private_key(key);
            }
            if let Ok(key) = RsaPrivateKey::from_pem(&pem_wrap("PRIVATE KEY", rest)) {
                use_private_key(&key);
            }
            Outcome::of(&pkcs1)
        }
        _ => {
            let result = der::spki_rsa_public_key(rest);
            if let Ok(key) = &result {
                assert!(rest.windows(key.len().max(1)).any(|w| w == key.as_slice()), "the RSA key is not inside the SPKI");
            }
            let serial = der::normalize_serial(&text(rest));
            assert!(serial == "0" || !serial.starts_with('0'), "normalize_serial kept a leading zero: {serial:?}");
            Outcome::of(&result)
        }
    }
}

/// One DER TLV (tag, content, rest), for checking what `pkcs1_to_pkcs8` wrote: the test's
/// own reader, independent of the one under test.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, &b| acc << 8 | b as usize), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// PEM text (invalid UTF-8 replaced), read as every kind of key material mendian accepts.
/// A block that `pem_block` reads must read back the same from its canonical PEM.
pub fn pem(data: &[u8]) -> Outcome {
    let pem = text(data);
    let mut accepted = false;
    for label in ["CERTIFICATE", "PUBLIC KEY", "PRIVATE KEY", "RSA PRIVATE KEY"] {
        if let Ok(der) = der::pem_block(&pem, label) {
            assert_eq!(der::pem_block(&pem_wrap(label, &der), label).as_ref(), Ok(&der), "{label} did not read back");
        }
    }
    let _ = der::private_key_pkcs8(&pem);
    if let Ok(key) = RsaPrivateKey::from_pem(&pem) {
        use_private_key(&key);
        accepted = true;
    }
    if let Ok(key) = RsaPublicKey::from_pem(&pem) {
        use_public_key(&key);
        accepted = true;
    }
    if let Ok((serial, key)) = certificate_from_pem(&pem) {
        assert!(!serial.is_empty());
        use_public_key(&key);
        accepted = true;
    }
    if accepted {
        Outcome::Accepted
    } else {
        Outcome::Rejected
    }
}
