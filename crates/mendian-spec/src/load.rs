//! Loading and checking spec files.
//!
//! Parsing (syntax, unknown keys, wrong value types) is done by `toml` + serde, whose errors
//! carry a byte span; the semantic pass below checks what serde cannot (references between
//! items, constraints that only make sense for some types, path placeholders) and reports
//! each problem at the span of the item it is about. Every error reads `file:line: reason`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::*;

/// A problem in a spec file, located by file and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The file as it was given to the loader.
    pub file: PathBuf,
    /// 1-based line number (0 when the problem is not inside a file).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

impl std::error::Error for SpecError {}

/// One loaded spec file.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// Path as given to the loader.
    pub path: PathBuf,
    /// Its parsed content.
    pub spec: SpecFile,
}

/// A named type found by [`Spec::lookup`].
#[derive(Debug, Clone, Copy)]
pub enum NamedType<'a> {
    /// An enumeration.
    Enum(&'a EnumDef),
    /// A record.
    Record(&'a TypeDef),
}

/// All spec files of the project, checked together (names are unique across families).
#[derive(Debug, Clone)]
pub struct Spec {
    /// The files, sorted by path.
    pub files: Vec<LoadedFile>,
}

impl Spec {
    /// Finds an enum or record type by name in any family.
    pub fn lookup(&self, name: &str) -> Option<NamedType<'_>> {
        for f in &self.files {
            if let Some(e) = f.spec.enums.iter().find(|e| e.name == name) {
                return Some(NamedType::Enum(e.get_ref()));
            }
            if let Some(t) = f.spec.types.iter().find(|t| t.name == name) {
                return Some(NamedType::Record(t.get_ref()));
            }
        }
        None
    }

    /// The fields along a dot-separated `path` starting in record `record` (e.g.
    /// `result.value`), each step a field of the record the previous one names.
    pub fn field_path(&self, record: &str, path: &str) -> Result<Vec<&Field>, String> {
        let mut out = Vec::new();
        let mut current = record.to_string();
        for (i, step) in path.split('.').enumerate() {
            if i > 0 {
                match out.last().map(|f: &&Field| f.ty.get_ref()) {
                    Some(TypeExpr::Named(n)) => current = n.clone(),
                    _ => return Err(format!("`{}` in `{path}` is not a record, so it has no field `{step}`", out.last().map(|f: &&Field| f.name.as_str()).unwrap_or(""))),
                }
            }
            let Some(NamedType::Record(t)) = self.lookup(&current) else {
                return Err(format!("`{current}` is not a record type"));
            };
            let Some(f) = t.fields.iter().find(|f| f.name == step) else {
                return Err(format!("record `{current}` has no field `{step}`"));
            };
            out.push(f.get_ref());
        }
        Ok(out)
    }

    /// The family with the given module name.
    pub fn family(&self, name: &str) -> Option<&SpecFile> {
        self.files.iter().map(|f| &f.spec).find(|s| s.family.name == name)
    }
}

/// Reads every `*.toml` file in `dir`, sorted by name, as `(path, text)` pairs for
/// [`load_sources`].
pub fn read_sources(dir: &Path) -> Result<Vec<(PathBuf, String)>, SpecError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SpecError {
        file: dir.to_path_buf(),
        line: 0,
        reason: format!("cannot read spec directory: {e}"),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(SpecError { file: dir.to_path_buf(), line: 0, reason: "no *.toml spec files".into() });
    }
    let mut sources = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| SpecError {
            file: p.clone(),
            line: 0,
            reason: format!("cannot read: {e}"),
        })?;
        sources.push((p, text));
    }
    Ok(sources)
}

/// Loads every `*.toml` file in `dir` (sorted by name), checks them together, and checks the
/// document snapshots they name.
pub fn load_dir(dir: &Path) -> Result<Spec, SpecError> {
    let sources = read_sources(dir)?;
    let spec = load_sources(&sources)?;
    check_snapshots(dir, &spec, &sources)?;
    Ok(spec)
}

/// Each document snapshot exists under `dir`, still has the recorded SHA-256, and still
/// carries its recorded version line. A mismatch names the document, the file and what to do.
fn check_snapshots(dir: &Path, spec: &Spec, sources: &[(PathBuf, String)]) -> Result<(), SpecError> {
    use sha2::Digest;
    for (lf, (path, text)) in spec.files.iter().zip(sources) {
        for d in &lf.spec.family.documents {
            let at = |reason: String| SpecError { file: path.clone(), line: line_of(text, d.span().start), reason };
            let file = dir.join(&d.path);
            let bytes = std::fs::read(&file)
                .map_err(|e| at(format!("document `{}`: cannot read its snapshot {}: {e}", d.id, file.display())))?;
            let sum: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            if sum != d.sha256 {
                return Err(at(format!(
                    "document `{}`: the snapshot {} changed since the spec was checked against it (sha256 {sum}, recorded {}); compare the page with the spec, update the spec, then record the new sha256",
                    d.id,
                    file.display(),
                    d.sha256
                )));
            }
            if let Some(v) = &d.version {
                if !String::from_utf8_lossy(&bytes).contains(v.as_str()) {
                    return Err(at(format!("document `{}`: the snapshot {} does not contain its version line {v:?}", d.id, file.display())));
                }
            }
        }
    }
    Ok(())
}

/// Parses and checks spec files given as `(path, text)` pairs.
pub fn load_sources(sources: &[(PathBuf, String)]) -> Result<Spec, SpecError> {
    let mut files = Vec::new();
    for (path, text) in sources {
        let spec: SpecFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            // The toml error's Display repeats the location and a source excerpt; the
            // message alone is what the reader needs next to `file:line`.
            SpecError { file: path.clone(), line, reason: e.message().trim().to_string() }
        })?;
        files.push(LoadedFile { path: path.clone(), spec });
    }
    let spec = Spec { files };
    let mut checker = Checker { spec: &spec, sources, names: BTreeMap::new() };
    checker.check()?;
    Ok(spec)
}

/// The 1-based line of byte `offset` in `text` (spans are byte ranges).
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

struct Checker<'a> {
    spec: &'a Spec,
    sources: &'a [(PathBuf, String)],
    /// Every generated type name → where it was declared (for uniqueness across families).
    names: BTreeMap<String, String>,
}

fn is_pascal(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_ascii_uppercase()) && c.all(|c| c.is_ascii_alphanumeric())
}

fn is_snake(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// PascalCase of a snake_case identifier (`update_guide` → `UpdateGuide`).
pub fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

impl<'a> Checker<'a> {
    fn err<T>(&self, file: usize, span: std::ops::Range<usize>, reason: impl Into<String>) -> Result<T, SpecError> {
        let (path, text) = &self.sources[file];
        Err(SpecError { file: path.clone(), line: line_of(text, span.start), reason: reason.into() })
    }

    fn claim_name(&mut self, file: usize, span: std::ops::Range<usize>, name: &str, what: &str) -> Result<(), SpecError> {
        let here = format!("{what} in {}", self.sources[file].0.display());
        if let Some(prev) = self.names.get(name) {
            return self.err(file, span, format!("`{name}` is already defined ({prev}); generated names must be unique across all spec files"));
        }
        self.names.insert(name.to_string(), here);
        Ok(())
    }

    fn check(&mut self) -> Result<(), SpecError> {
        let mut family_names = BTreeSet::new();
        let mut endpoint_ids = BTreeSet::new();
        for (fi, lf) in self.spec.files.iter().enumerate() {
            let s = &lf.spec;
            if !is_snake(&s.family.name) {
                return self.err(fi, 0..0, format!("family.name `{}` must be snake_case", s.family.name));
            }
            if !family_names.insert(s.family.name.clone()) {
                return self.err(fi, 0..0, format!("family `{}` is defined twice", s.family.name));
            }
            for url in std::iter::once(&s.family.base_url).chain(&s.family.backup_base_url) {
                if !url.starts_with("https://") || url.ends_with('/') {
                    return self.err(fi, 0..0, format!("family base URL `{url}` must start with https:// and not end with /"));
                }
            }
            let mut other_names = BTreeSet::new();
            for o in &s.family.other_base_urls {
                if !is_snake(&o.name) || !other_names.insert(o.name.as_str()) {
                    return self.err(fi, o.span(), format!("other_base_urls: name `{}` must be snake_case and unique", o.name));
                }
                if !o.url.starts_with("https://") || o.url.ends_with('/') {
                    return self.err(fi, o.span(), format!("other_base_urls `{}`: `{}` must start with https:// and not end with /", o.name, o.url));
                }
            }
            let envelopes: BTreeSet<&str> = s.family.envelopes.iter().map(|e| e.name.as_str()).collect();
            if let Some(d) = &s.family.default_envelope {
                if !envelopes.contains(d.get_ref().as_str()) {
                    return self.err(fi, d.span(), format!("default_envelope `{}` is not one of family.envelopes", d.get_ref()));
                }
            }
            self.check_fields(fi, &s.family.common_fields, FieldContext::Request)?;
            let documents = self.check_documents(fi, &s.family.documents)?;
            for (what, refs) in s
                .endpoints
                .iter()
                .map(|e| (format!("endpoint `{}`", e.id), &e.documents))
                .chain(s.events.iter().map(|e| (format!("event `{}`", e.name), &e.documents)))
            {
                for r in refs {
                    if !documents.contains(r.get_ref().as_str()) {
                        return self.err(fi, r.span(), format!("{what}: document `{}` is not one of family.documents", r.get_ref()));
                    }
                }
            }
            for e in &s.enums {
                self.check_enum(fi, e)?;
            }
            for t in &s.types {
                self.claim_name(fi, t.span(), &t.name, "type")?;
                if !is_pascal(&t.name) {
                    return self.err(fi, t.span(), format!("type name `{}` must be PascalCase", t.name));
                }
                self.check_fields(fi, &t.fields, FieldContext::Record)?;
            }
            for ep in &s.endpoints {
                if !is_snake(&ep.id) {
                    return self.err(fi, ep.span(), format!("endpoint id `{}` must be snake_case", ep.id));
                }
                if !endpoint_ids.insert(ep.id.clone()) {
                    return self.err(fi, ep.span(), format!("endpoint id `{}` is used twice", ep.id));
                }
                let req = format!("{}Request", pascal_case(&ep.id));
                self.claim_name(fi, ep.span(), &req, "request record")?;
                self.check_endpoint(fi, ep, &envelopes)?;
            }
            for ev in &s.events {
                if !is_pascal(&ev.record) {
                    return self.err(fi, ev.span(), format!("event record `{}` must be PascalCase", ev.record));
                }
                self.claim_name(fi, ev.span(), &ev.record, "event record")?;
                self.check_fields(fi, &ev.fields, FieldContext::Event)?;
            }
        }
        Ok(())
    }

    /// Document ids are snake_case and unique, hashes are 64 hex digits; returns the ids.
    fn check_documents<'s>(&self, fi: usize, docs: &'s [Spanned<Document>]) -> Result<BTreeSet<&'s str>, SpecError> {
        let mut ids = BTreeSet::new();
        for d in docs {
            if !is_snake(&d.id) || !ids.insert(d.id.as_str()) {
                return self.err(fi, d.span(), format!("document id `{}` must be snake_case and unique in the family", d.id));
            }
            if d.sha256.len() != 64 || !d.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return self.err(fi, d.span(), format!("document `{}`: sha256 must be 64 lower-case hex digits", d.id));
            }
            if d.path.starts_with('/') || d.path.split('/').any(|p| p == ".." || p.is_empty()) {
                return self.err(fi, d.span(), format!("document `{}`: path must be relative to the spec directory, without `..`", d.id));
            }
        }
        Ok(ids)
    }

    fn check_enum(&mut self, fi: usize, e: &Spanned<EnumDef>) -> Result<(), SpecError> {
        if !is_pascal(&e.name) {
            return self.err(fi, e.span(), format!("enum name `{}` must be PascalCase", e.name));
        }
        self.claim_name(fi, e.span(), &e.name, "enum")?;
        if e.values.is_empty() {
            return self.err(fi, e.span(), format!("enum `{}` has no values", e.name));
        }
        let mut seen_names = BTreeSet::new();
        let mut seen_values = BTreeSet::new();
        for v in &e.values {
            if !is_pascal(&v.name) || v.name == "Unknown" {
                return self.err(fi, e.span(), format!("enum `{}`: variant `{}` must be PascalCase and not `Unknown` (generated as the catch-all)", e.name, v.name));
            }
            let ok = match e.repr {
                EnumRepr::Int => v.value.is_integer(),
                EnumRepr::String => v.value.is_str(),
            };
            if !ok {
                return self.err(fi, e.span(), format!("enum `{}`: value of `{}` must be {}", e.name, v.name, if e.repr == EnumRepr::Int { "an integer" } else { "a string" }));
            }
            if !seen_names.insert(v.name.clone()) || !seen_values.insert(v.value.to_string()) {
                return self.err(fi, e.span(), format!("enum `{}`: duplicate variant or value `{}`", e.name, v.name));
            }
        }
        Ok(())
    }

    fn check_endpoint(&self, fi: usize, ep: &Spanned<Endpoint>, envelopes: &BTreeSet<&str>) -> Result<(), SpecError> {
        if !ep.path.starts_with('/') {
            return self.err(fi, ep.span(), format!("endpoint `{}`: path must start with `/`", ep.id));
        }
        if !(200..300).contains(&ep.success_status) {
            return self.err(fi, ep.span(), format!("endpoint `{}`: success_status {} is not a 2xx status", ep.id, ep.success_status));
        }
        self.check_fields(fi, &ep.fields, FieldContext::Request)?;
        // `modes` (直连商户 / 服务商) are WeChat Pay's; the generated descriptor carries them
        // and the client refuses a call in a mode the endpoint does not list.
        let wechatpay = self.spec.files[fi].spec.family.platform == Platform::Wechatpay;
        if wechatpay && ep.modes.is_empty() {
            return self.err(fi, ep.span(), format!("endpoint `{}`: modes must list who may call it (direct, partner)", ep.id));
        }
        if !wechatpay && !ep.modes.is_empty() {
            return self.err(fi, ep.span(), format!("endpoint `{}`: modes (直连商户 / 服务商) only apply to WeChat Pay endpoints", ep.id));
        }
        for f in &ep.fields {
            if let Some(m) = f.only_in.filter(|m| !ep.modes.contains(m)) {
                return self.err(fi, f.span(), format!("endpoint `{}`: field `{}` is only_in {m:?}, a mode the endpoint's modes do not list", ep.id, f.name));
            }
        }
        for name in &ep.at_least_one_of {
            match ep.fields.iter().find(|f| f.name == **name) {
                None => return self.err(fi, name.span(), format!("endpoint `{}`: at_least_one_of names `{}`, which is not one of its fields", ep.id, name.get_ref())),
                Some(f) if f.required => {
                    return self.err(fi, name.span(), format!("endpoint `{}`: at_least_one_of names `{}`, which is required anyway", ep.id, name.get_ref()))
                }
                Some(_) => {}
            }
        }
        if ep.at_least_one_of.len() == 1 {
            return self.err(fi, ep.span(), format!("endpoint `{}`: at_least_one_of needs two fields or more (mark a single one required)", ep.id));
        }
        // Path placeholders and path fields must match one to one.
        let placeholders: BTreeSet<String> = placeholders(&ep.path);
        let path_fields: BTreeSet<String> = ep
            .fields
            .iter()
            .filter(|f| f.location == Some(Location::Path))
            .map(|f| f.name.clone())
            .collect();
        if let Some(p) = placeholders.difference(&path_fields).next() {
            return self.err(fi, ep.span(), format!("endpoint `{}`: path placeholder `{{{p}}}` has no field with location = \"path\"", ep.id));
        }
        for f in ep.fields.iter().filter(|f| f.location == Some(Location::Path)) {
            if !placeholders.contains(&f.name) {
                return self.err(fi, f.span(), format!("field `{}`: location is \"path\" but `{}` has no `{{{}}}` placeholder", f.name, ep.path, f.name));
            }
            if !f.required {
                return self.err(fi, f.span(), format!("field `{}`: path fields must be required", f.name));
            }
        }
        if let Some(r) = &ep.response {
            match self.spec.lookup(r.get_ref()) {
                Some(NamedType::Record(_)) => {}
                Some(NamedType::Enum(_)) => {
                    return self.err(fi, r.span(), format!("endpoint `{}`: response `{}` is an enum; it must be a record type", ep.id, r.get_ref()))
                }
                None => return self.err(fi, r.span(), format!("endpoint `{}`: response type `{}` is not defined", ep.id, r.get_ref())),
            }
        }
        if let Some(e) = &ep.envelope {
            if !envelopes.contains(e.get_ref().as_str()) {
                return self.err(fi, e.span(), format!("endpoint `{}`: envelope `{}` is not one of family.envelopes", ep.id, e.get_ref()));
            }
        }
        if let Some(p) = &ep.paging {
            if let Err(reason) = self.check_paging(ep, p.get_ref()) {
                return self.err(fi, p.span(), format!("endpoint `{}`: paging: {reason}", ep.id));
            }
        }
        Ok(())
    }

    /// A paging table names request fields that exist with integer types, exactly one
    /// paging style, and response paths that lead to a list or a text.
    fn check_paging(&self, ep: &Endpoint, p: &Paging) -> Result<(), String> {
        if !is_snake(&p.all) {
            return Err(format!("`all` = `{}` must be snake_case", p.all));
        }
        let field = |name: &str| -> Result<&Field, String> {
            let f = ep.fields.iter().find(|f| f.name == name).ok_or_else(|| format!("the request has no field `{name}`"))?;
            match f.ty.get_ref() {
                TypeExpr::Int32 | TypeExpr::Int64 => Ok(f.get_ref()),
                _ => Err(format!("request field `{name}` must be int32 or int64")),
            }
        };
        match (&p.offset, &p.limit, &p.page) {
            (Some(o), Some(l), None) => {
                field(o)?;
                if field(l)?.maximum.is_none() {
                    return Err(format!("limit field `{l}` needs a `maximum` (the page size the walk uses)"));
                }
                if p.first_page.is_some() {
                    return Err("`first_page` goes with `page`, not with offset paging".into());
                }
            }
            (None, None, Some(pg)) => {
                field(pg)?;
            }
            _ => return Err("give either `offset` and `limit`, or `page`".into()),
        }
        let response = ep.response.as_ref().ok_or("a paged endpoint needs a response record")?;
        let items = self.spec.field_path(response.get_ref(), &p.items)?;
        match items.last().map(|f| f.ty.get_ref()) {
            Some(TypeExpr::List(_)) | Some(TypeExpr::String) | Some(TypeExpr::Json) => {}
            _ => return Err(format!("`items` = `{}` must lead to a list or a text", p.items)),
        }
        if let Some(t) = &p.total {
            match self.spec.field_path(response.get_ref(), t)?.last().map(|f| f.ty.get_ref()) {
                Some(TypeExpr::Int32) | Some(TypeExpr::Int64) => {}
                _ => return Err(format!("`total` = `{t}` must lead to an integer")),
            }
        }
        if let Some(code) = &p.end_code {
            if !ep.errors.iter().any(|e| &e.code == code) {
                return Err(format!("`end_code` = `{code}` is not in the endpoint's error table"));
            }
        }
        Ok(())
    }

    fn check_fields(&self, fi: usize, fields: &[Spanned<Field>], ctx: FieldContext) -> Result<(), SpecError> {
        let mut names = BTreeSet::new();
        for f in fields {
            let span = f.span();
            let name = &f.name;
            if name.is_empty() {
                return self.err(fi, span, "field name must not be empty");
            }
            if !names.insert(name.clone()) {
                return self.err(fi, span, format!("field `{name}` is listed twice"));
            }
            match (ctx, f.location) {
                (FieldContext::Request, None) => {
                    return self.err(fi, span, format!("field `{name}`: request fields need a location (path, query, body, form, multipart or header)"))
                }
                (FieldContext::Record | FieldContext::Event, Some(_)) => {
                    return self.err(fi, span, format!("field `{name}`: location is only for endpoint request fields"))
                }
                _ => {}
            }
            if let TypeExpr::Named(n) = f.ty.get_ref().leaf() {
                if self.spec.lookup(n).is_none() {
                    return self.err(fi, f.ty.span(), format!("field `{name}`: type `{n}` is not defined in any spec file"));
                }
            }
            let ty = f.ty.get_ref();
            let is_string = matches!(ty, TypeExpr::String | TypeExpr::DateTime);
            let is_number = matches!(ty, TypeExpr::Int32 | TypeExpr::Int64 | TypeExpr::Float64);
            let is_list = matches!(ty, TypeExpr::List(_));
            let has_len = f.min_length.is_some() || f.max_length.is_some();
            if has_len && !is_string {
                return self.err(fi, span, format!("field `{name}`: min_length/max_length apply to string fields only"));
            }
            if has_len && f.length_unit.is_none() {
                return self.err(fi, span, format!("field `{name}`: a length limit needs length_unit (chars, bytes or width)"));
            }
            if !has_len && f.length_unit.is_some() {
                return self.err(fi, span, format!("field `{name}`: length_unit without min_length/max_length"));
            }
            if let (Some(a), Some(b)) = (f.min_length, f.max_length) {
                if a > b {
                    return self.err(fi, span, format!("field `{name}`: min_length {a} is greater than max_length {b}"));
                }
            }
            if (f.minimum.is_some() || f.maximum.is_some()) && !is_number {
                return self.err(fi, span, format!("field `{name}`: minimum/maximum apply to numeric fields only"));
            }
            if let (Some(a), Some(b)) = (f.minimum, f.maximum) {
                if a > b {
                    return self.err(fi, span, format!("field `{name}`: minimum {a} is greater than maximum {b}"));
                }
            }
            if (f.min_items.is_some() || f.max_items.is_some()) && !is_list && f.format != Some(Format::PipeList) {
                return self.err(fi, span, format!("field `{name}`: min_items/max_items apply to list fields and pipe_list strings only"));
            }
            if f.format == Some(Format::MediaFile) {
                if *ty != TypeExpr::Bytes {
                    return self.err(fi, span, format!("field `{name}`: format media_file applies to bytes fields only"));
                }
                if !fields.iter().any(|s| s.name == "type") {
                    return self.err(fi, span, format!("field `{name}`: format media_file needs a sibling field `type` naming the media kind"));
                }
            } else if f.format.is_some() && !is_string && !matches!(ty, TypeExpr::List(inner) if **inner == TypeExpr::String) {
                return self.err(fi, span, format!("field `{name}`: format applies to string fields only"));
            }
            if *ty == TypeExpr::Bytes && f.location.is_some_and(|l| l != Location::Multipart) {
                return self.err(fi, span, format!("field `{name}`: bytes fields are sent as multipart parts (location = \"multipart\")"));
            }
            if f.encrypted && !matches!(ty, TypeExpr::String) {
                return self.err(fi, span, format!("field `{name}`: only string fields can be encrypted"));
            }
            if f.plaintext_max_bytes.is_some() && !f.encrypted {
                return self.err(fi, span, format!("field `{name}`: plaintext_max_bytes needs encrypted = true"));
            }
            if f.location == Some(Location::Path) && !matches!(ty, TypeExpr::String | TypeExpr::Int32 | TypeExpr::Int64) {
                return self.err(fi, span, format!("field `{name}`: path fields must be strings or integers"));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum FieldContext {
    Request,
    Record,
    Event,
}

/// The `{name}` placeholders of a path template.
pub fn placeholders(path: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                out.insert(after[..end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}
