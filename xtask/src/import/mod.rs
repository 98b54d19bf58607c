//! `cargo xtask import <page> [--family F]`: parses a saved platform page (text, or HTML with
//! the tags stripped) into one neutral shape ([`page`]) and reports every fact where it and the
//! spec differ ([`compare`]), grouped per endpoint, with the page line and the spec `file:line`.
//! A difference the spec lists under the endpoint's `deviations` is reported once as "deviates,
//! because …", never as drift.
//!
//! Exit codes: 0 the page and the spec agree; 1 they drift; 2 the page cannot be parsed (with
//! the line it stopped at) or is not one of ours.
//!
//! Formats read: WeChat Pay APIv3 pages ([`wechatpay`]); the 门店小程序 document ([`wxa`]: pipe
//! tables with 必填 / 选填, 返回码 tables, enumerated values, event XML); TOP API pages
//! ([`top_page`]: the bullet member rows and the 错误码如下 list); saved TOP API metadata
//! ([`top_metadata`]: parameter trees with types, compared member by member through the spec's
//! record types).
//!
//! `--write` ([`write`]) applies the drift to the family's spec file as anchored text edits
//! (comments, order and hand-curated keys stay), marks new facts for review, records the page
//! as the document's new snapshot (SHA-256, version line, date), checks the result with the
//! loader (restoring the files if it fails) and lists what is left for a person: a new
//! endpoint or event, a member of a flattened TOP record, an answer member.

pub mod compare;
pub mod example;
pub mod page;
pub mod top_metadata;
pub mod top_page;
pub mod wechatpay;
pub mod write;
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
    let mut write = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--family" => family = Some(it.next().ok_or("--family needs a value (wechatpay, wxa or top)")?.clone()),
            "--write" => write = true,
            s if s.starts_with('-') => return Err(format!("unknown option {s}; {USAGE}")),
            s => {
                if page_path.replace(s.to_string()).is_some() {
                    return Err("give one page".into());
                }
            }
        }
    }
    let page_path = page_path.ok_or(USAGE)?;
    let started = Instant::now();
    let raw = std::fs::read(&page_path).map_err(|e| format!("{page_path}: {e}"))?;
    let raw = String::from_utf8(raw).map_err(|_| format!("{page_path}: not UTF-8 text"))?;
    let spec = mendian_spec::load_sources(&spec_sources(root)?).map_err(|e| e.to_string())?;
    let report = import(&raw, family.as_deref(), &spec, root)?;
    print!("{}", report.text);
    println!("({} ms)", started.elapsed().as_millis());
    if !write || report.drift == 0 {
        return Ok(report.drift == 0);
    }
    let left = write_spec(root, &report)?;
    Ok(left == 0)
}

const USAGE: &str = "usage: cargo xtask import <page> [--family wechatpay|wxa|top] [--write]";

/// `--write`: applies every drift finding that has an edit to the family's spec file, records
/// the page as the new snapshot of the document it was read as (path, SHA-256, version line,
/// date), checks the result with the loader (restoring everything if it fails), and imports
/// again to list what is left for a person. Returns the drift left.
pub fn write_spec(root: &Path, report: &Report) -> Result<usize, String> {
    let spec_text = std::fs::read_to_string(&report.spec_path).map_err(|e| format!("{}: {e}", report.spec_path.display()))?;
    let mut edits: Vec<write::Edit> = report.findings.iter().filter(|f| f.deviation.is_none()).filter_map(|f| f.edit.clone()).collect();
    let applied = edits.len();
    let mut snapshot: Option<(std::path::PathBuf, String)> = None;
    if let Some(doc) = &report.document {
        let path = root.join("spec").join(&doc.path);
        let sum = sha256_hex(report.page_text.as_bytes());
        if sum != doc.sha256 {
            let table = doc.table;
            edits.push(write::Edit::Set { table, key: "sha256", value: Some(write::quoted(&sum)), review: None });
            edits.push(write::Edit::Set { table, key: "snapshot_date", value: Some(write::quoted(&today()?)), review: None });
            if let Some(v) = &report.version {
                edits.push(write::Edit::Set { table, key: "version", value: Some(write::quoted(v)), review: None });
            }
            snapshot = Some((path, report.page_text.clone()));
        }
    }
    let new_text = write::apply(&spec_text, &edits)?;
    let old_snapshot = match &snapshot {
        Some((path, _)) => Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => None,
    };
    let restore = || {
        let _ = std::fs::write(&report.spec_path, &spec_text);
        if let (Some((path, _)), Some(old)) = (&snapshot, &old_snapshot) {
            let _ = std::fs::write(path, old);
        }
    };
    std::fs::write(&report.spec_path, &new_text).map_err(|e| format!("{}: {e}", report.spec_path.display()))?;
    if let Some((path, text)) = &snapshot {
        if let Err(e) = std::fs::write(path, text) {
            restore();
            return Err(format!("{}: {e}", path.display()));
        }
    }
    let spec = match mendian_spec::load_dir(&root.join("spec")) {
        Ok(spec) => spec,
        Err(e) => {
            restore();
            return Err(format!("the edits would make the spec invalid, so nothing was written: {e}"));
        }
    };
    let again = import(&report.page_text, Some(&report.family), &spec, root)?;
    let shown = report.spec_path.strip_prefix(root).unwrap_or(&report.spec_path).display().to_string();
    println!("\nwrote {applied} change(s) to {shown}{}", snapshot.as_ref().map(|(p, _)| format!(" and the snapshot {}", p.strip_prefix(root).unwrap_or(p).display())).unwrap_or_default());
    if again.drift > 0 {
        println!("left for a person ({} drift):", again.drift);
        for line in again.text.lines().filter(|l| l.trim_start().starts_with("drift")) {
            println!("  {}", line.trim());
        }
    }
    println!("review the `# review (cargo xtask import)` lines and `git diff spec/`, then run `cargo xtask codegen`");
    Ok(again.drift)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Today's date (UTC) as `YYYY-MM-DD`, from `date`.
fn today() -> Result<String, String> {
    let out = std::process::Command::new("date").args(["-u", "+%F"]).output().map_err(|e| format!("date: {e}"))?;
    let day = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && day.len() == 10).then_some(day).ok_or_else(|| "date -u +%F printed no date".to_string())
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
    /// Every finding, with how `--write` applies it.
    pub findings: Vec<compare::Finding>,
    /// The family's spec file.
    pub spec_path: std::path::PathBuf,
    /// The family.
    pub family: String,
    /// The page as text (HTML already stripped): what `--write` keeps as the snapshot.
    pub page_text: String,
    /// The page's version line.
    pub version: Option<String>,
    /// The one kept document the page's endpoints and events were read from, if there is one.
    pub document: Option<SnapshotDoc>,
}

/// A kept document: where its snapshot is and what the spec records of it.
pub struct SnapshotDoc {
    /// Path under `spec/`.
    pub path: String,
    /// Recorded SHA-256.
    pub sha256: String,
    /// Byte offset of its `[[family.documents]]` header in the spec file.
    pub table: usize,
}

/// Parses `raw` (text or HTML) and compares it with the family's spec file.
pub fn import(raw: &str, family: Option<&str>, spec: &mendian_spec::Spec, root: &Path) -> Result<Report, String> {
    let text = if raw.trim_start().starts_with('<') { strip_html(raw) } else { raw.to_string() };
    let format = format_of(&text).ok_or(
        "this is not a page mendian can import (it reads WeChat Pay APIv3 pages, the 门店小程序 document, TOP API pages and saved TOP API metadata, as text or HTML)",
    )?;
    let family_of_page = match format {
        "wechatpay" => "wechatpay",
        "wxa" => "wxa",
        _ => "top",
    };
    if let Some(f) = family.filter(|f| *f != family_of_page) {
        return Err(format!("--family {f}, but this page reads as a {format} page (family {family_of_page})"));
    }
    let family = family_of_page.to_string();
    let at_line = |e: page::ParseError| format!("line {}: {}", e.line, e.reason);
    let page = match format {
        "wechatpay" => wechatpay::parse(&text),
        "top metadata" => top_metadata::parse(&text),
        "top page" => top_page::parse(&text),
        _ => wxa::parse(&text),
    }
    .map_err(at_line)?;
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
    // The kept document the page is a copy of: the one every matched endpoint and event names.
    let mut ids: Vec<&str> = Vec::new();
    for pe in &page.endpoints {
        ids.extend(compare::spec_endpoint(file, pe).iter().flat_map(|e| e.documents.iter().map(|d| d.as_str())));
    }
    for pv in &page.events {
        ids.extend(file.spec.events.iter().filter(|e| e.name == pv.name).flat_map(|e| e.documents.iter().map(|d| d.as_str())));
    }
    // TOP keeps an API page and the API metadata for the same endpoint: the snapshot must be
    // of the page's own format.
    let format = format_of(&text);
    let kinds: Vec<&mendian_spec::Spanned<mendian_spec::Document>> = file
        .spec
        .family
        .documents
        .iter()
        .filter(|d| ids.contains(&d.id.as_str()))
        .filter(|d| std::fs::read_to_string(root.join("spec").join(&d.path)).is_ok_and(|kept| format_of(&kept) == format))
        .collect();
    let document = match kinds.as_slice() {
        [d] => Some(SnapshotDoc { path: d.path.clone(), sha256: d.sha256.clone(), table: d.span().start }),
        _ => None,
    };
    Ok(Report { text: out, drift, findings, spec_path: file.path.clone(), family, page_text: text, version: page.version.clone(), document })
}

/// Which parser reads `text`: `wechatpay`, `top metadata`, `top page` or `wxa`.
fn format_of(text: &str) -> Option<&'static str> {
    if wechatpay::recognises(text) {
        Some("wechatpay")
    } else if top_metadata::recognises(text) {
        Some("top metadata")
    } else if top_page::recognises(text) {
        Some("top page")
    } else if wxa::recognises(text) {
        Some("wxa")
    } else {
        None
    }
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
                PAGE.lines().filter(|l| !l.starts_with("服务人员二维码URL qr_code") && !l.starts_with("示例值:https://open.work.weixin.qq.com")).collect::<Vec<_>>().join("\n"),
                "field qr_code: in the spec, not on the page",
            ),
            (mutated("员工姓名过长 根据", "员工姓名太长 根据"), "error 400 PARAM_ERROR: description: page 「员工姓名太长」, spec 「员工姓名过长」"),
            (
                mutated("400 MCH_NOT_EXISTS", "429 FREQUENCY_LIMITED 频率超限 请降低请求接口频率\n400 MCH_NOT_EXISTS"),
                "error 429 FREQUENCY_LIMITED 「频率超限」: on the page, not in the spec",
            ),
            (mutated("请求方式:PATCH", "请求方式:PUT"), "method: page PUT, spec PATCH"),
            (mutated("\"group_qrcode\" : \"http://p.qpic.cn/wwhead/nMl9ssowtibVGyrmvBiaibzDtp/0\"", "\"group_qrcode\" : \"http://p.qpic.cn/wwhead/other/0\""), "request example: the page's differs from the spec's"),
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
            (wxa("名称长度为4-30个字符(中文算两个字符)", "名称长度为4-30个字符"), "field nickname: length unit: page chars, spec width"),
            (wxa("85055 | map_poi_id 无效 |", "85055 | map_poi_id 无效 |\n85057 | 图片格式不支持 |"), "error 85057 「图片格式不支持」: on the page, not in the spec"),
            (wxa("85055 | map_poi_id 无效 |", "85055 | map_poi_id 已失效 |"), "error 85055: description: page 「map_poi_id 已失效」, spec 「map_poi_id 无效」"),
            (wxa("keyword | 搜索的关键词 | 必填 |\n", ""), "field keyword: in the spec, not on the page"),
            (wxa("\"first_catid\": 476,", "\"first_catid\": 477,"), "request example: the page's differs from the spec's"),
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

    /// A scratch root holding a copy of `spec/`, for `--write`.
    fn scratch(name: &str) -> std::path::PathBuf {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for e in std::fs::read_dir(from).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    copy(&e.path(), &to.join(e.file_name()));
                } else {
                    std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
                }
            }
        }
        let dir = std::env::temp_dir().join(format!("mendian-import-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy(&root().join("spec"), &dir.join("spec"));
        dir
    }

    /// Imports `page` against the scratch root's spec with `--write`; returns the drift left.
    fn write_into(dir: &Path, page: &str) -> usize {
        let spec = mendian_spec::load_sources(&spec_sources(dir).unwrap()).unwrap();
        let report = import(page, None, &spec, dir).unwrap();
        assert!(report.drift > 0, "{}", report.text);
        write_spec(dir, &report).unwrap()
    }

    fn spec_file(dir: &Path, family: &str) -> String {
        std::fs::read_to_string(dir.join("spec").join(format!("{family}.toml"))).unwrap()
    }

    #[test]
    fn write_applies_each_change_keeps_the_rest_and_the_spec_then_agrees() {
        let dir = scratch("write");
        let before = spec_file(&dir, "wechatpay");
        // A changed limit: one line of the spec, the snapshot and its record.
        let page = mutated("guide_id string[1,64]", "guide_id string[1,32]");
        assert_eq!(write_into(&dir, &page), 0);
        let after = spec_file(&dir, "wechatpay");
        let changed: Vec<(&str, &str)> = before.lines().zip(after.lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(before.lines().count(), after.lines().count());
        let (limit, record): (Vec<_>, Vec<_>) = changed.iter().copied().partition(|(a, _)| a.starts_with("max_length"));
        assert_eq!(limit, [("max_length = 64", "max_length = 32")], "the update_guide guide_id line, nothing else");
        assert!(record.iter().all(|(_, b)| b.starts_with("sha256 = ") || b.starts_with("snapshot_date = ")), "{changed:#?}");
        assert!(record.iter().any(|(_, b)| b.starts_with("sha256 = ")), "{changed:#?}");
        assert_eq!(std::fs::read_to_string(dir.join("spec/docs/wechatpay/update-guide.txt")).unwrap(), page);
        let spec = mendian_spec::load_dir(&dir.join("spec")).expect("the written spec and snapshot load");
        assert_eq!(import(&page, None, &spec, &dir).unwrap().drift, 0);
        // The generated validation follows.
        let files = crate::codegen::generate(&root(), &spec).unwrap();
        let requests = &files.iter().find(|(p, _)| p.ends_with("wechatpay/requests.rs")).unwrap().1;
        assert!(requests.contains("validate::check_str(at, \"guide_id\", v, &rules::LEN_1_TO_32_CHARS_NO_EMOJI)?;"), "update_guide's guide_id check is 1..=32 now");

        // The other kinds, each into a fresh copy: the spec loads, the page then agrees, and
        // new facts carry a review mark.
        let cases: Vec<(&str, String, &str)> = vec![
            ("wxa", wxa("intro | 门店小程序的介绍 | 必填 |", "intro | 门店小程序的介绍 | 选填 |"), ""),
            (
                "wxa",
                wxa("审核状态,0:未提交审核,1:审核成功,2:审核中,3:审核失败,4:管理员拒绝", "审核状态,0:未提交审核,1:审核成功,2:审核中,3:审核失败,4:管理员拒绝,5:已撤回"),
                "{ value = 5, name = \"Value5\", meaning = \"已撤回\" },",
            ),
            ("wxa", wxa("85055 | map_poi_id 无效 |", "85055 | map_poi_id 无效 |\n85057 | 图片格式不支持 |"), "code = \"85057\"\ndescription = \"图片格式不支持\""),
            ("wxa", wxa("keyword | 搜索的关键词 | 必填 |\n", ""), ""),
            ("wxa", wxa("keyword | 搜索的关键词 | 必填 |\n", "keyword | 搜索的关键词 | 必填 |\npage_size | 每页条数 | 选填 |\n"), "name = \"page_size\""),
            ("wechatpay", mutated("请求方式:PATCH", "请求方式:PUT"), ""),
            ("wechatpay", mutated("员工姓名过长 根据", "员工姓名太长 根据"), ""),
            ("wxa", wxa("\"first_catid\": 476,", "\"first_catid\": 477,"), ""),
            ("top", top("  • └ phone\n  • Number", "  • └ phone\n  • String"), ""),
            ("top", top("20001,已查询到最后一页", "20001,已查询到最后一页 20002, 工人已停用"), "code = \"20002\""),
        ];
        for (k, (family, page, new_text)) in cases.into_iter().enumerate() {
            let dir = scratch(&format!("write{k}"));
            assert_eq!(write_into(&dir, &page), 0, "case {k}");
            let spec = mendian_spec::load_dir(&dir.join("spec")).unwrap_or_else(|e| panic!("case {k}: {e}"));
            assert_eq!(import(&page, None, &spec, &dir).unwrap().drift, 0, "case {k}");
            let text = spec_file(&dir, family);
            if !new_text.is_empty() {
                let at = text.find(new_text).unwrap_or_else(|| panic!("case {k}: no {new_text:?}"));
                assert!(text[..at].rsplit("\n").take(4).any(|l| l.trim_start().starts_with("# review (cargo xtask import)")), "case {k}: no review mark");
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn write_of_an_unchanged_page_leaves_spec_byte_identical() {
        let dir = scratch("unchanged");
        let before: Vec<String> = ["wechatpay", "wxa", "top"].iter().map(|f| spec_file(&dir, f)).collect();
        for page in [PAGE, WXA, TOP_PAGE, TOP_METADATA] {
            let spec = mendian_spec::load_sources(&spec_sources(&dir).unwrap()).unwrap();
            let report = import(page, None, &spec, &dir).unwrap();
            assert_eq!(report.drift, 0);
            assert_eq!(write_spec(&dir, &report).unwrap(), 0);
        }
        let after: Vec<String> = ["wechatpay", "wxa", "top"].iter().map(|f| spec_file(&dir, f)).collect();
        assert!(before == after, "spec/ changed");
        let _ = std::fs::remove_dir_all(&dir);
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
