//! A small strict XML reader for push bodies: one root `<xml>`, its children as name → text.
//! It knows CDATA, comments, the five standard entities and character references, and rejects
//! DOCTYPE (entity expansion, XXE), processing instructions, duplicate children of `<xml>` and
//! deep nesting — a push needs nothing more, and a general XML parser would accept too much.

use std::collections::HashSet;

/// Nesting deeper than this is rejected (pushes nest two or three levels).
const MAX_DEPTH: usize = 32;

#[derive(Debug)]
pub(super) struct Element {
    pub(super) name: String,
    /// The text (CDATA and entities resolved), or the raw inner XML when the element has
    /// child elements.
    pub(super) value: String,
}

#[derive(Debug)]
pub(super) struct Document {
    pub(super) children: Vec<Element>,
}

/// Parses `input`. Errors name positions and element names, never text content.
/// XML 1.0's `Char`: tab, newline, carriage return and everything from U+0020 except the
/// surrogates (impossible in a `char`) and U+FFFE/U+FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= '\u{20}' && c != '\u{fffe}' && c != '\u{ffff}')
}

pub(super) fn parse(input: &str) -> Result<Document, String> {
    if let Some((at, c)) = input.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        return Err(format!("a character XML does not allow, U+{:04X} (byte {at})", u32::from(c)));
    }
    let mut p = Parser { s: input, pos: 0 };
    if input.starts_with('\u{feff}') {
        p.pos = 3;
    }
    if p.starts("<?xml") && matches!(p.byte_at(p.pos + 5), Some(b' ' | b'\t' | b'\r' | b'\n' | b'?')) {
        let end = p.find("?>").ok_or("the XML declaration is not terminated")?;
        p.pos = end + 2;
    }
    p.misc()?;
    if p.eof() {
        return Err("the XML has no root element".into());
    }
    if !p.starts("<") {
        return Err(format!("text before the root element (byte {})", p.pos));
    }
    let (name, empty) = p.start_tag()?;
    if name != "xml" {
        return Err(format!("the root element must be <xml>, got <{}>", shorten(name)));
    }
    let children = if empty { Vec::new() } else { p.root_children()? };
    p.misc()?;
    if !p.eof() {
        return Err(format!("content after </xml> (byte {})", p.pos));
    }
    Ok(Document { children })
}

fn shorten(name: &str) -> String {
    if name.chars().count() > 64 {
        format!("{}…", name.chars().take(64).collect::<String>())
    } else {
        name.to_string()
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn byte_at(&self, i: usize) -> Option<u8> {
        self.s.as_bytes().get(i).copied()
    }
    fn starts(&self, prefix: &str) -> bool {
        self.rest().starts_with(prefix)
    }
    fn find(&self, needle: &str) -> Option<usize> {
        self.rest().find(needle).map(|i| self.pos + i)
    }
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.byte_at(self.pos), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Markup other than elements, text and CDATA: comments are skipped, the rest refused.
    /// Returns `Ok(true)` when a comment was skipped.
    fn markup(&mut self) -> Result<bool, String> {
        let rest = self.rest().as_bytes();
        if self.starts("<!--") {
            let end =
                self.rest()[4..].find("-->").ok_or_else(|| format!("unterminated comment (byte {})", self.pos))?;
            self.pos += 4 + end + 3;
            return Ok(true);
        }
        if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
            return Err(
                "a DOCTYPE is not allowed in a push (it would enable entity expansion and external entities)".into()
            );
        }
        if self.starts("<?") {
            return Err(format!(
                "processing instructions are not allowed (byte {}); only an XML declaration at the very start",
                self.pos
            ));
        }
        if self.starts("<!") && !self.starts("<![CDATA[") {
            return Err(format!("markup declarations are not allowed (byte {})", self.pos));
        }
        Ok(false)
    }

    /// Whitespace and comments outside the root element.
    fn misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_ws();
            if !self.markup()? {
                if self.starts("<![CDATA[") {
                    return Err(format!("CDATA outside the root element (byte {})", self.pos));
                }
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<&'a str, String> {
        let start = self.pos;
        while let Some(b) = self.byte_at(self.pos) {
            if b.is_ascii_whitespace() || b"/>=<\"'&!?;".contains(&b) {
                break;
            }
            self.pos += 1;
        }
        let name = &self.s[start..self.pos];
        match name.bytes().next() {
            None => Err(format!("expected a name (byte {start})")),
            Some(b) if b.is_ascii_digit() || b == b'-' || b == b'.' => Err(format!("invalid name (byte {start})")),
            Some(_) => Ok(name),
        }
    }

    /// At `<`: reads a start tag, returning its name and whether it is empty (`/>`).
    /// Attributes are checked for syntax and ignored.
    fn start_tag(&mut self) -> Result<(&'a str, bool), String> {
        self.pos += 1;
        let name = self.name()?;
        loop {
            let spaced = self.skip_ws();
            if self.starts("/>") {
                self.pos += 2;
                return Ok((name, true));
            }
            if self.starts(">") {
                self.pos += 1;
                return Ok((name, false));
            }
            if self.eof() {
                return Err(format!("the start tag <{}> is not terminated", shorten(name)));
            }
            if !spaced {
                return Err(format!("malformed start tag <{}> (byte {})", shorten(name), self.pos));
            }
            self.name()?;
            self.skip_ws();
            if !self.starts("=") {
                return Err(format!("malformed attribute in <{}> (byte {})", shorten(name), self.pos));
            }
            self.pos += 1;
            self.skip_ws();
            let quote = match self.byte_at(self.pos) {
                Some(q @ (b'"' | b'\'')) => q as char,
                _ => return Err(format!("unquoted attribute value in <{}> (byte {})", shorten(name), self.pos)),
            };
            let end = self.rest()[1..]
                .find(quote)
                .ok_or_else(|| format!("unterminated attribute value in <{}>", shorten(name)))?;
            if self.rest()[1..1 + end].contains('<') {
                return Err(format!("'<' in an attribute value of <{}>", shorten(name)));
            }
            self.pos += 1 + end + 1;
        }
    }

    /// After `</`: the name and `>`; checks it closes `open`.
    fn end_tag(&mut self, open: &str) -> Result<(), String> {
        self.pos += 2;
        let name = self.name()?;
        self.skip_ws();
        if !self.starts(">") {
            return Err(format!("malformed end tag </{}>", shorten(name)));
        }
        self.pos += 1;
        if name != open {
            return Err(format!("</{}> closes <{}>", shorten(name), shorten(open)));
        }
        Ok(())
    }

    fn root_children(&mut self) -> Result<Vec<Element>, String> {
        let mut children = Vec::new();
        let mut seen = HashSet::new();
        loop {
            self.skip_ws();
            if self.eof() {
                return Err("the root element <xml> is not closed".into());
            }
            if self.starts("</") {
                self.end_tag("xml")?;
                return Ok(children);
            }
            if self.markup()? {
                continue;
            }
            if !self.starts("<") || self.starts("<![CDATA[") {
                return Err(format!("text directly inside <xml> (byte {})", self.pos));
            }
            let element = self.element(1)?;
            if !seen.insert(element.name.clone()) {
                return Err(format!("the element <{}> appears more than once in <xml>", shorten(&element.name)));
            }
            children.push(element);
        }
    }

    /// At `<` of a start tag: the whole element.
    fn element(&mut self, depth: usize) -> Result<Element, String> {
        if depth > MAX_DEPTH {
            return Err(format!("elements are nested more than {MAX_DEPTH} levels deep"));
        }
        let (name, empty) = self.start_tag()?;
        if empty {
            return Ok(Element { name: name.to_string(), value: String::new() });
        }
        let inner_start = self.pos;
        let mut text = String::new();
        let mut nested = false;
        loop {
            if self.eof() {
                return Err(format!("the element <{}> is not closed", shorten(name)));
            }
            if self.starts("</") {
                let inner_end = self.pos;
                self.end_tag(name)?;
                let value = if nested { self.s[inner_start..inner_end].to_string() } else { text };
                return Ok(Element { name: name.to_string(), value });
            }
            if self.starts("<![CDATA[") {
                let end =
                    self.rest()[9..].find("]]>").ok_or_else(|| format!("unterminated CDATA in <{}>", shorten(name)))?;
                text.push_str(&self.rest()[9..9 + end]);
                self.pos += 9 + end + 3;
                continue;
            }
            if self.markup()? {
                continue;
            }
            if self.starts("<") {
                nested = true;
                self.element(depth + 1)?;
                continue;
            }
            if self.starts("&") {
                text.push(self.entity()?);
                continue;
            }
            let run = self.rest().find(['<', '&']).unwrap_or(self.rest().len());
            text.push_str(&self.rest()[..run]);
            self.pos += run;
        }
    }

    /// At `&`: one of the five standard entities or a character reference.
    fn entity(&mut self) -> Result<char, String> {
        let at = self.pos;
        let semi = self
            .rest()
            .bytes()
            .take(12)
            .position(|b| b == b';')
            .ok_or_else(|| format!("an unescaped '&' (byte {at})"))?;
        let name = &self.rest()[1..semi];
        let c = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                // Only the digits XML allows: `from_str_radix` and `parse` would also take a
                // leading `+` (`&#+65;`).
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    hex.bytes().all(|b| b.is_ascii_hexdigit()).then(|| u32::from_str_radix(hex, 16).ok()).flatten()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.bytes().all(|b| b.is_ascii_digit()).then(|| dec.parse::<u32>().ok()).flatten()
                } else {
                    return Err(format!(
                        "an unknown entity (byte {at}): only &lt; &gt; &amp; &quot; &apos; and character references are allowed"
                    ));
                };
                code.and_then(char::from_u32).filter(|&c| is_xml_char(c))
            }
        };
        let c = c.ok_or_else(|| format!("an invalid character reference (byte {at})"))?;
        self.pos += semi + 1;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_children_cdata_entities_and_nesting() {
        let doc = parse(
            "<?xml version=\"1.0\"?>\n<!-- c --><xml a='1'>\n<A><![CDATA[x<y]]></A><B>1 &lt; 2 &amp; &#x4E2D;&#25991;</B><C/><D><i>1</i><i>2</i></D><!-- c --></xml>\n",
        )
        .unwrap();
        let get = |n: &str| doc.children.iter().find(|c| c.name == n).unwrap().value.clone();
        assert_eq!(get("A"), "x<y");
        assert_eq!(get("B"), "1 < 2 & 中文");
        assert_eq!(get("C"), "");
        assert_eq!(get("D"), "<i>1</i><i>2</i>");
    }

    #[test]
    fn xml_rejections() {
        let cases: &[(&str, &str)] = &[
            ("<!DOCTYPE xml [<!ENTITY a \"b\">]><xml><A>&a;</A></xml>", "DOCTYPE"),
            ("<?xml version='1.0'?><!doctype xml><xml/>", "DOCTYPE"),
            ("<xml><!DOCTYPE x><A/></xml>", "DOCTYPE"),
            ("<?xml-stylesheet href='x'?><xml/>", "processing instructions"),
            ("<xml><?php echo 1 ?></xml>", "processing instructions"),
            ("<xml><A><?x?></A></xml>", "processing instructions"),
            ("<root><A/></root>", "root element must be <xml>"),
            ("", "no root element"),
            ("<xml><A>1</A>", "not closed"),
            ("<xml><A>1</B></xml>", "</B> closes <A>"),
            ("<xml><A>&foo;</A></xml>", "unknown entity"),
            ("<xml><A>a & b</A></xml>", "unescaped '&'"),
            ("<xml><A>&#0;</A></xml>", "invalid character reference"),
            ("<xml><A>&#+65;</A></xml>", "invalid character reference"),
            ("<xml><A>&#x+41;</A></xml>", "invalid character reference"),
            ("<xml><A>&#1;</A></xml>", "invalid character reference"),
            ("<xml><A>a\u{1}b</A></xml>", "U+0001"),
            ("<xml><A>a\u{0}b</A></xml>", "U+0000"),
            ("<xml><A>1</A><A>2</A></xml>", "more than once"),
            ("<xml>text</xml>", "text directly inside"),
            ("<xml/><xml/>", "content after"),
            ("<xml><A><![CDATA[x</A></xml>", "unterminated CDATA"),
        ];
        for (input, want) in cases {
            match parse(input) {
                Ok(_) => panic!("accepted {input:?}"),
                Err(e) => assert!(e.contains(want), "{input:?}: {e}"),
            }
        }
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse(&deep).unwrap_err().contains("nested"));
    }
}
