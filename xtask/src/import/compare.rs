//! Compares a parsed page with the spec: every added, removed and changed fact, keyed so that
//! the spec's `deviations` can name the ones that are deliberate.

use mendian_spec::{line_of, LoadedFile, Spanned};

use super::page::{Page, PageEndpoint, PageError, PageField};
use super::example::squeezed;
use super::write::{quoted, review_line, Edit};

/// One difference between the page and the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The spec endpoint it concerns (or the page's method and path when the spec has none).
    pub endpoint: String,
    /// The difference, stated the same way every time (what `deviations.fact` names).
    pub fact: String,
    /// Page line.
    pub page_line: Option<usize>,
    /// Spec line (in the family's file).
    pub spec_line: Option<usize>,
    /// `Some(reason)` when the spec lists the difference as deliberate.
    pub deviation: Option<String>,
    /// How `--write` applies it; `None` when it needs a person (a new endpoint, say).
    pub edit: Option<Edit>,
}

/// Full-width punctuation as ASCII, so the page's `,` and the spec's `，` compare equal.
fn normal(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '，' => ',',
            '：' => ':',
            '（' => '(',
            '）' => ')',
            '；' => ';',
            c => c,
        })
        .collect::<String>()
        .trim_end_matches(['。', '.'])
        .to_string()
}

/// The spec endpoint a page's endpoint documents: by API name where the gateway routes by
/// name (TOP), by path otherwise.
pub fn spec_endpoint<'f>(file: &'f LoadedFile, pe: &PageEndpoint) -> Option<&'f Spanned<mendian_spec::Endpoint>> {
    match &pe.api_name {
        Some(api) => file.spec.endpoints.iter().find(|e| e.api_name.as_deref() == Some(api.as_str())),
        None => file.spec.endpoints.iter().find(|e| e.path == pe.path),
    }
}

/// Every finding for the page against the family file `file` (whose text is `text`).
pub fn compare(page: &Page, file: &LoadedFile, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for pe in &page.endpoints {
        let spec_ep = spec_endpoint(file, pe);
        let shown = pe.api_name.clone().unwrap_or_else(|| format!("{} {}", pe.method, pe.path));
        let Some(ep) = spec_ep else {
            out.push(Finding {
                endpoint: shown.clone(),
                fact: format!("endpoint {shown}: on the page, not in the spec"),
                page_line: Some(pe.line),
                spec_line: None,
                deviation: None,
                edit: None,
            });
            continue;
        };
        let at = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
        let mut found = Vec::new();
        let mut push = |fact: String, page_line: Option<usize>, spec_line: Option<usize>, edit: Option<Edit>| {
            found.push((fact, page_line, spec_line, edit));
        };
        if !pe.method.is_empty() && ep.method.as_str() != pe.method {
            let edit = Edit::Set { table: ep.span().start, key: "method", value: Some(quoted(&pe.method)), review: None };
            push(format!("method: page {}, spec {}", pe.method, ep.method.as_str()), Some(pe.line), at(ep.span()), Some(edit));
        }
        if pe.nested {
            compare_nested_fields(pe, ep, file, &at, &mut push);
        } else {
            compare_fields(&pe.fields, &ep.fields, &file.spec.family.common_fields, "endpoints.fields", file, ep.span(), &at, &mut push);
        }
        if let Some(errors) = &pe.errors {
            compare_errors(errors, &ep.errors, ep.span().start, &at, &mut push);
        }
        if !pe.response.is_empty() {
            compare_response(pe, ep, file, &at, &mut push);
        }
        let table = ep.span().start;
        compare_example("request example", "request_example", pe.request_example.as_ref(), ep.request_example.as_deref(), table, &at(ep.span()), &mut push);
        compare_example("response example", "response_example", pe.response_example.as_ref(), ep.response_example.as_deref(), table, &at(ep.span()), &mut push);
        for (fact, page_line, spec_line, edit) in found {
            let deviation = ep.deviations.iter().find(|d| d.fact == fact).map(|d| d.reason.clone());
            out.push(Finding { endpoint: ep.id.clone(), fact, page_line, spec_line, deviation, edit });
        }
    }
    for pv in &page.events {
        let at = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
        let shown = format!("event {}", pv.name);
        let Some(ev) = file.spec.events.iter().find(|e| e.name == pv.name) else {
            out.push(Finding { endpoint: shown.clone(), fact: format!("{shown}: on the page, not in the spec"), page_line: Some(pv.line), spec_line: None, deviation: None, edit: None });
            continue;
        };
        let mut found = Vec::new();
        let mut push = |fact: String, page_line: Option<usize>, spec_line: Option<usize>, edit: Option<Edit>| found.push((fact, page_line, spec_line, edit));
        compare_fields(&pv.fields, &ev.fields, &[], "events.fields", file, ev.span(), &at, &mut push);
        for (fact, page_line, spec_line, edit) in found {
            let deviation = ev.deviations.iter().find(|d| d.fact == fact).map(|d| d.reason.clone());
            out.push(Finding { endpoint: shown.clone(), fact, page_line, spec_line, deviation, edit });
        }
    }
    out
}

fn compare_fields(
    page: &[PageField],
    spec: &[Spanned<mendian_spec::Field>],
    common: &[Spanned<mendian_spec::Field>],
    header: &str,
    file: &LoadedFile,
    owner: std::ops::Range<usize>,
    at: &dyn Fn(std::ops::Range<usize>) -> Option<usize>,
    push: &mut dyn FnMut(String, Option<usize>, Option<usize>, Option<Edit>),
) {
    for pf in page {
        let Some(sf) = spec.iter().chain(common).find(|f| f.name == pf.name) else {
            let after = spec.last().map(|f| f.span().start).unwrap_or(owner.start);
            let edit = Edit::InsertAfter { table: after, whole: false, text: new_field(header, pf) };
            push(format!("field {}: on the page, not in the spec", pf.name), Some(pf.line), at(owner.clone()), Some(edit));
            continue;
        };
        let line = (Some(pf.line), at(sf.span()));
        let table = sf.span().start;
        let loc = sf.location.map(|l| format!("{l:?}").to_ascii_lowercase()).unwrap_or_default();
        if !pf.location.is_empty() && loc != pf.location {
            let edit = Edit::Set { table, key: "location", value: Some(quoted(&pf.location)), review: None };
            push(format!("field {}: location: page {}, spec {loc}", pf.name, pf.location), line.0, line.1, Some(edit));
        }
        if let Some(required) = pf.required {
            if required != sf.required {
                let show = |r: bool| if r { "required" } else { "optional" };
                let edit = Edit::Set { table, key: "required", value: Some(required.to_string()), review: None };
                push(format!("field {}: page {}, spec {}", pf.name, show(required), show(sf.required)), line.0, line.1, Some(edit));
            }
        }
        if (pf.min_length, pf.max_length) != (None, None) && (pf.min_length, pf.max_length) != (sf.min_length, sf.max_length) {
            let show = |a: Option<u32>, b: Option<u32>| format!("[{},{}]", a.map(|v| v.to_string()).unwrap_or_default(), b.map(|v| v.to_string()).unwrap_or_default());
            let mut edits = vec![
                Edit::Set { table, key: "min_length", value: pf.min_length.map(|v| v.to_string()), review: None },
                Edit::Set { table, key: "max_length", value: pf.max_length.map(|v| v.to_string()), review: None },
            ];
            if sf.length_unit.is_none() && pf.length_unit.is_none() {
                let unit = length_unit(pf);
                edits.push(Edit::Set { table, key: "length_unit", value: Some(quoted(unit)), review: Some(format!("the page's limit; {unit:?} is our reading of its unit")) });
            }
            push(
                format!("field {}: length: page {}, spec {}", pf.name, show(pf.min_length, pf.max_length), show(sf.min_length, sf.max_length)),
                line.0,
                line.1,
                Some(Edit::All(edits)),
            );
        }
        let unit = sf.length_unit.map(|u| format!("{u:?}").to_ascii_lowercase());
        if let Some(page_unit) = pf.length_unit.filter(|u| unit.as_deref() != Some(*u)) {
            let edit = Edit::Set { table, key: "length_unit", value: Some(quoted(page_unit)), review: None };
            push(format!("field {}: length unit: page {page_unit}, spec {}", pf.name, unit.as_deref().unwrap_or("none")), line.0, line.1, Some(edit));
        }
        if pf.plaintext_max_bytes != sf.plaintext_max_bytes {
            let show = |v: Option<u32>| v.map(|v| format!("{v} bytes")).unwrap_or_else(|| "none".into());
            let edit = Edit::Set { table, key: "plaintext_max_bytes", value: pf.plaintext_max_bytes.map(|v| v.to_string()), review: None };
            push(
                format!("field {}: limit before encryption: page {}, spec {}", pf.name, show(pf.plaintext_max_bytes), show(sf.plaintext_max_bytes)),
                line.0,
                line.1,
                Some(edit),
            );
        }
        compare_values(&format!("field {}", pf.name), pf, sf.ty.get_ref(), file, at, push);
    }
    // A page that lists no parameters documents none, which is not the same as documenting
    // that there are none.
    if !page.is_empty() {
        for sf in spec {
            if !page.iter().any(|pf| pf.name == sf.name) {
                push(format!("field {}: in the spec, not on the page", sf.name), None, at(sf.span()), Some(Edit::Delete { table: sf.span().start }));
            }
        }
    }
}

/// The values a page enumerates for a field against the spec enum of the field's type.
fn compare_values(
    label: &str,
    pf: &PageField,
    ty: &mendian_spec::TypeExpr,
    file: &LoadedFile,
    at: &dyn Fn(std::ops::Range<usize>) -> Option<usize>,
    push: &mut dyn FnMut(String, Option<usize>, Option<usize>, Option<Edit>),
) {
    if pf.enum_values.is_empty() {
        return;
    }
    let mendian_spec::TypeExpr::Named(n) = ty.leaf() else {
        push(format!("{label}: page enumerates {}, spec type {} is not an enum", pf.enum_values.join(", "), type_text(ty)), Some(pf.line), None, None);
        return;
    };
    let Some(e) = file.spec.enums.iter().find(|e| e.name == *n) else {
        push(format!("{label}: page enumerates {}, spec type {n} is not an enum", pf.enum_values.join(", ")), Some(pf.line), None, None);
        return;
    };
    let value = |v: &toml::Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    let spec_values: Vec<String> = e.values.iter().map(|v| value(&v.value)).collect();
    let written = |v: &str| if e.repr == mendian_spec::EnumRepr::Int { v.to_string() } else { quoted(v) };
    for (k, v) in pf.enum_values.iter().enumerate() {
        if !spec_values.contains(v) {
            let meaning = pf.enum_meanings.get(k).cloned().unwrap_or_default();
            let name = format!("Value{}", v.chars().filter(char::is_ascii_alphanumeric).collect::<String>());
            let item = format!("{{ value = {}, name = {}, meaning = {} }}", written(v), quoted(&name), quoted(&meaning));
            let review = Some(format!("new on the page (line {}); name the variant", pf.line));
            let edit = Edit::AddItem { table: e.span().start, key: "values", item, review };
            push(format!("{label} ({n}): value {v}: on the page, not in the spec"), Some(pf.line), at(e.span()), Some(edit));
        }
    }
    for v in &spec_values {
        if !pf.enum_values.contains(v) {
            let edit = Edit::RemoveItem { table: e.span().start, key: "values", needle: format!("value = {},", written(v)) };
            push(format!("{label} ({n}): value {v}: in the spec, not on the page"), Some(pf.line), at(e.span()), Some(edit));
        }
    }
}

/// The answer members a page documents: each must exist in the response record (at the
/// dotted path, or by its last name at any depth), and enumerated values must match.
fn compare_response(
    pe: &PageEndpoint,
    ep: &Spanned<mendian_spec::Endpoint>,
    file: &LoadedFile,
    at: &dyn Fn(std::ops::Range<usize>) -> Option<usize>,
    push: &mut dyn FnMut(String, Option<usize>, Option<usize>, Option<Edit>),
) {
    let Some(record) = ep.response.as_ref().and_then(|r| file.spec.types.iter().find(|t| t.name == *r.get_ref())) else {
        push("response: the page documents an answer, the spec has no response record".into(), pe.response.first().map(|f| f.line), at(ep.span()), None);
        return;
    };
    let mut tree = Vec::new();
    spec_tree(&record.fields, "", file, 0, &mut tree);
    for pf in &pe.response {
        let last = pf.name.rsplit('.').next().unwrap_or(&pf.name);
        let hit = tree.iter().find(|(name, _, _, _)| *name == pf.name).or_else(|| tree.iter().find(|(name, _, _, _)| name.rsplit('.').next() == Some(last)));
        match hit {
            None => push(format!("response {}: on the page, not in the spec ({})", pf.name, record.name), Some(pf.line), at(record.span()), None),
            Some((_, _, span, _)) => {
                let sf = field_at(file, &record.fields, span);
                if let Some(sf) = sf {
                    compare_values(&format!("response {}", pf.name), pf, sf.ty.get_ref(), file, at, push);
                }
            }
        }
    }
}

/// The spec field whose span is `span`, among `fields` and the members of record types.
fn field_at<'a>(file: &'a LoadedFile, fields: &'a [Spanned<mendian_spec::Field>], span: &std::ops::Range<usize>) -> Option<&'a Spanned<mendian_spec::Field>> {
    fields.iter().find(|f| f.span() == *span).or_else(|| file.spec.types.iter().flat_map(|t| t.fields.iter()).find(|f| f.span() == *span))
}

/// The spec's type in its own words (`list<DivisionDto>`, `int64`).
fn type_text(t: &mendian_spec::TypeExpr) -> String {
    use mendian_spec::TypeExpr as T;
    match t {
        T::String => "string".into(),
        T::Int32 => "int32".into(),
        T::Int64 => "int64".into(),
        T::Float64 => "float64".into(),
        T::Bool => "bool".into(),
        T::DateTime => "datetime".into(),
        T::Json => "json".into(),
        T::Bytes => "bytes".into(),
        T::List(inner) => format!("list<{}>", type_text(inner)),
        T::Named(n) => n.clone(),
    }
}

/// Every request field of `ep`, members of record types included, as (dotted path, type,
/// span); `depth` stops a record that contains itself.
fn spec_tree(
    fields: &[Spanned<mendian_spec::Field>],
    prefix: &str,
    file: &LoadedFile,
    depth: usize,
    out: &mut Vec<(String, String, std::ops::Range<usize>, bool)>,
) {
    for f in fields {
        let path = format!("{prefix}{}", f.name);
        out.push((path.clone(), type_text(f.ty.get_ref()), f.span(), f.required));
        if let mendian_spec::TypeExpr::Named(n) = f.ty.leaf() {
            if let Some(t) = file.spec.types.iter().find(|t| t.name == *n) {
                if depth < 8 {
                    spec_tree(&t.fields, &format!("{path}."), file, depth + 1, out);
                }
            }
        }
    }
}

/// Pages that list record members (TOP metadata and API pages): the trees of names, types
/// and required flags.
fn compare_nested_fields(
    pe: &PageEndpoint,
    ep: &Spanned<mendian_spec::Endpoint>,
    file: &LoadedFile,
    at: &dyn Fn(std::ops::Range<usize>) -> Option<usize>,
    push: &mut dyn FnMut(String, Option<usize>, Option<usize>, Option<Edit>),
) {
    let mut tree = Vec::new();
    spec_tree(&ep.fields, "", file, 0, &mut tree);
    let leaf = |name: &str| name.rsplit('.').next().unwrap_or(name).to_string();
    let parameter = |name: &str| name.split('.').next().unwrap_or(name).to_string();
    // Whether the page's `pf` names the spec member `name`.
    let names = |pf: &str, name: &str| {
        if !pe.flat_members || !pf.contains('.') {
            return pf == name;
        }
        name.contains('.') && parameter(pf) == parameter(name) && leaf(pf) == leaf(name)
    };
    for pf in &pe.fields {
        match tree.iter().find(|(name, _, _, _)| names(&pf.name, name)) {
            // Which record a flattened member belongs to is not on the page.
            None => push(format!("field {}: on the page, not in the spec", pf.name), Some(pf.line), at(ep.span()), None),
            Some((_, ty, span, required)) => {
                if *ty != pf.ty {
                    let edit = Edit::Set { table: span.start, key: "type", value: Some(quoted(&pf.ty)), review: None };
                    push(format!("field {}: type: page {}, spec {ty}", pf.name, pf.ty), Some(pf.line), at(span.clone()), Some(edit));
                }
                if let Some(r) = pf.required.filter(|r| r != required) {
                    let show = |r: bool| if r { "required" } else { "optional" };
                    let edit = Edit::Set { table: span.start, key: "required", value: Some(r.to_string()), review: None };
                    push(format!("field {}: page {}, spec {}", pf.name, show(r), show(*required)), Some(pf.line), at(span.clone()), Some(edit));
                }
            }
        }
    }
    for (name, _, span, _) in &tree {
        // A flattened page shows the members of the parameters it lists.
        let shown = !pe.flat_members || pe.fields.iter().any(|pf| pf.name == parameter(name));
        if shown && !pe.fields.iter().any(|pf| names(&pf.name, name)) {
            let name = if pe.flat_members && name.contains('.') { format!("{}.{}", parameter(name), leaf(name)) } else { name.clone() };
            push(format!("field {name}: in the spec, not on the page"), None, at(span.clone()), Some(Edit::Delete { table: span.start }));
        }
    }
}

fn compare_errors(
    page: &[PageError],
    spec: &[Spanned<mendian_spec::ErrorCode>],
    endpoint: usize,
    at: &dyn Fn(std::ops::Range<usize>) -> Option<usize>,
    push: &mut dyn FnMut(String, Option<usize>, Option<usize>, Option<Edit>),
) {
    let key = |status: Option<u16>, code: &str, description: &str| {
        format!("{}{code} 「{}」", status.map(|s| format!("{s} ")).unwrap_or_default(), normal(description))
    };
    let unmatched_spec: Vec<&Spanned<mendian_spec::ErrorCode>> =
        spec.iter().filter(|se| !page.iter().any(|pe| key(pe.status, &pe.code, &pe.description) == key(se.status, &se.code, &se.description))).collect();
    let mut paired = Vec::new();
    for pe in page {
        let k = key(pe.status, &pe.code, &pe.description);
        match spec.iter().find(|e| key(e.status, &e.code, &e.description) == k) {
            // A row whose description changed: the first unmatched spec entry with the same
            // status and code, in page order.
            None => match unmatched_spec.iter().find(|se| se.status == pe.status && se.code == pe.code && !paired.contains(&se.span().start)) {
                Some(se) => {
                    paired.push(se.span().start);
                    let edit = Edit::Set { table: se.span().start, key: "description", value: Some(quoted(&pe.description)), review: None };
                    push(
                        format!("error {}{}: description: page 「{}」, spec 「{}」", pe.status.map(|s| format!("{s} ")).unwrap_or_default(), pe.code, normal(&pe.description), normal(&se.description)),
                        Some(pe.line),
                        at(se.span()),
                        Some(edit),
                    );
                }
                None => {
                    let edit = match spec.last() {
                        Some(last) => Edit::InsertAfter { table: last.span().start, whole: false, text: new_error(pe) },
                        None => Edit::InsertAfter { table: endpoint, whole: true, text: new_error(pe) },
                    };
                    push(format!("error {k}: on the page, not in the spec"), Some(pe.line), None, Some(edit))
                }
            },
            Some(se) => {
                let (p, s) = (pe.remedy.as_deref().map(normal), se.remedy.as_deref().map(normal));
                if p.is_some() && p != s {
                    let edit = Edit::Set { table: se.span().start, key: "remedy", value: pe.remedy.as_deref().map(quoted), review: None };
                    push(
                        format!("error {k}: remedy: page 「{}」, spec 「{}」", p.unwrap_or_default(), s.unwrap_or_default()),
                        Some(pe.line),
                        at(se.span()),
                        Some(edit),
                    );
                }
            }
        }
    }
    for se in unmatched_spec {
        if !paired.contains(&se.span().start) {
            let k = key(se.status, &se.code, &se.description);
            push(format!("error {k}: in the spec, not on the page"), None, at(se.span()), Some(Edit::Delete { table: se.span().start }));
        }
    }
}

/// The spec table for a field new on the page, under a review comment.
fn new_field(header: &str, pf: &PageField) -> String {
    let ty = match pf.ty.as_str() {
        "" | "string" => "string",
        "int" | "integer" | "int64" => "int64",
        "int32" => "int32",
        "bool" | "boolean" => "bool",
        "float" | "double" | "number" => "float64",
        _ => "json",
    };
    let mut t = review_line(&format!("new on the page (line {}); check the title, description and type", pf.line));
    t.push_str(&format!("[[{header}]]\nname = {}\n", quoted(&pf.name)));
    let description = if pf.description.is_empty() { &pf.title } else { &pf.description };
    t.push_str(&format!("title = {}\ndescription = {}\n", quoted(&pf.title), quoted(description)));
    if !pf.location.is_empty() {
        t.push_str(&format!("location = {}\n", quoted(&pf.location)));
    } else if header == "endpoints.fields" {
        t.push_str("location = \"body\"\n");
    }
    t.push_str(&format!("type = {}\n", quoted(ty)));
    if pf.required == Some(true) {
        t.push_str("required = true\n");
    }
    if let Some(v) = pf.min_length {
        t.push_str(&format!("min_length = {v}\n"));
    }
    if let Some(v) = pf.max_length {
        t.push_str(&format!("max_length = {v}\n"));
    }
    if pf.min_length.is_some() || pf.max_length.is_some() {
        t.push_str(&format!("length_unit = {}\n", quoted(pf.length_unit.unwrap_or_else(|| length_unit(pf)))));
    }
    if let Some(v) = pf.plaintext_max_bytes {
        t.push_str(&format!("encrypted = true\nplaintext_max_bytes = {v}\n"));
    }
    t
}

/// The spec table for an error code new on the page, under a review comment.
fn new_error(pe: &PageError) -> String {
    let mut t = review_line(&format!("new on the page (line {}); check retryable and the remedy", pe.line));
    t.push_str("[[endpoints.errors]]\n");
    if let Some(s) = pe.status {
        t.push_str(&format!("status = {s}\n"));
    }
    t.push_str(&format!("code = {}\ndescription = {}\n", quoted(&pe.code), quoted(&pe.description)));
    if let Some(r) = &pe.remedy {
        t.push_str(&format!("remedy = {}\n", quoted(r)));
    }
    t
}

/// How a page's length limit counts: display width where it says a Chinese character counts
/// twice, characters otherwise.
fn length_unit(pf: &PageField) -> &'static str {
    if pf.title.contains("两个字符") || pf.description.contains("两个字符") {
        "width"
    } else {
        "chars"
    }
}

/// A page's example against the spec's copy, whitespace ignored.
fn compare_example(
    what: &str,
    key: &'static str,
    page: Option<&(usize, String)>,
    spec: Option<&str>,
    table: usize,
    spec_line: &Option<usize>,
    push: &mut dyn FnMut(String, Option<usize>, Option<usize>, Option<Edit>),
) {
    let Some((line, text)) = page else { return };
    if spec.is_some_and(|s| squeezed(s) == squeezed(text)) {
        return;
    }
    let value = if text.contains("\'\'\'") {
        None
    } else if text.contains('\n') {
        Some(format!("\'\'\'\n{text}\n\'\'\'"))
    } else {
        Some(quoted(text))
    };
    let edit = value.map(|v| Edit::Set { table, key, value: Some(v), review: None });
    let fact = if spec.is_some() { format!("{what}: the page's differs from the spec's") } else { format!("{what}: on the page, not in the spec") };
    push(fact, Some(*line), *spec_line, edit);
}
