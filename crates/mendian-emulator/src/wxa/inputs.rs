//! Input checks of wxa calls, after the token check: a POST body that is not a JSON object
//! answers 47001 (44002 when empty); a documented required member missing answers 40097; a
//! member of the wrong JSON type (e.g. `pic_list` as an object or array instead of a JSON
//! *string* holding `{"list":[urls]}`, a string `limit`) answers 47001. `hour` must be
//! `HH:MM-HH:MM`, `contract_phone` digits/`-`/`;`, `get_store_list` `limit` 0–50 (0 means 20)
//! and `offset` ≥ 0, else 40097. (Media ids and merchant names are checked in `media` and
//! `merchant`.)

use std::collections::BTreeMap;

use serde_json::Value;

use super::envelope::err;
use super::WxaCall;

/// 44002/47001 for a body that is not a JSON object; 40097 for a missing required member.
pub(super) fn input_shape(call: &WxaCall) -> Result<(), Value> {
    if call.json_body_expected && !call.body_is_json_object {
        return Err(if call.raw_body.iter().all(u8::is_ascii_whitespace) {
            err(44002, "empty post data")
        } else {
            err(47001, "data format error: the body must be a JSON object")
        });
    }
    match &call.missing {
        Some(name) if call.id != "upload_media" => {
            Err(err(40097, &format!("invalid args: missing required parameter `{name}`")))
        }
        _ => Ok(()),
    }
}

/// A string member, accepting a number where the spec is lenient.
pub(super) fn s(v: &BTreeMap<String, Value>, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(x) if !x.is_empty() => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string member that must be a JSON string (or absent/null); 47001 for another JSON type.
pub(super) fn text(v: &BTreeMap<String, Value>, k: &str) -> Result<String, Value> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(x)) => Ok(x.clone()),
        Some(_) => Err(err(47001, &format!("data format error: `{k}` must be a string"))),
    }
}

/// An integer member: a JSON number (47001 for another type, 40097 for a fraction).
pub(super) fn int(v: &BTreeMap<String, Value>, k: &str) -> Result<Option<i64>, Value> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| err(40097, &format!("invalid args: `{k}` must be an integer")))
        }
        Some(_) => Err(err(47001, &format!("data format error: `{k}` must be a number"))),
    }
}

/// `pic_list`: a JSON string holding `{"list":[url, …]}`.
pub(super) fn pic_list(v: &BTreeMap<String, Value>) -> Result<Vec<String>, Value> {
    let bad = || err(47001, "data format error: pic_list must be a JSON string holding {\"list\":[url,...]}");
    let Some(Value::String(text)) = v.get("pic_list") else { return Err(bad()) };
    let parsed: Value = serde_json::from_str(text).map_err(|_| bad())?;
    let list = parsed.get("list").and_then(Value::as_array).ok_or_else(bad)?;
    list.iter().map(|u| u.as_str().map(str::to_string).ok_or_else(bad)).collect()
}

/// `HH:MM-HH:MM` (24:00 allowed as an end).
fn valid_hour(h: &str) -> bool {
    fn hm(t: &str, end: bool) -> bool {
        let b = t.as_bytes();
        if b.len() != 5 || b[2] != b':' || !b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit()) {
            return false;
        }
        let (hh, mm) = ((b[0] - b'0') * 10 + (b[1] - b'0'), (b[3] - b'0') * 10 + (b[4] - b'0'));
        mm < 60 && (hh < 24 || (end && hh == 24 && mm == 0))
    }
    matches!(h.split_once('-'), Some((a, b)) if hm(a, false) && hm(b, true))
}

fn valid_phone(p: &str) -> bool {
    p.chars().any(|c| c.is_ascii_digit()) && p.chars().all(|c| c.is_ascii_digit() || " -;+,".contains(c))
}

/// Display width: a non-ASCII character counts 2.
pub(super) fn width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

pub(super) fn require_hour(v: &BTreeMap<String, Value>) -> Result<String, Value> {
    let h = text(v, "hour")?;
    if !valid_hour(&h) {
        return Err(err(40097, "invalid args: hour must be HH:MM-HH:MM"));
    }
    Ok(h)
}

pub(super) fn require_phone(v: &BTreeMap<String, Value>) -> Result<String, Value> {
    let p = text(v, "contract_phone")?;
    if !valid_phone(&p) {
        return Err(err(40097, "invalid args: contract_phone"));
    }
    Ok(p)
}

/// offset/limit (or begin/limit): offset ≥ 0, limit 0–50 with 0 meaning 20.
pub(super) fn page(body: &BTreeMap<String, Value>, offset_key: &str, limit_key: &str) -> Result<(usize, usize), Value> {
    let offset = int(body, offset_key)?.unwrap_or(0);
    let limit = int(body, limit_key)?.unwrap_or(0);
    if offset < 0 {
        return Err(err(40097, &format!("invalid args: `{offset_key}` must be at least 0")));
    }
    let limit = match limit {
        0 => 20,
        1..=50 => limit as usize,
        _ => return Err(err(40097, &format!("invalid args: `{limit_key}` must be 0-50"))),
    };
    Ok((offset as usize, limit))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{district_known, district_prefix};
    use super::*;

    #[test]
    fn input_formats() {
        assert!(valid_hour("10:00-21:00") && valid_hour("00:00-24:00") && valid_hour("22:00-02:00"));
        assert!(
            !valid_hour("10:00")
                && !valid_hour("9:00-21:00")
                && !valid_hour("10:60-21:00")
                && !valid_hour("24:00-10:00")
                && !valid_hour("10:00~21:00")
        );
        assert!(valid_phone("020-89190388;13800138000") && !valid_phone("call me") && !valid_phone(""));
        assert_eq!(width("门店ab"), 6);
        assert_eq!(
            (district_prefix("440000"), district_prefix("440100"), district_prefix("440105")),
            ("44", "4401", "440105")
        );
        assert!(
            district_known("440000")
                && district_known("440100")
                && district_known("330106")
                && !district_known("999999")
        );
    }
}
