"""The emulator from Python: its profile, request recording and fault injection over its
admin API (what the platform suites build on)."""

import json
import urllib.request


def post(url, body):
    req = urllib.request.Request(url, data=body.encode(), method="POST")
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.read().decode()


def test_profile_points_at_loopback(emulator):
    p = emulator.profile
    assert p["wxa_base_url"].startswith("http://127.0.0.1:")
    assert p["top_gateway_url"].endswith("/router/rest")


def test_requests_are_recorded_and_faults_injected(fresh):
    base = fresh.profile["wxa_base_url"]
    status, body = post(base + "/wxa/del_store?access_token=t", "{}")
    assert status == 200 and json.loads(body)["errcode"] == 40001  # not a token the emulator issued
    fresh.admin("POST", "/faults", {"route": "POST /wxa/del_store", "kind": {"type": "status", "status": 200, "body": '{"errcode":-1,"errmsg":"system error"}'}, "times": 1})
    status, body = post(base + "/wxa/del_store?access_token=t", '{"poi_id":"1"}')
    assert json.loads(body) == {"errcode": -1, "errmsg": "system error"}
    recorded = fresh.admin("GET", "/requests")
    assert [r["endpoint"] for r in recorded] == ["del_store", "del_store"]
    assert recorded[1]["body"] == '{"poi_id":"1"}'
