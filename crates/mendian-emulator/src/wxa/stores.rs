//! Map POIs, stores (门店) and their cards. Audits finish after `audit_delay` (0 by default)
//! with the configured `audit_outcome` (approve by default), fixed when the audit starts: a
//! created map POI becomes searchable and usable by add_store only when approved, stores
//! 2 → 1/3. add_store needs an approved map POI (85055) and refuses a second store on one
//! (85038). update_store needs an approved store (65118); new pictures start a picture audit
//! (has_audit_id 1) and replace the shown pictures once approved; pictures already shown need
//! none. `get_district` returns two provinces, their cities and districts with inclusive
//! `cidx` ranges, ids mixing strings and numbers; `search_map_poi` searches created, approved
//! POIs and three built-in Tencent Map places by district (prefix) and keyword; `poi_id` is a
//! string in get_store_list and a number in get_store_info. When an audit finishes its event
//! is pushed to the configured callback (see `push`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::envelope::{err, ok, Answer};
use super::fixtures::{builtin_pois, district_known, district_prefix, districts};
use super::inputs::{page, pic_list, require_hour, require_phone, s, text};
use super::push::{PendingPush, XmlValue};
use super::{Audit, Verdict, WxaState};

const STORE_REJECT_REASON: &str = "门店信息或图片不符合要求(mendian-emulator: audit_outcome reject)";

/// A map POI: created through `create_map_poi`, or one of the built-in places.
#[derive(Debug, Clone)]
pub(super) struct Poi {
    pub(super) uid: String,
    pub(super) district_id: String,
    /// None for the built-in Tencent Map places.
    pub(super) audit: Option<Audit>,
    pub(super) name: String,
    pub(super) address: String,
    pub(super) latitude: String,
    pub(super) longitude: String,
    pub(super) telephone: String,
    pub(super) category: String,
    pub(super) province: String,
    pub(super) city: String,
    pub(super) district: String,
    pub(super) photo: Option<String>,
}

impl Poi {
    fn usable(&self) -> bool {
        self.audit.as_ref().is_none_or(|a| a.verdict() == Verdict::Approved)
    }
}

/// A store (门店), keyed by its `poi_id`.
#[derive(Debug, Clone)]
pub(super) struct Store {
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

impl WxaState {
    /// `get_district`.
    pub(super) fn district(&self) -> Answer {
        Ok(json!({ "status": 0, "message": "query ok", "data_version": "20170510", "result": districts() }))
    }

    /// `search_map_poi`.
    pub(super) fn search_map_poi(&self, body: &BTreeMap<String, Value>) -> Answer {
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

    /// `get_store_info`.
    pub(super) fn store_info(&self, body: &BTreeMap<String, Value>) -> Answer {
        let poi_id = s(body, "poi_id").unwrap_or_default();
        match self.stores.get(&poi_id) {
            Some(st) => Ok(ok(json!({ "business": store_json(&poi_id, st, true) }))),
            None => Err(err(65115, "门店不存在")),
        }
    }

    /// `get_store_list`.
    pub(super) fn store_list(&self, body: &BTreeMap<String, Value>) -> Answer {
        let (offset, limit) = page(body, "offset", "limit")?;
        let list: Vec<Value> =
            self.stores.iter().skip(offset).take(limit).map(|(id, st)| store_json(id, st, false)).collect();
        Ok(ok(json!({ "business_list": list, "total_count": self.stores.len() })))
    }

    /// `del_store`.
    pub(super) fn del_store(&mut self, body: &BTreeMap<String, Value>) -> Answer {
        let poi_id = s(body, "poi_id").unwrap_or_default();
        match self.stores.remove(&poi_id) {
            Some(_) => {
                self.cards.remove(&poi_id);
                Ok(ok(json!({})))
            }
            None => Err(err(-1, "删除失败")),
        }
    }

    /// `get_poi_list` (the old POI list: always empty here).
    pub(super) fn poi_list(&self, body: &BTreeMap<String, Value>) -> Answer {
        page(body, "begin", "limit")?;
        Ok(ok(json!({ "business_list": [], "total_count": 0 })))
    }

    /// `get_store_card`.
    pub(super) fn store_card(&self, body: &BTreeMap<String, Value>) -> Answer {
        let poi_id = s(body, "poi_id").unwrap_or_default();
        Ok(match self.cards.get(&poi_id) {
            Some(c) => ok(json!({ "card_id": c })),
            None => ok(json!({})),
        })
    }

    /// `set_store_card`.
    pub(super) fn set_store_card(&mut self, body: &BTreeMap<String, Value>) -> Answer {
        let poi_id = s(body, "poi_id").unwrap_or_default();
        let card = text(body, "card_id")?;
        if !self.stores.contains_key(&poi_id) {
            return Err(err(65115, "门店不存在"));
        }
        self.cards.insert(poi_id, card);
        Ok(ok(json!({})))
    }

    pub(super) fn create_map_poi(&mut self, body: &BTreeMap<String, Value>, pushes: &mut Vec<PendingPush>) -> Answer {
        let mut f = BTreeMap::new();
        for k in [
            "name",
            "longitude",
            "latitude",
            "province",
            "city",
            "district",
            "address",
            "category",
            "telephone",
            "photo",
            "license",
            "introduct",
        ] {
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
        let (status, remark) =
            if a.approve { (0, "审核通过") } else { (1, "地址与地图位置不符,审核未通过") };
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

    pub(super) fn add_store(&mut self, body: &BTreeMap<String, Value>, pushes: &mut Vec<PendingPush>) -> Answer {
        let photos = pic_list(body)?;
        let hour = require_hour(body)?;
        let phone = require_phone(body)?;
        let credential = text(body, "credential")?;
        let card = text(body, "card_id")?;
        let map_poi_id = text(body, "map_poi_id")?;
        self.check_media_list(body, "qualification_list")?;
        let Some(poi) = self.pois.iter().cloned().chain(builtin_pois()).find(|p| p.uid == map_poi_id && p.usable())
        else {
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
        self.stores.insert(
            poi_id.to_string(),
            Store { map_poi_id, audit: a, poi, photos, pending_photos: None, hour, phone, credential },
        );
        Ok(ok(json!({ "data": { "audit_id": audit_id } })))
    }

    pub(super) fn update_store(&mut self, body: &BTreeMap<String, Value>, pushes: &mut Vec<PendingPush>) -> Answer {
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
                    fields: vec![
                        ("audit_id", XmlValue::Number(a.id)),
                        ("status", XmlValue::Number(status)),
                        ("reason", XmlValue::Text(reason.into())),
                    ],
                });
                let id = a.id;
                st.pending_photos = Some((a, photos));
                Ok(ok(json!({ "data": { "has_audit_id": 1, "audit_id": id } })))
            }
        }
    }
}
