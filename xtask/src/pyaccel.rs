//! The Python accelerator's generated half (`crates/mendian/src/python/generated/`), written
//! by `cargo xtask codegen` from the same spec as the rest: for every record and enum, how
//! it is read from and built as the UniFFI-generated Python class; for every endpoint, the
//! blocking and asyncio functions that the Python package puts in place of the UniFFI
//! methods of the same name; and the tables the package and its self-check read.

use std::fmt::Write as _;

use mendian_spec::{pascal_case, EnumDef, Field, Platform, Spanned, SpecFile};

use crate::codegen::{header, rust_field, rust_type};

/// Where the accelerator's generated files go, relative to the workspace root.
pub const OUT_DIR: &str = "crates/mendian/src/python/generated";

/// `StoreAuditStatus` → `STORE_AUDIT_STATUS`; `InReview` → `IN_REVIEW`: UniFFI's Python name
/// of a variant (and, with a `CLASS_` prefix, the name of a class's static here).
pub fn shouty(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut s = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower) {
                s.push('_');
            }
        }
        s.push(c.to_ascii_uppercase());
    }
    s
}

/// UniFFI's Python name of a record field: its Rust name without the `_` that escapes a Rust
/// keyword (`type_` → `type`), with one when it is a Python keyword (`from` → `from_`).
fn python_attr(rust: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
        "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    ];
    let base = rust.trim_end_matches('_');
    if KEYWORDS.contains(&base) {
        format!("{base}_")
    } else {
        base.to_string()
    }
}

/// The blocking and asyncio functions of the client method `id`, which takes `request`
/// (when `Some`, of that record type) and a TOP `session`; returns the functions' base name.
fn render_call(s: &mut String, family: &str, client: &str, id: &str, request: Option<&str>, session: bool) -> String {
    let mut sig = Vec::new();
    let mut args = String::new();
    let mut forward = Vec::new();
    let mut lower = format!("    let client = call::client::<{client}>(client, &CLASS_{})?;\n", shouty(client));
    if let Some(request) = request {
        sig.push("request");
        args.push_str(", request: &Bound<'_, PyAny>");
        forward.push("request");
        let _ = writeln!(lower, "    let request = {request}::from_py(request).map_err(|e| at(py, intern!(py, \"request\").as_any(), e))?;");
    }
    if session {
        sig.push("session=None");
        args.push_str(", session: Option<&Bound<'_, PyAny>>");
        forward.push("session");
        lower.push_str("    let session = session.map(Option::<String>::from_py).transpose().map(Option::flatten).map_err(|e| at(py, intern!(py, \"session\").as_any(), e))?;\n");
    }
    let sig = sig.iter().map(|a| format!(", {a}")).collect::<String>();
    let forward = forward.join(", ");
    let fname = format!("{family}_{id}");
    let _ = writeln!(
        s,
        "/// `{client}.{id}`: blocking, on the caller's thread with the GIL released.\n#[pyfunction]\n#[pyo3(signature = (client{sig}))]\nfn {fname}(py: Python<'_>, client: &Bound<'_, PyAny>{args}) -> PyResult<Py<PyAny>> {{\n{lower}    call::blocking(py, move || crate::runtime::blocking::run(client.{id}({forward})))\n}}\n"
    );
    let _ = writeln!(
        s,
        "/// `{client}.{id}_async`: started by `call::start` (on the accelerator's I/O thread, or on the loop's own under `mendian.new_event_loop()`); returns the future (`python::pending`) its outcome resolves on `event_loop` (through `waker`, its queue, when it has one).\n#[pyfunction]\n#[pyo3(signature = (client, event_loop, waker{sig}))]\nfn {fname}_async(\n    py: Python<'_>,\n    client: &Bound<'_, PyAny>,\n    event_loop: Bound<'_, PyAny>,\n    waker: Option<Bound<'_, Waker>>{args},\n) -> PyResult<Py<Pending>> {{\n{lower}    call::start(py, event_loop, waker, async move {{ client.{id}({forward}).await }})\n}}\n"
    );
    fname
}

/// One family's file.
pub fn render_family(source: &str, fam: &SpecFile) -> String {
    let f = &fam.family;
    let (client, client_path) = match f.platform {
        Platform::Top => ("TopClient", "crate::top::TopClient"),
        Platform::Wechatpay => ("WechatpayClient", "crate::wechatpay::WechatpayClient"),
        Platform::Wxa => ("WxaClient", "crate::wxa::WxaClient"),
    };
    let mut s = header(&format!("spec/{source}"));
    let _ = writeln!(
        s,
        "//! The Python accelerator for {}: its records and enums read from and built as the\n//! UniFFI-generated Python classes, and one blocking and one asyncio function per endpoint.\n",
        f.name
    );
    s.push_str("use pyo3::intern;\nuse pyo3::prelude::*;\n\n");
    let _ = writeln!(s, "use crate::generated::{}::*;", f.name);
    s.push_str("use crate::python::call;\nuse crate::python::convert::{at, field, Class, FromPy, ListItem, ToPy};\nuse crate::python::pending::Pending;\nuse crate::python::waker::Waker;\n");
    let _ = writeln!(s, "use {client_path};\n");
    let _ = writeln!(s, "static CLASS_{}: Class = Class::new({client:?});\n", shouty(client));

    let mut records: Vec<(String, Vec<String>)> = Vec::new();
    let mut variants: Vec<String> = Vec::new();
    for e in &fam.enums {
        render_enum(&mut s, e, &mut variants);
    }
    for t in &fam.types {
        render_record(&mut s, &t.name, &t.fields, &mut records);
    }
    let mut methods = Vec::new();
    let mut validators = Vec::new();
    for ep in &fam.endpoints {
        let request = format!("{}Request", pascal_case(&ep.id));
        render_record(&mut s, &request, &ep.fields, &mut records);
        let id = &ep.id;
        let validator = format!("{}_validate_{id}", f.name);
        let _ = writeln!(
            s,
            "/// `validate_{id}_request`: the request's checks, nothing sent.\n#[pyfunction]\nfn {validator}(py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<()> {{\n    let request = {request}::from_py(request).map_err(|e| at(py, intern!(py, \"request\").as_any(), e))?;\n    crate::schema::Validate::validate(&request).map_err(|e| call::error(py, e))\n}}\n"
        );
        validators.push((format!("validate_{id}_request"), validator));
        // Token endpoints feed the token providers; the client has no method for them.
        if f.platform == Platform::Wxa && ep.envelope.as_ref().is_some_and(|e| e.get_ref() == "token") {
            continue;
        }
        let session = f.platform == Platform::Top;
        methods.push((client, ep.id.clone(), render_call(&mut s, &f.name, client, &ep.id, Some(&request), session)));
        // The walk over every page, where the endpoint pages.
        if let Some(p) = &ep.paging {
            let p = p.get_ref();
            let paging: Vec<&str> = [&p.offset, &p.limit, &p.page].into_iter().flatten().map(String::as_str).collect();
            let takes_request = ep.fields.iter().any(|fd| !paging.contains(&fd.name.as_str()));
            let request = takes_request.then_some(request.as_str());
            methods.push((client, p.all.clone(), render_call(&mut s, &f.name, client, &p.all, request, session)));
        }
    }

    s.push_str("/// Adds this family's functions to the module.\npub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {\n");
    for (_, _, fname) in &methods {
        let _ = writeln!(s, "    m.add_function(wrap_pyfunction!({fname}, m)?)?;\n    m.add_function(wrap_pyfunction!({fname}_async, m)?)?;");
    }
    for (_, validator) in &validators {
        let _ = writeln!(s, "    m.add_function(wrap_pyfunction!({validator}, m)?)?;");
    }
    s.push_str("    Ok(())\n}\n\n");
    s.push_str("/// (function of the bindings, function here): each validation function replaced.\npub(crate) const VALIDATORS: &[(&str, &str)] = &[\n");
    for (name, validator) in &validators {
        let _ = writeln!(s, "    ({name:?}, {validator:?}),");
    }
    s.push_str("];\n\n");
    s.push_str("/// (class, method, function): each method of the bindings this family's functions replace;\n/// the asyncio form is `<method>_async` → `<function>_async`.\npub(crate) const METHODS: &[(&str, &str, &str)] = &[\n");
    for (client, id, fname) in &methods {
        let _ = writeln!(s, "    ({client:?}, {id:?}, {fname:?}),");
    }
    s.push_str("];\n\n/// Each record class with the attribute names the accelerator reads and writes.\npub(crate) static RECORDS: &[(&Class, &[&str])] = &[\n");
    for (name, fields) in &records {
        let list: Vec<String> = fields.iter().map(|f| format!("{f:?}")).collect();
        let _ = writeln!(s, "    (&CLASS_{}, &[{}]),", shouty(name), list.join(", "));
    }
    s.push_str("];\n\n/// Each enum variant class.\npub(crate) static VARIANTS: &[&Class] = &[\n");
    for v in &variants {
        let _ = writeln!(s, "    &{v},");
    }
    s.push_str("];\n");
    s
}

fn render_enum(s: &mut String, e: &EnumDef, variants: &mut Vec<String>) {
    let name = &e.name;
    let stat = format!("CLASS_{}", shouty(name));
    let mut names: Vec<String> = e.values.iter().map(|v| v.name.clone()).collect();
    names.push("Unknown".into());
    let classes: Vec<String> = names.iter().map(|v| format!("Class::new(\"{name}.{}\")", shouty(v))).collect();
    let _ = writeln!(s, "static {stat}: [Class; {}] = [{}];\n", names.len(), classes.join(", "));
    let _ = writeln!(s, "impl ToPy for {name} {{\n    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {{\n        match self {{");
    for (i, v) in e.values.iter().enumerate() {
        let _ = writeln!(s, "            Self::{} => {stat}[{i}].record(py, &[]),", v.name);
    }
    let u = e.values.len();
    let _ = writeln!(s, "            Self::Unknown {{ value }} => {stat}[{u}].record(py, &[(intern!(py, \"value\"), value.to_py(py)?)]),\n        }}\n    }}\n}}\n");
    let _ = writeln!(s, "impl FromPy for {name} {{\n    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {{");
    for (i, v) in e.values.iter().enumerate() {
        let _ = writeln!(s, "        if {stat}[{i}].holds(v)? {{\n            return Ok(Self::{});\n        }}", v.name);
    }
    let _ = writeln!(
        s,
        "        if {stat}[{u}].holds(v)? {{\n            return Ok(Self::Unknown {{ value: field(v, intern!(v.py(), \"value\"))? }});\n        }}\n        Err(pyo3::exceptions::PyTypeError::new_err(format!(\"expected a {name} variant, not {{}}\", crate::python::convert::type_name(v))))\n    }}\n}}\n\nimpl ListItem for {name} {{}}\n"
    );
    for i in 0..names.len() {
        variants.push(format!("{stat}[{i}]"));
    }
}

fn render_record(s: &mut String, name: &str, fields: &[Spanned<Field>], records: &mut Vec<(String, Vec<String>)>) {
    let stat = format!("CLASS_{}", shouty(name));
    let _ = writeln!(s, "static {stat}: Class = Class::new({name:?});\n");
    let rust: Vec<String> = fields.iter().map(|f| rust_field(&f.name)).collect();
    let attrs: Vec<String> = rust.iter().map(|r| python_attr(r)).collect();
    let _ = writeln!(s, "impl ToPy for {name} {{\n    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {{\n        {stat}.record(\n            py,\n            &[");
    for (a, r) in attrs.iter().zip(&rust) {
        let _ = writeln!(s, "                (intern!(py, {a:?}), self.{r}.to_py(py)?),");
    }
    s.push_str("            ],\n        )\n    }\n}\n\n");
    let _ = writeln!(s, "impl FromPy for {name} {{\n    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {{");
    if attrs.is_empty() {
        s.push_str("        let _ = v;\n        Ok(Self {})\n    }\n}\n\n");
    } else {
        s.push_str("        let py = v.py();\n        Ok(Self {\n");
        for ((a, r), f) in attrs.iter().zip(&rust).zip(fields) {
            let ty = rust_type(f.ty.get_ref());
            let ty = if f.required { ty } else { format!("Option<{ty}>") };
            let _ = writeln!(s, "            {r}: field::<{ty}>(v, intern!(py, {a:?}))?,");
        }
        s.push_str("        })\n    }\n}\n\n");
    }
    let _ = writeln!(s, "impl ListItem for {name} {{}}\n");
    records.push((name.to_string(), attrs));
}

/// The module file: the families' modules and the tables gathered across them.
pub fn render_mod(families: &[&SpecFile]) -> String {
    let mut s = header("spec/*.toml");
    s.push_str("//! The accelerator's generated functions and tables, one module per spec family.\n\n");
    for f in families {
        let _ = writeln!(s, "mod {};", f.family.name);
    }
    s.push_str("\nuse pyo3::prelude::*;\n\nuse crate::python::convert::Class;\n\n/// Adds every family's functions to the module.\npub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {\n");
    for f in families {
        let _ = writeln!(s, "    {}::register(m)?;", f.family.name);
    }
    s.push_str("    Ok(())\n}\n");
    // Each table, chained across the families.
    let tables = [
        ("Every replaced method: (class, method, function).", "methods", "(&'static str, &'static str, &'static str)", "METHODS"),
        ("Every replaced validation function: (name, function).", "validators", "(&'static str, &'static str)", "VALIDATORS"),
        ("Every record class with its attribute names.", "records", "(&'static Class, &'static [&'static str])", "RECORDS"),
        ("Every enum variant class.", "variants", "&'static Class", "VARIANTS"),
    ];
    for (what, name, item, table) in tables {
        let _ = write!(s, "\n/// {what}\npub(crate) fn {name}() -> impl Iterator<Item = &'static {item}> {{\n    std::iter::empty()");
        for f in families {
            let _ = write!(s, ".chain({}::{table})", f.family.name);
        }
        s.push_str("\n}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::shouty;

    #[test]
    fn variant_names_follow_uniffi() {
        assert_eq!(shouty("InReview"), "IN_REVIEW");
        assert_eq!(shouty("Approved"), "APPROVED");
        assert_eq!(shouty("Value5"), "VALUE5");
        assert_eq!(shouty("HTTPServer"), "HTTP_SERVER");
        assert_eq!(shouty("StoreAuditStatus"), "STORE_AUDIT_STATUS");
    }
}
