//! Access tokens. `cgi-bin/stable_token` returns the same token while it has more than 300 s
//! left (with the remaining `expires_in`); below that it issues a new one and the old one
//! stays valid until its own expiry (the platform's 5-minute handover). `force_refresh: true`
//! issues a new token and invalidates the previous ones at once; it is limited to 20 a day
//! (Beijing date) and 30 s apart: the 21st of a day answers **45009** (reach max api daily quota
//! limit) and one less than 30 s after the previous forced refresh answers **45011** (api
//! minute-quota reach limit) — the platform documents the limits but not their codes, so
//! these are the two quota codes of its global table. Each `cgi-bin/token` call invalidates
//! the previous classic token; stable and classic tokens are isolated. Credential errors:
//! 41002/41004 missing appid/secret, 40002 grant_type, 40013 appid, 40125 secret (stable) and
//! 40001 secret (classic, as its page documents). `token_fetches` counts every token request
//! answered in WeChat's envelope (tokens, token errors and injected `wxa_errcode` answers);
//! `tokens_issued` counts new token values. Every other call checks `access_token`: missing
//! 41001, unknown or replaced 40001, expired 42001 — before anything else.
//!
//! These token rules are the emulator's own reading of the platform documents, written
//! independently of the SDK's token provider so each checks the other.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use super::envelope::{err, unix_now, Answer};
use super::inputs::{input_shape, s};
use super::{WxaCall, WxaState};
use crate::credentials::wxa::{APPID, SECRET};

const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
const REFRESH_AHEAD: Duration = Duration::from_secs(300);
const FORCED_PER_DAY: u32 = 20;
const FORCED_SPACING: Duration = Duration::from_secs(30);

/// An issued access token.
#[derive(Debug, Clone)]
pub(super) struct Token {
    value: String,
    expires: Instant,
}

/// The forced refreshes of the current Beijing day.
#[derive(Debug, Default)]
pub(super) struct ForcedRefreshes {
    day: i64,
    count: u32,
    last: Option<Instant>,
}

fn random_token() -> String {
    let mut b = [0u8; 48];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    // The shape of real tokens: long, URL-safe.
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b).replace('-', "_")
}

/// Days since the epoch in Beijing time (the day the forced-refresh limit counts in).
pub(super) fn beijing_day() -> i64 {
    (unix_now() + 8 * 3600).div_euclid(86_400)
}

fn credentials(
    appid: Option<String>,
    secret: Option<String>,
    grant_type: Option<String>,
    bad_secret: (i64, &str),
) -> Result<(), Value> {
    let Some(appid) = appid else { return Err(err(41002, "appid missing")) };
    let Some(secret) = secret else { return Err(err(41004, "appsecret missing")) };
    if grant_type.as_deref() != Some("client_credential") {
        return Err(err(40002, "invalid grant_type"));
    }
    if appid != APPID {
        return Err(err(40013, "invalid appid"));
    }
    if secret != SECRET {
        return Err(err(bad_secret.0, bad_secret.1));
    }
    Ok(())
}

impl WxaState {
    fn new_token(&mut self, now: Instant) -> Token {
        self.tokens_issued += 1;
        Token { value: random_token(), expires: now + TOKEN_LIFETIME }
    }

    /// Makes every issued token expire now (the `wxa_expire_tokens` fault).
    pub fn expire_tokens(&mut self) {
        let now = Instant::now();
        for t in [&mut self.stable, &mut self.stable_prev, &mut self.classic].into_iter().flatten() {
            t.expires = now;
        }
    }

    /// `get_stable_access_token` and `get_access_token`.
    pub(super) fn token_call(&mut self, call: &WxaCall, now: Instant, day: i64) -> Answer {
        let t = if call.id == "get_stable_access_token" {
            input_shape(&WxaCall { missing: None, ..*call })?;
            let b = call.body;
            credentials(s(b, "appid"), s(b, "secret"), s(b, "grant_type"), (40125, "invalid appsecret"))?;
            let force = match b.get("force_refresh") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(f)) => *f,
                Some(_) => return Err(err(47001, "data format error: force_refresh must be a boolean")),
            };
            self.stable_token(force, now, day)?
        } else {
            let q = |k: &str| call.query.get(k).filter(|v| !v.is_empty()).cloned();
            credentials(
                q("appid"),
                q("secret"),
                q("grant_type"),
                (40001, "invalid credential, access_token is invalid or not latest"),
            )?;
            let t = self.new_token(now);
            self.classic = Some(t.clone());
            t
        };
        Ok(json!({ "access_token": t.value, "expires_in": t.expires.saturating_duration_since(now).as_secs() }))
    }

    fn stable_token(&mut self, force: bool, now: Instant, day: i64) -> Result<Token, Value> {
        if force {
            if self.forced.day != day {
                self.forced.day = day;
                self.forced.count = 0;
            }
            if self.forced.count >= FORCED_PER_DAY {
                return Err(err(45009, "reach max api daily quota limit: force_refresh is limited to 20 a day"));
            }
            if self.forced.last.is_some_and(|last| now < last + FORCED_SPACING) {
                return Err(err(45011, "api minute-quota reach limit  mustslower  retry next minute: force_refresh needs 30 s between calls"));
            }
            self.forced.count += 1;
            self.forced.last = Some(now);
            let t = self.new_token(now);
            self.stable = Some(t.clone());
            self.stable_prev = None;
            return Ok(t);
        }
        if let Some(t) = self.stable.as_ref().filter(|t| t.expires > now + REFRESH_AHEAD) {
            return Ok(t.clone());
        }
        let t = self.new_token(now);
        self.stable_prev = self.stable.replace(t.clone()).filter(|old| old.expires > now);
        Ok(t)
    }

    /// The `access_token` check every other call starts with.
    pub(super) fn check_token(&self, token: Option<&String>) -> Result<(), Value> {
        let Some(token) = token.filter(|t| !t.is_empty()) else { return Err(err(41001, "access_token missing")) };
        let known = [&self.stable, &self.stable_prev, &self.classic].into_iter().flatten().find(|t| &t.value == token);
        match known {
            Some(t) if Instant::now() < t.expires => Ok(()),
            Some(_) => Err(err(42001, "access_token expired")),
            None => Err(err(40001, "invalid credential, access_token is invalid or not latest")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_refreshes_are_limited_to_20_a_day_30_s_apart() {
        let mut w = WxaState::default();
        let t0 = Instant::now();
        let first = w.stable_token(false, t0, 1000).unwrap();
        assert_eq!(w.stable_token(false, t0, 1000).unwrap().value, first.value);
        for i in 0..20u32 {
            let t = w.stable_token(true, t0 + Duration::from_secs(31 * u64::from(i)), 1000).unwrap();
            assert_ne!(t.value, first.value);
        }
        let code = |v: Value| v["errcode"].as_i64().unwrap();
        assert_eq!(code(w.stable_token(true, t0 + Duration::from_secs(31 * 20), 1000).unwrap_err()), 45009);
        // A new Beijing day resets the count, but the 30 s spacing still applies.
        let last = t0 + Duration::from_secs(31 * 19);
        assert_eq!(code(w.stable_token(true, last + Duration::from_secs(10), 1001).unwrap_err()), 45011);
        assert!(w.stable_token(true, last + Duration::from_secs(30), 1001).is_ok());
    }

    #[test]
    fn a_normal_rotation_keeps_the_old_token_valid_until_it_expires() {
        let mut w = WxaState::default();
        let t0 = Instant::now();
        let first = w.stable_token(false, t0, 1).unwrap();
        let later = t0 + TOKEN_LIFETIME - Duration::from_secs(200);
        let second = w.stable_token(false, later, 1).unwrap();
        assert_ne!(first.value, second.value);
        assert!(w.stable_prev.as_ref().is_some_and(|p| p.value == first.value));
        // A forced refresh ends both at once.
        let third = w.stable_token(true, later, 1).unwrap();
        assert!(w.stable_prev.is_none());
        assert_eq!(w.stable.as_ref().unwrap().value, third.value);
    }
}
