//! Turning get_district's two-dimensional array into the province → city → district tree
//! it encodes, which every user of that call otherwise writes by hand. (Paging through all
//! stores is generated from the spec's paging table: `get_all_stores`.)
//!
//! get_district answers `result[0]` (provinces), `result[1]` (cities) and `result[2]`
//! (districts); a province's `cidx` is the first and last index (inclusive) of its cities in
//! `result[1]`, a city's the range of its districts in `result[2]`. Some servers and copies of
//! the data leave `cidx` out; then children are matched by the six-digit administrative code
//! (a city shares its province's first two digits, a district its city's first four).

use crate::error::MendianError;
use crate::generated::wxa::{GetDistrictResponse, MapDistrict};

/// Exported from `crate::ffi::wxa`; re-exported here for Rust callers.
pub use crate::ffi::wxa::wxa_district_tree;

/// A city (市) of get_district with its districts (区).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WxaDistrictCity {
    /// The city itself.
    pub city: MapDistrict,
    /// Its districts, in the server's order (empty for cities the data lists without any).
    pub districts: Vec<MapDistrict>,
}

/// A province (省) of get_district with its cities.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WxaDistrictProvince {
    /// The province itself.
    pub province: MapDistrict,
    /// Its cities, each with its districts.
    pub cities: Vec<WxaDistrictCity>,
}

/// The children of `parent` in `level`: by `cidx` when it is a valid range, else by code prefix.
fn children<'a>(
    parent: &MapDistrict,
    level: &'a [MapDistrict],
    prefix_len: usize,
) -> Result<Vec<&'a MapDistrict>, MendianError> {
    match parent.cidx.as_slice() {
        [] => {
            let prefix = parent.id.get(..prefix_len).unwrap_or(&parent.id);
            Ok(level
                .iter()
                .filter(|d| d.id != parent.id && d.id.starts_with(prefix) && d.id.len() == parent.id.len())
                .collect())
        }
        [a, b] if *a >= 0 && a <= b && (*b as usize) < level.len() => {
            Ok(level[*a as usize..=*b as usize].iter().collect())
        }
        other => Err(MendianError::Decode {
            what: "the get_district response".into(),
            reason: format!(
                "`cidx` of {} ({}) is {other:?}, not a range of indexes into the next level ({} entries)",
                parent.fullname,
                parent.id,
                level.len()
            ),
        }),
    }
}

/// The tree of a get_district answer; exported as [`wxa_district_tree`] (in
/// `crate::ffi::wxa`), which also backs `WxaClient::get_district_tree`.
pub(crate) fn district_tree(response: GetDistrictResponse) -> Result<Vec<WxaDistrictProvince>, MendianError> {
    let empty = Vec::new();
    let level = |i: usize| response.result.get(i).unwrap_or(&empty);
    let (provinces, cities, districts) = (level(0), level(1), level(2));
    provinces
        .iter()
        .map(|p| {
            let cities = children(p, cities, 2)?
                .into_iter()
                .map(|c| {
                    Ok(WxaDistrictCity {
                        city: c.clone(),
                        districts: children(c, districts, 4)?.into_iter().cloned().collect(),
                    })
                })
                .collect::<Result<Vec<_>, MendianError>>()?;
            Ok(WxaDistrictProvince { province: p.clone(), cities })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str, name: &str, cidx: &[i32]) -> MapDistrict {
        MapDistrict {
            id: id.into(),
            name: None,
            fullname: name.into(),
            pinyin: None,
            location: None,
            cidx: cidx.to_vec(),
        }
    }

    #[test]
    fn the_tree_follows_cidx_and_falls_back_to_codes() {
        let response = GetDistrictResponse {
            data_version: None,
            result: vec![
                vec![d("440000", "广东省", &[0, 1]), d("110000", "北京市", &[])],
                vec![d("440100", "广州市", &[0, 1]), d("440300", "深圳市", &[]), d("110100", "北京市", &[])],
                vec![
                    d("440105", "海珠区", &[]),
                    d("440106", "天河区", &[]),
                    d("440305", "南山区", &[]),
                    d("110101", "东城区", &[]),
                ],
            ],
        };
        let tree = wxa_district_tree(response.clone()).unwrap();
        assert_eq!(tree.len(), 2);
        let gd = &tree[0];
        assert_eq!(gd.cities.iter().map(|c| c.city.fullname.as_str()).collect::<Vec<_>>(), ["广州市", "深圳市"]);
        assert_eq!(
            gd.cities[0].districts.iter().map(|x| x.fullname.as_str()).collect::<Vec<_>>(),
            ["海珠区", "天河区"]
        );
        // 深圳 has no cidx: its districts are found by code.
        assert_eq!(gd.cities[1].districts.iter().map(|x| x.fullname.as_str()).collect::<Vec<_>>(), ["南山区"]);
        // 北京 has no cidx either: matched by its first two digits.
        assert_eq!(tree[1].cities[0].city.fullname, "北京市");
        assert_eq!(tree[1].cities[0].districts[0].fullname, "东城区");

        let mut broken = response;
        broken.result[0][0].cidx = vec![0, 9];
        let e = wxa_district_tree(broken).unwrap_err();
        assert!(e.to_string().contains("cidx") && e.to_string().contains("广东省"), "{e}");
    }
}
