//! Decoding a JSON answer straight into its response record, in one pass over the bytes.
//!
//! A platform reads a few top-level members of every answer before it trusts the rest (the
//! 门店小程序 `errcode` and `errmsg`), and the documents name lists an answer always carries.
//! Building a `serde_json::Value` of the whole answer for that, then decoding the record
//! from the tree, allocates every key and value twice: for a page of 50 stores that is
//! most of the call's CPU. [`decode_noting`] instead decodes the record from the bytes and,
//! on the way, keeps a copy of the members asked for and notes which top-level members were
//! present.
//!
//! It returns `None` whenever the record cannot be decoded this way (not JSON, another
//! shape, a duplicate member, any type mismatch): the caller then reads the answer the
//! general way (`Value` first), so every error and every lenient case stays what it was.
//!
//! A record skips the members it does not have, and serde_json skips leniently: it does
//! not check that a skipped string is UTF-8 or that its `\u` escapes pair up, nor that a
//! skipped number fits an `f64`. A `Value` of the answer checks all three. So an answer is
//! read this way only when it has none of them to check ([`nothing_to_skip_leniently`]:
//! UTF-8, no `\u` escape of a surrogate, no exponent or 300-digit run); the others are left
//! to the general way.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::CowStrDeserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// What [`decode_noting`] saw at the top level of the answer besides the record.
#[derive(Debug, Default)]
pub struct Noted {
    /// The members asked for (`keep`) that were present, as sent.
    pub kept: Map<String, Value>,
    /// Bit `i` is set when the member `watch[i]` was present.
    present: u64,
}

impl Noted {
    /// Whether the answer had the top-level member `watch[i]`.
    pub fn saw(&self, i: usize) -> bool {
        i < 64 && self.present & (1 << i) != 0
    }
}

/// Decodes `body` as `T` (a record: a JSON object), keeping the top-level members named in
/// `keep` and noting which of those named in `watch` (at most 64) were present; `None` when
/// `body` is not an object that decodes as `T` this way.
pub fn decode_noting<T: DeserializeOwned>(body: &[u8], keep: &[&str], watch: &[&str]) -> Option<(T, Noted)> {
    if watch.len() > 64 {
        return None;
    }
    if !nothing_to_skip_leniently(body) {
        return None;
    }
    let mut noted = Noted::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    let names = Names { keep, watch };
    let value = T::deserialize(Root { de: &mut de, names, noted: &mut noted }).ok()?;
    de.end().ok()?;
    Some((value, noted))
}

/// Whether `body` holds nothing that serde_json skips more leniently than it builds a
/// `Value`: it is UTF-8, has no `\u` escape of a UTF-16 surrogate (paired or not) and no
/// number that could overflow an `f64` (an exponent, or 300 digits in a row). Text inside
/// strings that looks like such a number also says no: the general way then reads it.
fn nothing_to_skip_leniently(body: &[u8]) -> bool {
    if std::str::from_utf8(body).is_err() {
        return false;
    }
    let mut digits = 0usize;
    let mut bytes = body.iter().copied();
    while let Some(b) = bytes.next() {
        match CLASS[usize::from(b)] {
            OTHER => digits = 0,
            DIGIT => {
                digits += 1;
                if digits >= 300 {
                    return false;
                }
            }
            EXPONENT => {
                // An exponent after digits (or text that looks like one).
                if digits > 0 && bytes.clone().next().is_some_and(|c| c.is_ascii_digit() || c == b'+' || c == b'-') {
                    return false;
                }
                digits = 0;
            }
            _ => {
                // A backslash: the escaped character is consumed here (`\\` is one backslash).
                digits = 0;
                if bytes.next() == Some(b'u') {
                    let mut hex = bytes.clone();
                    if matches!(hex.next(), Some(b'd' | b'D'))
                        && matches!(hex.next(), Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'))
                    {
                        return false;
                    }
                    // Its four hex digits are not a number.
                    bytes.nth(3);
                }
            }
        }
    }
    true
}

const OTHER: u8 = 0;
const DIGIT: u8 = 1;
const EXPONENT: u8 = 2;
const BACKSLASH: u8 = 3;

/// What [`nothing_to_skip_leniently`] looks at, by byte.
static CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut d = b'0';
    while d <= b'9' {
        class[d as usize] = DIGIT;
        d += 1;
    }
    class[b'e' as usize] = EXPONENT;
    class[b'E' as usize] = EXPONENT;
    class[b'\\' as usize] = BACKSLASH;
    class
};

/// The member names [`decode_noting`] looks out for.
#[derive(Clone, Copy)]
struct Names<'a> {
    keep: &'a [&'a str],
    watch: &'a [&'a str],
}

/// The answer's top level: hands the record's visitor a map that notes as it goes.
struct Root<'a, 'de> {
    de: &'a mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
    names: Names<'a>,
    noted: &'a mut Noted,
}

impl<'de> Deserializer<'de> for Root<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.de.deserialize_map(Noting { inner: visitor, names: self.names, noted: self.noted })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The record's visitor, given a [`NotingMap`] instead of the parser's map.
struct Noting<'a, V> {
    inner: V,
    names: Names<'a>,
    noted: &'a mut Noted,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Noting<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(NotingMap { map, names: self.names, noted: self.noted, pending: None })
    }
}

/// The answer's top-level members: watched names are noted; a kept member is read once into
/// a `Value`, stored, and handed to the record from that copy.
struct NotingMap<'a, A> {
    map: A,
    names: Names<'a>,
    noted: &'a mut Noted,
    pending: Option<Value>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for NotingMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some(Name(name)) = self.map.next_key::<Name<'de>>()? else { return Ok(None) };
        if let Some(i) = self.names.watch.iter().position(|w| *w == name) {
            self.noted.present |= 1 << i;
        }
        if self.names.keep.contains(&name.as_ref()) {
            let value: Value = self.map.next_value()?;
            self.noted.kept.insert(name.to_string(), value.clone());
            self.pending = Some(value);
        }
        seed.deserialize(CowStrDeserializer::<A::Error>::new(name)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Self::Error> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value).map_err(serde::de::Error::custom),
            None => self.map.next_value_seed(seed),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A member name, borrowed from the body unless it had escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Page {
        #[serde(default)]
        errcode: Option<i64>,
        items: Vec<Item>,
        total: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        name: String,
    }

    #[test]
    fn decodes_the_record_and_keeps_what_was_asked() {
        let body =
            br#"{"errcode":0,"errmsg":"ok","items":[{"name":"\u5f20"},{"name":"b","extra":[1,{"x":null}]}],"total":2}"#;
        let (page, noted) = decode_noting::<Page>(body, &["errcode", "errmsg", "status"], &["list", "items"]).unwrap();
        assert_eq!(
            page,
            Page {
                errcode: Some(0),
                items: vec![Item { name: "张".into() }, Item { name: "b".into() }],
                total: Some(2)
            }
        );
        assert!(!noted.saw(0) && noted.saw(1) && !noted.saw(2) && !noted.saw(64));
        assert_eq!(Value::Object(noted.kept), serde_json::json!({"errcode": 0, "errmsg": "ok"}));
    }

    #[test]
    fn escaped_member_names_are_read() {
        let (page, noted) =
            decode_noting::<Page>(br#"{"\u0069tems":[],"errm\u0073g":"x"}"#, &["errmsg"], &["items"]).unwrap();
        assert!(page.items.is_empty() && noted.saw(0));
        assert_eq!(noted.kept.get("errmsg"), Some(&Value::from("x")));
    }

    #[test]
    fn what_a_lenient_skip_could_let_through_is_spotted() {
        let long = |n: usize| format!("{{\"n\":{}}}", "9".repeat(n));
        for plain in [
            r#"{"errcode":0,"errmsg":"ok","ok":true,"no":false,"none":null,"n":-12.5,"s":"张\n\u5f20"}"#,
            r#"{"s":"\\ud800 is text after an escaped backslash","t":"v2e, 3eggs","u":"\u5e30\u0031e5"}"#,
            long(299).as_str(),
        ] {
            assert!(nothing_to_skip_leniently(plain.as_bytes()), "{plain}");
        }
        for flagged in [
            r#"{"n":1e5}"#,
            r#"{"n":1.5E-3}"#,
            r#"{"n":2e+400}"#,
            r#"{"s":"\ud83d\ude00"}"#,
            r#"{"s":"\uDC00"}"#,
            r#"{"s":"room 1e3"}"#,
            long(300).as_str(),
        ] {
            assert!(!nothing_to_skip_leniently(flagged.as_bytes()), "{flagged}");
        }
        assert!(!nothing_to_skip_leniently(b"{\"s\":\"\xe5\xbc\"}"));
    }

    #[test]
    fn anything_else_is_left_to_the_general_path() {
        for body in [
            // Malformed inside members the record skips: a `Value` refuses these.
            &b"{\"items\":[],\"other\":\"\xff\"}"[..],
            br#"{"items":[],"other":["\ud800"]}"#,
            br#"{"items":[{"name":"a","other":{"x":"\udc00 lone"}}]}"#,
            br#"{"items":[],"other":1e400}"#,
            &br#"{"items":[],"total":"2"}"#[..],
            br#"{"items":[],"items":[]}"#,
            br#"{"items":[]} x"#,
            br#"[[]]"#,
            br#"not json"#,
            br#"{"errcode":40001,"errmsg":"invalid credential"}"#,
            b"",
        ] {
            assert!(decode_noting::<Page>(body, &["errcode"], &[]).is_none(), "{}", String::from_utf8_lossy(body));
        }
    }
}
