//! The 门店小程序 document (saved as text, or as HTML with the tags stripped first): `# N.`
//! sections, each with its `请求方式` and `https://api.weixin.qq.com/…` URL, pipe tables under
//! 请求参数说明 / 参数说明 (`参数 | 说明 | 备注` with 必填 / 选填), 返回参数说明, 错误码说明
//! (`返回码 | 说明` or `数值 | 说明`), `…字段值说明` value tables, and pushed events (an `<xml>`
//! example followed by its field table). Values a description enumerates
//! (`审核状态(1:审核通过,3:审核失败)`) and length rules (`名称长度为4-30个字符`) are read too.

use super::page::{Page, PageEndpoint, PageError, PageEvent, PageField, ParseError};

const HOST: &str = "https://api.weixin.qq.com";

/// Whether the text looks like the 门店小程序 document.
pub fn recognises(text: &str) -> bool {
    text.contains("api.weixin.qq.com/wxa/") && text.contains("参数 | 说明")
}

/// What a pipe table holds, read from the line before it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TableKind {
    Request,
    Response,
    Errors,
    /// `<field>字段值说明`: the values of one answer field.
    Values,
    /// The fields of the event whose XML precedes it.
    Event,
    /// Something else (the 门店管理 migration notes): not compared.
    Other,
}

/// Parses the document.
pub fn parse(text: &str) -> Result<Page, ParseError> {
    // Blank lines carry nothing (a saved HTML page has them between every row); `nums` keeps
    // each remaining line's number on the page.
    let (nums, lines): (Vec<usize>, Vec<&str>) = text.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty()).map(|(n, l)| (n + 1, l)).unzip();
    let mut endpoints: Vec<PageEndpoint> = Vec::new();
    let mut events: Vec<PageEvent> = Vec::new();
    // (heading, index of its first endpoint) for 直接复用…的错误码.
    let mut headings: Vec<(String, usize)> = Vec::new();
    let mut reuse: Vec<(usize, String, usize)> = Vec::new();
    let mut method = String::new();
    let mut last_event: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_section(line) {
            headings.push((line.to_string(), endpoints.len()));
            method.clear();
            last_event = None;
        } else if let Some(m) = line.strip_prefix("请求方式") {
            method = m.trim_start_matches([':', '：', ' ']).chars().take_while(char::is_ascii_alphabetic).collect::<String>().to_ascii_uppercase();
        }
        if !line.contains('|') {
            if let Some(at) = line.find(HOST) {
                let url = &line[at + HOST.len()..];
                let path: String = url.chars().take_while(|c| !matches!(c, '?' | ' ')).collect();
                if headings.is_empty() {
                    return Err(ParseError { line: nums[i], reason: "a request URL before the first `# N.` section".into() });
                }
                endpoints.push(PageEndpoint {
                    method: std::mem::take(&mut method),
                    path,
                    api_name: None,
                    nested: false, flat_members: false,
                    line: nums[i],
                    fields: Vec::new(),
                    errors: None,
                    response: Vec::new(),
            request_example: None,
            response_example: None,
                });
            }
        }
        if line.contains("直接复用") && line.contains("的错误码") {
            let from = line.split("直接复用").nth(1).unwrap_or("").split("的错误码").next().unwrap_or("").to_string();
            let ep = endpoints.len().checked_sub(1).ok_or(ParseError { line: nums[i], reason: "直接复用…的错误码 before any request URL".into() })?;
            reuse.push((ep, from, nums[i]));
        }
        if let Some(request) = example_heading(line) {
            if let Some((k, example)) = super::example::block(&lines, i, &is_heading) {
                let ep = endpoints.last_mut().ok_or(ParseError { line: nums[i], reason: format!("{line:?} before any request URL") })?;
                let slot = if request { &mut ep.request_example } else { &mut ep.response_example };
                if slot.is_none() {
                    *slot = Some((nums[k], example.clone()));
                }
                i = k + example.lines().count();
                continue;
            }
        }
        if line == "<xml>" {
            let (event, end) = event_xml(&lines, &nums, i)?;
            events.push(event);
            last_event = Some(events.len() - 1);
            i = end + 1;
            continue;
        }
        if line.contains(" | ") && lines.get(i + 1).is_some_and(|l| l.starts_with("---|")) {
            let kind = table_kind(&lines, i, last_event.is_some());
            let mut rows = Vec::new();
            let mut j = i + 2;
            while j < lines.len() && lines[j].contains('|') {
                rows.push((nums[j], cells(lines[j])));
                j += 1;
            }
            if rows.is_empty() && kind != TableKind::Other {
                return Err(ParseError { line: nums[i], reason: format!("the table {line:?} has no rows: the page is truncated") });
            }
            let no_endpoint = || ParseError { line: nums[i], reason: format!("the table {line:?} comes before any request URL in its section") };
            match kind {
                TableKind::Request | TableKind::Response => {
                    let ep = endpoints.last_mut().ok_or_else(no_endpoint)?;
                    let fields = rows.iter().map(|(n, c)| field(*n, c)).collect::<Result<Vec<_>, _>>()?;
                    if kind == TableKind::Request { ep.fields.extend(fields) } else { ep.response.extend(fields) }
                }
                TableKind::Values => {
                    let ep = endpoints.last_mut().ok_or_else(no_endpoint)?;
                    let name = lines[i - 1].trim_end_matches([':', '：']).trim_end_matches("字段值说明");
                    let name: String = name.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<Vec<_>>().into_iter().rev().collect();
                    if name.is_empty() {
                        return Err(ParseError { line: nums[i - 1], reason: format!("{:?} names no field", lines[i - 1]) });
                    }
                    let values = rows.iter().map(|(_, c)| c.first().cloned().unwrap_or_default()).collect();
                    let meanings = rows.iter().map(|(_, c)| c.get(1).cloned().unwrap_or_default()).collect();
                    ep.response.push(PageField { line: nums[i - 1], name, enum_values: values, enum_meanings: meanings, ..PageField::default() });
                }
                TableKind::Errors => {
                    let ep = endpoints.last_mut().ok_or_else(no_endpoint)?;
                    let errors = ep.errors.get_or_insert_with(Vec::new);
                    for (n, c) in &rows {
                        let code = c.first().filter(|c| c.parse::<i64>().is_ok()).ok_or(ParseError { line: *n, reason: format!("error row {:?}: the first cell is not a number", c.join(" | ")) })?;
                        errors.push(PageError { line: *n, status: None, code: code.clone(), description: c.get(1).cloned().unwrap_or_default(), remedy: None });
                    }
                }
                TableKind::Event => {
                    let ev = &mut events[last_event.expect("an event table follows an event")];
                    let table = rows.iter().map(|(n, c)| field(*n, c)).collect::<Result<Vec<_>, _>>()?;
                    // The envelope elements (ToUserName, …) appear only in the XML.
                    ev.fields.retain(|x| !table.iter().any(|f| f.name == x.name));
                    ev.fields.extend(table);
                    last_event = None;
                }
                TableKind::Other => {}
            }
            i = j;
            continue;
        }
        i += 1;
    }
    for (ep, from, line) in reuse {
        let Some(&(_, first)) = headings.iter().find(|(h, _)| h.ends_with(&from)) else {
            return Err(ParseError { line, reason: format!("直接复用{from}的错误码, but no section is titled {from:?}") });
        };
        let errors = endpoints.get(first).and_then(|e| e.errors.clone()).ok_or(ParseError { line, reason: format!("the section {from:?} has no error table to reuse") })?;
        endpoints[ep].errors.get_or_insert_with(Vec::new).extend(errors);
    }
    if endpoints.is_empty() {
        return Err(ParseError { line: nums.last().copied().unwrap_or(1), reason: "no request URL on https://api.weixin.qq.com".into() });
    }
    Ok(Page { version: None, endpoints, events })
}

/// `Some(true)` for a request example's heading (POST数据示例, 请求参数示例), `Some(false)` for
/// an answer's (返回json示例, 成功返回, 返回参数示例).
fn example_heading(line: &str) -> Option<bool> {
    let line = line.trim_matches('*');
    if line.starts_with("POST数据示例") || line.starts_with("请求参数示例") {
        Some(true)
    } else if line.starts_with("返回json示例") || line.starts_with("返回参数示例") || (line.starts_with("成功返回") && !line.contains("字段值说明")) {
        Some(false)
    } else {
        None
    }
}

/// A line that cannot be inside an example: a heading (`返回参数说明:`), a table row, a section.
fn is_heading(line: &str) -> bool {
    ((line.ends_with(':') || line.ends_with('：')) && !line.contains('"'))
        || line.starts_with("# ")
        || line.contains(" | ")
        || line.starts_with("事件推送")
        || line.starts_with("错误码说明")
}

/// `# 2.创建门店小程序`.
fn is_section(line: &str) -> bool {
    line.strip_prefix("# ").is_some_and(|r| r.chars().next().is_some_and(|c| c.is_ascii_digit()) && r.contains('.'))
}

/// What the table starting at line index `at` holds, from the nearest non-empty line above it.
fn table_kind(lines: &[&str], at: usize, after_event: bool) -> TableKind {
    let before = lines[..at].iter().rev().find(|l| !l.is_empty()).copied().unwrap_or("");
    if before == "</xml>" && after_event {
        TableKind::Event
    } else if before.contains("错误码说明") {
        TableKind::Errors
    } else if before.contains("字段值说明") {
        TableKind::Values
    } else if before.contains("返回参数说明") {
        TableKind::Response
    } else if before.contains("请求参数") || before.starts_with("参数说明") {
        TableKind::Request
    } else {
        TableKind::Other
    }
}

/// `a | b | c |` → `["a", "b", "c"]`.
fn cells(line: &str) -> Vec<String> {
    let mut c: Vec<String> = line.split('|').map(|c| c.trim().to_string()).collect();
    if c.last().is_some_and(String::is_empty) {
        c.pop();
    }
    c
}

/// One `参数 | 说明 | 备注` row.
fn field(n: usize, c: &[String]) -> Result<PageField, ParseError> {
    let name = c.first().filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')).ok_or(ParseError {
        line: n,
        reason: format!("parameter row {:?}: the first cell is not a parameter name", c.join(" | ")),
    })?;
    let description = c.get(1).cloned().unwrap_or_default();
    let remark = c.get(2).map(String::as_str).unwrap_or("");
    let required = if remark.starts_with("必填") {
        Some(true)
    } else if remark.starts_with("选填") {
        Some(false)
    } else {
        None
    };
    let (min_length, max_length) = length_rule(&description).map_or((None, None), |(a, b)| (Some(a), Some(b)));
    // 名称长度为4-30个字符(中文算两个字符): display width.
    let length_unit = min_length.map(|_| if description.contains("两个字符") { "width" } else { "chars" });
    let (enum_values, enum_meanings) = enum_values(&description).into_iter().unzip();
    Ok(PageField {
        line: n,
        name: name.clone(),
        enum_values,
        enum_meanings,
        title: description.clone(),
        description,
        required,
        min_length,
        max_length,
        length_unit,
        ..PageField::default()
    })
}

/// `名称长度为4-30个字符` → (4, 30).
fn length_rule(text: &str) -> Option<(u32, u32)> {
    let start = text.find("长度为")? + "长度为".len();
    let rest = &text[start..];
    let a: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let rest = rest[a.len()..].strip_prefix('-')?;
    let b: String = rest.chars().take_while(char::is_ascii_digit).collect();
    rest[b.len()..].starts_with("个字符").then_some(())?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The values a description enumerates, with what each means: numbers followed by `:` or
/// `表示` (`审核状态,0:未提交审核,1:审核成功`, `0 表示创建门店1:表示是补充门店`); empty when
/// fewer than two.
pub fn enum_values(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    // (value, index where its meaning starts)
    let mut found: Vec<(String, usize, usize)> = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        if chars[k].is_ascii_digit() && (k == 0 || !chars[k - 1].is_ascii_alphanumeric() && chars[k - 1] != '_' && chars[k - 1] != '=') {
            let start = k;
            while k < chars.len() && chars[k].is_ascii_digit() {
                k += 1;
            }
            let number: String = chars[start..k].iter().collect();
            let mut m = k;
            while m < chars.len() && chars[m] == ' ' {
                m += 1;
            }
            let after: String = chars[m..chars.len().min(m + 2)].iter().collect();
            // `11:11-12:12` is a time, not a value.
            let colon = (chars.get(m) == Some(&':') || chars.get(m) == Some(&'：')) && !chars.get(m + 1).is_some_and(char::is_ascii_digit);
            if (colon || after == "表示") && !found.iter().any(|(v, _, _)| *v == number) {
                let mut from = if colon { m + 1 } else { m + 2 };
                while chars.get(from).is_some_and(|c| *c == ':' || *c == ' ') {
                    from += 1;
                }
                if chars.get(from..from + 2).is_some_and(|w| w == ['表', '示']) {
                    from += 2;
                }
                found.push((number, start, from));
            }
        } else {
            k += 1;
        }
    }
    if found.len() < 2 {
        return Vec::new();
    }
    (0..found.len())
        .map(|i| {
            let end = found.get(i + 1).map(|f| f.1).unwrap_or(chars.len());
            let meaning: String = chars[found[i].2..end].iter().collect();
            let meaning = meaning.split([',', '，', ')', '）', ';', '；']).next().unwrap_or("").trim().to_string();
            (found[i].0.clone(), meaning)
        })
        .collect()
}

/// The event whose `<xml>` example starts at index `at` of `lines` (page line numbers in
/// `nums`): its name, its XML elements as fields, and the index of `</xml>`.
fn event_xml(lines: &[&str], nums: &[usize], at: usize) -> Result<(PageEvent, usize), ParseError> {
    let end = lines[at..].iter().position(|l| *l == "</xml>").map(|p| at + p).ok_or(ParseError {
        line: nums[at],
        reason: "an <xml> example that never ends (no </xml>): the page is truncated".into(),
    })?;
    let (line, name) = lines[at..end]
        .iter()
        .enumerate()
        .find_map(|(k, l)| {
            let inner = l.strip_prefix("<Event>")?.strip_suffix("</Event>")?;
            let name = inner.strip_prefix("<![CDATA[").and_then(|s| s.strip_suffix("]]>")).unwrap_or(inner);
            Some((nums[at + k], name.to_string()))
        })
        .ok_or(ParseError { line: nums[at], reason: "an <xml> example with no <Event> element".into() })?;
    let fields = (at + 1..end)
        .filter_map(|k| {
            let name: String = lines[k].strip_prefix('<')?.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            (!name.is_empty()).then(|| PageField { line: nums[k], name, ..PageField::default() })
        })
        .collect();
    Ok((PageEvent { name, line, fields }, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = include_str!("../../../spec/docs/wxa/store-miniprogram.txt");

    #[test]
    fn the_store_document() {
        let page = parse(PAGE).unwrap();
        let paths: Vec<(&str, &str)> = page.endpoints.iter().map(|e| (e.method.as_str(), e.path.as_str())).collect();
        assert_eq!(paths.len(), 15, "{paths:#?}");
        assert_eq!(paths[0], ("GET", "/wxa/get_merchant_category"));
        assert_eq!(paths[1], ("POST", "/wxa/apply_merchant"));
        assert_eq!(paths[12], ("", "/cgi-bin/poi/getpoilist"));
        let apply = &page.endpoints[1];
        let nickname = apply.fields.iter().find(|f| f.name == "nickname").unwrap();
        assert_eq!((nickname.required, nickname.min_length, nickname.max_length), (Some(true), Some(4), Some(30)));
        assert_eq!(apply.fields.iter().find(|f| f.name == "org_code").unwrap().required, Some(false));
        assert_eq!(apply.errors.as_ref().unwrap().len(), 18);
        let modify = &page.endpoints[3];
        assert_eq!(modify.errors, apply.errors, "直接复用创建门店小程序的错误码");
        let audit = &page.endpoints[2];
        assert_eq!(audit.response.iter().find(|f| f.name == "status").unwrap().enum_values, ["0", "1", "2", "3", "4"]);
        let (line, example) = apply.request_example.as_ref().unwrap();
        assert_eq!(*line, 83);
        assert!(example.starts_with("{\n\"first_catid\": 476,") && example.ends_with("\"other_files\": \"\"\n}"), "{example}");
        assert!(apply.response_example.as_ref().unwrap().1.contains("\"errmsg\" : \"ok\""));
        let with_examples = page.endpoints.iter().filter(|e| e.response_example.is_some()).count();
        assert_eq!(with_examples, 13, "every section with a 返回json示例, 成功返回 or 返回参数示例");
        let names: Vec<&str> = page.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["apply_merchant_audit_info", "create_map_poi_audit_info", "add_store_audit_info", "modify_store_audit_info"]);
        let add = &page.events[2];
        assert_eq!(add.fields.iter().find(|f| f.name == "is_upgrade").unwrap().enum_values, ["0", "1"]);
        assert_eq!(add.fields.iter().find(|f| f.name == "poiid").unwrap().required, None);
        let info = page.endpoints.iter().find(|e| e.path == "/wxa/get_store_info").unwrap();
        assert_eq!(info.response.iter().find(|f| f.name == "status").unwrap().enum_values, ["1", "2", "3"]);
    }

    #[test]
    fn enumerations_in_descriptions() {
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        assert_eq!(enum_values("审核状态(1:审核通过,3:审核失败,4:管理员拒绝)"), pairs(&[("1", "审核通过"), ("3", "审核失败"), ("4", "管理员拒绝")]));
        assert_eq!(enum_values("0或者1, 0表示不用特殊处理 1表示创建"), pairs(&[("0", "不用特殊处理"), ("1", "创建")]));
        assert_eq!(enum_values("0 表示创建门店1:表示是补充门店"), pairs(&[("0", "创建门店"), ("1", "是补充门店")]));
        assert!(enum_values("营业时间,格式11:11-12:12").is_empty());
        assert!(enum_values("如果status为3或者4,会返回审核失败的原因").is_empty());
        assert!(enum_values("通过广东省的cidx,可以在 result[1] 中找到").is_empty());
        assert_eq!(length_rule("名称长度为4-30个字符(中文算两个字符)"), Some((4, 30)));
    }

    #[test]
    fn a_truncated_document_names_the_line() {
        let cut = &PAGE[..PAGE.find("<reason><![CDATA[xxx]]></reason>").unwrap()];
        let err = parse(cut).unwrap_err();
        assert!(err.reason.contains("truncated"), "{err:?}");
    }
}
