//! Just enough DER and PEM to read what WeChat Pay hands out: PKCS#1 and PKCS#8 RSA private
//! keys, SubjectPublicKeyInfo public keys and X.509 certificates (serial number and public
//! key). A full X.509 library would be far larger than the two facts we need; certificates
//! here are trusted because they arrive decrypted with the APIv3 key or are configured by the
//! merchant, not because of a chain.

use base64::Engine;

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

/// One TLV: (tag, content, rest of input).
pub fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), DerError> {
    if input.len() < 2 {
        return err("truncated DER");
    }
    let tag = input[0];
    let (len, hdr) = match input[1] {
        l if l < 0x80 => (l as usize, 2),
        0x81 if input.len() > 2 => (input[2] as usize, 3),
        0x82 if input.len() > 3 => (((input[2] as usize) << 8) | input[3] as usize, 4),
        0x83 if input.len() > 4 => (((input[2] as usize) << 16) | ((input[3] as usize) << 8) | input[4] as usize, 5),
        _ => return err("unsupported DER length"),
    };
    if input.len() < hdr + len {
        return err("truncated DER");
    }
    Ok((tag, &input[hdr..hdr + len], &input[hdr + len..]))
}

fn encode_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else if len < 0x10000 {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    } else {
        out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
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

/// Unix seconds of a DER UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`), the two forms RFC 5280 allows.
fn der_time(tag: u8, value: &[u8]) -> Result<i64, DerError> {
    let text = std::str::from_utf8(value).map_err(|_| DerError("a certificate time is not ASCII".into()))?;
    let digits = text.strip_suffix('Z').filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
    let (year, rest) = match (tag, digits) {
        (0x17, Some(d)) if d.len() == 12 => {
            let yy: i64 = d[..2].parse().expect("digits");
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &d[2..])
        }
        (0x18, Some(d)) if d.len() == 14 => (d[..4].parse().expect("digits"), &d[4..]),
        _ => return err("a certificate time must be UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ"),
    };
    let n = |i: usize| -> i64 { rest[i..i + 2].parse().expect("digits") };
    let (month, day, hour, minute, second) = (n(0), n(2), n(4), n(6), n(8));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return err("a certificate time is not a real date and time");
    }
    // Days from civil (proleptic Gregorian), then seconds.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Reads the serial number and public key of a DER certificate.
pub fn certificate(der: &[u8]) -> Result<CertInfo, DerError> {
    let (tag, cert, _) = tlv(der)?;
    if tag != 0x30 {
        return err("a certificate must be a DER SEQUENCE");
    }
    let (tag, tbs, _) = tlv(cert)?;
    if tag != 0x30 {
        return err("malformed tbsCertificate");
    }
    let mut rest = tbs;
    // Optional explicit [0] version.
    let (tag, _, after) = tlv(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    let (tag, serial, after) = tlv(rest)?;
    if tag != 0x02 {
        return err("malformed certificate serial number");
    }
    rest = after;
    // signature AlgorithmIdentifier, issuer.
    for _ in 0..2 {
        rest = tlv(rest)?.2;
    }
    let (tag, validity, after) = tlv(rest)?;
    if tag != 0x30 {
        return err("malformed certificate validity");
    }
    let (tag, value, next) = tlv(validity)?;
    let not_before = der_time(tag, value)?;
    let (tag, value, _) = tlv(next)?;
    let not_after = der_time(tag, value)?;
    // subject.
    rest = tlv(after)?.2;
    let (tag, _, _) = tlv(rest)?;
    if tag != 0x30 {
        return err("malformed subjectPublicKeyInfo");
    }
    let spki_len = rest.len() - tlv(rest)?.2.len();
    // Upper-case hex without leading zeros, the form `Wechatpay-Serial` lookups compare in
    // (a first byte below 0x10 would otherwise keep a leading `0` nibble).
    let serial = serial.iter().map(|b| format!("{b:02X}")).collect::<String>();
    Ok(CertInfo { serial_hex: normalize_serial(&serial), not_before, not_after, spki: rest[..spki_len].to_vec() })
}

/// The PKCS#1 `RSAPublicKey` inside a SubjectPublicKeyInfo.
pub fn spki_rsa_public_key(spki: &[u8]) -> Result<Vec<u8>, DerError> {
    let (_, body, _) = tlv(spki)?;
    let (_, alg, rest) = tlv(body)?;
    // rsaEncryption OID 1.2.840.113549.1.1.1
    if !alg.starts_with(&RSA_ALGORITHM_ID[2..13]) {
        return err("not an RSA public key");
    }
    let (tag, bits, _) = tlv(rest)?;
    if tag != 0x03 || bits.first() != Some(&0) {
        return err("malformed public key bit string");
    }
    Ok(bits[1..].to_vec())
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

    /// SEQUENCE { SEQUENCE { INTEGER serial, 4 × SEQUENCE {}, SEQUENCE {} (the SPKI) } }.
    fn skeleton(serial: &[u8]) -> Vec<u8> {
        let mut tbs = vec![0x02, serial.len() as u8];
        tbs.extend_from_slice(serial);
        tbs.extend_from_slice(&[0x30, 0, 0x30, 0]);
        let validity = [&[0x17, 13][..], b"250101000000Z", &[0x18, 15], b"21241231235959Z"].concat();
        tbs.extend_from_slice(&[0x30, validity.len() as u8]);
        tbs.extend_from_slice(&validity);
        tbs.extend_from_slice(&[0x30, 0, 0x30, 0]);
        let mut cert = vec![0x30, tbs.len() as u8];
        cert.extend(tbs);
        let mut outer = vec![0x30, cert.len() as u8];
        outer.extend(cert);
        outer
    }

    #[test]
    fn serials_come_out_in_the_form_wechatpay_serial_lookups_use() {
        // A first byte below 0x10 once kept a leading `0` ("01D6"), so such a platform
        // certificate never matched its serial_no (found by the `der` fuzz target).
        assert_eq!(certificate(&skeleton(&[0x01, 0xD6])).unwrap().serial_hex, "1D6");
        assert_eq!(certificate(&skeleton(&[0x00, 0x00, 0x0A])).unwrap().serial_hex, "A");
        assert_eq!(certificate(&skeleton(&[0x51, 0x57])).unwrap().serial_hex, "5157");
        assert_eq!(certificate(&skeleton(&[0x00])).unwrap().serial_hex, "0");
    }

    #[test]
    fn validity_is_read_in_both_time_forms() {
        let c = certificate(&skeleton(&[0x01])).unwrap();
        assert_eq!(c.not_before, 1_735_689_600); // 2025-01-01T00:00:00Z
        assert_eq!(c.not_after, 4_891_363_199); // 2124-12-31T23:59:59Z
        assert!(c.valid_at(1_800_000_000) && !c.valid_at(1_735_689_599) && !c.valid_at(4_891_363_200));
        for bad in [&b"2501010000Z"[..], b"251301000000Z", b"250101000000+0800", b"25010100000aZ"] {
            assert!(der_time(0x17, bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
