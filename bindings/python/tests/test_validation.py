"""The generated request records and their validation, from Python, through the installed
wheel: a valid request passes; each broken constraint raises
MendianError.InvalidArgument naming the field and the rule."""

import pytest

import mendian

GUIDE_ID = "LLA3WJ6DSZUfiaZDS79FH5Wm5m4X69TBic"
AVATAR = "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0"


def update(**kw):
    return mendian.UpdateGuideRequest(guide_id=GUIDE_ID, **kw)


def invalid(call):
    with pytest.raises(mendian.MendianError.InvalidArgument) as info:
        call()
    return info.value


def test_the_documents_update_example_is_valid():
    mendian.validate_update_guide_request(
        update(
            name="张三",
            mobile="13900000000",
            qr_code="https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx",
            avatar=AVATAR,
            group_qrcode="http://p.qpic.cn/wwhead/nMl9ssowtibVGyrmvBiaibzDtp/0",
        )
    )


def test_optional_fields_can_be_left_out_but_not_all_of_them():
    req = update(avatar=AVATAR)
    assert req.name is None and req.mobile is None
    mendian.validate_update_guide_request(req)
    err = invalid(lambda: mendian.validate_update_guide_request(update()))
    assert err.field == "request"
    assert "name, mobile, qr_code, avatar, group_qrcode" in err.reason


def test_a_too_long_field_names_the_field_and_the_limit():
    err = invalid(lambda: mendian.validate_update_guide_request(update(avatar="https://x/" + "a" * 1015)))
    assert err.field == "avatar"
    assert "at most 1024 characters (got 1025)" in err.reason


def test_encrypted_fields_are_limited_before_encryption():
    # 22 CJK characters are 66 bytes: over the 64-byte plaintext limit of `name`.
    err = invalid(lambda: mendian.validate_update_guide_request(update(name="张" * 22)))
    assert err.field == "name"
    assert "64 bytes" in err.reason and "before encryption" in err.reason
    mendian.validate_update_guide_request(update(name="张" * 21))


def test_emoji_are_rejected_as_wechat_pay_does():
    err = invalid(lambda: mendian.validate_update_guide_request(update(name="张三😀")))
    assert err.field == "name"
    assert "U+1F600" in err.reason


def test_path_fields_must_not_be_empty():
    err = invalid(lambda: mendian.validate_update_guide_request(mendian.UpdateGuideRequest(guide_id="")))
    assert err.field == "guide_id"


def test_wxa_nickname_counts_cjk_as_two():
    def apply(nickname):
        return mendian.ApplyMerchantRequest(
            first_catid=476, second_catid=477, headimg_mediaid="MEDIA", nickname=nickname, intro="门店介绍"
        )

    mendian.validate_apply_merchant_request(apply("门店"))  # width 4
    err = invalid(lambda: mendian.validate_apply_merchant_request(apply("门a")))
    assert err.field == "nickname"
    assert "width" in err.reason


def test_wxa_nested_json_string_field_reports_its_item():
    def store(urls, hour="10:00-21:00"):
        return mendian.AddStoreRequest(
            map_poi_id="2880741500279549033",
            pic_list=mendian.StorePicList(list=urls),
            contract_phone="020-89190388",
            hour=hour,
            credential="22883878-0",
            card_id="",
        )

    mendian.validate_add_store_request(store(["http://mmbiz.qpic.cn/a/0"]))
    err = invalid(lambda: mendian.validate_add_store_request(store(["http://mmbiz.qpic.cn/a/0", "not a url"])))
    assert err.field == "pic_list.list[1]"
    err = invalid(lambda: mendian.validate_add_store_request(store(["http://mmbiz.qpic.cn/a/0"], hour="10点-21点")))
    assert err.field == "hour" and "HH:MM-HH:MM" in err.reason


def test_wxa_store_list_limit():
    mendian.validate_get_store_list_request(mendian.GetStoreListRequest(offset=0, limit=50))
    err = invalid(lambda: mendian.validate_get_store_list_request(mendian.GetStoreListRequest(offset=0, limit=51)))
    assert err.field == "limit"


def test_invalid_argument_is_a_mendian_error():
    with pytest.raises(mendian.MendianError):
        mendian.validate_update_guide_request(update(avatar="ftp://nope"))


def test_top_worker_fields_are_checked_inside_the_nested_record():
    ok = mendian.WorkerUpdateRequest(
        worker=mendian.WorkerDto(name="张三", phone=1234567890, biz_type="appliance_install",
                                 cover_category_ids="123|456", register_time="2016-06-28 10:30:00")
    )
    mendian.validate_worker_update_request(ok)
    err = invalid(lambda: mendian.validate_worker_update_request(
        mendian.WorkerUpdateRequest(worker=mendian.WorkerDto(register_time="2016/06/28 10:30"))))
    assert err.field == "worker.register_time"
    assert "yyyy-MM-dd HH:mm:ss" in err.reason
    err = invalid(lambda: mendian.validate_worker_update_request(
        mendian.WorkerUpdateRequest(worker=mendian.WorkerDto(cover_category_ids="123||456"))))
    assert err.field == "worker.cover_category_ids"
