//! Serde helpers for the platforms' wire quirks, used by the generated records.
//!
//! - *Lenient scalars*: WeChat and TOP send ids and numbers sometimes as JSON numbers,
//!   sometimes as strings (`"poi_id": 472671857` vs `"472671857"`), and TOP sends booleans as
//!   `"true"`. Fields marked `lenient` in the spec accept every such spelling.
//! - *JSON strings*: some fields carry a JSON document inside a JSON string (`pic_list`),
//!   and TOP's complex parameters are compact JSON strings. The record holds the structured
//!   value; these helpers encode it on the way out and accept either form on the way in.
//! - *JSON text*: fields of type `json` hold arbitrary JSON, kept as text across the FFI.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Any scalar as the server wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Absent or `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer beyond `i64`.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, string or boolean")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map(Scalar::Int).unwrap_or(Scalar::UInt(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

impl Scalar {
    fn into_i64<E: de::Error>(self) -> Result<Option<i64>, E> {
        match self {
            Scalar::Null => Ok(None),
            Scalar::Int(v) => Ok(Some(v)),
            Scalar::Float(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(Some(v as i64)),
            Scalar::Str(s) if s.trim().is_empty() => Ok(None),
            Scalar::Str(s) => s.trim().parse().map(Some).map_err(|_| E::custom(format!("expected an integer, got {s:?}"))),
            other => Err(E::custom(format!("expected an integer, got {other:?}"))),
        }
    }
    fn into_f64<E: de::Error>(self) -> Result<Option<f64>, E> {
        match self {
            Scalar::Null => Ok(None),
            Scalar::Int(v) => Ok(Some(v as f64)),
            Scalar::UInt(v) => Ok(Some(v as f64)),
            Scalar::Float(v) => Ok(Some(v)),
            Scalar::Str(s) if s.trim().is_empty() => Ok(None),
            Scalar::Str(s) => s.trim().parse().map(Some).map_err(|_| E::custom(format!("expected a number, got {s:?}"))),
            other => Err(E::custom(format!("expected a number, got {other:?}"))),
        }
    }
    fn into_bool<E: de::Error>(self) -> Result<Option<bool>, E> {
        match self {
            Scalar::Null => Ok(None),
            Scalar::Bool(b) => Ok(Some(b)),
            Scalar::Int(0) => Ok(Some(false)),
            Scalar::Int(1) => Ok(Some(true)),
            Scalar::Str(s) => match s.trim() {
                "true" | "TRUE" | "True" | "1" => Ok(Some(true)),
                "false" | "FALSE" | "False" | "0" => Ok(Some(false)),
                "" => Ok(None),
                other => Err(E::custom(format!("expected a boolean, got {other:?}"))),
            },
            other => Err(E::custom(format!("expected a boolean, got {other:?}"))),
        }
    }
    fn into_string(self) -> Option<String> {
        match self {
            Scalar::Null => None,
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Int(v) => Some(v.to_string()),
            Scalar::UInt(v) => Some(v.to_string()),
            Scalar::Float(v) => Some(v.to_string()),
            Scalar::Str(s) => Some(s),
        }
    }
}

fn required<T, E: de::Error>(v: Option<T>) -> Result<T, E> {
    v.ok_or_else(|| E::custom("missing value"))
}

/// Lenient `i64`: a number or a numeric string.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    required(Scalar::deserialize(d)?.into_i64()?)
}
/// Lenient `Option<i64>`.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Scalar::deserialize(d)?.into_i64()
}
/// Lenient `i32`.
pub fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let v = i64(d)?;
    i32::try_from(v).map_err(|_| de::Error::custom(format!("{v} does not fit in 32 bits")))
}
/// Lenient `Option<i32>`.
pub fn opt_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    match opt_i64(d)? {
        Some(v) => i32::try_from(v).map(Some).map_err(|_| de::Error::custom(format!("{v} does not fit in 32 bits"))),
        None => Ok(None),
    }
}
/// Lenient `f64`.
pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    required(Scalar::deserialize(d)?.into_f64()?)
}
/// Lenient `Option<f64>`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Scalar::deserialize(d)?.into_f64()
}
/// Lenient `bool`: `true`, `"true"`, `1`, `"1"`.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    required(Scalar::deserialize(d)?.into_bool()?)
}
/// Lenient `Option<bool>`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Scalar::deserialize(d)?.into_bool()
}
/// Lenient `String`: a string, or a number/boolean kept as its text.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    required(Scalar::deserialize(d)?.into_string())
}
/// Lenient `Option<String>`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Scalar::deserialize(d)?.into_string())
}

/// A value sent as a compact JSON string (`"pic_list": "{\"list\":[…]}"`).
pub mod json_string {
    use super::*;

    /// Encodes the value as compact JSON inside a string.
    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(v).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    /// Accepts the JSON-in-a-string form, or the structured value itself.
    pub fn deserialize<'de, T: serde::de::DeserializeOwned, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::String(s) => serde_json::from_str(&s).map_err(de::Error::custom),
            other => serde_json::from_value(other).map_err(de::Error::custom),
        }
    }
}

/// `Option` of a value sent as a compact JSON string.
pub mod opt_json_string {
    use super::*;

    /// Encodes a present value as compact JSON inside a string.
    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => json_string::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    /// Accepts null/absent, the JSON-in-a-string form, or the structured value.
    pub fn deserialize<'de, T: serde::de::DeserializeOwned, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) if s.is_empty() => Ok(None),
            serde_json::Value::String(s) => serde_json::from_str(&s).map(Some).map_err(de::Error::custom),
            other => serde_json::from_value(other).map(Some).map_err(de::Error::custom),
        }
    }
}

/// Arbitrary JSON kept as its text.
pub mod json_text {
    use super::*;

    /// Writes the text as the JSON value it holds (it must be valid JSON).
    pub fn serialize<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
        let value: serde_json::Value = serde_json::from_str(v).map_err(serde::ser::Error::custom)?;
        value.serialize(s)
    }

    /// Reads any JSON value and keeps its compact text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(serde_json::Value::deserialize(d)?.to_string())
    }
}

/// `Option` of arbitrary JSON kept as its text.
pub mod opt_json_text {
    use super::*;

    /// Writes present text as the JSON value it holds.
    pub fn serialize<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => json_text::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    /// Reads any JSON value (null → `None`) and keeps its compact text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(if v.is_null() { None } else { Some(v.to_string()) })
    }
}

/// Integer wire value of an enum: a number, or a numeric string.
pub fn enum_int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    i64(d)
}

/// String wire value of an enum (numbers are kept as their text).
pub fn enum_str<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    string(d)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(deserialize_with = "super::i64")]
        a: i64,
        #[serde(default, deserialize_with = "super::opt_i64")]
        b: Option<i64>,
        #[serde(deserialize_with = "super::bool")]
        c: bool,
        #[serde(deserialize_with = "super::string")]
        d: String,
    }

    #[test]
    fn lenient_scalars_accept_both_spellings() {
        let x: T = serde_json::from_str(r#"{"a":"472671857","c":"true","d":472671857}"#).unwrap();
        assert_eq!(x, T { a: 472671857, b: None, c: true, d: "472671857".into() });
        let y: T = serde_json::from_str(r#"{"a":1,"b":"7","c":false,"d":"x"}"#).unwrap();
        assert_eq!(y.b, Some(7));
        assert!(serde_json::from_str::<T>(r#"{"a":"x1","c":true,"d":"x"}"#).is_err());
    }

    #[derive(serde::Serialize, Deserialize, Debug, PartialEq)]
    struct Pics {
        list: Vec<String>,
    }
    #[derive(serde::Serialize, Deserialize, Debug, PartialEq)]
    struct Store {
        #[serde(with = "super::json_string")]
        pic_list: Pics,
    }

    #[test]
    fn json_inside_json_round_trips() {
        let s = Store { pic_list: Pics { list: vec!["http://a/0".into()] } };
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(text, r#"{"pic_list":"{\"list\":[\"http://a/0\"]}"}"#);
        assert_eq!(serde_json::from_str::<Store>(&text).unwrap(), s);
        let structured: Store = serde_json::from_str(r#"{"pic_list":{"list":["http://a/0"]}}"#).unwrap();
        assert_eq!(structured, s);
    }
}
