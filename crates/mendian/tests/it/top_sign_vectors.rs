//! TOP signing against known answers: the official protocol examples and RFC HMAC cases
//! (`tests/vectors/top_sign.json`), and worker.update with the document's Chinese WorkerDto
//! and `simplify=true` (`tests/vectors/top_worker_sign.json`, computed independently with
//! Python's hashlib/hmac by `make_top_worker_vectors.py`).

use std::collections::BTreeMap;

use mendian::top::sign::{canonical_string, sign_with_secret, TopSignMethod};
use mendian::top::{WorkerDto, WorkerUpdateRequest};

fn vectors(name: &str) -> serde_json::Value {
    let path = crate::common::vectors_dir().join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn params(v: &serde_json::Value) -> BTreeMap<String, String> {
    v["params"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn official_and_rfc_vectors() {
    let all = vectors("top_sign.json");
    let list = all["vectors"].as_array().unwrap();
    assert!(list.len() >= 6);
    for v in list {
        let p = params(v);
        let method_name = v["sign_method"].as_str().or_else(|| p.get("sign_method").map(String::as_str)).unwrap();
        let method = TopSignMethod::from_wire(method_name).unwrap();
        let secret = match v["secret"].as_str() {
            Some(s) => s.as_bytes().to_vec(),
            None => hex(v["secret_hex"].as_str().unwrap()),
        };
        let canonical = canonical_string(&p);
        if let Some(expected) = v["string_to_sign"].as_str() {
            assert_eq!(canonical, expected);
        }
        assert_eq!(sign_with_secret(method, &secret, &canonical), v["sign"].as_str().unwrap(), "{}", v["source"]);
    }
}

#[test]
fn chinese_worker_with_simplify_matches_an_independent_implementation() {
    let all = vectors("top_worker_sign.json");
    let worker: WorkerDto = serde_json::from_value(all["worker"].clone()).unwrap();
    // The SDK's own encoding of the complex parameter must be byte-identical to the vector's.
    let encoded = serde_json::to_value(WorkerUpdateRequest { worker: Some(worker) }).unwrap();
    for v in all["vectors"].as_array().unwrap() {
        let p = params(v);
        assert_eq!(encoded["worker"].as_str().unwrap(), p["worker"], "worker JSON string");
        let canonical = canonical_string(&p);
        assert_eq!(canonical, v["string_to_sign"].as_str().unwrap());
        assert!(!canonical.contains("partner_id"), "empty values are not signed");
        let method = TopSignMethod::from_wire(&p["sign_method"]).unwrap();
        assert_eq!(
            sign_with_secret(method, v["secret"].as_str().unwrap().as_bytes(), &canonical),
            v["sign"].as_str().unwrap()
        );
    }
}
