//! WeChat's JSON envelope: `errcode: 0, errmsg: "ok"` on success, and errors whose `errmsg`
//! ends in a `rid: …` like the real platform's.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// A wxa answer: the success body, or the error body (both answered with HTTP 200).
pub(super) type Answer = Result<Value, Value>;

/// `extra` with `errcode: 0, errmsg: "ok"` added.
pub(super) fn ok(mut extra: Value) -> Value {
    extra["errcode"] = json!(0);
    extra["errmsg"] = json!("ok");
    extra
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    u32::from_be_bytes(b)
}

pub(super) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A WeChat error, its errmsg ending in a `rid: …` like the real platform's.
pub(super) fn err(code: i64, msg: &str) -> Value {
    json!({ "errcode": code, "errmsg": format!("{msg} rid: {:08x}-{:08x}-{:08x}", unix_now(), rand_u32(), rand_u32()) })
}

/// The platform's errmsg for the codes an injected `wxa_errcode` fault commonly uses.
pub(super) fn default_errmsg(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit  mustslower  retry next minute",
        _ => "emulated error",
    }
}
