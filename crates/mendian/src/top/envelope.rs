//! TOP response envelopes: `{"<method>_response": {...}}` (the leading `taobao.` dropped),
//! the unwrapped `simplify=true` form, and `{"error_response": {...}}`; plus the business
//! layer of the worker APIs, where a TOP success can still carry `result.success = false`
//! and a worker error code.
//!
//! Decoding is lenient the way the platform needs: codes arrive as numbers or strings, and
//! raw control characters sometimes appear inside JSON strings.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::{MendianError, Platform};
use crate::schema::EndpointDescriptor;

/// The success root key for an API name (`tmall.servicecenter.worker.update` →
/// `tmall_servicecenter_worker_update_response`; `taobao.x.y` → `x_y_response`).
pub fn response_key(api_name: &str) -> String {
    let name = api_name.strip_prefix("taobao.").unwrap_or(api_name);
    format!("{}_response", name.replace('.', "_"))
}

/// Escapes raw control characters that appear inside JSON strings, which TOP sometimes
/// sends and strict parsers reject.
pub fn sanitize_json(body: &[u8]) -> Cow<'_, [u8]> {
    if !body.iter().any(|&b| b < 0x20) {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len() + 16);
    let (mut in_str, mut escaped) = (false, false);
    for &b in body {
        if in_str {
            if escaped {
                escaped = false;
                out.push(b);
            } else if b == b'\\' {
                escaped = true;
                out.push(b);
            } else if b == b'"' {
                in_str = false;
                out.push(b);
            } else if b < 0x20 {
                out.extend_from_slice(format!("\\u{:04x}", b).as_bytes());
            } else {
                out.push(b);
            }
        } else {
            if b == b'"' {
                in_str = true;
            }
            out.push(b);
        }
    }
    Cow::Owned(out)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Decodes a TOP answer into the payload object the response record is read from, or the
/// `Api` error it carries.
pub fn decode(d: &EndpointDescriptor, http_status: u16, body: &[u8]) -> Result<Value, MendianError> {
    let api = d.api_name.unwrap_or(d.id);
    let root: Value = serde_json::from_slice(&sanitize_json(body)).map_err(|e| MendianError::Decode {
        what: format!("the {api} response (HTTP {http_status})"),
        reason: format!("not JSON: {e}"),
    })?;
    if let Some(err) = root.get("error_response") {
        return Err(platform_error(d, err));
    }
    let key = response_key(api);
    let mut root = root;
    let payload = match root.as_object_mut().and_then(|members| members.remove(&key)) {
        Some(p) => p,
        // simplify=true: the root is the payload.
        None => root,
    };
    if let Some(result) = payload.get("result").filter(|r| r.is_object()) {
        let success = match result.get("success") {
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) => Some(s == "true"),
            _ => None,
        };
        let code = text(result.get("error_code")).filter(|c| c != "0");
        if success == Some(false) || code.is_some() {
            return Err(business_error(d, code, text(result.get("error_msg")), text(payload.get("request_id"))));
        }
    }
    if !(200..300).contains(&http_status) {
        return Err(MendianError::Decode {
            what: format!("the {api} response"),
            reason: format!("HTTP {http_status} without an error_response"),
        });
    }
    Ok(payload)
}

fn platform_error(d: &EndpointDescriptor, err: &Value) -> MendianError {
    let code = text(err.get("code")).unwrap_or_else(|| "?".into());
    let msg = text(err.get("msg")).unwrap_or_default();
    let sub_code = text(err.get("sub_code"));
    let sub_msg = text(err.get("sub_msg"));
    let entry = d.lookup_error(&code, sub_code.as_deref(), &msg);
    let isp = sub_code.as_deref().is_some_and(|s| s.starts_with("isp."));
    let server_message = match (&sub_msg, msg.is_empty()) {
        (Some(s), false) => format!("{msg} ({s})"),
        (Some(s), true) => s.clone(),
        (None, _) => msg.clone(),
    };
    MendianError::Api {
        platform: Platform::Top,
        http_status: None,
        code,
        sub_code,
        server_message,
        description: entry.map(|e| e.description.to_string()),
        remedy: entry.and_then(|e| e.remedy).map(str::to_string),
        retryable: isp || entry.is_some_and(|e| e.retryable),
        request_id: text(err.get("request_id")),
        detail: None,
    }
}

fn business_error(d: &EndpointDescriptor, code: Option<String>, msg: Option<String>, request_id: Option<String>) -> MendianError {
    let code = code.unwrap_or_else(|| "result.success=false".into());
    let entry = d.lookup_error(&code, None, msg.as_deref().unwrap_or(""));
    let description = entry.map(|e| e.description.to_string());
    MendianError::Api {
        platform: Platform::Top,
        http_status: None,
        server_message: msg.or_else(|| description.clone()).unwrap_or_else(|| "the call did not succeed".into()),
        code,
        sub_code: None,
        description,
        remedy: entry.and_then(|e| e.remedy).map(str::to_string),
        retryable: entry.is_some_and(|e| e.retryable),
        request_id,
        detail: None,
    }
}

/// The ban length in "This ban will last for N more seconds", if the message has one.
pub fn ban_seconds(message: &str) -> Option<u64> {
    let rest = &message[message.find("last for ")? + "last for ".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update() -> &'static EndpointDescriptor {
        crate::catalog::descriptor("worker_update").unwrap()
    }

    #[test]
    fn response_keys_drop_only_a_leading_taobao() {
        assert_eq!(response_key("tmall.servicecenter.worker.update"), "tmall_servicecenter_worker_update_response");
        assert_eq!(response_key("taobao.tbk.tpwd.create"), "tbk_tpwd_create_response");
    }

    #[test]
    fn wrapped_and_simplified_payloads() {
        let wrapped = br#"{"tmall_servicecenter_worker_update_response":{"result":{"success":true,"value":true},"request_id":"r1"}}"#;
        assert_eq!(decode(update(), 200, wrapped).unwrap()["result"]["value"], true);
        let simplified = br#"{"result":{"success":"true","value":"true"},"request_id":"r1"}"#;
        assert_eq!(decode(update(), 200, simplified).unwrap()["request_id"], "r1");
    }

    #[test]
    fn error_response_with_string_or_number_code() {
        for body in [
            &br#"{"error_response":{"code":25,"msg":"Invalid signature","request_id":"109wcmcgllsj1"}}"#[..],
            &br#"{"error_response":{"code":"25","msg":"Invalid signature","request_id":"109wcmcgllsj1"}}"#[..],
        ] {
            match decode(update(), 200, body).unwrap_err() {
                MendianError::Api { code, request_id, retryable, description, .. } => {
                    assert_eq!(code, "25");
                    assert_eq!(request_id.as_deref(), Some("109wcmcgllsj1"));
                    assert!(!retryable);
                    assert!(description.is_some(), "code 25 is in the spec's TOP error table");
                }
                other => panic!("{other:?}"),
            }
        }
        let isp = br#"{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.top-remote-connection-timeout","sub_msg":"timeout"}}"#;
        match decode(update(), 200, isp).unwrap_err() {
            MendianError::Api { retryable, sub_code, .. } => {
                assert!(retryable);
                assert_eq!(sub_code.as_deref(), Some("isp.top-remote-connection-timeout"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn business_failures_inside_a_success_become_api_errors() {
        let body = r#"{"tmall_servicecenter_worker_update_response":{"result":{"success":false,"error_code":10006,"error_msg":"工人不存在"},"request_id":"r2"}}"#;
        match decode(update(), 200, body.as_bytes()).unwrap_err() {
            MendianError::Api { code, server_message, description, request_id, .. } => {
                assert_eq!(code, "10006");
                assert_eq!(server_message, "工人不存在");
                assert_eq!(description.as_deref(), Some("工人不存在"));
                assert_eq!(request_id.as_deref(), Some("r2"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn raw_control_characters_are_tolerated() {
        let body = b"{\"result\":{\"success\":true,\"error_msg\":\"a\tb\nc\"}}";
        assert!(serde_json::from_slice::<Value>(body).is_err());
        assert_eq!(decode(update(), 200, body).unwrap()["result"]["error_msg"], "a\tb\nc");
    }

    #[test]
    fn ban_length_is_read_from_the_message() {
        assert_eq!(ban_seconds("This ban will last for 2 more seconds"), Some(2));
        assert_eq!(ban_seconds("accesscontrol.limited-by-api-access-count: This ban will last for 31062 more seconds"), Some(31062));
        assert_eq!(ban_seconds("App Call Limited"), None);
    }
}
