//! `cargo xtask import <page> [--family F]`: parses a saved platform page (text, or HTML with
//! the tags stripped) into one neutral shape ([`page`]) and reports every fact where it and the
//! spec differ ([`compare`]), grouped per endpoint, with the page line and the spec `file:line`.
//! A difference the spec lists under the endpoint's `deviations` is reported once as "deviates,
//! because …", never as drift.
//!
//! Exit codes: 0 the page and the spec agree; 1 they drift; 2 the page cannot be parsed (with
//! the line it stopped at) or is not one of ours.
//!
//! Formats read today: WeChat Pay APIv3 pages ([`wechatpay`]), the 门店小程序 document ([`wxa`]:
//! pipe tables with 必填 / 选填, 返回码 tables, enumerated values, event XML) and saved TOP API metadata
//! ([`top_metadata`]: parameter trees with types, compared member by member through the spec's
//! record types). The 门店小程序 document and TOP API pages are not parsed yet, and `--write`
//! (applying the diff to `spec/`) is not built: such a page, or the option, exits 2 saying so.

pub mod compare;
pub mod page;
pub mod top_metadata;
pub mod top_page;
pub mod wechatpay;
pub mod wxa;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;


/// Runs the command; the exit code follows the module's contract.
pub fn run(root: &Path, args: &[String]) -> ExitCode {
    match run_inner(root, args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(msg) => {
            eprintln!("import: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(root: &Path, args: &[String]) -> Result<bool, String> {
    let mut page_path = None;
    let mut family = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--family" => family = Some(it.next().ok_or("--family needs a value (wechatpay or top)")?.clone()),
            "--write" => return Err("--write (applying the diff to spec/) is not built yet; edit spec/ by hand from the report".into()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}; usage: cargo xtask import <page> [--family wechatpay|top]")),
            s => {
                if page_path.replace(s.to_string()).is_some() {
                    return Err("give one page".into());
                }
            }
        }
    }
    let page_path = page_path.ok_or("usage: cargo xtask import <page> [--family wechatpay|top]")?;
    let started = Instant::now();
    let raw = std::fs::read(&page_path).map_err(|e| format!("{page_path}: {e}"))?;
    let raw = String::from_utf8(raw).map_err(|_| format!("{page_path}: not UTF-8 text"))?;
    let spec = mendian_spec::load_sources(&spec_sources(root)?).map_err(|e| e.to_string())?;
    let report = import(&raw, family.as_deref(), &spec, root)?;
    print!("{}", report.text);
    println!("({} ms)", started.elapsed().as_millis());
    Ok(report.drift == 0)
}

/// The spec files. The snapshots are not checked here (the page being imported may be the
/// newer copy of one of them), so this is `read_sources` + `load_sources`, not `load_dir`.
fn spec_sources(root: &Path) -> Result<Vec<(std::path::PathBuf, String)>, String> {
    mendian_spec::read_sources(&root.join("spec")).map_err(|e| e.to_string())
}

/// What an import found.
pub struct Report {
    /// The report, for a person (and a pull request).
    pub text: String,
    /// How many of them are drift (not listed as deviations).
    pub drift: usize,
}

/// Parses `raw` (text or HTML) and compares it with the family's spec file.
pub fn import(raw: &str, family: Option<&str>, spec: &mendian_spec::Spec, root: &Path) -> Result<Report, String> {
    let text = if raw.trim_start().starts_with('<') { strip_html(raw) } else { raw.to_string() };
    let family = match family {
        Some(f) => f.to_string(),
        None if wechatpay::recognises(&text) => "wechatpay".into(),
        None if top_metadata::recognises(&text) || top_page::recognises(&text) => "top".into(),
        None if wxa::recognises(&text) => "wxa".into(),
        None => {
            return Err("this is not a page mendian can import (recognised: WeChat Pay APIv3 pages, saved as text or HTML, and saved TOP API metadata; the 门店小程序 document and TOP API pages are not parsed yet)".into())
        }
    };
    let at_line = |e: page::ParseError| format!("line {}: {}", e.line, e.reason);
    let page = match family.as_str() {
        "wechatpay" if wechatpay::recognises(&text) => wechatpay::parse(&text).map_err(at_line)?,
        "wechatpay" => return Err("--family wechatpay, but this is not a WeChat Pay APIv3 page (no 请求URL on api.mch.weixin.qq.com and 参数名 变量 类型 table)".into()),
        "top" if top_metadata::recognises(&text) => top_metadata::parse(&text).map_err(at_line)?,
        "top" if top_page::recognises(&text) => top_page::parse(&text).map_err(at_line)?,
        "top" => return Err("--family top, but this is neither a TOP API page (`<api.name> (title)` line and `名称 类型 是否必须` table under 请求参数) nor saved TOP API metadata (`=== <endpoint>` sections of requestParams JSON)".into()),
        "wxa" if wxa::recognises(&text) => wxa::parse(&text).map_err(at_line)?,
        "wxa" => return Err("--family wxa, but this is not the 门店小程序 document (no https://api.weixin.qq.com/wxa/ URL and `参数 | 说明` table)".into()),
        other => return Err(format!("family {other:?}: pages of this family are not parsed yet (wechatpay pages and top metadata are)")),
    };
    let file = spec.files.iter().find(|f| f.spec.family.name == family).ok_or_else(|| format!("no spec file for family {family}"))?;
    let spec_text = std::fs::read_to_string(&file.path).map_err(|e| format!("{}: {e}", file.path.display()))?;
    let findings = compare::compare(&page, file, &spec_text);
    let shown_path = file.path.strip_prefix(root).unwrap_or(&file.path).display().to_string();
    let drift = findings.iter().filter(|f| f.deviation.is_none()).count();
    let mut out = String::new();
    out.push_str(&format!(
        "page: {} endpoint(s){}; spec: {shown_path}\n",
        page.endpoints.len(),
        page.version.as_ref().map(|v| format!(", {v}")).unwrap_or_default()
    ));
    let mut endpoints: Vec<&str> = findings.iter().map(|f| f.endpoint.as_str()).collect();
    endpoints.dedup();
    for ep in endpoints {
        out.push_str(&format!("\n{ep}\n"));
        for f in findings.iter().filter(|f| f.endpoint == ep) {
            let page_line = f.page_line.map(|l| format!("page line {l}")).unwrap_or_else(|| "not on the page".into());
            let spec_line = f.spec_line.map(|l| format!("{shown_path}:{l}")).unwrap_or_else(|| "not in the spec".into());
            match &f.deviation {
                None => out.push_str(&format!("  drift     {}  ({page_line}; {spec_line})\n", f.fact)),
                Some(why) => out.push_str(&format!("  deviates  {}, because {why}  ({page_line}; {spec_line})\n", f.fact)),
            }
        }
    }
    let deviations = findings.len() - drift;
    out.push_str(&format!(
        "\n{}: {drift} drift, {deviations} deliberate deviation(s)\n",
        if drift == 0 { "the page and the spec agree" } else { "the page and the spec drift" }
    ));
    Ok(Report { text: out, drift })
}

/// HTML → text, deterministically: scripts and styles dropped, the ends of blocks and rows and
/// `<br>` become line breaks, list items start with `• `, the ends of table cells a space, other tags nothing, the common
/// entities decoded, spaces collapsed within each line.
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    while i < html.len() {
        if lower[i..].starts_with("<script") || lower[i..].starts_with("<style") {
            let close = if lower[i..].starts_with("<script") { "</script>" } else { "</style>" };
            i = lower[i..].find(close).map(|j| i + j + close.len()).unwrap_or(html.len());
            continue;
        }
        if html.as_bytes()[i] == b'<' {
            let end = html[i..].find('>').map(|j| i + j + 1).unwrap_or(html.len());
            let inner = &lower[i + 1..end.saturating_sub(1)];
            let closing = inner.starts_with('/');
            let name: String = inner.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            match name.as_str() {
                "br" => out.push('\n'),
                // List items keep a bullet: TOP pages render member rows as lists.
                "li" if !closing => out.push_str("• "),
                "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "pre" if closing => out.push('\n'),
                "td" | "th" if closing => out.push(' '),
                _ => {}
            }
            i = end;
            continue;
        }
        let ch = html[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    let decoded = out.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
    decoded.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = include_str!("../../../spec/docs/wechatpay/update-guide.txt");

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
    }

    fn run_on(text: &str) -> Result<Report, String> {
        let root = root();
        let spec = mendian_spec::load_sources(&spec_sources(&root).unwrap()).unwrap();
        import(text, None, &spec, &root)
    }

    /// The report's drift lines.
    fn drift(text: &str) -> Vec<String> {
        let r = run_on(text).unwrap();
        let lines: Vec<String> = r.text.lines().filter(|l| l.trim_start().starts_with("drift")).map(|l| l.trim().to_string()).collect();
        assert_eq!(lines.len(), r.drift, "{}", r.text);
        lines
    }

    fn mutated(from: &str, to: &str) -> String {
        assert!(PAGE.contains(from), "the page has no {from:?}");
        PAGE.replacen(from, to, 1)
    }

    #[test]
    fn the_snapshot_agrees_with_the_spec_and_the_deviation_is_reported_once() {
        let r = run_on(PAGE).unwrap();
        assert_eq!(r.drift, 0, "{}", r.text);
        assert_eq!(r.text.matches("deviates  field sub_mchid: in the spec, not on the page, because").count(), 1, "{}", r.text);
        assert!(r.text.contains("spec/wechatpay.toml:"), "{}", r.text);
    }

    #[test]
    fn each_mutation_is_reported_alone() {
        let cases: Vec<(String, &str)> = vec![
            (mutated("guide_id string[1,64]", "guide_id string[1,128]"), "field guide_id: length: page [1,128], spec [1,64]"),
            (mutated("加密前字段长度限制为32个字节", "加密前字段长度限制为16个字节"), "field mobile: limit before encryption: page 16 bytes, spec 32 bytes"),
            (
                mutated("群二维码URL group_qrcode", "门店编号 store_code string[1,32] body门店的编号\n群二维码URL group_qrcode"),
                "field store_code: on the page, not in the spec",
            ),
            (
                PAGE.lines().filter(|l| !l.starts_with("服务人员二维码URL qr_code") && !l.contains("userQRCode?vcode=xxx")).collect::<Vec<_>>().join("\n"),
                "field qr_code: in the spec, not on the page",
            ),
            (mutated("员工姓名过长 根据", "员工姓名太长 根据"), "error 400 PARAM_ERROR: description: page 「员工姓名太长」, spec 「员工姓名过长」"),
            (
                mutated("400 MCH_NOT_EXISTS", "429 FREQUENCY_LIMITED 频率超限 请降低请求接口频率\n400 MCH_NOT_EXISTS"),
                "error 429 FREQUENCY_LIMITED 「频率超限」: on the page, not in the spec",
            ),
            (mutated("请求方式:PATCH", "请求方式:PUT"), "method: page PUT, spec PATCH"),
            (
                mutated("/v3/smartguide/guides/{guide_id}", "/v3/smartguide/staff/{guide_id}"),
                "endpoint PATCH /v3/smartguide/staff/{guide_id}: on the page, not in the spec",
            ),
            (mutated("非企业微信提供的头像URL 根据错误提示,传入正确参数", "非企业微信提供的头像URL 请使用企业微信头像"), "error 400 PARAM_ERROR 「非企业微信提供的头像URL」: remedy: page 「请使用企业微信头像」, spec 「根据错误提示,传入正确参数」"),
        ];
        for (text, want) in cases {
            let got = drift(&text);
            assert_eq!(got.len(), 1, "{want}: {got:#?}");
            assert!(got[0].starts_with(&format!("drift     {want}  (")), "{want}\n{}", got[0]);
        }
    }

    #[test]
    fn a_saved_html_page_reads_like_the_text() {
        let html: String = format!(
            "<html><head><style>p {{ color: red }}</style></head><body>{}</body></html>",
            PAGE.lines().map(|l| format!("<p>{}</p>", l.replace('&', "&amp;").replace('<', "&lt;"))).collect::<String>()
        );
        let r = run_on(&html).unwrap();
        assert_eq!(r.drift, 0, "{}", r.text);
    }

    const TOP_METADATA: &str = include_str!("../../../spec/docs/top/worker-api-metadata.txt");

    #[test]
    fn the_top_metadata_agrees_and_its_mutations_are_reported_alone() {
        let r = run_on(TOP_METADATA).unwrap();
        assert_eq!(r.drift, 0, "{}", r.text);
        let phone = "\"name\": \"phone\",\n                    \"type\": \"Number\"";
        assert!(TOP_METADATA.contains(phone));
        let cases: Vec<(String, &str)> = vec![
            (
                TOP_METADATA.replacen(phone, "\"name\": \"phone\",\n                    \"type\": \"String\"", 1),
                "field worker.phone: type: page string, spec int64",
            ),
            (
                TOP_METADATA.replacen("\"name\": \"photo\",", "\"name\": \"portrait\",", 1),
                "field worker.portrait: on the page, not in the spec",
            ),
        ];
        for (text, want) in cases {
            let got = drift(&text);
            // A renamed member is one new fact on the page; the spec's member it replaced is
            // the other.
            assert!(got.iter().any(|l| l.starts_with(&format!("drift     {want}  ("))), "{want}: {got:#?}");
            assert!(got.len() <= 2, "{want}: {got:#?}");
        }
        let renamed = drift(&TOP_METADATA.replacen("\"name\": \"photo\",", "\"name\": \"portrait\",", 1));
        assert!(renamed.iter().any(|l| l.starts_with("drift     field worker.photo: in the spec, not on the page")), "{renamed:#?}");
    }

    const WXA: &str = include_str!("../../../spec/docs/wxa/store-miniprogram.txt");

    fn wxa(from: &str, to: &str) -> String {
        assert_eq!(WXA.matches(from).count(), 1, "the 门店小程序 document has {from:?} once");
        WXA.replacen(from, to, 1)
    }

    #[test]
    fn the_store_document_agrees_and_its_mutations_are_reported_alone() {
        let r = run_on(WXA).unwrap();
        assert_eq!(r.drift, 0, "{}", r.text);
        assert_eq!(r.text.matches("deviates  ").count(), 6, "{}", r.text);
        let html: String = WXA.lines().map(|l| format!("<div>{}</div>\n", l.replace('&', "&amp;").replace('<', "&lt;"))).collect();
        assert_eq!(run_on(&format!("<html><body>{html}</body></html>")).unwrap().drift, 0, "the saved HTML form");
        let cases: Vec<(String, &str)> = vec![
            (wxa("intro | 门店小程序的介绍 | 必填 |", "intro | 门店小程序的介绍 | 选填 |"), "field intro: page optional, spec required"),
            (
                wxa("审核状态,0:未提交审核,1:审核成功,2:审核中,3:审核失败,4:管理员拒绝", "审核状态,0:未提交审核,1:审核成功,2:审核中,3:审核失败,4:管理员拒绝,5:已撤回"),
                "response status (MerchantAuditStatus): value 5: on the page, not in the spec",
            ),
            (wxa("名称长度为4-30个字符(中文算两个字符)", "名称长度为4-20个字符(中文算两个字符)"), "field nickname: length: page [4,20], spec [4,30]"),
            (wxa("85055 | map_poi_id 无效 |", "85055 | map_poi_id 无效 |\n85057 | 图片格式不支持 |"), "error 85057 「图片格式不支持」: on the page, not in the spec"),
            (wxa("85055 | map_poi_id 无效 |", "85055 | map_poi_id 已失效 |"), "error 85055: description: page 「map_poi_id 已失效」, spec 「map_poi_id 无效」"),
            (wxa("keyword | 搜索的关键词 | 必填 |\n", ""), "field keyword: in the spec, not on the page"),
            (wxa("keyword | 搜索的关键词 | 必填 |\n", "keyword | 搜索的关键词 | 必填 |\npage_size | 每页条数 | 选填 |\n"), "field page_size: on the page, not in the spec"),
            (wxa("https://api.weixin.qq.com/wxa/del_store?", "https://api.weixin.qq.com/wxa/delete_store?"), "endpoint POST /wxa/delete_store: on the page, not in the spec"),
            (wxa("请求方式: GET(请使用https协议)\nhttps://api.weixin.qq.com/wxa/get_district", "请求方式: POST(请使用https协议)\nhttps://api.weixin.qq.com/wxa/get_district"), "method: page POST, spec GET"),
            (wxa("status | 审核状态(0:审核通过,1:审核失败) | 必填 |", "status | 审核状态(0:审核通过,1:审核失败,2:审核中) | 必填 |"), "field status (MapPoiAuditStatus): value 2: on the page, not in the spec"),
        ];
        for (text, want) in cases {
            let got = drift(&text);
            assert_eq!(got.len(), 1, "{want}: {got:#?}");
            assert!(got[0].starts_with(&format!("drift     {want}  (")), "{want}\n{}", got[0]);
        }
        // modify_merchant reuses apply_merchant's table (直接复用创建门店小程序的错误码), so a
        // new row there is new for both.
        let r = run_on(&wxa("85056 | 临时mediaid无效 |\n事件推送 - 创建门店小程序", "85056 | 临时mediaid无效 |\n85057 | 图片格式不支持 |\n事件推送 - 创建门店小程序")).unwrap();
        assert_eq!(r.drift, 2, "{}", r.text);
        let drift_under = |ep: &str| r.text.split(&format!("\n{ep}\n")).nth(1).is_some_and(|rest| rest.split("\n\n").next().unwrap_or("").contains("drift     error 85057 「图片格式不支持」"));
        assert!(drift_under("apply_merchant") && drift_under("modify_merchant"), "{}", r.text);
    }

    const TOP_PAGE: &str = include_str!("../../../spec/docs/top/worker-update.txt");

    fn top(from: &str, to: &str) -> String {
        assert_eq!(TOP_PAGE.matches(from).count(), 1, "the TOP page has {from:?} once");
        TOP_PAGE.replacen(from, to, 1)
    }

    #[test]
    fn the_top_page_agrees_and_its_mutations_are_reported_alone() {
        let r = run_on(TOP_PAGE).unwrap();
        assert_eq!(r.drift, 0, "{}", r.text);
        let html: String = TOP_PAGE
            .lines()
            .map(|l| match l.trim().strip_prefix('•') {
                Some(cell) => format!("<li>{}</li>", cell.trim()),
                None => format!("<p>{}</p>", l.replace('&', "&amp;").replace('<', "&lt;")),
            })
            .collect();
        assert_eq!(run_on(&format!("<html><body><ul>{html}</ul></body></html>")).unwrap().drift, 0, "the saved HTML form");
        let cases: Vec<(String, &str)> = vec![
            (top("  • └ name\n  • String\n  • 可选", "  • └ name\n  • String\n  • 必须"), "field worker.name: page required, spec optional"),
            (top("  • └ phone\n  • Number", "  • └ phone\n  • String"), "field worker.phone: type: page string, spec int64"),
            (top("  • └ photo\n  • String\n  • 可选\n  • -\n  • -\n", ""), "field worker.photo: in the spec, not on the page"),
            (
                top("  • └ photo\n", "  • └ nickname\n  • String\n  • 可选\n  • -\n  • 昵称\n  • └ photo\n"),
                "field worker.nickname: on the page, not in the spec",
            ),
            (top("20001,已查询到最后一页", "20001,已查询到最后一页 20002, 工人已停用"), "error 20002 「工人已停用」: on the page, not in the spec"),
            (top("10009, 缺少工人电话", "10009, 缺少工人手机号"), "error 10009: description: page 「缺少工人手机号」, spec 「缺少工人电话」"),
            (top("tmall.servicecenter.worker.update (修改工人信息)", "tmall.servicecenter.worker.modify (修改工人信息)"), "endpoint tmall.servicecenter.worker.modify: on the page, not in the spec"),
        ];
        for (text, want) in cases {
            let got = drift(&text);
            assert_eq!(got.len(), 1, "{want}: {got:#?}");
            assert!(got[0].starts_with(&format!("drift     {want}  (")), "{want}\n{}", got[0]);
        }
    }

    #[test]
    fn pages_that_are_not_ours_or_are_cut_exit_2_with_a_reason() {
        let other = include_str!("../../../README.md");
        let e = run_on(other).err().unwrap();
        assert!(e.contains("not a page mendian can import"), "{e}");
        let cut = &PAGE[..PAGE.find("请求示例").unwrap()];
        let e = run_on(cut).err().unwrap();
        assert!(e.starts_with("line ") && e.contains("truncated"), "{e}");
    }
}
