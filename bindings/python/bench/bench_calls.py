"""Client CPU per call from Python (`cargo xtask bench`, last part).

Starts the emulator binary as its own process on loopback and the plain-reqwest baseline
(`crates/mendian/examples/bench_baseline.rs`) as another, then measures, in one run:

- 门店小程序 `get_store_list` (1 store in the answer) and TOP `worker_update` through mendian
  from Python, blocking and asyncio (awaited one at a time in one event loop), next to the
  same HTTP exchange from plain reqwest (Rust) and from pure-Python `requests` + `json.loads`;
- the asyncio form also on a loop of `mendian.new_event_loop()`, where the call runs on the
  loop's own thread instead of the SDK's I/O thread;
- `get_store_list` answering a full page of 50 stores, the same clients;
- each of these also through UniFFI's own generated method (kept by the package as the
  accelerated method's `__wrapped__`), to show what the accelerator changes;
- 200 concurrent `get_store_list_async` from one Python process (asyncio.gather, repeated, on
  both loops), next to plain reqwest with 200 in flight;
- WeChat Pay `update_guide` with `name` and `mobile` (two RSA-OAEP encryptions, an RSA
  signature, the answer's signature verified), next to the same crypto with aws-lc-rs plus
  plain reqwest (Rust), and to `requests` + `cryptography` (OpenSSL) from Python.

CPU per call is the client process's CPU time (user + system, all threads: in Python
`time.process_time()`, which includes the Rust runtime's threads; in the baseline the sum of
its threads' run times) over N calls after a warm-up. Every round measures every client of a
group, starting with a different one each round; the table gives the median CPU per call over
the rounds and the median of the rounds' ratios. The emulator's CPU is never counted: it is
another process. Prints one Markdown table (and with --json, the numbers of every round).

    python bench_calls.py --emulator PATH --baseline PATH [--calls 1000] [--rounds 9] [--json OUT]
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import base64
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.parse

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

import mendian
from mendian.testing import Emulator

DISTRICT = "440105"  # 海珠区 in the emulator's district tree
KEYWORD = "基准"      # in every seeded POI's name, in no built-in POI
PIC = "http://mmbiz.qpic.cn/mmbiz_jpg/bench/0?wx_fmt=jpeg"
CONCURRENT = 200
GROUPS = ("small", "top", "wechatpay", "concurrent", "page")


class Baseline:
    """The plain-reqwest process: one JSON command in, one JSON measurement out."""

    def __init__(self, binary):
        self.proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the baseline exited on {cmd['op']} ({self.proc.wait()})")
        return json.loads(line)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def cpu_per_call(calls, body):
    """(CPU µs per call, calls/s) of `body()` making `calls` calls."""
    c0, t0 = time.process_time(), time.perf_counter()
    body()
    c1, t1 = time.process_time(), time.perf_counter()
    return (c1 - c0) * 1e6 / calls, calls / (t1 - t0)


def bench_worker():
    """The worker every TOP update sends (the document's example)."""
    return mendian.WorkerDto(
        address=mendian.AddressDto(address_detail="22", address_names=["222"]), biz_type="appliance_install",
        cover_category_ids="123|456", identity_id="330106199001011234", name="张三", phone=1234567890, provider_id=1,
        provider_name="-", register_time="2016-06-28 10:30:00", service_areas=[mendian.DivisionDto(division_names=["-"])],
        service_store_code="网点编码", service_types=["-"], work_type="-", service_codes="xxxx|xxxx")


def top_gmt8_now():
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 8 * 3600))


def seed_stores(wx, first, count):
    """Creates `count` approved map POIs and a store on each, through the SDK."""
    for i in range(first, first + count):
        wx.create_map_poi(mendian.CreateMapPoiRequest(
            name=f"{KEYWORD}熟食店{i:02d}号", longitude="113.323753357", latitude="23.0974903107", province="广东省",
            city="广州市", district="海珠区", address=f"新港中路{i}号", category="美食:中餐厅", telephone="020-89190388",
            photo="http://mmbiz.qpic.cn/mmbiz_png/a/0", license="http://mmbiz.qpic.cn/mmbiz_png/b/0",
            introduct="bench", districtid=DISTRICT))
    found = wx.search_map_poi(mendian.SearchMapPoiRequest(districtid=int(DISTRICT), keyword=KEYWORD))
    added = 0
    for item in found.data.item:
        try:
            wx.add_store(mendian.AddStoreRequest(
                map_poi_id=item.sosomap_poi_uid, pic_list=mendian.StorePicList(list=[PIC]),
                contract_phone="020-89190388", hour="10:00-21:00", credential="22883878-0", card_id=""))
            added += 1
        except mendian.MendianError.Api as e:  # 85038: this POI already has its store
            if e.code != "85038":
                raise
    return added


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--calls", type=int, default=1000, help="calls per measurement (small answers)")
    ap.add_argument("--warmup", type=int, default=100, help="calls before each measurement")
    ap.add_argument("--page-calls", type=int, default=300, help="calls per measurement (full page of 50)")
    ap.add_argument("--wechatpay-calls", type=int, default=300, help="calls per measurement (WeChat Pay)")
    ap.add_argument("--concurrent-batches", type=int, default=5, help=f"gathers of {CONCURRENT} per measurement")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--slices", type=int, default=5,
                    help="slices of each round's calls per client, the clients taking turns slice by slice")
    ap.add_argument("--json", help="also write the raw numbers here")
    ap.add_argument("--only", choices=GROUPS, action="append", help="measure only this group (repeatable)")
    args = ap.parse_args()

    emu = Emulator(args.emulator)
    baseline = Baseline(args.baseline)
    loop = asyncio.new_event_loop()
    mendian_loop = mendian.new_event_loop()
    try:
        rows = run(emu, baseline, loop, mendian_loop, args)
    finally:
        loop.close()
        mendian_loop.close()
        baseline.stop()
        emu.stop()
    print_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, ensure_ascii=False, indent=1)


def run(emu, baseline, loop, mendian_loop, args):
    p = emu.profile
    options = mendian.ClientOptions(base_url=p["wxa_base_url"], backup_base_url="", language="python")
    wx = mendian.WxaClient(mendian.WxaConfig(appid=p["wxa_appid"], options=options),
                           mendian.wxa_stable_token_provider(p["wxa_appid"], p["wxa_secret"], p["wxa_base_url"]))
    top_options = mendian.ClientOptions(base_url=p["top_gateway_url"], language="python")
    top = mendian.TopClient(mendian.TopConfig(app_key=p["top_app_key"], session=p["top_session"], options=top_options),
                            mendian.top_app_secret_signer(p["top_app_secret"]))

    # One store for the small answer; the TOP worker to update.
    seed_stores(wx, 0, 1)
    token = wx.access_token()
    top.worker_create(mendian.WorkerCreateRequest(worker_dto=bench_worker()))
    emu.admin("DELETE", "/requests")
    top.worker_update(mendian.WorkerUpdateRequest(worker=bench_worker()))
    [sent] = [r for r in emu.admin("GET", "/requests?platform=top") if r["endpoint"] == "worker_update"]
    # The same worker JSON for the baselines, as mendian sent it.
    worker = json.loads(urllib.parse.parse_qs(sent["body"])["worker"][0])

    wxa_url = f"{p['wxa_base_url']}/wxa/get_store_list?access_token={token}"
    gateway, secret = p["top_gateway_url"], p["top_app_secret"].encode()
    session = requests.Session()

    def sdk_forms(client, name, request, check):
        """The four ways mendian makes the call `name`: blocking and asyncio (one at a time),
        each through the accelerator and through UniFFI's own method (`__wrapped__`)."""
        blocking, coroutine = getattr(client, name), getattr(client, f"{name}_async")
        uniffi_blocking = getattr(type(client), name).__wrapped__
        uniffi_async = getattr(type(client), f"{name}_async").__wrapped__

        def run_blocking(call):
            def body(n):
                for _ in range(n):
                    check(call(request()))
            return body

        def run_asyncio(call, on=loop):
            async def one_at_a_time(n):
                for _ in range(n):
                    check(await call(request()))
            return lambda n: on.run_until_complete(one_at_a_time(n))

        return {
            "mendian-blocking": run_blocking(blocking),
            "mendian-asyncio": run_asyncio(coroutine),
            "mendian-loop": run_asyncio(coroutine, mendian_loop),
            "uniffi-blocking": run_blocking(lambda r: uniffi_blocking(client, r)),
            "uniffi-asyncio": run_asyncio(lambda r: uniffi_async(client, r)),
        }

    def wxa_clients(limit, stores):
        def check(page):
            assert len(page.business_list) == stores, len(page.business_list)

        def with_requests(n):
            for _ in range(n):
                r = session.post(wxa_url, data=json.dumps({"offset": 0, "limit": limit}),
                                 headers={"content-type": "application/json"})
                v = json.loads(r.content)
                assert v["errcode"] == 0 and len(v["business_list"]) == stores, v

        def reqwest(runtime):
            return lambda n: baseline.run(op="wxa", runtime=runtime, url=wxa_url, offset=0, limit=limit, stores=stores,
                                          calls=n)

        def rust_sdk(n):
            return baseline.run(op="sdk_wxa", runtime="current", appid=p["wxa_appid"], secret=p["wxa_secret"],
                                base_url=p["wxa_base_url"], offset=0, limit=limit, stores=stores, calls=n)

        return {
            "reqwest-ct": reqwest("current"),
            "reqwest-mt": reqwest("multi"),
            "rust-sdk": rust_sdk,
            **sdk_forms(wx, "get_store_list", lambda: mendian.GetStoreListRequest(offset=0, limit=limit), check),
            "requests": with_requests,
        }

    def top_clients():
        def check(resp):
            assert resp.result.value is True, resp

        def with_requests(n):
            for _ in range(n):
                params = {"method": "tmall.servicecenter.worker.update", "app_key": p["top_app_key"],
                          "timestamp": top_gmt8_now(), "v": "2.0", "format": "json", "sign_method": "hmac-sha256",
                          "session": p["top_session"],
                          "worker": json.dumps(worker, ensure_ascii=False, separators=(",", ":"))}
                canonical = "".join(k + v for k, v in sorted(params.items()))
                params["sign"] = hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest().upper()
                r = session.post(gateway, data=params, headers={"accept": "application/json"})
                v = json.loads(r.content)
                assert v["tmall_servicecenter_worker_update_response"]["result"]["value"] is True, v

        def reqwest(runtime):
            return lambda n: baseline.run(op="top", runtime=runtime, gateway=gateway, app_key=p["top_app_key"],
                                          app_secret=p["top_app_secret"], session=p["top_session"], worker=worker,
                                          calls=n)

        def rust_sdk(n):
            return baseline.run(op="sdk_top", runtime="current", gateway=gateway, app_key=p["top_app_key"],
                                app_secret=p["top_app_secret"], session=p["top_session"], worker=worker, calls=n)

        return {
            "reqwest-ct": reqwest("current"),
            "reqwest-mt": reqwest("multi"),
            "rust-sdk": rust_sdk,
            **sdk_forms(top, "worker_update", lambda: mendian.WorkerUpdateRequest(worker=bench_worker()), check),
            "requests": with_requests,
        }

    def concurrent_clients():
        async def gathers(n):
            for _ in range(n // CONCURRENT):
                pages = await asyncio.gather(*(wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=10))
                                               for _ in range(CONCURRENT)))
                assert all(len(pg.business_list) == 1 for pg in pages)

        return {
            "reqwest-ct": lambda n: baseline.run(op="wxa", runtime="current", url=wxa_url, offset=0, limit=10, stores=1,
                                                 calls=n, in_flight=CONCURRENT),
            "mendian-gather": lambda n: loop.run_until_complete(gathers(n)),
            "mendian-gather-loop": lambda n: mendian_loop.run_until_complete(gathers(n)),
        }

    def wechatpay_clients():
        pay = mendian.WechatpayClient(
            mendian.WechatpayConfig(
                mchid=p["wechatpay_mchid"], merchant_serial_no=p["wechatpay_merchant_serial_no"],
                apiv3_key=p["wechatpay_apiv3_key"], wechatpay_public_key_id=p["wechatpay_public_key_id"],
                wechatpay_public_key_pem=p["wechatpay_public_key_pem"],
                options=mendian.ClientOptions(base_url=p["wechatpay_base_url"], backup_base_url="")),
            mendian.wechatpay_pem_signer(p["wechatpay_merchant_private_key_pem"]))
        guide_id = pay.register_guide(mendian.RegisterGuideRequest(
            corpid="ww1234567890abcdef", store_id=p["wechatpay_store_ids"][0], userid="bench", name="张三",
            mobile="13900000000", qr_code="https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=bench",
            avatar="http://wx.qlogo.cn/mmopen/bench/0")).guide_id
        name, mobile = "张三丰", "13900000001"

        # What a Python merchant writes without an SDK: requests + cryptography (OpenSSL).
        merchant = serialization.load_pem_private_key(p["wechatpay_merchant_private_key_pem"].encode(), None)
        platform = serialization.load_pem_public_key(p["wechatpay_public_key_pem"].encode())
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        path = f"/v3/smartguide/guides/{guide_id}"
        url = p["wechatpay_base_url"].rstrip("/") + path

        def with_requests(n):
            for _ in range(n):
                body = json.dumps({"name": base64.b64encode(platform.encrypt(name.encode(), oaep)).decode(),
                                   "mobile": base64.b64encode(platform.encrypt(mobile.encode(), oaep)).decode()})
                ts, nonce = str(int(time.time())), secrets.token_hex(16).upper()
                signature = merchant.sign(f"PATCH\n{path}\n{ts}\n{nonce}\n{body}\n".encode(), padding.PKCS1v15(),
                                          hashes.SHA256())
                auth = (f'WECHATPAY2-SHA256-RSA2048 mchid="{p["wechatpay_mchid"]}",nonce_str="{nonce}",'
                        f'signature="{base64.b64encode(signature).decode()}",timestamp="{ts}",'
                        f'serial_no="{p["wechatpay_merchant_serial_no"]}"')
                r = session.patch(url, data=body.encode(), headers={
                    "authorization": auth, "accept": "application/json", "content-type": "application/json",
                    "user-agent": "bench-requests", "wechatpay-serial": p["wechatpay_public_key_id"]})
                assert r.status_code == 204, r.text
                h = r.headers
                assert h["wechatpay-serial"] == p["wechatpay_public_key_id"]
                assert abs(int(time.time()) - int(h["wechatpay-timestamp"])) <= 300
                platform.verify(base64.b64decode(h["wechatpay-signature"]),
                                f"{h['wechatpay-timestamp']}\n{h['wechatpay-nonce']}\n".encode() + r.content + b"\n",
                                padding.PKCS1v15(), hashes.SHA256())

        def reqwest(runtime):
            return lambda n: baseline.run(
                op="wechatpay", runtime=runtime, base_url=p["wechatpay_base_url"], mchid=p["wechatpay_mchid"],
                serial_no=p["wechatpay_merchant_serial_no"], private_key_pem=p["wechatpay_merchant_private_key_pem"],
                public_key_id=p["wechatpay_public_key_id"], public_key_pem=p["wechatpay_public_key_pem"],
                guide_id=guide_id, name=name, mobile=mobile, calls=n)

        return {
            "reqwest-ct": reqwest("current"),
            **sdk_forms(pay, "update_guide", lambda: mendian.UpdateGuideRequest(guide_id=guide_id, name=name, mobile=mobile),
                        lambda answer: None),
            "requests": with_requests,
        }

    def measure(group, clients, calls, warmup, unit=1):
        """Median over the rounds of each client's (CPU µs per call, calls/s), alternating: each
        round runs every client's calls in `--slices` slices, the clients taking turns slice by
        slice, so a machine whose speed drifts during the round slows them all alike. Every slice
        is a multiple of `unit` calls."""
        names = list(clients)
        samples = {name: [] for name in names}
        units = calls // unit
        slices = max(1, min(args.slices, units))
        for rnd in range(args.rounds):
            emu.admin("DELETE", "/requests")  # the emulator's request log must not grow without bound
            order = names[rnd % len(names):] + names[:rnd % len(names)]
            for name in order:
                clients[name](warmup)
            cpu = {name: 0.0 for name in names}
            wall = {name: 0.0 for name in names}
            for i in range(slices):
                n = (units // slices + (1 if i < units % slices else 0)) * unit
                for name in order:
                    if name.startswith(("reqwest", "rust-")):  # measured in the baseline's process
                        m = clients[name](n)
                        c, rate = m["cpu_us_per_call"], m["calls_per_s"]
                    else:
                        c, rate = cpu_per_call(n, lambda: clients[name](n))
                    cpu[name] += c * n
                    wall[name] += n / rate
            for name in names:
                samples[name].append((cpu[name] / calls, calls / wall[name]))
            print(f"  {group}: round {rnd + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        return {name: {"cpu_us": statistics.median(c for c, _ in s), "calls_per_s": statistics.median(r for _, r in s),
                       "cpu_us_rounds": [c for c, _ in s]}
                for name, s in samples.items()}

    only = set(args.only or GROUPS)
    rows = {}
    if "small" in only:
        rows["small"] = measure("get_store_list (1 store)", wxa_clients(10, 1), args.calls, args.warmup)
    if "top" in only:
        rows["top"] = measure("worker_update", top_clients(), args.calls, args.warmup)
    if "wechatpay" in only:
        rows["wechatpay"] = measure("update_guide", wechatpay_clients(), args.wechatpay_calls,
                                    args.wechatpay_calls // 10)
    concurrent_calls = CONCURRENT * args.concurrent_batches
    if "concurrent" in only:
        rows["concurrent"] = measure(f"{CONCURRENT} concurrent", concurrent_clients(), concurrent_calls, CONCURRENT,
                                     unit=CONCURRENT)
    if "page" in only:
        added = seed_stores(wx, 1, 49)
        total = wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=50))
        assert added == 49 and len(total.business_list) == 50, (added, total.total_count)
        rows["page"] = measure("get_store_list (50 stores)", wxa_clients(50, 50), args.page_calls,
                               args.page_calls // 10)
    rows["meta"] = {"calls": args.calls, "page_calls": args.page_calls, "wechatpay_calls": args.wechatpay_calls, "concurrent_calls": concurrent_calls,
                    "rounds": args.rounds, "slices": args.slices, "warmup": args.warmup, "python": sys.version.split()[0],
                    "requests": requests.__version__, "cpus": os.cpu_count()}
    return rows


LABELS = {
    "reqwest-ct": "plain reqwest (Rust), current-thread runtime",
    "reqwest-mt": "plain reqwest (Rust), 2-worker runtime (call on the calling thread, connection on the workers)",
    "rust-sdk": "mendian from Rust (the same call through the Rust API, in the baseline's process, current-thread runtime)",
    "mendian-blocking": "mendian, blocking",
    "mendian-asyncio": "mendian, asyncio (one at a time)",
    "uniffi-blocking": "mendian, blocking, through UniFFI's Python converters (the method's `__wrapped__`)",
    "uniffi-asyncio": "mendian, asyncio, through UniFFI's Python converters (`__wrapped__`)",
    "requests": "pure-Python `requests` + `json.loads`",
    "requests-crypto": "Python `requests` + `cryptography` (OpenSSL) for the same crypto",
    "mendian-gather": f"mendian, asyncio.gather of {CONCURRENT}",
    "mendian-loop": "mendian, asyncio on `mendian.new_event_loop()` (one at a time)",
    "mendian-gather-loop": f"mendian, asyncio.gather of {CONCURRENT} on `mendian.new_event_loop()`",
}


def print_table(rows):
    meta = rows["meta"]
    print(f"Client CPU per call from Python (Python {meta['python']}, requests {meta['requests']}, "
          f"{meta['cpus']} CPUs), emulator in its own process on loopback; {meta['rounds']} rounds of "
          f"{meta['calls']} calls per client ({meta['page_calls']} for the full page, {meta['wechatpay_calls']} for WeChat Pay, "
          f"{meta['concurrent_calls']} "
          f"for {CONCURRENT} concurrent) after a warm-up ({meta['warmup']} calls; {meta['page_calls'] // 10} for "
          f"the full page, one gather of {CONCURRENT}), the clients taking turns in {meta['slices']} slices of each "
          "round's calls; CPU is the "
          "median over the rounds, the ratio the median of the rounds' ratios")
    print()
    print("| measurement | client | CPU µs per call | ratio (range over rounds) | target | calls/s |")
    print("|---|---|---:|---:|---|---:|")

    def row(title, group, name, base, target=None, label=None):
        if name not in rows.get(group, {}):  # left out with --only, or not measured for this group
            return
        r = rows[group][name]
        # The ratio within each round (its clients run seconds apart), then the median: a
        # machine whose speed drifts during the run moves both sides of a round alike.
        ratios = [c / b for c, b in zip(r["cpu_us_rounds"], rows[group][base]["cpu_us_rounds"])]
        ratio = statistics.median(ratios)
        r["ratio"], r["ratio_rounds"] = ratio, ratios
        spread = "" if name == base else f" ({min(ratios):.2f}–{max(ratios):.2f})"
        verdict = ""
        if target is not None:
            verdict = f"≤ {target}× {'met' if ratio <= target else 'missed'}"
        print(f"| {title} | {LABELS[label or name]} | {r['cpu_us']:.0f} | {ratio:.2f}×{spread} | {verdict} | "
              f"{r['calls_per_s']:.0f} |")

    for group, title in [("small", "`get_store_list`, 1 store (÷ reqwest current-thread)"),
                         ("top", "TOP `worker_update` (÷ reqwest current-thread)")]:
        row(title, group, "reqwest-ct", "reqwest-ct")
        row("", group, "reqwest-mt", "reqwest-ct")
        row("", group, "rust-sdk", "reqwest-ct")
        row("", group, "mendian-blocking", "reqwest-ct", 2.0)
        row("", group, "mendian-asyncio", "reqwest-ct", 2.5)
        row("", group, "mendian-loop", "reqwest-ct", 2.5)
        row("", group, "uniffi-blocking", "reqwest-ct")
        row("", group, "uniffi-asyncio", "reqwest-ct")
        row("", group, "requests", "reqwest-ct")
    title = "`get_store_list`, full page of 50 stores (÷ `requests`)"
    row(title, "page", "requests", "requests")
    row("", "page", "mendian-blocking", "requests", 0.5)
    row("", "page", "mendian-asyncio", "requests", 0.5)
    row("", "page", "mendian-loop", "requests", 0.5)
    row("", "page", "uniffi-blocking", "requests")
    row("", "page", "uniffi-asyncio", "requests")
    row("", "page", "reqwest-ct", "requests")
    row("", "page", "reqwest-mt", "requests")
    row("", "page", "rust-sdk", "requests")
    title = "WeChat Pay `update_guide`, `name` and `mobile` (÷ the crypto it must do + reqwest)"
    row(title, "wechatpay", "reqwest-ct", "reqwest-ct")
    row("", "wechatpay", "mendian-blocking", "reqwest-ct", 1.15)
    row("", "wechatpay", "mendian-asyncio", "reqwest-ct", 1.15)
    row("", "wechatpay", "mendian-loop", "reqwest-ct", 1.15)
    row("", "wechatpay", "uniffi-blocking", "reqwest-ct")
    row("", "wechatpay", "uniffi-asyncio", "reqwest-ct")
    row("", "wechatpay", "requests", "reqwest-ct", label="requests-crypto")
    row(f"{CONCURRENT} concurrent `get_store_list` (÷ reqwest {CONCURRENT} in flight)", "concurrent", "reqwest-ct",
        "reqwest-ct")
    row("", "concurrent", "mendian-gather", "reqwest-ct")
    row("", "concurrent", "mendian-gather-loop", "reqwest-ct")
    print()
    print("Every client builds its request for each call and checks the answer (errcode 0 and the number of "
          "stores; TOP `result.value`); the baselines decode to `serde_json::Value` / `json.loads` dicts, mendian "
          "to typed records. TOP: the baselines sign each call themselves (HMAC-SHA256 over the sorted "
          "parameters, new timestamp), as mendian does. All clients keep connections alive. reqwest on a "
          "current-thread runtime does everything on one thread, as mendian's blocking form does; on the "
          "2-worker runtime the call runs on the calling thread and the connection on the runtime's workers. In the "
          f"concurrent group reqwest has {CONCURRENT} calls in flight on a current-thread runtime. WeChat Pay: "
          "every client encrypts `name` and `mobile` afresh (RSA-OAEP), signs the request (RSA-SHA256, new "
          "timestamp and nonce) and verifies the 204 answer's signature; the Rust baseline does exactly that "
          "crypto with aws-lc-rs, keys parsed once, then plain reqwest. "
          "calls/s is the wall-clock rate (the emulator shares the machine).")


if __name__ == "__main__":
    main()
