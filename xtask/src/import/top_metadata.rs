//! TOP API metadata (the request-parameter trees the TOP documentation site serves as JSON),
//! saved as `=== <endpoint id>` headers each followed by one JSON document: every parameter,
//! members of record types included, with its type.

use super::page::{Page, PageEndpoint, PageField, ParseError};

/// Whether the text looks like saved TOP metadata.
pub fn recognises(text: &str) -> bool {
    text.trim_start().starts_with("=== ") && text.contains("\"requestParams\"")
}

/// Parses the metadata of one or more APIs.
pub fn parse(text: &str) -> Result<Page, ParseError> {
    let mut endpoints = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let headers: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| l.starts_with("=== ")).map(|(i, _)| i).collect();
    for (k, &h) in headers.iter().enumerate() {
        let end = headers.get(k + 1).copied().unwrap_or(lines.len());
        let body = lines[h + 1..end].join("\n");
        let doc: serde_json::Value = serde_json::from_str(&body).map_err(|e| ParseError { line: h + 1 + e.line(), reason: format!("the metadata after {:?} is not JSON: {e}", lines[h]) })?;
        let api = doc["name"].as_str().ok_or(ParseError { line: h + 1, reason: "the metadata names no API (`name`)".into() })?;
        let params = doc["requestParams"].as_array().ok_or(ParseError { line: h + 1, reason: "no requestParams list".into() })?;
        let mut fields = Vec::new();
        let mut cursor = h;
        walk(params, "", &lines[..end], &mut cursor, &mut fields)?;
        endpoints.push(PageEndpoint {
            method: "POST".into(),
            path: "/router/rest".into(),
            api_name: Some(api.to_string()),
            nested: true, flat_members: false,
            line: h + 1,
            fields,
            errors: None,
            response: Vec::new(),
            request_example: None,
            response_example: None,
        });
    }
    if endpoints.is_empty() {
        return Err(ParseError { line: 1, reason: "no `=== <endpoint>` section".into() });
    }
    Ok(Page { version: None, endpoints, events: Vec::new() })
}

/// Adds every parameter of `params` (and their members) to `out`; `cursor` walks `lines` to
/// find the line of each parameter's `"name"`.
fn walk(params: &[serde_json::Value], prefix: &str, lines: &[&str], cursor: &mut usize, out: &mut Vec<PageField>) -> Result<(), ParseError> {
    for p in params {
        let (Some(name), Some(ty)) = (p["name"].as_str(), p["type"].as_str()) else {
            return Err(ParseError { line: *cursor + 1, reason: format!("a parameter under {prefix:?} lacks name or type") });
        };
        let needle = format!("\"name\": \"{name}\"");
        if let Some(i) = lines[*cursor..].iter().position(|l| l.contains(&needle)) {
            *cursor += i;
        }
        let line = *cursor + 1;
        let path = format!("{prefix}{name}");
        out.push(PageField {
            line,
            name: path.clone(),
            title: p["description"].as_str().unwrap_or("").to_string(),
            ty: spec_type(ty),
            ..PageField::default()
        });
        if let Some(sub) = p["subParams"].as_array() {
            walk(sub, &format!("{path}."), lines, cursor, out)?;
        }
    }
    Ok(())
}

/// TOP's type words in the spec's: `String` → `string`, `Number` → `int64`, `Date` →
/// `datetime`, `Boolean` → `bool`, `X[]` → `list<X>`, record names unchanged.
pub fn spec_type(ty: &str) -> String {
    if let Some(inner) = ty.strip_suffix("[]") {
        return format!("list<{}>", spec_type(inner));
    }
    match ty {
        "String" => "string".into(),
        "Number" => "int64".into(),
        "Date" => "datetime".into(),
        "Boolean" => "bool".into(),
        other => other.into(),
    }
}
