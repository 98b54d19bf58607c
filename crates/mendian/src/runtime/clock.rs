//! The clock every client reads (Unix seconds), injectable so tests can move time: request
//! timestamps, answer windows and token expiry all come from here, never from `SystemTime`
//! directly.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of Unix time in seconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The system clock as a [`Clock`].
pub fn system_clock() -> Clock {
    Arc::new(system_now)
}
