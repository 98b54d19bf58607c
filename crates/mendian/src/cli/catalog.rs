//! `mendian endpoints`, `mendian describe-error` and `mendian validate`: what the spec knows,
//! read through the same catalog and validation the clients use.

use serde_json::{json, Value};

use super::args::{read_input, Args, Spec};
use super::{Command, Failure, Report};
use crate::catalog::{descriptor, endpoint_infos, error_info};
use crate::error::{MendianError, Platform};
use crate::generated::{with_request_type, RequestVisitor};

pub(super) fn commands() -> Vec<Command> {
    vec![
        Command {
            words: &["endpoints"],
            summary: "List the endpoints the SDK knows",
            spec: Spec { options: &["platform"], switches: &["json"], positionals: &[], secrets: &[] },
            help: "Usage: mendian endpoints [--platform wechatpay|wxa|top] [--json]\n\n\
                   One line per endpoint: its id (what `validate` and `describe-error` take), method\n\
                   and path (or TOP API name), whether failed calls are retried, and its title.",
            run: endpoints,
        },
        Command {
            words: &["describe-error"],
            summary: "What the documents say about an error code, and its remedy",
            spec: Spec {
                options: &["sub-code", "message"],
                switches: &["json"],
                positionals: &["endpoint", "code"],
                secrets: &[],
            },
            help: "Usage: mendian describe-error <endpoint> <code> [--sub-code S] [--message TEXT] [--json]\n\n\
                   <endpoint> is an id from `mendian endpoints`; <code> is the platform's code\n\
                   (WeChat Pay: PARAM_ERROR; 门店小程序: 85024; TOP: 15 with --sub-code).\n\
                   --message (the server's text) picks among entries that share a code.\n\
                   Exits 1 when the documents do not list the code.",
            run: describe_error,
        },
        Command {
            words: &["validate"],
            summary: "Check a request (JSON) against the spec before sending it",
            spec: Spec { options: &[], switches: &["json"], positionals: &["endpoint", "file"], secrets: &[] },
            help: "Usage: mendian validate <endpoint> <file | -> [--json]\n\n\
                   <file> holds the request as one JSON object with the documented field names\n\
                   (wire names, e.g. {\"store_name\": …, \"pic_list\": …}); `-` reads standard input.\n\
                   Checks exactly what the clients check before sending: types, required fields,\n\
                   lengths (in the unit the document uses), formats and enums. Fields the endpoint\n\
                   does not have are refused. Exits 1 naming the first field that is wrong.",
            run: validate,
        },
    ]
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Wechatpay => "wechatpay",
        Platform::Wxa => "wxa",
        Platform::Top => "top",
    }
}

fn endpoints(a: &Args) -> Result<Report, Failure> {
    let wanted = a.option("platform", None);
    if let Some(p) = &wanted {
        if !["wechatpay", "wxa", "top"].contains(&p.as_str()) {
            return Err(Failure::Usage(format!("--platform must be wechatpay, wxa or top, got {p:?}")));
        }
    }
    let infos: Vec<_> = endpoint_infos()
        .into_iter()
        .filter(|e| wanted.as_deref().is_none_or(|p| p == platform_name(e.platform)))
        .collect();
    let mut text = String::new();
    let width = infos.iter().map(|e| e.id.len()).max().unwrap_or(0);
    for e in &infos {
        let target = e.api_name.clone().unwrap_or_else(|| format!("{} {}", e.method, e.path));
        let retry = if e.retried_on_transient_errors { "retried" } else { "never retried" };
        text.push_str(&format!(
            "{:<10} {:<width$}  {target}  ({retry})  {}\n",
            platform_name(e.platform),
            e.id,
            e.title
        ));
    }
    let json: Vec<Value> = infos
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "platform": platform_name(e.platform), "title": e.title, "method": e.method,
                "path": e.path, "api_name": e.api_name, "success_status": e.success_status,
                "retried_on_transient_errors": e.retried_on_transient_errors,
                "fields": e.fields, "encrypted_fields": e.encrypted_fields,
            })
        })
        .collect();
    Ok(Report { text, json: Value::Array(json) })
}

fn describe_error(a: &Args) -> Result<Report, Failure> {
    let (endpoint, code) = (&a.positionals[0], &a.positionals[1]);
    let sub = a.option("sub-code", None);
    let message = a.option("message", None).unwrap_or_default();
    let Some(e) = error_info(endpoint, code, sub.as_deref(), &message).map_err(|_| unknown_endpoint(endpoint))? else {
        return Err(Failure::Refused(format!(
            "the documents of `{endpoint}` do not list code {code}{}",
            sub.map(|s| format!(" / {s}")).unwrap_or_default()
        )));
    };
    let mut text = format!("{}{}", e.code, e.sub_code.as_ref().map(|s| format!(" / {s}")).unwrap_or_default());
    if let Some(status) = e.http_status {
        text.push_str(&format!(" (HTTP {status})"));
    }
    text.push_str(&format!(": {}\n", e.description));
    if let Some(r) = &e.remedy {
        let whose = if e.remedy_inferred { " (mendian's advice; the document gives none)" } else { "" };
        text.push_str(&format!("remedy{whose}: {r}\n"));
    }
    text.push_str(if e.retryable {
        "the same request may succeed later\n"
    } else {
        "repeating the same request will not help\n"
    });
    let json = json!({
        "endpoint": endpoint, "code": e.code, "sub_code": e.sub_code, "http_status": e.http_status,
        "description": e.description, "remedy": e.remedy, "remedy_inferred": e.remedy_inferred, "retryable": e.retryable,
    });
    Ok(Report { text, json })
}

fn unknown_endpoint(id: &str) -> Failure {
    Failure::Usage(format!("no endpoint `{id}` in the spec; `mendian endpoints` lists them"))
}

fn validate(a: &Args) -> Result<Report, Failure> {
    let (endpoint, file) = (&a.positionals[0], &a.positionals[1]);
    if descriptor(endpoint).is_none() {
        return Err(unknown_endpoint(endpoint));
    }
    let text = read_input(file, "<file>")?;
    let value: Value = serde_json::from_str(&text).map_err(|e| Failure::Usage(format!("{file} is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(Failure::Usage(format!("{file} must hold one JSON object (the request's fields)")));
    }
    with_request_type(endpoint, Check(value)).expect("the endpoint exists")?;
    Ok(Report {
        text: format!("{endpoint}: the request is valid\n"),
        json: json!({ "endpoint": endpoint, "valid": true }),
    })
}

/// Reads a request of the visited type from JSON and validates it.
struct Check(Value);

impl RequestVisitor for Check {
    type Output = Result<(), MendianError>;

    fn visit<R: crate::schema::Request + serde::Serialize + serde::de::DeserializeOwned>(self) -> Self::Output {
        let request: R = serde_path_to_error::deserialize(&self.0).map_err(|e| {
            let path = e.path().to_string();
            let reason = e.inner().to_string();
            // serde names a missing field in its message, at the path of the enclosing object.
            let missing = reason.strip_prefix("missing field `").and_then(|r| r.split('`').next());
            let field = match (path.as_str(), missing) {
                (".", Some(m)) => m.to_string(),
                (p, Some(m)) => format!("{p}.{m}"),
                (".", None) => "request".to_string(),
                (p, None) => p.to_string(),
            };
            let reason = if missing.is_some() { "is required".to_string() } else { reason };
            MendianError::invalid(field, reason)
        })?;
        let back = serde_json::to_value(&request).map_err(|e| MendianError::invalid("request", e.to_string()))?;
        if let Some(path) = unknown_key(&self.0, &back, "") {
            return Err(MendianError::invalid(path, "the endpoint has no such field"));
        }
        request.validate()
    }
}

/// The first key of `input` (at any depth) that did not survive reading into the record and
/// writing it back: a field the record does not have.
fn unknown_key(input: &Value, back: &Value, at: &str) -> Option<String> {
    let join = |k: &str| if at.is_empty() { k.to_string() } else { format!("{at}.{k}") };
    match (input, back) {
        (Value::Object(i), Value::Object(b)) => {
            i.iter().filter(|(_, v)| !v.is_null()).find_map(|(k, v)| match b.get(k) {
                None => Some(join(k)),
                Some(bv) => unknown_key(v, bv, &join(k)),
            })
        }
        (Value::Array(i), Value::Array(b)) => {
            i.iter().zip(b).enumerate().find_map(|(n, (iv, bv))| unknown_key(iv, bv, &format!("{at}[{n}]")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_found_at_any_depth() {
        let back = json!({"a": 1, "list": [{"x": 1}]});
        assert_eq!(unknown_key(&json!({"a": 1, "b": 2}), &back, ""), Some("b".into()));
        assert_eq!(unknown_key(&json!({"a": 1, "list": [{"x": 1, "y": 2}]}), &back, ""), Some("list[0].y".into()));
        assert_eq!(unknown_key(&json!({"a": 1, "gone": null}), &back, ""), None);
        assert_eq!(unknown_key(&json!({"a": 1}), &back, ""), None);
    }
}
