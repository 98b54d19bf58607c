"""TOP worker calls from Python against the emulator: the lifecycle (create → update with the
document's request → query → delete), a signer written in Python (the app secret can stay on
a server), the documented errors, and invalid input that never leaves the process."""

import asyncio
import hashlib
import hmac

import pytest

import mendian


def doc_worker(**changes):
    fields = dict(
        address=mendian.AddressDto(address_detail="22", address_names=["222"]),
        biz_type="appliance_install",
        cover_category_ids="123|456",
        identity_id="330106199001011234",
        name="张三",
        phone=1234567890,
        provider_id=1,
        provider_name="-",
        register_time="2016-06-28 10:30:00",
        service_areas=[mendian.DivisionDto(division_names=["-"])],
        service_store_code="网点编码",
        service_types=["-"],
        work_type="-",
        service_codes="xxxx|xxxx",
    )
    fields.update(changes)
    return mendian.WorkerDto(**fields)


def client(emu, signer=None, **config):
    p = emu.profile
    cfg = mendian.TopConfig(app_key=p["top_app_key"], session=p["top_session"],
                            options=mendian.ClientOptions(base_url=p["top_gateway_url"], language="python"), **config)
    return mendian.TopClient(cfg, signer or mendian.top_app_secret_signer(p["top_app_secret"]))


class ServerSideSigner(mendian.TopSigner):
    """Signs like an app's backend would: the secret never enters the SDK, and only the
    calls it allows are signed, over the text it rebuilt itself."""

    ALLOWED = {"tmall.servicecenter.worker.create", "tmall.servicecenter.worker.update",
               "tmall.servicecenter.worker.query", "tmall.servicecenter.worker.delete"}

    def __init__(self, secret, allowed=ALLOWED):
        self.secret = secret.encode()
        self.allowed = allowed
        self.calls = 0

    async def sign(self, request):
        self.calls += 1
        assert request.sign_method == mendian.TopSignMethod.HMAC_SHA256
        if request.api_name not in self.allowed or request.params.get("method") != request.api_name:
            raise PermissionError(f"not signing {request.api_name}")
        canonical = "".join(k + v for k, v in sorted(request.params.items()))
        assert canonical == request.canonical
        return hmac.new(self.secret, canonical.encode(), hashlib.sha256).hexdigest().upper()


def test_worker_lifecycle(fresh):
    top = client(fresh, simplify=True)

    async def flow():
        created = await top.worker_create_async(mendian.WorkerCreateRequest(worker_dto=doc_worker()))
        assert created.result.value is True
        updated = await top.worker_update_async(mendian.WorkerUpdateRequest(worker=doc_worker(service_store_code="网点B")))
        assert updated.result.value is True
        found = await top.worker_query_async(mendian.WorkerQueryRequest(identity_id="330106199001011234"))
        assert found.result.value.service_store_code == "网点B"
        assert found.result.value.phone == 1234567890
        deleted = await top.worker_delete_async(
            mendian.WorkerDeleteRequest(name="张三", phone=1234567890, biz_type="appliance_install"))
        assert deleted.result.value is True

    asyncio.run(flow())
    assert [r["endpoint"] for r in fresh.admin("GET", "/requests")] == [
        "worker_create", "worker_update", "worker_query", "worker_delete"]


def test_a_signer_implemented_in_python(fresh):
    signer = ServerSideSigner(fresh.profile["top_app_secret"])
    top = client(fresh, signer=signer)
    created = top.worker_create(mendian.WorkerCreateRequest(worker_dto=doc_worker()))
    assert created.result.value is True
    assert signer.calls == 1


def test_unknown_worker_surfaces_10006_with_the_documents_message(fresh):
    top = client(fresh)
    with pytest.raises(mendian.MendianError.Api) as info:
        top.worker_update(mendian.WorkerUpdateRequest(worker=doc_worker()))
    e = info.value
    assert e.code == "10006"
    assert e.server_message == "工人不存在"
    assert e.description == "工人不存在"
    assert e.platform == mendian.Platform.TOP


def test_a_wrong_secret_surfaces_code_25(fresh):
    top = client(fresh, signer=mendian.top_app_secret_signer("wrong-secret"))
    with pytest.raises(mendian.MendianError.Api) as info:
        top.worker_update(mendian.WorkerUpdateRequest(worker=doc_worker()))
    assert info.value.code == "25"
    assert "wrong-secret" not in str(info.value)


def test_bad_input_is_rejected_and_nothing_is_sent(fresh):
    top = client(fresh)
    with pytest.raises(mendian.MendianError.InvalidArgument) as info:
        top.worker_update(mendian.WorkerUpdateRequest(worker=doc_worker(cover_category_ids="123||456")))
    assert info.value.field == "worker.cover_category_ids"
    assert fresh.admin("GET", "/requests") == []


def test_a_create_whose_answer_is_lost_raises_outcome_unknown(fresh):
    top = client(fresh)
    fresh.admin("POST", "/faults", {"route": "/router/rest", "kind": {"type": "drop_after_processing"}, "times": 1})
    with pytest.raises(mendian.MendianError.OutcomeUnknown) as info:
        top.worker_create(mendian.WorkerCreateRequest(worker_dto=doc_worker()))
    assert info.value.endpoint == "worker_create"
    assert len(fresh.admin("GET", "/requests?platform=top")) == 1        # never repeated
    # It was done: the worker exists, so creating it again answers 10007.
    with pytest.raises(mendian.MendianError.Api) as again:
        top.worker_create(mendian.WorkerCreateRequest(worker_dto=doc_worker()))
    assert again.value.code == "10007" or again.value.sub_code == "10007", again.value


def test_a_signing_backend_sees_the_call_and_refuses_what_it_does_not_allow(fresh):
    signer = ServerSideSigner(fresh.profile["top_app_secret"], allowed={"tmall.servicecenter.worker.query"})
    top = client(fresh, signer=signer)
    with pytest.raises(mendian.MendianError.Callback, match="not signing tmall.servicecenter.worker.create"):
        top.worker_create(mendian.WorkerCreateRequest(worker_dto=doc_worker()))
    assert fresh.admin("GET", "/requests?platform=top") == []
