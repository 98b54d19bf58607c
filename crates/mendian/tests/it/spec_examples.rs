//! The documents' own request examples, as the spec keeps them, pass the generated validation:
//! a rule stricter than the document would refuse the document's example. Their response
//! examples decode into the generated response records through the runtime's own decoding
//! (`decode_payload`, and the 门店小程序 envelope check): a record stricter than the answer
//! the document shows would fail the documented answer. Examples that are
//! not JSON (TOP's Java sample) are skipped by name, with the reason; the body examples lack
//! the path and query fields, which are filled from the fields' own `example` values.

use mendian::generated::{with_request_type, RequestVisitor};
use mendian::MendianError;
use serde_json::Value;

/// Removes `// …` comments outside strings and `…` placeholder lines (the 门店小程序 page
/// annotates its examples).
fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut cut = line.len();
        let bytes = line.as_bytes();
        for i in 0..bytes.len() {
            let b = bytes[i];
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
            } else if b == b'"' {
                in_string = true;
            } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
                cut = i;
                break;
            }
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

struct Check(Value);

impl RequestVisitor for Check {
    type Output = Result<(), String>;
    fn visit<R: mendian::schema::Request + serde::Serialize + serde::de::DeserializeOwned>(self) -> Self::Output {
        let r: R = serde_json::from_value(self.0).map_err(|e| format!("does not read as the request record: {e}"))?;
        r.validate().map_err(|e: MendianError| e.to_string())
    }
}

/// Examples that cannot be checked this way, and why.
const NOT_JSON: &[(&str, &str)] = &[
    ("worker_update", "the TOP page's example is Java SDK code"),
    ("set_store_card", "the page's example lacks the comma between its two members"),
    ("upload_media", "the page's example is a curl command with a multipart file"),
];

/// Where the page's example and its own parameter table disagree: the field the example
/// leaves out although the table marks it 必填, and the value the table allows.
const EXAMPLE_OMITS_REQUIRED: &[(&str, &str, &str)] = &[
    ("add_store", "card_id", "the table marks card_id 必填 and says it may be empty (该参数可为空); the example leaves it out"),
    ("update_store", "card_id", "the table marks card_id 必填 and says to set it empty to keep it (设置为空); the example leaves it out"),
];

/// A GET example (`GET https://…/path?a=1&b=x`) as the fields of its query string; the access
/// token is the runtime's, not the request's.
fn query_fields(text: &str) -> Option<Value> {
    let url = text.trim().strip_prefix("GET ")?.trim();
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut obj = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "access_token" {
            continue;
        }
        let value = v.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(v));
        obj.insert(k.to_string(), value);
    }
    Some(Value::Object(obj))
}

/// Trailing commas before `}` or `]`, which the pages' examples sometimes have.
fn strip_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == ',' && chars[i + 1..].iter().find(|c| !c.is_whitespace()).is_some_and(|n| *n == '}' || *n == ']') {
            continue;
        }
        out.push(*c);
    }
    out
}

#[test]
fn the_documents_request_examples_pass_validation() {
    let spec = mendian_spec::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec")).unwrap();
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for file in &spec.files {
        for ep in &file.spec.endpoints {
            let Some(text) = &ep.request_example else { continue };
            if NOT_JSON.iter().any(|(id, _)| *id == ep.id) {
                continue;
            }
            let parsed = match query_fields(text) {
                Some(v) => Ok(v),
                None => serde_json::from_str(&strip_trailing_commas(&strip_comments(text))),
            };
            let mut value: Value = match parsed {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{}: the example is not JSON after removing comments: {e}", ep.id));
                    continue;
                }
            };
            let Some(obj) = value.as_object_mut() else {
                failures.push(format!("{}: the example is not a JSON object", ep.id));
                continue;
            };
            for f in &ep.fields {
                if f.encrypted && obj.contains_key(&f.name) {
                    // The pages show encrypted fields only as ciphertext (their examples too);
                    // the record holds the plaintext, whose limits other tests check.
                    obj.insert(f.name.clone(), Value::from("plaintext"));
                } else if !obj.contains_key(&f.name) {
                    // Fields outside the body (path, query) are not in a body example.
                    if let Some(ex) = &f.example {
                        obj.insert(f.name.clone(), serde_json::to_value(ex).unwrap());
                    }
                }
            }
            for (id, field, _why) in EXAMPLE_OMITS_REQUIRED {
                if *id == ep.id && !obj.contains_key(*field) {
                    obj.insert(field.to_string(), Value::from(""));
                }
            }
            match with_request_type(&ep.id, Check(value)).expect("the endpoint is generated") {
                Ok(()) => checked.push(ep.id.clone()),
                Err(e) => failures.push(format!("{}: {e}", ep.id)),
            }
        }
    }
    assert!(failures.is_empty(), "documented examples refused:\n{}", failures.join("\n"));
    assert!(checked.len() >= 15, "only {} examples checked: {checked:?}", checked.len());
}

/// Reads an answer the way the runtime does: the envelope must say success, and the payload
/// must decode into the endpoint's response record.
struct DecodeAnswer(Value);

impl RequestVisitor for DecodeAnswer {
    type Output = Result<(), String>;
    fn visit<R: mendian::schema::Request + serde::Serialize + serde::de::DeserializeOwned>(self) -> Self::Output {
        let d = R::descriptor();
        if d.platform == mendian::Platform::Wxa {
            if let Some(e) = mendian::wxa::client::envelope_error(d, &self.0) {
                return Err(format!("the envelope reads as an error: {e}"));
            }
        }
        mendian::runtime::errors::decode_payload::<R::Response>(d, self.0).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Response examples that cannot be decoded this way, and why.
const ANSWER_NOT_JSON: &[(&str, &str)] = &[("worker_update", "the TOP page shows XML; the SDK asks the gateway for JSON (format=json)")];

/// Typos in a page's response example, repaired before decoding so the rest is still checked:
/// (endpoint, from, to, why).
const ANSWER_TYPOS: &[(&str, &str, &str, &str)] = &[
    ("download_certificates", "\"effective_time \"", "\"effective_time\"", "the page's keys carry stray spaces (a quirk in the spec says so)"),
    ("download_certificates", "\"expire_time \"", "\"expire_time\"", "the page's keys carry stray spaces (a quirk in the spec says so)"),
    ("get_merchant_audit_info", "\"reason\": \"\"\n}", "\"reason\": \"\"\n}\n}", "the page's example lacks its closing brace"),
];

/// `......` and `…` lines: the pages' "and so on" inside arrays.
fn strip_ellipses(text: &str) -> String {
    text.lines().filter(|l| !l.trim().chars().all(|c| c == '.' || c == '…') || l.trim().is_empty()).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_documents_response_examples_decode_into_the_response_records() {
    let spec = mendian_spec::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec")).unwrap();
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for file in &spec.files {
        for ep in &file.spec.endpoints {
            let Some(text) = &ep.response_example else { continue };
            if ANSWER_NOT_JSON.iter().any(|(id, _)| *id == ep.id) {
                continue;
            }
            if ep.response.is_none() {
                // No body: the example must say so with the success status.
                if !text.contains(&ep.success_status.to_string()) && !text.contains("\"errcode\"") {
                    failures.push(format!("{}: no response record, and the example {text:?} names neither HTTP {} nor an errcode answer", ep.id, ep.success_status));
                }
                continue;
            }
            let mut text = text.clone();
            for (id, from, to, _why) in ANSWER_TYPOS.iter().filter(|t| t.0 == ep.id) {
                assert!(text.contains(from), "{id}: the typo {from:?} is gone from the example; drop it from ANSWER_TYPOS");
                text = text.replacen(from, to, 1);
            }
            let value: Value = match serde_json::from_str(&strip_trailing_commas(&strip_ellipses(&strip_comments(&text)))) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{}: the response example is not JSON after removing comments and ellipses: {e}", ep.id));
                    continue;
                }
            };
            match with_request_type(&ep.id, DecodeAnswer(value)).expect("the endpoint is generated") {
                Ok(()) => checked.push(ep.id.clone()),
                Err(e) => failures.push(format!("{}: {e}", ep.id)),
            }
        }
    }
    assert!(failures.is_empty(), "documented answers refused:\n{}", failures.join("\n"));
    assert!(checked.len() >= 10, "only {} answers checked: {checked:?}", checked.len());
}
