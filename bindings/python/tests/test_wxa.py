"""门店小程序 from Python against the emulator: the whole onboarding with the audit events
pushed (safe mode) to a callback server the test runs and verified by the SDK; a token
provider and a token store written in Python (the app never holds the AppSecret; a fleet
of servers shares one token); tokens that expire mid-flow, -1 and 45009; bad input that
never leaves the process; plain-mode pushes, tampered pushes and URL verification."""

import asyncio
import hashlib
import json
import queue
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import mendian


def tiny_png():
    """A valid 1×1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


PNG = tiny_png()
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
PIC_1 = "http://mmbiz.qpic.cn/mmbiz_jpg/tW66AWvE2K4EJxIYOVpiaGOkfg0iayibiaP2xHOChvbmKQD5uh8ymibbEKlTTPmjTdQ8ia43sULLeG1pT2psOfPic4kTw/0?wx_fmt=jpeg"
PIC_2 = "http://mmbiz.qpic.cn/mmbiz_jpg/second/0?wx_fmt=jpeg"


def wxa_state(emu):
    return emu.admin("GET", "/wxa")


def recorded_pushes(emu, count, timeout=5):
    """The emulator's push log once it holds `count` attempts (it records an attempt only
    after reading the callback's answer, so it can lag the push itself)."""
    deadline = time.monotonic() + timeout
    while True:
        pushes = wxa_state(emu)["pushes"]
        if len(pushes) >= count or time.monotonic() > deadline:
            return pushes
        time.sleep(0.02)


def fetches(emu):
    return wxa_state(emu)["token_fetches"]


def sent(emu, endpoint):
    return [r for r in emu.admin("GET", "/requests?platform=wxa") if r["endpoint"] == endpoint]


def add_fault(emu, route, kind, times=1):
    emu.admin("POST", "/faults", {"route": route, "kind": kind, "times": times})


def timed_client(emu, timeout_ms):
    """A client with a timeout of `timeout_ms` and no retries, on the stable-token provider."""
    p = emu.profile
    return mendian.WxaClient(
        mendian.WxaConfig(appid=p["wxa_appid"], options=mendian.ClientOptions(
            base_url=p["wxa_base_url"], backup_base_url="", timeout_ms=timeout_ms, max_retries=0)),
        mendian.wxa_stable_token_provider(p["wxa_appid"], p["wxa_secret"], p["wxa_base_url"]))


def client(emu, provider=None, store=None):
    p = emu.profile
    cfg = mendian.WxaConfig(appid=p["wxa_appid"],
                            options=mendian.ClientOptions(base_url=p["wxa_base_url"], backup_base_url="", language="python"))
    if provider is None:
        provider = mendian.wxa_stable_token_provider(p["wxa_appid"], p["wxa_secret"], p["wxa_base_url"])
    if store is None:
        # Clients of one host share the process's token memory; the emulator forgets its
        # tokens when a test resets it, so each test's client starts with its own.
        store = mendian.wxa_memory_token_store()
    return mendian.WxaClient(cfg, provider, store)


def receiver(emu, safe=True):
    p = emu.profile
    return mendian.WxaPushReceiver(mendian.WxaPushConfig(
        token=p["wxa_push_token"],
        encoding_aes_key=p["wxa_encoding_aes_key"] if safe else None,
        previous_encoding_aes_key=None,
        appid=p["wxa_appid"],
    ))


def backend_stable_token(emu):
    """What an app's backend does: it holds the AppSecret and asks WeChat for the token."""
    p = emu.profile
    body = json.dumps({"grant_type": "client_credential", "appid": p["wxa_appid"], "secret": p["wxa_secret"]}).encode()
    req = urllib.request.Request(p["wxa_base_url"] + "/cgi-bin/stable_token", data=body, method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer = json.loads(resp.read())
    assert "access_token" in answer, answer
    return answer


class BackendTokenProvider(mendian.WxaTokenProvider):
    """Gets tokens from "our backend": the SDK is never given the secret."""

    def __init__(self, emu):
        self.emu = emu
        self.calls = 0
        self.forced = []

    async def fetch_token(self, force_refresh):
        self.calls += 1
        self.forced.append(force_refresh)
        answer = await asyncio.to_thread(backend_stable_token, self.emu)
        return mendian.WxaAccessToken(access_token=answer["access_token"], expires_in=answer["expires_in"])


class SharedTokenStore(mendian.WxaTokenStore):
    """A token store shared by several servers (think Redis), here a dict."""

    def __init__(self):
        self.tokens = {}
        self.loads = self.saves = 0
        self.invalidated = []

    async def load(self, appid):
        self.loads += 1
        return self.tokens.get(appid)

    async def save(self, appid, token):
        self.saves += 1
        self.tokens[appid] = token

    async def invalidate(self, appid, access_token):
        self.invalidated.append(access_token)
        current = self.tokens.get(appid)
        if current is not None and current.access_token == access_token:
            del self.tokens[appid]

    async def try_lock(self, appid, holder, ttl_ms):
        # One process here: the cache's own per-process lock is enough.
        return True

    async def unlock(self, appid, holder):
        pass


class PushCallback:
    """The merchant's server URL on loopback: every POST is verified and decrypted with the
    SDK's WxaPushReceiver and answered `success`; a GET is the URL verification."""

    def __init__(self, push_receiver):
        self.receiver = push_receiver
        self.pushes = queue.Queue()
        self.raw = []
        self.errors = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _query(self):
                return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))

            def _answer(self, status, text):
                data = text.encode()
                self.send_response(status)
                self.send_header("content-type", "text/plain; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                query = self._query()
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                outer.raw.append((query, body))
                try:
                    push = outer.receiver.receive(query, body)
                except Exception as e:  # recorded and answered as a failure, so the test sees it
                    outer.errors.append(e)
                    self._answer(400, "rejected")
                    return
                outer.pushes.put(push)
                self._answer(200, "success")

            def do_GET(self):
                try:
                    self._answer(200, outer.receiver.verify_url(self._query()))
                except mendian.MendianError as e:
                    outer.errors.append(e)
                    self._answer(403, "forbidden")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/wechat/push"

    def next_push(self, timeout=10):
        try:
            return self.pushes.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no verified push within {timeout} s (rejected: {self.errors!r})") from None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback_factory(fresh):
    made = []

    def make(mode="safe", push_receiver=None):
        cb = PushCallback(push_receiver or receiver(fresh, safe=(mode == "safe")))
        fresh.admin("PUT", "/wxa", {"callback_url": cb.url, "push_mode": mode, "audit_delay_ms": 0})
        made.append(cb)
        return cb

    yield make
    for cb in made:
        cb.close()


def apply_request(media_id="MEDIA", nickname="门店小程序测试", first=278, second=280, qualification=None):
    return mendian.ApplyMerchantRequest(first_catid=first, second_catid=second, headimg_mediaid=media_id,
                                        nickname=nickname, intro="门店介绍", qualification_list=qualification)


def store_request(map_poi_id="2880741500279549033", hour="10:00-21:00", pics=(PIC_1,)):
    return mendian.AddStoreRequest(map_poi_id=map_poi_id, pic_list=mendian.StorePicList(list=list(pics)),
                                   contract_phone="020-89190388", hour=hour, credential="22883878-0", card_id="")


def update_request(poi_id, hour="09:00-22:00", pics=(PIC_2,)):
    return mendian.UpdateStoreRequest(poi_id=poi_id, hour=hour, contract_phone="020-89190388",
                                      pic_list=mendian.StorePicList(list=list(pics)), card_id="")


async def upload_and_apply(wx):
    media = await wx.upload_media_async(mendian.UploadMediaRequest(type=mendian.WxaMediaType.IMAGE(), media=PNG))
    await wx.apply_merchant_async(apply_request(media.media_id))
    return media


def test_store_onboarding_with_safe_mode_pushes(fresh, callback_factory):
    cb = callback_factory("safe")
    wx = client(fresh)

    async def flow():
        cats = (await wx.get_merchant_category_async(mendian.GetMerchantCategoryRequest())).data.all_category_info.categories
        second = next(c for c in cats if c.level == mendian.MerchantCategoryLevel.SECOND())
        assert second.name == "便利店" and second.father == 278
        assert second.sensitive_type == mendian.MerchantCategorySensitiveType.NEEDS_QUALIFICATION()

        head = await wx.upload_media_async(mendian.UploadMediaRequest(type=mendian.WxaMediaType.IMAGE(), media=PNG))
        assert head.media_id and head.type == mendian.WxaMediaType.IMAGE()
        licence = await wx.upload_media_async(mendian.UploadMediaRequest(type=mendian.WxaMediaType.IMAGE(), media=PNG))
        await wx.apply_merchant_async(apply_request(head.media_id, first=second.father, second=second.id,
                                              qualification=licence.media_id))

        push = cb.next_push()
        assert push.encrypted is True and push.used_previous_key is False
        assert isinstance(push.event, mendian.WxaEvent.APPLY_MERCHANT_AUDIT), push.event
        merchant = push.event.event
        assert merchant.status == mendian.ApplyMerchantAuditEventStatus.APPROVED()
        assert merchant.to_user_name == fresh.profile["wxa_original_id"]
        assert "<Event><![CDATA[apply_merchant_audit_info]]></Event>" in push.xml
        audit = (await wx.get_merchant_audit_info_async(mendian.GetMerchantAuditInfoRequest())).data
        assert (audit.audit_id, audit.status) == (merchant.audit_id, mendian.MerchantAuditStatus.APPROVED())

        tree = await wx.get_district_tree_async()
        assert tree and all(p.cities for p in tree) and all(c.districts for p in tree for c in p.cities)
        guangdong = next(p for p in tree if p.province.fullname == "广东省")
        guangzhou = next(c for c in guangdong.cities if c.city.fullname == "广州市")
        haizhu = next(d for d in guangzhou.districts if d.fullname == "海珠区")
        assert haizhu.id == "440105"

        created = await wx.create_map_poi_async(mendian.CreateMapPoiRequest(
            name="龙涤小区熟食店", longitude="113.323753357", latitude="23.0974903107", province=guangdong.province.fullname,
            city=guangzhou.city.fullname, district=haizhu.fullname, address="怡安路172号", category="美食:中餐厅",
            telephone="020-89190388", photo="http://mmbiz.qpic.cn/mmbiz_png/a/0", license="http://mmbiz.qpic.cn/mmbiz_png/b/0",
            introduct="熟食店", districtid=haizhu.id))
        push = cb.next_push()
        assert isinstance(push.event, mendian.WxaEvent.CREATE_MAP_POI_AUDIT), push.event
        poi = push.event.event
        assert poi.audit_id == created.data.base_id
        assert poi.status == mendian.MapPoiAuditStatus.APPROVED()
        assert poi.name == "龙涤小区熟食店" and poi.map_poi_id
        found = await wx.search_map_poi_async(mendian.SearchMapPoiRequest(districtid=int(haizhu.id), keyword="熟食"))
        assert [i.sosomap_poi_uid for i in found.data.item] == [poi.map_poi_id]

        added = await wx.add_store_async(store_request(poi.map_poi_id))
        push = cb.next_push()
        assert isinstance(push.event, mendian.WxaEvent.ADD_STORE_AUDIT), push.event
        store_event = push.event.event
        assert store_event.audit_id == added.data.audit_id
        assert store_event.status == mendian.StoreAuditEventStatus.APPROVED()
        poi_id = store_event.poiid
        assert poi_id and poi_id.isdigit()

        info = (await wx.get_store_info_async(mendian.GetStoreInfoRequest(poi_id=poi_id))).business.base_info
        assert (info.poi_id, info.business_name, info.open_time) == (poi_id, "龙涤小区熟食店", "10:00-21:00")
        assert info.status == mendian.StoreAuditStatus.APPROVED()
        assert [ph.photo_url for ph in info.photo_list] == [PIC_1]
        stores = await wx.get_all_stores_async()
        assert [s.base_info.poi_id for s in stores] == [poi_id]

        same_pictures = await wx.update_store_async(update_request(poi_id, hour="08:00-20:00", pics=(PIC_1,)))
        assert same_pictures.data.has_audit_id is False
        new_pictures = await wx.update_store_async(update_request(poi_id))
        assert new_pictures.data.has_audit_id is True
        push = cb.next_push()
        assert isinstance(push.event, mendian.WxaEvent.MODIFY_STORE_AUDIT), push.event
        assert push.event.event.audit_id == new_pictures.data.audit_id
        info = (await wx.get_store_info_async(mendian.GetStoreInfoRequest(poi_id=poi_id))).business.base_info
        assert info.open_time == "09:00-22:00"
        assert [ph.photo_url for ph in info.photo_list] == [PIC_2]

        await wx.set_store_card_async(mendian.SetStoreCardRequest(poi_id=int(poi_id), card_id="pabcedfg1234567hijklmn"))
        card = await wx.get_store_card_async(mendian.GetStoreCardRequest(poi_id=int(poi_id)))
        assert card.card_id == "pabcedfg1234567hijklmn"

        await wx.del_store_async(mendian.DelStoreRequest(poi_id=poi_id))
        with pytest.raises(mendian.MendianError.Api) as info:
            await wx.get_store_info_async(mendian.GetStoreInfoRequest(poi_id=poi_id))
        assert info.value.code == "65115" and info.value.description == "门店不存在"
        assert await wx.get_all_stores_async() == []

    asyncio.run(flow())
    assert cb.errors == []
    pushes = recorded_pushes(fresh, 4)
    assert [p["event"] for p in pushes] == [
        "apply_merchant_audit_info", "create_map_poi_audit_info", "add_store_audit_info", "modify_store_audit_info"]
    assert all((p["status"], p["answer"], p["error"], p["attempt"]) == (200, "success", None, 1) for p in pushes), pushes
    assert fetches(fresh) == 1


def test_a_token_provider_written_in_python(fresh):
    provider = BackendTokenProvider(fresh)
    wx = client(fresh, provider=provider)

    async def flow():
        await wx.get_merchant_category_async(mendian.GetMerchantCategoryRequest())
        await wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=10))
        assert provider.calls == 1
        add_fault(fresh, "*", {"type": "wxa_expire_tokens"})
        await wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=10))

    asyncio.run(flow())
    assert provider.calls == 2 and provider.forced == [False, False]
    assert fetches(fresh) == 2
    secret = fresh.profile["wxa_secret"]
    for r in fresh.admin("GET", "/requests?platform=wxa"):
        if r["endpoint"] == "get_stable_access_token":
            assert r["headers"]["user-agent"].startswith("Python-urllib"), r["headers"]
        else:
            assert r["headers"]["user-agent"].endswith("(python)"), r["headers"]
            assert secret not in r["body"] and secret not in (r["query"] or "")


def test_a_token_store_shared_by_two_servers(fresh):
    store = SharedTokenStore()
    first = client(fresh, store=store)
    second_provider = BackendTokenProvider(fresh)
    second = client(fresh, provider=second_provider, store=store)

    async def flow():
        await first.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1))
        assert (fetches(fresh), store.saves) == (1, 1)
        await second.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1))
        assert fetches(fresh) == 1, "the second server must use the stored token"
        assert second_provider.calls == 0 and store.saves == 1
        token = store.tokens[fresh.profile["wxa_appid"]].access_token
        # (The emulator accepted the call with the stored token; its log shows tokens redacted.)
        assert sent(fresh, "get_store_list")[1]["query"].startswith("access_token=<redacted>")
        # The token expires: the second server refreshes it once, and the first one uses that.
        add_fault(fresh, "*", {"type": "wxa_expire_tokens"})
        await second.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1))
        assert store.invalidated == [token] and second_provider.calls == 1
        await first.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1))
        assert fetches(fresh) == 2 and store.saves == 2

    asyncio.run(flow())


def test_a_token_that_expires_mid_flow_is_recovered_with_one_refresh(fresh):
    wx = client(fresh)

    async def flow():
        await wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=10))
        add_fault(fresh, "*", {"type": "wxa_expire_tokens"})
        return await wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=10))

    assert asyncio.run(flow()).total_count == 0
    state = wxa_state(fresh)
    assert (state["token_fetches"], state["tokens_issued"]) == (2, 2)
    assert [r["endpoint"] for r in fresh.admin("GET", "/requests?platform=wxa")] == [
        "get_stable_access_token", "get_store_list", "get_store_list", "get_stable_access_token", "get_store_list"]


def test_system_busy_is_retried_on_a_transient_call(fresh):
    wx = client(fresh)
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "wxa_errcode", "errcode": -1, "errmsg": ""})
    listing = wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=10))
    assert listing.business_list == [] and listing.total_count == 0
    assert len(sent(fresh, "get_store_list")) == 2
    assert fresh.admin("GET", "/faults") == []


def test_daily_quota_45009_is_reported_and_not_retried(fresh):
    wx = client(fresh)
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "wxa_errcode", "errcode": 45009, "errmsg": ""})
    with pytest.raises(mendian.MendianError.Api) as info:
        wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=10))
    e = info.value
    assert e.code == "45009"
    assert e.platform == mendian.Platform.WXA
    assert e.description == "reach max api daily quota limit"
    assert e.retryable is False
    assert e.request_id, "the rid of errmsg"
    assert len(sent(fresh, "get_store_list")) == 1


def test_two_hundred_concurrent_calls_after_expiry_make_one_token_request(fresh):
    wx = client(fresh)

    async def flow():
        await wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1))
        before = fetches(fresh)
        add_fault(fresh, "*", {"type": "wxa_expire_tokens"})
        add_fault(fresh, "POST /cgi-bin/stable_token", {"type": "delay", "millis": 300})
        results = await asyncio.gather(*(wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1)) for _ in range(200)))
        return before, results

    before, results = asyncio.run(flow())
    assert len(results) == 200 and all(r.total_count == 0 for r in results)
    assert fetches(fresh) - before == 1
    assert len(sent(fresh, "get_store_list")) >= 201


class AsyncForm:
    """The same client seen through its coroutine methods: `AsyncForm(wx).add_store(...)` is
    `wx.add_store_async(...)`."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name + "_async")


@pytest.mark.parametrize("field,call", [
    ("limit", lambda wx: wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=51))),
    ("nickname", lambda wx: wx.apply_merchant(apply_request(nickname="门a"))),
    ("nickname", lambda wx: wx.apply_merchant(apply_request(nickname="门" * 16))),
    ("hour", lambda wx: wx.add_store(store_request(hour="9:00-21:00"))),
    ("hour", lambda wx: wx.update_store(update_request("472600001", hour="9:00-21:00"))),
    ("media", lambda wx: wx.upload_media(mendian.UploadMediaRequest(type=mendian.WxaMediaType.IMAGE(), media=GIF))),
    ("media", lambda wx: wx.upload_media(mendian.UploadMediaRequest(type=mendian.WxaMediaType.IMAGE(), media=b""))),
    ("pic_list.list[1]", lambda wx: wx.add_store(store_request(pics=(PIC_1, "not a url")))),
], ids=["limit-51", "nickname-short", "nickname-wide", "hour-add", "hour-update", "gif", "empty-file", "pic-not-url"])
@pytest.mark.parametrize("form", ["blocking", "asyncio"])
def test_bad_input_raises_invalid_argument_and_nothing_is_sent(fresh, field, call, form):
    wx = client(fresh)
    before = fresh.admin("GET", "/requests")
    with pytest.raises(mendian.MendianError.InvalidArgument) as info:
        if form == "blocking":
            call(wx)
        else:
            asyncio.run(call(AsyncForm(wx)))
    assert info.value.field == field, info.value
    assert fresh.admin("GET", "/requests") == before
    assert fetches(fresh) == 0


def test_the_limits_themselves_are_accepted():
    mendian.validate_get_store_list_request(mendian.GetStoreListRequest(offset=0, limit=50))
    mendian.validate_apply_merchant_request(apply_request(nickname="门店"))          # width 4
    mendian.validate_apply_merchant_request(apply_request(nickname="门" * 15))       # width 30
    mendian.validate_upload_media_request(mendian.UploadMediaRequest(type=mendian.WxaMediaType.IMAGE(), media=PNG))


def test_plain_mode_pushes_and_tampered_pushes(fresh, callback_factory):
    cb = callback_factory("plain")
    wx = client(fresh)
    asyncio.run(upload_and_apply(wx))
    push = cb.next_push()
    assert push.encrypted is False
    assert isinstance(push.event, mendian.WxaEvent.APPLY_MERCHANT_AUDIT)
    assert push.event.event.status == mendian.ApplyMerchantAuditEventStatus.APPROVED()
    assert [(p["status"], p["answer"]) for p in recorded_pushes(fresh, 1)] == [(200, "success")]

    query, body = cb.raw[0]
    assert "encrypt_type" not in query
    plain = receiver(fresh, safe=False)
    assert plain.receive(dict(query), body).event == push.event
    sig = query["signature"]
    tampered = dict(query, signature=sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    with pytest.raises(mendian.MendianError.Signature):
        plain.receive(tampered, body)
    with pytest.raises(mendian.MendianError.Signature):
        plain.receive(dict(query, timestamp=str(int(query["timestamp"]) + 1)), body)
    with pytest.raises(mendian.MendianError.Signature):
        plain.receive({k: v for k, v in query.items() if k != "signature"}, body)
    # A receiver that expects safe mode still verifies the plain signature of a plain push.
    with pytest.raises(mendian.MendianError.Signature):
        receiver(fresh).receive(tampered, body)
    # The same push again is a replay.
    with pytest.raises(mendian.MendianError.Signature, match="replayed"):
        plain.receive(dict(query), body)
    # With an EncodingAESKey configured, a plain push is refused even with a genuine
    # signature: that signature does not cover the body, so a forged "approved" body with a
    # signature copied from an access log must go nowhere.
    forged = body.replace("<status>1</status>", "<status>3</status>")
    with pytest.raises(mendian.MendianError.Signature, match="plain-mode push was refused"):
        receiver(fresh).receive(dict(query), forged)
    # Stale pushes are refused (the window is 300 s by default).
    with pytest.raises(mendian.MendianError.Signature):
        plain.receive(dict(query, timestamp=str(int(query["timestamp"]) - 400)), body)
    assert "max_timestamp_skew_seconds: 300" in repr(mendian.WxaPushConfig(token="t", appid="wx1"))


def test_tampered_safe_mode_pushes_raise_signature_errors(fresh, callback_factory):
    cb = callback_factory("safe")
    wx = client(fresh)
    asyncio.run(upload_and_apply(wx))
    push = cb.next_push()
    assert push.encrypted is True
    query, body = cb.raw[0]
    assert query["encrypt_type"] == "aes"
    safe = receiver(fresh)
    assert safe.receive(dict(query), body).event == push.event

    msig = query["msg_signature"]
    with pytest.raises(mendian.MendianError.Signature):
        safe.receive(dict(query, msg_signature=msig[:-1] + ("0" if msig[-1] != "0" else "1")), body)
    with pytest.raises(mendian.MendianError.Signature):
        safe.receive(dict(query, signature="0" * 40), body)
    start = body.index("<Encrypt><![CDATA[") + len("<Encrypt><![CDATA[")
    flipped = body[:start] + ("B" if body[start] != "B" else "C") + body[start + 1:]
    with pytest.raises(mendian.MendianError.Signature):
        safe.receive(dict(query), flipped)
    without_msig = {k: v for k, v in query.items() if k != "msg_signature"}
    with pytest.raises(mendian.MendianError.Signature):
        safe.receive(without_msig, body)


def sha1_signature(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def test_url_verification_with_echostr(fresh, callback_factory):
    p = fresh.profile
    cb = callback_factory("safe")
    token, timestamp, nonce, echostr = p["wxa_push_token"], str(int(time.time())), "486452656", "5837397520138328391"
    plain = {"signature": sha1_signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "echostr": echostr}
    assert receiver(fresh, safe=False).verify_url(plain) == echostr
    # As WeChat does it: a GET to the server URL, answered with the echostr.
    with urllib.request.urlopen(cb.url + "?" + urllib.parse.urlencode(plain), timeout=10) as resp:
        assert resp.read().decode() == echostr
    with pytest.raises(mendian.MendianError.Signature):
        receiver(fresh).verify_url(dict(plain, signature=sha1_signature(token, timestamp, "1")))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(cb.url + "?" + urllib.parse.urlencode(dict(plain, nonce="1")), timeout=10)
    assert refused.value.code == 403
    assert [type(e) for e in cb.errors] == [mendian.MendianError.Signature]

    # Safe mode: the echostr is encrypted and msg_signature covers it.
    encrypted = mendian.wxa_push_encrypt_with_random(p["wxa_encoding_aes_key"], p["wxa_appid"], b"0123456789abcdef", echostr)
    safe = {"msg_signature": sha1_signature(token, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce,
            "echostr": encrypted}
    assert receiver(fresh).verify_url(safe) == echostr
    with pytest.raises(mendian.MendianError.Signature):
        receiver(fresh).verify_url(dict(safe, msg_signature=sha1_signature(token, timestamp, nonce, echostr)))


def test_blocking_calls_need_no_event_loop_and_honour_the_timeout(fresh):
    # The plain name blocks; the coroutine is the `_async` twin of the same call.
    wx = client(fresh)
    assert wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=10)).total_count == 0
    assert wx.get_all_stores() == []
    assert asyncio.run(wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=10))).total_count == 0

    slow = timed_client(fresh, 300)
    slow.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1))  # token cached
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 3000})
    started = time.monotonic()
    with pytest.raises(mendian.MendianError.Timeout):
        slow.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1))
    assert time.monotonic() - started < 2.5


def test_python_callbacks_work_from_blocking_calls(fresh):
    # An `async def` token provider and store written in Python, reached from a blocking
    # call that runs outside any event loop.
    provider = BackendTokenProvider(fresh)
    store = SharedTokenStore()
    wx = client(fresh, provider=provider, store=store)
    assert wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1)).total_count == 0
    assert (provider.calls, store.loads >= 1, store.saves) == (1, True, 1)
    add_fault(fresh, "*", {"type": "wxa_expire_tokens"})
    assert wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1)).total_count == 0
    assert provider.calls == 2 and len(store.invalidated) == 1


def _client_connections(port):
    """Established client-side TCP connections of this machine to `port` (only this test
    process connects to the emulator)."""
    count = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":
                count += 1
    return count


def test_a_cancelled_asyncio_call_stops_at_once_and_closes_its_connection(fresh):
    wx = client(fresh)
    request = mendian.GetStoreListRequest(offset=0, limit=1)
    # Token cached, connection pooled (asyncio calls pool their connections apart from
    # blocking calls, which keep their own per thread).
    asyncio.run(wx.get_store_list_async(request))
    port = urllib.parse.urlparse(fresh.profile["wxa_base_url"]).port
    before = _client_connections(port)
    assert before >= 1
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 5000})

    async def cancelled():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(wx.get_store_list_async(request), 0.3)

    started = time.monotonic()
    asyncio.run(cancelled())
    assert time.monotonic() - started < 2, "cancelling does not wait for the server"
    deadline = time.monotonic() + 2
    while _client_connections(port) >= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _client_connections(port) == before - 1, "the cancelled call's connection is closed, not kept"
    assert wx.get_store_list(request).total_count == 0, "the client keeps working"


def test_a_per_request_timeout_next_to_the_clients(fresh):
    wx = timed_client(fresh, 10_000)
    request = mendian.GetStoreListRequest(offset=0, limit=1)
    wx.get_store_list(request)
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 1500})
    started = time.monotonic()
    with pytest.raises(mendian.MendianError.Timeout) as info:
        wx.with_timeout(300).get_store_list(request)
    assert info.value.millis == 300 and time.monotonic() - started < 1.2
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 1000})
    assert wx.get_store_list(request).total_count == 0, "the client itself keeps its 10 s"
    assert fetches(fresh) == 1, "the shorter-timeout view shares the token cache"
    with pytest.raises(mendian.MendianError.InvalidArgument):
        wx.with_timeout(0)
