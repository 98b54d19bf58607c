//! The error constructors every platform uses, so an `Api` error always carries the spec's
//! description and remedy for its code and a decode failure always names what was decoded.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::MendianError;
use crate::schema::EndpointDescriptor;

/// What a platform said when it refused a call, before the spec's words are added.
#[derive(Debug, Clone, Default)]
pub struct ApiAnswer {
    /// HTTP status, where the platform uses statuses for errors.
    pub http_status: Option<u16>,
    /// The platform's code.
    pub code: String,
    /// A finer code, where the platform has one.
    pub sub_code: Option<String>,
    /// The platform's message, as it was sent (the spec's entries are matched against it).
    pub message: String,
    /// The message to show when it should differ from `message` (extra context).
    pub shown_message: Option<String>,
    /// The platform's request id.
    pub request_id: Option<String>,
    /// Raw details (JSON text).
    pub detail: Option<String>,
    /// Whether the platform's protocol itself calls this answer transient (busy, 5xx, isp).
    pub transient: bool,
}

/// The `Api` error for `answer`, with what the documents say about its code.
pub fn api_error(d: &EndpointDescriptor, answer: ApiAnswer) -> MendianError {
    let entry = d.lookup_error(&answer.code, answer.sub_code.as_deref(), &answer.message);
    MendianError::Api {
        platform: d.platform,
        http_status: answer.http_status,
        description: entry.map(|e| e.description.to_string()),
        remedy: entry.and_then(|e| e.remedy).map(str::to_string),
        retryable: answer.transient || entry.is_some_and(|e| e.retryable),
        server_message: answer.shown_message.unwrap_or(answer.message),
        code: answer.code,
        sub_code: answer.sub_code,
        request_id: answer.request_id,
        detail: answer.detail,
    }
}

/// A `Decode` error naming what was being decoded.
pub fn decode_error(what: impl Into<String>, reason: impl std::fmt::Display) -> MendianError {
    MendianError::Decode { what: what.into(), reason: reason.to_string() }
}

/// How an endpoint is named in messages: its platform API name, or its spec id.
pub fn endpoint_name(d: &EndpointDescriptor) -> &'static str {
    d.api_name.unwrap_or(d.id)
}

/// Decodes an answer's payload into the endpoint's response record.
pub fn decode_payload<T: DeserializeOwned>(d: &EndpointDescriptor, payload: Value) -> Result<T, MendianError> {
    if let Value::Object(fields) = &payload {
        if let Some(e) = missing_lists(d, |f| fields.contains_key(f)) {
            return Err(e);
        }
    }
    serde_json::from_value(payload).map_err(|e| decode_error(format!("the {} response", endpoint_name(d)), e))
}

/// The `Decode` error for an answer object that lacks lists the documents say it always
/// carries (`has` says whether a top-level member is present), if it lacks any.
pub fn missing_lists(d: &EndpointDescriptor, has: impl Fn(&str) -> bool) -> Option<MendianError> {
    let missing: Vec<String> = d.required_response_lists.iter().filter(|f| !has(f)).map(|f| format!("`{f}`")).collect();
    (!missing.is_empty()).then(|| {
        decode_error(
            format!("the {} response", endpoint_name(d)),
            format!("it lacks the documented field(s) {}", missing.join(", ")),
        )
    })
}

/// Parses an answer body as JSON (a `Value`, or a record read as it is).
pub fn parse_json<T: DeserializeOwned>(d: &EndpointDescriptor, status: u16, body: &[u8]) -> Result<T, MendianError> {
    serde_json::from_slice(body).map_err(|e| {
        decode_error(format!("the {} response (HTTP {status})", endpoint_name(d)), format!("not JSON: {e}"))
    })
}
