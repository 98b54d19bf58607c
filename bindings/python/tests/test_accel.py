"""The accelerator (``mendian._accel``): it is what the package's endpoint methods run, it
builds the same objects and raises the same errors as UniFFI's own methods (kept as each
method's ``__wrapped__``), it names the field a wrongly typed request breaks, it runs
``async def`` callbacks on the loop of the call, and the package works without it."""

import asyncio
import json
import os
import subprocess
import sys
import threading

import pytest

import mendian
from test_top import client as top_client, doc_worker
from test_wechatpay import client as wechatpay_client, register
from test_wxa import BackendTokenProvider, add_fault, client as wxa_client

CLIENTS = (mendian.WxaClient, mendian.TopClient, mendian.WechatpayClient)


def test_the_accelerator_is_loaded_and_agrees_with_the_bindings():
    assert mendian._accel is not None
    # Every record and variant class it builds exists, with the fields it writes.
    assert mendian._accel.self_check() > 100


# The clients' hand-written methods, which stay on UniFFI.
HAND_WRITTEN = {"access_token", "force_refresh_token", "get_district_tree", "download_platform_certificates",
                "verify_notification"}


def test_every_endpoint_method_runs_through_the_accelerator():
    replaced = {(c, m) for c, m, _ in mendian._accel.methods()}
    # Every method with a blocking and an asyncio form: one per endpoint and one per paged walk.
    expected = {(c.__name__, m) for c in CLIENTS for m in vars(c)
                if not m.startswith("_") and m + "_async" in vars(c) and m not in HAND_WRITTEN}
    assert len(expected) >= 24 and {("WxaClient", "get_all_stores"), ("TopClient", "query_all_workers")} <= expected
    assert replaced == expected
    for cls_name, method in replaced:
        cls = getattr(mendian, cls_name)
        for name in (method, method + "_async"):
            fast = getattr(cls, name)
            assert hasattr(fast, "__wrapped__"), f"{cls_name}.{name} is UniFFI's"
            assert fast.__doc__ == fast.__wrapped__.__doc__ and fast.__name__ == name


def test_validation_functions_run_through_the_accelerator():
    replaced = {name for name, _ in mendian._accel.validators()}
    assert replaced == {n for n in dir(mendian) if n.startswith("validate_") and n.endswith("_request")}
    for name in replaced:
        assert getattr(mendian, name) is getattr(mendian._ffi.mendian, name)
        assert hasattr(getattr(mendian, name), "__wrapped__")
    request = mendian.GetStoreListRequest(offset=0, limit=51)
    errors = []
    for f in (mendian.validate_get_store_list_request, mendian.validate_get_store_list_request.__wrapped__):
        with pytest.raises(mendian.MendianError.InvalidArgument) as info:
            f(request)
        errors.append(fields(info.value))
    assert errors[0] == errors[1] and errors[0]["field"] == "limit"
    assert mendian.validate_get_store_list_request(mendian.GetStoreListRequest(offset=0, limit=50)) is None


def both(method, client, *args):
    """The answer (or exception) of the accelerated method and of UniFFI's."""
    out = []
    for f in (method, method.__wrapped__):
        try:
            out.append(("ok", f(client, *args)))
        except mendian.MendianError as e:
            out.append(("error", e))
    return out


def fields(e):
    """An exception's fields but the request id (each call gets its own, also at the end of
    the server's message)."""
    out = {k: v for k, v in vars(e).items() if k != "request_id"}
    if getattr(e, "request_id", None) and out.get("server_message"):
        out["server_message"] = out["server_message"].replace(e.request_id, "<rid>")
    return out


def same(a, b):
    if a[0] == "error" or b[0] == "error":
        assert (a[0], type(a[1]), fields(a[1])) == (b[0], type(b[1]), fields(b[1]))
    else:
        assert type(a[1]) is type(b[1]) and a[1] == b[1] and repr(a[1]) == repr(b[1])


def test_answers_are_the_objects_uniffi_builds(fresh):
    wx = wxa_client(fresh)
    # The category tree: nested records, lists and enums (sensitive_type, qualify).
    fast, uniffi = both(mendian.WxaClient.get_merchant_category, wx, mendian.GetMerchantCategoryRequest())
    same(fast, uniffi)
    tree = fast[1]
    assert isinstance(tree, mendian.GetMerchantCategoryResponse) and tree.data.all_category_info.categories
    assert any(isinstance(c.sensitive_type, mendian.MerchantCategorySensitiveType) for c in tree.data.all_category_info.categories)
    same(*both(mendian.WxaClient.get_store_list, wx, mendian.GetStoreListRequest(offset=0, limit=10)))

    top = top_client(fresh)
    top.worker_create(mendian.WorkerCreateRequest(worker_dto=doc_worker()))
    query = mendian.WorkerQueryRequest(identity_id="330106199001011234")
    fast, uniffi = both(mendian.TopClient.worker_query, top, query)
    same(fast, uniffi)
    assert fast[1].result.value.service_areas[0].division_names == ["-"]

    pay = wechatpay_client(fresh)
    pay.register_guide(register())
    same(*both(mendian.WechatpayClient.query_guides, pay, mendian.QueryGuidesRequest(store_id=1234567)))


def test_errors_are_the_exceptions_uniffi_raises(fresh):
    wx = wxa_client(fresh)
    # Refused before sending.
    same(*both(mendian.WxaClient.get_store_list, wx, mendian.GetStoreListRequest(offset=0, limit=51)))
    # Answered with an error code (each path gets one fault).
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "wxa_errcode", "errcode": 45009, "errmsg": ""}, times=2)
    fast, uniffi = both(mendian.WxaClient.get_store_list, wx, mendian.GetStoreListRequest(offset=0, limit=1))
    same(fast, uniffi)
    assert isinstance(fast[1], mendian.MendianError.Api) and fast[1].code == "45009"


def test_a_wrongly_typed_request_names_the_field(fresh):
    wx = wxa_client(fresh)
    with pytest.raises(TypeError, match=r"request\.offset: 'str' object cannot be interpreted as an integer"):
        wx.get_store_list(mendian.GetStoreListRequest(offset="0", limit=1))
    with pytest.raises(ValueError, match=r"request\.limit: i32 requires"):
        wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=2**40))
    with pytest.raises(ValueError, match=r"request\.limit: i32 requires"):
        wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=-(2**200)))
    top = top_client(fresh)
    with pytest.raises(TypeError, match=r"request\.worker\.service_areas\[0\]\.division_names: expected a list, not str"):
        top.worker_update(mendian.WorkerUpdateRequest(worker=doc_worker(service_areas=[mendian.DivisionDto(division_names="-")])))
    with pytest.raises(TypeError, match=r"session: argument must be str, not int"):
        top.worker_update(mendian.WorkerUpdateRequest(worker=doc_worker()), session=5)
    with pytest.raises(TypeError, match=r"expected WxaClient"):
        mendian.WxaClient.get_store_list(top, mendian.GetStoreListRequest(offset=0, limit=1))
    assert fresh.admin("GET", "/requests?platform=wxa") == []
    assert [r for r in fresh.admin("GET", "/requests?platform=top") if r["endpoint"] == "worker_update"] == []


def test_async_callbacks_run_on_the_loop_that_awaits_the_call(fresh):
    seen = []

    class Provider(BackendTokenProvider):
        async def fetch_token(self, force_refresh):
            seen.append((asyncio.get_running_loop(), threading.get_ident()))
            return await super().fetch_token(force_refresh)

    wx = wxa_client(fresh, provider=Provider(fresh))

    async def call():
        await wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1))
        return asyncio.get_running_loop(), threading.get_ident()

    assert seen == [] and [asyncio.run(call())] == seen


def test_concurrent_asyncio_calls_each_get_their_own_answer(fresh):
    wx = wxa_client(fresh)

    async def many():
        limits = [1 + i % 50 for i in range(100)]
        answers = await asyncio.gather(*(wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=n)) for n in limits))
        return answers

    answers = asyncio.run(many())
    assert len(answers) == 100 and all(a.total_count == 0 for a in answers)
    requests = [r for r in fresh.admin("GET", "/requests?platform=wxa") if r["endpoint"] == "get_store_list"]
    assert sorted(json.loads(r["body"])["limit"] for r in requests) == sorted(1 + i % 50 for i in range(100))


def test_the_package_works_without_the_accelerator(fresh):
    code = (
        "import mendian, sys\n"
        "assert mendian._accel is None\n"
        "assert not hasattr(mendian.WxaClient.get_store_list, '__wrapped__')\n"
        "p = {}\n".format(dict(fresh.profile))
        + "wx = mendian.WxaClient(mendian.WxaConfig(appid=p['wxa_appid'], options=mendian.ClientOptions(base_url=p['wxa_base_url'], backup_base_url='')),"
        " mendian.wxa_stable_token_provider(p['wxa_appid'], p['wxa_secret'], p['wxa_base_url']), mendian.wxa_memory_token_store())\n"
        "print(wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1)).total_count)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "MENDIAN_PYTHON_ACCEL": "0"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


def test_a_loop_that_cannot_watch_a_socket_still_gets_answers_and_errors(fresh):
    # As Windows' proactor loop: no add_reader, so calls resolve through call_soon_threadsafe.
    class NoReaders(asyncio.SelectorEventLoop):
        def add_reader(self, *args):
            raise NotImplementedError

    wx = wxa_client(fresh)
    loop = NoReaders()
    try:
        answer = loop.run_until_complete(wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1)))
        assert answer.total_count == 0
        with pytest.raises(mendian.MendianError.InvalidArgument):
            loop.run_until_complete(wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=51)))
    finally:
        loop.close()


def test_one_wake_up_socket_per_loop(fresh):
    wx = wxa_client(fresh)

    async def calls():
        for _ in range(3):
            await wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1))
        return asyncio.get_running_loop()

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(calls()) is loop
        waker = mendian._wakers[loop]
        assert waker is not None and loop.run_until_complete(calls()) is loop and mendian._wakers[loop] is waker
    finally:
        loop.close()
