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
hosts = ["https://api.weixin.qq.com"]
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
