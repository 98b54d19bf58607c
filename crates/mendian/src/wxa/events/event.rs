//! The typed push: the one mapping from a push's top-level fields to [`WxaEvent`]
//! ([`event_from_fields`]). The enum and the dispatch by event name are generated from the
//! spec's events table (`generated/wxa/events.rs`), so an event added to the spec is typed
//! and dispatched without touching this file; anything the spec does not describe is kept
//! as [`WxaEvent::Other`].

use super::de::typed;
use crate::error::MendianError;
pub use crate::generated::wxa::WxaEvent;
use crate::generated::wxa::{decode_event, EventDecoder};

/// The children of `<xml>`, decoded into an event's record on demand.
struct PushFields<'a>(&'a [(String, String)]);

impl EventDecoder for PushFields<'_> {
    fn decode<T: serde::de::DeserializeOwned>(&self, event: &str) -> Result<T, MendianError> {
        typed(self.0, event)
    }
}

/// Maps the children of `<xml>` — (element name, text or inner XML) in document order, names
/// unique — to a [`WxaEvent`]: a typed event when `Event` names one the spec documents
/// (case-insensitively), otherwise [`WxaEvent::Other`] with `raw_xml` as the whole plaintext.
pub(super) fn event_from_fields(fields: Vec<(String, String)>, raw_xml: &str) -> Result<WxaEvent, MendianError> {
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let event = get("Event");
    if let Some(typed) = event.as_deref().and_then(|name| decode_event(name, &PushFields(&fields))) {
        return typed;
    }
    Ok(WxaEvent::Other {
        msg_type: get("MsgType").unwrap_or_default(),
        event,
        fields: fields.into_iter().collect(),
        raw_xml: raw_xml.to_string(),
    })
}
