//! Key and certificate material as WeChat Pay hands it out: PEM blocks, PKCS#1 and PKCS#8 RSA
//! private keys, SubjectPublicKeyInfo public keys and X.509 certificates. Certificates and
//! public keys are parsed by RustCrypto's `x509-cert`/`spki` (strict DER, fuzzed upstream);
//! this module adds only what mendian needs on top: the serial in the form `Wechatpay-Serial`
//! lookups compare, validity as Unix seconds, the RSA check, and the PKCS#1 → PKCS#8 wrapper
//! aws-lc wants. Certificates here are trusted because they arrive decrypted with the APIv3
//! key or are configured by the merchant, not because of a chain.

use base64::Engine;
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

/// A problem reading key material. Never contains the material itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerError(pub String);

fn err<T>(what: &str) -> Result<T, DerError> {
    Err(DerError(what.to_string()))
}

/// The DER bytes of the first PEM block with this label (`PRIVATE KEY`, `CERTIFICATE`, …).
pub fn pem_block(pem: &str, label: &str) -> Result<Vec<u8>, DerError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or_else(|| DerError(format!("no `{begin}` block")))? + begin.len();
    let stop = pem[start..].find(&end).ok_or_else(|| DerError(format!("no `{end}` line")))? + start;
    let b64: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| DerError(format!("the {label} block is not valid base64")))
}

fn encode_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else if len < 0x10000 {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    } else if len < 0x100_0000 {
        out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    } else {
        out.push(0x84);
        out.extend_from_slice(&u32::try_from(len).expect("a key below 4 GiB").to_be_bytes());
    }
}

fn wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    encode_len(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

/// `AlgorithmIdentifier { rsaEncryption, NULL }`.
const RSA_ALGORITHM_ID: &[u8] = &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

/// Wraps a PKCS#1 `RSAPrivateKey` into a PKCS#8 `PrivateKeyInfo`.
pub fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(RSA_ALGORITHM_ID);
    body.extend_from_slice(&wrap(0x04, pkcs1));
    wrap(0x30, &body)
}

/// PKCS#8 DER of an RSA private key given as PEM (`PRIVATE KEY` or `RSA PRIVATE KEY`).
pub fn private_key_pkcs8(pem: &str) -> Result<Vec<u8>, DerError> {
    if pem.contains("-----BEGIN PRIVATE KEY-----") {
        pem_block(pem, "PRIVATE KEY")
    } else if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
        Ok(pkcs1_to_pkcs8(&pem_block(pem, "RSA PRIVATE KEY")?))
    } else if pem.contains("ENCRYPTED PRIVATE KEY") {
        err("encrypted private keys are not supported: export the key without a passphrase")
    } else {
        err("expected a PEM block `-----BEGIN PRIVATE KEY-----` (PKCS#8) or `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1)")
    }
}

/// An X.509 certificate's serial number (upper-case hex, no leading zeros), validity and
/// SubjectPublicKeyInfo DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Serial number in upper-case hex.
    pub serial_hex: String,
    /// Start of validity (`notBefore`), Unix seconds.
    pub not_before: i64,
    /// End of validity (`notAfter`), Unix seconds.
    pub not_after: i64,
    /// SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
}

impl CertInfo {
    /// Whether the certificate is valid at `now` (Unix seconds).
    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

/// `rsaEncryption`, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Reads the serial number, validity and public key of a DER certificate (one certificate,
/// nothing after it).
pub fn certificate(der: &[u8]) -> Result<CertInfo, DerError> {
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| DerError(format!("not a DER X.509 certificate ({e})")))?;
    let tbs = cert.tbs_certificate();
    let seconds = |t: x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let validity = tbs.validity();
    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| DerError(format!("the certificate's public key does not re-encode ({e})")))?;
    // Upper-case hex without leading zeros, the form `Wechatpay-Serial` lookups compare in
    // (a first byte below 0x10 would otherwise keep a leading `0` nibble).
    let serial = tbs.serial_number().as_bytes().iter().map(|b| format!("{b:02X}")).collect::<String>();
    Ok(CertInfo {
        serial_hex: normalize_serial(&serial),
        not_before: seconds(validity.not_before),
        not_after: seconds(validity.not_after),
        spki,
    })
}

/// The PKCS#1 `RSAPublicKey` inside a SubjectPublicKeyInfo.
pub fn spki_rsa_public_key(spki: &[u8]) -> Result<Vec<u8>, DerError> {
    let info = SubjectPublicKeyInfoRef::from_der(spki).map_err(|e| DerError(format!("not a DER SubjectPublicKeyInfo ({e})")))?;
    if info.algorithm.oid != RSA_ENCRYPTION {
        return err("not an RSA public key");
    }
    let key = info.subject_public_key.as_bytes().ok_or_else(|| DerError("malformed public key bit string".into()))?;
    Ok(key.to_vec())
}

/// Normalises a certificate serial for comparison: upper-case hex without leading zeros.
pub fn normalize_serial(s: &str) -> String {
    let t = s.trim().trim_start_matches('0').to_ascii_uppercase();
    if t.is_empty() {
        "0".into()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMULATOR_CERT: &str = include_str!("../../../../tests/vectors/wechatpay/keys/emulator_platform_certificate.pem");

    fn emulator_der() -> Vec<u8> {
        pem_block(EMULATOR_CERT, "CERTIFICATE").unwrap()
    }

    #[test]
    fn serial_validity_and_key_of_a_certificate() {
        let c = certificate(&emulator_der()).unwrap();
        assert_eq!(c.serial_hex, "3A1F0C9E5B7D2468ACE013579BDF2468ACE01357");
        // UTCTime and GeneralizedTime (after 2049): 2025-01-01T00:00:00Z, 2124-12-31T23:59:59Z.
        assert_eq!((c.not_before, c.not_after), (1_735_689_600, 4_891_363_199));
        assert!(c.valid_at(1_800_000_000) && !c.valid_at(1_735_689_599) && !c.valid_at(4_891_363_200));
        assert!(!spki_rsa_public_key(&c.spki).unwrap().is_empty());
    }

    #[test]
    fn serials_come_out_in_the_form_wechatpay_serial_lookups_use() {
        // A first byte below 0x10 once kept a leading `0` ("01D6"), so such a platform
        // certificate never matched its serial_no (found by the `der` fuzz target).
        let mut der = emulator_der();
        let at = der.windows(3).position(|w| w == [0x02, 0x14, 0x3A]).unwrap() + 2;
        der[at] = 0x01;
        assert_eq!(certificate(&der).unwrap().serial_hex, "11F0C9E5B7D2468ACE013579BDF2468ACE01357");
    }

    #[test]
    fn malformed_certificates_are_refused_without_echoing_them() {
        let der = emulator_der();
        for bad in [&der[..der.len() - 1], &[der.as_slice(), &[0]].concat(), &[0x30, 0x00][..], &[][..]] {
            let e = certificate(bad).unwrap_err();
            assert!(e.0.starts_with("not a DER X.509 certificate"), "{e:?}");
        }
        // A non-RSA or malformed SubjectPublicKeyInfo.
        let ec_spki = [
            0x30, 0x19, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x02, 0x00, 0x04,
        ];
        assert_eq!(spki_rsa_public_key(&ec_spki).unwrap_err().0, "not an RSA public key");
        assert!(spki_rsa_public_key(&[0x30, 0x03, 0x02, 0x01]).is_err());
    }
}
