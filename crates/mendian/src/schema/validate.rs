//! The validation rules behind the generated `validate` methods.
//!
//! Each rule names the field (as a dotted path into the request) and the rule it broke, so
//! `MendianError::InvalidArgument` tells a Kotlin, Swift or Python caller exactly what to fix
//! before anything is sent.

use crate::error::MendianError;

/// A request or record that can check itself against the documented constraints.
pub trait Validate {
    /// Checks every constraint; `at` is the path of this value inside the request
    /// (empty for the request itself).
    fn validate_at(&self, at: &str) -> Result<(), MendianError>;

    /// Checks every constraint of a whole request.
    fn validate(&self) -> Result<(), MendianError> {
        self.validate_at("")
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_at(&self, at: &str) -> Result<(), MendianError> {
        for (i, item) in self.iter().enumerate() {
            item.validate_at(&format!("{at}[{i}]"))?;
        }
        Ok(())
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_at(&self, at: &str) -> Result<(), MendianError> {
        match self {
            Some(v) => v.validate_at(at),
            None => Ok(()),
        }
    }
}

/// The path of member `name` inside the value at `at`.
pub fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}

/// How string lengths are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthUnit {
    /// Unicode characters.
    Chars,
    /// UTF-8 bytes.
    Bytes,
    /// Display width: ASCII counts 1, any other character 2.
    Width,
}

impl LengthUnit {
    fn measure(self, s: &str) -> usize {
        match self {
            LengthUnit::Chars => s.chars().count(),
            LengthUnit::Bytes => s.len(),
            LengthUnit::Width => s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum(),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            LengthUnit::Chars => "characters",
            LengthUnit::Bytes => "bytes of UTF-8",
            LengthUnit::Width => "in width (a CJK character counts 2)",
        }
    }
}

/// Named string formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `http://` or `https://` URL.
    Url,
    /// `HH:MM-HH:MM`.
    HourRange,
    /// Telephone numbers separated by `;`.
    PhoneList,
    /// `一级:二级`.
    CategoryPair,
    /// Values separated by `|`.
    PipeList,
    /// `yyyy-MM-dd HH:mm:ss`.
    DateTime,
    /// A decimal number as text.
    DecimalString,
    /// ASCII digits.
    Digits,
}

/// The kinds of temporary media `cgi-bin/media/upload` takes, with the formats and size
/// limits of the platform's page (spec/wxa.toml, `WxaMediaType`). For images the page says
/// both 10M and 2MB; 2 MB is the limit that holds everywhere, and the store head image
/// accepts only jpg and png, so those are the image formats checked here.
pub const MEDIA_LIMITS: &[(&str, usize, &[&str])] = &[
    ("image", 2 * 1024 * 1024, &["jpeg", "png"]),
    ("voice", 2 * 1024 * 1024, &["amr", "mp3"]),
    ("video", 10 * 1024 * 1024, &["mp4"]),
    ("thumb", 64 * 1024, &["jpeg"]),
];

/// The format of a media file, by its leading bytes.
pub fn sniff_media(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("gif")
    } else if bytes.starts_with(b"#!AMR") {
        Some("amr")
    } else if bytes.starts_with(b"ID3") || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Some("mp3")
    } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
        Some("mp4")
    } else {
        None
    }
}

/// The MIME type and file extension of a sniffed format.
pub fn media_mime(format: &str) -> (&'static str, &'static str) {
    match format {
        "jpeg" => ("image/jpeg", "jpg"),
        "png" => ("image/png", "png"),
        "gif" => ("image/gif", "gif"),
        "amr" => ("audio/amr", "amr"),
        "mp3" => ("audio/mpeg", "mp3"),
        "mp4" => ("video/mp4", "mp4"),
        _ => ("application/octet-stream", "bin"),
    }
}

/// Checks a media file against the format and size limit of its kind (`image`, …).
pub fn check_media(at: &str, name: &str, bytes: &[u8], kind: &str) -> Result<(), MendianError> {
    let Some((_, max, formats)) = MEDIA_LIMITS.iter().find(|(k, _, _)| *k == kind) else {
        return Err(bad(at, "type", format!("`{kind}` is not a media type this SDK can upload (image, voice, video or thumb)")));
    };
    if bytes.is_empty() {
        return Err(bad(at, name, "must not be empty (多媒体文件为空)".into()));
    }
    if bytes.len() > *max {
        return Err(bad(at, name, format!("must be at most {max} bytes for {kind} (got {})", bytes.len())));
    }
    match sniff_media(bytes) {
        Some(f) if formats.contains(&f) => Ok(()),
        found => Err(bad(
            at,
            name,
            format!(
                "must be {} for {kind} (the file looks like {})",
                formats.iter().map(|f| f.to_uppercase()).collect::<Vec<_>>().join(" or "),
                found.map(str::to_uppercase).unwrap_or_else(|| "none of the known formats".into())
            ),
        )),
    }
}

/// The largest plaintext RSA-2048 OAEP with SHA-1 can encrypt: 256 − 2·20 − 2 bytes.
pub const OAEP_SHA1_RSA2048_MAX_PLAINTEXT: usize = 214;

/// The documented constraints of one string field.
#[derive(Debug, Clone, Copy, Default)]
pub struct StrRules {
    /// Minimum length.
    pub min_len: Option<u32>,
    /// Maximum length.
    pub max_len: Option<u32>,
    /// How lengths are counted (characters when unset).
    pub unit: Option<LengthUnit>,
    /// The field is encrypted before sending; `min_len`/`max_len` are then about the
    /// ciphertext, and this byte limit (capped by what OAEP can encrypt) is about the plaintext.
    pub encrypted: bool,
    /// Byte limit of the plaintext before encryption.
    pub plaintext_max_bytes: Option<u32>,
    /// A checked format.
    pub format: Option<Format>,
    /// Reject 4-byte UTF-8 characters (emoji), which the platform refuses.
    pub no_supplementary: bool,
}

fn bad(at: &str, name: &str, reason: String) -> MendianError {
    MendianError::invalid(join(at, name), reason)
}

/// Checks a string against its rules.
pub fn check_str(at: &str, name: &str, value: &str, rules: &StrRules) -> Result<(), MendianError> {
    if rules.no_supplementary {
        if let Some(c) = value.chars().find(|c| c.len_utf8() == 4) {
            return Err(bad(at, name, format!(
                "contains U+{:04X}, a 4-byte UTF-8 character (such as an emoji), which the platform rejects",
                c as u32
            )));
        }
    }
    if rules.encrypted {
        // The documented length of an encrypted field is about the ciphertext the SDK
        // produces; what the caller controls is the plaintext.
        let limit = rules
            .plaintext_max_bytes
            .map(|b| (b as usize).min(OAEP_SHA1_RSA2048_MAX_PLAINTEXT))
            .unwrap_or(OAEP_SHA1_RSA2048_MAX_PLAINTEXT);
        if value.len() > limit {
            return Err(bad(at, name, format!(
                "must be at most {limit} bytes of UTF-8 before encryption (got {})",
                value.len()
            )));
        }
        if value.is_empty() && rules.min_len.unwrap_or(0) > 0 {
            return Err(bad(at, name, "must not be empty".into()));
        }
    } else {
        let unit = rules.unit.unwrap_or(LengthUnit::Chars);
        let len = unit.measure(value);
        if let Some(min) = rules.min_len {
            if len < min as usize {
                return Err(bad(at, name, if min == 1 && len == 0 {
                    "must not be empty".to_string()
                } else {
                    format!("must be at least {min} {} (got {len})", unit.noun())
                }));
            }
        }
        if let Some(max) = rules.max_len {
            if len > max as usize {
                return Err(bad(at, name, format!("must be at most {max} {} (got {len})", unit.noun())));
            }
        }
    }
    if let Some(format) = rules.format {
        // An empty optional value means "not set" for the platforms; only non-empty values
        // have a format to respect.
        if !value.is_empty() {
            check_format(at, name, value, format)?;
        }
    }
    Ok(())
}

/// Checks an integer against documented bounds.
pub fn check_int(at: &str, name: &str, value: i64, min: Option<i64>, max: Option<i64>) -> Result<(), MendianError> {
    if let Some(min) = min {
        if value < min {
            return Err(bad(at, name, format!("must be at least {min} (got {value})")));
        }
    }
    if let Some(max) = max {
        if value > max {
            return Err(bad(at, name, format!("must be at most {max} (got {value})")));
        }
    }
    Ok(())
}

/// Checks a floating-point number against documented bounds.
pub fn check_float(at: &str, name: &str, value: f64, min: Option<i64>, max: Option<i64>) -> Result<(), MendianError> {
    if !value.is_finite() {
        return Err(bad(at, name, format!("must be a finite number (got {value})")));
    }
    if let Some(min) = min {
        if value < min as f64 {
            return Err(bad(at, name, format!("must be at least {min} (got {value})")));
        }
    }
    if let Some(max) = max {
        if value > max as f64 {
            return Err(bad(at, name, format!("must be at most {max} (got {value})")));
        }
    }
    Ok(())
}

/// Checks the number of items of a list.
pub fn check_items(at: &str, name: &str, len: usize, min: Option<u32>, max: Option<u32>) -> Result<(), MendianError> {
    if let Some(min) = min {
        if len < min as usize {
            return Err(bad(at, name, format!("must have at least {min} items (got {len})")));
        }
    }
    if let Some(max) = max {
        if len > max as usize {
            return Err(bad(at, name, format!("must have at most {max} items (got {len})")));
        }
    }
    Ok(())
}

fn check_format(at: &str, name: &str, v: &str, format: Format) -> Result<(), MendianError> {
    let ok = match format {
        Format::Url => is_url(v),
        Format::HourRange => is_hour_range(v),
        Format::PhoneList => v.split(';').all(|p| {
            let p = p.trim();
            !p.is_empty()
                && p.chars().any(|c| c.is_ascii_digit())
                && p.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ' | '(' | ')'))
        }),
        Format::CategoryPair => {
            let parts: Vec<&str> = v.split(':').collect();
            parts.len() == 2 && parts.iter().all(|p| !p.trim().is_empty())
        }
        Format::PipeList => v.split('|').all(|p| !p.trim().is_empty()),
        Format::DateTime => is_date_time(v),
        Format::DecimalString => is_decimal(v),
        Format::Digits => v.bytes().all(|b| b.is_ascii_digit()),
    };
    if ok {
        return Ok(());
    }
    let expected = match format {
        Format::Url => "an http:// or https:// URL",
        Format::HourRange => "opening hours written HH:MM-HH:MM, e.g. 10:00-21:00",
        Format::PhoneList => "telephone numbers separated by `;`, e.g. 010-6666666;010-6666667",
        Format::CategoryPair => "a category written 一级:二级, e.g. 美食:中餐厅",
        Format::PipeList => "values separated by `|` with none empty, e.g. 123|456",
        Format::DateTime => "a date-time written yyyy-MM-dd HH:mm:ss",
        Format::DecimalString => "a decimal number, e.g. 113.323753357",
        Format::Digits => "decimal digits only",
    };
    Err(bad(at, name, format!("must be {expected} (got {v:?})")))
}

fn is_url(v: &str) -> bool {
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

fn two_digits(s: &str, max: u32) -> Option<u32> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| *n <= max)
}

fn is_hh_mm(s: &str) -> bool {
    match s.split_once(':') {
        Some((h, m)) => match (two_digits(h, 24), two_digits(m, 59)) {
            (Some(24), Some(0)) => true,
            (Some(h), Some(_)) => h < 24,
            _ => false,
        },
        None => false,
    }
}

fn is_hour_range(v: &str) -> bool {
    match v.split_once('-') {
        Some((a, b)) => is_hh_mm(a) && is_hh_mm(b),
        None => false,
    }
}

fn is_date_time(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = &v[r];
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok()).flatten()
    };
    match (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16), num(17..19)) {
        (Some(_), Some(mo), Some(d), Some(h), Some(mi), Some(s)) => {
            (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 60
        }
        _ => false,
    }
}

fn is_decimal(v: &str) -> bool {
    let v = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = v.split_once('.').unwrap_or((v, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(min: u32, max: u32, unit: LengthUnit) -> StrRules {
        StrRules { min_len: Some(min), max_len: Some(max), unit: Some(unit), ..Default::default() }
    }

    #[test]
    fn width_counts_cjk_as_two() {
        let r = rules(4, 30, LengthUnit::Width);
        assert!(check_str("", "nickname", "门店", &r).is_ok()); // width 4
        let err = check_str("", "nickname", "店a", &r).unwrap_err();
        assert_eq!(err, MendianError::invalid("nickname", "must be at least 4 in width (a CJK character counts 2) (got 3)"));
        assert!(check_str("", "nickname", &"店".repeat(16), &r).is_err()); // width 32
    }

    #[test]
    fn bytes_and_chars_differ() {
        let s = "张三张三"; // 4 chars, 12 bytes
        assert!(check_str("", "f", s, &rules(1, 4, LengthUnit::Chars)).is_ok());
        assert!(check_str("", "f", s, &rules(1, 4, LengthUnit::Bytes)).is_err());
    }

    #[test]
    fn encrypted_fields_limit_the_plaintext() {
        let r = StrRules { min_len: Some(1), max_len: Some(512), encrypted: true, plaintext_max_bytes: Some(32), ..Default::default() };
        assert!(check_str("", "mobile", "13900000000", &r).is_ok());
        let err = check_str("", "mobile", &"1".repeat(33), &r).unwrap_err();
        assert_eq!(err, MendianError::invalid("mobile", "must be at most 32 bytes of UTF-8 before encryption (got 33)"));
        let no_doc_limit = StrRules { encrypted: true, ..Default::default() };
        assert!(check_str("", "x", &"a".repeat(215), &no_doc_limit).is_err());
        assert!(check_str("", "x", &"a".repeat(214), &no_doc_limit).is_ok());
    }

    #[test]
    fn supplementary_characters_are_rejected_when_asked() {
        let r = StrRules { no_supplementary: true, ..Default::default() };
        let err = check_str("guide", "name", "张三😀", &r).unwrap_err();
        match err {
            MendianError::InvalidArgument { field, reason } => {
                assert_eq!(field, "guide.name");
                assert!(reason.contains("U+1F600"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(check_str("", "name", "张三", &r).is_ok());
    }

    #[test]
    fn formats() {
        let f = |format, v: &str| check_str("", "f", v, &StrRules { format: Some(format), ..Default::default() }).is_ok();
        assert!(f(Format::HourRange, "10:00-21:00"));
        assert!(f(Format::HourRange, "00:00-24:00"));
        assert!(!f(Format::HourRange, "10:00~21:00"));
        assert!(!f(Format::HourRange, "25:00-21:00"));
        assert!(!f(Format::HourRange, "9:00-21:00"));
        assert!(f(Format::PhoneList, "010-6666666-111; 010-6666666; 010- 6666666-222"));
        assert!(!f(Format::PhoneList, "010-6666666;;"));
        assert!(f(Format::CategoryPair, "美食:中餐厅"));
        assert!(!f(Format::CategoryPair, "美食"));
        assert!(f(Format::Url, "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx"));
        assert!(!f(Format::Url, "ftp://x"));
        assert!(!f(Format::Url, "https:// x"));
        assert!(f(Format::DateTime, "2016-06-28 10:30:00"));
        assert!(!f(Format::DateTime, "2016-06-28T10:30:00"));
        assert!(f(Format::PipeList, "123|456"));
        assert!(!f(Format::PipeList, "123||456"));
        assert!(f(Format::DecimalString, "-23.0974903107"));
        assert!(!f(Format::DecimalString, "23."));
        assert!(f(Format::Digits, "440105"));
        assert!(!f(Format::Digits, "44a"));
    }

    #[test]
    fn numbers_and_items() {
        assert_eq!(check_int("", "limit", 51, Some(0), Some(50)).unwrap_err(), MendianError::invalid("limit", "must be at most 50 (got 51)"));
        assert!(check_int("", "limit", 50, Some(0), Some(50)).is_ok());
        assert_eq!(check_items("a", "ids", 6, None, Some(5)).unwrap_err(), MendianError::invalid("a.ids", "must have at most 5 items (got 6)"));
        assert!(check_float("", "lat", f64::NAN, None, None).is_err());
    }
}
