//! Push bodies as XML: parsed by `roxmltree` (DTDs refused, entity expansion bounded, node count
//! capped), with the stricter rules a push needs layered on top: one root `<xml>` whose
//! children are read as name → text, no DOCTYPE at all (roxmltree lets an empty one through), no
//! processing instructions, no text directly inside `<xml>`, no duplicate children, no control
//! characters even as character references, and bounded nesting.

use std::collections::HashSet;

/// Nesting deeper than this is rejected (pushes nest two or three levels).
const MAX_DEPTH: usize = 32;
/// More nodes than this is rejected before the tree is built (a push has a few dozen).
const MAX_NODES: u32 = 10_000;

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

/// XML 1.0's `Char`: tab, newline, carriage return and everything from U+0020 except the
/// surrogates (impossible in a `char`) and U+FFFE/U+FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= '\u{20}' && c != '\u{fffe}' && c != '\u{ffff}')
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        format!("{}…", text.chars().take(max).collect::<String>())
    } else {
        text.to_string()
    }
}

/// Parses `input`. Errors name positions and element names, never text content.
pub(super) fn parse(input: &str) -> Result<Document, String> {
    if let Some((at, c)) = input.char_indices().find(|&(_, c)| !is_xml_char(c) && c != '\u{feff}') {
        return Err(format!("a character XML does not allow, U+{:04X} (byte {at})", u32::from(c)));
    }
    if input.as_bytes().windows(9).any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE")) {
        return Err("a DOCTYPE is not allowed in a push (it would enable entity expansion and external entities)".into());
    }
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(input, options).map_err(|e| match e {
        roxmltree::Error::NoRootNode => "the XML has no root element".to_string(),
        roxmltree::Error::NodesLimitReached => format!("more than {MAX_NODES} XML nodes"),
        // roxmltree's messages name the position, and element or entity names at most.
        other => format!("malformed XML: {}", shorten(&other.to_string(), 200)),
    })?;
    if let Some(pi) = doc.root().children().find(|n| n.is_pi()) {
        return Err(format!("processing instructions are not allowed ({}); only an XML declaration at the very start", doc.text_pos_at(pi.range().start)));
    }
    let root = doc.root_element();
    if root.tag_name().name() != "xml" || root.tag_name().namespace().is_some() {
        return Err(format!("the root element must be <xml>, got <{}>", shorten(root.tag_name().name(), 64)));
    }
    let mut children = Vec::new();
    let mut seen = HashSet::new();
    for node in root.children() {
        let at = || doc.text_pos_at(node.range().start);
        match node.node_type() {
            roxmltree::NodeType::Element => {
                let name = node.tag_name().name();
                if !seen.insert(name) {
                    return Err(format!("the element <{}> appears more than once in <xml>", shorten(name, 64)));
                }
                children.push(Element { name: name.to_string(), value: element_value(input, &doc, node)? });
            }
            roxmltree::NodeType::Text if !node.text().unwrap_or("").trim().is_empty() => {
                return Err(format!("text directly inside <xml> ({})", at()));
            }
            roxmltree::NodeType::PI => return Err(format!("processing instructions are not allowed ({})", at())),
            _ => {}
        }
    }
    Ok(Document { children })
}

/// The value of a child of `<xml>`: its text, or its raw inner XML when it has child
/// elements (after checking them).
fn element_value(input: &str, doc: &roxmltree::Document, element: roxmltree::Node) -> Result<String, String> {
    check_subtree(doc, element, 1)?;
    if element.children().any(|c| c.is_element()) {
        let (first, last) = (element.first_child().expect("has children"), element.last_child().expect("has children"));
        return Ok(input[first.range().start..last.range().end].to_string());
    }
    Ok(element.children().filter_map(|c| c.text()).collect())
}

/// Refuses processing instructions, characters XML does not allow (written as character
/// references, which roxmltree resolves) and nesting deeper than [`MAX_DEPTH`].
fn check_subtree(doc: &roxmltree::Document, node: roxmltree::Node, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("elements are nested more than {MAX_DEPTH} levels deep"));
    }
    for child in node.children() {
        let at = || doc.text_pos_at(child.range().start);
        match child.node_type() {
            roxmltree::NodeType::PI => return Err(format!("processing instructions are not allowed ({})", at())),
            roxmltree::NodeType::Text => {
                if let Some(c) = child.text().unwrap_or("").chars().find(|&c| !is_xml_char(c)) {
                    return Err(format!("an invalid character reference, U+{:04X} ({})", u32::from(c), at()));
                }
            }
            roxmltree::NodeType::Element => check_subtree(doc, child, depth + 1)?,
            _ => {}
        }
    }
    Ok(())
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
            ("<xml><A>1</A>", "never closed"),
            ("<xml><A>1</B></xml>", "expected 'A' tag, not 'B' at 1:10"),
            ("<xml><A>&foo;</A></xml>", "unknown entity"),
            ("<xml><A>a & b</A></xml>", "malformed entity reference at 1:11"),
            ("<xml><A>&#0;</A></xml>", "malformed entity reference"),
            ("<xml><A>&#+65;</A></xml>", "malformed entity reference"),
            ("<xml><A>&#x+41;</A></xml>", "malformed entity reference"),
            ("<xml><A>&#1;</A></xml>", "malformed entity reference"),
            ("<xml><A>a\u{1}b</A></xml>", "U+0001"),
            ("<xml><A>a\u{0}b</A></xml>", "U+0000"),
            ("<xml><A>1</A><A>2</A></xml>", "more than once"),
            ("<xml>text</xml>", "text directly inside"),
            ("<xml/><xml/>", "malformed XML"),
            ("<xml><A><![CDATA[x</A></xml>", "expected ']]>'"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|(input, want)| match parse(input) {
                Ok(_) => Some(format!("accepted {input:?}")),
                Err(e) if !e.contains(want) => Some(format!("{input:?}: {e}")),
                Err(_) => None,
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        // No text content in any message.
        assert!(!parse("<xml><A>secret & x</A></xml>").unwrap_err().contains("secret"));
        let many = format!("<xml>{}</xml>", "<a/>".repeat(20_000));
        assert!(parse(&many).unwrap_err().contains("more than 10000 XML nodes"));
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse(&deep).unwrap_err().contains("nested"));
    }
}
