//! TOP API pages (open.taobao.com, saved as text or as HTML with the tags stripped): the API
//! name line (`tmall.servicecenter.worker.update (修改工人信息)`), the 错误码如下 list in the
//! description, and the `名称 类型 是否必须 示例值 更多限制 描述` table, whose members of
//! record-typed parameters are rendered as bullet cells (`• └ address_detail`, `• String`,
//! `• 可选`, …).
//!
//! The page flattens the member tree (a `└` row may belong to the record above it or to the
//! parameter itself), so members are named `<parameter>.…<member>` and matched by their last
//! name anywhere under the parameter; [`super::top_metadata`] compares the exact tree.

use super::page::{Page, PageEndpoint, PageError, PageField, ParseError};
use super::top_metadata::spec_type;

const HEADER: &str = "名称 类型 是否必须";

/// Whether the text looks like a TOP API page.
pub fn recognises(text: &str) -> bool {
    text.contains(HEADER) && text.contains("请求参数") && text.lines().any(|l| api_line(l.trim()).is_some())
}

/// `tmall.servicecenter.worker.update (修改工人信息)` → the API name.
fn api_line(line: &str) -> Option<&str> {
    let (name, rest) = line.split_once(' ')?;
    (rest.starts_with('(') && name.contains('.') && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')).then_some(name)
}

/// Parses a TOP API page.
pub fn parse(text: &str) -> Result<Page, ParseError> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let (api_at, api) = lines.iter().enumerate().find_map(|(i, l)| api_line(l).map(|a| (i, a))).ok_or(ParseError { line: 1, reason: "no `<api.name> (<title>)` line".into() })?;
    let errors = lines.iter().enumerate().find_map(|(i, l)| l.find("错误码如下").map(|at| error_list(&l[at + "错误码如下".len()..], i + 1))).unwrap_or_default();

    let request = lines.iter().position(|l| *l == "请求参数").ok_or(ParseError { line: api_at + 1, reason: "no 请求参数 heading".into() })?;
    let header = lines[request..].iter().position(|l| l.starts_with(HEADER)).map(|p| request + p).ok_or(ParseError {
        line: request + 1,
        reason: format!("no `{HEADER} …` table under 请求参数"),
    })?;
    let end = lines[header..].iter().position(|l| *l == "响应参数" || *l == "请求示例").map(|p| header + p).ok_or(ParseError {
        line: lines.len(),
        reason: "the parameter table never ends (no 响应参数 or 请求示例): the page is truncated".into(),
    })?;

    let mut fields: Vec<PageField> = Vec::new();
    let mut parameter = String::new();
    let mut bullets: Vec<(usize, String)> = Vec::new();
    let flush = |bullets: &mut Vec<(usize, String)>, parameter: &str, fields: &mut Vec<PageField>| -> Result<(), ParseError> {
        let cells = std::mem::take(bullets);
        let starts: Vec<usize> = (0..cells.len())
            .filter(|&k| cells.get(k + 2).is_some_and(|(_, c)| required_word(c).is_some()) && cells.get(k + 1).is_some_and(|(_, c)| is_type(c)))
            .collect();
        if let Some(&(line, ref c)) = cells.first().filter(|_| starts.first() != Some(&0)) {
            return Err(ParseError { line, reason: format!("bullet cell {c:?} does not start a `name • type • 可选|必须` row") });
        }
        for (s, &k) in starts.iter().enumerate() {
            let row = &cells[k..starts.get(s + 1).copied().unwrap_or(cells.len())];
            let name = row[0].1.trim_start_matches('└').trim();
            if parameter.is_empty() {
                return Err(ParseError { line: row[0].0, reason: format!("member {name:?} before any parameter row") });
            }
            fields.push(PageField {
                line: row[0].0,
                name: format!("{parameter}.{name}"),
                ty: spec_type(&row[1].1.replace(' ', "")),
                required: required_word(&row[2].1),
                example: (row.len() > 4).then(|| row[3].1.clone()),
                ..PageField::default()
            });
        }
        Ok(())
    };
    for (i, line) in lines.iter().enumerate().take(end).skip(header + 1) {
        if let Some(cell) = line.strip_prefix('•') {
            bullets.push((i + 1, cell.trim().to_string()));
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match (words.first(), words.get(1), words.get(2).and_then(|w| required_word(w))) {
            (Some(name), Some(ty), Some(required)) if is_type(ty) => {
                flush(&mut bullets, &parameter, &mut fields)?;
                parameter = name.to_string();
                fields.push(PageField { line: i + 1, name: parameter.clone(), ty: spec_type(ty), required: Some(required), ..PageField::default() });
            }
            _ => return Err(ParseError { line: i + 1, reason: format!("parameter row {line:?} is not `name type 可选|必须 …`") }),
        }
    }
    flush(&mut bullets, &parameter, &mut fields)?;
    Ok(Page {
        version: None,
        endpoints: vec![PageEndpoint {
            method: "POST".into(),
            path: "/router/rest".into(),
            api_name: Some(api.to_string()),
            nested: true, flat_members: true,
            line: api_at + 1,
            fields,
            errors: (!errors.is_empty()).then_some(errors),
            response: Vec::new(),
            request_example: None,
            response_example: None,
        }],
        events: Vec::new(),
    })
}

/// 可选 / 必须.
fn required_word(w: &str) -> Option<bool> {
    match w {
        "必须" => Some(true),
        "可选" => Some(false),
        _ => None,
    }
}

/// `String`, `Number`, `Date`, `Boolean`, `WorkerDto`, `String []`.
fn is_type(w: &str) -> bool {
    let w = w.replace(' ', "");
    let w = w.strip_suffix("[]").unwrap_or(&w);
    w.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && w.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `100000, 系统错误 100001, 工人信息校验失败 … 20001,已查询到最后一页` → the rows.
fn error_list(text: &str, line: usize) -> Vec<PageError> {
    let mut out: Vec<PageError> = Vec::new();
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut k = 0;
    while k < words.len() {
        // `100000,` alone, or `10004,工人信息为空` glued.
        let (code, rest) = words[k].split_once([',', '，']).unwrap_or((words[k], ""));
        if code.len() >= 4 && code.bytes().all(|b| b.is_ascii_digit()) && words[k].len() > code.len() {
            let mut description = vec![rest];
            k += 1;
            while k < words.len() {
                let (next, _) = words[k].split_once([',', '，']).unwrap_or(("", ""));
                if next.len() >= 4 && next.bytes().all(|b| b.is_ascii_digit()) {
                    break;
                }
                description.push(words[k]);
                k += 1;
            }
            let description = description.into_iter().filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
            out.push(PageError { line, status: None, code: code.to_string(), description, remedy: None });
        } else {
            k += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = include_str!("../../../spec/docs/top/worker-update.txt");

    #[test]
    fn the_worker_update_page() {
        let page = parse(PAGE).unwrap();
        let ep = &page.endpoints[0];
        assert_eq!(ep.api_name.as_deref(), Some("tmall.servicecenter.worker.update"));
        assert_eq!(ep.fields[0].name, "worker");
        assert_eq!(ep.fields[0].ty, "WorkerDto");
        let phone = ep.fields.iter().find(|f| f.name == "worker.phone").unwrap();
        assert_eq!((phone.ty.as_str(), phone.required, phone.example.as_deref()), ("int64", Some(false), Some("1234567890")));
        let names = ep.fields.iter().find(|f| f.name == "worker.address_names").unwrap();
        assert_eq!(names.ty, "list<string>");
        assert_eq!(ep.fields.len(), 22, "worker and its 21 members");
        let errors = ep.errors.as_ref().unwrap();
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["100000", "100001", "100002", "100003", "10004", "10005", "10006", "10007", "10008", "10009", "10010", "11000", "11001", "20001"]);
        assert_eq!(errors[11].description, "category_id 无效");
        assert_eq!(errors[4].description, "工人信息为空");
    }

    #[test]
    fn a_truncated_page_names_the_line() {
        let cut = &PAGE[..PAGE.find("响应参数").unwrap()];
        let err = parse(cut).unwrap_err();
        assert!(err.reason.contains("truncated"), "{err:?}");
    }
}
