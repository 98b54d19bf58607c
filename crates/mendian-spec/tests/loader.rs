//! The loader's promises: the project's spec loads, and a malformed spec is rejected with
//! `file:line: reason` — typo'd keys, bad types, dangling references, impossible limits.

use std::path::{Path, PathBuf};

use mendian_spec::{load_dir, load_sources, SpecError};

fn repo_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec")
}

const GOOD: &str = r#"[family]
name = "demo"
title = "Demo"
description = "A small family."
platform = "wxa"
base_url = "https://api.weixin.qq.com"
sources = ["test"]

[[types]]
name = "DemoResponse"
description = "Answer."
[[types.fields]]
name = "audit_id"
title = "审核单id"
description = "The audit id."
type = "int64"
required = true

[[endpoints]]
id = "demo_add"
title = "添加"
summary = "Adds."
method = "POST"
path = "/wxa/demo_add"
retry = "never"
response = "DemoResponse"
[[endpoints.fields]]
name = "nickname"
title = "昵称"
description = "4-30 wide."
location = "body"
type = "string"
required = true
min_length = 4
max_length = 30
length_unit = "width"
"#;

fn load_one(text: &str) -> Result<mendian_spec::Spec, SpecError> {
    load_sources(&[(PathBuf::from("spec/demo.toml"), text.to_string())])
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in text") + 1
}

#[test]
fn the_project_spec_loads() {
    let spec = load_dir(&repo_spec()).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = spec.files.iter().map(|f| f.spec.family.name.as_str()).collect();
    assert_eq!(names, ["top", "wechatpay", "wxa"]);
}

#[test]
fn a_good_small_spec_loads() {
    let spec = load_one(GOOD).unwrap();
    assert_eq!(spec.files[0].spec.endpoints[0].fields[0].max_length, Some(30));
}

#[test]
fn a_typo_in_a_key_names_file_and_line() {
    let text = GOOD.replace("min_length = 4", "min_lenght = 4");
    let err = load_one(&text).unwrap_err();
    assert_eq!(err.file, PathBuf::from("spec/demo.toml"));
    assert_eq!(err.line, line_of(&text, "min_lenght"), "{err}");
    assert!(err.reason.contains("unknown field `min_lenght`"), "{err}");
    assert!(err.to_string().starts_with(&format!("spec/demo.toml:{}: ", err.line)));
}

#[test]
fn a_bad_type_names_file_and_line() {
    let text = GOOD.replace("type = \"int64\"", "type = \"integer\"");
    let err = load_one(&text).unwrap_err();
    assert_eq!(err.line, line_of(&text, "type = \"integer\""), "{err}");
    assert!(err.reason.contains("unknown type `integer`"), "{err}");
}

#[test]
fn a_value_of_the_wrong_kind_names_file_and_line() {
    let text = GOOD.replace("max_length = 30", "max_length = \"30\"");
    let err = load_one(&text).unwrap_err();
    assert_eq!(err.line, line_of(&text, "max_length = \"30\""), "{err}");
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let text = GOOD.replace("retry = \"never\"", "retry = \"never");
    let err = load_one(&text).unwrap_err();
    assert_eq!(err.line, line_of(&text, "retry = \"never"), "{err}");
}

#[test]
fn an_undefined_type_is_reported_where_it_is_used() {
    let text = GOOD.replace("response = \"DemoResponse\"", "response = \"DemoAnswer\"");
    let err = load_one(&text).unwrap_err();
    assert_eq!(err.line, line_of(&text, "response = \"DemoAnswer\""), "{err}");
    assert!(err.reason.contains("`DemoAnswer` is not defined"), "{err}");
}

#[test]
fn a_limit_without_its_unit_is_an_error() {
    let text = GOOD.replace("length_unit = \"width\"\n", "");
    let err = load_one(&text).unwrap_err();
    assert!(err.reason.contains("needs length_unit"), "{err}");
    // Reported at the field's table, which starts at its [[endpoints.fields]] header or first key.
    let field_start = line_of(&text, "name = \"nickname\"");
    assert!((field_start - 1..=field_start).contains(&err.line), "{err}");
}

#[test]
fn a_path_placeholder_needs_a_path_field() {
    let text = GOOD.replace("path = \"/wxa/demo_add\"", "path = \"/wxa/{poi_id}/demo_add\"");
    let err = load_one(&text).unwrap_err();
    assert!(err.reason.contains("placeholder `{poi_id}`"), "{err}");
}

#[test]
fn names_must_be_unique_across_files() {
    let other = GOOD.replace("name = \"demo\"", "name = \"demo2\"").replace("id = \"demo_add\"", "id = \"demo_add2\"");
    let err = load_sources(&[
        (PathBuf::from("spec/a.toml"), GOOD.to_string()),
        (PathBuf::from("spec/b.toml"), other),
    ])
    .unwrap_err();
    assert_eq!(err.file, PathBuf::from("spec/b.toml"));
    assert!(err.reason.contains("`DemoResponse` is already defined"), "{err}");
}

/// A copy of `spec/` (the TOML files and the document snapshots) in a fresh directory.
fn spec_copy(name: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                copy(&p, &to.join(e.file_name()));
            } else {
                std::fs::copy(&p, to.join(e.file_name())).unwrap();
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("mendian-spec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&repo_spec(), &dir);
    dir
}

#[test]
fn every_endpoint_of_a_kept_page_names_it_and_the_snapshots_are_current() {
    let spec = load_dir(&repo_spec()).unwrap_or_else(|e| panic!("{e}"));
    let wxa = spec.family("wxa").unwrap();
    assert_eq!(wxa.family.documents.len(), 1);
    let page = &wxa.family.documents[0];
    // The 15 store calls and the 4 events come from the store page; tokens and media upload
    // from pages that are not kept.
    let named: Vec<&str> = wxa.endpoints.iter().filter(|e| e.documents.iter().any(|d| **d == page.id)).map(|e| e.id.as_str()).collect();
    assert_eq!(named.len(), 15, "{named:?}");
    assert!(wxa.events.iter().all(|e| e.documents.iter().any(|d| **d == page.id)));
    let wechatpay = spec.family("wechatpay").unwrap();
    assert_eq!(wechatpay.family.documents[0].version.as_deref(), Some("最新更新时间:2020.07.10"));
}

#[test]
fn a_changed_snapshot_is_reported_with_its_document_and_line() {
    let dir = spec_copy("changed");
    let page = dir.join("docs/wechatpay/update-guide.txt");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, text.replacen("string[1,64]", "string[1,128]", 1)).unwrap();
    let err = load_dir(&dir).unwrap_err();
    assert!(err.file.ends_with("wechatpay.toml"), "{err}");
    assert!(err.line > 0, "{err}");
    assert!(err.reason.contains("document `update_guide_page`") && err.reason.contains("changed since the spec was checked"), "{err}");

    // The version line must still be in the page.
    std::fs::write(&page, text.replace("最新更新时间:2020.07.10", "最新更新时间:2026.01.01")).unwrap();
    let sum = {
        use std::fmt::Write;
        let bytes = std::fs::read(&page).unwrap();
        let mut hex = String::new();
        for b in sha256(&bytes) {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    };
    let toml = dir.join("wechatpay.toml");
    let spec_text = std::fs::read_to_string(&toml).unwrap();
    let recorded = "ba5d777c0d1b97e35ca32486e2030116144b4625f9f836626cedbfc275342fb4";
    assert!(spec_text.contains(recorded), "the test's recorded hash is out of date");
    std::fs::write(&toml, spec_text.replace(recorded, &sum)).unwrap();
    let err = load_dir(&dir).unwrap_err();
    assert!(err.reason.contains("does not contain its version line"), "{err}");

    // A missing snapshot names the file.
    std::fs::remove_file(&page).unwrap();
    let err = load_dir(&dir).unwrap_err();
    assert!(err.reason.contains("cannot read its snapshot"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_reference_to_an_unknown_document_is_refused() {
    let dir = spec_copy("unknown-doc");
    let toml = dir.join("top.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replacen(r#"documents = ["worker_api_metadata"]"#, r#"documents = ["worker_api_metadata_v2"]"#, 1)).unwrap();
    let err = load_dir(&dir).unwrap_err();
    assert!(err.reason.contains("document `worker_api_metadata_v2` is not one of family.documents"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

#[test]
fn base_urls_must_be_https_without_a_trailing_slash() {
    let dir = spec_copy("base-url");
    let toml = dir.join("wxa.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replacen(r#"base_url = "https://api.weixin.qq.com""#, r#"base_url = "http://api.weixin.qq.com""#, 1)).unwrap();
    let err = load_dir(&dir).unwrap_err();
    assert!(err.reason.contains("must start with https://"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn merchant_modes_belong_to_wechatpay_and_cover_only_in() {
    let text = GOOD.replace("retry = \"never\"\n", "retry = \"never\"\nmodes = [\"direct\"]\n");
    let err = load_one(&text).unwrap_err();
    assert!(err.reason.contains("only apply to WeChat Pay endpoints"), "{err}");
    assert_eq!(err.line, line_of(&text, "[[endpoints]]"));

    let dir = spec_copy("modes");
    let toml = dir.join("wechatpay.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("modes = [\"direct\", \"partner\"]\n"));
    std::fs::write(&toml, text.replacen("modes = [\"direct\", \"partner\"]\n", "modes = [\"direct\"]\n", 1)).unwrap();
    let err = load_dir(&dir).unwrap_err();
    assert!(err.reason.contains("`sub_mchid` is only_in Partner, a mode the endpoint's modes do not list"), "{err}");
    std::fs::write(&toml, text.replacen("modes = [\"direct\", \"partner\"]\n", "", 1)).unwrap();
    let err = load_dir(&dir).unwrap_err();
    assert!(err.reason.contains("modes must list who may call it"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
