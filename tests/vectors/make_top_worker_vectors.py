"""Computes tests/vectors/top_worker_sign.json with Python's standard library only
(json, hashlib, hmac) — an implementation independent of mendian's Rust signer — for a
tmall.servicecenter.worker.update call carrying the document's Chinese WorkerDto with
simplify=true, in all three sign methods.

Run: python3 tests/vectors/make_top_worker_vectors.py > tests/vectors/top_worker_sign.json
"""

import hashlib
import hmac
import json

SECRET = "helloworld"

# The document's example WorkerDto, members in the document's order, compact JSON with
# non-ASCII characters kept as UTF-8 (what TOP's own SDKs send).
WORKER = {
    "address": {"address_detail": "22", "address_names": ["222"]},
    "biz_type": "appliance_install",
    "cover_category_ids": "123|456",
    "handheld_card_pic": "-",
    "id_card_pic": "-",
    "id_card_pic_back": "-",
    "identity_id": "-",
    "name": "张三",
    "phone": 1234567890,
    "photo": "-",
    "provider_id": 1,
    "provider_name": "-",
    "register_time": "2016-06-28 10:30:00",
    "service_areas": [{"division_names": ["-"]}],
    "service_store_code": "网点编码",
    "service_types": ["-"],
    "work_type": "-",
    "service_codes": "xxxx|xxxx",
}


def sign(params, method):
    canonical = "".join(k + v for k, v in sorted(params.items()) if k != "sign" and v.strip())
    data = canonical.encode("utf-8")
    key = SECRET.encode("utf-8")
    if method == "md5":
        digest = hashlib.md5(key + data + key).digest()
    elif method == "hmac":
        digest = hmac.new(key, data, hashlib.md5).digest()
    else:
        digest = hmac.new(key, data, hashlib.sha256).digest()
    return canonical, digest.hex().upper()


vectors = []
for method in ["md5", "hmac", "hmac-sha256"]:
    params = {
        "method": "tmall.servicecenter.worker.update",
        "app_key": "12345678",
        "session": "test",
        "timestamp": "2016-06-28 10:30:00",
        "format": "json",
        "v": "2.0",
        "sign_method": method,
        "simplify": "true",
        "partner_id": "",
        "worker": json.dumps(WORKER, ensure_ascii=False, separators=(",", ":")),
    }
    canonical, signature = sign(params, method)
    vectors.append({"source": "computed with Python hashlib/hmac", "secret": SECRET, "params": params,
                    "string_to_sign": canonical, "sign": signature})

print(json.dumps({
    "about": "TOP signing vectors for worker.update with the document's Chinese WorkerDto and simplify=true; "
             "the empty partner_id is neither sent nor signed. Made by make_top_worker_vectors.py.",
    "worker": WORKER,
    "vectors": vectors,
}, ensure_ascii=False, indent=1))
