//! The parsed form of the URLs one transport sends to, kept between calls. A URL is parsed as
//! a browser would (WHATWG parsing: host normalisation, the query percent-encoded character by
//! character), and what goes on the wire is that parse written out: about 9,000 instructions
//! for a 门店小程序 URL with its `access_token`, a tenth of a whole call's CPU. Yet a client
//! sends to the same few URLs over and over (TOP: always its gateway; 门店小程序: one per
//! endpoint while the token lasts), so the outcome, the request target as the HTTP client
//! takes it, is kept.
//!
//! The URLs may carry credentials (an `access_token` in the query): `Debug` shows only how
//! many are kept, and at most [`KEPT`] are kept, the least recently used going first.

use std::sync::{Mutex, PoisonError};

/// How many URLs one transport keeps parsed.
pub const KEPT: usize = 16;

/// Recently sent URLs with their parsed form, the most recent first.
#[derive(Default)]
pub struct ParsedUrls(Mutex<Vec<(String, http::Uri)>>);

impl std::fmt::Debug for ParsedUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("ParsedUrls").field("kept", &kept).finish()
    }
}

impl ParsedUrls {
    /// `url` parsed: the kept copy when it was sent recently, else parsed now (and kept). A
    /// URL that does not parse is not kept; the error says why, without the URL.
    pub fn get(&self, url: &str) -> Result<http::Uri, String> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = kept.iter().position(|(text, _)| text == url) {
            if i > 0 {
                let hit = kept.remove(i);
                kept.insert(0, hit);
            }
            return Ok(kept[0].1.clone());
        }
        drop(kept);
        let parsed = parse(url)?;
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Another call may have parsed the same URL meanwhile: one entry per URL.
        if !kept.iter().any(|(text, _)| text == url) {
            kept.truncate(KEPT - 1);
            kept.insert(0, (url.to_string(), parsed.clone()));
        }
        Ok(parsed)
    }
}

/// `url` as a browser parses it, written out as a request target.
fn parse(url: &str) -> Result<http::Uri, String> {
    let url = url::Url::parse(url).map_err(|e| e.to_string())?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("the scheme `{other}` is not http or https")),
    }
    url.as_str().parse::<http::Uri>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_parse_of_recent_urls_and_drops_the_least_recent() {
        let urls = ParsedUrls::default();
        let first = "https://api.weixin.qq.com/wxa/get_store_list?access_token=T%2B1";
        assert_eq!(urls.get(first).unwrap(), first.parse::<http::Uri>().unwrap());
        // Same text, same URL, from the kept copy.
        assert_eq!(urls.get(first).unwrap().to_string(), first);
        for i in 0..KEPT - 1 {
            urls.get(&format!("http://127.0.0.1:8080/p{i}")).unwrap();
        }
        // `first` is now the least recent of KEPT: used again, it moves to the front.
        assert_eq!(urls.get(first).unwrap().to_string(), first);
        urls.get("http://127.0.0.1:8080/new").unwrap();
        let kept: Vec<String> = urls.0.lock().unwrap().iter().map(|(t, _)| t.clone()).collect();
        assert_eq!(kept.len(), KEPT);
        assert_eq!(kept[1], first);
        assert!(!kept.contains(&"http://127.0.0.1:8080/p0".to_string()), "the least recent went");
        // Each text maps to its own parse; a bad URL fails as the parser says and is not kept.
        assert_eq!(urls.get("http://127.0.0.1:8080/p3").unwrap().path(), "/p3");
        assert!(urls.get("not a url").is_err());
        assert!(!urls.0.lock().unwrap().iter().any(|(t, _)| t == "not a url"));
        // Many threads missing on one URL at once keep it once.
        let shared = std::sync::Arc::new(ParsedUrls::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let shared = shared.clone();
                std::thread::spawn(move || shared.get("http://127.0.0.1:8080/same").unwrap())
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().path(), "/same");
        }
        assert_eq!(shared.0.lock().unwrap().len(), 1);
        // Debug shows no URL (they may carry an access token).
        let shown = format!("{urls:?}");
        assert!(!shown.contains("access_token") && shown.contains("kept: 16"), "{shown}");
    }

    #[test]
    fn a_url_goes_out_as_a_browser_parses_it() {
        let urls = ParsedUrls::default();
        // Host in lower case, the default port dropped, spaces encoded.
        assert_eq!(urls.get("http://API.Example:80/a b?x=1 2").unwrap(), "http://api.example/a%20b?x=1%202");
        assert!(urls.get("ftp://a.example/").unwrap_err().contains("ftp"));
        assert!(urls.get("http://").is_err());
    }
}
