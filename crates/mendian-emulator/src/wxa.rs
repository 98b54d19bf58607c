//! The `api.weixin.qq.com` side for 门店小程序: access tokens with their real semantics
//! (stable_token returns the same token while valid, force_refresh and the classic token
//! replace it), token checks on every call (41001/40001/42001), and a merchant with its map
//! POIs, stores and store cards whose audits finish after a configurable delay.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::state::Shared;

/// The emulated mini-program's appid.
pub const APPID: &str = "wx2f8c5d2e1a9b3c7d";
/// Its AppSecret (a test credential).
pub const SECRET: &str = "mendian-emulator-wxa-secret";
const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

#[derive(Debug, Clone)]
struct Token {
    value: String,
    expires: Instant,
}

#[derive(Debug, Clone)]
struct Audit {
    id: i64,
    ready: Instant,
}

impl Audit {
    fn done(&self) -> bool {
        Instant::now() >= self.ready
    }
}

#[derive(Debug, Clone)]
struct Store {
    map_poi_id: String,
    audit: Audit,
    fields: Map<String, Value>,
}

#[derive(Debug, Clone)]
struct Poi {
    uid: String,
    audit: Option<Audit>,
    fields: Map<String, Value>,
}

/// Everything the wxa side remembers.
#[derive(Debug, Default)]
pub(crate) struct WxaState {
    stable: Option<Token>,
    classic: Option<Token>,
    /// Token requests answered (stable and classic), for tests of single-flight refresh.
    pub token_fetches: u64,
    merchant: Option<Audit>,
    pois: Vec<Poi>,
    stores: BTreeMap<String, Store>,
    cards: BTreeMap<String, String>,
    next_id: i64,
    /// How long audits take.
    pub audit_delay: Duration,
}

fn ok(mut extra: Value) -> Value {
    extra["errcode"] = json!(0);
    extra["errmsg"] = json!("ok");
    extra
}

fn err(code: i64, msg: &str) -> Value {
    json!({ "errcode": code, "errmsg": format!("{msg} rid: emu-{code}") })
}

fn random_token() -> String {
    let mut b = [0u8; 24];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl WxaState {
    fn next(&mut self) -> i64 {
        self.next_id += 1;
        100_000 + self.next_id
    }

    fn audit(&mut self) -> Audit {
        Audit { id: self.next(), ready: Instant::now() + self.audit_delay }
    }

    /// Makes every issued token expire now (the `wxa_expire_tokens` fault).
    pub fn expire_tokens(&mut self) {
        let now = Instant::now();
        for t in [&mut self.stable, &mut self.classic].into_iter().flatten() {
            t.expires = now;
        }
    }

    fn check_token(&self, token: Option<&String>) -> Result<(), Value> {
        let Some(token) = token.filter(|t| !t.is_empty()) else { return Err(err(41001, "access_token missing")) };
        for t in [&self.stable, &self.classic].into_iter().flatten() {
            if &t.value == token {
                return if Instant::now() < t.expires { Ok(()) } else { Err(err(42001, "access_token expired")) };
            }
        }
        Err(err(40001, "invalid credential, access_token is invalid or not latest"))
    }
}

fn credentials(appid: Option<&str>, secret: Option<&str>, grant_type: Option<&str>) -> Result<(), Value> {
    if grant_type != Some("client_credential") {
        return Err(err(40002, "invalid grant_type"));
    }
    if appid != Some(APPID) {
        return Err(err(40013, "invalid appid"));
    }
    if secret != Some(SECRET) {
        return Err(err(40125, "invalid appsecret"));
    }
    Ok(())
}

fn s(v: &Map<String, Value>, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(x) if !x.is_empty() => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn districts() -> Value {
    json!([
        [{ "id": "440000", "name": "广东", "fullname": "广东省", "pinyin": ["guang", "dong"], "location": { "lat": 23.13171, "lng": 113.26627 }, "cidx": [0, 0] }],
        [{ "id": "440100", "name": "广州", "fullname": "广州市", "pinyin": ["guang", "zhou"], "location": { "lat": 23.12908, "lng": 113.26436 }, "cidx": [0, 1] }],
        [
            { "id": "440105", "fullname": "海珠区", "location": { "lat": 23.08331, "lng": 113.3172 } },
            { "id": "440106", "fullname": "天河区", "location": { "lat": 23.12463, "lng": 113.36199 } }
        ]
    ])
}

fn categories() -> Value {
    json!({ "all_category_info": { "categories": [
        { "id": 0, "name": "root", "level": 0, "children": [278] },
        { "id": 278, "name": "购物", "level": 1, "father": 0, "children": [280] },
        { "id": 280, "name": "便利店", "level": 2, "father": 278, "children": [], "scene": 3, "sensitive_type": 1,
          "qualify": { "exter_list": [{ "inner_list": [{ "name": "若涉及食品,请提供《食品经营许可证》或《卫生许可证》" }] }] } }
    ]}})
}

fn store_json(poi_id: &str, st: &Store) -> Value {
    let mut base = st.fields.clone();
    base.insert("poi_id".into(), json!(poi_id));
    base.insert("status".into(), json!(if st.audit.done() { 1 } else { 2 }));
    json!({ "base_info": Value::Object(base) })
}

/// Answers one wxa call (after faults and spec routing). `query` and `body` are decoded.
pub(crate) fn handle(shared: &Shared, id: &str, query: &BTreeMap<String, String>, body: &Map<String, Value>) -> Value {
    let mut inner = shared.lock();
    let w = &mut inner.wxa;
    match id {
        "get_stable_access_token" => {
            let force = body.get("force_refresh").and_then(Value::as_bool).unwrap_or(false);
            if let Err(e) = credentials(s(body, "appid").as_deref(), s(body, "secret").as_deref(), s(body, "grant_type").as_deref()) {
                return e;
            }
            w.token_fetches += 1;
            let now = Instant::now();
            let reuse = w.stable.as_ref().filter(|t| !force && t.expires > now + Duration::from_secs(300)).cloned();
            let t = reuse.unwrap_or_else(|| Token { value: random_token(), expires: now + TOKEN_LIFETIME });
            w.stable = Some(t.clone());
            return json!({ "access_token": t.value, "expires_in": (t.expires - now).as_secs() });
        }
        "get_access_token" => {
            if let Err(e) = credentials(query.get("appid").map(String::as_str), query.get("secret").map(String::as_str), query.get("grant_type").map(String::as_str)) {
                return e;
            }
            w.token_fetches += 1;
            let t = Token { value: random_token(), expires: Instant::now() + TOKEN_LIFETIME };
            w.classic = Some(t.clone());
            return json!({ "access_token": t.value, "expires_in": TOKEN_LIFETIME.as_secs() });
        }
        _ => {}
    }
    if let Err(e) = w.check_token(query.get("access_token")) {
        return e;
    }
    match id {
        "get_merchant_category" => ok(json!({ "data": categories() })),
        "apply_merchant" => {
            if w.merchant.as_ref().is_some_and(|a| !a.done()) {
                return err(85050, "正在审核中,请勿重复提交");
            }
            let a = w.audit();
            w.merchant = Some(a);
            ok(json!({}))
        }
        "get_merchant_audit_info" => match &w.merchant {
            None => ok(json!({ "data": { "audit_id": 0, "status": 0, "reason": "" } })),
            Some(a) => ok(json!({ "data": { "audit_id": a.id, "status": if a.done() { 1 } else { 2 }, "reason": "" } })),
        },
        "modify_merchant" => match &w.merchant {
            Some(a) if a.done() => ok(json!({})),
            _ => err(85053, "请先成功创建门店后再调用"),
        },
        "get_district" => json!({ "status": 0, "message": "query ok", "data_version": "20170510", "result": districts() }),
        "search_map_poi" => {
            let keyword = s(body, "keyword").unwrap_or_default();
            let items: Vec<Value> = w
                .pois
                .iter()
                .filter(|p| p.audit.as_ref().is_none_or(Audit::done))
                .filter(|p| s(&p.fields, "name").unwrap_or_default().contains(&keyword) || s(&p.fields, "address").unwrap_or_default().contains(&keyword))
                .map(|p| {
                    json!({ "branch_name": s(&p.fields, "name"), "address": s(&p.fields, "address"), "longitude": 113.274810791, "latitude": 23.1088695526,
                            "telephone": s(&p.fields, "telephone"), "category": s(&p.fields, "category"), "sosomap_poi_uid": p.uid, "data_supply": 2,
                            "pic_urls": [], "card_id_list": [] })
                })
                .collect();
            ok(json!({ "data": { "item": items } }))
        }
        "create_map_poi" => {
            let a = w.audit();
            let uid = format!("{}", 2_880_741_500_279_549_000i64 + a.id);
            w.pois.push(Poi { uid, audit: Some(a.clone()), fields: body.clone() });
            // The map_poi envelope: `error` instead of errcode.
            json!({ "error": null, "data": { "base_id": a.id, "rich_id": a.id + 1 } })
        }
        "add_store" => {
            let map_poi_id = s(body, "map_poi_id").unwrap_or_default();
            let Some(poi) = w.pois.iter().find(|p| p.uid == map_poi_id && p.audit.as_ref().is_none_or(Audit::done)).cloned() else {
                return err(85055, "map_poi_id 无效");
            };
            if w.stores.values().any(|st| st.map_poi_id == map_poi_id) {
                return err(85038, "请勿添加重复门店");
            }
            let a = w.audit();
            let poi_id = format!("{}", 472_600_000 + a.id);
            let mut fields = Map::new();
            fields.insert("business_name".into(), json!(s(&poi.fields, "name")));
            fields.insert("address".into(), json!(s(&poi.fields, "address")));
            fields.insert("city".into(), json!(s(&poi.fields, "city")));
            fields.insert("province".into(), json!(s(&poi.fields, "province")));
            fields.insert("district".into(), json!(s(&poi.fields, "district")));
            fields.insert("telephone".into(), json!(s(body, "contract_phone")));
            fields.insert("open_time".into(), json!(s(body, "hour")));
            fields.insert("qualification_num".into(), json!(s(body, "credential")));
            let pics: Vec<Value> = s(body, "pic_list")
                .and_then(|p| serde_json::from_str::<Value>(&p).ok())
                .and_then(|v| v.get("list").cloned())
                .and_then(|l| l.as_array().cloned())
                .unwrap_or_default()
                .into_iter()
                .map(|u| json!({ "photo_url": u }))
                .collect();
            fields.insert("photo_list".into(), Value::Array(pics));
            w.stores.insert(poi_id, Store { map_poi_id, audit: a.clone(), fields });
            ok(json!({ "data": { "audit_id": a.id } }))
        }
        "update_store" => {
            let poi_id = s(body, "poi_id").unwrap_or_default();
            if !w.stores.contains_key(&poi_id) {
                return err(65115, "门店不存在");
            }
            let new_audit = if body.contains_key("pic_list") { Some(w.audit()) } else { None };
            let st = w.stores.get_mut(&poi_id).expect("checked");
            if let Some(h) = s(body, "hour") {
                st.fields.insert("open_time".into(), json!(h));
            }
            if let Some(p) = s(body, "contract_phone") {
                st.fields.insert("telephone".into(), json!(p));
            }
            match new_audit {
                Some(a) => {
                    st.audit = a.clone();
                    ok(json!({ "data": { "has_audit_id": 1, "audit_id": a.id } }))
                }
                None => ok(json!({ "data": { "has_audit_id": 0, "audit_id": 0 } })),
            }
        }
        "get_store_info" => {
            let poi_id = s(body, "poi_id").unwrap_or_default();
            match w.stores.get(&poi_id) {
                Some(st) => ok(json!({ "business": store_json(&poi_id, st) })),
                None => err(65115, "门店不存在"),
            }
        }
        "get_store_list" => {
            let offset = body.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let limit = match body.get("limit").and_then(Value::as_u64).unwrap_or(0) {
                0 => 20,
                n if n > 50 => return err(40097, "invalid args"),
                n => n as usize,
            };
            let list: Vec<Value> = w.stores.iter().skip(offset).take(limit).map(|(id, st)| store_json(id, st)).collect();
            ok(json!({ "business_list": list, "total_count": w.stores.len() }))
        }
        "del_store" => {
            let poi_id = s(body, "poi_id").unwrap_or_default();
            match w.stores.remove(&poi_id) {
                Some(_) => ok(json!({})),
                None => err(-1, "删除失败"),
            }
        }
        "get_poi_list" => ok(json!({ "business_list": [], "total_count": 0 })),
        "get_store_card" => {
            let poi_id = s(body, "poi_id").unwrap_or_default();
            match w.cards.get(&poi_id) {
                Some(c) => ok(json!({ "card_id": c })),
                None => ok(json!({})),
            }
        }
        "set_store_card" => {
            let poi_id = s(body, "poi_id").unwrap_or_default();
            if !w.stores.contains_key(&poi_id) {
                return err(65115, "门店不存在");
            }
            w.cards.insert(poi_id, s(body, "card_id").unwrap_or_default());
            ok(json!({}))
        }
        other => err(-1, &format!("mendian-emulator: `{other}` is not emulated in this version")),
    }
}
