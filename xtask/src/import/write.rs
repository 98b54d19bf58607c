//! `--write`: applies the report's findings to the spec file as text edits anchored on the
//! tables the findings name (a key set, replaced or removed; a table added after its siblings
//! or deleted; an enum value added or removed), so comments, order, quirks, remedies and every
//! key the importer does not own stay byte for byte. New facts are written under a
//! `# review (cargo xtask import): …` comment.

use std::ops::Range;

/// One change to the spec text. `table` is the byte offset of a table's `[[…]]` header.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Set `key = value` in the table (replacing its line, or its lines for a multi-line string,
    /// or adding it at the table's end); `None` removes the key. `review` adds a review comment above the line.
    Set { table: usize, key: &'static str, value: Option<String>, review: Option<String> },
    /// Several edits for one finding.
    All(Vec<Edit>),
    /// Add `text` (whole lines) after the table, or after it and all its sub-tables (`whole`).
    InsertAfter { table: usize, whole: bool, text: String },
    /// Delete the table (and the comment lines directly above its header).
    Delete { table: usize },
    /// Add `item` to the multi-line array `key` of the table, under a review comment.
    AddItem { table: usize, key: &'static str, item: String, review: Option<String> },
    /// Remove the line of the multi-line array `key` of the table that contains `needle`.
    RemoveItem { table: usize, key: &'static str, needle: String },
}

/// A TOML basic string.
pub fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The `# review` comment line for a new fact.
pub fn review_line(what: &str) -> String {
    format!("# review (cargo xtask import): {what}\n")
}

/// The lines of `text` as (start offset, line without its newline), and which of them are
/// table headers (outside multi-line strings).
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
    header: Vec<bool>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = Vec::new();
        let mut header = Vec::new();
        let mut in_string: Option<&str> = None;
        let mut at = 0;
        for line in text.split_inclusive('\n') {
            starts.push(at);
            header.push(in_string.is_none() && line.starts_with('['));
            for delim in ["'''", "\"\"\""] {
                let n = line.matches(delim).count();
                if n % 2 == 1 && (in_string.is_none() || in_string == Some(delim)) {
                    in_string = if in_string.is_some() { None } else { Some(delim) };
                }
            }
            at += line.len();
        }
        Lines { text, starts, header }
    }

    fn line(&self, k: usize) -> &'a str {
        let end = self.starts.get(k + 1).copied().unwrap_or(self.text.len());
        &self.text[self.starts[k]..end]
    }

    fn index_of(&self, offset: usize) -> Result<usize, String> {
        self.starts.iter().position(|&s| s == offset).filter(|&k| self.header[k]).ok_or_else(|| format!("no table header at byte {offset}"))
    }

    fn end(&self, k: usize) -> usize {
        self.starts.get(k).copied().unwrap_or(self.text.len())
    }

    /// The table at line `k`: its lines `k..end`, without the blank and comment lines before
    /// the next header; with `whole`, through its sub-tables (up to the next top-level header).
    fn region(&self, k: usize, whole: bool) -> Range<usize> {
        let top = |n: usize| !self.line(n).starts_with("[[") || !self.line(n).trim().trim_matches(['[', ']']).contains('.');
        let mut end = k + 1;
        while end < self.starts.len() && !(self.header[end] && (!whole || top(end))) {
            end += 1;
        }
        while end > k + 1 && matches!(self.line(end - 1).trim_start().chars().next(), None | Some('#')) {
            end -= 1;
        }
        k..end
    }
}

/// Applies `edits` to `text`.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, String> {
    let lines = Lines::new(text);
    let mut flat = Vec::new();
    for e in edits {
        flatten(e, &mut flat);
    }
    // (start, end, replacement), on the original text.
    let mut changes: Vec<(usize, usize, String)> = Vec::new();
    for e in flat {
        changes.push(resolve(&lines, e)?);
    }
    let order: Vec<usize> = {
        let mut o: Vec<usize> = (0..changes.len()).collect();
        o.sort_by(|&a, &b| changes[b].0.cmp(&changes[a].0).then(b.cmp(&a)));
        o
    };
    let mut out = text.to_string();
    let mut last_start = usize::MAX;
    for k in order {
        let (start, end, ref with) = changes[k];
        if end > last_start {
            return Err("two findings edit the same spec lines; apply one, then import again".into());
        }
        out.replace_range(start..end, with);
        last_start = start;
    }
    Ok(out)
}

fn flatten<'e>(e: &'e Edit, out: &mut Vec<&'e Edit>) {
    match e {
        Edit::All(v) => v.iter().for_each(|e| flatten(e, out)),
        e => out.push(e),
    }
}

fn resolve(lines: &Lines, e: &Edit) -> Result<(usize, usize, String), String> {
    match e {
        Edit::Set { table, key, value, review } => {
            let k = lines.index_of(*table)?;
            let region = lines.region(k, false);
            let review = review.as_deref().map(review_line).unwrap_or_default();
            let found = region.clone().skip(1).find(|&n| {
                let l = lines.line(n);
                l.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('='))
            });
            // A multi-line string value runs to the line that closes it.
            let last = |n: usize| -> Result<usize, String> {
                for delim in ["'''", "\"\"\""] {
                    if lines.line(n).matches(delim).count() % 2 == 1 {
                        return (n + 1..lines.starts.len()).find(|&m| lines.line(m).contains(delim)).ok_or_else(|| format!("`{key}` at spec line {} never closes its {delim}", n + 1));
                    }
                }
                Ok(n)
            };
            match (found, value) {
                (Some(n), Some(v)) => Ok((lines.starts[n], lines.end(last(n)? + 1), format!("{review}{key} = {v}\n"))),
                (Some(n), None) => Ok((lines.starts[n], lines.end(last(n)? + 1), String::new())),
                (None, Some(v)) => Ok((lines.end(region.end), lines.end(region.end), format!("{review}{key} = {v}\n"))),
                (None, None) => Ok((0, 0, String::new())),
            }
        }
        Edit::InsertAfter { table, whole, text } => {
            let k = lines.index_of(*table)?;
            let region = lines.region(k, *whole);
            let at = lines.end(region.end);
            // Keep the file's spacing: a blank line between tables where it has one.
            let blank = region.end < lines.starts.len() && lines.line(region.end).trim().is_empty();
            Ok((at, at, if blank { format!("\n{text}") } else { text.clone() }))
        }
        Edit::Delete { table } => {
            let k = lines.index_of(*table)?;
            let region = lines.region(k, false);
            let mut first = k;
            while first > 0 && lines.line(first - 1).starts_with('#') {
                first -= 1;
            }
            let mut end = region.end;
            // Drop one of two blank lines the deletion would leave side by side.
            if first > 0 && lines.line(first - 1).trim().is_empty() && end < lines.starts.len() && lines.line(end).trim().is_empty() {
                end += 1;
            }
            Ok((lines.starts[first], lines.end(end), String::new()))
        }
        Edit::AddItem { table, key, item, review } => {
            let (open, close) = array_lines(lines, *table, key)?;
            let indent: String = lines.line(close - 1).chars().take_while(|c| *c == ' ').collect();
            let indent = if close - 1 == open { "    ".to_string() } else { indent };
            let review = review.as_deref().map(|r| format!("{indent}{}", review_line(r))).unwrap_or_default();
            Ok((lines.starts[close], lines.starts[close], format!("{review}{indent}{item},\n")))
        }
        Edit::RemoveItem { table, key, needle } => {
            let (open, close) = array_lines(lines, *table, key)?;
            let n = (open + 1..close).find(|&n| lines.line(n).contains(needle.as_str())).ok_or_else(|| format!("`{key}` has no item with {needle:?}"))?;
            Ok((lines.starts[n], lines.end(n + 1), String::new()))
        }
        Edit::All(_) => unreachable!("flattened"),
    }
}

/// The lines of `key = [` and of its closing `]` in the table at `table`.
fn array_lines(lines: &Lines, table: usize, key: &str) -> Result<(usize, usize), String> {
    let k = lines.index_of(table)?;
    let region = lines.region(k, false);
    let open = region
        .clone()
        .find(|&n| lines.line(n).strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')) && lines.line(n).trim_end().ends_with('['))
        .ok_or_else(|| format!("`{key}` is not a multi-line array (one item per line); edit it by hand"))?;
    let close = (open + 1..region.end).find(|&n| lines.line(n).trim() == "]").ok_or_else(|| format!("`{key}` has no closing `]` on its own line"))?;
    Ok((open, close))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# head\n[[endpoints]]\nid = \"a\"\nsummary = '''\n[not a header]\n'''\n\n# the field\n[[endpoints.fields]]\nname = \"x\"\nmax_length = 64\n\n[[endpoints.errors]]\ncode = \"E\"\n\n[[enums]]\nname = \"K\"\nvalues = [\n    { value = 0, name = \"A\" },\n    { value = 1, name = \"B\" },\n]\n";

    fn at(header: &str, nth: usize) -> usize {
        TEXT.match_indices(header).nth(nth).unwrap().0
    }

    #[test]
    fn edits_keep_everything_else() {
        let field = at("[[endpoints.fields]]", 0);
        let set = apply(TEXT, &[Edit::Set { table: field, key: "max_length", value: Some("128".into()), review: None }]).unwrap();
        assert_eq!(set, TEXT.replace("max_length = 64", "max_length = 128"));
        let add = apply(TEXT, &[Edit::Set { table: field, key: "min_length", value: Some("1".into()), review: None }]).unwrap();
        assert_eq!(add, TEXT.replace("max_length = 64\n", "max_length = 64\nmin_length = 1\n"));
        let gone = apply(TEXT, &[Edit::Delete { table: field }]).unwrap();
        assert_eq!(gone, TEXT.replace("# the field\n[[endpoints.fields]]\nname = \"x\"\nmax_length = 64\n\n", ""));
        let err = at("[[endpoints.errors]]", 0);
        let more = apply(TEXT, &[Edit::InsertAfter { table: err, whole: false, text: "[[endpoints.errors]]\ncode = \"F\"\n".into() }]).unwrap();
        assert_eq!(more, TEXT.replace("code = \"E\"\n", "code = \"E\"\n\n[[endpoints.errors]]\ncode = \"F\"\n"));
        let ep = at("[[endpoints]]", 0);
        let fresh = apply(TEXT, &[Edit::InsertAfter { table: ep, whole: true, text: "[[endpoints.errors]]\ncode = \"G\"\n".into() }]).unwrap();
        assert_eq!(fresh, TEXT.replace("code = \"E\"\n", "code = \"E\"\n\n[[endpoints.errors]]\ncode = \"G\"\n"));
        let en = at("[[enums]]", 0);
        let item = apply(TEXT, &[Edit::AddItem { table: en, key: "values", item: "{ value = 2, name = \"C\" }".into(), review: None }]).unwrap();
        assert!(item.contains("    { value = 1, name = \"B\" },\n    { value = 2, name = \"C\" },\n]\n"), "{item}");
        let less = apply(TEXT, &[Edit::RemoveItem { table: en, key: "values", needle: "value = 0,".into() }]).unwrap();
        assert_eq!(less, TEXT.replace("    { value = 0, name = \"A\" },\n", ""));
        let summary = apply(TEXT, &[Edit::Set { table: ep, key: "summary", value: Some("'''\nnew\n'''".into()), review: None }]).unwrap();
        assert_eq!(summary, TEXT.replace("summary = '''\n[not a header]\n'''\n", "summary = '''\nnew\n'''\n"), "a multi-line value is replaced whole");
    }
}
