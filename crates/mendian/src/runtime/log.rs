//! The logger hook: a process-wide [`MendianLogger`] (implemented in Kotlin, Swift, Python or
//! Rust) that sees one [`HttpExchange`] per HTTP exchange of every client and token provider:
//! method, URL with credentials redacted, status, latency, request id. Never a header value,
//! a body or a credential. With no logger set, the cost is one uncontended read lock.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::transport::redact_url;

/// How much a logger wants to see. Each level includes the ones above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
pub enum LogLevel {
    /// Exchanges that failed in transport (no answer: connection, TLS, timeout).
    Error,
    /// … and answers with a non-2xx status.
    Warn,
    /// … and every other exchange.
    Info,
}

/// One HTTP exchange as a logger sees it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HttpExchange {
    /// How it went: `Error` (no answer), `Warn` (non-2xx) or `Info`.
    pub level: LogLevel,
    /// HTTP method.
    pub method: String,
    /// The URL with the values of `access_token`, `secret`, `session` and `sign` replaced by
    /// `<redacted>`.
    pub url: String,
    /// HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Time from sending to the whole answer read, in milliseconds.
    pub latency_ms: u64,
    /// The platform's request id header (`Request-ID`, `X-Request-Id`), when sent.
    pub request_id: Option<String>,
    /// What failed, for `Error` (never a credential).
    pub error: Option<String>,
}

/// Receives HTTP exchanges. Called on the SDK's I/O threads, or on the caller's thread for a
/// blocking call: return quickly, and never wait there for another SDK call (it may need the
/// very thread the logger is holding).
#[uniffi::export(with_foreign)]
pub trait MendianLogger: Send + Sync {
    /// One exchange at or above the level the logger was set with.
    fn log(&self, exchange: HttpExchange);
}

type Installed = Option<(Arc<dyn MendianLogger>, LogLevel)>;

static LOGGER: RwLock<Installed> = RwLock::new(None);

/// Installs `logger` for every client in the process, seeing exchanges at `level` and above;
/// `None` removes it.
pub fn set_logger(logger: Option<Arc<dyn MendianLogger>>, level: LogLevel) {
    let mut slot = LOGGER.write().unwrap_or_else(|e| e.into_inner());
    *slot = logger.map(|l| (l, level));
}

/// Whether a logger is installed (the transport then times and reports its exchanges).
pub(crate) fn enabled() -> bool {
    LOGGER.read().map(|s| s.is_some()).unwrap_or(true)
}

/// Reports one exchange to the installed logger, if any wants it.
pub(crate) fn exchange(method: &str, url: &str, status: Option<u16>, latency: Duration, request_id: Option<&str>, error: Option<&str>) {
    let slot = LOGGER.read().unwrap_or_else(|e| e.into_inner());
    let Some((logger, wanted)) = slot.as_ref() else { return };
    let level = match status {
        None => LogLevel::Error,
        Some(s) if !(200..300).contains(&s) => LogLevel::Warn,
        Some(_) => LogLevel::Info,
    };
    if level > *wanted {
        return;
    }
    let logger = Arc::clone(logger);
    drop(slot);
    logger.log(HttpExchange {
        level,
        method: method.to_string(),
        url: redact_url(url),
        status,
        latency_ms: latency.as_millis().min(u128::from(u64::MAX)) as u64,
        request_id: request_id.map(str::to_string),
        error: error.map(str::to_string),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Collect(Mutex<Vec<HttpExchange>>);
    impl MendianLogger for Collect {
        fn log(&self, exchange: HttpExchange) {
            self.0.lock().unwrap().push(exchange);
        }
    }

    #[test]
    fn levels_filter_and_urls_are_redacted() {
        let c = Arc::new(Collect(Mutex::new(Vec::new())));
        set_logger(Some(c.clone()), LogLevel::Warn);
        exchange("POST", "https://h/x?access_token=T0KEN&a=1", Some(200), Duration::from_millis(3), None, None);
        exchange("POST", "https://h/x?access_token=T0KEN&a=1", Some(500), Duration::from_millis(4), Some("rid"), None);
        exchange("GET", "https://h/y", None, Duration::from_millis(5), None, Some("connection refused"));
        set_logger(None, LogLevel::Info);
        exchange("GET", "https://h/z", Some(200), Duration::ZERO, None, None);
        // Only this test's exchanges (other tests of the process may log too).
        let seen: Vec<HttpExchange> = c.0.lock().unwrap().iter().filter(|e| e.url.starts_with("https://h/")).cloned().collect();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!((seen[0].level, seen[0].status, seen[0].request_id.as_deref()), (LogLevel::Warn, Some(500), Some("rid")));
        assert!(seen[0].url.contains("access_token=<redacted>") && !seen[0].url.contains("T0KEN"));
        assert_eq!(seen[1].level, LogLevel::Error);
    }
}
