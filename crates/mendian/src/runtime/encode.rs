//! Wire encoders shared by the platforms: JSON scalars as text, percent-encoding for paths
//! and queries, form encoding, and the layout of a request record into path, query and body
//! by its endpoint descriptor.

use serde_json::{Map, Value};

use crate::error::MendianError;
use crate::schema::{EndpointDescriptor, Location};

/// A JSON value as the text a query, path or form carries: strings as they are, other
/// scalars in their JSON spelling; `None` for null.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// What [`percent_encode`] escapes: everything but RFC 3986's unreserved characters.
const NOT_UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a query or path value (RFC 3986 unreserved characters stay).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    percent_encode_into(s, &mut out);
    out
}

/// [`percent_encode`], appended to `out`.
pub fn percent_encode_into(s: &str, out: &mut String) {
    for piece in percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED) {
        out.push_str(piece);
    }
}

/// `application/x-www-form-urlencoded` encoding of one value (space as `+`; alphanumerics and
/// `*-._` stay), as the WHATWG URL standard and TOP's form bodies spell it.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    form_encode_into(s, &mut out);
    out
}

/// [`form_encode`], appended to `out`.
pub fn form_encode_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

/// A request record laid out by its descriptor.
#[derive(Debug, Default)]
pub struct Layout {
    /// The path with every `{name}` placeholder replaced by its percent-encoded value.
    pub path: String,
    /// `name=value` pairs, values percent-encoded, in descriptor order.
    pub query: Vec<String>,
    /// Members of the JSON body (and form fields), absent and null values left out.
    pub body: Map<String, Value>,
}

impl Layout {
    /// The path followed by `?query` when there is one.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query.join("&"))
        }
    }
}

/// The request record as JSON, an error naming the endpoint if it cannot be encoded.
pub fn to_value<T: serde::Serialize>(d: &EndpointDescriptor, request: &T) -> Result<Value, MendianError> {
    let value =
        serde_json::to_value(request).map_err(|e| MendianError::invalid(d.id, format!("cannot encode the request: {e}")))?;
    // A path segment of `.` or `..` survives percent-encoding and is then resolved away by
    // URL handling (`/guides/../assign` becomes another endpoint); an empty one drops a
    // segment.
    for f in d.fields.iter().filter(|f| f.location == Location::Path) {
        if let Some(text) = value.get(f.name).filter(|v| !v.is_null()).and_then(value_text) {
            if text.is_empty() || text == "." || text == ".." {
                return Err(MendianError::invalid(f.name, "a path segment must not be empty, `.` or `..`"));
            }
        }
    }
    Ok(value)
}

/// Splits an encoded request record into path, query and body by the descriptor's field
/// locations.
pub fn lay_out(d: &EndpointDescriptor, value: &Value) -> Layout {
    let mut out = Layout { path: d.path.to_string(), ..Layout::default() };
    for f in d.fields {
        let Some(v) = value.get(f.name).filter(|v| !v.is_null()) else { continue };
        match f.location {
            Location::Path => {
                out.path =
                    out.path.replace(&format!("{{{}}}", f.name), &percent_encode(&value_text(v).unwrap_or_default()))
            }
            Location::Query => {
                out.query.push(format!("{}={}", f.name, percent_encode(&value_text(v).unwrap_or_default())))
            }
            _ => {
                out.body.insert(f.name.to_string(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_refused_in_paths() {
        let d = crate::catalog::descriptor("update_guide").unwrap();
        for bad in [".", "..", ""] {
            let e = to_value(d, &serde_json::json!({ "guide_id": bad })).unwrap_err();
            assert!(matches!(&e, MendianError::InvalidArgument { field, .. } if field == "guide_id"), "{bad:?}: {e}");
        }
        assert!(to_value(d, &serde_json::json!({ "guide_id": "..a" })).is_ok());
    }

    #[test]
    fn form_encoding_is_the_whatwg_one_for_every_byte() {
        let every: String = (0u32..0x800).filter_map(char::from_u32).collect();
        for text in [every.as_str(), "", "a b", "张三 & co=1+2", "~!'()"] {
            let whatwg: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
            assert_eq!(form_encode(text), whatwg, "{text:?}");
        }
        let mut out = String::from("x=");
        form_encode_into("a b", &mut out);
        percent_encode_into("/~", &mut out);
        assert_eq!(out, "x=a+b%2F~");
    }

    #[test]
    fn encodings() {
        assert_eq!(percent_encode("a b+/=~张"), "a%20b%2B%2F%3D~%E5%BC%A0");
        assert_eq!(form_encode("a b+c=张"), "a+b%2Bc%3D%E5%BC%A0");
        assert_eq!(form_encode("2016-06-28 10:30:00"), "2016-06-28+10%3A30%3A00");
        assert_eq!(value_text(&serde_json::json!(12)).as_deref(), Some("12"));
        assert_eq!(value_text(&Value::Null), None);
    }
}
