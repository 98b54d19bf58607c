//! The `api.weixin.qq.com` side for 门店小程序, behaving like the real platform so an SDK bug is
//! caught here rather than in production.
//!
//! **Tokens.** `cgi-bin/stable_token` returns the same token while it has more than 300 s
//! left (with the remaining `expires_in`); below that it issues a new one and the old one
//! stays valid until its own expiry (the platform's 5-minute handover). `force_refresh: true`
//! issues a new token and invalidates the previous ones at once; it is limited to 20 a day
//! (Beijing date) and 30 s apart: the 21st of a day answers **45009** (reach max api daily quota
//! limit) and one less than 30 s after the previous forced refresh answers **45011** (api
//! minute-quota reach limit) — the platform documents the limits but not their codes, so
//! these are the two quota codes of its global table. Each `cgi-bin/token` call invalidates
//! the previous classic token; stable and classic tokens are isolated. Credential errors:
//! 41002/41004 missing appid/secret, 40002 grant_type, 40013 appid, 40125 secret (stable) and
//! 40001 secret (classic, as its page documents). `token_fetches` counts every token request
//! answered in WeChat's envelope (tokens, token errors and injected `wxa_errcode` answers);
//! `tokens_issued` counts new token values. Every other call checks `access_token`: missing
//! 41001, unknown or replaced 40001, expired 42001 — before anything else.
//!
//! **Input checks** (after the token): a POST body that is not a JSON object answers 47001
//! (44002 when empty); a documented required member missing answers 40097; a member of the
//! wrong JSON type (e.g. `pic_list` as an object or array instead of a JSON *string* holding
//! `{"list":[urls]}`, a string `limit`) answers 47001. `hour` must be `HH:MM-HH:MM`,
//! `contract_phone` digits/`-`/`;`, `get_store_list` `limit` 0–50 (0 means 20) and `offset` ≥ 0,
//! else 40097. `nickname` is 4–30 in width (a non-ASCII character counts 2) without special
//! characters (85030) and without 微信 (85033). Media ids (`headimg_mediaid`,
//! `qualification_list`, `org_code`, `other_files`; `|`-separated, at most 5) must be ids this
//! emulator issued within 3 days (85056 otherwise); a head image must be a JPEG or PNG image.
//! `modify_merchant` takes `""` for "unchanged". A path called with the wrong method answers
//! 43001/43002 (require GET/POST method).
//!
//! **Media.** `cgi-bin/media/upload?type=…` parses the multipart body: a part named `media` with
//! a file name and content (44001 otherwise); `type` image|voice|video|thumb (40004); the bytes
//! must be of the type (magic bytes: image JPEG/PNG/GIF, thumb JPEG, voice AMR/MP3, video MP4;
//! 40005) and within its size (image and voice 2 MB, video 10 MB, thumb 64 KB; 40006).
//!
//! **Merchant, map POIs, stores.** Audits finish after `audit_delay` (0 by default) with the
//! configured `audit_outcome` (approve by default), fixed when the audit starts: merchant 2 →
//! 1/3, a created map POI becomes searchable and usable by add_store only when approved, stores
//! 2 → 1/3. add_store needs an approved map POI (85055) and refuses a second store on one
//! (85038). update_store needs an approved store (65118); new pictures start a picture audit
//! (has_audit_id 1) and replace the shown pictures once approved; pictures already shown need
//! none. `get_district` returns two provinces, their cities and districts with inclusive
//! `cidx` ranges, ids mixing strings and numbers; `search_map_poi` searches created, approved
//! POIs and three built-in Tencent Map places by district (prefix) and keyword; `poi_id` is a
//! string in get_store_list and a number in get_store_info. When an audit finishes its event
//! is pushed to the configured callback (see `wxa_push`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::state::Shared;
use crate::wxa_push::{PendingPush, PushMode, PushTasks, WxaPush, XmlValue};

/// The emulated mini-program's appid.
pub const APPID: &str = "wx2f8c5d2e1a9b3c7d";
/// Its AppSecret (a test credential).
pub const SECRET: &str = "mendian-emulator-wxa-secret";
/// The message-push Token (服务器配置 Token) the pushes are signed with.
pub const PUSH_TOKEN: &str = "mendianEmulatorPushToken";
/// The EncodingAESKey of safe-mode pushes. Like most real keys its last character carries
/// non-zero trailing bits, so a strict base64 decoder rejects it.
pub const ENCODING_AES_KEY: &str = "mendianEmulatorEncodingAESKey4wxaPushes2026";
/// The official account's original id (原始ID), the pushes' `ToUserName`.
pub const ORIGINAL_ID: &str = "gh_6d656e646961";
/// The `FromUserName` (an OpenID) of the pushes.
pub const PUSH_OPENID: &str = "oMdEmu5kq2X9pL4vR8sT1wY6zN3a";

const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
const REFRESH_AHEAD: Duration = Duration::from_secs(300);
const FORCED_PER_DAY: u32 = 20;
const FORCED_SPACING: Duration = Duration::from_secs(30);
const MEDIA_LIFETIME: Duration = Duration::from_secs(3 * 24 * 3600);
const MB: usize = 1024 * 1024;

/// How the emulated audits end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Approved (merchant 1, map POI 0, store 1).
    #[default]
    Approve,
    /// Rejected with a reason (merchant 3, map POI 1, store 3).
    Reject,
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    expires: Instant,
}

#[derive(Debug, Clone)]
struct Audit {
    id: i64,
    ready: Instant,
    approve: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pending,
    Approved,
    Rejected,
}

impl Audit {
    fn verdict(&self) -> Verdict {
        if Instant::now() < self.ready {
            Verdict::Pending
        } else if self.approve {
            Verdict::Approved
        } else {
            Verdict::Rejected
        }
    }
}

#[derive(Debug, Clone)]
struct Merchant {
    audit: Audit,
}

#[derive(Debug, Clone)]
struct Poi {
    uid: String,
    district_id: String,
    /// None for the built-in Tencent Map places.
    audit: Option<Audit>,
    name: String,
    address: String,
    latitude: String,
    longitude: String,
    telephone: String,
    category: String,
    province: String,
    city: String,
    district: String,
    photo: Option<String>,
}

impl Poi {
    fn usable(&self) -> bool {
        self.audit.as_ref().is_none_or(|a| a.verdict() == Verdict::Approved)
    }
}

#[derive(Debug, Clone)]
struct Store {
    map_poi_id: String,
    audit: Audit,
    poi: Poi,
    photos: Vec<String>,
    /// A picture change under audit.
    pending_photos: Option<(Audit, Vec<String>)>,
    hour: String,
    phone: String,
    credential: String,
}

impl Store {
    /// The pictures shown now: a finished, approved picture audit replaces them.
    fn shown_photos(&self) -> &[String] {
        match &self.pending_photos {
            Some((a, list)) if a.verdict() == Verdict::Approved => list,
            _ => &self.photos,
        }
    }

    fn settle_photos(&mut self) {
        if let Some((a, list)) = &self.pending_photos {
            match a.verdict() {
                Verdict::Pending => {}
                Verdict::Approved => {
                    self.photos = list.clone();
                    self.pending_photos = None;
                }
                Verdict::Rejected => self.pending_photos = None,
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Media {
    kind: String,
    format: &'static str,
    created: Instant,
}

#[derive(Debug, Default)]
struct ForcedRefreshes {
    day: i64,
    count: u32,
    last: Option<Instant>,
}

/// Everything the wxa side remembers (reset with the rest of the state).
#[derive(Debug, Default)]
pub(crate) struct WxaState {
    stable: Option<Token>,
    /// The stable token a normal rotation replaced; valid until its own expiry.
    stable_prev: Option<Token>,
    classic: Option<Token>,
    forced: ForcedRefreshes,
    /// Token requests answered in WeChat's envelope (stable and classic, success or error).
    pub token_fetches: u64,
    /// New token values issued.
    pub tokens_issued: u64,
    merchant: Option<Merchant>,
    pois: Vec<Poi>,
    stores: BTreeMap<String, Store>,
    cards: BTreeMap<String, String>,
    media: BTreeMap<String, Media>,
    next_id: i64,
    /// How long audits take.
    pub audit_delay: Duration,
    /// How audits end.
    pub audit_outcome: AuditOutcome,
    /// Where audit events are pushed (a loopback http:// URL).
    pub callback_url: Option<String>,
    /// Plain or safe pushes.
    pub push_mode: PushMode,
    /// Every delivery attempt, oldest first.
    pub pushes: Vec<WxaPush>,
    pub push_tasks: PushTasks,
}

/// A decoded wxa request, as the platform router hands it over.
pub(crate) struct Call<'a> {
    pub id: &'a str,
    pub query: &'a BTreeMap<String, String>,
    pub body: &'a BTreeMap<String, Value>,
    /// The endpoint takes a JSON body (POST with body members).
    pub json_body_expected: bool,
    pub body_is_json_object: bool,
    pub raw_body: &'a [u8],
    pub content_type: &'a str,
    /// The first documented required member that is absent.
    pub missing: Option<String>,
}

type Answer = Result<Value, Value>;

fn ok(mut extra: Value) -> Value {
    extra["errcode"] = json!(0);
    extra["errmsg"] = json!("ok");
    extra
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    u32::from_be_bytes(b)
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A WeChat error, its errmsg ending in a `rid: …` like the real platform's.
fn err(code: i64, msg: &str) -> Value {
    json!({ "errcode": code, "errmsg": format!("{msg} rid: {:08x}-{:08x}-{:08x}", unix_now(), rand_u32(), rand_u32()) })
}

fn default_errmsg(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit  mustslower  retry next minute",
        _ => "emulated error",
    }
}

fn random_token() -> String {
    let mut b = [0u8; 48];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    // The shape of real tokens: long, URL-safe.
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b).replace('-', "_")
}

fn random_media_id() -> String {
    let mut b = [0u8; 48];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Days since the epoch in Beijing time (the day the forced-refresh limit counts in).
fn beijing_day() -> i64 {
    (unix_now() + 8 * 3600).div_euclid(86_400)
}

/// A string member, accepting a number where the spec is lenient.
fn s(v: &BTreeMap<String, Value>, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(x) if !x.is_empty() => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string member that must be a JSON string (or absent/null); 47001 for another JSON type.
fn text(v: &BTreeMap<String, Value>, k: &str) -> Result<String, Value> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(x)) => Ok(x.clone()),
        Some(_) => Err(err(47001, &format!("data format error: `{k}` must be a string"))),
    }
}

/// An integer member: a JSON number (47001 for another type, 40097 for a fraction).
fn int(v: &BTreeMap<String, Value>, k: &str) -> Result<Option<i64>, Value> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| err(40097, &format!("invalid args: `{k}` must be an integer"))),
        Some(_) => Err(err(47001, &format!("data format error: `{k}` must be a number"))),
    }
}

/// `pic_list`: a JSON string holding `{"list":[url, …]}`.
fn pic_list(v: &BTreeMap<String, Value>) -> Result<Vec<String>, Value> {
    let bad = || err(47001, "data format error: pic_list must be a JSON string holding {\"list\":[url,...]}");
    let Some(Value::String(text)) = v.get("pic_list") else { return Err(bad()) };
    let parsed: Value = serde_json::from_str(text).map_err(|_| bad())?;
    let list = parsed.get("list").and_then(Value::as_array).ok_or_else(bad)?;
    list.iter().map(|u| u.as_str().map(str::to_string).ok_or_else(bad)).collect()
}

/// `HH:MM-HH:MM` (24:00 allowed as an end).
fn valid_hour(h: &str) -> bool {
    fn hm(t: &str, end: bool) -> bool {
        let b = t.as_bytes();
        if b.len() != 5 || b[2] != b':' || !b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit()) {
            return false;
        }
        let (hh, mm) = ((b[0] - b'0') * 10 + (b[1] - b'0'), (b[3] - b'0') * 10 + (b[4] - b'0'));
        mm < 60 && (hh < 24 || (end && hh == 24 && mm == 0))
    }
    matches!(h.split_once('-'), Some((a, b)) if hm(a, false) && hm(b, true))
}

fn valid_phone(p: &str) -> bool {
    p.chars().any(|c| c.is_ascii_digit()) && p.chars().all(|c| c.is_ascii_digit() || " -;+,".contains(c))
}

/// Display width: a non-ASCII character counts 2.
fn width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn require_hour(v: &BTreeMap<String, Value>) -> Result<String, Value> {
    let h = text(v, "hour")?;
    if !valid_hour(&h) {
        return Err(err(40097, "invalid args: hour must be HH:MM-HH:MM"));
    }
    Ok(h)
}

fn require_phone(v: &BTreeMap<String, Value>) -> Result<String, Value> {
    let p = text(v, "contract_phone")?;
    if !valid_phone(&p) {
        return Err(err(40097, "invalid args: contract_phone"));
    }
    Ok(p)
}

/// Tencent Map's district levels for two provinces; cidx ranges are inclusive indexes into
/// the next level. Ids mix strings and numbers on purpose.
fn districts() -> Value {
    json!([
        [
            { "id": "440000", "name": "广东", "fullname": "广东省", "pinyin": ["guang", "dong"], "location": { "lat": 23.13171, "lng": 113.26627 }, "cidx": [0, 1] },
            { "id": 330000, "name": "浙江", "fullname": "浙江省", "pinyin": ["zhe", "jiang"], "location": { "lat": 30.26555, "lng": 120.1536 }, "cidx": [2, 3] }
        ],
        [
            { "id": 440100, "name": "广州", "fullname": "广州市", "pinyin": ["guang", "zhou"], "location": { "lat": 23.12908, "lng": 113.26436 }, "cidx": [0, 1] },
            { "id": "440300", "name": "深圳", "fullname": "深圳市", "pinyin": ["shen", "zhen"], "location": { "lat": 22.54286, "lng": 114.05956 }, "cidx": [2, 3] },
            { "id": "330100", "name": "杭州", "fullname": "杭州市", "pinyin": ["hang", "zhou"], "location": { "lat": 30.27415, "lng": 120.15515 }, "cidx": [4, 5] },
            { "id": 330200, "name": "宁波", "fullname": "宁波市", "pinyin": ["ning", "bo"], "location": { "lat": 29.87386, "lng": 121.55027 }, "cidx": [6, 6] }
        ],
        [
            { "id": "440105", "fullname": "海珠区", "location": { "lat": 23.08331, "lng": 113.3172 } },
            { "id": 440106, "fullname": "天河区", "location": { "lat": 23.12463, "lng": 113.36199 } },
            { "id": "440304", "fullname": "福田区", "location": { "lat": 22.52291, "lng": 114.05454 } },
            { "id": 440305, "fullname": "南山区", "location": { "lat": 22.53332, "lng": 113.93041 } },
            { "id": "330102", "fullname": "上城区", "location": { "lat": 30.24258, "lng": 120.16922 } },
            { "id": 330106, "fullname": "西湖区", "location": { "lat": 30.25949, "lng": 120.13021 } },
            { "id": "330212", "fullname": "鄞州区", "location": { "lat": 29.81662, "lng": 121.54724 } }
        ]
    ])
}

fn district_known(id: &str) -> bool {
    districts().as_array().into_iter().flatten().flat_map(|level| level.as_array().into_iter().flatten()).any(|d| match &d["id"] {
        Value::String(s) => s == id,
        n => n.as_i64().is_some_and(|n| id.parse() == Ok(n)),
    })
}

/// The code prefix a district id covers: `440000` → `44`, `440100` → `4401`, `440105` → itself.
fn district_prefix(id: &str) -> &str {
    let mut p = id;
    while p.len() > 2 && p.ends_with("00") {
        p = &p[..p.len() - 2];
    }
    p
}

fn builtin_pois() -> Vec<Poi> {
    let place = |uid: &str, district_id: &str, name: &str, address: &str, lat: &str, lng: &str, tel: &str, cat: &str, city: &str, district: &str| Poi {
        uid: uid.into(),
        district_id: district_id.into(),
        audit: None,
        name: name.into(),
        address: address.into(),
        latitude: lat.into(),
        longitude: lng.into(),
        telephone: tel.into(),
        category: cat.into(),
        province: "广东省".into(),
        city: city.into(),
        district: district.into(),
        photo: None,
    };
    vec![
        place("2708071440732747189", "440105", "X-MAX工厂", "广东省广州市海珠区怡安路172-174号怡安花园二、三层(中海名都)", "23.1088695526", "113.274810791", " 020-89190388", "运动健身:健身中心", "广州市", "海珠区"),
        place("2880741500279549033", "440106", "天河城购物中心", "广东省广州市天河区天河路208号", "23.1324500000", "113.3261200000", "020-85598888", "购物:综合商场", "广州市", "天河区"),
        place("5938314494307741153", "440305", "深圳湾公园", "广东省深圳市南山区滨海大道", "22.5003100000", "113.9533500000", "0755-26888888", "旅游景点:公园", "深圳市", "南山区"),
    ]
}

fn categories() -> Value {
    json!({ "all_category_info": { "categories": [
        { "id": 0, "name": "root", "level": 0, "children": [278] },
        { "id": 278, "name": "购物", "level": 1, "father": 0, "children": [280] },
        { "id": 280, "name": "便利店", "level": 2, "father": 278, "children": [], "scene": 3, "sensitive_type": 1,
          "qualify": { "exter_list": [{ "inner_list": [{ "name": "若涉及食品,请提供《食品经营许可证》或《卫生许可证》" }] }] } }
    ]}})
}

fn coord(s: &str) -> f64 {
    s.trim().parse().unwrap_or(0.0)
}

fn store_json(poi_id: &str, st: &Store, numeric_id: bool) -> Value {
    let status = match st.audit.verdict() {
        Verdict::Pending => 2,
        Verdict::Approved => 1,
        Verdict::Rejected => 3,
    };
    let id = match (numeric_id, poi_id.parse::<i64>()) {
        (true, Ok(n)) => json!(n),
        _ => json!(poi_id),
    };
    json!({ "base_info": {
        "business_name": st.poi.name,
        "address": st.poi.address,
        "telephone": st.phone,
        "categories": [],
        "city": st.poi.city,
        "province": st.poi.province,
        "longitude": coord(&st.poi.longitude),
        "latitude": coord(&st.poi.latitude),
        "photo_list": st.shown_photos().iter().map(|u| json!({ "photo_url": u })).collect::<Vec<_>>(),
        "open_time": st.hour,
        "poi_id": id,
        "status": status,
        "district": st.poi.district,
        "qualification_list": [],
        "qualification_num": st.credential,
        "qualification_name": st.poi.name,
    }})
}

/// What an upload carries, checked outside the lock.
struct Upload {
    kind: String,
    format: &'static str,
}

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
fn media_part<'a>(content_type: &str, body: &'a [u8]) -> Option<(Option<String>, &'a [u8])> {
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

fn sniff(b: &[u8]) -> &'static str {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "jpeg"
    } else if b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        "png"
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        "gif"
    } else if b.starts_with(b"#!AMR") {
        "amr"
    } else if b.starts_with(b"ID3") || (b.len() > 1 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
        "mp3"
    } else if b.get(4..8) == Some(b"ftyp") {
        "mp4"
    } else {
        "unknown"
    }
}

fn check_upload(call: &Call) -> Result<Upload, Value> {
    let kind = call.query.get("type").map(String::as_str).unwrap_or("");
    let (max, formats): (usize, &[&str]) = match kind {
        "image" => (2 * MB, &["jpeg", "png", "gif"]),
        "voice" => (2 * MB, &["amr", "mp3"]),
        "video" => (10 * MB, &["mp4"]),
        "thumb" => (64 * 1024, &["jpeg"]),
        _ => return Err(err(40004, "invalid media type")),
    };
    let Some((Some(filename), data)) = media_part(call.content_type, call.raw_body) else {
        return Err(err(44001, "empty media data: no multipart part named media with a filename"));
    };
    if filename.is_empty() || data.is_empty() {
        return Err(err(44001, "empty media data"));
    }
    let format = sniff(data);
    if !formats.contains(&format) {
        return Err(err(40005, "invalid file type"));
    }
    if data.len() > max {
        return Err(err(40006, "invalid meida size"));
    }
    Ok(Upload { kind: kind.to_string(), format })
}

/// Answers one wxa call (after faults and spec routing).
pub(crate) fn handle(shared: &Arc<Shared>, call: &Call) -> Value {
    // Pure parsing outside the lock; the token check still comes first in the answer.
    let upload = (call.id == "upload_media").then(|| check_upload(call));
    let mut pushes = Vec::new();
    let answer = {
        let mut inner = shared.lock();
        let w = &mut inner.wxa;
        match call.id {
            "get_stable_access_token" | "get_access_token" => {
                w.token_fetches += 1;
                w.token_call(call, Instant::now(), beijing_day())
            }
            _ => w.check_token(call.query.get("access_token")).and_then(|()| input_shape(call)).and_then(|()| w.dispatch(call, upload, &mut pushes)),
        }
    };
    if !pushes.is_empty() {
        crate::wxa_push::spawn_all(shared, pushes);
    }
    answer.unwrap_or_else(|e| e)
}

/// The answer of an injected `wxa_errcode` fault.
pub(crate) fn fault_answer(shared: &Shared, endpoint: Option<&str>, code: i64, msg: &str) -> Value {
    if matches!(endpoint, Some("get_stable_access_token" | "get_access_token")) {
        shared.lock().wxa.token_fetches += 1;
    }
    err(code, if msg.is_empty() { default_errmsg(code) } else { msg })
}

/// 44002/47001 for a body that is not a JSON object; 40097 for a missing required member.
fn input_shape(call: &Call) -> Result<(), Value> {
    if call.json_body_expected && !call.body_is_json_object {
        return Err(if call.raw_body.iter().all(u8::is_ascii_whitespace) {
            err(44002, "empty post data")
        } else {
            err(47001, "data format error: the body must be a JSON object")
        });
    }
    match &call.missing {
        Some(name) if call.id != "upload_media" => Err(err(40097, &format!("invalid args: missing required parameter `{name}`"))),
        _ => Ok(()),
    }
}

fn credentials(appid: Option<String>, secret: Option<String>, grant_type: Option<String>, bad_secret: (i64, &str)) -> Result<(), Value> {
    let Some(appid) = appid else { return Err(err(41002, "appid missing")) };
    let Some(secret) = secret else { return Err(err(41004, "appsecret missing")) };
    if grant_type.as_deref() != Some("client_credential") {
        return Err(err(40002, "invalid grant_type"));
    }
    if appid != APPID {
        return Err(err(40013, "invalid appid"));
    }
    if secret != SECRET {
        return Err(err(bad_secret.0, bad_secret.1));
    }
    Ok(())
}

impl WxaState {
    fn next(&mut self) -> i64 {
        self.next_id += 1;
        100_000 + self.next_id
    }

    fn audit(&mut self) -> Audit {
        Audit { id: self.next(), ready: Instant::now() + self.audit_delay, approve: self.audit_outcome == AuditOutcome::Approve }
    }

    fn new_token(&mut self, now: Instant) -> Token {
        self.tokens_issued += 1;
        Token { value: random_token(), expires: now + TOKEN_LIFETIME }
    }

    /// Makes every issued token expire now (the `wxa_expire_tokens` fault).
    pub fn expire_tokens(&mut self) {
        let now = Instant::now();
        for t in [&mut self.stable, &mut self.stable_prev, &mut self.classic].into_iter().flatten() {
            t.expires = now;
        }
    }

    fn token_call(&mut self, call: &Call, now: Instant, day: i64) -> Answer {
        let t = if call.id == "get_stable_access_token" {
            input_shape(&Call { missing: None, ..*call })?;
            let b = call.body;
            credentials(s(b, "appid"), s(b, "secret"), s(b, "grant_type"), (40125, "invalid appsecret"))?;
            let force = match b.get("force_refresh") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(f)) => *f,
                Some(_) => return Err(err(47001, "data format error: force_refresh must be a boolean")),
            };
            self.stable_token(force, now, day)?
        } else {
            let q = |k: &str| call.query.get(k).filter(|v| !v.is_empty()).cloned();
            credentials(q("appid"), q("secret"), q("grant_type"), (40001, "invalid credential, access_token is invalid or not latest"))?;
            let t = self.new_token(now);
            self.classic = Some(t.clone());
            t
        };
        Ok(json!({ "access_token": t.value, "expires_in": t.expires.saturating_duration_since(now).as_secs() }))
    }

    fn stable_token(&mut self, force: bool, now: Instant, day: i64) -> Result<Token, Value> {
        if force {
            if self.forced.day != day {
                self.forced.day = day;
                self.forced.count = 0;
            }
            if self.forced.count >= FORCED_PER_DAY {
                return Err(err(45009, "reach max api daily quota limit: force_refresh is limited to 20 a day"));
            }
            if self.forced.last.is_some_and(|last| now < last + FORCED_SPACING) {
                return Err(err(45011, "api minute-quota reach limit  mustslower  retry next minute: force_refresh needs 30 s between calls"));
            }
            self.forced.count += 1;
            self.forced.last = Some(now);
            let t = self.new_token(now);
            self.stable = Some(t.clone());
            self.stable_prev = None;
            return Ok(t);
        }
        if let Some(t) = self.stable.as_ref().filter(|t| t.expires > now + REFRESH_AHEAD) {
            return Ok(t.clone());
        }
        let t = self.new_token(now);
        self.stable_prev = self.stable.replace(t.clone()).filter(|old| old.expires > now);
        Ok(t)
    }

    fn check_token(&self, token: Option<&String>) -> Result<(), Value> {
        let Some(token) = token.filter(|t| !t.is_empty()) else { return Err(err(41001, "access_token missing")) };
        let known = [&self.stable, &self.stable_prev, &self.classic].into_iter().flatten().find(|t| &t.value == token);
        match known {
            Some(t) if Instant::now() < t.expires => Ok(()),
            Some(_) => Err(err(42001, "access_token expired")),
            None => Err(err(40001, "invalid credential, access_token is invalid or not latest")),
        }
    }

    /// A media id this emulator issued and that has not expired.
    fn media(&self, id: &str) -> Option<&Media> {
        self.media.get(id).filter(|m| m.created.elapsed() < MEDIA_LIFETIME)
    }

    /// A `|`-separated list of at most 5 issued media ids (a JSON array is accepted too).
    fn check_media_list(&self, body: &BTreeMap<String, Value>, k: &str) -> Result<(), Value> {
        let ids: Vec<String> = match body.get(k) {
            None | Some(Value::Null) => vec![],
            Some(Value::String(t)) => t.split('|').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect(),
            Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_string).ok_or_else(|| err(47001, &format!("data format error: `{k}`")))).collect::<Result<_, _>>()?,
            Some(_) => return Err(err(47001, &format!("data format error: `{k}` must be a string"))),
        };
        if ids.len() > 5 {
            return Err(err(40097, &format!("invalid args: `{k}` takes at most 5 media ids")));
        }
        match ids.iter().find(|id| self.media(id).is_none()) {
            Some(_) => Err(err(85056, "临时mediaid无效")),
            None => Ok(()),
        }
    }

    fn check_head_image(&self, id: &str) -> Result<(), Value> {
        match self.media(id) {
            Some(m) if m.kind == "image" && matches!(m.format, "jpeg" | "png") => Ok(()),
            _ => Err(err(85056, "临时mediaid无效")),
        }
    }

    fn dispatch(&mut self, call: &Call, upload: Option<Result<Upload, Value>>, pushes: &mut Vec<PendingPush>) -> Answer {
        let body = call.body;
        match call.id {
            "upload_media" => {
                let u = upload.expect("parsed for upload_media")?;
                let id = random_media_id();
                let created_at = unix_now();
                self.media.insert(id.clone(), Media { kind: u.kind.clone(), format: u.format, created: Instant::now() });
                Ok(ok(json!({ "type": u.kind, "media_id": id, "created_at": created_at })))
            }
            "get_merchant_category" => Ok(ok(json!({ "data": categories() }))),
            "apply_merchant" => self.apply_merchant(body, pushes),
            "get_merchant_audit_info" => Ok(match &self.merchant {
                None => ok(json!({ "data": { "audit_id": 0, "status": 0, "reason": "" } })),
                Some(m) => {
                    let (status, reason) = match m.audit.verdict() {
                        Verdict::Pending => (2, ""),
                        Verdict::Approved => (1, ""),
                        Verdict::Rejected => (3, MERCHANT_REJECT_REASON),
                    };
                    ok(json!({ "data": { "audit_id": m.audit.id, "status": status, "reason": reason } }))
                }
            }),
            "modify_merchant" => {
                let head = text(body, "headimg_mediaid")?;
                text(body, "intro")?;
                if !self.merchant.as_ref().is_some_and(|m| m.audit.verdict() == Verdict::Approved) {
                    return Err(err(85053, "请先成功创建门店后再调用"));
                }
                if !head.is_empty() {
                    self.check_head_image(&head)?;
                }
                // The head image and intro change at once; "" keeps the current one.
                Ok(ok(json!({})))
            }
            "get_district" => Ok(json!({ "status": 0, "message": "query ok", "data_version": "20170510", "result": districts() })),
            "search_map_poi" => {
                let district = s(body, "districtid").unwrap_or_default();
                let prefix = district_prefix(&district).to_string();
                let keyword = text(body, "keyword")?;
                let items: Vec<Value> = self
                    .pois
                    .iter()
                    .filter(|p| p.usable())
                    .cloned()
                    .chain(builtin_pois())
                    .filter(|p| p.district_id.starts_with(&prefix))
                    .filter(|p| p.name.contains(&keyword) || p.address.contains(&keyword))
                    .map(|p| {
                        json!({ "branch_name": p.name, "address": p.address, "longitude": coord(&p.longitude), "latitude": coord(&p.latitude),
                                "telephone": p.telephone, "category": p.category, "sosomap_poi_uid": p.uid, "data_supply": 2,
                                "pic_urls": p.photo.iter().collect::<Vec<_>>(), "card_id_list": [] })
                    })
                    .collect();
                Ok(ok(json!({ "data": { "item": items } })))
            }
            "create_map_poi" => self.create_map_poi(body, pushes),
            "add_store" => self.add_store(body, pushes),
            "update_store" => self.update_store(body, pushes),
            "get_store_info" => {
                let poi_id = s(body, "poi_id").unwrap_or_default();
                match self.stores.get(&poi_id) {
                    Some(st) => Ok(ok(json!({ "business": store_json(&poi_id, st, true) }))),
                    None => Err(err(65115, "门店不存在")),
                }
            }
            "get_store_list" => {
                let (offset, limit) = page(body, "offset", "limit")?;
                let list: Vec<Value> = self.stores.iter().skip(offset).take(limit).map(|(id, st)| store_json(id, st, false)).collect();
                Ok(ok(json!({ "business_list": list, "total_count": self.stores.len() })))
            }
            "del_store" => {
                let poi_id = s(body, "poi_id").unwrap_or_default();
                match self.stores.remove(&poi_id) {
                    Some(_) => {
                        self.cards.remove(&poi_id);
                        Ok(ok(json!({})))
                    }
                    None => Err(err(-1, "删除失败")),
                }
            }
            "get_poi_list" => {
                page(body, "begin", "limit")?;
                Ok(ok(json!({ "business_list": [], "total_count": 0 })))
            }
            "get_store_card" => {
                let poi_id = s(body, "poi_id").unwrap_or_default();
                Ok(match self.cards.get(&poi_id) {
                    Some(c) => ok(json!({ "card_id": c })),
                    None => ok(json!({})),
                })
            }
            "set_store_card" => {
                let poi_id = s(body, "poi_id").unwrap_or_default();
                let card = text(body, "card_id")?;
                if !self.stores.contains_key(&poi_id) {
                    return Err(err(65115, "门店不存在"));
                }
                self.cards.insert(poi_id, card);
                Ok(ok(json!({})))
            }
            other => Err(err(-1, &format!("mendian-emulator: `{other}` is not emulated in this version"))),
        }
    }

    fn apply_merchant(&mut self, body: &BTreeMap<String, Value>, pushes: &mut Vec<PendingPush>) -> Answer {
        int(body, "first_catid")?;
        int(body, "second_catid")?;
        let nickname = text(body, "nickname")?;
        text(body, "intro")?;
        let head = text(body, "headimg_mediaid")?;
        let w = width(&nickname);
        let plain = nickname.chars().all(|c| c.is_alphanumeric() || " _-·".contains(c));
        if !(4..=30).contains(&w) || !plain {
            return Err(err(85030, "名称长度为4-30个字符(一个中文占两个字符),不能含有特殊字符及“微信”等保留字"));
        }
        if nickname.contains("微信") {
            return Err(err(85033, "名称不能包含违反公众平台协议、相关法律法规和政策的内容,不得使用“微信”等保留字"));
        }
        if self.merchant.as_ref().is_some_and(|m| m.audit.verdict() == Verdict::Pending) {
            return Err(err(85050, "正在审核中,请勿重复提交"));
        }
        self.check_head_image(&head)?;
        for k in ["qualification_list", "org_code", "other_files"] {
            self.check_media_list(body, k)?;
        }
        let a = self.audit();
        let (status, reason) = if a.approve { (1, "") } else { (3, MERCHANT_REJECT_REASON) };
        pushes.push(PendingPush {
            at: a.ready,
            event: "apply_merchant_audit_info",
            audit_id: a.id,
            fields: vec![("audit_id", XmlValue::Number(a.id)), ("status", XmlValue::Number(status)), ("reason", XmlValue::Text(reason.into()))],
        });
        self.merchant = Some(Merchant { audit: a });
        Ok(ok(json!({})))
    }

    fn create_map_poi(&mut self, body: &BTreeMap<String, Value>, pushes: &mut Vec<PendingPush>) -> Answer {
        let mut f = BTreeMap::new();
        for k in ["name", "longitude", "latitude", "province", "city", "district", "address", "category", "telephone", "photo", "license", "introduct"] {
            f.insert(k, text(body, k)?);
        }
        let district_id = s(body, "districtid").unwrap_or_default();
        let lat = f["latitude"].trim().parse::<f64>().ok().filter(|v| (-90.0..=90.0).contains(v));
        let lng = f["longitude"].trim().parse::<f64>().ok().filter(|v| (-180.0..=180.0).contains(v));
        if lat.is_none() || lng.is_none() {
            return Err(err(40097, "invalid args: latitude/longitude must be decimal numbers written as strings"));
        }
        if !district_known(&district_id) {
            return Err(err(40097, "invalid args: unknown districtid (see get_district)"));
        }
        let a = self.audit();
        let rich_id = self.next();
        let uid = format!("{}", 2_880_741_500_279_500_000i64 + a.id);
        let (status, remark) = if a.approve { (0, "审核通过") } else { (1, "地址与地图位置不符,审核未通过") };
        let get = |k: &str| f[k].clone();
        pushes.push(PendingPush {
            at: a.ready,
            event: "create_map_poi_audit_info",
            audit_id: a.id,
            fields: vec![
                ("audit_id", XmlValue::Number(a.id)),
                ("status", XmlValue::Number(status)),
                ("map_poi_id", XmlValue::Text(uid.clone())),
                ("name", XmlValue::Text(get("name"))),
                ("address", XmlValue::Text(get("address"))),
                ("latitude", XmlValue::Text(get("latitude"))),
                ("longitude", XmlValue::Text(get("longitude"))),
                ("sh_remark", XmlValue::Text(remark.into())),
            ],
        });
        self.pois.push(Poi {
            uid,
            district_id,
            audit: Some(a.clone()),
            name: get("name"),
            address: get("address"),
            latitude: get("latitude"),
            longitude: get("longitude"),
            telephone: get("telephone"),
            category: get("category"),
            province: get("province"),
            city: get("city"),
            district: get("district"),
            photo: Some(get("photo")),
        });
        // The document's map_poi envelope: `error` instead of errcode.
        Ok(json!({ "error": null, "data": { "base_id": a.id, "rich_id": rich_id } }))
    }

    fn add_store(&mut self, body: &BTreeMap<String, Value>, pushes: &mut Vec<PendingPush>) -> Answer {
        let photos = pic_list(body)?;
        let hour = require_hour(body)?;
        let phone = require_phone(body)?;
        let credential = text(body, "credential")?;
        let card = text(body, "card_id")?;
        let map_poi_id = text(body, "map_poi_id")?;
        self.check_media_list(body, "qualification_list")?;
        let Some(poi) = self.pois.iter().cloned().chain(builtin_pois()).find(|p| p.uid == map_poi_id && p.usable()) else {
            return Err(err(85055, "map_poi_id 无效"));
        };
        if self.stores.values().any(|st| st.map_poi_id == map_poi_id && st.audit.verdict() != Verdict::Rejected) {
            return Err(err(85038, "请勿添加重复门店"));
        }
        let a = self.audit();
        let poi_id = 472_600_000 + a.id;
        let (status, reason) = if a.approve { (1, "") } else { (3, STORE_REJECT_REASON) };
        pushes.push(PendingPush {
            at: a.ready,
            event: "add_store_audit_info",
            audit_id: a.id,
            fields: vec![
                ("audit_id", XmlValue::Number(a.id)),
                ("status", XmlValue::Number(status)),
                ("reason", XmlValue::Text(reason.into())),
                ("is_upgrade", XmlValue::Number(0)),
                ("poiid", XmlValue::Number(poi_id)),
            ],
        });
        if !card.is_empty() {
            self.cards.insert(poi_id.to_string(), card);
        }
        let audit_id = a.id;
        self.stores.insert(poi_id.to_string(), Store { map_poi_id, audit: a, poi, photos, pending_photos: None, hour, phone, credential });
        Ok(ok(json!({ "data": { "audit_id": audit_id } })))
    }

    fn update_store(&mut self, body: &BTreeMap<String, Value>, pushes: &mut Vec<PendingPush>) -> Answer {
        let poi_id = s(body, "poi_id").unwrap_or_default();
        if !self.stores.contains_key(&poi_id) {
            return Err(err(65115, "门店不存在"));
        }
        let photos = pic_list(body)?;
        let hour = require_hour(body)?;
        let phone = require_phone(body)?;
        let card = text(body, "card_id")?;
        if self.stores[&poi_id].audit.verdict() != Verdict::Approved {
            return Err(err(65118, "该门店状态不允许更新"));
        }
        // Pictures already shown need no audit (如果重新添加的图片中有与之前旧图片相同的,此时这个图片不需要重新审核).
        let needs_audit = {
            let st = self.stores.get_mut(&poi_id).expect("checked");
            st.settle_photos();
            photos.iter().any(|u| !st.photos.contains(u))
        };
        let a = needs_audit.then(|| self.audit());
        let st = self.stores.get_mut(&poi_id).expect("checked");
        st.hour = hour;
        st.phone = phone;
        if !card.is_empty() {
            self.cards.insert(poi_id.clone(), card);
        }
        match a {
            None => {
                st.photos = photos;
                Ok(ok(json!({ "data": { "has_audit_id": 0, "audit_id": 0 } })))
            }
            Some(a) => {
                let (status, reason) = if a.approve { (1, "") } else { (3, STORE_REJECT_REASON) };
                pushes.push(PendingPush {
                    at: a.ready,
                    event: "modify_store_audit_info",
                    audit_id: a.id,
                    fields: vec![("audit_id", XmlValue::Number(a.id)), ("status", XmlValue::Number(status)), ("reason", XmlValue::Text(reason.into()))],
                });
                let id = a.id;
                st.pending_photos = Some((a, photos));
                Ok(ok(json!({ "data": { "has_audit_id": 1, "audit_id": id } })))
            }
        }
    }

    /// `GET /__admin/wxa`.
    pub fn admin_json(&self) -> Value {
        json!({
            "token_fetches": self.token_fetches,
            "tokens_issued": self.tokens_issued,
            "audit_delay_ms": self.audit_delay.as_millis() as u64,
            "audit_outcome": self.audit_outcome,
            "callback_url": self.callback_url,
            "push_mode": self.push_mode,
            "pushes": self.pushes,
        })
    }

    /// `PUT /__admin/wxa`: every member optional; `callback_url: null` removes the callback.
    pub fn apply_admin(&mut self, v: &Value) -> Result<(), String> {
        let m = v.as_object().ok_or("expected a JSON object")?;
        if let Some(k) = m.keys().find(|k| !["audit_delay_ms", "callback_url", "push_mode", "audit_outcome"].contains(&k.as_str())) {
            return Err(format!("unknown setting `{k}` (audit_delay_ms, callback_url, push_mode, audit_outcome)"));
        }
        let delay = m.get("audit_delay_ms").map(|d| d.as_u64().ok_or("audit_delay_ms must be a non-negative integer")).transpose()?;
        let url = match m.get("callback_url") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(u)) => {
                crate::wxa_push::parse_callback_url(u)?;
                Some(Some(u.clone()))
            }
            Some(_) => return Err("callback_url must be a string or null".into()),
        };
        let mode = m.get("push_mode").map(|x| serde_json::from_value::<PushMode>(x.clone()).map_err(|_| "push_mode must be \"plain\" or \"safe\"")).transpose()?;
        let outcome = m
            .get("audit_outcome")
            .map(|x| serde_json::from_value::<AuditOutcome>(x.clone()).map_err(|_| "audit_outcome must be \"approve\" or \"reject\""))
            .transpose()?;
        if let Some(d) = delay {
            self.audit_delay = Duration::from_millis(d);
        }
        if let Some(u) = url {
            self.callback_url = u;
        }
        if let Some(x) = mode {
            self.push_mode = x;
        }
        if let Some(o) = outcome {
            self.audit_outcome = o;
        }
        Ok(())
    }
}

const MERCHANT_REJECT_REASON: &str = "资料不符合要求(mendian-emulator: audit_outcome reject)";
const STORE_REJECT_REASON: &str = "门店信息或图片不符合要求(mendian-emulator: audit_outcome reject)";

/// offset/limit (or begin/limit): offset ≥ 0, limit 0–50 with 0 meaning 20.
fn page(body: &BTreeMap<String, Value>, offset_key: &str, limit_key: &str) -> Result<(usize, usize), Value> {
    let offset = int(body, offset_key)?.unwrap_or(0);
    let limit = int(body, limit_key)?.unwrap_or(0);
    if offset < 0 {
        return Err(err(40097, &format!("invalid args: `{offset_key}` must be at least 0")));
    }
    let limit = match limit {
        0 => 20,
        1..=50 => limit as usize,
        _ => return Err(err(40097, &format!("invalid args: `{limit_key}` must be 0-50"))),
    };
    Ok((offset as usize, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_refreshes_are_limited_to_20_a_day_30_s_apart() {
        let mut w = WxaState::default();
        let t0 = Instant::now();
        let first = w.stable_token(false, t0, 1000).unwrap();
        assert_eq!(w.stable_token(false, t0, 1000).unwrap().value, first.value);
        for i in 0..20u32 {
            let t = w.stable_token(true, t0 + Duration::from_secs(31 * u64::from(i)), 1000).unwrap();
            assert_ne!(t.value, first.value);
        }
        let code = |v: Value| v["errcode"].as_i64().unwrap();
        assert_eq!(code(w.stable_token(true, t0 + Duration::from_secs(31 * 20), 1000).unwrap_err()), 45009);
        // A new Beijing day resets the count, but the 30 s spacing still applies.
        let last = t0 + Duration::from_secs(31 * 19);
        assert_eq!(code(w.stable_token(true, last + Duration::from_secs(10), 1001).unwrap_err()), 45011);
        assert!(w.stable_token(true, last + Duration::from_secs(30), 1001).is_ok());
    }

    #[test]
    fn a_normal_rotation_keeps_the_old_token_valid_until_it_expires() {
        let mut w = WxaState::default();
        let t0 = Instant::now();
        let first = w.stable_token(false, t0, 1).unwrap();
        let later = t0 + TOKEN_LIFETIME - Duration::from_secs(200);
        let second = w.stable_token(false, later, 1).unwrap();
        assert_ne!(first.value, second.value);
        assert!(w.stable_prev.as_ref().is_some_and(|p| p.value == first.value));
        // A forced refresh ends both at once.
        let third = w.stable_token(true, later, 1).unwrap();
        assert!(w.stable_prev.is_none());
        assert_eq!(w.stable.as_ref().unwrap().value, third.value);
    }

    #[test]
    fn input_formats() {
        assert!(valid_hour("10:00-21:00") && valid_hour("00:00-24:00") && valid_hour("22:00-02:00"));
        assert!(!valid_hour("10:00") && !valid_hour("9:00-21:00") && !valid_hour("10:60-21:00") && !valid_hour("24:00-10:00") && !valid_hour("10:00~21:00"));
        assert!(valid_phone("020-89190388;13800138000") && !valid_phone("call me") && !valid_phone(""));
        assert_eq!(width("门店ab"), 6);
        assert_eq!((district_prefix("440000"), district_prefix("440100"), district_prefix("440105")), ("44", "4401", "440105"));
        assert!(district_known("440000") && district_known("440100") && district_known("330106") && !district_known("999999"));
    }

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

    #[test]
    fn district_cidx_ranges_point_into_the_next_level() {
        let d = districts();
        let levels: Vec<&Vec<Value>> = d.as_array().unwrap().iter().map(|l| l.as_array().unwrap()).collect();
        for (level, next) in [(0, 1), (1, 2)] {
            let mut covered = 0;
            for item in levels[level] {
                let (a, b) = (item["cidx"][0].as_u64().unwrap() as usize, item["cidx"][1].as_u64().unwrap() as usize);
                assert!(a <= b && b < levels[next].len());
                assert_eq!(a, covered, "ranges are contiguous");
                covered = b + 1;
                let id = match &item["id"] {
                    Value::String(s) => s.clone(),
                    n => n.to_string(),
                };
                for child in &levels[next][a..=b] {
                    let cid = match &child["id"] {
                        Value::String(s) => s.clone(),
                        n => n.to_string(),
                    };
                    assert!(cid.starts_with(district_prefix(&id)), "{cid} under {id}");
                }
            }
            assert_eq!(covered, levels[next].len());
        }
    }
}
