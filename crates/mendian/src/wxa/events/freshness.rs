//! Freshness of pushes: the timestamp window and the replay guard of a [`super::WxaPushReceiver`].
//!
//! WeChat signs `timestamp` and `nonce` but nothing makes a signed push expire, so a push
//! copied from an access log would verify forever. The receiver refuses a timestamp further
//! than the configured window from local time (either way), and remembers the
//! `(timestamp, nonce)` of every push it accepted for as long as that push could still pass
//! the window, refusing the same pair again. WeChat's retry of an unanswered push is a new
//! request, so it is never refused as a replay (deduplicate events by `FromUserName` +
//! `CreateTime`, as WeChat recommends).
//!
//! The memory is bounded: at most [`MAX_REMEMBERED`] pairs; when full, the oldest is
//! forgotten first (it is also the first whose timestamp leaves the window).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use crate::error::MendianError;

/// How many accepted `(timestamp, nonce)` pairs a receiver remembers at most.
pub const MAX_REMEMBERED: usize = 100_000;

/// Pairs remembered without a window (when the check is off) are kept this long, in seconds.
const UNBOUNDED_MEMORY_SECONDS: i64 = 3600;

/// The timestamp window and the pairs already accepted.
#[derive(Debug)]
pub(crate) struct Freshness {
    max_skew: i64,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// (when it may be forgotten, key) in the order accepted.
    order: VecDeque<(i64, String)>,
    keys: HashSet<String>,
}

impl Freshness {
    /// `max_skew_seconds` of 0 turns the window off (the replay guard stays on).
    pub(crate) fn new(max_skew_seconds: u32) -> Self {
        Freshness { max_skew: i64::from(max_skew_seconds), seen: Mutex::new(Seen::default()) }
    }

    /// Checks `timestamp` (decimal Unix seconds) against the window around `now`.
    pub(crate) fn check_window(&self, timestamp: &str, now: i64) -> Result<i64, MendianError> {
        let ts = parse_timestamp(timestamp)?;
        if self.max_skew > 0 {
            let skew = ts.saturating_sub(now);
            if skew.unsigned_abs() > self.max_skew.unsigned_abs() {
                let direction = if skew > 0 { "ahead of" } else { "behind" };
                return Err(MendianError::Signature {
                    reason: format!(
                        "the push timestamp is {} s {direction} local time, outside the {} s window (max_timestamp_skew_seconds): a replayed push or a wrong clock",
                        skew.unsigned_abs(),
                        self.max_skew
                    ),
                });
            }
        }
        Ok(ts)
    }

    /// Records an accepted push; fails if the same `(timestamp, nonce)` was accepted before.
    /// Call only after every signature check passed, so that forged pushes cannot fill it.
    pub(crate) fn remember(&self, ts: i64, nonce: &str, now: i64) -> Result<(), MendianError> {
        let key = format!("{ts}:{nonce}");
        let keep = if self.max_skew > 0 { self.max_skew } else { UNBOUNDED_MEMORY_SECONDS };
        let forget_at = ts.max(now).saturating_add(keep);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((at, _)) = seen.order.front() {
            if *at > now && seen.order.len() < MAX_REMEMBERED {
                break;
            }
            let (_, old) = seen.order.pop_front().expect("front exists");
            seen.keys.remove(&old);
        }
        if seen.keys.contains(&key) {
            return Err(MendianError::Signature {
                reason: "replayed push: a push with this timestamp and nonce was already accepted by this receiver".into(),
            });
        }
        seen.keys.insert(key.clone());
        seen.order.push_back((forget_at, key));
        Ok(())
    }
}

fn parse_timestamp(timestamp: &str) -> Result<i64, MendianError> {
    let bad = || MendianError::Signature {
        reason: "query parameter `timestamp` must be Unix seconds in at most 12 decimal digits".into(),
    };
    if timestamp.is_empty() || timestamp.len() > 12 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    timestamp.parse::<i64>().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_both_ways_and_off() {
        let f = Freshness::new(300);
        assert_eq!(f.check_window("1000", 1200).unwrap(), 1000);
        assert!(f.check_window("1000", 1301).is_err());
        assert!(f.check_window("1400", 1000).is_err());
        assert!(f.check_window("-5", 1000).is_err());
        assert!(f.check_window("99999999999999999999", 1000).is_err());
        assert!(Freshness::new(0).check_window("1", 1_900_000_000).is_ok());
    }

    #[test]
    fn a_pair_is_accepted_once_and_forgotten_after_the_window() {
        let f = Freshness::new(300);
        f.remember(1000, "n1", 1000).unwrap();
        f.remember(1000, "n2", 1000).unwrap();
        assert!(f.remember(1000, "n1", 1001).is_err());
        // Once the timestamp has left the window, the window itself refuses it; memory is freed.
        f.remember(2000, "n3", 1400).unwrap();
        assert!(!f.seen.lock().unwrap().keys.contains("1000:n1"));
    }

    #[test]
    fn memory_is_bounded() {
        let f = Freshness::new(0);
        for i in 0..(MAX_REMEMBERED + 10) {
            f.remember(1000, &i.to_string(), 1000).unwrap();
        }
        assert_eq!(f.seen.lock().unwrap().keys.len(), MAX_REMEMBERED);
    }
}
