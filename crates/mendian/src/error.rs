//! `MendianError`, the one error type that crosses the FFI.
//!
//! Every exported function returns `Result<_, MendianError>`, so Kotlin sees a
//! `MendianException` subclass, Swift a thrown enum case and Python a `MendianError.*`
//! exception — never a panic. Variants carry named fields (not a flat string) so callers can
//! branch on what happened: which field was invalid, which platform code came back and what
//! the platform's documents say to do about it.
//!
//! Messages never contain secrets: the runtime builds them from field names, rules and
//! platform answers only, and redacts credentials before anything reaches an error.

use std::fmt;

/// The platform an API error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Platform {
    /// WeChat Pay APIv3.
    Wechatpay,
    /// WeChat official account / mini-program APIs (`api.weixin.qq.com`).
    Wxa,
    /// Taobao Open Platform.
    Top,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::Wechatpay => "WeChat Pay",
            Platform::Wxa => "WeChat",
            Platform::Top => "TOP",
        })
    }
}

/// Everything that can go wrong in a mendian call.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum MendianError {
    /// A request input broke a documented constraint. Nothing was sent.
    #[error("invalid argument `{field}`: {reason}")]
    InvalidArgument {
        /// Path of the offending field, e.g. `worker.address.address_detail` or `pic_list.list[2]`.
        field: String,
        /// The rule it broke, in words.
        reason: String,
    },
    /// The platform answered with an error.
    #[error("{platform} API error {code}{}: {server_message}{}", http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(), remedy.as_ref().map(|r| format!(" — remedy: {r}")).unwrap_or_default())]
    Api {
        /// Which platform answered.
        platform: Platform,
        /// HTTP status, when the platform uses them for errors.
        http_status: Option<u16>,
        /// The platform's error code (`PARAM_ERROR`, `40001`, `25`, a TOP sub-code's parent…).
        code: String,
        /// A finer code where the platform has one (TOP `sub_code`, worker business code).
        sub_code: Option<String>,
        /// The message the platform sent (named so because Kotlin exceptions already have a
        /// `message`, which holds this error's full text).
        server_message: String,
        /// What the platform's documents say the code means, when the spec knows it.
        description: Option<String>,
        /// What the documents say to do about it, when the spec knows it.
        remedy: Option<String>,
        /// Whether repeating the same request later may succeed.
        retryable: bool,
        /// The platform's request id (`Request-ID`, `rid`, `request_id`), for support tickets.
        request_id: Option<String>,
        /// Raw error details the platform sent (JSON text), if any.
        detail: Option<String>,
    },
    /// A response or notification signature did not verify, or was missing.
    #[error("signature verification failed: {reason}")]
    Signature {
        /// What did not verify.
        reason: String,
    },
    /// The request could not be delivered or the connection failed.
    #[error("network error: {reason}")]
    Network {
        /// What failed (host names and status only; never credentials).
        reason: String,
    },
    /// The request took longer than the configured timeout.
    #[error("timed out after {millis} ms")]
    Timeout {
        /// The timeout that expired, in milliseconds.
        millis: u64,
    },
    /// A response or event could not be decoded.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A key, secret or token is missing, malformed or rejected locally.
    #[error("credentials error: {reason}")]
    Credentials {
        /// What is wrong (never the credential itself).
        reason: String,
    },
    /// A call that creates something (the spec marks it never repeated) lost its answer
    /// after the request may have reached the platform: a timeout, or a connection dropped
    /// after sending. It may or may not have been done; look before repeating it (for
    /// example query the guide, store or worker). Never raised when nothing was sent.
    #[error("the outcome of {endpoint} is unknown: {reason}")]
    OutcomeUnknown {
        /// The endpoint id (`register_guide`, `add_store`, `worker_create`, …).
        endpoint: String,
        /// What happened to the exchange.
        reason: String,
    },
    /// Code implemented in Kotlin, Swift or Python (a signer, a token provider) failed.
    #[error("callback failed: {reason}")]
    Callback {
        /// The foreign error's description.
        reason: String,
    },
}

impl MendianError {
    /// Shorthand for [`MendianError::InvalidArgument`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        MendianError::InvalidArgument { field: field.into(), reason: reason.into() }
    }
}

/// The longest foreign error text kept in a `Callback` error.
const MAX_CALLBACK_REASON: usize = 200;

impl From<uniffi::UnexpectedUniFFICallbackError> for MendianError {
    /// Keeps the first line of the foreign error, at most 200 characters: the rest of a
    /// traceback or a whole HTTP body from the app's code does not travel on in mendian's
    /// errors and logs.
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        MendianError::Callback { reason: first_line(&e.reason, MAX_CALLBACK_REASON) }
    }
}

/// The first non-empty line of `text`, cut to `max` characters (marked with `…`).
pub(crate) fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    match line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_errors_are_cut_to_their_first_line() {
        let e: MendianError = uniffi::UnexpectedUniFFICallbackError { reason: "RuntimeError('backend down')\n  File \"app.py\", line 3\n    secret = 'x'".into() }.into();
        assert_eq!(e, MendianError::Callback { reason: "RuntimeError('backend down')".into() });
        assert_eq!(first_line(&"x".repeat(500), 200).chars().count(), 201);
        assert_eq!(first_line("\n\n  ok  \n", 200), "ok");
    }
}
