"""WeChat Pay 支付即服务 from Python against the emulator: register → assign → query
(decrypted) → update → query shows the update, in public-key and platform-certificate
mode; a tampered answer raises a signature error; bad input raises InvalidArgument and
nothing is sent."""

import asyncio

import pytest

import mendian


def client(emu, mode="public_key", **extra):
    p = emu.profile
    cfg = dict(
        mchid=p["wechatpay_mchid"],
        merchant_serial_no=p["wechatpay_merchant_serial_no"],
        apiv3_key=p["wechatpay_apiv3_key"],
        options=mendian.ClientOptions(base_url=p["wechatpay_base_url"], backup_base_url="", language="python"),
    )
    if mode == "public_key":
        cfg.update(wechatpay_public_key_id=p["wechatpay_public_key_id"], wechatpay_public_key_pem=p["wechatpay_public_key_pem"])
    cfg.update(extra)
    signer = mendian.wechatpay_pem_signer(p["wechatpay_merchant_private_key_pem"])
    return mendian.WechatpayClient(mendian.WechatpayConfig(**cfg), signer)


def register(name="张三", mobile="13900000000"):
    return mendian.RegisterGuideRequest(
        corpid="ww1234567890abcdef", store_id=1234567, userid="robert", name=name, mobile=mobile,
        qr_code="https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx",
        avatar="http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0",
    )


@pytest.mark.parametrize("mode", ["public_key", "certificates"])
def test_staff_lifecycle(fresh, mode):
    wx = client(fresh, mode)

    async def flow():
        guide = (await wx.register_guide_async(register())).guide_id
        await wx.assign_guide_async(mendian.AssignGuideRequest(guide_id=guide, out_trade_no="1217752501201407033233368018"))
        found = await wx.query_guides_async(mendian.QueryGuidesRequest(store_id=1234567, mobile="13900000000"))
        assert [(g.name, g.mobile) for g in found.data] == [("张三", "13900000000")]
        await wx.update_guide_async(mendian.UpdateGuideRequest(guide_id=guide, name="张三丰"))
        after = await wx.query_guides_async(mendian.QueryGuidesRequest(store_id=1234567))
        assert after.data[0].name == "张三丰"

    asyncio.run(flow())
    recorded = fresh.admin("GET", "/requests?platform=wechatpay")
    reg = next(r for r in recorded if r["endpoint"] == "register_guide")
    assert "张三" not in reg["body"] and "13900000000" not in reg["body"]
    assert reg["headers"]["user-agent"].endswith("(python)")


def test_a_tampered_answer_raises_a_signature_error(fresh):
    wx = client(fresh)
    fresh.admin("POST", "/faults", {"route": "POST /v3/smartguide/guides", "kind": {"type": "wechatpay_bad_signature"}, "times": 1})
    with pytest.raises(mendian.MendianError.Signature):
        wx.register_guide(register())


@pytest.mark.parametrize("field,request_", [
    ("name", lambda: register(name="张三😀")),
    ("name", lambda: register(name="张" * 22)),
    ("mobile", lambda: register(mobile="1" * 33)),
])
def test_bad_input_raises_invalid_argument_and_nothing_is_sent(fresh, field, request_):
    wx = client(fresh)
    with pytest.raises(mendian.MendianError.InvalidArgument) as info:
        wx.register_guide(request_())
    assert info.value.field == field
    assert fresh.admin("GET", "/requests") == []


@pytest.mark.parametrize("guide_id", ["..", ".", ""])
def test_a_dot_segment_guide_id_is_refused_before_sending(fresh, guide_id):
    # `/guides/../assign` would be resolved into another URL by HTTP path handling.
    wx = client(fresh)
    with pytest.raises(mendian.MendianError.InvalidArgument) as info:
        wx.update_guide(mendian.UpdateGuideRequest(guide_id=guide_id, name="张三丰"))
    assert info.value.field == "guide_id"
    assert fresh.admin("GET", "/requests") == []


def test_errors_carry_the_documents_words(fresh):
    wx = client(fresh)

    async def flow():
        guide = (await wx.register_guide_async(register())).guide_id
        # Nothing to update: refused before sending, naming the fields it could set.
        with pytest.raises(mendian.MendianError.InvalidArgument) as refused:
            await wx.update_guide_async(mendian.UpdateGuideRequest(guide_id=guide))
        assert refused.value.field == "request" and "group_qrcode" in refused.value.reason
        # When WeChat Pay answers PARAM_ERROR anyway, the error carries the document's words.
        fresh.admin("POST", "/faults", {"route": f"PATCH /v3/smartguide/guides/{guide}", "times": 1,
                                        "kind": {"type": "status", "status": 400,
                                                 "body": '{"code":"PARAM_ERROR","message":"所有可更新的参数都没有填"}'}})
        with pytest.raises(mendian.MendianError.Api) as info:
            await wx.update_guide_async(mendian.UpdateGuideRequest(guide_id=guide, avatar="https://wx.qlogo.cn/a/0"))
        # A real answer of the emulator carries WeChat Pay's Request-ID.
        with pytest.raises(mendian.MendianError.Api) as missing:
            await wx.update_guide_async(mendian.UpdateGuideRequest(guide_id="NoSuchGuide", avatar="https://wx.qlogo.cn/a/0"))
        return info.value, missing.value

    e, missing = asyncio.run(flow())
    assert e.http_status == 400 and e.code == "PARAM_ERROR"
    assert e.description == "所有可更新的参数都没有填"
    assert missing.code == "RESOURCE_NOT_EXISTS" and missing.request_id
