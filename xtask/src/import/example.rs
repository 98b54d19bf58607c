//! Example blocks of a page: the JSON (or one line of text) after a heading such as 请求示例 or
//! 返回json示例, up to the brace that closes it; compared with the spec's `request_example` and
//! `response_example` with whitespace ignored.

/// The example after the heading at index `at` of `lines` (blank lines skipped): a JSON block
/// through its closing brace (or, if the page never closes it, up to the next line `stop`
/// accepts), or the one line of text that follows. Returns the index of its first line.
pub fn block(lines: &[&str], at: usize, stop: &dyn Fn(&str) -> bool) -> Option<(usize, String)> {
    let first = (at + 1..lines.len()).find(|&k| !lines[k].trim().is_empty())?;
    if !lines[first].trim_start().starts_with('{') {
        let line = lines[first].trim();
        return (!stop(line)).then(|| (first, line.to_string()));
    }
    let mut depth = 0i32;
    let mut out: Vec<&str> = Vec::new();
    for line in &lines[first..] {
        if !out.is_empty() && depth > 0 && stop(line.trim()) {
            break;
        }
        out.push(line);
        depth += braces(line);
        if depth <= 0 {
            break;
        }
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    Some((first, out.join("\n")))
}

/// Opening minus closing braces outside JSON strings.
fn braces(line: &str) -> i32 {
    let (mut n, mut in_string, mut escaped) = (0, false, false);
    for c in line.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' if !in_string => n += 1,
            '}' if !in_string => n -= 1,
            _ => {}
        }
    }
    n
}

/// The text with all whitespace removed: how examples are compared.
pub fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        let lines = ["请求示例", "", "{", "  \"a\": \"}\",", "  \"b\": {\"c\": 1}", "}", "", "{", "JAVA示例代码", "}"];
        let never = |_: &str| false;
        assert_eq!(block(&lines, 0, &never), Some((2, "{\n  \"a\": \"}\",\n  \"b\": {\"c\": 1}\n}".to_string())));
        let open = ["返回json示例:", "{", "\"x\": {", "\"y\": 1", "}", "返回参数说明:", "a | b |"];
        let heading = |l: &str| l.ends_with(':');
        assert_eq!(block(&open, 0, &heading), Some((1, "{\n\"x\": {\n\"y\": 1\n}".to_string())), "an unclosed example ends at the next heading");
        assert_eq!(block(&["返回示例", "", "无数据(Http状态码为204)"], 0, &never), Some((2, "无数据(Http状态码为204)".to_string())));
        assert_eq!(squeezed(" { \"a\" :\n 1 } "), "{\"a\":1}");
    }
}
