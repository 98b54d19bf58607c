//! The exported logger setter (the hook itself is `runtime::log`).

use std::sync::Arc;

use crate::runtime::log::{self, LogLevel, MendianLogger};

/// Installs `logger` for every client and token provider in the process: it sees each HTTP
/// exchange at `level` and above (method, URL with credentials redacted, status, latency,
/// request id), never a header value, body or credential. `None` removes it.
#[uniffi::export]
pub fn set_mendian_logger(logger: Option<Arc<dyn MendianLogger>>, level: LogLevel) {
    log::set_logger(logger, level);
}
