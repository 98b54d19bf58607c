//! When a failed call is repeated, and after how long: one policy and one backoff schedule
//! for every platform.
//!
//! Each platform only classifies its failures ([`Failure`]); whether that failure may be
//! repeated is decided here from the endpoint descriptor's retry guidance. The rules:
//! - `Transient` (busy, 5xx, 429, `isp.*`, a connection lost mid-call) is repeated only for
//!   endpoints the spec marks safe to repeat, at most `max_retries` times, after
//!   [`backoff`];
//! - `Refused { wait }` (a rate-limit ban: nothing was done) is repeated for any endpoint
//!   after the platform's own wait, at most `max_retries` times;
//! - `StaleCredential` (an expired access token) is repeated once, at once, after the
//!   protocol has renewed the credential;
//! - anything else is returned as it is.

use std::time::Duration;

use crate::schema::{EndpointDescriptor, Retry};

/// What kind of failure a platform says an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Repeating the same request will fail the same way.
    Final,
    /// The platform may succeed later (busy, 5xx, lost connection).
    Transient,
    /// A definite refusal that ends after `wait`; nothing was done.
    Refused {
        /// How long the platform says to wait.
        wait: Duration,
    },
    /// The credential of this attempt was refused; a renewed one may succeed.
    StaleCredential,
}

/// What the engine does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Return the error.
    GiveUp,
    /// Renew the credential, then repeat at once.
    Renew,
    /// Repeat after this pause.
    Wait(Duration),
}

/// First pause of the backoff schedule.
pub const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Longest pause of the backoff schedule.
pub const BACKOFF_CAP: Duration = Duration::from_secs(3);

/// The pause before repeat number `n` (1-based): 200 ms · 2ⁿ⁻¹ capped at 3 s, with equal
/// jitter (between half and all of it) so clients that failed together do not come back
/// together.
pub fn backoff(n: u32) -> Duration {
    let full = BACKOFF_BASE.saturating_mul(1u32 << n.saturating_sub(1).min(10)).min(BACKOFF_CAP);
    let half = full / 2;
    half + half.mul_f64(unit_random())
}

fn unit_random() -> f64 {
    let mut b = [0u8; 4];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}

/// The retry policy of one client.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Repeats allowed after `Transient` and `Refused` failures.
    pub max_retries: u32,
}

impl RetryPolicy {
    /// What to do after `failure`, given `retries` repeats so far and whether the
    /// credential was already renewed once in this call.
    pub fn decide(&self, d: &EndpointDescriptor, failure: Failure, retries: u32, renewed: bool) -> Decision {
        match failure {
            Failure::Final => Decision::GiveUp,
            Failure::StaleCredential if !renewed => Decision::Renew,
            Failure::StaleCredential => Decision::GiveUp,
            Failure::Transient if d.retry == Retry::Transient && retries < self.max_retries => {
                Decision::Wait(backoff(retries + 1))
            }
            Failure::Transient => Decision::GiveUp,
            Failure::Refused { wait } if retries < self.max_retries => Decision::Wait(wait),
            Failure::Refused { .. } => Decision::GiveUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for n in 1..=8 {
            let full = BACKOFF_BASE.saturating_mul(1 << (n - 1)).min(BACKOFF_CAP);
            let b = backoff(n);
            assert!(b >= full / 2 && b <= full, "repeat {n}: {b:?} not within [{:?}, {full:?}]", full / 2);
        }
        assert!(backoff(30) <= BACKOFF_CAP);
    }

    #[test]
    fn only_idempotent_endpoints_repeat_transient_failures() {
        let p = RetryPolicy { max_retries: 2 };
        let safe = crate::catalog::descriptor("get_store_list").unwrap();
        let unsafe_ = crate::catalog::descriptor("add_store").unwrap();
        assert_eq!(safe.retry, Retry::Transient);
        assert_eq!(unsafe_.retry, Retry::Never);
        assert!(matches!(p.decide(safe, Failure::Transient, 0, false), Decision::Wait(_)));
        assert_eq!(p.decide(safe, Failure::Transient, 2, false), Decision::GiveUp);
        assert_eq!(p.decide(unsafe_, Failure::Transient, 0, false), Decision::GiveUp);
        let ban = Failure::Refused { wait: Duration::from_secs(1) };
        assert_eq!(p.decide(unsafe_, ban, 0, false), Decision::Wait(Duration::from_secs(1)));
        assert_eq!(p.decide(unsafe_, Failure::StaleCredential, 0, false), Decision::Renew);
        assert_eq!(p.decide(unsafe_, Failure::StaleCredential, 0, true), Decision::GiveUp);
        assert_eq!(p.decide(safe, Failure::Final, 0, false), Decision::GiveUp);
    }
}
