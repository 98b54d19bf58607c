//! 门店小程序 audit event pushes: the document's event XML, the message-push security of the
//! official account (plain `signature`; safe mode `encrypt_type=aes` + `msg_signature` with the
//! AES-256-CBC `Encrypt` envelope) and delivery to a loopback callback over a small
//! hand-written HTTP/1.1 client.
//!
//! - Signatures: `signature = sha1(sort([token, timestamp, nonce]).concat())`, hex lower-case;
//!   `msg_signature = sha1(sort([token, timestamp, nonce, Encrypt]).concat())`.
//! - Encrypt: `base64(AES-256-CBC(key, iv = key[..16], pkcs7_32(random16 ‖ u32_be(len) ‖ xml ‖ appid)))`
//!   with `key = base64_decode(EncodingAESKey + "=")`, decoded allowing the non-zero trailing
//!   bits real keys have, and PKCS#7 padding to a multiple of **32** bytes (pad byte 1..=32).
//! - Delivery: after the audit's delay a spawned task POSTs `text/xml` to the callback URL
//!   with `?signature=…&timestamp=…&nonce=…&openid=…` (safe mode adds `&encrypt_type=aes&msg_signature=…`).
//!   A delivery fails when the connection or the 5-second answer window fails or the status is
//!   not 2xx; like WeChat it is then retried 3 times (at most 4 attempts, 200 ms apart), each
//!   retry a new request (new timestamp, nonce and encryption; same event XML). Every
//!   attempt is recorded once answered (`GET /__admin/wxa` → `pushes`, in the order the
//!   attempts were sent), including the answer, which the platform expects to be `success` or
//!   empty. Nothing is delivered (or recorded) while no callback is configured. The callback
//!   URL and mode are read when the push is due.
//!
//! The state mutex is only taken for short reads and to record outcomes, never across an await.
//! The crypto here (SHA-1 signatures, AES-256-CBC) is the emulator's own, written from the
//! protocol text independently of the SDK on purpose and never shared with it (see the crate doc).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256};
use aws_lc_rs::iv::FixedLength;
use base64::Engine;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::credentials::wxa::{APPID, ENCODING_AES_KEY, ORIGINAL_ID, PUSH_OPENID, PUSH_TOKEN};
use crate::state::Shared;

/// How a push is secured (the official account's 消息加解密方式).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushMode {
    /// 明文模式: the event XML as the body, `signature` over token, timestamp and nonce.
    #[default]
    Plain,
    /// 安全模式: `encrypt_type=aes`, `msg_signature`, and the XML encrypted in `<Encrypt>`.
    Safe,
}

/// One delivery attempt of an audit event push, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WxaPush {
    /// The event name, e.g. `add_store_audit_info`.
    pub event: String,
    /// The `audit_id` the event carries.
    pub audit_id: i64,
    /// 1 for the first attempt, up to 4 (three retries).
    pub attempt: u32,
    /// The HTTP status the callback answered, if it answered.
    pub status: Option<u16>,
    /// The body it answered (WeChat expects `success` or an empty body).
    pub answer: String,
    /// Why the delivery failed (no connection, timeout, non-2xx status), if it did.
    pub error: Option<String>,
    /// When the attempt started, as a count of attempts: the log lists attempts in the order
    /// they were sent, though each is recorded only once answered (answers may come back out
    /// of order).
    #[serde(skip)]
    pub(crate) started: u64,
}

/// A value inside the event XML: strings in CDATA, numbers bare.
#[derive(Debug, Clone)]
pub(crate) enum XmlValue {
    Text(String),
    Number(i64),
}

/// An audit result waiting for its time.
#[derive(Debug, Clone)]
pub(crate) struct PendingPush {
    /// When the audit finishes.
    pub at: Instant,
    pub event: &'static str,
    pub audit_id: i64,
    /// The event's own elements after `<Event>`, in the document's order.
    pub fields: Vec<(&'static str, XmlValue)>,
}

/// Abort handles of the push tasks; dropping the state (reset) cancels pending pushes.
#[derive(Debug, Default)]
pub(crate) struct PushTasks(Vec<tokio::task::AbortHandle>);

impl PushTasks {
    pub fn abort_all(&mut self) {
        for h in self.0.drain(..) {
            h.abort();
        }
    }
}

impl Drop for PushTasks {
    fn drop(&mut self) {
        self.abort_all();
    }
}

const ATTEMPTS: u32 = 4;
const RETRY_INTERVAL: Duration = Duration::from_millis(200);
const ANSWER_WINDOW: Duration = Duration::from_secs(5);

pub(crate) fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

/// The event XML exactly in the document's layout (one element per line).
pub(crate) fn event_xml(p: &PendingPush, create_time: i64) -> String {
    let mut x = String::from("<xml>\n");
    x += &format!("<ToUserName>{}</ToUserName>\n", cdata(ORIGINAL_ID));
    x += &format!("<FromUserName>{}</FromUserName>\n", cdata(PUSH_OPENID));
    x += &format!("<CreateTime>{create_time}</CreateTime>\n");
    x += &format!("<MsgType>{}</MsgType>\n", cdata("event"));
    x += &format!("<Event>{}</Event>\n", cdata(p.event));
    for (name, v) in &p.fields {
        let v = match v {
            XmlValue::Text(s) => cdata(s),
            XmlValue::Number(n) => n.to_string(),
        };
        x += &format!("<{name}>{v}</{name}>\n");
    }
    x += "</xml>";
    x
}

fn sha1_hex(parts: &mut [&str]) -> String {
    parts.sort_unstable();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, parts.concat().as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `signature` of a push: sha1 of the sorted token, timestamp and nonce.
pub(crate) fn signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sha1_hex(&mut [token, timestamp, nonce])
}

/// `msg_signature` of a safe-mode push: sha1 of the sorted token, timestamp, nonce and Encrypt.
pub(crate) fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sha1_hex(&mut [token, timestamp, nonce, encrypt])
}

/// The 32-byte AES key of an EncodingAESKey (43 characters; trailing bits may be non-zero).
pub(crate) fn aes_key(encoding_aes_key: &str) -> Option<[u8; 32]> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    if encoding_aes_key.len() != 43 {
        return None;
    }
    engine.decode(format!("{encoding_aes_key}=")).ok()?.try_into().ok()
}

/// The `Encrypt` text of a safe-mode push, with the given 16 random bytes.
pub(crate) fn encrypt(encoding_aes_key: &str, appid: &str, xml: &str, random: [u8; 16]) -> String {
    let key = aes_key(encoding_aes_key).expect("the emulator's EncodingAESKey is valid");
    let mut buf = random.to_vec();
    buf.extend_from_slice(&(xml.len() as u32).to_be_bytes());
    buf.extend_from_slice(xml.as_bytes());
    buf.extend_from_slice(appid.as_bytes());
    let pad = 32 - buf.len() % 32;
    buf.extend(std::iter::repeat_n(pad as u8, pad));
    let iv: [u8; 16] = key[..16].try_into().expect("16 bytes");
    let cipher = EncryptingKey::cbc(UnboundCipherKey::new(&AES_256, &key).expect("AES-256 key")).expect("CBC key");
    cipher.less_safe_encrypt(&mut buf, EncryptionContext::Iv128(FixedLength::from(iv))).expect("block-aligned input");
    base64::engine::general_purpose::STANDARD.encode(&buf)
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A parsed loopback callback URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallbackUrl {
    /// Host to connect to (`127.0.0.1`, `::1`, `localhost`).
    host: String,
    /// `Host` header value.
    authority: String,
    port: u16,
    /// Path and query, at least `/`.
    target: String,
}

/// Accepts only `http://` URLs whose host is a loopback address or `localhost`.
pub(crate) fn parse_callback_url(url: &str) -> Result<CallbackUrl, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("callback_url must be an http:// URL on loopback, not `{url}`"))?;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(split);
    if authority.contains('@') || authority.is_empty() {
        return Err(format!("callback_url `{url}` has no plain host[:port]"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| format!("callback_url `{url}`: unclosed IPv6 address"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None => 80,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| format!("callback_url `{url}`: bad port"))?,
    };
    let loopback = host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(format!("callback_url must point to a loopback address (127.0.0.1, [::1], localhost), not `{host}`"));
    }
    let target = if target.is_empty() { "/".to_string() } else if target.starts_with('?') { format!("/{target}") } else { target.to_string() };
    Ok(CallbackUrl { host, authority: authority.to_string(), port, target })
}

/// Spawns one delivery task per push and remembers their abort handles.
pub(crate) fn spawn_all(shared: &Arc<Shared>, pushes: Vec<PendingPush>) {
    let handles: Vec<_> = pushes.into_iter().map(|p| tokio::spawn(deliver(shared.clone(), p)).abort_handle()).collect();
    let mut inner = shared.lock();
    inner.wxa.push_tasks.0.retain(|h| !h.is_finished());
    inner.wxa.push_tasks.0.extend(handles);
}

async fn deliver(shared: Arc<Shared>, p: PendingPush) {
    tokio::time::sleep_until(tokio::time::Instant::from_std(p.at)).await;
    let (url, mode) = {
        let inner = shared.lock();
        (inner.wxa.callback_url.clone(), inner.wxa.push_mode)
    };
    let Some(url) = url.and_then(|u| parse_callback_url(&u).ok()) else { return };
    let create_time = unix_now();
    let xml = event_xml(&p, create_time);
    for attempt in 1..=ATTEMPTS {
        // Each attempt is a new request: the event (and its CreateTime) is the same, the
        // timestamp, nonce and encryption are new.
        let (query, body) = signed_request(&xml, mode);
        let started = {
            let mut inner = shared.lock();
            inner.wxa.push_attempts += 1;
            inner.wxa.push_attempts
        };
        let outcome = tokio::time::timeout(ANSWER_WINDOW, post(&url, &query, &body)).await;
        let (status, answer, error) = match outcome {
            Ok(Ok((status, answer))) if (200..300).contains(&status) => (Some(status), answer, None),
            Ok(Ok((status, answer))) => (Some(status), answer, Some(format!("callback answered HTTP {status}"))),
            Ok(Err(e)) => (None, String::new(), Some(e)),
            Err(_) => (None, String::new(), Some(format!("no answer within {} s", ANSWER_WINDOW.as_secs()))),
        };
        let failed = error.is_some();
        let record = WxaPush { event: p.event.to_string(), audit_id: p.audit_id, attempt, status, answer, error, started };
        {
            let pushes = &mut shared.lock().wxa.pushes;
            let at = pushes.partition_point(|q| q.started < started);
            pushes.insert(at, record);
        }
        if !failed {
            break;
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(RETRY_INTERVAL).await;
        }
    }
}

/// The query and body of one delivery attempt of `xml` in `mode`.
fn signed_request(xml: &str, mode: PushMode) -> (String, String) {
    let timestamp = unix_now().to_string();
    let mut n = [0u8; 4];
    let mut random = [0u8; 16];
    aws_lc_rs::rand::fill(&mut n).expect("RNG");
    aws_lc_rs::rand::fill(&mut random).expect("RNG");
    let nonce = (u32::from_be_bytes(n) % 1_000_000_000 + 1).to_string();
    let token = PUSH_TOKEN;
    let mut query =
        format!("signature={}&timestamp={timestamp}&nonce={nonce}&openid={}", signature(token, &timestamp, &nonce), PUSH_OPENID);
    let body = match mode {
        PushMode::Plain => xml.to_string(),
        PushMode::Safe => {
            let enc = encrypt(ENCODING_AES_KEY, APPID, xml, random);
            query += &format!("&encrypt_type=aes&msg_signature={}", msg_signature(token, &timestamp, &nonce, &enc));
            format!("<xml><ToUserName>{}</ToUserName><Encrypt>{}</Encrypt></xml>", cdata(ORIGINAL_ID), cdata(&enc))
        }
    };
    (query, body)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One HTTP/1.1 POST with `Connection: close`; returns the status and the (de-chunked) body.
async fn post(url: &CallbackUrl, query: &str, body: &str) -> Result<(u16, String), String> {
    let mut s = tokio::net::TcpStream::connect((url.host.as_str(), url.port)).await.map_err(|e| format!("connect {}: {e}", url.authority))?;
    let sep = if url.target.contains('?') { '&' } else { '?' };
    let head = format!(
        "POST {}{sep}{query} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Mozilla/4.0\r\nAccept: */*\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.target,
        url.authority,
        body.len()
    );
    s.write_all(head.as_bytes()).await.map_err(|e| format!("send: {e}"))?;
    s.write_all(body.as_bytes()).await.map_err(|e| format!("send: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(done) = complete_response(&buf) {
            return done;
        }
        let n = s.read(&mut chunk).await.map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return complete_response(&buf).unwrap_or_else(|| finish_at_eof(&buf));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The response once `buf` holds all of it (by Content-Length or a finished chunked body).
fn complete_response(buf: &[u8]) -> Option<Result<(u16, String), String>> {
    let end = find(buf, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let body = &buf[end + 4..];
    let status = match head.split(' ').nth(1).and_then(|c| c.parse::<u16>().ok()) {
        Some(s) => s,
        None => return Some(Err(format!("not an HTTP response: {:?}", head.lines().next().unwrap_or("")))),
    };
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()))
    };
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        return (body.len() >= len).then(|| Ok((status, String::from_utf8_lossy(&body[..len]).into_owned())));
    }
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        return dechunk(body).map(|b| Ok((status, String::from_utf8_lossy(&b).into_owned())));
    }
    None
}

fn finish_at_eof(buf: &[u8]) -> Result<(u16, String), String> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return Err(if buf.is_empty() { "connection closed without an answer".into() } else { "incomplete HTTP answer".into() });
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let status = head.split(' ').nth(1).and_then(|c| c.parse::<u16>().ok()).ok_or("not an HTTP response")?;
    Ok((status, String::from_utf8_lossy(&buf[end + 4..]).into_owned()))
}

/// The decoded body when the chunked encoding is complete.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(b, b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_signature_matches_the_official_example() {
        assert_eq!(signature("AAAAA", "1714037059", "486452656"), "899cf89e464efb63f54ddac96b0a0a235f53aa78");
    }

    #[test]
    fn encryption_matches_the_official_java_sample() {
        // WXBizMsgCryptTest: fixed random "aaaabbbbccccdddd".
        let enc = encrypt("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6", "我是中文abcd123", *b"aaaabbbbccccdddd");
        assert_eq!(enc, "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==");
    }

    #[test]
    fn the_emulators_key_is_non_canonical_base64_like_real_keys() {
        let k = ENCODING_AES_KEY;
        assert_eq!(k.len(), 43);
        assert!(k.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(base64::engine::general_purpose::STANDARD.decode(format!("{k}=")).is_err(), "trailing bits must be non-zero");
        assert!(aes_key(k).is_some());
    }

    #[test]
    fn callback_urls_must_be_loopback_http() {
        let u = parse_callback_url("http://127.0.0.1:8080/wx?x=1").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.target.as_str()), ("127.0.0.1", 8080, "/wx?x=1"));
        assert_eq!(parse_callback_url("http://[::1]:9/").unwrap().host, "::1");
        assert_eq!(parse_callback_url("http://localhost").unwrap().target, "/");
        assert!(parse_callback_url("https://127.0.0.1/").is_err());
        assert!(parse_callback_url("http://example.com/").is_err());
        assert!(parse_callback_url("http://10.0.0.1:80/").is_err());
        assert!(parse_callback_url("http://user@127.0.0.1/").is_err());
    }

    #[test]
    fn responses_by_length_chunked_and_eof() {
        assert_eq!(complete_response(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsuccess").unwrap().unwrap(), (200, "success".into()));
        assert!(complete_response(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsucc").is_none());
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nsucc\r\n3\r\ness\r\n0\r\n\r\n";
        assert_eq!(complete_response(chunked).unwrap().unwrap(), (200, "success".into()));
        assert_eq!(finish_at_eof(b"HTTP/1.0 500 X\r\n\r\nno").unwrap(), (500, "no".into()));
        assert!(finish_at_eof(b"").is_err());
    }
}
