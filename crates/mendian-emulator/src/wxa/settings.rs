//! The admin view and settings of the wxa side: `GET /__admin/wxa` (counters, settings, push
//! log) and `PUT /__admin/wxa` (`audit_delay_ms`, `callback_url`, `push_mode`,
//! `audit_outcome`; all optional).

use std::time::Duration;

use serde_json::{json, Value};

use super::push::{parse_callback_url, PushMode};
use super::{AuditOutcome, WxaState};

impl WxaState {
    /// `GET /__admin/wxa`.
    pub fn admin_json(&self) -> Value {
        json!({
            "token_fetches": self.token_fetches,
            "tokens_issued": self.tokens_issued,
            "audit_delay_ms": self.audit_delay.as_millis() as u64,
            "audit_outcome": self.audit_outcome,
            "callback_url": self.callback_url,
            "push_mode": self.push_mode,
            "pushes": self.pushes,
        })
    }

    /// `PUT /__admin/wxa`: every member optional; `callback_url: null` removes the callback.
    pub fn apply_admin(&mut self, v: &Value) -> Result<(), String> {
        let m = v.as_object().ok_or("expected a JSON object")?;
        if let Some(k) =
            m.keys().find(|k| !["audit_delay_ms", "callback_url", "push_mode", "audit_outcome"].contains(&k.as_str()))
        {
            return Err(format!("unknown setting `{k}` (audit_delay_ms, callback_url, push_mode, audit_outcome)"));
        }
        let delay = m
            .get("audit_delay_ms")
            .map(|d| d.as_u64().ok_or("audit_delay_ms must be a non-negative integer"))
            .transpose()?;
        let url = match m.get("callback_url") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(u)) => {
                parse_callback_url(u)?;
                Some(Some(u.clone()))
            }
            Some(_) => return Err("callback_url must be a string or null".into()),
        };
        let mode = m
            .get("push_mode")
            .map(|x| {
                serde_json::from_value::<PushMode>(x.clone()).map_err(|_| "push_mode must be \"plain\" or \"safe\"")
            })
            .transpose()?;
        let outcome = m
            .get("audit_outcome")
            .map(|x| {
                serde_json::from_value::<AuditOutcome>(x.clone())
                    .map_err(|_| "audit_outcome must be \"approve\" or \"reject\"")
            })
            .transpose()?;
        if let Some(d) = delay {
            self.audit_delay = Duration::from_millis(d);
        }
        if let Some(u) = url {
            self.callback_url = u;
        }
        if let Some(x) = mode {
            self.push_mode = x;
        }
        if let Some(o) = outcome {
            self.audit_outcome = o;
        }
        Ok(())
    }
}
