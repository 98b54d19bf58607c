//! A small multipart/form-data reader for `cgi-bin/media/upload`: finds the first part named
//! `media` and returns its file name and bytes (quoted parameters may hold `;`, the body is
//! binary). Format checks of those bytes are in `media`.

use std::collections::BTreeMap;

/// The `boundary` parameter of a multipart/form-data content type.
fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        let v = v.trim().trim_matches('"');
        (k.trim().eq_ignore_ascii_case("boundary") && !v.is_empty()).then(|| v.to_string())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// `name="media"; filename="a.png"` → its parameters (quoted values may hold `;`).
fn disposition_params(value: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let (mut cur, mut quoted, mut pieces) = (String::new(), false, Vec::new());
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => pieces.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    pieces.push(cur);
    for p in pieces {
        if let Some((k, v)) = p.split_once('=') {
            out.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

/// The first part named `media`: (filename, bytes).
pub(super) fn media_part<'a>(content_type: &str, body: &'a [u8]) -> Option<(Option<String>, &'a [u8])> {
    let delim = format!("--{}", boundary(content_type)?);
    let next_delim = format!("\r\n{delim}");
    let mut pos = find(body, delim.as_bytes(), 0)? + delim.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return None;
        }
        pos = find(body, b"\r\n", pos)? + 2;
        let (headers, data_start) = if body.get(pos..pos + 2) == Some(b"\r\n") {
            ("".to_string(), pos + 2)
        } else {
            let end = find(body, b"\r\n\r\n", pos)?;
            (String::from_utf8_lossy(&body[pos..end]).into_owned(), end + 4)
        };
        let data_end = find(body, next_delim.as_bytes(), data_start)?;
        let disposition = headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("content-disposition").then(|| disposition_params(v))
        });
        if let Some(d) = disposition {
            if d.get("name").map(String::as_str) == Some("media") {
                return Some((d.get("filename").cloned(), &body[data_start..data_end]));
            }
        }
        pos = data_end + next_delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::super::media::sniff;
    use super::*;

    #[test]
    fn multipart_media_part() {
        let ct = "multipart/form-data; boundary=\"XyZ\"";
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a;b.png\"; filelength=3\r\nContent-Type: image/png\r\n\r\nab\r\nc\r\n--XyZ--\r\n";
        let (name, data) = media_part(ct, body).unwrap();
        assert_eq!(name.as_deref(), Some("a;b.png"));
        assert_eq!(data, b"ab\r\nc");
        assert!(media_part("multipart/form-data; boundary=Q", body).is_none());
        assert!(media_part("application/json", body).is_none());
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), "jpeg");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), "png");
        assert_eq!(sniff(b"hello"), "unknown");
    }
}
