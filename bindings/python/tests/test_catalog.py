"""What the spec knows, as seen from Python: every endpoint, and the documented meaning of
error codes."""

import mendian


def test_every_documented_endpoint_is_listed():
    ids = {e.id for e in mendian.endpoints()}
    for expected in [
        "register_guide", "assign_guide", "query_guides", "update_guide", "download_certificates",
        "get_merchant_category", "apply_merchant", "get_merchant_audit_info", "modify_merchant",
        "get_district", "search_map_poi", "create_map_poi", "add_store", "update_store",
        "get_store_info", "get_store_list", "del_store", "get_poi_list", "get_store_card",
        "set_store_card", "get_stable_access_token", "get_access_token", "upload_media",
        "worker_create", "worker_update", "worker_delete", "worker_query", "worker_querypage",
    ]:
        assert expected in ids, expected


def test_endpoint_descriptors_cross_the_ffi():
    by_id = {e.id: e for e in mendian.endpoints()}
    update = by_id["update_guide"]
    assert (update.method, update.path, update.success_status) == ("PATCH", "/v3/smartguide/guides/{guide_id}", 204)
    assert update.platform == mendian.Platform.WECHATPAY
    assert set(update.encrypted_fields) == {"name", "mobile"}
    assert by_id["worker_update"].api_name == "tmall.servicecenter.worker.update"
    assert not by_id["register_guide"].retried_on_transient_errors


def test_error_meanings_come_from_the_documents():
    info = mendian.describe_error("update_guide", "PARAM_ERROR", None, "个人微信商家不能改二维码")
    assert info.description == "个人微信商家不能改二维码"
    assert info.http_status == 400 and not info.retryable
    busy = mendian.describe_error("update_guide", "SYSTEM_ERROR", None, "")
    assert busy.retryable and "稍后重新调用" in busy.remedy
    assert "org_code" in mendian.describe_error("apply_merchant", "85024", None, "").description
    assert mendian.describe_error("worker_update", "10006", None, "").description == "工人不存在"
    assert mendian.describe_error("update_guide", "NO_SUCH_CODE", None, "") is None


def test_unknown_endpoint_is_an_invalid_argument():
    try:
        mendian.describe_error("nope", "x", None, "")
    except mendian.MendianError.InvalidArgument as e:
        assert e.field == "endpoint_id"
    else:
        raise AssertionError("expected InvalidArgument")
