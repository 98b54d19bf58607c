//! Static descriptions of endpoints and error codes, emitted by `cargo xtask codegen`.
//!
//! The platform runtimes read these instead of repeating per-endpoint code: which method and
//! path, where each request field goes, which fields are encrypted, what status means
//! success, whether a failure may be retried, and what each error code means.

use crate::error::Platform;

/// Where a request field goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Substituted into the path template.
    Path,
    /// URL query parameter.
    Query,
    /// Member of the JSON body.
    Body,
    /// `application/x-www-form-urlencoded` field.
    Form,
    /// `multipart/form-data` part.
    Multipart,
    /// HTTP header.
    Header,
}

/// When a failed call may be retried automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Never (the call is not idempotent).
    Never,
    /// On transient failures, with the same parameters.
    Transient,
}

/// How a field's value is encoded inside its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// As its natural JSON/form value.
    Plain,
    /// Serialized to compact JSON and sent as a string.
    JsonString,
}

/// One request field of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDescriptor {
    /// Wire name.
    pub name: &'static str,
    /// Where it goes.
    pub location: Location,
    /// Whether the documents require it.
    pub required: bool,
    /// Whether it is sent encrypted (WeChat Pay sensitive field).
    pub encrypted: bool,
    /// How it is encoded.
    pub encoding: Encoding,
}

/// A documented error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorEntry {
    /// HTTP status it comes with, where the platform uses statuses.
    pub status: Option<u16>,
    /// The code, as text.
    pub code: &'static str,
    /// The sub-code this entry is about (TOP), if any.
    pub sub_code: Option<&'static str>,
    /// What the documents say it means.
    pub description: &'static str,
    /// What to do: the documents' words, or ours when `remedy_inferred`.
    pub remedy: Option<&'static str>,
    /// The remedy is our advice, not the document's (its page lists no remedy).
    pub remedy_inferred: bool,
    /// Whether the same request may succeed later.
    pub retryable: bool,
}

/// Who calls a WeChat Pay endpoint: a 直连商户 for itself, or a 服务商 for a sub-merchant
/// (the request then carries `sub_mchid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerchantMode {
    /// 直连商户.
    Direct,
    /// 服务商 acting for a sub-merchant.
    Partner,
}

/// Everything the runtime needs to know about one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointDescriptor {
    /// Endpoint id from the spec (`update_guide`).
    pub id: &'static str,
    /// Platform that serves it.
    pub platform: Platform,
    /// Documented title.
    pub title: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Path template with `{name}` placeholders.
    pub path: &'static str,
    /// Platform API name (TOP `method` parameter), if the gateway routes by name.
    pub api_name: Option<&'static str>,
    /// HTTP status of success.
    pub success_status: u16,
    /// Retry guidance.
    pub retry: Retry,
    /// Who may call it (WeChat Pay: 直连商户, 服务商); empty where the platform has no such
    /// modes.
    pub modes: &'static [MerchantMode],
    /// Name of the response envelope.
    pub envelope: Option<crate::generated::Envelope>,
    /// Name of the response record, if the success response has a body.
    pub response: Option<&'static str>,
    /// The request fields.
    pub fields: &'static [FieldDescriptor],
    /// Paths of encrypted string fields in the response (`data/*/name`: `*` is every item
    /// of a list); the runtime decrypts them before decoding.
    pub encrypted_response_paths: &'static [&'static str],
    /// Top-level list fields of the response that the documents mark required: an answer
    /// without them is a `Decode` error, never an empty success.
    pub required_response_lists: &'static [&'static str],
    /// Endpoint-specific error codes.
    pub errors: &'static [ErrorEntry],
    /// Error codes common to the whole family.
    pub family_errors: &'static [ErrorEntry],
    /// Documentation URL.
    pub doc_url: Option<&'static str>,
}

impl EndpointDescriptor {
    /// The field descriptor with this wire name.
    pub fn field(&self, name: &str) -> Option<&'static FieldDescriptor> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Refuses, before anything is sent, a call in a merchant mode the endpoint's documents do
    /// not list: `partner` when the request carries a `sub_mchid`.
    pub fn check_mode(&self, partner: bool) -> Result<(), crate::error::MendianError> {
        let mode = if partner { MerchantMode::Partner } else { MerchantMode::Direct };
        if self.modes.is_empty() || self.modes.contains(&mode) {
            return Ok(());
        }
        let reason = if partner {
            format!("{} is documented for 直连商户 only: call it without a sub_mchid", self.id)
        } else {
            format!("{} is documented for 服务商 only: name the sub-merchant (sub_mchid)", self.id)
        };
        Err(crate::error::MendianError::invalid("sub_mchid", reason))
    }

    /// Finds what the documents say about an error code: the endpoint's own entries first,
    /// then the family's. Among entries with the same code (WeChat Pay's `PARAM_ERROR` has
    /// one per documented message), a matching sub-code wins, then one whose description
    /// is contained in the server's message, then the first.
    pub fn lookup_error(&self, code: &str, sub_code: Option<&str>, message: &str) -> Option<&'static ErrorEntry> {
        lookup_in(self.errors, code, sub_code, message).or_else(|| lookup_in(self.family_errors, code, sub_code, message))
    }
}

fn lookup_in(table: &'static [ErrorEntry], code: &str, sub_code: Option<&str>, message: &str) -> Option<&'static ErrorEntry> {
    let same_code = || table.iter().filter(move |e| e.code == code);
    if let Some(sub) = sub_code {
        if let Some(e) = same_code().find(|e| e.sub_code == Some(sub)) {
            return Some(e);
        }
    }
    same_code()
        .find(|e| !e.description.is_empty() && message.contains(e.description))
        .or_else(|| same_code().find(|e| e.sub_code.is_none()))
        .or_else(|| same_code().next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::MendianError;
    use crate::generated::wechatpay::UPDATE_GUIDE;

    #[test]
    fn a_call_in_a_mode_the_endpoint_does_not_list_is_refused() {
        assert_eq!(UPDATE_GUIDE.modes, &[MerchantMode::Direct, MerchantMode::Partner], "from spec/wechatpay.toml");
        assert!(UPDATE_GUIDE.check_mode(true).is_ok() && UPDATE_GUIDE.check_mode(false).is_ok());
        let direct_only = EndpointDescriptor { modes: &[MerchantMode::Direct], ..UPDATE_GUIDE };
        assert!(direct_only.check_mode(false).is_ok());
        match direct_only.check_mode(true) {
            Err(MendianError::InvalidArgument { field, reason }) => {
                assert_eq!(field, "sub_mchid");
                assert!(reason.contains("直连商户 only"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let partner_only = EndpointDescriptor { modes: &[MerchantMode::Partner], ..UPDATE_GUIDE };
        assert!(matches!(partner_only.check_mode(false), Err(MendianError::InvalidArgument { .. })));
        let wxa = EndpointDescriptor { modes: &[], ..UPDATE_GUIDE };
        assert!(wxa.check_mode(true).is_ok() && wxa.check_mode(false).is_ok(), "no modes: not applicable");
    }
}
