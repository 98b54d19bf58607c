//! Decoding the generated event records from a push's element texts: a small serde
//! deserializer that presents the (name, text) pairs as a map of JSON strings (the records'
//! lenient decoders read numbers from strings) and remembers which field failed, so that
//! [`typed`] can name the field in the error without ever including its value.

use std::cell::Cell;

use serde::de::{DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::Deserializer;

use crate::error::MendianError;

/// Decodes the generated record of an event from the element texts (every value a JSON
/// string; the records' lenient decoders read numbers from strings). A failure names the
/// event and the field, never the value.
pub(super) fn typed<T: serde::de::DeserializeOwned>(
    fields: &[(String, String)],
    event: &str,
) -> Result<T, MendianError> {
    let failed = Cell::new(None);
    T::deserialize(Fields { fields, failed: &failed }).map_err(|e| {
        let reason = match failed.get() {
            Some(i) => {
                let msg = e.to_string();
                let detail = if msg.contains("missing value") {
                    "is empty".to_string()
                } else if let Some(at) = msg.find("expected ") {
                    let expected = &msg[at..];
                    let expected = expected.split(", got").next().unwrap_or(expected);
                    format!("is invalid ({expected})")
                } else {
                    "has an invalid value".to_string()
                };
                format!("field `{}` {detail}", fields[i].0)
            }
            // Errors raised by the record itself (`missing field `audit_id``) name the field
            // and carry no value.
            None => e.to_string(),
        };
        MendianError::Decode { what: format!("the {event} event"), reason }
    })
}

/// A serde deserializer over the element texts that remembers which field failed.
struct Fields<'a> {
    fields: &'a [(String, String)],
    failed: &'a Cell<Option<usize>>,
}

impl<'de> Deserializer<'de> for Fields<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(Access { fields: self.fields, next: 0, failed: self.failed })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Access<'a> {
    fields: &'a [(String, String)],
    next: usize,
    failed: &'a Cell<Option<usize>>,
}

impl<'de> MapAccess<'de> for Access<'_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        match self.fields.get(self.next) {
            None => Ok(None),
            Some((key, _)) => seed.deserialize(key.as_str().into_deserializer()).map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let i = self.next;
        self.next += 1;
        let value = self.fields.get(i).map(|(_, v)| v.clone()).unwrap_or_default();
        seed.deserialize(serde_json::Value::String(value)).inspect_err(|_| self.failed.set(Some(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::wxa::ModifyStoreAuditEvent;

    #[test]
    fn typed_errors_name_the_field_not_the_value() {
        let fields: Vec<(String, String)> = [
            ("ToUserName", "gh"),
            ("FromUserName", "o"),
            ("CreateTime", "1"),
            ("MsgType", "event"),
            ("Event", "modify_store_audit_info"),
            ("audit_id", "SECRETVALUE"),
            ("status", "1"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let err = typed::<ModifyStoreAuditEvent>(&fields, "modify_store_audit_info").unwrap_err().to_string();
        assert!(err.contains("modify_store_audit_info") && err.contains("`audit_id`"), "{err}");
        assert!(!err.contains("SECRETVALUE"), "{err}");
        let err = typed::<ModifyStoreAuditEvent>(&fields[..5], "modify_store_audit_info").unwrap_err().to_string();
        assert!(err.contains("audit_id"), "{err}");
    }
}
