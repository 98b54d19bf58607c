//! What the spec knows, exported to every language: the list of endpoints and the documented
//! meaning of an error code. Apps use it to show a helpful message for a platform code, and
//! the bindings' tests use it to check that the generated tables made it across the FFI.

use crate::error::{MendianError, Platform};
use crate::generated::ALL_ENDPOINTS;
use crate::schema::{EndpointDescriptor, Retry};

/// The exported functions of this module (`crate::ffi::catalog`), re-exported for Rust callers.
pub use crate::ffi::catalog::{describe_error, endpoints};

/// A summary of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EndpointInfo {
    /// The spec id (`update_guide`, `add_store`, `worker_update`).
    pub id: String,
    /// Which platform serves it.
    pub platform: Platform,
    /// The documented title.
    pub title: String,
    /// HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// The platform API name (TOP), if any.
    pub api_name: Option<String>,
    /// HTTP status of success.
    pub success_status: u16,
    /// Whether failed calls are retried automatically on transient errors.
    pub retried_on_transient_errors: bool,
    /// Wire names of the request fields sent encrypted.
    pub encrypted_fields: Vec<String>,
    /// Wire names of every request field.
    pub fields: Vec<String>,
}

/// What the documents say about an error code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ErrorInfo {
    /// The code.
    pub code: String,
    /// The sub-code the entry is about, if any.
    pub sub_code: Option<String>,
    /// HTTP status it comes with, if the platform uses statuses.
    pub http_status: Option<u16>,
    /// The documented meaning.
    pub description: String,
    /// What to do: the documented remedy, or mendian's advice when `remedy_inferred`.
    pub remedy: Option<String>,
    /// The remedy is mendian's advice, not the document's (its page lists no remedy).
    pub remedy_inferred: bool,
    /// Whether the same request may succeed later.
    pub retryable: bool,
}

fn info(d: &EndpointDescriptor) -> EndpointInfo {
    EndpointInfo {
        id: d.id.to_string(),
        platform: d.platform,
        title: d.title.to_string(),
        method: d.method.to_string(),
        path: d.path.to_string(),
        api_name: d.api_name.map(str::to_string),
        success_status: d.success_status,
        retried_on_transient_errors: d.retry == Retry::Transient,
        encrypted_fields: d.fields.iter().filter(|f| f.encrypted).map(|f| f.name.to_string()).collect(),
        fields: d.fields.iter().map(|f| f.name.to_string()).collect(),
    }
}

/// Looks up an endpoint descriptor by its spec id.
pub fn descriptor(id: &str) -> Option<&'static EndpointDescriptor> {
    ALL_ENDPOINTS.iter().copied().find(|d| d.id == id)
}

/// The summaries of every endpoint, in spec order (exported as [`endpoints`]).
pub(crate) fn endpoint_infos() -> Vec<EndpointInfo> {
    ALL_ENDPOINTS.iter().map(|d| info(d)).collect()
}

/// The documented entry for an error code of an endpoint (exported as [`describe_error`]).
pub(crate) fn error_info(
    endpoint_id: &str,
    code: &str,
    sub_code: Option<&str>,
    message: &str,
) -> Result<Option<ErrorInfo>, MendianError> {
    let d = descriptor(endpoint_id)
        .ok_or_else(|| MendianError::invalid("endpoint_id", format!("no endpoint `{endpoint_id}` in the spec")))?;
    Ok(d.lookup_error(code, sub_code, message).map(|e| ErrorInfo {
        code: e.code.to_string(),
        sub_code: e.sub_code.map(str::to_string),
        http_status: e.status,
        description: e.description.to_string(),
        remedy: e.remedy.map(str::to_string),
        remedy_inferred: e.remedy_inferred,
        retryable: e.retryable,
    }))
}
