//! `cargo xtask codegen [--check]`: spec/*.toml → two layers of generated Rust.
//!
//! - `crates/mendian/src/generated/<family>/`: the model, which knows nothing of the
//!   clients or the FFI surface: `types.rs` (enums with an `Unknown` catch-all, records and
//!   their `Validate` impls), `requests.rs` (one request record per endpoint holding all its
//!   inputs, with its `Request` impl), `events.rs` (pushed event records, where the family
//!   has events), `errors.rs` (error tables) and `descriptors.rs` (endpoint descriptors).
//! - `crates/mendian/src/ffi/generated/<family>.rs`: the thin exported layer: one method per
//!   endpoint on the platform client, and one `validate_<endpoint>_request` function.
//! - `crates/mendian/src/python/generated/<family>.rs`: the Python accelerator's half
//!   (`pyaccel`): conversions to and from the UniFFI-generated Python classes and one
//!   blocking and one asyncio function per endpoint.
//!
//! The generator writes plain Rust text and pipes it through rustfmt, so the output reads
//! like hand-written code and diffs cleanly. Output depends only on the spec, so running it
//! twice changes nothing; `--check` compares instead of writing and names every stale file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mendian_spec::{
    pascal_case, EnumDef, EnumRepr, Encoding, Endpoint, Event, Field, Format, LengthUnit, Location,
    NamedType, Paging, Platform, Retry, Spec, SpecFile, TypeDef, TypeExpr,
};

/// Where the generated model goes, relative to the workspace root.
pub const OUT_DIR: &str = "crates/mendian/src/generated";
/// Where the generated FFI layer goes, relative to the workspace root.
pub const FFI_OUT_DIR: &str = "crates/mendian/src/ffi/generated";
/// The UniFFI binding settings, relative to the workspace root.
pub const UNIFFI_TOML: &str = "crates/mendian/uniffi.toml";

/// Generates every file: (path relative to the workspace root, content).
pub fn generate(root: &Path, spec: &Spec) -> Result<Vec<(PathBuf, String)>, String> {
    let mut out = Vec::new();
    let mut modules = Vec::new();
    let mut blocking = Vec::new();
    for lf in &spec.files {
        let fam = &lf.spec;
        let src_name = lf.path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let family = Family { spec, fam, rules: Default::default(), blocking: Default::default() };
        for (name, text) in family.render(&src_name)? {
            out.push((PathBuf::from(OUT_DIR).join(&fam.family.name).join(name), format_rust(root, &text)?));
        }
        let ffi = family.render_ffi(&src_name)?;
        out.push((PathBuf::from(FFI_OUT_DIR).join(format!("{}.rs", fam.family.name)), format_rust(root, &ffi)?));
        blocking.extend(family.blocking.take());
        let accel = crate::pyaccel::render_family(&src_name, fam);
        out.push((PathBuf::from(crate::pyaccel::OUT_DIR).join(format!("{}.rs", fam.family.name)), format_rust(root, &accel)?));
        modules.push(fam);
    }
    out.push((PathBuf::from(OUT_DIR).join("mod.rs"), format_rust(root, &render_mod(&modules))?));
    out.push((PathBuf::from(FFI_OUT_DIR).join("mod.rs"), format_rust(root, &render_ffi_mod(&modules))?));
    out.push((PathBuf::from(crate::pyaccel::OUT_DIR).join("mod.rs"), format_rust(root, &crate::pyaccel::render_mod(&modules))?));
    blocking.extend(hand_written_blocking(root));
    out.push((PathBuf::from(UNIFFI_TOML), render_uniffi_toml(&blocking)));
    Ok(out)
}

/// The `(object, method)` pairs of the hand-written FFI files (`src/ffi/*.rs`) that have a
/// `…_blocking` twin: a `pub fn <name>_blocking` inside an `impl <Object>` block.
fn hand_written_blocking(root: &Path) -> Vec<(String, String)> {
    let dir = root.join("crates/mendian/src/ffi");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "rs")).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let mut object = None;
        for line in text.lines() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("impl ") {
                object = rest.split_whitespace().next().map(|o| o.trim_end_matches('{').to_string());
            }
            if let (Some(o), Some(rest)) = (&object, t.strip_prefix("pub fn ")) {
                if let Some(name) = rest.split('(').next().and_then(|n| n.strip_suffix("_blocking")) {
                    out.push((o.clone(), name.to_string()));
                }
            }
        }
    }
    out
}

/// `crates/mendian/uniffi.toml`: the binding settings, and the Python renames that give the
/// blocking form the plain name (`client.get_store_list(req)`, as Python users of WeChat
/// SDKs expect) and the coroutine an `_async` suffix. Kotlin and Swift keep the async form
/// under the plain name (`suspend fun getStoreList`, `func getStoreList() async`) and the
/// blocking one as `getStoreListBlocking`, as is usual there.
fn render_uniffi_toml(blocking: &[(String, String)]) -> String {
    let mut s = String::from(
        "# @generated by `cargo xtask codegen` (settings in xtask/src/codegen.rs, renames from spec/*.toml\n# and the hand-written src/ffi/*.rs) — do not edit by hand.\n\n[bindings.kotlin]\npackage_name = \"mendian\"\n# The same generated sources serve the JVM and Android (`android = true` would import\n# android.os.Build); checksums are omitted as other large UniFFI projects do after the\n# 32-bit ARM checksum crashes.\nomit_checksums = true\n\n[bindings.swift]\nmodule_name = \"Mendian\"\nffi_module_name = \"MendianFFI\"\nffi_module_filename = \"MendianFFI\"\n\n# Python: `client.name(...)` blocks; `await client.name_async(...)` is the coroutine.\n[bindings.python.rename]\n",
    );
    let mut pairs = blocking.to_vec();
    pairs.sort();
    pairs.dedup();
    for (object, name) in pairs {
        let _ = writeln!(s, "\"{object}.{name}\" = \"{name}_async\"\n\"{object}.{name}_blocking\" = \"{name}\"");
    }
    s
}

fn render_ffi_mod(families: &[&SpecFile]) -> String {
    let mut s = header("spec/*.toml");
    s.push_str("//! The generated part of the FFI surface: one exported method per endpoint on each\n//! platform client, and one exported `validate_<endpoint>_request` function per endpoint.\n\n");
    for f in families {
        let _ = writeln!(s, "pub mod {};", f.family.name);
    }
    s
}

pub(crate) fn header(source: &str) -> String {
    format!("// @generated by `cargo xtask codegen` from {source} — do not edit by hand.\n")
}

fn render_mod(families: &[&SpecFile]) -> String {
    let mut s = header("spec/*.toml");
    s.push_str("//! Code generated from `spec/`: records, enums, validation, endpoint descriptors and\n//! error tables for every documented endpoint, one folder per family. Nothing here knows\n//! the clients or the FFI surface. Change the spec or the generator, then run\n//! `cargo xtask codegen`.\n\n");
    for f in families {
        let _ = writeln!(s, "pub mod {};", f.family.name);
    }
    s.push_str("\n/// Every endpoint of every family, in spec order.\npub static ALL_ENDPOINTS: &[&crate::schema::EndpointDescriptor] = &[\n");
    for f in families {
        for ep in &f.endpoints {
            let _ = writeln!(s, "    &{}::{},", f.family.name, const_name(&ep.id));
        }
    }
    s.push_str("];\n\n");
    s.push_str("/// Something done with an endpoint's request type, chosen by the endpoint's id at run time\n/// ([`with_request_type`]): reading a request from JSON, for example.\npub trait RequestVisitor {\n    /// What the visit returns.\n    type Output;\n    /// Called with the request record of the endpoint.\n    fn visit<R: crate::schema::Request + serde::Serialize + serde::de::DeserializeOwned>(self) -> Self::Output;\n}\n\n");
    s.push_str("/// Calls `visitor` with the request record of the endpoint `id`; `None` when the spec has no\n/// such endpoint.\npub fn with_request_type<V: RequestVisitor>(id: &str, visitor: V) -> Option<V::Output> {\n    Some(match id {\n");
    for f in families {
        for ep in &f.endpoints {
            let _ = writeln!(s, "        {} => visitor.visit::<{}::{}Request>(),", lit(&ep.id), f.family.name, pascal_case(&ep.id));
        }
    }
    s.push_str("        _ => return None,\n    })\n}\n\n");
    s.push_str("/// The response envelopes the spec names: how each platform wraps a payload and its errors.\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum Envelope {\n");
    for f in families {
        for e in &f.family.envelopes {
            doc(&mut s, &format!("`{}` ({}): {}", e.name, f.family.name, e.description.trim()));
            let _ = writeln!(s, "    {},", pascal_case(&e.name));
        }
    }
    s.push_str("}\n\nimpl Envelope {\n    /// The envelope's name in the spec.\n    pub fn as_str(&self) -> &'static str {\n        match self {\n");
    for f in families {
        for e in &f.family.envelopes {
            let _ = writeln!(s, "            Envelope::{} => {},", pascal_case(&e.name), lit(&e.name));
        }
    }
    s.push_str("        }\n    }\n}\n");
    s
}

fn format_rust(root: &Path, text: &str) -> Result<String, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout", "--config-path"])
        .arg(root.join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt (install it with `rustup component add rustfmt`): {e}"))?;
    child.stdin.take().expect("piped stdin").write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        let dump = std::env::temp_dir().join("mendian-codegen-unformatted.rs");
        let _ = std::fs::write(&dump, text);
        return Err(format!(
            "rustfmt rejected the generated code (a generator bug; unformatted text in {}):\n{}",
            dump.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

fn const_name(id: &str) -> String {
    id.to_ascii_uppercase()
}

/// snake_case Rust identifier for a wire name (`ToUserName` → `to_user_name`).
pub(crate) fn rust_field(name: &str) -> String {
    let mut s = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_ascii_uppercase())) && !s.ends_with('_') {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    const KEYWORDS: &[&str] = &[
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
        "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super",
        "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become",
        "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
    ];
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// The Rust type of a spec type expression.
pub(crate) fn rust_type(ty: &TypeExpr) -> String {
    match ty {
        TypeExpr::String | TypeExpr::DateTime | TypeExpr::Json => "String".into(),
        TypeExpr::Int32 => "i32".into(),
        TypeExpr::Int64 => "i64".into(),
        TypeExpr::Float64 => "f64".into(),
        TypeExpr::Bool => "bool".into(),
        TypeExpr::Bytes => "Vec<u8>".into(),
        TypeExpr::List(inner) => format!("Vec<{}>", rust_type(inner)),
        TypeExpr::Named(n) => n.clone(),
    }
}

/// Text safe inside a `///` doc comment that UniFFI copies into Kotlin/Swift `/** */` blocks.
fn doc_text(s: &str) -> String {
    // A backslash is doubled: Markdown (rustdoc, KDoc, Swift) shows `\\` as one, and so does a
    // Python docstring, where UniFFI copies the text verbatim and a lone `\J` (a document's
    // `PNG\JPEG`) is an invalid escape, a warning on import and an error under `-W error`.
    s.replace("*/", "* /").replace("/*", "/ *").replace('\r', "").replace('\\', "\\\\")
}

/// Whether a doc line opens a Markdown list item (`- `, `* `, `+ `, `1. `, `1) `).
fn is_list_item(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ") {
        return true;
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") "))
}

/// Writes `text` as `///` lines. A line that continues a list item is indented under it,
/// so Markdown (rustdoc, and the Kotlin/Swift/Python docs UniFFI copies) reads it as part
/// of the item.
fn doc(out: &mut String, text: &str) {
    doc_as(out, text, "///");
}

/// [`doc`] with another comment marker (`//!` for module docs).
fn doc_as(out: &mut String, text: &str, marker: &str) {
    let mut in_list = false;
    for line in doc_text(text).lines() {
        if line.trim().is_empty() {
            in_list = false;
            let _ = writeln!(out, "{marker}");
        } else if is_list_item(line) {
            in_list = true;
            let _ = writeln!(out, "{marker} {}", line.trim_end());
        } else if in_list && !line.starts_with("  ") {
            let _ = writeln!(out, "{marker}   {}", line.trim_end());
        } else {
            let _ = writeln!(out, "{marker} {}", line.trim_end());
        }
    }
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn opt_lit(s: Option<&str>) -> String {
    match s {
        Some(s) => format!("Some({})", lit(s)),
        None => "None".into(),
    }
}

fn toml_value_text(v: &mendian_spec::toml::Value) -> String {
    match v {
        mendian_spec::toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Family<'a> {
    spec: &'a Spec,
    fam: &'a SpecFile,
    /// The string rule sets the family's checks use: constant name → (expression, doc).
    rules: std::cell::RefCell<BTreeMap<String, (String, String)>>,
    /// The (client, method) pairs that got a blocking twin, for the Python renames.
    blocking: std::cell::RefCell<Vec<(String, String)>>,
}

#[derive(Clone, Copy, PartialEq)]
enum RecordKind {
    Request,
    Record,
    Event,
}

impl<'a> Family<'a> {
    /// The family's model files: (file name, text).
    fn render(&self, source: &str) -> Result<Vec<(&'static str, String)>, String> {
        let f = &self.fam.family;
        let head = |what: &str| {
            let mut s = header(&format!("spec/{source}"));
            let _ = writeln!(s, "//! {what}\n");
            s.push_str("use super::*;\n");
            s
        };
        let mut m = header(&format!("spec/{source}"));
        let _ = writeln!(m, "//! {}\n//!", doc_text(&f.title));
        doc_as(&mut m, &f.description, "//!");
        m.push_str("\n");
        let mut files = Vec::new();
        let mut mods = vec!["types", "requests"];

        let mut t = head("Enums and records of this family, with the checks of every documented constraint.");
        for e in &self.fam.enums {
            self.render_enum(&mut t, e);
        }
        for ty in &self.fam.types {
            self.render_type(&mut t, ty)?;
        }
        files.push(("types.rs", t));

        let mut r = head("One request record per endpoint, holding all its inputs, and its `Request` impl.");
        for ep in &self.fam.endpoints {
            self.render_request(&mut r, ep)?;
        }
        files.push(("requests.rs", r));

        if !self.fam.events.is_empty() {
            let mut e = head("The records of the events this family pushes to the merchant's server.");
            for ev in &self.fam.events {
                self.render_event(&mut e, ev)?;
            }
            self.render_event_enum(&mut e);
            files.push(("events.rs", e));
            mods.push("events");
        }

        let mut er = head("Error tables: what the documents say each code means and what to do about it.");
        self.render_errors(&mut er);
        for ep in &self.fam.endpoints {
            self.render_error_table(&mut er, ep);
        }
        files.push(("errors.rs", er));
        mods.push("errors");

        // Last: the rule sets are collected while the checks above were rendered.
        let mut ru = head("Named string rule sets, shared by every field whose documented constraints match.");
        for (name, (expr, d)) in self.rules.borrow().iter() {
            doc(&mut ru, d);
            let _ = writeln!(ru, "pub const {name}: StrRules = {expr};\n");
        }
        if !self.rules.borrow().is_empty() {
            files.push(("rules.rs", ru));
            mods.push("rules");
        }

        let mut d = head("Endpoint descriptors: method, path, where each field goes, envelope, retry guidance; the\n//! family's base URLs.");
        let f = &self.fam.family;
        let _ = writeln!(d, "/// The production base URL: the clients' default `options.base_url`.\npub const BASE_URL: &str = {};\n", lit(&f.base_url));
        let backup = f.backup_base_url.as_deref().map(|u| format!("Some({})", lit(u))).unwrap_or_else(|| "None".into());
        let _ = writeln!(d, "/// The documented backup, tried once when [`BASE_URL`] cannot be reached (`None`: the platform\n/// documents none).\npub const BACKUP_BASE_URL: Option<&str> = {backup};\n");
        for o in &f.other_base_urls {
            doc(&mut d, &format!("Another documented base URL, never used on its own: {}", o.note.trim()));
            let _ = writeln!(d, "pub const {}_BASE_URL: &str = {};\n", o.name.to_ascii_uppercase(), lit(&o.url));
        }
        for ep in &self.fam.endpoints {
            self.render_descriptor(&mut d, ep);
        }
        let _ = writeln!(d, "/// Every endpoint of this family.\npub static ENDPOINTS: &[&EndpointDescriptor] = &[");
        for ep in &self.fam.endpoints {
            let _ = writeln!(d, "    &{},", const_name(&ep.id));
        }
        d.push_str("];\n");
        files.push(("descriptors.rs", d));
        mods.push("descriptors");

        // The names the family's files share through `use super::*`: only those some file
        // uses, so no import needs an `allow(unused_imports)`.
        let text: String = files.iter().map(|(_, t)| t.as_str()).collect();
        let uses = |name: &str| {
            text.match_indices(name).any(|(i, _)| {
                let before = text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
                let after = !name.ends_with("::")
                    && text[i + name.len()..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_');
                !before && !after
            })
        };
        let imports: [(&str, &[&str]); 5] = [
            ("crate::error", &["MendianError", "Platform"]),
            ("crate::generated", &["Envelope"]),
            ("crate::schema::descriptor", &["Encoding", "EndpointDescriptor", "ErrorEntry", "FieldDescriptor", "Location", "MerchantMode", "Retry"]),
            ("crate::schema::validate", &["self", "Format", "LengthUnit", "StrRules"]),
            ("crate::schema", &["wire", "Validate"]),
        ];
        for (path, names) in imports {
            let used: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| match *n {
                    // Modules are used through a path, not just named in a doc.
                    "self" => uses("validate::"),
                    "wire" => uses("wire::"),
                    _ => uses(n),
                })
                .map(|n| if n == "self" && path.ends_with("validate") { "self" } else { n })
                .collect();
            match used.as_slice() {
                [] => {}
                [one] if *one == "self" => {
                    let _ = writeln!(m, "use {path};");
                }
                [one] => {
                    let _ = writeln!(m, "use {path}::{one};");
                }
                many => {
                    let _ = writeln!(m, "use {path}::{{{}}};", many.join(", "));
                }
            }
        }
        m.push('\n');
        for md in &mods {
            let _ = writeln!(m, "mod {md};");
        }
        m.push('\n');
        // The rule constants stay in `rules::`, out of the family's public namespace.
        for md in mods.iter().filter(|m| **m != "rules") {
            let _ = writeln!(m, "pub use {md}::*;");
        }
        files.push(("mod.rs", m));
        Ok(files)
    }

    /// The family's thin FFI file: exported client methods and validation functions.
    fn render_ffi(&self, source: &str) -> Result<String, String> {
        let f = &self.fam.family;
        let mut s = header(&format!("spec/{source}"));
        let _ = writeln!(s, "//! The exported surface of {}: one method per endpoint, each a one-line call into\n//! the hand-written client, and one validation function per request record.\n", doc_text(&f.title));
        s.push_str("use std::sync::Arc;\n\nuse crate::error::MendianError;\n");
        let _ = writeln!(s, "use crate::generated::{}::*;", f.name);
        s.push_str("use crate::schema::Validate;\n");
        if self.fam.endpoints.iter().any(|e| e.paging.is_some()) {
            s.push_str("use crate::runtime::pager;\n");
        }
        match f.platform {
            Platform::Top => s.push_str("use crate::top::TopClient;\n"),
            Platform::Wechatpay => s.push_str("use crate::wechatpay::WechatpayClient;\n"),
            Platform::Wxa => s.push_str("use crate::wxa::WxaClient;\n"),
        }
        s.push('\n');
        for ep in &self.fam.endpoints {
            let name = format!("{}Request", pascal_case(&ep.id));
            let response = ep.response.as_ref().map(|r| r.get_ref().clone()).unwrap_or_else(|| "()".into());
            self.render_client_method(&mut s, ep, &name, &response);
            let _ = writeln!(
                s,
                "/// Checks a [`{name}`] against every documented constraint of {} without sending anything.\n///\n/// Fails with `MendianError::InvalidArgument` naming the first offending field and the rule it breaks.\n#[uniffi::export]\npub fn validate_{}_request(request: {name}) -> Result<(), MendianError> {{\n    request.validate()\n}}\n",
                doc_text(&ep.title),
                ep.id
            );
        }
        Ok(s)
    }

    fn platform(&self) -> &'static str {
        match self.fam.family.platform {
            Platform::Wechatpay => "Platform::Wechatpay",
            Platform::Wxa => "Platform::Wxa",
            Platform::Top => "Platform::Top",
        }
    }

    fn render_enum(&self, s: &mut String, e: &EnumDef) {
        doc(s, &e.description);
        s.push_str("///\n/// Values the platform may send that this version does not know are kept in `Unknown`.\n");
        s.push_str("#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]\n");
        let _ = writeln!(s, "pub enum {} {{", e.name);
        for v in &e.values {
            doc(s, &format!("{} (`{}`)", v.meaning, toml_value_text(&v.value)));
            let _ = writeln!(s, "    {},", v.name);
        }
        let unknown_ty = if e.repr == EnumRepr::Int { "i64" } else { "String" };
        let _ = writeln!(s, "    /// A value not documented when this SDK was generated.\n    Unknown {{\n        /// The value as sent.\n        value: {unknown_ty},\n    }},\n}}\n");
        let _ = writeln!(s, "impl {} {{", e.name);
        match e.repr {
            EnumRepr::Int => {
                s.push_str("    /// The variant for a wire value.\n    pub fn from_wire(value: i64) -> Self {\n        match value {\n");
                for v in &e.values {
                    let _ = writeln!(s, "            {} => Self::{},", v.value, v.name);
                }
                s.push_str("            value => Self::Unknown { value },\n        }\n    }\n\n");
                s.push_str("    /// The wire value.\n    pub fn wire_value(&self) -> i64 {\n        match self {\n");
                for v in &e.values {
                    let _ = writeln!(s, "            Self::{} => {},", v.name, v.value);
                }
                s.push_str("            Self::Unknown { value } => *value,\n        }\n    }\n}\n\n");
                let _ = writeln!(s, "impl serde::Serialize for {} {{\n    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{\n        s.serialize_i64(self.wire_value())\n    }}\n}}\n", e.name);
                let _ = writeln!(s, "impl<'de> serde::Deserialize<'de> for {} {{\n    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{\n        wire::enum_int(d).map(Self::from_wire)\n    }}\n}}\n", e.name);
            }
            EnumRepr::String => {
                s.push_str("    /// The variant for a wire value.\n    pub fn from_wire(value: &str) -> Self {\n        match value {\n");
                for v in &e.values {
                    let _ = writeln!(s, "            {} => Self::{},", lit(&toml_value_text(&v.value)), v.name);
                }
                s.push_str("            value => Self::Unknown { value: value.to_string() },\n        }\n    }\n\n");
                s.push_str("    /// The wire value.\n    pub fn wire_value(&self) -> &str {\n        match self {\n");
                for v in &e.values {
                    let _ = writeln!(s, "            Self::{} => {},", v.name, lit(&toml_value_text(&v.value)));
                }
                s.push_str("            Self::Unknown { value } => value,\n        }\n    }\n}\n\n");
                let _ = writeln!(s, "impl serde::Serialize for {} {{\n    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{\n        s.serialize_str(self.wire_value())\n    }}\n}}\n", e.name);
                let _ = writeln!(s, "impl<'de> serde::Deserialize<'de> for {} {{\n    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{\n        wire::enum_str(d).map(|v| Self::from_wire(&v))\n    }}\n}}\n", e.name);
            }
        }
        // Known values, text forms and parsing, in the manner of generated SDK enums.
        let n = &e.name;
        let known = e.values.iter().map(|v| format!("Self::{}", v.name)).collect::<Vec<_>>().join(", ");
        let _ = writeln!(s, "impl {n} {{\n    /// Every value documented when this SDK was generated, in the documents' order.\n    pub const KNOWN: &'static [{n}] = &[{known}];\n");
        if e.repr == EnumRepr::Int {
            s.push_str("    /// Whether this is a documented value.\n    pub fn is_known(&self) -> bool {\n        !matches!(self, Self::Unknown { .. })\n    }\n}\n\n");
            let _ = writeln!(s, "impl std::fmt::Display for {n} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        write!(f, \"{{}}\", self.wire_value())\n    }}\n}}\n");
            let _ = writeln!(s, "impl std::str::FromStr for {n} {{\n    type Err = MendianError;\n    /// Parses a wire value (`\"1\"`); an undocumented number becomes `Unknown`.\n    fn from_str(s: &str) -> Result<Self, MendianError> {{\n        s.trim().parse::<i64>().map(Self::from_wire).map_err(|_| MendianError::invalid({}, format!(\"{{s:?}} is not a number\")))\n    }}\n}}\n", lit(n));
        } else {
            s.push_str("    /// Whether this is a documented value.\n    pub fn is_known(&self) -> bool {\n        !matches!(self, Self::Unknown { .. })\n    }\n\n    /// The wire value.\n    pub fn as_str(&self) -> &str {\n        self.wire_value()\n    }\n}\n\n");
            let _ = writeln!(s, "impl std::fmt::Display for {n} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        f.write_str(self.wire_value())\n    }}\n}}\n");
            let _ = writeln!(s, "impl std::str::FromStr for {n} {{\n    type Err = std::convert::Infallible;\n    /// Parses a wire value; an undocumented one becomes `Unknown`.\n    fn from_str(s: &str) -> Result<Self, Self::Err> {{\n        Ok(Self::from_wire(s))\n    }}\n}}\n");
        }
    }

    fn field_doc(&self, f: &Field) -> String {
        let mut d = String::new();
        if f.title.trim().is_empty() || f.title == f.name {
            let _ = writeln!(d, "`{}`: {}", f.name, f.description.trim());
        } else {
            let _ = writeln!(d, "{} (`{}`): {}", f.title.trim(), f.name, f.description.trim());
        }
        let mut facts = Vec::new();
        facts.push(if f.required { "Required.".to_string() } else { "Optional.".to_string() });
        if let Some(loc) = f.location {
            facts.push(format!("Sent in the {}.", match loc {
                Location::Path => "path",
                Location::Query => "query string",
                Location::Body => "JSON body",
                Location::Form => "form",
                Location::Multipart => "multipart body",
                Location::Header => "headers",
            }));
        }
        if f.min_length.is_some() || f.max_length.is_some() {
            let unit = match f.length_unit {
                Some(LengthUnit::Bytes) => "bytes",
                Some(LengthUnit::Width) => "in width (a CJK character counts 2)",
                _ => "characters",
            };
            let range = match (f.min_length, f.max_length) {
                (Some(a), Some(b)) => format!("{a}–{b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                _ => unreachable!(),
            };
            if f.encrypted {
                facts.push(format!("Ciphertext length {range} {unit}."));
            } else {
                facts.push(format!("Length {range} {unit}."));
            }
        }
        if f.encrypted {
            let limit = f.plaintext_max_bytes.map(|b| format!(" (at most {b} bytes of UTF-8)")).unwrap_or_default();
            facts.push(format!("Encrypted on the wire: pass the plaintext{limit}; the SDK encrypts it."));
        }
        if f.minimum.is_some() || f.maximum.is_some() {
            facts.push(format!("Range {}–{}.", f.minimum.map(|v| v.to_string()).unwrap_or_default(), f.maximum.map(|v| v.to_string()).unwrap_or_default()));
        }
        if f.min_items.is_some() || f.max_items.is_some() {
            facts.push(format!("{}–{} items.", f.min_items.unwrap_or(0), f.max_items.map(|v| v.to_string()).unwrap_or_else(|| "any number of".into())));
        }
        if let Some(fmt) = f.format {
            facts.push(format!("Format: {}.", format_words(fmt)));
        }
        if f.encoding == Some(Encoding::JsonString) {
            facts.push("Sent as a JSON string.".into());
        }
        if let Some(d) = &f.server_default {
            facts.push(format!("Server default: {}.", toml_value_text(d)));
        }
        if let Some(m) = f.only_in {
            facts.push(format!("Only in {} mode.", match m {
                mendian_spec::Mode::Direct => "direct-merchant",
                mendian_spec::Mode::Partner => "服务商 (partner)",
            }));
        }
        if let Some(e) = &f.example {
            facts.push(format!("Example: `{}`.", toml_value_text(e).replace('`', "'")));
        }
        let _ = writeln!(d, "\n{}", facts.join(" "));
        if let Some(why) = &f.inferred {
            let _ = writeln!(d, "\nInferred (our reading, not the document's words): {}", why.trim());
        }
        for q in &f.quirks {
            let _ = writeln!(d, "\nQuirk: {q}");
        }
        d
    }

    fn render_fields(&self, s: &mut String, fields: &[mendian_spec::Spanned<Field>]) -> Result<(), String> {
        for f in fields {
            doc(s, &self.field_doc(f));
            let name = rust_field(&f.name);
            let base = rust_type(f.ty.get_ref());
            let ty = if f.required { base.clone() } else { format!("Option<{base}>") };
            let mut attrs: Vec<String> = Vec::new();
            if name != f.name {
                attrs.push(format!("rename = {}", lit(&f.name)));
            }
            let is_list = matches!(f.ty.get_ref(), TypeExpr::List(_));
            if !f.required {
                attrs.push("default".into());
                attrs.push("skip_serializing_if = \"Option::is_none\"".into());
            } else if is_list {
                attrs.push("default".into());
            }
            let opt = if f.required { "" } else { "opt_" };
            if *f.ty.get_ref() == TypeExpr::Bytes {
                // File contents travel as multipart parts (see `Request::multipart`), never
                // through the JSON value of the request.
                attrs.clear();
                attrs.push("skip".into());
            } else if f.encoding == Some(Encoding::JsonString) {
                attrs.push(format!("with = \"wire::{opt}json_string\""));
            } else if *f.ty.get_ref() == TypeExpr::Json {
                attrs.push(format!("with = \"wire::{opt}json_text\""));
            } else if f.lenient {
                let helper = match f.ty.get_ref() {
                    TypeExpr::Int32 => "i32",
                    TypeExpr::Int64 => "i64",
                    TypeExpr::Float64 => "f64",
                    TypeExpr::Bool => "bool",
                    TypeExpr::String | TypeExpr::DateTime => "string",
                    // Enums decode leniently on their own; lists and records have no
                    // scalar spelling to be lenient about.
                    _ => "",
                };
                if !helper.is_empty() {
                    attrs.push(format!("deserialize_with = \"wire::{opt}{helper}\""));
                }
            }
            if !attrs.is_empty() {
                let _ = writeln!(s, "    #[serde({})]", attrs.join(", "));
            }
            if !f.required {
                s.push_str("    #[uniffi(default)]\n");
            }
            let _ = writeln!(s, "    pub {name}: {ty},");
        }
        Ok(())
    }

    fn render_validate(&self, s: &mut String, name: &str, fields: &[mendian_spec::Spanned<Field>], at_least_one_of: &[mendian_spec::Spanned<String>]) {
        let mut body = String::new();
        for f in fields {
            self.validate_field(&mut body, f, fields);
        }
        // After the fields: a wrong field is named before a missing one of the group.
        if !at_least_one_of.is_empty() {
            let names: Vec<&str> = at_least_one_of.iter().map(|n| n.get_ref().as_str()).collect();
            let none: Vec<String> = names.iter().map(|n| format!("self.{}.is_none()", rust_field(n))).collect();
            let _ = writeln!(
                body,
                "        if {} {{\n            return Err(MendianError::invalid(if at.is_empty() {{ \"request\".to_string() }} else {{ at.to_string() }}, {}));\n        }}",
                none.join(" && "),
                lit(&format!("sets none of {}: at least one is needed, or there is nothing to send", names.join(", ")))
            );
        }
        let at = if body.is_empty() { "_at" } else { "at" };
        let _ = writeln!(s, "impl Validate for {name} {{\n    fn validate_at(&self, {at}: &str) -> Result<(), MendianError> {{\n{body}        Ok(())\n    }}\n}}\n");
    }

    /// The named constant (in the family's `rules.rs`) holding the string rules of `f`,
    /// when it has any; identical rule sets share one constant.
    fn str_rules(&self, f: &Field) -> Option<String> {
        let no_supp = self.fam.family.reject_supplementary_chars;
        let has = f.min_length.is_some() || f.max_length.is_some() || f.encrypted || f.format.is_some() || no_supp;
        if !has {
            return None;
        }
        let unit = f.length_unit.unwrap_or(LengthUnit::Chars);
        let (unit_expr, unit_name, unit_words) = match (f.length_unit, unit) {
            (None, _) => ("None", "CHARS", "characters"),
            (Some(_), LengthUnit::Chars) => ("Some(LengthUnit::Chars)", "CHARS", "characters"),
            (Some(_), LengthUnit::Bytes) => ("Some(LengthUnit::Bytes)", "BYTES", "bytes of UTF-8"),
            (Some(_), LengthUnit::Width) => ("Some(LengthUnit::Width)", "WIDTH", "width units (a CJK character counts 2)"),
        };
        let o = |v: Option<u32>| v.map(|v| format!("Some({v})")).unwrap_or_else(|| "None".into());
        let expr = format!(
            "StrRules {{ min_len: {}, max_len: {}, unit: {unit_expr}, encrypted: {}, plaintext_max_bytes: {}, format: {}, no_supplementary: {no_supp} }}",
            o(f.min_length),
            o(f.max_length),
            f.encrypted,
            o(f.plaintext_max_bytes),
            f.format.map(|x| format!("Some(Format::{})", format_variant(x))).unwrap_or_else(|| "None".into()),
        );
        let mut name = Vec::new();
        let mut words = Vec::new();
        match (f.min_length, f.max_length) {
            (None, None) => {}
            (a, b) => {
                name.push(format!("LEN_{}_TO_{}_{unit_name}", a.unwrap_or(0), b.map(|b| b.to_string()).unwrap_or_else(|| "ANY".into())));
                words.push(match (a, b) {
                    (Some(a), Some(b)) => format!("{a}–{b} {unit_words}"),
                    (Some(a), None) => format!("at least {a} {unit_words}"),
                    (None, Some(b)) => format!("at most {b} {unit_words}"),
                    (None, None) => unreachable!(),
                });
            }
        }
        if f.encrypted {
            name.push(format!("ENCRYPTED{}", f.plaintext_max_bytes.map(|b| format!("_{b}_BYTES")).unwrap_or_default()));
            words.push(match f.plaintext_max_bytes {
                Some(b) => format!("encrypted before sending, at most {b} bytes of plaintext"),
                None => "encrypted before sending".into(),
            });
        }
        if let Some(x) = f.format {
            name.push(format_variant(x).chars().fold(String::new(), |mut acc, c| {
                if c.is_ascii_uppercase() && !acc.is_empty() {
                    acc.push('_');
                }
                acc.push(c.to_ascii_uppercase());
                acc
            }));
            words.push(format_words(x).to_string());
        }
        if no_supp {
            name.push("NO_EMOJI".into());
            words.push("no 4-byte UTF-8 characters (emoji), which the platform refuses".into());
        }
        let name = if name.is_empty() { "TEXT".to_string() } else { name.join("_") };
        let doc = format!("String rule: {}.", words.join("; "));
        let mut rules = self.rules.borrow_mut();
        if let Some((other, _)) = rules.get(&name) {
            assert_eq!(other, &expr, "two rule sets named {name}");
        }
        rules.insert(name.clone(), (expr, doc));
        Some(format!("rules::{name}"))
    }

    fn validate_field(&self, out: &mut String, f: &Field, siblings: &[mendian_spec::Spanned<Field>]) {
        let name = rust_field(&f.name);
        let wire = lit(&f.name);
        let ty = f.ty.get_ref();
        let mut checks = String::new();
        // `v` is a reference to the present value.
        match ty {
            TypeExpr::String | TypeExpr::DateTime => {
                if let Some(rules) = self.str_rules(f) {
                    let _ = writeln!(checks, "validate::check_str(at, {wire}, v, &{rules})?;");
                }
                // A `|`-joined list in one string: its item count.
                if f.min_items.is_some() || f.max_items.is_some() {
                    let _ = writeln!(checks, "validate::check_items(at, {wire}, v.split('|').count(), {:?}, {:?})?;", f.min_items, f.max_items);
                }
            }
            TypeExpr::Int32 | TypeExpr::Int64 => {
                if f.minimum.is_some() || f.maximum.is_some() {
                    let _ = writeln!(checks, "validate::check_int(at, {wire}, i64::from(*v), {:?}, {:?})?;", f.minimum, f.maximum);
                }
            }
            TypeExpr::Float64 => {
                let _ = writeln!(checks, "validate::check_float(at, {wire}, *v, {:?}, {:?})?;", f.minimum, f.maximum);
            }
            TypeExpr::List(inner) => {
                if f.min_items.is_some() || f.max_items.is_some() {
                    let _ = writeln!(checks, "validate::check_items(at, {wire}, v.len(), {:?}, {:?})?;", f.min_items, f.max_items);
                }
                match inner.as_ref() {
                    TypeExpr::String | TypeExpr::DateTime => {
                        if let Some(rules) = self.str_rules(f) {
                            let _ = writeln!(
                                checks,
                                "for (i, item) in v.iter().enumerate() {{\n    validate::check_str(at, &format!(\"{}[{{i}}]\"), item, &{rules})?;\n}}",
                                f.name
                            );
                        }
                    }
                    _ if self.is_record(inner.leaf()) => {
                        let _ = writeln!(checks, "v.validate_at(&validate::join(at, {wire}))?;");
                    }
                    _ => {}
                }
            }
            TypeExpr::Named(_) if self.is_record(ty) => {
                let _ = writeln!(checks, "v.validate_at(&validate::join(at, {wire}))?;");
            }
            TypeExpr::Bytes if f.format == Some(Format::MediaFile) => {
                // The loader guarantees a sibling `type` field naming the media kind.
                let kind = siblings.iter().find(|s| s.name == "type").expect("checked by the spec loader");
                let kind = match kind.ty.get_ref() {
                    TypeExpr::Named(_) => "self.type_.wire_value()",
                    _ => "self.type_.as_str()",
                };
                let _ = writeln!(checks, "validate::check_media(at, {wire}, v, {kind})?;");
            }
            _ => {}
        }
        if checks.is_empty() {
            return;
        }
        if f.required {
            let _ = writeln!(out, "        {{\n            let v = &self.{name};\n{checks}        }}");
        } else {
            let _ = writeln!(out, "        if let Some(v) = &self.{name} {{\n{checks}        }}");
        }
    }

    /// Paths (`data/*/name`) of the encrypted string fields inside a response record.
    fn encrypted_paths(&self, record: &str, prefix: &str, out: &mut Vec<String>, depth: usize) {
        let Some(NamedType::Record(t)) = self.spec.lookup(record) else { return };
        if depth > 8 {
            return;
        }
        for f in &t.fields {
            let mut path = format!("{prefix}{}", f.name);
            let mut ty = f.ty.get_ref();
            while let TypeExpr::List(inner) = ty {
                path.push_str("/*");
                ty = inner;
            }
            match ty {
                TypeExpr::String if f.encrypted => out.push(path),
                TypeExpr::Named(n) => self.encrypted_paths(n, &format!("{path}/"), out, depth + 1),
                _ => {}
            }
        }
    }

    fn is_record(&self, ty: &TypeExpr) -> bool {
        match ty {
            TypeExpr::Named(n) => matches!(self.spec.lookup(n), Some(NamedType::Record(_))),
            _ => false,
        }
    }

    fn render_type(&self, s: &mut String, t: &TypeDef) -> Result<(), String> {
        let mut d = t.description.clone();
        for q in &t.quirks {
            d.push_str(&format!("\n\nQuirk: {q}"));
        }
        doc(s, &d);
        self.render_record(s, &t.name, &t.fields, RecordKind::Record, &[])
    }

    /// Whether a record of these fields has an all-empty `Default` (every required field is
    /// text, a number, a flag, a list or such a record; an enum has no natural default).
    fn defaultable(&self, fields: &[mendian_spec::Spanned<Field>], depth: usize) -> bool {
        fields.iter().all(|f| !f.required || self.type_defaultable(f.ty.get_ref(), depth))
    }

    fn type_defaultable(&self, ty: &TypeExpr, depth: usize) -> bool {
        match ty {
            TypeExpr::Named(n) => match self.spec.lookup(n) {
                Some(NamedType::Record(t)) => depth < 8 && self.defaultable(&t.fields, depth + 1),
                _ => false,
            },
            _ => true,
        }
    }

    fn render_record(&self, s: &mut String, name: &str, fields: &[mendian_spec::Spanned<Field>], kind: RecordKind, at_least_one_of: &[mendian_spec::Spanned<String>]) -> Result<(), String> {
        let secret = fields.iter().any(|f| f.secret);
        // A record holding a credential prints through its own redacting Debug and Display,
        // exported so Python str/repr, Kotlin toString and Swift description use them too.
        let debug = if secret { "" } else { "Debug, " };
        let default = if self.defaultable(fields, 0) { "Default, " } else { "" };
        let _ = writeln!(s, "#[derive({debug}Clone, {default}PartialEq, serde::Serialize, serde::Deserialize, uniffi::Record)]");
        if secret {
            s.push_str("#[uniffi::export(Debug, Display)]\n");
        }
        let _ = writeln!(s, "pub struct {name} {{");
        self.render_fields(s, fields)?;
        s.push_str("}\n\n");
        if secret {
            let _ = writeln!(s, "impl std::fmt::Debug for {name} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        f.debug_struct({})", lit(name));
            for fd in fields {
                let field = rust_field(&fd.name);
                if fd.secret && fd.required {
                    let _ = writeln!(s, "            .field({}, &crate::secret::Redacted)", lit(&field));
                } else if fd.secret {
                    let _ = writeln!(s, "            .field({}, crate::secret::shown(&self.{field}))", lit(&field));
                } else {
                    let _ = writeln!(s, "            .field({}, &self.{field})", lit(&field));
                }
            }
            s.push_str("            .finish()\n    }\n}\n\n");
            let _ = writeln!(s, "impl std::fmt::Display for {name} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        std::fmt::Debug::fmt(self, f)\n    }}\n}}\n");
        }
        if kind != RecordKind::Event {
            self.render_validate(s, name, fields, at_least_one_of);
        }
        Ok(())
    }

    fn render_request(&self, s: &mut String, ep: &Endpoint) -> Result<(), String> {
        let name = format!("{}Request", pascal_case(&ep.id));
        let mut d = format!("Inputs of {} — `{} {}`{}.\n\n{}", ep.title, ep.method.as_str(), ep.path, ep.api_name.as_ref().map(|a| format!(" (`{a}`)")).unwrap_or_default(), ep.summary.trim());
        if let Some(u) = &ep.doc_url {
            d.push_str(&format!("\n\nDocumentation: <{u}>"));
        }
        d.push_str(&self.source_documents(&ep.documents));
        match ep.modes.as_slice() {
            [] => {}
            [mendian_spec::Mode::Direct] => d.push_str("\n\nCallable by 直连商户 only: a call with a `sub_mchid` is refused before sending."),
            [mendian_spec::Mode::Partner] => d.push_str("\n\nCallable by 服务商 only: a call without a `sub_mchid` is refused before sending."),
            _ => d.push_str("\n\nCallable by 直连商户 (without `sub_mchid`) and by 服务商 (with `sub_mchid`, or the client's configured one)."),
        }
        if !ep.at_least_one_of.is_empty() {
            let names: Vec<String> = ep.at_least_one_of.iter().map(|n| format!("`{}`", n.get_ref())).collect();
            d.push_str(&format!("\n\nAt least one of {} must be set (checked before sending).", names.join(", ")));
        }
        for q in &ep.quirks {
            d.push_str(&format!("\n\nQuirk: {q}"));
        }
        doc(s, &d);
        self.render_record(s, &name, &ep.fields, RecordKind::Request, &ep.at_least_one_of)?;
        let response = ep.response.as_ref().map(|r| r.get_ref().clone()).unwrap_or_else(|| "()".into());
        let _ = writeln!(
            s,
            "impl crate::schema::Request for {name} {{\n    type Response = {response};\n    fn descriptor() -> &'static EndpointDescriptor {{\n        &{}\n    }}\n{}}}\n",
            const_name(&ep.id),
            multipart_parts(ep)
        );
        Ok(())
    }

    /// The typed method of the platform client for this endpoint, for platforms whose
    /// runtime client exists.
    fn render_client_method(&self, s: &mut String, ep: &Endpoint, request: &str, response: &str) {
        let (client, extra_doc, extra_args, call) = match self.fam.family.platform {
            Platform::Top => (
                "TopClient",
                "`session` overrides the client's session for this call.",
                ", session: Option<String>",
                "self.call(&request, session.as_deref()).await",
            ),
            // Token endpoints feed the token providers; they are not called with a token.
            Platform::Wxa if ep.envelope.as_ref().is_some_and(|e| e.get_ref() == "token") => return,
            Platform::Wxa => (
                "WxaClient",
                "The access token is added and refreshed for you (one retry after 40001/40014/42001).",
                "",
                "self.call(&request).await",
            ),
            Platform::Wechatpay => (
                "WechatpayClient",
                "Sensitive fields are encrypted for you and decrypted in the answer; the answer's signature is verified.",
                "",
                "self.call(&request).await",
            ),
        };
        let api = ep.api_name.as_deref().unwrap_or(&ep.path);
        let retry = match ep.retry {
            Retry::Never => "Never retried automatically: it is not idempotent.",
            Retry::Transient => "Retried automatically on transient failures.",
        };
        let text = format!("{} — calls `{api}`.\n\n{}\n\n{extra_doc} {retry}", ep.title, ep.summary.trim());
        let args = format!("request: {request}{extra_args}");
        let forward = if extra_args.contains("session") { "request, session" } else { "request" };
        let _ = writeln!(s, "impl {client} {{");
        doc(s, &text);
        let _ = writeln!(s, "pub async fn {}(&self, {args}) -> Result<{response}, MendianError> {{\n    {call}\n}}\n}}\n", ep.id);
        let _ = writeln!(s, "#[uniffi::export]\nimpl {client} {{");
        self.render_foreign_async(s, &ep.id, &text, &args, forward, response);
        self.render_blocking(s, &ep.id, &text, &args, forward, response);
        s.push_str("}\n\n");
        if let Some(p) = &ep.paging {
            self.render_pager(s, ep, p.get_ref(), client, extra_args, request, response);
        }
    }

    /// The call that walks every page of a paged endpoint (its `[endpoints.paging]` table),
    /// through `runtime::pager`. It takes the request only when the request has inputs
    /// besides the paging fields.
    #[allow(clippy::too_many_arguments)]
    fn render_pager(&self, s: &mut String, ep: &Endpoint, p: &Paging, client: &str, extra_args: &str, request: &str, response: &str) {
        let path = |dotted: &str| self.spec.field_path(response, dotted).expect("paging paths are checked by the loader");
        let field = |name: &str| ep.fields.iter().find(|f| f.name == name).map(|f| f.get_ref()).expect("checked by the loader");
        let paging_fields: Vec<&str> = [&p.offset, &p.limit, &p.page].into_iter().flatten().map(String::as_str).collect();
        let takes_request = ep.fields.iter().any(|f| !paging_fields.contains(&f.name.as_str()));
        // The page's items: follow the path, through `Option`s, to a list or a page text.
        let items_path = path(&p.items);
        let (mut expr, mut opt) = ("page".to_string(), false);
        for f in &items_path {
            let name = rust_field(&f.name);
            expr = match (opt, f.required) {
                (false, _) => format!("{expr}.{name}"),
                (true, true) => format!("{expr}.map(|x| x.{name})"),
                (true, false) => format!("{expr}.and_then(|x| x.{name})"),
            };
            opt = opt || !f.required;
        }
        let last = items_path.last().expect("a path has a field");
        let (items, item_ty) = match last.ty.get_ref() {
            TypeExpr::List(inner) => (if opt { format!("{expr}.unwrap_or_default()") } else { expr }, rust_type(inner)),
            _ => (format!("pager::text_page({})", if opt { expr } else { format!("Some({expr})") }), "String".to_string()),
        };
        let total = match &p.total {
            None => "None".to_string(),
            Some(t) => {
                let (mut expr, mut opt) = ("page".to_string(), false);
                for f in path(t) {
                    let name = rust_field(&f.name);
                    expr = match (opt, f.required) {
                        (false, _) => format!("{expr}.{name}"),
                        (true, true) => format!("{expr}.as_ref().map(|x| x.{name})"),
                        (true, false) => format!("{expr}.as_ref().and_then(|x| x.{name})"),
                    };
                    opt = opt || !f.required;
                }
                if opt { format!("{expr}.map(i64::from)") } else { format!("Some(i64::from({expr}))") }
            }
        };
        let call = if extra_args.contains("session") { "self.call(&request, session).await?" } else { "self.call(&request).await?" };
        // Sets a request field from the walk's i64, as the field's own integer type.
        let set = |name: &str, var: &str| {
            let f = field(name);
            let value = format!("pager::narrow({}, {var})?", lit(name));
            format!("request.{} = {};", rust_field(name), if f.required { value } else { format!("Some({value})") })
        };
        let read = |name: &str| {
            let f = field(name);
            let r = rust_field(name);
            match (takes_request, f.required) {
                (false, _) => None,
                (true, true) => Some(format!("Some(i64::from(request.{r}))")),
                (true, false) => Some(format!("request.{r}.map(i64::from)")),
            }
        };
        let mut body = String::new();
        if extra_args.contains("session") {
            body.push_str("let session = session.as_deref();\n");
        }
        let base = if takes_request { "request.clone()".to_string() } else { format!("{request}::default()") };
        let what = lit(&ep.id);
        let (walk, how) = if let (Some(o), Some(l)) = (&p.offset, &p.limit) {
            let max = field(l).maximum.expect("checked by the loader");
            let start = read(o).map(|r| format!("{r}.unwrap_or(0)")).unwrap_or_else(|| "0".into());
            let size = read(l).map(|r| format!("{r}.filter(|l| *l > 0).map_or({max}, |l| l.min({max}))")).unwrap_or_else(|| max.to_string());
            let _ = writeln!(body, "let start = {start};\nlet size = {size};");
            (
                format!(
                    "pager::by_offset({what}, start, size, |offset, limit| {{\n    let mut request = {base};\n    async move {{\n        {}\n        {}\n        let page = {call};\n        let total = {total};\n        Ok(pager::Page {{ items: {items}, total }})\n    }}\n}})\n.await",
                    set(o, "offset"),
                    set(l, "limit")
                ),
                format!(
                    "Reads `{o}` from {} in pages of {} `{l}` items (at most {max}), until a page comes back short{}.",
                    if takes_request { format!("the request's `{o}` (default 0)") } else { "0".into() },
                    if takes_request { format!("the request's `{l}` or") } else { "".into() },
                    if p.total.is_some() { " or the answer's total was read" } else { "" }
                ),
            )
        } else {
            let pg = p.page.as_deref().expect("checked by the loader");
            let first = p.first_page.unwrap_or(1);
            let start = read(pg).map(|r| format!("{r}.unwrap_or({first})")).unwrap_or_else(|| first.to_string());
            let _ = writeln!(body, "let first = {start};");
            (
                format!(
                    "pager::by_number({what}, first, {}, |number| {{\n    let mut request = {base};\n    async move {{\n        {}\n        let page = {call};\n        let total = {total};\n        Ok(pager::Page {{ items: {items}, total }})\n    }}\n}})\n.await",
                    match &p.end_code { Some(c) => format!("Some({})", lit(c)), None => "None".into() },
                    set(pg, "number")
                ),
                format!(
                    "Reads pages numbered from {}{}, until a page comes back empty{}.",
                    if takes_request { format!("the request's `{pg}` (default {first})") } else { first.to_string() },
                    if matches!(last.ty.get_ref(), TypeExpr::List(_)) { "" } else { ", one page text per page" },
                    p.end_code.as_ref().map(|c| format!(" or the platform answers {c} (past the last page; not an error)")).unwrap_or_default()
                ),
            )
        };
        body.push_str(&walk);
        let full = format!(
            "{} — every item: walks `{}` page by page.\n\n{how} Stops with `Decode` after {{MAX_PAGES}} pages or {{MAX_ITEMS}} items (see `runtime::pager`), so a server that ignores the paging cannot make it loop.",
            ep.title, ep.id
        )
        .replace("{MAX_PAGES}", "10 000")
        .replace("{MAX_ITEMS}", "1 000 000");
        let args = if takes_request { format!("request: {request}{extra_args}") } else { extra_args.trim_start_matches(", ").to_string() };
        let all = format!("Vec<{item_ty}>");
        let _ = writeln!(s, "impl {client} {{");
        doc(s, &full);
        let _ = writeln!(s, "pub async fn {}(&self, {args}) -> Result<{all}, MendianError> {{\n{body}\n}}\n}}\n", p.all);
        let forward = match (takes_request, extra_args.contains("session")) {
            (true, true) => "request, session",
            (true, false) => "request",
            (false, true) => "session",
            (false, false) => "",
        };
        let _ = writeln!(s, "#[uniffi::export]\nimpl {client} {{");
        self.render_foreign_async(s, &p.all, &full, &args, forward, &all);
        let text = format!("{} — every item: walks `{}` page by page.\n\n{how}", ep.title, ep.id);
        self.render_blocking(s, &p.all, &text, &args, forward, &all);
        s.push_str("}\n\n");
    }

    /// The async method Kotlin, Swift and Python see under the client method's name: the same
    /// future, in the context of the SDK's shared runtime (`runtime::shared::run_call`), whose
    /// thread wakes it when its answer arrives; a forked child gets a working runtime.
    /// Rust callers await the client method itself (hidden from rustdoc).
    fn render_foreign_async(&self, s: &mut String, name: &str, text: &str, args: &str, forward: &str, response: &str) {
        doc(s, text);
        let default = if args.contains("session") { ", default(session)" } else { "" };
        let _ = writeln!(s, "#[doc(hidden)]\n#[uniffi::method(name = \"{name}\"{default})]");
        let args = if args.is_empty() { String::new() } else { format!(", {args}") };
        let _ = writeln!(
            s,
            "pub async fn {name}_foreign(self: Arc<Self>{args}) -> Result<{response}, MendianError> {{\n    crate::runtime::shared::run_call(async move {{ self.{name}({forward}).await }}).await\n}}\n"
        );
    }

    /// The blocking twin of an async client method: same arguments, same future, run on
    /// the calling thread (`runtime::blocking`). Python gets it under the plain name (see
    /// the renames in `uniffi.toml`); Kotlin and Swift as `…Blocking`.
    fn render_blocking(&self, s: &mut String, name: &str, text: &str, args: &str, forward: &str, response: &str) {
        doc(
            s,
            &format!("{text}\n\nBlocking form of [`Self::{name}`]: waits on the calling thread (within the client's `timeout_ms` and `call_deadline_ms`); for code without an event loop. Fails with `InvalidArgument` when called inside a Tokio runtime."),
        );
        if args.contains("session") {
            s.push_str("#[uniffi::method(default(session))]\n");
        }
        let args = if args.is_empty() { String::new() } else { format!(", {args}") };
        let _ = writeln!(
            s,
            "pub fn {name}_blocking(&self{args}) -> Result<{response}, MendianError> {{\n    crate::runtime::blocking::run(self.{name}({forward}))\n}}"
        );
        self.blocking.borrow_mut().push((self.client_name().to_string(), name.to_string()));
    }

    fn client_name(&self) -> &'static str {
        match self.fam.family.platform {
            Platform::Top => "TopClient",
            Platform::Wxa => "WxaClient",
            Platform::Wechatpay => "WechatpayClient",
        }
    }

    /// "Read from: …" for the snapshots an endpoint or event names (path, version line, date).
    fn source_documents(&self, ids: &[mendian_spec::Spanned<String>]) -> String {
        let mut out = String::new();
        for id in ids {
            let Some(doc) = self.fam.family.documents.iter().find(|d| d.id == **id) else { continue };
            let version = doc.version.as_ref().map(|v| format!(", {v}")).unwrap_or_default();
            out.push_str(&format!("\n\nRead from: {} (`spec/{}`{version}; snapshot of {}).", doc.title, doc.path, doc.snapshot_date));
        }
        out
    }

    fn render_event(&self, s: &mut String, ev: &Event) -> Result<(), String> {
        let mut d = format!("{} — the `{}` event (`MsgType` `{}`).\n\n{}", ev.title, ev.name, ev.msg_type, ev.description.trim());
        d.push_str(&self.source_documents(&ev.documents));
        for q in &ev.quirks {
            d.push_str(&format!("\n\nQuirk: {q}"));
        }
        doc(s, &d);
        self.render_record(s, &ev.record, &ev.fields, RecordKind::Event, &[])
    }

    /// The family's event enum (one variant per documented event, and `Other`) and the
    /// dispatch from an event name to its record, so a new event in the spec is typed
    /// and dispatched without hand-written code.
    fn render_event_enum(&self, s: &mut String) {
        let name = format!("{}Event", pascal_case(&self.fam.family.name));
        let variant = |ev: &Event| ev.record.strip_suffix("Event").unwrap_or(&ev.record).to_string();
        let _ = writeln!(s, "/// A message pushed to the merchant's server: one of the documented events, or anything else.\n#[derive(Debug, Clone, PartialEq, uniffi::Enum)]\npub enum {name} {{");
        for ev in &self.fam.events {
            doc(s, &format!("`{}`: {}", ev.name, ev.title));
            let _ = writeln!(s, "    {} {{\n        /// The event's fields.\n        event: {},\n    }},", variant(ev), ev.record);
        }
        s.push_str("    /// Any other message or event: the top-level elements as text, and the raw XML.\n    Other {\n        /// `MsgType` (`event`, `text`, …); empty when the message has none.\n        msg_type: String,\n        /// `Event`, when present.\n        event: Option<String>,\n        /// Every child of `<xml>`: element name → its text (CDATA and entities resolved), or\n        /// for an element with nested elements, its inner XML as sent.\n        fields: std::collections::HashMap<String, String>,\n        /// The whole plaintext XML.\n        raw_xml: String,\n    },\n}\n\n");
        s.push_str("/// Decodes the record of one event from a push; the push receiver implements it over the\n/// parsed message.\npub trait EventDecoder {\n    /// The push decoded as `T`, the record of the event named `event`.\n    fn decode<T: serde::de::DeserializeOwned>(&self, event: &str) -> Result<T, MendianError>;\n}\n\n");
        let _ = writeln!(s, "/// The documented event named `event` (compared case-insensitively), decoded through\n/// `decoder`; `None` when the spec documents no such event.\npub fn decode_event(event: &str, decoder: &impl EventDecoder) -> Option<Result<{name}, MendianError>> {{\n    Some(match event.to_ascii_lowercase().as_str() {{");
        for ev in &self.fam.events {
            let _ = writeln!(s, "        {n} => decoder.decode({n}).map(|event| {name}::{} {{ event }}),", variant(ev), n = lit(&ev.name));
        }
        s.push_str("        _ => return None,\n    })\n}\n\n");
        let _ = writeln!(s, "impl {name} {{\n    /// The event's name (`Event`; `None` for a message without one) and its fields as JSON:\n    /// a documented event's record by wire name, or every top-level element of any other.\n    pub fn name_and_fields(&self) -> (Option<String>, serde_json::Value) {{\n        match self {{");
        for ev in &self.fam.events {
            let _ = writeln!(s, "            {name}::{} {{ event }} => (Some({}.to_string()), serde_json::to_value(event).unwrap_or_default()),", variant(ev), lit(&ev.name));
        }
        let _ = writeln!(s, "            {name}::Other {{ event, fields, .. }} => (event.clone(), serde_json::to_value(fields).unwrap_or_default()),\n        }}\n    }}\n}}");
    }

    fn error_entry(&self, e: &mendian_spec::ErrorCode) -> String {
        format!(
            "ErrorEntry {{ status: {}, code: {}, sub_code: {}, description: {}, remedy: {}, remedy_inferred: {}, retryable: {} }}",
            e.status.map(|s| format!("Some({s})")).unwrap_or_else(|| "None".into()),
            lit(&e.code),
            opt_lit(e.sub_code.as_deref()),
            lit(&e.description),
            opt_lit(e.remedy.as_deref()),
            e.remedy_inferred,
            e.retryable
        )
    }

    fn render_errors(&self, s: &mut String) {
        s.push_str("/// Error codes any endpoint of this family may answer.\npub static FAMILY_ERRORS: &[ErrorEntry] = &[\n");
        for e in &self.fam.errors {
            let _ = writeln!(s, "    {},", self.error_entry(e));
        }
        s.push_str("];\n\n");
    }

    fn render_error_table(&self, s: &mut String, ep: &Endpoint) {
        let c = const_name(&ep.id);
        let _ = writeln!(s, "/// Error codes documented for {}.\npub static {c}_ERRORS: &[ErrorEntry] = &[", doc_text(&ep.title));
        for e in &ep.errors {
            let _ = writeln!(s, "    {},", self.error_entry(e));
        }
        s.push_str("];\n\n");
    }

    fn render_descriptor(&self, s: &mut String, ep: &Endpoint) {
        let c = const_name(&ep.id);
        let envelope = ep
            .envelope
            .as_ref()
            .map(|e| e.get_ref().clone())
            .or_else(|| self.fam.family.default_envelope.as_ref().map(|e| e.get_ref().clone()));
        let _ = writeln!(s, "/// {} — `{} {}`.\npub static {c}: EndpointDescriptor = EndpointDescriptor {{", doc_text(&ep.title), ep.method.as_str(), ep.path);
        let _ = writeln!(s, "    id: {},\n    platform: {},\n    title: {},\n    method: {},\n    path: {},", lit(&ep.id), self.platform(), lit(&ep.title), lit(ep.method.as_str()), lit(&ep.path));
        let _ = writeln!(s, "    api_name: {},\n    success_status: {},", opt_lit(ep.api_name.as_deref()), ep.success_status);
        let _ = writeln!(s, "    retry: {},", match ep.retry { Retry::Never => "Retry::Never", Retry::Transient => "Retry::Transient" });
        let modes: Vec<&str> = ep
            .modes
            .iter()
            .map(|m| match m {
                mendian_spec::Mode::Direct => "MerchantMode::Direct",
                mendian_spec::Mode::Partner => "MerchantMode::Partner",
            })
            .collect();
        let _ = writeln!(s, "    modes: &[{}],", modes.join(", "));
        let envelope = envelope.map(|e| format!("Some(Envelope::{})", pascal_case(&e))).unwrap_or_else(|| "None".into());
        let _ = writeln!(s, "    envelope: {envelope},\n    response: {},", opt_lit(ep.response.as_ref().map(|r| r.get_ref().as_str())));
        s.push_str("    fields: &[\n");
        for f in &ep.fields {
            let loc = match f.location.expect("checked by the loader") {
                Location::Path => "Path",
                Location::Query => "Query",
                Location::Body => "Body",
                Location::Form => "Form",
                Location::Multipart => "Multipart",
                Location::Header => "Header",
            };
            let enc = if f.encoding == Some(Encoding::JsonString) { "JsonString" } else { "Plain" };
            let _ = writeln!(s, "        FieldDescriptor {{ name: {}, location: Location::{loc}, required: {}, encrypted: {}, encoding: Encoding::{enc} }},", lit(&f.name), f.required, f.encrypted);
        }
        s.push_str("    ],\n");
        let mut paths = Vec::new();
        if let Some(r) = &ep.response {
            self.encrypted_paths(r.get_ref(), "", &mut paths, 0);
        }
        let paths = paths.iter().map(|p| lit(p)).collect::<Vec<_>>().join(", ");
        let _ = writeln!(s, "    encrypted_response_paths: &[{paths}],");
        // Required lists of the response decode as empty when absent inside nested records
        // (platforms omit empty lists there); at the top level their absence means the
        // answer is not the documented one.
        let lists = match ep.response.as_ref().and_then(|r| self.spec.lookup(r.get_ref())) {
            Some(NamedType::Record(t)) => t
                .fields
                .iter()
                .filter(|f| f.required && matches!(f.ty.get_ref(), TypeExpr::List(_)))
                .map(|f| lit(&f.name))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let _ = writeln!(s, "    required_response_lists: &[{}],", lists.join(", "));
        let _ = writeln!(s, "    errors: {c}_ERRORS,\n    family_errors: FAMILY_ERRORS,\n    doc_url: {},\n}};\n", opt_lit(ep.doc_url.as_deref()));
    }
}

fn format_variant(f: Format) -> &'static str {
    match f {
        Format::Url => "Url",
        Format::HourRange => "HourRange",
        Format::PhoneList => "PhoneList",
        Format::CategoryPair => "CategoryPair",
        Format::PipeList => "PipeList",
        Format::DateTime => "DateTime",
        Format::DecimalString => "DecimalString",
        Format::Digits => "Digits",
        Format::MediaFile => unreachable!("media_file is a bytes format, not a string rule"),
    }
}

/// The `Request::multipart` override of a request with bytes fields (empty otherwise).
fn multipart_parts(ep: &Endpoint) -> String {
    let parts: Vec<String> = ep
        .fields
        .iter()
        .filter(|f| *f.ty.get_ref() == TypeExpr::Bytes)
        .map(|f| {
            let name = rust_field(&f.name);
            if f.required {
                format!("(\"{}\", self.{name}.as_slice())", f.name)
            } else {
                format!("(\"{}\", self.{name}.as_deref().unwrap_or_default())", f.name)
            }
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("    fn multipart(&self) -> Vec<(&'static str, &[u8])> {{\n        vec![{}]\n    }}\n", parts.join(", "))
}

fn format_words(f: Format) -> &'static str {
    match f {
        Format::Url => "http(s) URL",
        Format::HourRange => "`HH:MM-HH:MM`",
        Format::PhoneList => "telephone numbers separated by `;`",
        Format::CategoryPair => "`一级:二级`",
        Format::PipeList => "values separated by `|`",
        Format::DateTime => "`yyyy-MM-dd HH:mm:ss`",
        Format::DecimalString => "a decimal number as text",
        Format::Digits => "decimal digits",
        Format::MediaFile => "a media file whose format and size suit its `type`",
    }
}

/// Runs codegen: writes the files, or with `check` compares and lists what is stale.
/// Every `.rs` file under `root/dir`, as paths relative to `root`.
fn rust_files_under(root: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else { return out };
    for e in entries.flatten() {
        let rel = dir.join(e.file_name());
        if e.path().is_dir() {
            out.extend(rust_files_under(root, &rel));
        } else if rel.extension().is_some_and(|x| x == "rs") {
            out.push(rel);
        }
    }
    out.sort();
    out
}

pub fn run(root: &Path, check: bool) -> Result<(), String> {
    let spec = mendian_spec::load_dir(&root.join("spec")).map_err(|e| e.to_string())?;
    let files = generate(root, &spec)?;
    let wanted: BTreeMap<PathBuf, String> = files.into_iter().collect();
    let mut stale = Vec::new();
    for (rel, content) in &wanted {
        let path = root.join(rel);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(content.as_str()) {
            if check {
                stale.push(format!("{} ({})", rel.display(), if current.is_some() { "differs" } else { "missing" }));
            } else {
                std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(|e| e.to_string())?;
                std::fs::write(&path, content).map_err(|e| format!("{}: {e}", path.display()))?;
                println!("updated {}", rel.display());
            }
        }
    }
    // Files in the generated directory that the spec no longer produces.
    for dir in [OUT_DIR, FFI_OUT_DIR, crate::pyaccel::OUT_DIR] {
        for rel in rust_files_under(root, Path::new(dir)) {
            if !wanted.contains_key(&rel) {
                if check {
                    stale.push(format!("{} (no longer generated)", rel.display()));
                } else {
                    std::fs::remove_file(root.join(&rel)).map_err(|e| e.to_string())?;
                    println!("removed {}", rel.display());
                }
            }
        }
    }
    if !stale.is_empty() {
        return Err(format!(
            "generated code is stale relative to spec/:\n  {}\nrun `cargo xtask codegen` and commit the result",
            stale.join("\n  ")
        ));
    }
    if check {
        println!("codegen: {} generated files are up to date", wanted.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            if e.path().is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            } else if e.path().is_dir() {
                copy_dir(&e.path(), &to.join(e.file_name()));
            }
        }
    }

    /// A scratch copy of the parts of the workspace codegen reads and writes.
    fn scratch_root(name: &str) -> PathBuf {
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let tmp = std::env::temp_dir().join(format!("mendian-codegen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        copy_dir(&real.join("spec"), &tmp.join("spec"));
        copy_dir(&real.join(OUT_DIR), &tmp.join(OUT_DIR));
        copy_dir(&real.join(FFI_OUT_DIR), &tmp.join(FFI_OUT_DIR));
        copy_dir(&real.join(crate::pyaccel::OUT_DIR), &tmp.join(crate::pyaccel::OUT_DIR));
        std::fs::copy(real.join("rustfmt.toml"), tmp.join("rustfmt.toml")).unwrap();
        std::fs::copy(real.join(UNIFFI_TOML), tmp.join(UNIFFI_TOML)).unwrap();
        // The hand-written FFI files: their blocking methods feed the Python renames.
        let ffi = real.join("crates/mendian/src/ffi");
        for entry in std::fs::read_dir(&ffi).unwrap().flatten() {
            if entry.path().extension().is_some_and(|x| x == "rs") {
                std::fs::copy(entry.path(), tmp.join("crates/mendian/src/ffi").join(entry.file_name())).unwrap();
            }
        }
        tmp
    }

    #[test]
    fn committed_code_is_fresh_and_generation_is_deterministic() {
        let root = scratch_root("fresh");
        run(&root, true).expect("committed generated code matches spec/");
        // Generating again writes nothing new.
        let before = std::fs::read_to_string(root.join(OUT_DIR).join("wxa/requests.rs")).unwrap();
        run(&root, false).unwrap();
        assert_eq!(before, std::fs::read_to_string(root.join(OUT_DIR).join("wxa/requests.rs")).unwrap());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn check_catches_a_spec_edit_that_was_not_regenerated() {
        let root = scratch_root("stale");
        let spec_path = root.join("spec/wxa.toml");
        let text = std::fs::read_to_string(&spec_path).unwrap();
        // Change the nickname limit (4–30 wide) to 4–40.
        assert!(text.contains("max_length = 30"), "spec/wxa.toml documents nickname's 30 limit");
        std::fs::write(&spec_path, text.replacen("max_length = 30", "max_length = 40", 1)).unwrap();

        let err = run(&root, true).unwrap_err();
        assert!(err.contains("crates/mendian/src/generated/wxa/") && err.contains("(differs)"), "{err}");
        assert!(!err.contains("wechatpay"), "only the edited family is stale: {err}");

        run(&root, false).unwrap();
        let generated: String = rust_files_under(&root, &Path::new(OUT_DIR).join("wxa"))
            .iter()
            .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
            .collect();
        assert!(generated.contains("max_len: Some(40)"), "the new limit reached the validation code");
        run(&root, true).expect("fresh after regenerating");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn check_names_files_that_are_no_longer_generated() {
        let root = scratch_root("extra");
        std::fs::write(root.join(OUT_DIR).join("wxa").join("old_file.rs"), "// stale\n").unwrap();
        let err = run(&root, true).unwrap_err();
        assert!(err.contains("old_file.rs (no longer generated)"), "{err}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn wire_names_become_rust_identifiers() {
        assert_eq!(rust_field("ToUserName"), "to_user_name");
        assert_eq!(rust_field("CreateTime"), "create_time");
        assert_eq!(rust_field("sosomap_poi_uid"), "sosomap_poi_uid");
        assert_eq!(rust_field("type"), "type_");
        assert_eq!(rust_field("poiid"), "poiid");
        assert_eq!(rust_field("MsgType"), "msg_type");
    }
}
