//! The TOP gateway: system-parameter checks (method, app key, GMT+8 timestamp within ten
//! minutes, version, session, signature in md5 / hmac / hmac-sha256), the platform error
//! codes TOP answers for them, and the worker store of `tmall.servicecenter.worker.*` keyed
//! by name + phone + biz_type with the documented business codes.
//!
//! The signature check (md5 / hmac-md5 / hmac-sha256) is written here from the protocol text,
//! independently of the SDK's signer on purpose and never shared with it (see the crate doc),
//! so a mistake in one does not hide a mistake in the other.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::credentials::top::{APP_KEY, APP_SECRET, SESSION};
use crate::platforms::{Call, PlatformHandler, Reply};
use crate::state::Shared;

/// The only `biz_type` the document names (电器预约安装业务).
const BIZ_TYPES: &[&str] = &["appliance_install"];
/// Workers per page of `worker.querypage`.
const PAGE_SIZE: usize = 20;

/// A worker as stored: the WorkerDto JSON object plus timestamps.
#[derive(Debug, Clone)]
pub(crate) struct StoredWorker {
    pub dto: Map<String, Value>,
    pub gmt_create: String,
    pub gmt_modified: String,
}

pub(crate) type WorkerKey = (String, String, String);

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn expected_sign(method: &str, params: &BTreeMap<String, String>) -> Option<String> {
    let data: String = params.iter().filter(|(k, v)| *k != "sign" && !v.trim().is_empty()).map(|(k, v)| format!("{k}{v}")).collect();
    let key = APP_SECRET.as_bytes();
    Some(match method {
        "md5" => hex_upper(&Md5::new().chain_update(key).chain_update(data.as_bytes()).chain_update(key).finalize()),
        "hmac" => {
            let mut m = <Hmac<Md5> as KeyInit>::new_from_slice(key).ok()?;
            m.update(data.as_bytes());
            hex_upper(&m.finalize().into_bytes())
        }
        "hmac-sha256" => {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
            m.update(data.as_bytes());
            hex_upper(&m.finalize().into_bytes())
        }
        _ => return None,
    })
}

/// Unix seconds of a `yyyy-MM-dd HH:mm:ss` GMT+8 timestamp.
fn parse_gmt8(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - 8 * 3600)
}

fn now_gmt8() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0) + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

fn platform_error(code: u32, msg: &str, sub_code: Option<&str>, sub_msg: Option<&str>) -> Value {
    let mut e = json!({ "code": code, "msg": msg, "request_id": "emulator" });
    if let Some(s) = sub_code {
        e["sub_code"] = json!(s);
    }
    if let Some(s) = sub_msg {
        e["sub_msg"] = json!(s);
    }
    json!({ "error_response": e })
}

/// Checks the system parameters; `Err` is the platform error to answer.
fn check_system(params: &BTreeMap<String, String>) -> Result<(), Value> {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.trim().is_empty());
    match get("app_key") {
        None => return Err(platform_error(28, "Missing App Key", None, None)),
        Some(k) if k != APP_KEY => return Err(platform_error(29, "Invalid App Key", None, None)),
        _ => {}
    }
    match get("timestamp") {
        None => return Err(platform_error(30, "Missing Timestamp", None, None)),
        Some(ts) => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            match parse_gmt8(ts) {
                Some(t) if (t - now).abs() <= 600 => {}
                _ => {
                    return Err(platform_error(31, "Invalid Timestamp", None, Some("时间戳必须是GMT+8的yyyy-MM-dd HH:mm:ss，且与服务器时间相差不超过10分钟")))
                }
            }
        }
    }
    match get("v") {
        None => return Err(platform_error(32, "Missing Version", None, None)),
        Some(v) if v != "2.0" => return Err(platform_error(33, "Invalid Version", None, None)),
        _ => {}
    }
    if let Some(f) = get("format") {
        if f != "json" {
            return Err(platform_error(23, "Invalid Format", None, Some("mendian-emulator answers format=json only")));
        }
    }
    let Some(sign) = get("sign") else { return Err(platform_error(24, "Missing Signature", None, None)) };
    let method = get("sign_method").unwrap_or("md5");
    match expected_sign(method, params) {
        Some(expected) if expected == sign => {}
        Some(_) => return Err(platform_error(25, "Invalid Signature", None, None)),
        None => return Err(platform_error(25, "Invalid Signature", None, Some("sign_method must be md5, hmac or hmac-sha256"))),
    }
    match get("session") {
        None => Err(platform_error(26, "Missing Session", None, None)),
        Some(s) if s != SESSION => Err(platform_error(27, "Invalid Session", Some("invalid-sessionkey"), Some("非法或过期的SessionKey参数，请使用有效的SessionKey参数"))),
        _ => Ok(()),
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A business outcome: `Ok(members of result)` (at least `value`) or `Err(worker error code)`.
type Outcome = Result<Value, u32>;

fn worker_json(params: &BTreeMap<String, String>, name: &str) -> Result<Option<Map<String, Value>>, Value> {
    match params.get(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            _ => Err(platform_error(41, "Invalid Arguments", Some("isv.invalid-parameter"), Some(&format!("参数{name}不是合法的JSON对象")))),
        },
    }
}

fn key_of(dto: &Map<String, Value>) -> Result<WorkerKey, u32> {
    let name = text(dto.get("name")).ok_or(10008u32)?;
    let phone = text(dto.get("phone")).ok_or(10009u32)?;
    let biz = text(dto.get("biz_type")).unwrap_or_default();
    if !biz.is_empty() && !BIZ_TYPES.contains(&biz.as_str()) {
        return Err(11001);
    }
    Ok((name, phone, biz))
}

fn stored_value(w: &StoredWorker) -> Value {
    Value::Object(w.dto.clone())
}

fn business(shared: &Shared, api: &str, params: &BTreeMap<String, String>) -> Result<Outcome, Value> {
    let mut inner = shared.lock();
    let workers = &mut inner.top_workers;
    Ok(match api {
        "tmall.servicecenter.worker.create" => {
            let Some(dto) = worker_json(params, "worker_dto")? else { return Ok(Err(10004)) };
            match key_of(&dto) {
                Err(code) => Err(code),
                Ok(_) if text(dto.get("provider_id")).is_none() && text(dto.get("provider_name")).is_none() => Err(10005),
                Ok(key) if workers.contains_key(&key) => Err(10007),
                Ok(key) => {
                    let now = now_gmt8();
                    workers.insert(key, StoredWorker { dto, gmt_create: now.clone(), gmt_modified: now.clone() });
                    Ok(json!({ "value": true, "gmt_create": now, "gmt_modified": now }))
                }
            }
        }
        "tmall.servicecenter.worker.update" => {
            let Some(dto) = worker_json(params, "worker")? else { return Ok(Err(10004)) };
            match key_of(&dto) {
                Err(code) => Err(code),
                Ok(key) => match workers.get_mut(&key) {
                    None => Err(10006),
                    Some(w) => {
                        for (k, v) in dto {
                            w.dto.insert(k, v);
                        }
                        w.gmt_modified = now_gmt8();
                        Ok(json!({ "value": true, "gmt_create": w.gmt_create, "gmt_modified": w.gmt_modified }))
                    }
                },
            }
        }
        "tmall.servicecenter.worker.delete" => {
            if ["name", "phone", "biz_type"].iter().all(|k| params.get(*k).is_none_or(|v| v.trim().is_empty())) {
                return Err(platform_error(40, "Missing Required Arguments", Some("isv.missing-parameter"), Some("name, phone, biz_type")));
            }
            let mut dto = Map::new();
            for k in ["name", "phone", "biz_type"] {
                if let Some(v) = params.get(k) {
                    dto.insert(k.into(), json!(v));
                }
            }
            match key_of(&dto) {
                Err(code) => Err(code),
                Ok(key) => match workers.remove(&key) {
                    Some(_) => Ok(json!({ "value": true })),
                    None => Err(10006),
                },
            }
        }
        "tmall.servicecenter.worker.query" => {
            let id = params.get("identity_id").map(String::as_str).unwrap_or("");
            if id.trim().is_empty() {
                return Err(platform_error(40, "Missing Required Arguments", Some("isv.missing-parameter:identity_id"), Some("identity_id")));
            }
            match workers.values().find(|w| text(w.dto.get("identity_id")).as_deref() == Some(id)) {
                Some(w) if !id.is_empty() => Ok(json!({ "value": stored_value(w), "gmt_create": w.gmt_create, "gmt_modified": w.gmt_modified })),
                _ => Err(10006),
            }
        }
        "tmall.servicecenter.worker.querypage" => {
            let page: usize = params.get("page_index").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
            let items: Vec<Value> = workers.values().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).map(stored_value).collect();
            if items.is_empty() && page > 1 {
                Err(20001)
            } else {
                Ok(json!({ "value": Value::Array(items).to_string() }))
            }
        }
        other => return Err(platform_error(22, "Invalid Method", Some("isv.invalid-method"), Some(other))),
    })
}

/// The code-7 answer of an active ban, if one is active.
fn active_ban(shared: &Shared) -> Option<Value> {
    let mut inner = shared.lock();
    let (until, sub_code) = inner.top_ban.clone()?;
    let now = std::time::Instant::now();
    if now >= until {
        inner.top_ban = None;
        return None;
    }
    let left = (until - now).as_millis().div_ceil(1000);
    Some(platform_error(7, "App Call Limited", Some(&sub_code), Some(&format!("This ban will last for {left} more seconds"))))
}

/// The TOP gateway behind the platform router.
pub(crate) struct Top;

impl PlatformHandler for Top {
    fn handle(&self, shared: &Arc<Shared>, call: &Call<'_>) -> Reply {
        if let Some(ban) = active_ban(shared) {
            return Reply::json(ban);
        }
        let mut params = call.query.clone();
        for (k, v) in call.body {
            params.insert(k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        }
        Reply::json(handle(shared, call.endpoint, &params))
    }
}

/// Answers one TOP call (after faults and spec routing).
fn handle(shared: &Shared, endpoint: &mendian_spec::Endpoint, params: &BTreeMap<String, String>) -> Value {
    if let Err(e) = check_system(params) {
        return e;
    }
    let api = endpoint.api_name.as_deref().unwrap_or(&endpoint.id);
    let outcome = match business(shared, api, params) {
        Ok(o) => o,
        Err(platform) => return platform,
    };
    let result = match outcome {
        Ok(mut members) => {
            members["success"] = json!(true);
            members
        }
        Err(code) => {
            let msg = endpoint
                .errors
                .iter()
                .find(|e| e.code == code.to_string())
                .map(|e| e.description.clone())
                .unwrap_or_else(|| format!("error {code}"));
            json!({ "success": false, "error_code": code, "error_msg": msg })
        }
    };
    let payload = json!({ "result": result, "request_id": "emulator" });
    if params.get("simplify").is_some_and(|s| s == "true") {
        payload
    } else {
        let name = api.strip_prefix("taobao.").unwrap_or(api).replace('.', "_");
        json!({ format!("{name}_response"): payload })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmt8_round_trip() {
        assert_eq!(parse_gmt8("2016-01-01 12:00:00"), Some(1_451_620_800));
        assert_eq!(parse_gmt8("1970-01-01 08:00:00"), Some(0));
        assert_eq!(parse_gmt8("2016-01-01T12:00:00"), None);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((parse_gmt8(&now_gmt8()).unwrap() - now).abs() <= 1);
    }

    #[test]
    fn official_vector_verifies() {
        let p: BTreeMap<String, String> = [
            ("method", "taobao.item.seller.get"),
            ("app_key", "12345678"),
            ("session", "test"),
            ("timestamp", "2016-01-01 12:00:00"),
            ("format", "json"),
            ("v", "2.0"),
            ("sign_method", "md5"),
            ("fields", "num_iid,title,nick,price,num"),
            ("num_iid", "11223344"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        // The official example is signed with the secret `helloworld`; recompute with it.
        let data: String = p.iter().map(|(k, v)| format!("{k}{v}")).collect();
        let sig = hex_upper(&Md5::new().chain_update(b"helloworld").chain_update(data.as_bytes()).chain_update(b"helloworld").finalize());
        assert_eq!(sig, "66987CB115214E59E6EC978214934FB8");
    }
}
