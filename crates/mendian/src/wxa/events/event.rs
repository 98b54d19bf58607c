//! The typed push: [`WxaEvent`] and the one mapping from a push's top-level fields to it
//! ([`event_from_fields`]). The four 门店小程序 audit events decode into their generated
//! records; anything else is kept as [`WxaEvent::Other`]. This dispatch is meant to be
//! replaced by code generated from the spec's events table, so it stays alone in this file
//! behind that one function.

use std::collections::HashMap;

use super::de::typed;
use crate::error::MendianError;
use crate::generated::wxa::{
    AddStoreAuditEvent, ApplyMerchantAuditEvent, CreateMapPoiAuditEvent, ModifyStoreAuditEvent,
};

/// A pushed message.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum WxaEvent {
    /// `apply_merchant_audit_info`: the audit result of `apply_merchant`.
    ApplyMerchantAudit {
        /// The event's fields.
        event: ApplyMerchantAuditEvent,
    },
    /// `create_map_poi_audit_info`: the audit result of `create_map_poi`.
    CreateMapPoiAudit {
        /// The event's fields.
        event: CreateMapPoiAuditEvent,
    },
    /// `add_store_audit_info`: the audit result of `add_store`.
    AddStoreAudit {
        /// The event's fields.
        event: AddStoreAuditEvent,
    },
    /// `modify_store_audit_info`: the audit result of an `update_store` that changed pictures.
    ModifyStoreAudit {
        /// The event's fields.
        event: ModifyStoreAuditEvent,
    },
    /// Any other message or event: the top-level elements as text, and the raw XML.
    Other {
        /// `MsgType` (`event`, `text`, …); empty when the message has none.
        msg_type: String,
        /// `Event`, when present.
        event: Option<String>,
        /// Every child of `<xml>`: element name → its text (CDATA and entities resolved), or
        /// for an element with nested elements, its inner XML as sent.
        fields: HashMap<String, String>,
        /// The whole plaintext XML.
        raw_xml: String,
    },
}

/// Maps the children of `<xml>` — (element name, text or inner XML) in document order, names
/// unique — to a [`WxaEvent`]: a typed audit event when `Event` names one of the four
/// (case-insensitively), otherwise [`WxaEvent::Other`] with `raw_xml` as the whole plaintext.
pub(super) fn event_from_fields(fields: Vec<(String, String)>, raw_xml: &str) -> Result<WxaEvent, MendianError> {
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let event = get("Event");
    let kind = event.as_deref().map(str::to_ascii_lowercase);
    Ok(match kind.as_deref() {
        Some(name @ "apply_merchant_audit_info") => WxaEvent::ApplyMerchantAudit { event: typed(&fields, name)? },
        Some(name @ "create_map_poi_audit_info") => WxaEvent::CreateMapPoiAudit { event: typed(&fields, name)? },
        Some(name @ "add_store_audit_info") => WxaEvent::AddStoreAudit { event: typed(&fields, name)? },
        Some(name @ "modify_store_audit_info") => WxaEvent::ModifyStoreAudit { event: typed(&fields, name)? },
        _ => WxaEvent::Other {
            msg_type: get("MsgType").unwrap_or_default(),
            event,
            fields: fields.into_iter().collect(),
            raw_xml: raw_xml.to_string(),
        },
    })
}
