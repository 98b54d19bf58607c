//! The built-in platform data of the wxa side: Tencent Map's district levels (`get_district`),
//! three built-in Tencent Map places (`search_map_poi`, usable by `add_store`) and the
//! merchant categories (`get_merchant_category`). The credentials (appid, secret, push token,
//! EncodingAESKey, original id) are in [`crate::credentials::wxa`].

use serde_json::{json, Value};

use super::stores::Poi;

/// Tencent Map's district levels for two provinces; cidx ranges are inclusive indexes into
/// the next level. Ids mix strings and numbers on purpose.
pub(super) fn districts() -> Value {
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

pub(super) fn district_known(id: &str) -> bool {
    districts().as_array().into_iter().flatten().flat_map(|level| level.as_array().into_iter().flatten()).any(|d| {
        match &d["id"] {
            Value::String(s) => s == id,
            n => n.as_i64().is_some_and(|n| id.parse() == Ok(n)),
        }
    })
}

/// The code prefix a district id covers: `440000` → `44`, `440100` → `4401`, `440105` → itself.
pub(super) fn district_prefix(id: &str) -> &str {
    let mut p = id;
    while p.len() > 2 && p.ends_with("00") {
        p = &p[..p.len() - 2];
    }
    p
}

pub(super) fn builtin_pois() -> Vec<Poi> {
    let place = |uid: &str,
                 district_id: &str,
                 name: &str,
                 address: &str,
                 lat: &str,
                 lng: &str,
                 tel: &str,
                 cat: &str,
                 city: &str,
                 district: &str| Poi {
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
        place(
            "2708071440732747189",
            "440105",
            "X-MAX工厂",
            "广东省广州市海珠区怡安路172-174号怡安花园二、三层(中海名都)",
            "23.1088695526",
            "113.274810791",
            " 020-89190388",
            "运动健身:健身中心",
            "广州市",
            "海珠区",
        ),
        place(
            "2880741500279549033",
            "440106",
            "天河城购物中心",
            "广东省广州市天河区天河路208号",
            "23.1324500000",
            "113.3261200000",
            "020-85598888",
            "购物:综合商场",
            "广州市",
            "天河区",
        ),
        place(
            "5938314494307741153",
            "440305",
            "深圳湾公园",
            "广东省深圳市南山区滨海大道",
            "22.5003100000",
            "113.9533500000",
            "0755-26888888",
            "旅游景点:公园",
            "深圳市",
            "南山区",
        ),
    ]
}

pub(super) fn categories() -> Value {
    json!({ "all_category_info": { "categories": [
        { "id": 0, "name": "root", "level": 0, "children": [278] },
        { "id": 278, "name": "购物", "level": 1, "father": 0, "children": [280] },
        { "id": 280, "name": "便利店", "level": 2, "father": 278, "children": [], "scene": 3, "sensitive_type": 1,
          "qualify": { "exter_list": [{ "inner_list": [{ "name": "若涉及食品,请提供《食品经营许可证》或《卫生许可证》" }] }] } }
    ]}})
}

#[cfg(test)]
mod tests {
    use super::*;

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
