//! Exports the SDK-wide functions: [`mendian_version`], and the spec catalog of
//! [`crate::catalog`] ([`endpoints`], [`describe_error`]). Each is a thin call into the core;
//! `mendian::mendian_version` and `mendian::catalog::{endpoints, describe_error}` re-export
//! them for Rust callers.

// `MendianError` is the one error type that crosses the FFI; it is large by design.
#![allow(clippy::result_large_err)]

use crate::catalog::{self, EndpointInfo, ErrorInfo};
use crate::error::MendianError;

/// The SDK version, as sent in `User-Agent` headers (`mendian/<version>`).
#[uniffi::export]
pub fn mendian_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Every endpoint the SDK knows, in spec order.
#[uniffi::export]
pub fn endpoints() -> Vec<EndpointInfo> {
    catalog::endpoint_infos()
}

/// What the documents say about `code` (and `sub_code`, for TOP) answered by the endpoint
/// `endpoint_id`; `message` (the server's text) picks among entries sharing a code.
/// Returns `None` when the documents do not list the code.
#[uniffi::export]
pub fn describe_error(
    endpoint_id: String,
    code: String,
    sub_code: Option<String>,
    message: String,
) -> Result<Option<ErrorInfo>, MendianError> {
    catalog::error_info(&endpoint_id, &code, sub_code.as_deref(), &message)
}
