//! WeChat Pay APIv3 pages (saved as text, or as HTML with the tags stripped first): 请求URL and
//! 请求方式, the `参数名 变量 类型[长度限制] 必填 描述` table with its 特殊规则 and 示例值 lines,
//! and the `状态码 错误码 描述 解决方案` table, whose status and code cells carry down to the
//! rows below them.

use super::page::{Page, PageEndpoint, PageError, PageField, ParseError};

/// Whether the text looks like a WeChat Pay APIv3 page.
pub fn recognises(text: &str) -> bool {
    text.contains("请求URL") && text.contains("api.mch.weixin.qq.com") && text.contains("参数名 变量 类型")
}

/// Parses a WeChat Pay page.
pub fn parse(text: &str) -> Result<Page, ParseError> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let find = |prefix: &str| lines.iter().position(|l| l.starts_with(prefix));
    let version = lines.iter().find_map(|l| l.find("最新更新时间").map(|i| l[i..].split_whitespace().next().unwrap_or("").to_string()));

    let url_at = find("请求URL").ok_or(ParseError { line: lines.len(), reason: "no 请求URL line".into() })?;
    let url = after_colon(lines[url_at]);
    let path = url
        .strip_prefix("https://api.mch.weixin.qq.com")
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| ParseError { line: url_at + 1, reason: format!("请求URL is not an https://api.mch.weixin.qq.com/… URL: {url:?}") })?;
    let method_at = find("请求方式").ok_or(ParseError { line: url_at + 1, reason: "no 请求方式 line after 请求URL".into() })?;
    let method = after_colon(lines[method_at]).to_ascii_uppercase();
    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        return Err(ParseError { line: method_at + 1, reason: format!("请求方式 {method:?} is not an HTTP method") });
    }

    let header = find("参数名 变量 类型").ok_or(ParseError { line: method_at + 1, reason: "no 参数名 变量 类型[长度限制] 必填 描述 table".into() })?;
    let mut fields: Vec<PageField> = Vec::new();
    let mut i = header + 1;
    while i < lines.len() && !lines[i].starts_with("请求示例") && !lines[i].starts_with("返回参数") {
        let line = lines[i];
        if let Some(rule) = line.strip_prefix("特殊规则:").or_else(|| line.strip_prefix("特殊规则：")) {
            let f = fields.last_mut().ok_or(ParseError { line: i + 1, reason: "特殊规则 before any parameter row".into() })?;
            f.plaintext_max_bytes = plaintext_limit(rule);
        } else if let Some(ex) = line.strip_prefix("示例值:").or_else(|| line.strip_prefix("示例值：")) {
            let f = fields.last_mut().ok_or(ParseError { line: i + 1, reason: "示例值 before any parameter row".into() })?;
            f.example = Some(ex.trim().to_string());
        } else if !line.is_empty() {
            fields.push(field_row(line, i + 1)?);
        }
        i += 1;
    }
    if i == lines.len() {
        return Err(ParseError { line: i, reason: "the parameter table never ends (no 请求示例): the page is truncated".into() });
    }

    let mut errors = None;
    if let Some(h) = find("状态码 错误码 描述") {
        let errors = errors.insert(Vec::new());
        let (mut status, mut code): (Option<u16>, Option<String>) = (None, None);
        for (n, line) in lines.iter().enumerate().skip(h + 1) {
            if line.is_empty() || *line == "技术咨询" || line.starts_with("文档反馈") {
                break;
            }
            let mut words = line.splitn(3, ' ');
            let first = words.next().unwrap_or("");
            let rest: String;
            if let Ok(s) = first.parse::<u16>() {
                status = Some(s);
                code = Some(words.next().unwrap_or("").to_string());
                rest = words.collect::<Vec<_>>().join(" ");
            } else {
                rest = line.to_string();
            }
            let code = code.clone().ok_or(ParseError { line: n + 1, reason: "an error row before any 状态码 错误码 row".into() })?;
            let (description, remedy) = match rest.split_once(' ') {
                Some((d, r)) => (d.to_string(), Some(r.trim().to_string())),
                None => (rest.clone(), None),
            };
            errors.push(PageError { line: n + 1, status, code, description, remedy });
        }
    }
    Ok(Page {
        version,
        endpoints: vec![PageEndpoint {
            method,
            path: path.to_string(),
            api_name: None,
            nested: false,
            flat_members: false,
            line: url_at + 1,
            fields,
            errors,
            response: Vec::new(),
            request_example: example_after(&lines, "请求示例"),
            response_example: example_after(&lines, "返回示例"),
        }],
        events: Vec::new(),
    })
}

/// The example under the heading `heading` (its page line and text).
fn example_after(lines: &[&str], heading: &str) -> Option<(usize, String)> {
    let at = lines.iter().position(|l| *l == heading)?;
    let stop = |l: &str| l.starts_with("返回参数") || l.starts_with("返回示例") || l.starts_with("错误码");
    super::example::block(lines, at, &stop).map(|(k, text)| (k + 1, text))
}

fn after_colon(line: &str) -> String {
    line.split_once([':', '：']).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

/// `加密前字段长度限制为64个字节` → 64.
fn plaintext_limit(rule: &str) -> Option<u32> {
    let start = rule.find("限制为")? + "限制为".len();
    let digits: String = rule[start..].chars().take_while(char::is_ascii_digit).collect();
    if rule[start + digits.len()..].starts_with("个字节") {
        digits.parse().ok()
    } else {
        None
    }
}

/// `服务人员ID guide_id string[1,64] path服务人员在…`: title, name, type with limits, then the
/// location glued to the description.
fn field_row(line: &str, n: usize) -> Result<PageField, ParseError> {
    let bad = |why: &str| ParseError { line: n, reason: format!("parameter row {line:?}: {why}") };
    let words: Vec<&str> = line.split_whitespace().collect();
    // The wire name is the first snake_case word; the type follows it.
    let at = words
        .iter()
        .position(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        .ok_or_else(|| bad("no snake_case 变量 column"))?;
    let title = words[..at].join(" ");
    let name = words[at].to_string();
    let ty_word = words.get(at + 1).ok_or_else(|| bad("no 类型 column"))?;
    let (ty, min_length, max_length) = type_and_limits(ty_word).ok_or_else(|| bad("the 类型 column is not type[a,b] or type(n)"))?;
    let rest = words[at + 2..].join(" ");
    let location = ["path", "query", "body"]
        .into_iter()
        .find(|l| rest.starts_with(l))
        .ok_or_else(|| bad("the description does not start with path, query or body"))?
        .to_string();
    let description = rest[location.len()..].trim().to_string();
    Ok(PageField { line: n, name, title, ty, min_length, max_length, location, description, ..PageField::default() })
}

/// `string[1,64]`, `string(32)`, `int`, `object`.
fn type_and_limits(word: &str) -> Option<(String, Option<u32>, Option<u32>)> {
    if let Some((ty, rest)) = word.split_once('[') {
        let (a, b) = rest.strip_suffix(']')?.split_once(',')?;
        return Some((ty.to_string(), Some(a.trim().parse().ok()?), Some(b.trim().parse().ok()?)));
    }
    if let Some((ty, rest)) = word.split_once('(') {
        return Some((ty.to_string(), None, Some(rest.strip_suffix(')')?.trim().parse().ok()?)));
    }
    word.bytes().all(|b| b.is_ascii_alphanumeric()).then(|| (word.to_string(), None, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = include_str!("../../../spec/docs/wechatpay/update-guide.txt");

    #[test]
    fn the_update_guide_page() {
        let page = parse(PAGE).unwrap();
        assert_eq!(page.version.as_deref(), Some("最新更新时间:2020.07.10"));
        let ep = &page.endpoints[0];
        assert_eq!((ep.method.as_str(), ep.path.as_str()), ("PATCH", "/v3/smartguide/guides/{guide_id}"));
        let names: Vec<&str> = ep.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["guide_id", "name", "mobile", "qr_code", "avatar", "group_qrcode"]);
        let name = &ep.fields[1];
        assert_eq!((name.min_length, name.max_length, name.plaintext_max_bytes), (Some(1), Some(512), Some(64)));
        assert_eq!(name.location, "body");
        assert_eq!(ep.fields[0].location, "path");
        let errors = ep.errors.as_ref().unwrap();
        assert_eq!(errors.len(), 16);
        let last = errors.last().unwrap();
        assert_eq!((last.status, last.code.as_str(), last.description.as_str()), (Some(500), "SYSTEM_ERROR", "调用云函数错误"));
        assert_eq!(errors[1].code, "PARAM_ERROR", "the code carries down");
        let (line, example) = ep.request_example.as_ref().unwrap();
        assert_eq!((*line, example.lines().count()), (86, 7), "{example}");
        assert_eq!(ep.response_example.as_ref().unwrap().1, "无数据(Http状态码为204)");
    }

    #[test]
    fn a_truncated_page_names_the_line() {
        let cut = &PAGE[..PAGE.find("请求示例").unwrap()];
        let err = parse(cut).unwrap_err();
        assert!(err.reason.contains("truncated"), "{err:?}");
        assert_eq!(err.line, cut.lines().count());
    }

    #[test]
    fn types_and_limits() {
        assert_eq!(type_and_limits("string[1,64]"), Some(("string".into(), Some(1), Some(64))));
        assert_eq!(type_and_limits("string(32)"), Some(("string".into(), None, Some(32))));
        assert_eq!(type_and_limits("int"), Some(("int".into(), None, None)));
        assert_eq!(plaintext_limit("加密前字段长度限制为64个字节"), Some(64));
    }
}
